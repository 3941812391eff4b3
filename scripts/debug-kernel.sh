#!/usr/bin/env bash
# Build (once) the debug 6.12 kernel vnacct's KUnit suites and sanitizer runs
# boot: Debian's linux-source-6.12 with KUnit, KASAN, lockdep,
# DEBUG_ATOMIC_SLEEP and kmemleak, plus everything the test topologies use
# built in (virtio, 9p, tun, vhost-net, bridge, veth), so the VM needs no
# module tree for it.
#
# The result is cached outside the repository, keyed by the source package
# version and a hash of this script (which is the config):
#   ${VNACCT_CACHE:-~/.cache/vnacct}/debug-<srcver>-<hash>/
#       build/        kernel build tree (KDIR for the out-of-tree module)
#       bzImage       kernel image
#       .done         stamp written only after a complete build
# Prints the directory on stdout; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${VNACCT_CACHE:-$HOME/.cache/vnacct}
tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
[ -n "$tarball" ] || { echo "debug-kernel: linux-source-6.12 not installed" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$(sha256sum "$0" | cut -c1-12)
dir=$cache/debug-$srcver-$key
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

log=$dir/build.log
echo "debug-kernel: building $srcver in $dir (one time, ~15 min on 2 cores; log: $log)" >&2
rm -rf "$dir/build"
mkdir -p "$dir/build"
tar -C "$dir/build" --strip-components=1 -xf "$tarball"
cd "$dir/build"

make -s defconfig >"$log" 2>&1
make -s kvm_guest.config >>"$log" 2>&1
sc=scripts/config
$sc -e KUNIT -e KUNIT_DEBUGFS -d KUNIT_ALL_TESTS -d KUNIT_DEFAULT_ENABLED
$sc -e KASAN -e KASAN_GENERIC -e KASAN_INLINE
$sc -e PROVE_LOCKING -e DEBUG_ATOMIC_SLEEP -e DEBUG_KMEMLEAK
$sc --set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 16000 -d DEBUG_KMEMLEAK_DEFAULT_OFF
$sc -e KPROBES -e KRETPROBES -e FPROBE -e FUNCTION_TRACER -e DYNAMIC_FTRACE
$sc -e FTRACE -e DEBUG_FS -e DEBUG_FS_ALLOW_ALL
$sc -e MODULES -e MODULE_UNLOAD -e MODULE_FORCE_UNLOAD
$sc -e TUN -e VHOST_NET -e VHOST -e BRIDGE -e VETH -e MACVLAN -e MACVTAP
$sc -e NET_NS -e USER_NS -e NETFILTER -e IPV6
$sc -e VIRTIO -e VIRTIO_PCI -e VIRTIO_NET -e VIRTIO_CONSOLE -e VIRTIO_BLK
$sc -e NET_9P -e NET_9P_VIRTIO -e 9P_FS -e 9P_FS_POSIX_ACL -e OVERLAY_FS -e TMPFS
$sc -e DEVTMPFS -e DEVTMPFS_MOUNT -e BLK_DEV_INITRD -e RD_GZIP
$sc -e BPF_SYSCALL -e BPF_EVENTS -e DEBUG_INFO_NONE -d DEBUG_INFO_BTF
$sc -d DRM -d SOUND -d USB_SUPPORT -d WLAN -d WIRELESS -d HID -d ETHERNET
$sc -d MODULE_SIG -d MODULE_SIG_ALL -d SECURITY_LOCKDOWN_LSM
$sc --set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS ""
$sc --set-str LOCALVERSION "-vnacct-debug" -d LOCALVERSION_AUTO
make -s olddefconfig >>"$log" 2>&1

for opt in KUNIT KUNIT_DEBUGFS KASAN PROVE_LOCKING DEBUG_ATOMIC_SLEEP \
	DEBUG_KMEMLEAK KPROBES KRETPROBES TUN VHOST_NET BRIDGE VETH 9P_FS \
	NET_9P_VIRTIO VIRTIO_PCI; do
	grep -q "^CONFIG_$opt=y" .config ||
		{ echo "debug-kernel: CONFIG_$opt did not stick" >&2; exit 1; }
done

jobs=$(($(nproc) + 1))
start=$(date +%s)
# Progress: one line a minute with the number of objects built so far.
(
	while sleep 60; do
		n=$(find . -name '*.o' 2>/dev/null | wc -l)
		echo "debug-kernel: $(( ($(date +%s) - start) / 60 )) min, $n objects built" >&2
	done
) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
if ! make -j"$jobs" bzImage modules >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "debug-kernel: build failed (log: $log)" >&2
	exit 1
fi
kill $ticker 2>/dev/null || true
cp arch/x86/boot/bzImage "$dir/bzImage"
# Keep only what an out-of-tree module build needs plus the image: object
# files are most of the tree's size.
find . -name '*.o' ! -path './scripts/*' ! -path './tools/*' -delete
rm -f vmlinux.o
touch "$dir/.done"
echo "debug-kernel: done in $(( ($(date +%s) - start) / 60 )) min" >&2
echo "$dir"
