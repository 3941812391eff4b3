#!/usr/bin/env bash
# Extract checkpatch.pl (and the data files it reads) from Debian's
# linux-source-6.12 once, cached; print its path.
set -euo pipefail
cache=${VNACCT_CACHE:-$HOME/.cache/vnacct}
tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -n1)
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
dir=$cache/checkpatch-$ver
if [ ! -f "$dir/.done" ]; then
	mkdir -p "$dir"
	tar -C "$dir" --strip-components=1 -xf "$tarball" --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	touch "$dir/.done"
fi
echo "$dir/scripts/checkpatch.pl"
