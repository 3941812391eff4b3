#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vnacct benchmark, the part that runs inside the VM (scripts/bench.sh
boots it).  Four workloads under four configurations, in interleaved
repetitions (the configuration order rotates every repetition), then the
scale table.  Writes $VNACCT_OUT/bench.json; timings only (no pass/fail).

Workloads (higher is better):
  lo_udp_pps    iperf3 -u -l 16 -b 0 over loopback, datagrams sent/s
  lo_tcp_bps    iperf3 TCP over loopback, bits/s received
  vhost_tcp_Bps vnacct-vhostguest TCP -> br0 -> veth -> ext ns sink, B/s
  vhost_udp_pps vnacct-vhostguest UDP (18-byte payload) -> same path,
                datagrams the sink read per second of the guest's run
Configurations: none (no module), vnacct (every stage), vnacct_s16
(`sample 16`), bpftrace (bench/peer.bt).
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "selftests"))
from vnacct_util import sh, stats, control, KO, BIN, SRC  # noqa: E402

OUT = os.environ.get("VNACCT_OUT", "/dev/shm")
REPS = int(os.environ.get("BENCH_REPS", "3"))
SECS = float(os.environ.get("BENCH_SECS", "3"))
SCALE = [int(x) for x in os.environ.get("BENCH_SCALE",
                                        "1 100 10000 100000").split()]
CONFIGS = ["none", "vnacct", "vnacct_s16", "bpftrace"]
WORKLOADS = ["lo_udp_pps", "lo_tcp_bps", "vhost_tcp_Bps", "vhost_udp_pps"]
VG = f"{BIN}/vnacct-vhostguest"
PEER = os.path.join(SRC, "bench", "peer.bt")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


SINK = r'''
import socket, sys, threading, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
u.bind(("0.0.0.0", 5001))
lock = threading.Lock()
n = [0]
def udp():
    while True:
        u.recv(2048)
        with lock:
            n[0] += 1
def tcp():
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("0.0.0.0", 5003)); l.listen(4)
    while True:
        c, _ = l.accept()
        while c.recv(1 << 16):
            pass
        c.close()
threading.Thread(target=udp, daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    with lock:
        print(n[0], flush=True)
        n[0] = 0
'''


