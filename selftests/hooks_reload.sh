#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vnacct's kprobes on tun, vhost_net and bridge follow those modules when
# they are unloaded and loaded again while vnacct stays loaded: after the
# reload a tap guest's pings are still seen (tun_get_user hits, the guest's
# ICMP flow with exactly the echoes the guest sent).  The kprobes core's own
# list (debugfs kprobes/list) is the independent reference for what is
# attached.  Skipped where tun is built in (the debug kernel).
. "$(dirname "$0")/lib.sh"

N=5
BIN=$VNACCT_SRC/userspace
KPL=/sys/kernel/debug/kprobes/list

modprobe -a tun vhost_net bridge 2>/dev/null
if [ ! -e /sys/module/tun/initstate ]; then
	echo "1..0 # SKIP tun is built in: nothing to reload"
	exit 0
fi
tap_plan 8

# our_probes: vnacct's kprobes on tun functions, as "func [flags]"
our_probes() {
	grep -E '\[vnacct\]|vnacct' "$KPL" 2>/dev/null | grep -E ' tun_' |
		awk '{ print $3, $NF }'
}

check "module loads" load_vnacct
before=$(grep -c 'tun_get_user' "$KPL")
expect "kprobes list shows tun_get_user attached ($before)" "before >= 1"

# Nothing uses tun/vhost_net/bridge now: they can go.
rmmod vhost_net tun 2>/dev/null
check "tun and vhost_net unloaded under vnacct" test ! -e /sys/module/tun
left=$(grep 'tun_get_user' "$KPL" | grep -vc GONE)
expect "no live kprobe left on the unloaded tun ($left)" "left == 0"

modprobe -a tun vhost_net
live=$(grep -E ' (tun_get_user|tun_sendmsg|tun_recvmsg|tun_net_xmit)' "$KPL" |
	grep -vc GONE)
expect "tun reloaded: its 4 vnacct kprobes attached again ($live live)" \
	"live >= 4"

h0=$(hook_hits tun_get_user)
ip link add vr-br type bridge 2>/dev/null
"$BIN/vnacct-tapguest" --ifname vr-tap --create-only
ip link set vr-tap master vr-br up
ip addr add 10.77.0.1/24 dev vr-br
ip link set vr-br up
out=$("$BIN/vnacct-tapguest" --ifname vr-tap --mac 02:00:00:00:77:02 \
	--ip 10.77.0.2/24 --peer 10.77.0.1 --ping $N --json)
replies=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ping"]["received"])' 2>/dev/null)
h1=$(hook_hits tun_get_user)
diag "guest: $replies echo replies; tun_get_user +$((h1 - h0))"
expect "guest got all $N echo replies" "${replies:-0} == N"
expect "tun_get_user hits grew by at least $N after the reload" \
	"h1 - h0 >= N"
pkts=$(awk '$4 == "from_guest" && $5 == "icmp" && $6 == "10.77.0.2" {
	s += $10 } END { print s + 0 }' "$DBG/flows")
expect "the guest's ICMP flow has its $N echo requests ($pkts)" \
	"pkts == N"

ip link del vr-tap 2>/dev/null
ip link del vr-br 2>/dev/null
unload_vnacct
tap_done
