#!/usr/bin/env bash
# Build vnacct.ko (and, for the debug kernel, the KUnit module and the
# sanitizer test module selftests/splat) for one of the kernels the tests boot, in build/<name>/ so builds for different kernels
# never share object files.
# Usage: scripts/build-for.sh 6.1|6.12|debug|rt [extra make args, e.g. C=2]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=selftests/vm/kernels.sh
. "$top/selftests/vm/kernels.sh"
resolve_kernel "$1"
shift
[ -d "$KDIR" ] || { echo "build-for: no kernel build tree at $KDIR" >&2; exit 1; }
out=$top/build/$KNAME
mkdir -p "$out"
srcs=("$top/Kbuild" "$top/vnacct" "$top/include")
[ -d "$top/kunit" ] && srcs+=("$top/kunit")
[ "$KNAME" = debug ] && srcs+=("$top/selftests/splat")
# Generated files are excluded, so they survive --delete: builds stay
# incremental.
rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '*.cmd' \
	--exclude '*.mod*' --exclude 'Module.symvers' --exclude 'modules.order' \
	"${srcs[@]}" "$out/"
make -s -C "$KDIR" M="$out" W=1 "$@" modules
if [ "$KNAME" = debug ]; then
	make -s -C "$KDIR" M="$out/kunit" W=1 "$@" modules
	make -s -C "$KDIR" M="$out/splat" W=1 "$@" modules
fi
