#!/bin/sh
# Runs as PID 1 in the host's root file system inside the test VM: prepares
# the guest (debugfs, tracefs, loopback, kmemleak), runs the one test command
# the runner asked for, records its exit status and the kernel log in the
# scratch directory, and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
out=/run/vnacct/out
mkdir -p /dev/pts /dev/shm /sys/kernel/debug
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up
hostname vnacct-vm

# kmemleak's own thread scans all memory every 10 minutes, minutes of a
# vCPU each under TCG in the middle of the tests; the two scans after the
# test find every leak just the same.
[ -w /sys/kernel/debug/kmemleak ] && echo scan=off >/sys/kernel/debug/kmemleak

. "$out/env"
cd /run/vnacct/src
echo "guest-init: running $VM_CMD on $(uname -r)" >/dev/console
# The test's own output goes to a file (the console carries kernel messages).
setsid sh -c "$VM_CMD" </dev/null >"$out/output.log" 2>&1
rc=$?
echo "$rc" >"$out/rc"
if [ -w /sys/kernel/debug/kmemleak ]; then
	# Two scans: kmemleak reports an object only once it has stayed
	# unreferenced across a scan.
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.log"
fi
dmesg >"$out/dmesg.log"
sync
echo "guest-init: done rc=$rc" >/dev/console
# Reboot, not power-off: it needs no ACPI, and QEMU runs with -no-reboot.
echo b >/proc/sysrq-trigger
sleep 30
