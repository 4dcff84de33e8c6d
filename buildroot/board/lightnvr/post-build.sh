#!/bin/sh
#
# Post-build script of the lightnvr defconfigs.
# Usage (BR2_ROOTFS_POST_SCRIPT_ARGS): post-build.sh TARGET_DIR DATA_DEVICE
#   DATA_DEVICE: block device of the data partition mounted at /data,
#                e.g. /dev/vdb (qemu) or /dev/mmcblk0p3 (Raspberry Pi).
# Idempotent: a rebuild does not add the fstab lines twice.

set -e
set -u

TARGET_DIR="$1"
DATA_DEVICE="$2"
FSTAB="${TARGET_DIR}/etc/fstab"

# Recordings and the database live on their own partition, so a full
# disk never breaks the root filesystem. nofail: boot even without it
# (lightnvr then refuses to start and says why).
mkdir -p "${TARGET_DIR}/data"
if ! grep -q '[[:space:]]/data[[:space:]]' "${FSTAB}"; then
	printf '%s\t/data\t\text4\tdefaults,noatime,nofail\t0\t2\n' \
		"${DATA_DEVICE}" >> "${FSTAB}"
fi

# Live HLS segments on a size-capped tmpfs. With BusyBox init the mount
# point is below /run (itself a tmpfs mounted at boot), so the entry is
# noauto and S99lightnvr creates the directory and mounts it. systemd
# images keep the segments in the unit's RuntimeDirectory: /run there is
# already a tmpfs capped at 20% of RAM.
if [ -e "${TARGET_DIR}/etc/inittab" ] && \
	! grep -q '/run/lightnvr/hls' "${FSTAB}"; then
	printf 'tmpfs\t\t/run/lightnvr/hls\ttmpfs\tnoauto,nosuid,nodev,noexec,size=32m,mode=0750\t0\t0\n' \
		>> "${FSTAB}"
fi
