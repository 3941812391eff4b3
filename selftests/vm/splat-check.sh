#!/usr/bin/env bash
# Fail (exit 1, printing the offending lines) when a VM run's console,
# dmesg or kmemleak log holds any kernel splat.
set -u
dir=$1
pattern='BUG:|WARNING:|Oops|KASAN|kernel BUG|general protection|Call Trace|'
pattern+='possible recursive locking|possible circular locking|'
pattern+='inconsistent lock state|lockdep|suspicious RCU usage|'
pattern+='unreferenced object|memory leak|sleeping function called from invalid context|'
pattern+='scheduling while atomic|soft lockup|hard LOCKUP|hung_task|blocked for more than'
found=0
for f in console.log dmesg.log kmemleak.log; do
	[ -s "$dir/$f" ] || continue
	# "lockdep" alone also appears in the boot banner of a lockdep kernel.
	hits=$(grep -E "$pattern" "$dir/$f" | grep -vE 'Lock dependency validator|lockdep: (fixed|hash)|^\s*\.\.\. MAX_LOCK|in-kernel lockdep|kmemleak: Kernel memory leak detector')
	if [ -n "$hits" ]; then
		echo "splat in $f:"
		echo "$hits" | head -n 20
		found=1
	fi
done
exit $found
