#!/bin/sh
#
# Post-image script of lightnvr_qemu_aarch64_virt_defconfig.
# Usage (BR2_ROOTFS_POST_SCRIPT_ARGS): post-image.sh BINARIES_DIR DATA_DEVICE
# Makes the data disk (data.ext4, kept across rebuilds so recordings
# survive) and start-qemu.sh, which boots the image with 256 MB of RAM and
# forwards the web UI to http://localhost:8080/.

set -e
set -u

BINARIES_DIR="$1"
DATA_IMAGE="${BINARIES_DIR}/data.ext4"
DATA_SIZE="1G"

if [ ! -e "${DATA_IMAGE}" ]; then
	truncate -s "${DATA_SIZE}" "${DATA_IMAGE}"
	"${HOST_DIR}/sbin/mkfs.ext4" -q -F -L data "${DATA_IMAGE}"
fi

# virtio-blk-pci keeps the order of the command line: rootfs is /dev/vda,
# the data disk /dev/vdb (the device post-build.sh wrote into /etc/fstab).
cat > "${BINARIES_DIR}/start-qemu.sh" <<'EOT'
#!/bin/sh
# Boot the lightnvr image: 2 CPUs, 256 MB, web UI on host port 8080.
# Extra arguments go to qemu (e.g. -smp 4).
cd "$(dirname "$0")" || exit 1
exec qemu-system-aarch64 -M virt -cpu cortex-a53 -smp 2 -m 256 -nographic \
	-kernel Image -append "rootwait root=/dev/vda console=ttyAMA0" \
	-netdev user,id=eth0,hostfwd=tcp::8080-:8080 \
	-device virtio-net-pci,netdev=eth0 \
	-drive file=rootfs.ext4,if=none,format=raw,id=hd0 \
	-device virtio-blk-pci,drive=hd0 \
	-drive file=data.ext4,if=none,format=raw,id=hd1 \
	-device virtio-blk-pci,drive=hd1 \
	"$@"
EOT
chmod 0755 "${BINARIES_DIR}/start-qemu.sh"
