#!/usr/bin/env bash
# Install the Debian packages vnacct's build, tests and demo need, once.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

PKGS=(
	# kernels booted in the VM, and headers to build the module against
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	# debug kernel source and its build dependencies
	linux-source-6.12 build-essential bc bison flex libssl-dev libelf-dev
	dwarves cpio kmod xz-utils rsync python3 python3-yaml python3-jsonschema
	# static checks
	sparse
	# VM and guest userland
	qemu-system-x86 busybox-static iproute2 iputils-ping iperf3 procps ethtool
	# tracing references and netlink library
	trace-cmd libtraceevent-dev libtracecmd-dev libmnl-dev
	# issue 5 (cross-checks, make bench): trace-cmd.h includes tracefs.h;
	# the bpftrace peer; the benchmark plot
	libtracefs-dev bpftrace python3-matplotlib
)

missing=()
for p in "${PKGS[@]}"; do
	case "$p" in \#*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Kernel images in a container/VM need no bootloader or initramfs refresh;
# vnacct's runner makes its own initramfs.
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
