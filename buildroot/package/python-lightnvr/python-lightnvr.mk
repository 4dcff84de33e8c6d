################################################################################
#
# python-lightnvr
#
################################################################################

# Built from the checkout this br2-external tree lives in (the repository
# root is the parent of the tree). The checkout must hold the UI's npm
# packages (`make www-deps`), or be an unpacked lightnvr sdist, which
# carries them: the wheel embeds www/ and the JavaScript it uses, so the
# device needs no Node. To build another checkout, set
# PYTHON_LIGHTNVR_OVERRIDE_SRCDIR in local.mk.
PYTHON_LIGHTNVR_VERSION = 0.1.0
PYTHON_LIGHTNVR_SITE = $(BR2_EXTERNAL_LIGHTNVR_PATH)/..
PYTHON_LIGHTNVR_SITE_METHOD = local
PYTHON_LIGHTNVR_SETUP_TYPE = setuptools
PYTHON_LIGHTNVR_LICENSE = GPL-3.0-or-later
PYTHON_LIGHTNVR_LICENSE_FILES = LICENSE
# Development leftovers of the checkout are not sources.
PYTHON_LIGHTNVR_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /.venv --exclude /build --exclude /dist --exclude /var \
	--exclude /test-output --exclude '/*.egg-info' --exclude /buildroot

define PYTHON_LIGHTNVR_USERS
	lightnvr -1 lightnvr -1 * - - - lightnvr daemon
endef

# The web server's static root (config [web] root) is the UI packaged
# inside the wheel; a stable path keeps the config independent of the
# Python version.
define PYTHON_LIGHTNVR_INSTALL_CONFIG
	$(INSTALL) -D -m 0644 $(PYTHON_LIGHTNVR_PKGDIR)/lightnvr.conf \
		$(TARGET_DIR)/etc/lightnvr/lightnvr.conf
	mkdir -p $(TARGET_DIR)/usr/share/lightnvr
	ln -sfn /usr/lib/python$(PYTHON3_VERSION_MAJOR)/site-packages/lightnvr/www \
		$(TARGET_DIR)/usr/share/lightnvr/www
endef
PYTHON_LIGHTNVR_POST_INSTALL_TARGET_HOOKS += PYTHON_LIGHTNVR_INSTALL_CONFIG

define PYTHON_LIGHTNVR_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(PYTHON_LIGHTNVR_PKGDIR)/S99lightnvr \
		$(TARGET_DIR)/etc/init.d/S99lightnvr
endef

# The unit is the project's own conf/lightnvr.service (the same file
# `make install` puts on Debian); the drop-in adapts it to the image.
define PYTHON_LIGHTNVR_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/conf/lightnvr.service \
		$(TARGET_DIR)/usr/lib/systemd/system/lightnvr.service
	$(INSTALL) -D -m 0644 \
		$(PYTHON_LIGHTNVR_PKGDIR)/lightnvr.service.d/buildroot.conf \
		$(TARGET_DIR)/usr/lib/systemd/system/lightnvr.service.d/buildroot.conf
endef

$(eval $(python-package))
