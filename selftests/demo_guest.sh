#!/bin/bash
# The demo's guest side (runs inside the VM): a KVM-host topology with a
# vhost-net guest and a tap-fd guest on a bridge, and a veth to an
# "external host" namespace; ping, UDP and TCP between them; then what
# vnacct measured, next to what the guests measured themselves.
. "$(dirname "$0")/lib.sh"
B=$VNACCT_SRC/userspace
set -e
load_vnacct

ip netns add ext
ip link add br0 type bridge
ip link add veth-host type veth peer name veth-ext netns ext
ip link set veth-host master br0 up
ip -n ext addr add 10.0.0.2/24 dev veth-ext
ip -n ext link set veth-ext up
ip -n ext link set lo up
ip link set br0 up
# No IPv6 on the host side of the guests' ports: no router/MLD chatter.
sysctl -qw net.ipv6.conf.br0.disable_ipv6=1
for t in tap0 vtap0; do
	$B/vnacct-tapguest --ifname $t --create-only >/dev/null
	sysctl -qw net.ipv6.conf.$t.disable_ipv6=1
	ip link set $t master br0 up
done
ip netns exec ext python3 -c '
import socket, threading
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("", 5001))
    s.settimeout(120)
    try:
        while True: s.recv(65536)
    except OSError: pass
def tcp():
    l = socket.socket(); l.bind(("", 5001)); l.listen(2); l.settimeout(120)
    try:
        while True:
            c, _ = l.accept()
            while c.recv(65536): pass
            c.close()
    except OSError: pass
[threading.Thread(target=f).start() for f in (udp, tcp)]' &
sink=$!
# python starts slowly under emulation: wait until both sockets exist
for i in $(seq 100); do
	ip netns exec ext ss -Hltn 'sport = :5001' | grep -q . &&
		ip netns exec ext ss -Hlun 'sport = :5001' | grep -q . && break
	sleep 0.2
done
set +e

echo "== vhost-net guest 10.0.0.3 -> external host: ping, UDP, TCP"
$B/vnacct-vhostguest --ifname vtap0 --mac 02:00:00:00:00:03 --ip 10.0.0.3/24 \
	--peer 10.0.0.2 --ping 20 --interval-ms 20 --udp 200 --udp-size 512 \
	--tcp 200000 --tcp-port 5001 --json >/tmp/vhost.json
echo "== tap guest 10.0.0.1 -> external host: ping, UDP, TCP"
$B/vnacct-tapguest --ifname tap0 --mac 02:00:00:00:00:01 --ip 10.0.0.1/24 \
	--peer 10.0.0.2 --ping 20 --interval-ms 20 --udp 200 --udp-size 512 \
	--tcp 200000 --tcp-port 5001 --json >/tmp/tap.json
echo "== tap guest -> vhost-net guest (VM to VM): ping"
$B/vnacct-vhostguest --ifname vtap0 --mac 02:00:00:00:00:03 --ip 10.0.0.3/24 \
	--serve 6 --json >/dev/null &
sleep 2
$B/vnacct-tapguest --ifname tap0 --mac 02:00:00:00:00:01 --ip 10.0.0.1/24 \
	--peer 10.0.0.3 --ping 10 --interval-ms 20 --json >/tmp/vm2vm.json
wait $!
kill $sink 2>/dev/null
sleep 1

python3 - <<'PY'
import json
for name in ("vhost", "tap", "vm2vm"):
    r = json.load(open(f"/tmp/{name}.json"))
    p = r["ping"]
    rtt = sorted(x for x in p["rtt_ns"] if x > 0)
    print(f"{name:6s} guest measured: ping {p['received']}/{p['sent']} "
          f"RTT p50 {rtt[len(rtt) // 2] / 1000:.0f} us, "
          f"min {rtt[0] / 1000:.0f} us; tx {r['tx']['frames']} frames "
          f"{r['tx']['bytes']} B, rx {r['rx']['frames']} frames "
          f"{r['rx']['bytes']} B")
PY
echo
echo "== /sys/kernel/debug/vnacct/flows (guests' IPv4 flows; times in ns)"
# columns picked by their header names
awk 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i }
	NR == 1 || ($c["dir"] != "local" && $c["packets"] > 0 && $c["proto"] != "icmpv6") {
		printf "%-4s %-6s %-10s %-6s %-9s %-6s %-9s %-6s %8s %9s %10s %10s %10s %10s %10s %6s %11s\n",
			$c["id"], $c["ifindex"], $c["dir"], $c["proto"], $c["src"],
			$c["sport"], $c["dst"], $c["dport"], $c["packets"],
			$c["bytes"], $c["copy_in_B"], $c["copy_out_B"],
			$c["res_p50_ns"], $c["res_p99_ns"], $c["res_max_ns"],
			$c["drtt_n"], $c["drtt_p50_ns"] }' $DBG/flows
echo
echo "== /sys/kernel/debug/vnacct/stages (guests' echo flows: per-stage residency)"
ids=$(awk '$4 != "local" && $5 == "icmp" { printf "%s|", $1 }' $DBG/flows)
awk -v ids="|${ids}" 'NR == 1 || index(ids, "|" $1 "|")' $DBG/stages |
	awk '{ printf "%-4s %-10s %-11s %8s %10s %10s %10s %10s\n", $1, $4, $5, $6, $11, $12, $13, $10 }'
echo
echo "== /sys/kernel/debug/vnacct/stats (module cost)"
cat $DBG/stats
unload_vnacct
