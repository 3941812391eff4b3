#!/bin/bash
# Runs every selftest (selftests/*.sh and *.py except the helpers, and the
# sanitizer proof, which must end in splats: sanitizers-vm.sh runs it in a VM
# of its own, and the real-guest tests, which need a VM of their own with
# one vCPU and the hub NICs: vm-run.sh -c 1 -N) inside the VM, one after
# another, and prints their TAP output with a "# test: NAME" header.
# Exits non-zero when any test failed.
cd "$(dirname "$0")" || exit 1
rc=0
# Per-test limit; the debug kernel (KASAN, lockdep under TCG) is 3-5 times
# slower, and slower again when the host runs other VMs.
limit=${VNACCT_TEST_TIMEOUT:-600}
case $(uname -r) in *debug*) limit=$((limit * 2)) ;; esac
# VNACCT_SELFTESTS: only these; VNACCT_SELFTESTS_SKIP: all but these.
all=$(ls ./*.sh ./*.py | sed 's#^\./##' |
	grep -vE "^(lib|run_all|kunit|vm-run|vnacct_util|realguest|sanitizers(-vm)?)\.(sh|py)$|^demo|^realguests")
# This script's own output, where it can read back what a test printed
# (in the VM: vm-run's output.log).
self_log=${VNACCT_OUT:+$VNACCT_OUT/output.log}
[ -n "$self_log" ] && [ -f "$self_log" ] || self_log=
for t in ${VNACCT_SELFTESTS:-$all}; do
	case " ${VNACCT_SELFTESTS_SKIP:-} " in *" $t "*) continue ;; esac
	echo "# test: $t on $(uname -r)"
	start=$(date +%s)
	[ -z "$self_log" ] || lines0=$(wc -l <"$self_log")
	case $t in
	*.py) timeout "$limit" python3 "./$t" ;;
	*) timeout "$limit" bash "./$t" ;;
	esac
	trc=$?
	echo "# test: $t took $(($(date +%s) - start)) s"
	# A test that ran out of time or died (an exception, a signal) may not
	# have said so in TAP: one failure that names it, so that make check's
	# summary shows which test it was.
	if [ "$trc" -ne 0 ]; then
		rc=1
		if [ "$trc" -eq 124 ]; then
			echo "not ok 1 - $t: killed at the ${limit} s limit"
		elif [ -n "$self_log" ] && ! tail -n +$((lines0 + 1)) \
			"$self_log" | grep -q '^not ok'; then
			echo "not ok 1 - $t: exited $trc without a failed check" \
				"(crash? last lines above)"
		fi
	fi
	# A failed test may leave its programs running (a daemon, the CLI, a
	# guest: each can hold the module) and the module loaded: the next
	# one starts clean.
	pkill -f "$(cd .. && pwd)/userspace/" 2>/dev/null
	for i in 1 2 3 4 5; do
		[ -e /sys/module/vnacct ] || break
		rmmod vnacct 2>/dev/null || sleep 1
	done
done
exit $rc
