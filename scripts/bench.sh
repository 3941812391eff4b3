#!/usr/bin/env bash
# make bench: vnacct's cost against no module and a bpftrace peer, in the VM
# (Debian's stock 6.12, QEMU TCG, 2 vCPUs).  A benchmark, not a test: it
# prints and records numbers, and fails only when it cannot run.
#   BENCH_REPS (3)  interleaved repetitions     BENCH_SECS (3) s per workload
#   BENCH_SCALE ("1 100 10000 100000")          flow counts of the scale table
#   BENCH_SCALE_REPS (2)  interleaved repetitions of the scale tables
#   BENCH_RATES ("300 1000 3000")               paced rates, pkt/s
# Writes bench/results/{bench.json,summary.json,bench.md,bench.png} and
# Documentation/bench.rst.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$(date +%s)

command -v bpftrace >/dev/null || {
	echo "bench: bpftrace is not installed (apt-get install bpftrace)" >&2
	exit 1
}
scripts/build-for.sh 6.12 >/dev/null
make -s userspace >/dev/null

out=$top/build/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
cmd="BENCH_REPS=${BENCH_REPS:-3} BENCH_SECS=${BENCH_SECS:-3}"
cmd+=" BENCH_SCALE='${BENCH_SCALE:-1 100 10000 100000}'"
cmd+=" BENCH_SCALE_REPS=${BENCH_SCALE_REPS:-2}"
cmd+=" BENCH_RATES='${BENCH_RATES:-300 1000 3000}' python3 bench/run_vm.py"
# 3 GiB: the scale table loads the module with 131072 flow records (1.4 GiB).
selftests/vm-run.sh -t 1500 -m 3072 -c 2 -o "$out/vm" 6.12 "$cmd"

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
machine="$cpu, $(nproc) host CPUs shared, $(qemu-system-x86_64 --version | head -n 1)"
mkdir -p bench/results
/usr/bin/python3 bench/report.py "$out/vm/bench.json" bench/results \
	--rst Documentation/bench.rst --machine "$machine"
cp "$out/vm/bench.json" bench/results/bench.json
echo "bench: done in $(($(date +%s) - start)) s; table in Documentation/bench.rst"
