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
TCP_LOSS=100000

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

# load PREFIX FILE: sets shell variables from a JSON file, one per scalar
# leaf, nested keys joined by "__" (PREFIX_tx__frames, PREFIX_udp_payload_bytes;
# a list gives PREFIX_...__n), plus
# values derived by analyze() in flatten.py.  One python3 start per call:
# python3 is slow to start in the emulated VM.
load() {
	local v
	for v in $(compgen -v "${1}_"); do unset "$v"; done
	eval "$(python3 "$tmp/flatten.py" "$@")"
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

cat >"$tmp/flatten.py" <<'PY'
# flatten.py PREFIX FILE: shell assignments for every scalar of a JSON file
# (guest report or sink result) and a few derived values.
import json, re, sys
prefix, path = sys.argv[1], sys.argv[2]
out = []
def emit(k, v):
    k = re.sub(r"[^A-Za-z0-9_]", "_", k)
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, (int, float)):
        out.append("%s=%s" % (k, v))
    elif isinstance(v, str):
        out.append("%s='%s'" % (k, v.replace("'", "")))
def walk(p, d, sep="_"):
    if isinstance(d, dict):
        for k, v in d.items():
            walk(p + sep + k, v, "__")
    elif isinstance(d, list):
        emit(p + "__n", len(d))
    else:
        emit(p, d)
try:
    d = json.load(open(path))
except Exception:
    d = None
    emit(prefix + "_missing", 1)
if d is not None:
    walk(prefix, d)
if d is not None and "tx" in d:
    for k in ("ping", "ping6"):
        if k in d:
            r = [x for x in d[k]["rtt_ns"] if x > 0]
            emit(prefix + "_" + k + "__rtt_ok", len(r))
            if r:
                emit(prefix + "_" + k + "__rtt_us",
                     "%.1f/%.1f/%.1f" % (min(r) / 1e3, sum(r) / len(r) / 1e3,
                                         max(r) / 1e3))
    cls = ("arp", "ndisc", "icmp", "icmp6", "udp", "tcp", "other")
    bad = []
    for k in ("tx", "rx"):
        s = d[k]
        if sum(s[c] for c in cls) != s["frames"]:
            bad.append(k + ".classes")
        if sum(s["class_bytes"][c] for c in cls) != s["bytes"]:
            bad.append(k + ".class_bytes")
        if s["ipv4"] + s["ipv6"] + s["arp"] > s["frames"]:
            bad.append(k + ".ipv4+ipv6")
        l3 = s["l3_bytes"]
        if l3["ipv4"] + l3["ipv6"] != l3["total"]:
            bad.append(k + ".l3_bytes")
        if sum(l3[c] for c in cls if c != "arp") != l3["total"]:
            bad.append(k + ".l3_bytes classes")
    if d["rx"]["csum_errors"]:
        bad.append("csum_errors")
    if d["tx_l3_bytes"] != d["tx"]["l3_bytes"]["total"]:
        bad.append("tx_l3_bytes")
    if d["rx_l3_bytes"] != d["rx"]["l3_bytes"]["total"]:
        bad.append("rx_l3_bytes")
    emit(prefix + "_inconsistent", " ".join(bad))
if d is not None and "udp" in d and "tcp" in d and isinstance(d["tcp"], list):
    v4 = [c["bytes"] for c in d["tcp"] if c["peer"].startswith("::ffff:")]
    v6 = [c["bytes"] for c in d["tcp"] if not c["peer"].startswith("::ffff:")]
    emit(prefix + "_tcp4_bytes", sum(v4) if v4 else -1)
    emit(prefix + "_tcp6_bytes", sum(v6) if v6 else -1)
