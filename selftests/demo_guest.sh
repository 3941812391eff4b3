#!/bin/bash
# The demo's guest side (runs inside the VM): a bridge with a tap "guest"
# and a veth to an "external host" namespace, loopback traffic, then
# vnacct's counters.
set -e
. "$(dirname "$0")/lib.sh"
load_vnacct

ip netns add ext
ip link add vnbr0 type bridge
ip link add veth-host type veth peer name veth-ext netns ext
ip link set veth-host master vnbr0 up
ip -n ext addr add 10.77.0.2/24 dev veth-ext
ip -n ext link set veth-ext up
ip -n ext link set lo up
ip addr add 10.77.0.1/24 dev vnbr0
ip link set vnbr0 up

echo "== traffic: ping over the bridge and veth, iperf3 on loopback"
ping -q -c 20 -i 0.05 10.77.0.2 | tail -n 2
iperf3 -s -1 -D -B 127.0.0.1 >/dev/null
sleep 0.5
iperf3 -c 127.0.0.1 -t 2 -f m | grep -E 'sender|receiver'

echo
echo "== /sys/kernel/debug/vnacct/stats"
cat $DBG/stats
unload_vnacct
