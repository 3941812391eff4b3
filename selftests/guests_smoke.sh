#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# selftests/guests_smoke.sh - smoke test of the test guests vnacct-tapguest
# and vnacct-vhostguest (no vnacct module needed).  Builds a "host"
# namespace with a bridge, the guest's tap and a veth to an "external host"
# namespace (10.0.0.2/24, fd00::2/64), runs each guest (ping, ping6, UDP,
# UDP6, TCP, TCP6, then a passive guest pinged from outside) and compares
# what the guest reports with the peer's own counters: veth statistics,
# /proc/net/snmp{,6} (nstat) and a python3 sink's byte counts.  The vhost
# part needs /dev/vhost-net (run it in the VM: selftests/vm-run.sh 6.12
# selftests/guests_smoke.sh) and is skipped without it.
# TAP output; exit 1 on any failure.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
H=vnsmoke-h-$$
X=vnsmoke-x-$$
tmp=$(mktemp -d /tmp/vnacct-guests.XXXXXX)
n=0
failed=0
PING=20
UDP=200
UDP6=100
UDP_SIZE=512
TCP=300000
TCP6=150000

ok() { # STATUS TEXT
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
expect() { (($2)); ok $? "$1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
diag() { echo "# $*"; }

cleanup() {
	[ -n "${sink_pid:-}" ] && kill "$sink_pid" 2>/dev/null
	[ -n "${guest_pid:-}" ] && kill "$guest_pid" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$H" 2>/dev/null
	ip netns del "$X" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

finish() {
	echo "1..$n"
	[ $failed -eq 0 ] || diag "$failed of $n failed"
	exit $((failed > 0))
}

# jv FILE PATH: a value from a JSON file ("tx.frames", "ping.rtt_ns.0")
jv() {
	python3 - "$@" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."):
        d = d[int(k)] if isinstance(d, list) else d[k]
except Exception:
    print("-1")
    sys.exit(0)
if isinstance(d, bool):
    print("1" if d else "0")
elif isinstance(d, (dict, list)):
    print(json.dumps(d))
else:
    print(d)
PY
}

# snap FILE: the external namespace's counters, "name value" per line
snap() {
	local s=/sys/class/net/veth-x/statistics
	ip netns exec "$X" sh -c "for c in rx_packets rx_bytes tx_packets tx_bytes; do echo \$c \$(cat $s/\$c); done" >"$1"
	ip netns exec "$X" nstat -asz | awk 'NF >= 2 { print $1, $2 }' >>"$1"
}
# delta NAME: after - before
delta() {
	local a b
	a=$(awk -v k="$1" '$1 == k { print $2 }' "$tmp/after")
	b=$(awk -v k="$1" '$1 == k { print $2 }' "$tmp/before")
	echo $((${a:-0} - ${b:-0}))
}

cat >"$tmp/sink.py" <<'PY'
# TCP (dual stack) and UDP sink: counts bytes per TCP connection until EOF
# (then closes), and UDP datagrams; writes JSON when ntcp connections are
# done and nothing arrived for 1 s, or at the time limit.
import json, select, signal, socket, sys, time
ready, out, ntcp, tport, uport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
ls.bind(("::", tport))
ls.listen(8)
us = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
us.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
us.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
us.bind(("::", uport))
res = {"tcp": [], "udp": {"datagrams": 0, "bytes": 0, "v4": 0, "v6": 0}}
conns = {}
stop = [False]
signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
open(ready, "w").close()
end = time.time() + 600
last = time.time()
while not stop[0] and time.time() < end:
    if len(res["tcp"]) >= ntcp and not conns and time.time() - last > 1:
        break
    r, _, _ = select.select([ls, us] + list(conns), [], [], 0.2)
    for s in r:
        last = time.time()
        if s is ls:
            c, a = ls.accept()
            conns[c] = [a[0], 0]
        elif s is us:
            d, a = us.recvfrom(65536)
            res["udp"]["datagrams"] += 1
            res["udp"]["bytes"] += len(d)
            res["udp"]["v4" if a[0].startswith("::ffff:") else "v6"] += 1
        else:
            d = s.recv(1 << 16)
            if d:
                conns[s][1] += len(d)
            else:
                res["tcp"].append({"peer": conns[s][0], "bytes": conns[s][1]})
                del conns[s]
                s.close()
json.dump(res, open(out, "w"))
PY

# ---------------------------------------------------------------------------
# build

tapg=$top/userspace/vnacct-tapguest
vhostg=$top/userspace/vnacct-vhostguest
if [ ! -x "$tapg" ] || [ ! -x "$vhostg" ]; then
	make -s -C "$top" -f userspace/guests.mk guests >"$tmp/build.log" 2>&1
fi
[ -x "$tapg" ] && [ -x "$vhostg" ]
ok $? "guest programs are built"
[ -x "$tapg" ] || finish

# bad arguments: exit status 2 and a message naming the argument
"$tapg" --ifname t0 --mac 02:00:00:00:00:01 --ip 10.0.0.1/24 --ping x \
	>/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--ping 'x'" "$tmp/err"
ok $? "bad --ping value: exit 2 naming the argument (rc $rc: $(head -c 80 "$tmp/err" | head -n 1))"
"$tapg" --ifname t0 --mac 02:00:00:00:00:01 --ip 10.0.0.1/24 --ping 1 \
	>/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--peer" "$tmp/err"
ok $? "--ping without --peer: exit 2 (rc $rc)"

# ---------------------------------------------------------------------------
# topology

modprobe -q -a tun veth bridge vhost_net sch_netem 2>/dev/null
topo() {
	set -e
	ip netns add "$H"
	ip netns add "$X"
	# the host namespace only bridges: no IPv6 chatter of its own
	ip netns exec "$H" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$H" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$H" link add br0 type bridge mcast_snooping 0
	ip -n "$H" link add veth-h type veth peer name veth-x netns "$X"
	ip -n "$H" link set veth-h master br0 up
	ip -n "$H" link set br0 up
	# the external host: no link-local address, no RS, no DAD
	ip netns exec "$X" sysctl -qw net.ipv6.conf.veth-x.addr_gen_mode=1
	ip netns exec "$X" sysctl -qw net.ipv6.conf.veth-x.accept_ra=0
	ip netns exec "$X" sysctl -qw net.ipv6.conf.veth-x.accept_dad=0
	ip -n "$X" link set lo up
	ip -n "$X" addr add 10.0.0.2/24 dev veth-x
	ip -n "$X" addr add fd00::2/64 dev veth-x nodad
	ip -n "$X" link set veth-x up
	set +e
}
(topo) >"$tmp/topo.log" 2>&1
ok $? "topology: namespaces, bridge, veth ($(tr '\n' ' ' <"$tmp/topo.log"))"
# let the external host's MLD reports for its new address go out
sleep 2.5

carrier_up() { # wait until tap0 in $H has carrier
	local i
	for i in $(seq 1 200); do
		ip -n "$H" link show tap0 2>/dev/null | grep -q LOWER_UP && return 0
		sleep 0.05
	done
	return 1
}

# run_guest NAME PROGRAM: the traffic run and its comparisons
run_guest() {
	local name=$1 prog=$2 j=$tmp/$1.json rc i
	local out
	out=$(ip netns exec "$H" "$prog" --ifname tap0 --create-only 2>&1)
	ok $? "$name: --create-only makes a persistent tap ($out)"
	ip -n "$H" link set tap0 master br0 up
	ok $? "$name: tap0 enslaved to br0 and up"

	rm -f "$tmp/ready" "$tmp/sink.json"
	ip netns exec "$X" python3 "$tmp/sink.py" "$tmp/ready" "$tmp/sink.json" 2 5001 5002 &
	sink_pid=$!
	for i in $(seq 1 100); do
		[ -e "$tmp/ready" ] && break
		sleep 0.05
	done
	snap "$tmp/before"
	ip netns exec "$H" "$prog" --ifname tap0 --mac 02:00:00:00:00:01 \
		--ip 10.0.0.1/24 --ip6 fd00::1/64 --peer 10.0.0.2 \
		--peer6 fd00::2 --ping $PING --ping6 $PING --interval-ms 5 \
		--udp $UDP --udp6 $UDP6 --udp-size $UDP_SIZE --udp-port 5002 \
		--tcp $TCP --tcp6 $TCP6 --tcp-port 5001 --json \
		>"$j" 2>"$tmp/$name.err"
	rc=$?
	for i in $(seq 1 100); do
		kill -0 $sink_pid 2>/dev/null || break
		sleep 0.1
	done
	kill $sink_pid 2>/dev/null
	wait $sink_pid 2>/dev/null
	sink_pid=
	snap "$tmp/after"

	[ $rc -eq 0 ] && [ "$(jv "$j" ok)" = 1 ]
	ok $? "$name: traffic run exits 0 with ok (rc $rc $(head -c 200 "$tmp/$name.err"))"
	if [ ! -s "$j" ]; then
		diag "$name: no report"
		return
	fi

	local ps pr p6s p6r
	ps=$(jv "$j" ping.sent)
	pr=$(jv "$j" ping.received)
	p6s=$(jv "$j" ping6.sent)
	p6r=$(jv "$j" ping6.received)
	expect "$name: ping $pr/$ps and ping6 $p6r/$p6s replies" \
		"ps == PING && pr == PING && p6s == PING && p6r == PING"
	python3 - "$j" >"$tmp/rtt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("ping", "ping6"):
    r = d[k]["rtt_ns"]
    good = [x for x in r if x > 0]
    print(k, len(good), min(good) / 1e3 if good else 0,
          sum(good) / len(good) / 1e3 if good else 0,
          max(good) / 1e3 if good else 0)
PY
	diag "$name: guest-edge RTT us (name n min avg max): $(tr '\n' ';' <"$tmp/rtt")"
	awk '$2 != '"$PING"' { bad = 1 } END { exit bad }' "$tmp/rtt"
	ok $? "$name: every echo has an RTT > 0"

	local ie ir i6e i6r
	ie=$(delta IcmpInEchos)
	ir=$(delta IcmpOutEchoReps)
	i6e=$(delta Icmp6InEchos)
	i6r=$(delta Icmp6OutEchoReplies)
	expect "$name: peer saw $ie echos, sent $ir replies; ICMPv6 $i6e/$i6r" \
		"ie == ps && ir == pr && i6e == p6s && i6r == p6r"

	local us u6s ub sd sb s4 s6 ui u6i
	us=$(jv "$j" udp.sent)
	u6s=$(jv "$j" udp6.sent)
	ub=$(jv "$j" udp_payload_bytes)
	sd=$(jv "$tmp/sink.json" udp.datagrams)
	sb=$(jv "$tmp/sink.json" udp.bytes)
	s4=$(jv "$tmp/sink.json" udp.v4)
	s6=$(jv "$tmp/sink.json" udp.v6)
	expect "$name: UDP sent $us+$u6s datagrams $ub bytes, sink got $s4+$s6 datagrams $sb bytes" \
		"us == UDP && u6s == UDP6 && s4 == us && s6 == u6s && sb == ub && ub == (UDP + UDP6) * UDP_SIZE && sd == s4 + s6"
	ui=$(delta UdpInDatagrams)
	u6i=$(delta Udp6InDatagrams)
	expect "$name: peer UdpInDatagrams +$ui Udp6InDatagrams +$u6i" \
		"ui == us && u6i == u6s"

	local ta t6a tb t6b tc t6c
	ta=$(jv "$j" tcp.payload_bytes_acked)
	t6a=$(jv "$j" tcp6.payload_bytes_acked)
	tc=$(jv "$j" tcp.closed)
	t6c=$(jv "$j" tcp6.closed)
	tb=$(python3 -c 'import json,sys; print(sum(c["bytes"] for c in json.load(open(sys.argv[1]))["tcp"] if c["peer"].startswith("::ffff:")))' "$tmp/sink.json" 2>/dev/null || echo -1)
	t6b=$(python3 -c 'import json,sys; print(sum(c["bytes"] for c in json.load(open(sys.argv[1]))["tcp"] if not c["peer"].startswith("::ffff:")))' "$tmp/sink.json" 2>/dev/null || echo -1)
	expect "$name: TCP acked $ta, sink read $tb; TCP6 acked $t6a, sink read $t6b; closed $tc/$t6c" \
		"ta == TCP && tb == TCP && t6a == TCP6 && t6b == TCP6 && tc == 1 && t6c == 1"
	diag "$name: tcp segments $(jv "$j" tcp.segments_sent) retransmits $(jv "$j" tcp.retransmits) handshake rtt $(jv "$j" tcp.handshake_rtt_ns) ns, $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tcp"]["rtt_samples"]))' "$j") TS rtt samples"

	local tf tbytes rf rbytes xrp xrb xtp xtb
	tf=$(jv "$j" tx.frames)
	tbytes=$(jv "$j" tx.bytes)
	rf=$(jv "$j" rx.frames)
	rbytes=$(jv "$j" rx.bytes)
	xrp=$(delta rx_packets)
	xrb=$(delta rx_bytes)
	xtp=$(delta tx_packets)
	xtb=$(delta tx_bytes)
	expect "$name: guest tx $tf frames $tbytes bytes = peer veth rx $xrp frames $xrb bytes" \
		"tf == xrp && tbytes == xrb"
	expect "$name: guest rx $rf frames $rbytes bytes = peer veth tx $xtp frames $xtb bytes" \
		"rf == xtp && rbytes == xtb"

	local t4 r4 t6 r6 pi4 po4 pi6 po6
	t4=$(jv "$j" tx.l3_bytes.ipv4)
	r4=$(jv "$j" rx.l3_bytes.ipv4)
	t6=$(jv "$j" tx.l3_bytes.ipv6)
	r6=$(jv "$j" rx.l3_bytes.ipv6)
	pi4=$(delta IpExtInOctets)
	po4=$(delta IpExtOutOctets)
	pi6=$(delta Ip6InOctets)
	po6=$(delta Ip6OutOctets)
	expect "$name: IPv4 L3 bytes tx $t4 rx $r4 = peer in $pi4 out $po4" \
		"t4 == pi4 && r4 == po4"
	expect "$name: IPv6 L3 bytes tx $t6 rx $r6 = peer in $pi6 out $po6" \
		"t6 == pi6 && r6 == po6"

	python3 - "$j" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cls = ("arp", "ndisc", "icmp", "icmp6", "udp", "tcp", "other")
bad = []
for k in ("tx", "rx"):
    s = d[k]
    if sum(s[c] for c in cls) != s["frames"]:
        bad.append(k + " classes")
    if sum(s["class_bytes"][c] for c in cls) != s["bytes"]:
        bad.append(k + " class_bytes")
    if s["ipv4"] + s["ipv6"] + s["arp"] > s["frames"]:
        bad.append(k + " ipv4+ipv6")
    if s["l3_bytes"]["ipv4"] + s["l3_bytes"]["ipv6"] != s["l3_bytes"]["total"]:
        bad.append(k + " l3 total")
if d["rx"]["csum_errors"]:
    bad.append("csum_errors")
if d["tx_l3_bytes"] != d["tx"]["l3_bytes"]["total"]:
    bad.append("tx_l3_bytes")
if bad:
    print("# inconsistent: " + " ".join(bad))
sys.exit(1 if bad else 0)
PY
	ok $? "$name: report is self-consistent (classes partition frames, no bad checksums)"

	# TCP under loss (netem on both veth ends): exact bytes, retransmits
	if ip netns exec "$X" tc qdisc add dev veth-x root netem loss 5% 2>/dev/null &&
	   ip netns exec "$H" tc qdisc add dev veth-h root netem loss 5% 2>/dev/null; then
		rm -f "$tmp/ready" "$tmp/sink.json"
		ip netns exec "$X" python3 "$tmp/sink.py" "$tmp/ready" "$tmp/sink.json" 1 5001 5002 &
		sink_pid=$!
		for i in $(seq 1 100); do
			[ -e "$tmp/ready" ] && break
			sleep 0.05
		done
		ip netns exec "$H" "$prog" --ifname tap0 --mac 02:00:00:00:00:01 \
			--ip 10.0.0.1/24 --peer 10.0.0.2 --tcp $TCP \
			--tcp-port 5001 --timeout-ms 30000 --json \
			>"$tmp/$name-loss.json" 2>"$tmp/$name-loss.err"
		rc=$?
		for i in $(seq 1 100); do
			kill -0 $sink_pid 2>/dev/null || break
			sleep 0.1
		done
		kill $sink_pid 2>/dev/null
		wait $sink_pid 2>/dev/null
		sink_pid=
		ip netns exec "$X" tc qdisc del dev veth-x root
		ip netns exec "$H" tc qdisc del dev veth-h root
		local la lr lb
		la=$(jv "$tmp/$name-loss.json" tcp.payload_bytes_acked)
		lr=$(jv "$tmp/$name-loss.json" tcp.retransmits)
		lb=$(jv "$tmp/sink.json" tcp.0.bytes)
		expect "$name: TCP with 5% loss each way: acked $la, sink read $lb, $lr retransmits (rc $rc)" \
			"rc == 0 && la == TCP && lb == TCP && lr > 0"
	else
		ip netns exec "$X" tc qdisc del dev veth-x root 2>/dev/null
		skip "$name: TCP under loss: no sch_netem"
	fi

	# passive guest, pinged from the external host
	ip netns exec "$H" "$prog" --ifname tap0 --mac 02:00:00:00:00:01 \
		--ip 10.0.0.1/24 --ip6 fd00::1/64 --serve 120 --json \
		>"$tmp/$name-serve.json" 2>"$tmp/$name-serve.err" &
	guest_pid=$!
	carrier_up
	local p4 p6
	p4=$(ip netns exec "$X" ping -n -q -c 10 -i 0.05 -w 30 10.0.0.1 2>&1 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')
	p6=$(ip netns exec "$X" ping -6 -n -q -c 10 -i 0.05 -w 30 fd00::1 2>&1 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')
	kill -TERM $guest_pid
	wait $guest_pid
	rc=$?
	guest_pid=
	local e4 e6
	e4=$(jv "$tmp/$name-serve.json" control.echo_replies)
	e6=$(jv "$tmp/$name-serve.json" control.echo6_replies)
	expect "$name: --serve answered ${e4} echo and ${e6} echo6 requests; ping got ${p4:-0}, ping6 ${p6:-0} (rc $rc)" \
		"rc == 0 && ${p4:-0} == 10 && ${p6:-0} == 10 && e4 == 10 && e6 == 10"

	ip -n "$H" link del tap0
	ok $? "$name: persistent tap deleted"
}

run_guest tap "$tapg"

if [ -c /dev/vhost-net ]; then
	run_guest vhost "$vhostg"
else
	skip "no /dev/vhost-net"
fi

finish
