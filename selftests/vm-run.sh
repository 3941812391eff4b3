#!/usr/bin/env bash
# Boot a kernel under QEMU (TCG) with this machine's root file system
# read-only over 9p, run one command as root inside it, and return its exit
# status.  The run fails (exit 1) when the command fails, when the VM does not
# finish within the time limit, or when the kernel logs any splat.
#
# Usage: selftests/vm-run.sh [-t SECONDS] [-m MEM] [-c CPUS] [-o OUTDIR] [-N] KERNEL CMD...
#   -N:     real guests and a real NIC: two virtio-net NICs joined by a QEMU
#           hub (frames from one reach only the other), and the real guests'
#           kernel and initramfs (selftests/vm/mkl2initrd.sh) in the scratch
#           directory, named by VNACCT_L2_KERNEL and VNACCT_L2_INITRD.  Real
#           guests need one vCPU (-c 1; DESIGN.md, "Real guests").
#   KERNEL: 6.1 | 6.12 | debug | rt | a kernel release installed under /boot
#   CMD:    run with sh -c in the repository's root (mounted at
#           /run/vnacct/src); VNACCT_KERNEL names the kernel, VNACCT_BUILD the
#           directory holding vnacct.ko built for it (see `make vm-modules`).
# Keeps console.log, dmesg.log, output.log and kmemleak.log in OUTDIR
# (default: build/vm/<kernel>-<time>).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
timeout_s=900
mem=2048
cpus=2
outdir=
nested=0
while getopts "t:m:c:o:N" o; do
	case $o in
	t) timeout_s=$OPTARG ;;
	m) mem=$OPTARG ;;
	c) cpus=$OPTARG ;;
	o) outdir=$OPTARG ;;
	N) nested=1 ;;
	*) echo "usage: $0 [-t s] [-m MiB] [-c cpus] [-o dir] [-N] KERNEL CMD..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { echo "usage: $0 [-t s] [-m MiB] [-c cpus] [-o dir] [-N] KERNEL CMD..." >&2; exit 2; }
kernel=$1
shift
cmd="$*"

# shellcheck source=selftests/vm/kernels.sh
. "$top/selftests/vm/kernels.sh"
resolve_kernel "$kernel" || exit 1

cache=${VNACCT_CACHE:-$HOME/.cache/vnacct}
mkdir -p "$cache"
initrd=$cache/initrd-$KREL-$(cat "$top/selftests/vm/init" "$top/selftests/vm/mkinitrd.sh" | sha256sum | cut -c1-12).cpio.gz
if [ ! -f "$initrd" ]; then
	if [ "$KBUILTIN_9P" = 1 ]; then
		"$top/selftests/vm/mkinitrd.sh" none "$initrd"
	else
		"$top/selftests/vm/mkinitrd.sh" "$KREL" "$initrd"
	fi
fi

[ -n "$outdir" ] || outdir=$top/build/vm/$kernel-$(date +%Y%m%d-%H%M%S)-$$
rm -rf "$outdir"
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
{
	printf 'VM_CMD=%q\n' "$cmd"
	printf 'export VNACCT_KERNEL=%q VNACCT_BUILD=%q VNACCT_SRC=/run/vnacct/src\n' \
		"$kernel" "/run/vnacct/src/build/$KNAME"
	printf 'export VNACCT_OUT=/run/vnacct/out\n'
	printf 'export CI=%q\n' "${CI:-}"
} >"$outdir/env"

# The real guests boot Debian's stock 6.12 kernel (the one a Debian 12 KVM
# guest runs with backports) from an initramfs built here, where every
# file it needs is, and read by the test VM through the scratch share.
nic=()
if [ "$nested" = 1 ]; then
	l2rel=$(newest_release '6.12.*-amd64' '-rt-')
	[ -n "$l2rel" ] || { echo "vm-run: no 6.12 kernel for the real guests (run scripts/deps.sh)" >&2; exit 1; }
	l2initrd=$cache/l2-initrd-$l2rel-$(cat "$top/selftests/vm/l2/init" "$top/selftests/vm/mkl2initrd.sh" | sha256sum | cut -c1-12).cpio.gz
	[ -f "$l2initrd" ] || "$top/selftests/vm/mkl2initrd.sh" "$l2rel" "$l2initrd"
	cp "$l2initrd" "$outdir/l2-initrd.cpio.gz"
	printf 'export VNACCT_L2_KERNEL=%q VNACCT_L2_INITRD=%q\n' \
		"/boot/vmlinuz-$l2rel" /run/vnacct/out/l2-initrd.cpio.gz >>"$outdir/env"
	# 52:54:00:00:a0:01 is the host's NIC, :02 the external host's.
	for i in 1 2; do
		nic+=(-netdev "hubport,id=hub$i,hubid=0"
			-device "virtio-net-pci,netdev=hub$i,mac=52:54:00:00:a0:0$i")
	done
fi

append="console=ttyS0 panic=-1 oops=panic loglevel=6 rdinit=/init"
append+=" no_hash_pointers kmemleak=on net.ifnames=0 mitigations=off"
[ -n "$KAPPEND" ] && append+=" $KAPPEND"

# la57=off: with 5-level paging, the KASAN debug kernel reports a
# wild-memory-access in handle_edge_irq from an interrupt taken during
# identify_cpu at boot, which also switches lockdep off for the run.
# thread=single: with multi-threaded TCG, live code patching (tracepoint and
# kprobe enable/disable) while another vCPU executes the patched code
# crashes the guest with "Oops: int3" (DESIGN.md); one host thread
# interleaving the vCPUs is still real SMP with preemption.
set +e
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
	-accel tcg,thread=single -cpu max,la57=off -smp "$cpus" -m "$mem" \
	-nodefaults -no-reboot -display none -nic none \
	-serial "file:$outdir/console.log" \
	-kernel "$KIMAGE" -initrd "$initrd" -append "$append" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=vnsrc,path="$top",security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=vnsrc,mount_tag=vnsrc \
	-fsdev local,id=vnout,path="$outdir",security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=vnout,mount_tag=vnout \
	-device virtio-rng-pci "${nic[@]}" </dev/null >"$outdir/qemu.log" 2>&1
qrc=$?
set -e

[ -f "$outdir/output.log" ] && cat "$outdir/output.log"

status=0
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	echo "vm-run: FAIL: $kernel: time limit of ${timeout_s}s reached" >&2
	status=1
elif [ ! -f "$outdir/rc" ]; then
	echo "vm-run: FAIL: $kernel: VM stopped before the command finished (qemu rc $qrc)" >&2
	tail -n 30 "$outdir/console.log" "$outdir/qemu.log" >&2 || true
	status=1
elif [ "$(cat "$outdir/rc")" != 0 ]; then
	echo "vm-run: FAIL: $kernel: command exited $(cat "$outdir/rc")" >&2
	status=1
fi

if ! "$top/selftests/vm/splat-check.sh" "$outdir"; then
	echo "vm-run: FAIL: $kernel: kernel splat (see $outdir)" >&2
	status=1
fi
exit $status
