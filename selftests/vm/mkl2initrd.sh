#!/usr/bin/env bash
# Build the initramfs of the real guests (L2) that the real-guest tests boot
# inside the test VM: busybox, the guest kernel's virtio-net modules,
# iperf3, ping and ethtool with their libraries, and vm/l2/init.  Runs on the
# development machine (L0), which has every file; the test VM reads the
# result through the runner's scratch share.
# Usage: mkl2initrd.sh KERNEL_RELEASE OUTPUT.cpio.gz
set -euo pipefail

kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,modules,etc}
cp /bin/busybox "$work/bin/busybox"
"$work/bin/busybox" --list | while read -r app; do
	[ -e "$work/bin/$app" ] || ln -s busybox "$work/bin/$app"
done
cp "$here/l2/init" "$work/init"
chmod +x "$work/init"

# Real tools where busybox's differ from what a guest runs: iperf3 (JSON
# results), iputils ping (per-reply times as a distribution prints them),
# ethtool (queue count, offloads).
for prog in /usr/bin/iperf3 /usr/bin/ping /usr/sbin/ethtool; do
	[ -x "$prog" ] || { echo "mkl2initrd: $prog missing (scripts/deps.sh)" >&2; exit 1; }
	rm -f "$work$prog" "$work/bin/$(basename "$prog")"
	cp "$prog" "$work$prog"
	ldd "$prog" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$work$(dirname "$lib")"
	cp -L "$lib" "$work$lib"
done
# glibc's loader is looked up at its canonical path.
mkdir -p "$work/lib64"
cp -L /lib64/ld-linux-x86-64.so.2 "$work/lib64/"
echo "root:x:0:0:root:/root:/bin/sh" >"$work/etc/passwd"
echo "root:x:0:" >"$work/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$work/etc/hosts"

: >"$work/modules/order"
modprobe -S "$kver" --show-depends virtio_net |
	awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' |
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
grep -q virtio_net "$work/modules/order" ||
	{ echo "mkl2initrd: no virtio_net module for $kver" >&2; exit 1; }

(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
