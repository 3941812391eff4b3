#!/bin/bash
# Proves the debug kernel's sanitizers are live: loads vnacct_splat.ko once
# per deliberate bug and checks that the kernel reports each one.  Run only
# on the debug kernel, by make check's "sanitizers" step, which also checks
# that the VM runner then fails the run (selftests/sanitizers-vm.sh).
# lockdep goes first: its own first report, and any KASAN report (which
# taints the kernel), switch it off for the rest of the boot.
. "$(dirname "$0")/lib.sh"

ko=${VNACCT_BUILD:-$VNACCT_SRC/build/debug}/splat/vnacct_splat.ko
KL=/sys/kernel/debug/kmemleak

# reported BUG PATTERN: insmod with bug=BUG; the kernel log must gain a line
# matching PATTERN.
reported() {
	local before after
	before=$(dmesg | grep -cE "$2")
	insmod "$ko" "bug=$1" || diag "insmod bug=$1 failed"
	rmmod vnacct_splat 2>/dev/null
	after=$(dmesg | grep -cE "$2")
	expect "$1: the kernel reports '$2'" "after > before"
}

for f in "$ko" "$KL"; do
	[ -e "$f" ] || { echo "not ok 1 - $f exists"; exit 1; }
done
before=$(dmesg | wc -l)
insmod "$ko" bug=none 2>/dev/null
rc=$?
expect "an unknown bug is refused at load" "rc != 0"
splats=$(dmesg | tail -n +$((before + 1)) | grep -cE 'BUG:|WARNING:')
expect "... and commits nothing" "splats == 0"

reported lockdep 'possible circular locking dependency detected'
reported sleep 'BUG: sleeping function called from invalid context'
reported kasan 'BUG: KASAN: slab-out-of-bounds in splat_kasan'

# kmemleak reports objects unreferenced for 5 s, across a scan.  The
# module stays loaded until then: backtraces name its functions only while
# its symbols exist.
insmod "$ko" bug=leak
sleep 6
echo scan >"$KL"
echo scan >"$KL"
leaks=$(grep -c 'unreferenced object' "$KL")
diag "kmemleak: $leaks unreferenced objects"
expect "leak: kmemleak reports the leaked objects" "leaks >= 1"
expect "... with the leaking function in the backtrace" \
	"$(grep -c 'splat_leak' "$KL") >= 1"
rmmod vnacct_splat

echo "1..$tap_n"
tap_done