print("\n".join(out))
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
	for i in $(seq 1 600); do
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

	load g "$j"
	load s "$tmp/sink.json"
	[ $rc -eq 0 ] && [ "${g_ok:-0}" = 1 ]
	ok $? "$name: traffic run exits 0 with ok (rc $rc $(head -c 200 "$tmp/$name.err"))"
	if [ -n "${g_missing:-}" ]; then
		diag "$name: no report"
		return
	fi

	expect "$name: ping ${g_ping__received:-}/${g_ping__sent:-} and ping6 ${g_ping6__received:-}/${g_ping6__sent:-} replies" \
		"${g_ping__sent:--1} == PING && ${g_ping__received:--1} == PING && ${g_ping6__sent:--1} == PING && ${g_ping6__received:--1} == PING"
	diag "$name: guest-edge RTT min/avg/max us: ping ${g_ping__rtt_us:-} ping6 ${g_ping6__rtt_us:-}"
	expect "$name: every echo has an RTT > 0" \
		"${g_ping__rtt_ok:-0} == PING && ${g_ping6__rtt_ok:-0} == PING"

	local ie ir i6e i6r
	ie=$(delta IcmpInEchos)
	ir=$(delta IcmpOutEchoReps)
	i6e=$(delta Icmp6InEchos)
	i6r=$(delta Icmp6OutEchoReplies)
	expect "$name: peer saw $ie echos, sent $ir replies; ICMPv6 $i6e/$i6r" \
		"ie == g_ping__sent && ir == g_ping__received && i6e == g_ping6__sent && i6r == g_ping6__received"

	expect "$name: UDP sent ${g_udp__sent:-}+${g_udp6__sent:-} datagrams ${g_udp_payload_bytes:-} bytes, sink got ${s_udp__v4:-}+${s_udp__v6:-} datagrams ${s_udp__bytes:-} bytes" \
		"${g_udp__sent:--1} == UDP && ${g_udp6__sent:--1} == UDP6 && ${s_udp__v4:--2} == UDP && ${s_udp__v6:--2} == UDP6 && ${s_udp__bytes:--1} == g_udp_payload_bytes && g_udp_payload_bytes == (UDP + UDP6) * UDP_SIZE"
	local ui u6i
	ui=$(delta UdpInDatagrams)
	u6i=$(delta Udp6InDatagrams)
	expect "$name: peer UdpInDatagrams +$ui Udp6InDatagrams +$u6i" \
		"ui == UDP && u6i == UDP6"

	expect "$name: TCP acked ${g_tcp__payload_bytes_acked:-}, sink read ${s_tcp4_bytes:-}; TCP6 acked ${g_tcp6__payload_bytes_acked:-}, sink read ${s_tcp6_bytes:-}; closed ${g_tcp__closed:-}/${g_tcp6__closed:-}" \
		"${g_tcp__payload_bytes_acked:--1} == TCP && ${s_tcp4_bytes:--2} == TCP && ${g_tcp6__payload_bytes_acked:--1} == TCP6 && ${s_tcp6_bytes:--2} == TCP6 && ${g_tcp__closed:-0} == 1 && ${g_tcp6__closed:-0} == 1"
	diag "$name: tcp segments ${g_tcp__segments_sent:-} retransmits ${g_tcp__retransmits:-} handshake rtt ${g_tcp__handshake_rtt_ns:-} ns, ${g_tcp__rtt_samples__n:-} TS rtt samples"

	local xrp xrb xtp xtb
	xrp=$(delta rx_packets)
	xrb=$(delta rx_bytes)
	xtp=$(delta tx_packets)
	xtb=$(delta tx_bytes)
	expect "$name: guest tx $g_tx__frames frames $g_tx__bytes bytes = peer veth rx $xrp frames $xrb bytes" \
		"g_tx__frames == xrp && g_tx__bytes == xrb"
	expect "$name: guest rx $g_rx__frames frames $g_rx__bytes bytes = peer veth tx $xtp frames $xtb bytes" \
		"g_rx__frames == xtp && g_rx__bytes == xtb"

	local pi4 po4 pi6 po6
	pi4=$(delta IpExtInOctets)
	po4=$(delta IpExtOutOctets)
	pi6=$(delta Ip6InOctets)
	po6=$(delta Ip6OutOctets)
	expect "$name: IPv4 L3 bytes tx $g_tx__l3_bytes__ipv4 rx $g_rx__l3_bytes__ipv4 = peer in $pi4 out $po4" \
		"g_tx__l3_bytes__ipv4 == pi4 && g_rx__l3_bytes__ipv4 == po4"
	expect "$name: IPv6 L3 bytes tx $g_tx__l3_bytes__ipv6 rx $g_rx__l3_bytes__ipv6 = peer in $pi6 out $po6" \
		"g_tx__l3_bytes__ipv6 == pi6 && g_rx__l3_bytes__ipv6 == po6"

	[ -z "${g_inconsistent-x}" ]
	ok $? "$name: report is self-consistent (classes partition frames, no bad checksums) ${g_inconsistent:-}"

	# TCP under loss (netem on both veth ends): exact bytes, retransmits
	if ip netns exec "$X" tc qdisc add dev veth-x root netem loss 5% 2>/dev/null &&
	   ip netns exec "$H" tc qdisc add dev veth-h root netem loss 5% 2>/dev/null; then
		rm -f "$tmp/ready" "$tmp/sink.json"
		ip netns exec "$X" python3 "$tmp/sink.py" "$tmp/ready" "$tmp/sink.json" 1 5001 5002 &
		sink_pid=$!
		for i in $(seq 1 600); do
			[ -e "$tmp/ready" ] && break
			sleep 0.05
		done
		ip netns exec "$H" "$prog" --ifname tap0 --mac 02:00:00:00:00:01 \
			--ip 10.0.0.1/24 --peer 10.0.0.2 --tcp $TCP_LOSS \
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
		load l "$tmp/$name-loss.json"
		load s "$tmp/sink.json"
		expect "$name: TCP with 5% loss each way: acked ${l_tcp__payload_bytes_acked:-}, sink read ${s_tcp4_bytes:-}, ${l_tcp__retransmits:-} retransmits (rc $rc)" \
			"rc == 0 && ${l_tcp__payload_bytes_acked:--1} == TCP_LOSS && ${s_tcp4_bytes:--2} == TCP_LOSS && ${l_tcp__retransmits:-0} > 0"
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
	load v "$tmp/$name-serve.json"
	local e4=${v_control__echo_replies:--1} e6=${v_control__echo6_replies:--1}
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
