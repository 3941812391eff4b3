#!/bin/bash
# Runs vnacct's KUnit suites inside the debug-kernel VM: loads
# vnacct_kunit.ko (its suites run at load), reads each suite's KTAP from
# /sys/kernel/debug/kunit/<suite>/results and prints one flat TAP line per
# test case.  A suite that did not run, a module that does not load or a
# failing case fails the run.
. "$(dirname "$0")/lib.sh"

ko=${VNACCT_BUILD:-$VNACCT_SRC/build/debug}/kunit/vnacct_kunit.ko
suites="vnacct_hist vnacct_flowkey vnacct_rtt vnacct_tracker"

if ! insmod "$ko"; then
	echo "not ok 1 - load $ko"
	exit 1
fi
for s in $suites; do
	r=/sys/kernel/debug/kunit/$s/results
	if [ ! -r "$r" ]; then
		ok 1 "suite $s ran (no $r)"
		continue
	fi
	# Test cases are the KTAP lines indented one level (4 spaces);
	# parameterised cases' own subtests are deeper and roll up into them.
	cases=$(grep -E '^    (not )?ok [0-9]+ ' "$r")
	[ -n "$cases" ] || ok 1 "suite $s has test cases"
	while read -r line; do
		case $line in
		"ok "*) ok 0 "$s.${line#ok * }" ;;
		"not ok "*) ok 1 "$s.${line#not ok * }" ;;
		esac
	done <<<"$cases"
	sed 's/^/# /' "$r" | grep -E '# +# ' | grep -vE '# +# Subtest' | head -n 40
done
rmmod vnacct_kunit
echo "1..$tap_n"
tap_done
