#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# selftests/guests_smoke.sh - smoke test of the test guests vnacct-tapguest
# and vnacct-vhostguest (no vnacct module needed).  Builds a "host"
# namespace with a bridge, the guest's tap and a veth to an "external host"
# namespace (10.0.0.2/24, fd00::2/64), runs each guest (ping, ping6, UDP,
# UDP6, TCP, TCP6; TCP under netem loss when sch_netem exists; then a
# passive guest pinged from outside) and compares what the guest reports
# with the peer's own counters: veth statistics, /proc/net/snmp{,6} (nstat)
# and a python3 sink's per-connection byte counts.  The vhost part needs
# /dev/vhost-net (run it in the VM: selftests/vm-run.sh 6.12
# selftests/guests_smoke.sh) and is skipped without it.
# TAP output; exit 1 on any failure.  python3 starts only twice (sink and
# analysis): it is slow to start in the emulated VM.
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
TCP=200000
TCP6=100000
TCP_LOSS=100000
MAC=02:00:00:00:00:01
# On the debug kernel (KASAN, lockdep, kmemleak, under emulation) every
# command takes seconds and this test over 20 minutes: skipped there unless
# VNACCT_GUESTS_ON_DEBUG=1 (then with less traffic).  Its clock is also
# coarse (jiffies, 1 ms), so RTTs come out quantized.
if [ "${VNACCT_KERNEL:-}" = debug ]; then
	if [ "${VNACCT_GUESTS_ON_DEBUG:-0}" != 1 ]; then
		echo "1..0 # SKIP too slow on the debug kernel (VNACCT_GUESTS_ON_DEBUG=1 forces it)"
		rm -rf "$tmp"
		exit 0
	fi
	PING=5 UDP=20 UDP6=10 TCP=20000 TCP6=10000 TCP_LOSS=10000
fi

