#!/usr/bin/env bash
# make check: every static check and test vnacct has, in order of cost.
# Each static check counts as one test; every TAP line printed by the
# userspace unit tests, KUnit and the VM selftests counts as one test; a VM
# run that times out, fails to boot or logs a kernel splat counts as one
# more failure.  The last line is "N passed, N failed, N skipped".
# VNACCT_KERNELS (default "6.1 6.12 debug rt") chooses the kernels.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
kernels=${VNACCT_KERNELS:-6.1 6.12 debug rt}
log=$top/build/check
rm -rf "$log"
mkdir -p "$log"
passed=0
failed=0
skipped=0
t_start=$(date +%s)

result() { # STATUS NAME
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - $2"
	else
		failed=$((failed + 1))
		echo "not ok - $2"
	fi
}

# step NAME CMD...: one test, output kept in build/check/NAME.log and shown
# on failure.
step() {
	local name=$1 f
	shift
	f=$log/$(echo "$name" | tr -c 'A-Za-z0-9.\n-' _).log
	"$@" >"$f" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || tail -n 40 "$f" | sed 's/^/#   /'
	result $rc "$name"
}

# tap_count NAME LOG RC: count the TAP lines of a finished run.  An
# expected failure (a known defect an issue names) is TAP's "not ok ... #
# TODO": it counts as passed and is listed; "ok ... # TODO", a known defect
# that no longer shows, counts as failed until the TODO is taken out.
xfails=()
tap_count() {
	local name=$1 f=$2 rc=$3 p fl s x u
	s=$(grep -cE '^ *ok [0-9]+.*# *SKIP' "$f")
	x=$(grep -cE '^ *not ok [0-9]+.*# *TODO' "$f")
	u=$(grep -cE '^ *ok [0-9]+.*# *TODO' "$f")
	p=$(grep -E '^ *ok [0-9]+' "$f" | grep -cvE '# *(SKIP|TODO)')
	fl=$(grep -E '^ *not ok [0-9]+' "$f" | grep -cvE '# *TODO')
	p=$((p + x))
	fl=$((fl + u))
	passed=$((passed + p))
	failed=$((failed + fl))
	skipped=$((skipped + s))
	grep -E '^ *not ok [0-9]+' "$f" | grep -vE '# *TODO' |
		sed -e 's/^ *//' -e "s/^/# $name: /"
	grep -E '^ *ok [0-9]+.*# *TODO' "$f" |
		sed -e 's/^ */# unexpectedly passed: /' -e "s/^/# $name: /"
	while IFS= read -r l; do
		xfails+=("$name: $l")
	done < <(grep -E '^ *not ok [0-9]+.*# *TODO' "$f" | sed 's/^ *//')
	echo "# $name: $p passed ($x expected failures), $fl failed, $s skipped"
	if [ "$rc" -ne 0 ] && [ "$fl" -eq 0 ]; then
		# Failed without a failing test line: boot, timeout, splat.
		grep -E '^vm-run:|^splat|^\[' "$f" | head -n 20 | sed 's/^/#   /'
		result 1 "$name completed cleanly"
	elif [ "$rc" -ne 0 ]; then
		grep -E '^vm-run:' "$f" | sed 's/^/#   /'
	fi
	[ "$p" -gt 0 ] || [ "$fl" -gt 0 ] || result 1 "$name ran tests"
}

logname() { echo "$log/$(echo "$1" | tr -c 'A-Za-z0-9.\n-' _).log"; }

# tap NAME CMD...: run a command printing TAP, count its lines.
tap() {
	local name=$1 f rc
	shift
	f=$(logname "$name")
	"$@" >"$f" 2>&1
	rc=$?
	tap_count "$name" "$f" $rc
}

# tap_bg NAME CMD...: the same in the background; tap_wait collects it.
# Each VM runs its vCPUs on one host thread, so two VMs use both cores.
bg_names=()
bg_pids=()
tap_bg() {
	local name=$1
	shift
	"$@" >"$(logname "$name")" 2>&1 &
	bg_names+=("$name")
	bg_pids+=($!)
}

tap_wait() {
	local i rc
	for i in "${!bg_pids[@]}"; do
		wait "${bg_pids[$i]}"
		rc=$?
		tap_count "${bg_names[$i]}" "$(logname "${bg_names[$i]}")" $rc
	done
	bg_names=()
	bg_pids=()
}

