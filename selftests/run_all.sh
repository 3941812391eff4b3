#!/bin/bash
# Runs every selftest (selftests/*.sh and *.py except the helpers) inside the VM, one
# after another, and prints their TAP output with a "# test: NAME" header.
# Exits non-zero when any test failed.
cd "$(dirname "$0")" || exit 1
rc=0
# VNACCT_SELFTESTS: only these; VNACCT_SELFTESTS_SKIP: all but these.
all=$(ls ./*.sh ./*.py | sed 's#^\./##' |
	grep -vE "^(lib|run_all|kunit|vm-run|vnacct_util)\.(sh|py)$|^demo")
for t in ${VNACCT_SELFTESTS:-$all}; do
	case " ${VNACCT_SELFTESTS_SKIP:-} " in *" $t "*) continue ;; esac
	echo "# test: $t on $(uname -r)"
	start=$(date +%s)
	case $t in
	*.py) timeout 600 python3 "./$t" || rc=1 ;;
	*) timeout 600 bash "./$t" || rc=1 ;;
	esac
	echo "# test: $t took $(($(date +%s) - start)) s"
	# A failed test may leave the module loaded: the next one starts clean.
	rmmod vnacct 2>/dev/null
done
exit $rc
