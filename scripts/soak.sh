#!/usr/bin/env bash
# make soak: the long versions of the reliability tests (issue 6), one VM
# run per kernel, one after another.  VNACCT_SOAK=1 switches
# scripts/reliability.py to the soak sizes (100,000 control-file fuzz
# writes, a flood of 1,000,000 distinct flows); with VNACCT_SOAK_LOAD=1 the
# work-in-progress load parts (scripts/wip_reliability_load.py: 50
# load/unload cycles under traffic, minutes of concurrent readers, resets
# and config changes) run too.
#
# Usage: scripts/soak.sh [KERNEL...]   (default: VNACCT_KERNELS or
#                                      "6.12 debug")
# The last line is "N passed, N failed" (one per kernel and part); exit 1
# on any failure.  Logs: build/soak/<kernel>-<part>.log (and the VM's own
# logs under build/vm/).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck disable=SC2206
kernels=(${*:-${VNACCT_KERNELS:-6.12 debug}})
log=$top/build/soak
mkdir -p "$log"
passed=0
failed=0

run() { # KERNEL PART TIMEOUT CMD
	local k=$1 part=$2 limit=$3 cmd=$4 f rc t0
	f=$log/$k-$part.log
	t0=$(date +%s)
	echo "# soak: $part on $k (limit ${limit}s, log $f)"
	selftests/vm-run.sh -t "$limit" -o "$top/build/vm/soak-$k-$part" \
		"$k" "$cmd" >"$f" 2>&1
	rc=$?
	grep -E '^(not ok|# (memory|fuzz|cycles|concurrency|reliability))' "$f"
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - soak $part on $k ($(($(date +%s) - t0)) s)"
	else
		failed=$((failed + 1))
		tail -n 20 "$f" | sed 's/^/#   /'
		echo "not ok - soak $part on $k ($(($(date +%s) - t0)) s)"
	fi
}

for k in "${kernels[@]}"; do
	scripts/build-for.sh "$k" || { failed=$((failed + 1)); continue; }
	# The debug kernel runs 3-5x slower under TCG.
	# (run directly, not through run_all.sh and its 600 s per test)
	limit=7200
	[ "$k" = debug ] && limit=21600
	run "$k" reliability "$limit" \
		"VNACCT_SOAK=1 timeout $((limit - 120)) python3 scripts/reliability.py"
	if [ "${VNACCT_SOAK_LOAD:-0}" = 1 ]; then
		run "$k" load "$limit" \
			"VNACCT_SOAK=1 timeout $((limit - 120)) python3 scripts/wip_reliability_load.py"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
