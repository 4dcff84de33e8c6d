#!/bin/sh
#
# Post-image script of lightnvr_raspberrypi4_64_defconfig: writes
# sdcard.img (boot, rootfs and an empty 1 GiB data partition) with genimage.
# Usage (BR2_ROOTFS_POST_SCRIPT_ARGS): post-image.sh BINARIES_DIR DATA_DEVICE

set -e
set -u

BINARIES_DIR="$1"
BOARD_DIR="$(dirname "$0")"
GENIMAGE_CFG="${BINARIES_DIR}/genimage.cfg"
GENIMAGE_TMP="${BUILD_DIR}/genimage.tmp"

# Everything the Pi firmware loads from the FAT partition: the firmware
# files, the device trees and the kernel named in config.txt.
KERNEL="$(sed -n 's/^kernel=//p' "${BINARIES_DIR}/rpi-firmware/config.txt")"
BOOT_FILES=""
for f in "${BINARIES_DIR}"/*.dtb "${BINARIES_DIR}"/rpi-firmware/* \
	"${BINARIES_DIR}/${KERNEL}"; do
	BOOT_FILES="${BOOT_FILES}\t\t\t\"${f#"${BINARIES_DIR}"/}\",\n"
done
sed "s|#BOOT_FILES#|${BOOT_FILES}|" "${BOARD_DIR}/genimage.cfg.in" \
	> "${GENIMAGE_CFG}"

# genimage copies --rootpath; the root filesystem image is already built,
# so give it an empty directory.
ROOTPATH_TMP="$(mktemp -d)"
trap 'rm -rf "${ROOTPATH_TMP}"' EXIT
rm -rf "${GENIMAGE_TMP}"

genimage \
	--rootpath "${ROOTPATH_TMP}" \
	--tmppath "${GENIMAGE_TMP}" \
	--inputpath "${BINARIES_DIR}" \
	--outputpath "${BINARIES_DIR}" \
	--config "${GENIMAGE_CFG}"
