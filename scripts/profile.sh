#!/usr/bin/env bash
# make profile: where vnacct's packet-path time goes, in the VM (Debian's
# stock 6.12, QEMU TCG, 2 vCPUs): perf's self time per symbol for loopback
# UDP without and with the module, and vnacct's per-hook probe time.  A
# benchmark aid, not a test; see bench/profile_vm.py.
#   PROFILE_SECS (8)  seconds of traffic per configuration
#   PROFILE_TOP (25)  symbols listed per configuration
# Writes build/profile/<time>/vm/profile.{txt,json} and prints the text.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v perf >/dev/null || {
	echo "profile: perf is not installed (make deps installs linux-perf)" >&2
	exit 1
}
scripts/build-for.sh 6.12 >/dev/null
make -s userspace >/dev/null
out=$top/build/profile/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
cmd="PROFILE_SECS=${PROFILE_SECS:-8} PROFILE_TOP=${PROFILE_TOP:-25}"
cmd+=" python3 bench/profile_vm.py"
selftests/vm-run.sh -t 900 -m 2048 -c 2 -o "$out/vm" 6.12 "$cmd"
# Kept with the bench results; Documentation/bench.rst gets a section on it.
mkdir -p bench/results
cp "$out/vm/profile.txt" "$out/vm/profile.json" bench/results/
if [ -f bench/results/bench.json ]; then
	machine=$(sed -n 's/^:machine: //p' Documentation/bench.rst)
	date=$(sed -n 's/^:date: //p' Documentation/bench.rst)
	/usr/bin/python3 bench/report.py bench/results/bench.json bench/results \
		--rst Documentation/bench.rst --machine "$machine" \
		--date "$date" >/dev/null
fi
cat "$out/vm/profile.txt"
echo "profile: $out/vm/profile.txt (and bench/results/, Documentation/bench.rst)"
