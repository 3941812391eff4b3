#!/bin/bash
# Skeleton selftest: vnacct loads, attaches every hook, counts hits for real
# traffic on loopback and through a tap on a bridge, and unloads while
# traffic is still flowing.
# The reference is the traffic generators' own counts.
. "$(dirname "$0")/lib.sh"

N=200
tap_plan 13

check "module loads" load_vnacct
check "stats file is root-only (mode 0400)" \
	test "$(stat -c %a $DBG/stats)" = 400
hooks=$(awk 'NR > 1 && NF == 4' $DBG/stats | wc -l)
expect "stats lists all 30 hooks (got $hooks)" "hooks == 30"

q0=$(hook_hits net_dev_queue)
r0=$(hook_hits netif_rx)
recv=$(python3 - "$N" <<'PY'
import socket, sys
n = int(sys.argv[1])
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
rx.settimeout(2)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
got = 0
for i in range(n):
    tx.sendto(b"x" * 64, rx.getsockname())
    try:
        rx.recv(2048)
        got += 1
    except socket.timeout:
        pass
print(got)
PY
)
q1=$(hook_hits net_dev_queue)
r1=$(hook_hits netif_rx)
diag "udp datagrams received $recv; net_dev_queue +$((q1 - q0)) netif_rx +$((r1 - r0))"
expect "generator delivered all $N datagrams" "recv == N"
expect "net_dev_queue grew by at least $recv" "q1 - q0 >= recv"
expect "netif_rx grew by at least $recv" "r1 - r0 >= recv"

# TCP receive copies each segment with skb_copy_datagram_iter, which fires
# skb_copy_datagram_iovec (UDP copies linear skbs without it).
c0=$(hook_hits skb_copy_datagram_iovec)
reads=$(python3 - "$N" <<'PY'
import socket, sys
n = int(sys.argv[1])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
c = socket.create_connection(ls.getsockname())
s, _ = ls.accept()
reads = 0
for i in range(n):
    c.sendall(b"z" * 100)
    got = 0
    while got < 100:
        b = s.recv(100 - got)
        got += len(b)
        reads += 1
print(reads)
PY
)
c1=$(hook_hits skb_copy_datagram_iovec)
diag "tcp reads $reads; skb_copy_datagram_iovec +$((c1 - c0))"
expect "skb_copy_datagram_iovec grew by at least $reads" "c1 - c0 >= reads"

# A tap on a bridge: frames written to the tap fd enter through
# tun_get_user and the bridge's rx handler.
ip link add vnbr0 type bridge
ip tuntap add dev vntap0 mode tap
ip link set vntap0 master vnbr0 up
ip link set vnbr0 up
g0=$(hook_hits tun_get_user)
b0=$(hook_hits br_handle_frame)
sent=$(python3 - "$N" <<'PY'
import fcntl, os, struct, sys
n = int(sys.argv[1])
fd = os.open("/dev/net/tun", os.O_RDWR)
IFF_TAP, IFF_NO_PI, TUNSETIFF = 0x0002, 0x1000, 0x400454ca
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"vntap0", IFF_TAP | IFF_NO_PI))
src = bytes.fromhex("020000000001")
arp = (b"\xff" * 6 + src + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
       + src + bytes([10, 0, 0, 1]) + b"\0" * 6 + bytes([10, 0, 0, 2]))
sent = sum(1 for _ in range(n) if os.write(fd, arp) == len(arp))
print(sent)
PY
)
g1=$(hook_hits tun_get_user)
b1=$(hook_hits br_handle_frame)
diag "tap frames written $sent; tun_get_user +$((g1 - g0)) br_handle_frame +$((b1 - b0))"
expect "tap writer wrote all $N frames" "sent == N"
expect "tun_get_user grew by at least $sent" "g1 - g0 >= sent"
expect "br_handle_frame grew by at least $sent" "b1 - b0 >= sent"
ip link del vntap0
ip link del vnbr0

# Unload while loopback traffic flows on both CPUs: the traffic runs until
# the cycles are over (one cycle takes ~30 s on the debug kernel).
# load_cycles.py does many cycles on every path; here 5 more, 1 on the debug
# kernel, where 5 took most of this test's 9 minutes.
cycles=5
case $(uname -r) in *debug*) cycles=1 ;; esac
ping -q -f 127.0.0.1 >/tmp/ping.out 2>&1 &
ping_pid=$!
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"y" * 200, ("127.0.0.1", 9))
' &
udp_pid=$!
sleep 2
check "unloads while traffic flows" unload_vnacct
fails=0
for i in $(seq $cycles); do
	load_vnacct && sleep 0.5 && unload_vnacct || fails=$((fails + 1))
done
ok $fails "$cycles more load/unload cycles under traffic ($fails failed)"
kill $ping_pid $udp_pid 2>/dev/null
wait $ping_pid $udp_pid 2>/dev/null
expect "module is gone afterwards" "$(grep -c vnacct /proc/modules) == 0"
tap_done