ok() { # STATUS TEXT
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
expect() { (($2)) 2>/dev/null; ok $? "$1"; }
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

cat >"$tmp/sink.py" <<'PY'
# Sink in the external namespace for the whole test: TCP (dual stack) bytes
# per connection until EOF (then it closes), UDP datagrams and bytes per
# source; on SIGTERM drains what is queued and writes JSON.
import json, select, signal, socket, sys
ready, out, tport, uport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
ls.bind(("::", tport))
ls.listen(8)
us = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
us.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
us.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
us.bind(("::", uport))
tcp, udp, conns = [], {}, {}
stop = [False]
signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
open(ready, "w").close()
def src(a):
    v4 = a[0].startswith("::ffff:")
    return (a[0][7:] if v4 else a[0]), a[1]
while not stop[0]:
    try:
        r, _, _ = select.select([ls, us] + list(conns), [], [], 0.5)
    except InterruptedError:
        continue
    for s in r:
        if s is ls:
            c, a = ls.accept()
            conns[c] = [a, 0]
        elif s is us:
            d, a = us.recvfrom(65536)
            k = "%s %d" % src(a)
            udp.setdefault(k, [0, 0])
            udp[k][0] += 1
            udp[k][1] += len(d)
        else:
            d = s.recv(1 << 16)
            if d:
                conns[s][1] += len(d)
            else:
                h, p = src(conns[s][0])
                tcp.append({"src": h, "sport": p, "bytes": conns[s][1],
                            "eof": True})
                del conns[s]
                s.close()
us.setblocking(False)
while True:
    try:
        d, a = us.recvfrom(65536)
    except BlockingIOError:
        break
    k = "%s %d" % src(a)
    udp.setdefault(k, [0, 0])
    udp[k][0] += 1
    udp[k][1] += len(d)
for s, (a, b) in conns.items():
    h, p = src(a)
    tcp.append({"src": h, "sport": p, "bytes": b, "eof": False})
json.dump({"tcp": tcp, "udp": udp}, open(out, "w"))
PY

cat >"$tmp/analyze.py" <<'PY'
# analyze.py SINK PREFIX FILE...: shell assignments for every scalar of
# each guest report (PREFIX_key, nested keys joined by "__", a list gives
# PREFIX_...__n) and derived values: RTT summaries, a self-consistency
# verdict, and what the sink received from the report's source ports.
import json, re, sys
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
    sink = json.load(open(sys.argv[1]))
except Exception:
    sink = {"tcp": [], "udp": {}}
cls = ("arp", "ndisc", "icmp", "icmp6", "udp", "tcp", "other")
args = sys.argv[2:]
for prefix, path in zip(args[0::2], args[1::2]):
    try:
        d = json.load(open(path))
    except Exception:
        emit(prefix + "_missing", 1)
        continue
    walk(prefix, d)
    for k in ("ping", "ping6"):
        if k in d:
            r = [x for x in d[k]["rtt_ns"] if x >= 0]
            emit(prefix + "_" + k + "__rtt_ok", len(r))
            if r:
                emit(prefix + "_" + k + "__rtt_us",
                     "%.1f/%.1f/%.1f" % (min(r) / 1e3, sum(r) / len(r) / 1e3,
                                         max(r) / 1e3))
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
    for k, host in (("tcp", d["ip"]), ("tcp6", d["ip6"])):
        if k in d:
            c = [x for x in sink["tcp"]
                 if x["src"] == host and x["sport"] == d[k]["sport"]]
            emit(prefix + "_sink_" + k, sum(x["bytes"] for x in c) if c else -1)
            emit(prefix + "_sink_" + k + "_eof", int(all(x["eof"] for x in c)))
    for k, host in (("udp", d["ip"]), ("udp6", d["ip6"])):
        if k in d:
            u = sink["udp"].get("%s %d" % (host, d[k]["sport"]), [0, 0])
            emit(prefix + "_sink_" + k + "_n", u[0])
            emit(prefix + "_sink_" + k + "_bytes", u[1])
print("\n".join(out))
PY

# snap FILE: the external namespace's counters, "name value" per line
snap() {
	local s=/sys/class/net/veth-x/statistics
	ip netns exec "$X" sh -c "for c in rx_packets rx_bytes tx_packets tx_bytes; do echo \$c \$(cat $s/\$c); done" >"$1"
	ip netns exec "$X" nstat -asz | awk 'NF >= 2 { print $1, $2 }' >>"$1"
}
# delta NAME COUNTER: after - before around guest NAME's traffic run
delta() {
	local a b
	a=$(awk -v k="$2" '$1 == k { print $2 }' "$tmp/$1.after")
	b=$(awk -v k="$2" '$1 == k { print $2 }' "$tmp/$1.before")
	echo $((${a:-0} - ${b:-0}))
}

# ---------------------------------------------------------------------------
# build, arguments

tapg=$top/userspace/vnacct-tapguest
vhostg=$top/userspace/vnacct-vhostguest
if [ ! -x "$tapg" ] || [ ! -x "$vhostg" ]; then
	make -s -C "$top" -f userspace/guests.mk guests >"$tmp/build.log" 2>&1
fi
[ -x "$tapg" ] && [ -x "$vhostg" ]
ok $? "guest programs are built"
[ -x "$tapg" ] || finish

"$tapg" --ifname t0 --mac $MAC --ip 10.0.0.1/24 --ping x >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--ping 'x'" "$tmp/err"
ok $? "bad --ping value: exit 2 naming the argument (rc $rc: $(head -n 1 "$tmp/err"))"
"$tapg" --ifname t0 --mac $MAC --ip 10.0.0.1/24 --ping 1 >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q -- "--peer" "$tmp/err"
ok $? "--ping without --peer: exit 2 (rc $rc: $(head -n 1 "$tmp/err"))"

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
ok $? "topology: namespaces, bridge, veth $(tr '\n' ' ' <"$tmp/topo.log")"
t0=$SECONDS

ip netns exec "$X" python3 "$tmp/sink.py" "$tmp/ready" "$tmp/sink.json" 5001 5002 &
sink_pid=$!
for i in $(seq 1 1200); do
	[ -e "$tmp/ready" ] && break
	sleep 0.05
done
[ -e "$tmp/ready" ]
ok $? "TCP/UDP sink listening in the external namespace (after $((SECONDS - t0)) s)"
# let the external host's MLD reports for its new address go out
sleep 2

carrier_up() { # wait until tap0 in $H has carrier
	local i
	for i in $(seq 1 400); do
		ip -n "$H" link show tap0 2>/dev/null | grep -q LOWER_UP && return 0
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------------------
# run NAME PROGRAM: every run of one guest; results are checked later

run() {
	local name=$1 prog=$2 out rc
	out=$(ip netns exec "$H" "$prog" --ifname tap0 --create-only 2>&1)
	ok $? "$name: --create-only makes a persistent tap ($out)"
	ip -n "$H" link set tap0 master br0 up
	ok $? "$name: tap0 enslaved to br0 and up"

	# The peer knows the guest's addresses for good: it sends no ARP or NS
	# probes of its own, which could outlive the guest and spoil the
	# frame-exact comparison.  (The serve run below exercises those.)
	ip -n "$X" neigh replace 10.0.0.1 lladdr $MAC dev veth-x nud permanent
	ip -n "$X" neigh replace fd00::1 lladdr $MAC dev veth-x nud permanent
	snap "$tmp/$name.before"
	t0=$SECONDS
	ip netns exec "$H" "$prog" --ifname tap0 --mac $MAC \
		--ip 10.0.0.1/24 --ip6 fd00::1/64 --peer 10.0.0.2 \
		--peer6 fd00::2 --ping $PING --ping6 $PING --interval-ms 5 \
		--udp $UDP --udp6 $UDP6 --udp-size $UDP_SIZE --udp-port 5002 \
		--tcp $TCP --tcp6 $TCP6 --tcp-port 5001 --json \
		>"$tmp/$name.json" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	snap "$tmp/$name.after"
	diag "$name: traffic run took $((SECONDS - t0)) s"

	# TCP under loss (netem on both veth ends); ARP may be lost too
	t0=$SECONDS
	# (10% of ~70 data segments: all get through with probability 0.06%)
	if ip netns exec "$X" tc qdisc add dev veth-x root netem loss 5% 2>/dev/null &&
	   ip netns exec "$H" tc qdisc add dev veth-h root netem loss 10% 2>/dev/null; then
		ip netns exec "$H" "$prog" --ifname tap0 --mac $MAC \
			--ip 10.0.0.1/24 --peer 10.0.0.2 --tcp $TCP_LOSS \
			--tcp-port 5001 --timeout-ms 30000 --json \
			>"$tmp/$name-loss.json" 2>"$tmp/$name-loss.err"
		echo $? >"$tmp/$name-loss.rc"
		diag "$name: TCP run under loss took $((SECONDS - t0)) s"
		ip netns exec "$X" tc qdisc del dev veth-x root
		ip netns exec "$H" tc qdisc del dev veth-h root
	else
		ip netns exec "$X" tc qdisc del dev veth-x root 2>/dev/null
	fi

	# passive guest, pinged from the external host: it resolves the guest
	ip -n "$X" neigh del 10.0.0.1 dev veth-x
	ip -n "$X" neigh del fd00::1 dev veth-x
	t0=$SECONDS
	ip netns exec "$H" "$prog" --ifname tap0 --mac $MAC \
		--ip 10.0.0.1/24 --ip6 fd00::1/64 --serve 300 --json \
		>"$tmp/$name-serve.json" 2>"$tmp/$name-serve.err" &
	guest_pid=$!
	carrier_up; diag "$name: carrier after $((SECONDS - t0)) s"
	ip netns exec "$X" ping -n -q -c 10 -i 0.05 -w 60 10.0.0.1 2>&1 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p' >"$tmp/$name-ping4"
	ip netns exec "$X" ping -6 -n -q -c 10 -i 0.05 -w 60 fd00::1 2>&1 |
		sed -n 's/.* \([0-9]*\) received.*/\1/p' >"$tmp/$name-ping6"
	kill -TERM $guest_pid
	wait $guest_pid
	echo $? >"$tmp/$name-serve.rc"
	guest_pid=
	diag "$name: serve run took $((SECONDS - t0)) s"

	ip -n "$H" link del tap0
	ok $? "$name: persistent tap deleted"
}

# gv KEY: a value of the report selected by $pfx (analyze.py's variables,
# e.g. tap_g_tx__frames for pfx=tap_g, KEY=tx__frames), -1 if absent
gv() {
	local -n r=${pfx}_$1
	echo "${r:--1}"
}

# check NAME: the comparisons for one guest (variables of analyze.py)
check() {
	local name=$1 g=${1}_g l=${1}_l v=${1}_v rc
	local -n G_ok=${g}_ok
	rc=$(cat "$tmp/$name.rc")
	[ "$rc" -eq 0 ] && [ "${G_ok:-0}" = 1 ]
	ok $? "$name: traffic run exits 0 with ok (rc $rc $(head -c 200 "$tmp/$name.err"))"

	pfx=$g
	local ps pr p6s p6r
	ps=$(gv ping__sent) pr=$(gv ping__received)
	p6s=$(gv ping6__sent) p6r=$(gv ping6__received)
	expect "$name: ping $pr/$ps and ping6 $p6r/$p6s replies" \
		"ps == PING && pr == PING && p6s == PING && p6r == PING"
	diag "$name: guest-edge RTT min/avg/max us: ping $(gv ping__rtt_us) ping6 $(gv ping6__rtt_us)"
	expect "$name: every echo has an RTT (>= 0: clocks may be coarse)" \
		"$(gv ping__rtt_ok) == PING && $(gv ping6__rtt_ok) == PING"
	local ie ir i6e i6r
	ie=$(delta "$name" IcmpInEchos) ir=$(delta "$name" IcmpOutEchoReps)
	i6e=$(delta "$name" Icmp6InEchos) i6r=$(delta "$name" Icmp6OutEchoReplies)
	expect "$name: peer saw $ie echos, sent $ir replies; ICMPv6 $i6e/$i6r" \
		"ie == ps && ir == pr && i6e == p6s && i6r == p6r"

	local us u6s ub sn s6n sb
	us=$(gv udp__sent) u6s=$(gv udp6__sent) ub=$(gv udp_payload_bytes)
	sn=$(gv sink_udp_n) s6n=$(gv sink_udp6_n)
	sb=$(( $(gv sink_udp_bytes) + $(gv sink_udp6_bytes) ))
	expect "$name: UDP sent $us+$u6s datagrams $ub bytes, sink got $sn+$s6n datagrams $sb bytes" \
		"us == UDP && u6s == UDP6 && sn == us && s6n == u6s && sb == ub && ub == (UDP + UDP6) * UDP_SIZE"
	local ui u6i
	ui=$(delta "$name" UdpInDatagrams) u6i=$(delta "$name" Udp6InDatagrams)
	expect "$name: peer UdpInDatagrams +$ui Udp6InDatagrams +$u6i" \
		"ui == UDP && u6i == UDP6"

	local ta t6a tb t6b
	ta=$(gv tcp__payload_bytes_acked) t6a=$(gv tcp6__payload_bytes_acked)
	tb=$(gv sink_tcp) t6b=$(gv sink_tcp6)
	expect "$name: TCP acked $ta, sink read $tb; TCP6 acked $t6a, sink read $t6b; closed $(gv tcp__closed)/$(gv tcp6__closed)" \
		"ta == TCP && tb == TCP && t6a == TCP6 && t6b == TCP6 && $(gv tcp__closed) == 1 && $(gv tcp6__closed) == 1 && $(gv sink_tcp_eof) == 1 && $(gv sink_tcp6_eof) == 1"
	diag "$name: tcp segments $(gv tcp__segments_sent) retransmits $(gv tcp__retransmits) handshake rtt $(gv tcp__handshake_rtt_ns) ns, $(gv tcp__rtt_samples__n) TS rtt samples"

	local tf tby rf rby xrp xrb xtp xtb
	tf=$(gv tx__frames) tby=$(gv tx__bytes) rf=$(gv rx__frames) rby=$(gv rx__bytes)
	xrp=$(delta "$name" rx_packets) xrb=$(delta "$name" rx_bytes)
	xtp=$(delta "$name" tx_packets) xtb=$(delta "$name" tx_bytes)
	expect "$name: guest tx $tf frames $tby bytes = peer veth rx $xrp frames $xrb bytes" \
		"tf == xrp && tby == xrb"
	expect "$name: guest rx $rf frames $rby bytes = peer veth tx $xtp frames $xtb bytes" \
		"rf == xtp && rby == xtb"

	local t4 r4 t6 r6 pi4 po4 pi6 po6
	t4=$(gv tx__l3_bytes__ipv4) r4=$(gv rx__l3_bytes__ipv4)
	t6=$(gv tx__l3_bytes__ipv6) r6=$(gv rx__l3_bytes__ipv6)
	pi4=$(delta "$name" IpExtInOctets) po4=$(delta "$name" IpExtOutOctets)
	pi6=$(delta "$name" Ip6InOctets) po6=$(delta "$name" Ip6OutOctets)
	expect "$name: IPv4 L3 bytes tx $t4 rx $r4 = peer in $pi4 out $po4" \
		"t4 == pi4 && r4 == po4"
	expect "$name: IPv6 L3 bytes tx $t6 rx $r6 = peer in $pi6 out $po6" \
		"t6 == pi6 && r6 == po6"
	local -n incons=${g}_inconsistent
	[ -z "${incons-x}" ]
	ok $? "$name: report is self-consistent (classes partition frames, no bad checksums)${incons:+: $incons}"

	if [ -f "$tmp/$name-loss.rc" ]; then
		pfx=$l
		rc=$(cat "$tmp/$name-loss.rc")
		expect "$name: TCP with 10% loss of data, 5% of ACKs: acked $(gv tcp__payload_bytes_acked), sink read $(gv sink_tcp), $(gv tcp__retransmits) retransmits (rc $rc)" \
			"rc == 0 && $(gv tcp__payload_bytes_acked) == TCP_LOSS && $(gv sink_tcp) == TCP_LOSS && $(gv sink_tcp_eof) == 1 && $(gv tcp__retransmits) > 0"
	else
		skip "$name: TCP under loss: no sch_netem"
	fi

	pfx=$v
	local p4 p6 e4 e6
	p4=$(cat "$tmp/$name-ping4") p6=$(cat "$tmp/$name-ping6")
	e4=$(gv control__echo_replies) e6=$(gv control__echo6_replies)
	rc=$(cat "$tmp/$name-serve.rc")
	expect "$name: --serve answered $e4 echo and $e6 echo6 requests; ping got ${p4:-0}, ping6 ${p6:-0} (rc $rc)" \
		"rc == 0 && ${p4:-0} == 10 && ${p6:-0} == 10 && e4 == 10 && e6 == 10"
}

names=tap
run tap "$tapg"
if [ -c /dev/vhost-net ]; then
	run vhost "$vhostg"
	names="tap vhost"
else
	skip "no /dev/vhost-net"
fi

kill -TERM $sink_pid
wait $sink_pid
sink_pid=
files=()
for nm in $names; do
	files+=("${nm}_g" "$tmp/$nm.json" "${nm}_l" "$tmp/$nm-loss.json" "${nm}_v" "$tmp/$nm-serve.json")
done
t0=$SECONDS
eval "$(python3 "$tmp/analyze.py" "$tmp/sink.json" "${files[@]}")"
diag "analysis took $((SECONDS - t0)) s; total $SECONDS s"
for nm in $names; do
	check "$nm"
done
finish