checkpatch() {
	local cp
	cp=$(scripts/checkpatch.sh) || return 1
	perl "$cp" --no-tree --strict --terse --show-types -f \
		vnacct/*.[ch] include/uapi/linux/*.h kunit/*.c selftests/splat/*.c
}

# kbuild_clean NAME ARGS...: build, and fail on any compiler or sparse
# diagnostic.
kbuild_clean() {
	local out
	out=$(scripts/build-for.sh "$@" 2>&1)
	local rc=$?
	echo "$out"
	[ $rc -eq 0 ] || return 1
	! echo "$out" | grep -E 'warning:|error:' | grep -v 'BTF generation'
}

echo "# make check: kernels: $kernels"
step "checkpatch --strict" checkpatch
step "W=1 build, 6.1" kbuild_clean 6.1
step "sparse C=2, 6.1" kbuild_clean 6.1 C=2
step "W=1 build, 6.12" kbuild_clean 6.12
step "sparse C=2, 6.12" kbuild_clean 6.12 C=2
step "YNL spec and UAPI header in sync" scripts/ynl-check.sh
step "YNL client extracted for the VM tests" scripts/ynl-fetch.sh
step "userspace build (-Wall -Wextra -Werror)" make -s userspace
for t in $(make -s -f scripts/print-var.mk USER_TESTS 2>/dev/null); do
	tap "userspace $(basename "$t")" "$t"
done

# Builds first (fast), then the VMs.
for k in $kernels; do
	if [ "$k" = debug ]; then
		echo "# debug kernel (built once, cached under ~/.cache/vnacct)"
		# Its progress (a line a minute) shows here, not only in the log.
		f=$(logname "debug kernel build")
		scripts/debug-kernel.sh 2>&1 >"$f" | tee -a "$f" | sed -u 's/^/# /'
		result "${PIPESTATUS[0]}" "debug kernel build"
	fi
	step "W=1 build, $k" kbuild_clean "$k"
done

# The VM runs, two at a time (TCG runs each VM's vCPUs on one host thread,
# so two VMs keep both cores busy), longest first.  The debug kernel (KASAN
# and lockdep under TCG, 3-5 times slower) gets its selftests split in
# three runs so that no single VM is the long pole; a new test lands in
# the "interfaces" run.
# Measured in the fresh-machine make check of 2026-11-22 (two VMs on the
# host, 9p cache=loose), VM wall time: debug guests 16 min (crosscheck_trace
# 356 s, flows_guest 217 s, load_cycles 165 s), interfaces 15 min
# (daemon_prometheus 378 s, netlink_cli 236 s), reliability 12 min; 6.12
# 11 min, 6.1 9 min, RT 7 min, KUnit 1 min, sanitizers 2-3 min: 38 min of
# VM runs, after a 25 min debug kernel build when it is not cached.  On
# 2026-12-06, fresh machine: debug guests 12 min, reliability 10,
# interfaces 12, 6.1 9, 6.12 9, RT 6, KUnit 2, sanitizers 2 (31 min of VM
# runs, both slots ending within 30 s), after a 17 min kernel build.
debug_guests="flows_guest.py crosscheck_trace.py crosscheck_tools.py"
debug_guests="$debug_guests crosscheck_iperf.py guests_smoke.sh load_cycles.py"
debug_reliab="reliability.py fuzz_netlink.py concurrency.py"
vm_names=()
vm_cmds=()
vm_job() { # NAME CMD
	vm_names+=("$1")
	vm_cmds+=("$2")
}
debug_run() { # NAME OUTDIR ENV
	vm_job "selftests, debug ($1)" \
		"selftests/vm-run.sh -t 3000 -m 3072 -o build/vm/selftests-debug-$2 debug \"$3 selftests/run_all.sh\""
}
# debug first: its runs are the longest
for k in $(printf '%s\n' $kernels | grep -x debug) \
	$(printf '%s\n' $kernels | grep -vx debug); do
	case $k in
	debug)
		debug_run "guests and cross-checks" a \
			"VNACCT_SELFTESTS='$debug_guests'"
		debug_run "reliability" c "VNACCT_SELFTESTS='$debug_reliab'"
		debug_run "interfaces" b \
			"VNACCT_SELFTESTS_SKIP='$debug_guests $debug_reliab'"
		;;
	rt)
		# Where RT differs (sleeping spinlocks, preemptible softirqs):
		# hooks, accounting, load/unload, concurrency, hostile input.
		# The full list runs there too (VNACCT_KERNELS=rt and
		# VNACCT_RT_SELFTESTS=all); here it would push make check past
		# an hour.
		rt_tests="hooks_loopback.sh flows_guest.py reliability.py"
		rt_tests="$rt_tests fuzz_netlink.py concurrency.py load_cycles.py"
		[ "${VNACCT_RT_SELFTESTS:-}" = all ] && rt_tests=
		vm_job "selftests, rt" \
			"selftests/vm-run.sh -t 1800 -m 3072 -o build/vm/selftests-rt rt \"VNACCT_SELFTESTS='$rt_tests' selftests/run_all.sh\""
		;;
	6.12)
		vm_job "selftests, $k" \
			"selftests/vm-run.sh -t 1800 -m 3072 -o build/vm/selftests-$k $k selftests/run_all.sh"
		# Real KVM guests and a real NIC (issue 11): nested KVM needs
		# a test VM with one vCPU, the hub NICs and the guests' initramfs
		# (-c 1 -N).  2-2.5 min of VM time on a free core (2026-12-07),
		# up to 10 min beside other VMs; the two slots hide most of it.
		vm_job "real guests, $k" \
			"selftests/vm-run.sh -t 1800 -m 3072 -c 1 -N -o build/vm/realguests-$k $k \"VNACCT_TEST_TIMEOUT=1500 VNACCT_SELFTESTS=realguests.py selftests/run_all.sh\""
		;;
	*)
		vm_job "selftests, $k" \
			"selftests/vm-run.sh -t 1800 -m 3072 -o build/vm/selftests-$k $k selftests/run_all.sh"
		;;
	esac
done
case " $kernels " in
*" debug "*)
	vm_job "kunit, debug" \
		"selftests/vm-run.sh -t 900 -m 3072 -o build/vm/kunit-debug debug selftests/kunit.sh"
	# KASAN, lockdep, the atomic-sleep check and kmemleak each catch a
	# deliberate bug, and the runner fails the run for it.
	vm_job "sanitizers, debug" \
		"selftests/sanitizers-vm.sh build/vm/sanitizers-debug"
	;;
esac
for i in "${!vm_names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do
		wait -n
	done
	echo "# started: ${vm_names[$i]}"
	tap_bg "${vm_names[$i]}" sh -c "${vm_cmds[$i]}"
done
tap_wait

if [ ${#xfails[@]} -gt 0 ]; then
	echo "# expected failures (known defects, counted as passed):"
	printf '#   %s\n' "${xfails[@]}"
fi
echo "# make check took $(( ($(date +%s) - t_start) / 60 )) min $(( ($(date +%s) - t_start) % 60 )) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
