#!/usr/bin/env bash
# Extracts the kernel's YNL client (tools/net/ynl) and the netlink spec
# schemas (Documentation/netlink/*.yaml) from Debian's linux-source-6.12
# into ~/.cache/vnacct/linux-source-6.12, once, and mirrors those two
# directories into build/ynl/ in the repository, where the test VM (whose
# /root is a tmpfs) finds them.  Prints the cache directory.
set -euo pipefail
cache=${VNACCT_CACHE:-$HOME/.cache/vnacct}
tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n 1)
dir=$cache/linux-source-6.12
if [ ! -f "$dir/tools/net/ynl/cli.py" ] ||
	[ ! -f "$dir/Documentation/netlink/genetlink-c.yaml" ]; then
	[ -n "$tarball" ] || { echo "ynl-fetch: no /usr/src/linux-source-6.12.tar.*: install linux-source-6.12" >&2; exit 1; }
	mkdir -p "$cache"
	echo "ynl-fetch: extracting tools/net/ynl from $tarball" >&2
	tar -C "$cache" -xf "$tarball" --wildcards \
		'linux-source-6.12/tools/net/ynl/*' \
		'linux-source-6.12/Documentation/netlink/*'
fi
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/build/ynl/tools/net" "$top/build/ynl/Documentation"
rsync -a --delete "$dir/tools/net/ynl" "$top/build/ynl/tools/net/"
rsync -a --delete "$dir/Documentation/netlink" "$top/build/ynl/Documentation/"
echo "$dir"
