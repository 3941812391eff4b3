#!/usr/bin/env bash
# Host side of the sanitizer proof (make check, debug kernel): boots the debug
# kernel, runs selftests/sanitizers.sh in it (four deliberate bugs), passes
# its TAP lines through, and then checks the runner itself: it must fail the
# run, and the splat check must find each bug in the logs it keeps.  A runner
# or splat pattern that stopped seeing a sanitizer fails here.
# Usage: selftests/sanitizers-vm.sh OUTDIR
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/vm/sanitizers}
VNACCT_SRC=$top
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"
tap_n=100 # after the guest's own TAP numbers
mkdir -p "$(dirname "$out")"

"$top/selftests/vm-run.sh" -t 900 -m 3072 -o "$out" debug \
	selftests/sanitizers.sh 2>"$out.stderr"
rc=$?
sed 's/^/# /' "$out.stderr"
[ "$rc" -ne 0 ]
ok $? "vm-run fails a run in which the kernel reported bugs"
grep -q 'vm-run: FAIL: debug: kernel splat' "$out.stderr"
ok $? "... and says it was a kernel splat"
grep -q 'vm-run: FAIL: debug: command exited' "$out.stderr"
ok $((!$?)) "... not a failed guest check"
"$top/selftests/vm/splat-check.sh" "$out" >/dev/null
ok $((!$?)) "splat-check.sh fails on the logs"
for p in 'BUG: KASAN: slab-out-of-bounds' \
	'BUG: sleeping function called from invalid context' \
	'possible circular locking dependency detected'; do
	grep -q "$p" "$out/console.log" "$out/dmesg.log" 2>/dev/null
	ok $? "the kept logs hold '$p'"
done
grep -q 'unreferenced object' "$out/kmemleak.log" 2>/dev/null
ok $? "kmemleak.log holds the leaked objects"
tap_done
