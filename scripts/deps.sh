#!/usr/bin/env bash
# Install the Debian packages vnacct's build, tests and demo need, once.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

PKGS=(
	# kernels booted in the VM, and headers to build the module against
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	# PREEMPT_RT 6.12 (issue 6: spinlocks sleep; selftests/vm-run.sh rt)
	linux-image-6.12-rt-amd64 linux-headers-6.12-rt-amd64
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
	# make profile: perf inside the VM
	linux-perf
	# issue 4: vnacctd's HTTP server; the Prometheus server its selftest
	# runs in the VM (never as a service on this host, see below)
	libmicrohttpd-dev prometheus
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
# The prometheus package would start (and enable) a server on this host:
# a policy-rc.d that denies every service start while installing, and the
# unit disabled afterwards.  The selftest runs its own server in the VM.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
case " ${missing[*]} " in
*" prometheus "*)
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now prometheus.service >&2 || true
	fi ;;
esac
