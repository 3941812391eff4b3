#!/usr/bin/env bash
# make soak: the long versions of the reliability tests (issue 6), one VM
# run per kernel and test, one after another.  VNACCT_SOAK=1 switches the
# tests to their soak sizes:
#   selftests/reliability.py   100,000 control-file fuzz writes, a flood of
#                              1,000,000 distinct flows
#   selftests/fuzz_netlink.py  100,000 fuzzed netlink messages as root,
#                              20,000 as an unprivileged user
#   selftests/load_cycles.py   60 load/unload cycles under traffic
#   selftests/concurrency.py   600 s of concurrent readers and writers
#
# Usage: scripts/soak.sh [KERNEL...]   (default: VNACCT_KERNELS or
#                                      "6.12 debug")
# VNACCT_SOAK_TESTS picks tests (default: all four).
# The last line is "N passed, N failed" (one per kernel and test); exit 1
# on any failure.  Logs: build/soak/<kernel>-<test>.log (and the VM's own
# logs, kmemleak's included, under build/vm/soak-<kernel>-<test>/).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck disable=SC2206
kernels=(${*:-${VNACCT_KERNELS:-6.12 debug}})
# shellcheck disable=SC2206
tests=(${VNACCT_SOAK_TESTS:-reliability fuzz_netlink load_cycles concurrency})
log=$top/build/soak
mkdir -p "$log"
passed=0
failed=0

run() { # KERNEL TEST TIMEOUT
	local k=$1 test=$2 limit=$3 f rc t0
	f=$log/$k-$test.log
	t0=$(date +%s)
	echo "# soak: $test on $k (limit ${limit}s, log $f)"
	selftests/vm-run.sh -t "$limit" -m 3072 -o "$top/build/vm/soak-$k-$test" \
		"$k" "VNACCT_SOAK=1 timeout $((limit - 120)) python3 selftests/$test.py" \
		>"$f" 2>&1
	rc=$?
	grep -E '^(not ok|# (memory|fuzz|unpriv|load_cycles|concurrency|netlink|reliability))' \
		"$log/../vm/soak-$k-$test/output.log" 2>/dev/null
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - soak $test on $k ($(($(date +%s) - t0)) s)"
	else
		failed=$((failed + 1))
		tail -n 20 "$f" | sed 's/^/#   /'
		echo "not ok - soak $test on $k ($(($(date +%s) - t0)) s)"
	fi
}

for k in "${kernels[@]}"; do
	scripts/build-for.sh "$k" || { failed=$((failed + 1)); continue; }
	# The debug kernel runs 3-5x slower under TCG; the flood of 1,000,000
	# flows is the longest part.  Run directly, not through run_all.sh and
	# its 600 s per test.
	limit=7200
	[ "$k" = debug ] && limit=21600
	for test in "${tests[@]}"; do
		run "$k" "$test" "$limit"
	done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
