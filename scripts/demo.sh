#!/usr/bin/env bash
# make demo: build vnacct for Debian's 6.12 kernel, boot that kernel in QEMU
# with a real NIC pair, start two real KVM guests inside it (nested KVM:
# the test VM has one vCPU), run ping and iperf3 and print what vnacct
# measured, per VM and then in detail.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
kernel=${VNACCT_DEMO_KERNEL:-6.12}
echo "demo: building vnacct for $kernel" >&2
scripts/build-for.sh "$kernel"
make -s userspace
echo "demo: booting $kernel under QEMU (TCG), then two KVM guests in it (a few minutes)" >&2
exec selftests/vm-run.sh -t 900 -m 2048 -c 1 -N -o build/vm/demo "$kernel" \
	"python3 selftests/demo_realguests.py"
