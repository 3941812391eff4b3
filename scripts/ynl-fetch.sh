#!/usr/bin/env bash
# Extracts the kernel's YNL client (tools/net/ynl) and the netlink spec
# schemas (Documentation/netlink/*.yaml) from Debian's linux-source-6.12
# into ~/.cache/vnacct/linux-source-6.12, once.  Prints the directory.
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
echo "$dir"
