#!/usr/bin/env bash
# Fail (exit 1, printing the offending lines) when a VM run's console,
# dmesg or kmemleak log holds any kernel splat.
set -u
dir=$1
pattern='BUG:|WARNING:|Oops|KASAN|kernel BUG|general protection|Call Trace|'
# Lockdep reports all start with "WARNING:" too; these catch the rest.
pattern+='possible recursive locking|possible circular locking|'
pattern+='inconsistent lock state|INFO: lockdep is turned off|suspicious RCU usage|'
pattern+='unreferenced object|suspected memory leak|sleeping function called from invalid context|'
pattern+='scheduling while atomic|soft lockup|hard LOCKUP|hung_task|blocked for more than'
found=0
for f in console.log dmesg.log kmemleak.log; do
	[ -s "$dir/$f" ] || continue
	hits=$(grep -E "$pattern" "$dir/$f")
	if [ -n "$hits" ]; then
		echo "splat in $f:"
		echo "$hits" | head -n 20
		found=1
	fi
done
exit $found
