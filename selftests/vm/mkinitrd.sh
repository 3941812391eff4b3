#!/usr/bin/env bash
# Build the tiny initramfs the VM runner boots: busybox, the modules a stock
# Debian kernel needs to mount the host's root over 9p, and vm/init.
# Usage: mkinitrd.sh KERNEL_RELEASE OUTPUT.cpio.gz   (KERNEL_RELEASE may be
# "none" for a kernel with 9p and virtio built in, such as the debug kernel)
set -euo pipefail

kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,dev,proc,sys,newroot,modules}
cp /bin/busybox "$work/bin/busybox"
for app in sh mount mkdir insmod switch_root cat echo sleep poweroff; do
	ln -s busybox "$work/bin/$app"
done
cp "$here/init" "$work/init"
chmod +x "$work/init"

: >"$work/modules/order"
if [ "$kver" != none ]; then
	for m in virtio_pci 9pnet_virtio 9p; do
		modprobe -S "$kver" --show-depends "$m"
	done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' |
	while read -r ko; do
		name=$(basename "$ko")
		name=${name%.xz}
		name=${name%.zst}
		case "$ko" in
		*.xz) xz -dc "$ko" >"$work/modules/$name" ;;
		*.zst) zstd -qdc "$ko" >"$work/modules/$name" ;;
		*) cp "$ko" "$work/modules/$name" ;;
		esac
		echo "$name" >>"$work/modules/order"
	done
fi

(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp.$$"
# two VMs may build the same image at once: each writes its own file
mv "$out.tmp.$$" "$out"
