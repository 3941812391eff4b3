#!/usr/bin/env bash
# make demo: build vnacct for Debian's 6.12 kernel, boot that kernel in QEMU,
# build a small KVM-host topology inside it, run traffic and print what
# vnacct measured.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
kernel=${VNACCT_DEMO_KERNEL:-6.12}
echo "demo: building vnacct for $kernel" >&2
scripts/build-for.sh "$kernel"
make -s userspace
echo "demo: booting $kernel under QEMU (TCG; about a minute)" >&2
exec selftests/vm-run.sh -t 900 -m 2048 -o build/vm/demo "$kernel" selftests/demo_guest.sh
