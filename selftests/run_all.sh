#!/bin/bash
# Runs every selftest (selftests/*.sh except the helpers) inside the VM, one
# after another, and prints their TAP output with a "# test: NAME" header.
# Exits non-zero when any test failed.
cd "$(dirname "$0")" || exit 1
rc=0
for t in ${VNACCT_SELFTESTS:-$(ls *.sh | grep -vE '^(lib|run_all|kunit|vm-run)\.sh$|^demo')}; do
	echo "# test: $t on $(uname -r)"
	timeout 600 bash "./$t" || rc=1
	# A failed test may leave the module loaded: the next one starts clean.
	rmmod vnacct 2>/dev/null
done
exit $rc