class Env:
    def __init__(self):
        self.sink = None
        self.peer = None
        self.loaded = False
        self.udp_n = 4000
        self.tcp_bytes = 2 << 20

    def topology(self):
        for cmd in [
            "modprobe -a tun vhost_net bridge veth",
            "sysctl -qw net.core.rmem_max=16777216",
            "ip netns add ext",
            "ip link add br0 type bridge",
            "ip link add veth-host type veth peer name veth-ext netns ext",
            "ip link set veth-host master br0 up",
            "ip -n ext addr add 10.0.0.2/24 dev veth-ext",
            "ip -n ext link set veth-ext up",
            "ip -n ext link set lo up",
            "ip netns exec ext sysctl -qw net.core.rmem_max=16777216",
            "ip link set br0 up",
            "sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
            "ip netns exec ext sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
            f"{VG} --ifname vtap0 --create-only",
            "ip link set vtap0 master br0 up",
        ]:
            sh(cmd)
        sh("iperf3 -s -D -B 127.0.0.1")
        self.sink = subprocess.Popen(
            ["ip", "netns", "exec", "ext", "python3", "-c", SINK],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.sink.stdout.readline().strip() == "ready"
        time.sleep(1)

    def sink_count(self):
        self.sink.stdin.write("x\n")
        self.sink.stdin.flush()
        return int(self.sink.stdout.readline())

    def setup(self, cfg, params=""):
        if cfg.startswith("vnacct"):
            sh(f"insmod {KO} {params}")
            self.loaded = True
            if cfg == "vnacct_s16":
                control("sample 16")
        elif cfg == "bpftrace":
            f = open(f"{OUT}/peer.out", "w")
            env = dict(os.environ, BPFTRACE_MAP_KEYS_MAX="65536")
            self.peer = subprocess.Popen(["bpftrace", PEER], stdout=f,
                                         stderr=subprocess.STDOUT, env=env)
            t0 = time.time()
            while time.time() - t0 < 180:
                if "Attaching" in open(f"{OUT}/peer.out").read():
                    break
                if self.peer.poll() is not None:
                    raise RuntimeError("bpftrace exited: " +
                                       open(f"{OUT}/peer.out").read())
                time.sleep(0.5)
            time.sleep(2)
            log(f"bpftrace attached after {time.time() - t0:.1f} s")

    def teardown(self):
        if self.loaded:
            sh("rmmod vnacct")
            self.loaded = False
        if self.peer:
            self.peer.send_signal(signal.SIGINT)
            self.peer.wait(timeout=120)
            self.peer = None

    # -- workloads: each returns (value, units)
    def lo_udp_pps(self):
        j = json.loads(sh(f"iperf3 -c 127.0.0.1 -u -l 16 -b 0 -t {SECS} "
                          f"--json", timeout=120))
        # the sender's rate: on loopback the sending CPU also runs the
        # receive path up to the socket queue (softirq on the way out);
        # what the overloaded reader gets depends on scheduling luck
        s = j["end"]["sum"]
        return s["packets"] / s["seconds"]

    def lo_tcp_bps(self):
        j = json.loads(sh(f"iperf3 -c 127.0.0.1 -t {SECS} --json",
                          timeout=120))
        return j["end"]["sum_received"]["bits_per_second"]

    def vhost(self, args):
        return json.loads(sh(
            f"{VG} --ifname vtap0 --mac 02:00:00:00:00:03 --ip 10.0.0.3/24 "
            f"--peer 10.0.0.2 {args} --tcp-port 5003 --udp-port 5001 "
            f"--timeout-ms 20000 --json", timeout=300))

    def vhost_tcp_Bps(self):
        r = self.vhost(f"--tcp {self.tcp_bytes}")
        return r["tcp_payload_bytes_acked"] / (r["duration_ns"] / 1e9)

    def vhost_udp_pps(self):
        self.sink_count()
        r = self.vhost(f"--udp {self.udp_n} --udp-size 18")
        time.sleep(0.5)
        return self.sink_count() / (r["duration_ns"] / 1e9)

    def calibrate(self):
        """Sizes the guest workloads so that each lasts about SECS."""
        r = self.vhost_tcp_Bps()
        self.tcp_bytes = max(1 << 20, int(r * SECS))
        r = self.vhost_udp_pps()
        self.udp_n = max(2000, int(r * SECS))
        log(f"calibrated: tcp {self.tcp_bytes} B, udp {self.udp_n} pkts")


def probe_ns(st):
    return sum(v["ns"] for v in st.values() if isinstance(v, dict))


def seen(st):
    return (st["packets_tracked"] + st["packets_sampled_out"] +
            st["packets_untracked"] + st["packets_midpath"])


def delta(a, b):
    out = {}
    for k, v in b.items():
        if isinstance(v, dict):
            out[k] = {"hits": v["hits"] - a[k]["hits"],
                      "ns": v["ns"] - a[k]["ns"]}
        else:
            out[k] = v - a.get(k, 0)
    return out


def main_matrix(env, res):
    for rep in range(REPS):
        order = CONFIGS[rep % 4:] + CONFIGS[:rep % 4]
        for cfg in order:
            env.setup(cfg)
            try:
                for w in WORKLOADS:
                    st0 = stats() if env.loaded else None
                    v = getattr(env, w)()
                    rec = {"rep": rep, "config": cfg, "workload": w,
                           "value": v}
                    if st0:
                        d = delta(st0, stats())
                        rec["probe_ns"] = probe_ns(d)
                        rec["packets_seen"] = seen(d)
                        rec["packets_tracked"] = d["packets_tracked"]
                        rec["hooks"] = {k: x for k, x in d.items()
                                        if isinstance(x, dict) and x["hits"]}
                        rec["lost"] = {k: d[k] for k in (
                            "packets_untracked", "packets_lost_stale",
                            "packets_lost_reused", "flows_full")}
                    res["runs"].append(rec)
                    log(f"rep {rep} {cfg:10s} {w:14s} {v:14.1f}")
            finally:
                env.teardown()
        with open(f"{OUT}/bench.json", "w") as f:
            json.dump(res, f)


SCALE_SEND = r'''
import socket, sys, time
n, secs = int(sys.argv[1]), float(sys.argv[2])
dst = [("127.%d.%d.%d" % (1 + (i >> 16), (i >> 8) & 255, i & 255), 7001)
       for i in range(1, n + 1)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 7002))
m = b"s" * 16
for d in dst:
    s.sendto(m, d)
sys.stdout.write("warm\n"); sys.stdout.flush()
sys.stdin.readline()
sent, i, end = 0, 0, time.monotonic() + secs
while True:
    for _ in range(256):
        s.sendto(m, dst[i]); i += 1
        if i == n:
            i = 0
    sent += 256
    if time.monotonic() >= end:
        break
print(sent / secs)
'''

SCALE_RECV = r'''
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
r.bind(("0.0.0.0", 7001))
while True:
    r.recv(64)
'''


def scale_point(n):
    recv = subprocess.Popen(["python3", "-c", SCALE_RECV])
    time.sleep(1)
    snd = subprocess.Popen(["python3", "-c", SCALE_SEND, str(n), str(SECS)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    assert snd.stdout.readline().strip() == "warm"
    time.sleep(0.5)
    return recv, snd


def scale(env, res):
    """Cost per packet against the number of concurrent flows: one UDP
    socket round-robin over n loopback destinations (127.x.y.z, each a
    flow), every flow created in a warm-up pass before the measurement."""
    maxf = 131072
    for cfg in ("none", "vnacct"):
        if cfg == "vnacct":
            sh(f"insmod {KO} max_flows={maxf} max_packets=65536")
        for n in SCALE:
            if cfg == "vnacct":
                control("reset")
            recv, snd = scale_point(n)
            st0 = stats() if cfg == "vnacct" else None
            snd.stdin.write("go\n")
            snd.stdin.flush()
            pps = float(snd.communicate(timeout=300)[0].split()[-1])
            rec = {"config": cfg, "flows": n, "pps": pps}
            if st0:
                st1 = stats()
                d = delta(st0, st1)
                rec["probe_ns"] = probe_ns(d)
                rec["packets_seen"] = seen(d)
                rec["flows_in_table"] = st1["flows"]
                rec["flows_full"] = d["flows_full"]
                rec["memory_bytes"] = st1["memory_bytes"]
            recv.kill()
            recv.wait()
            res["scale"].append(rec)
            log(f"scale {cfg} {n} flows: {pps:.0f} pps "
                f"{rec.get('probe_ns', 0) / max(rec.get('packets_seen', 1), 1):.0f} ns/pkt")
        if cfg == "vnacct":
            sh("rmmod vnacct")


def main():
    res = {"kernel": os.uname().release, "cpus": os.cpu_count(),
           "reps": REPS, "secs": SECS, "runs": [], "scale": []}
    sh("rmmod vnacct", check=False)
    env = Env()
    env.topology()
    t0 = time.time()
    env.calibrate()
    if REPS:
        main_matrix(env, res)
    res["matrix_s"] = time.time() - t0
    t1 = time.time()
    if SCALE:
        scale(env, res)
    res["scale_s"] = time.time() - t1
    with open(f"{OUT}/bench.json", "w") as f:
        json.dump(res, f)
    log(f"bench: matrix {res['matrix_s']:.0f} s, scale {res['scale_s']:.0f} s")


main()
