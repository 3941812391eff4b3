#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vnacct benchmark, the part that runs inside the VM (scripts/bench.sh
boots it).  Four workloads under four configurations, in interleaved
repetitions (the configuration order rotates every repetition), then the
scale tables: cost against concurrent flows (scale()) and against packet
rate (rates()).  Writes $VNACCT_OUT/bench.json; timings only (no pass/fail).

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
SCALE_REPS = int(os.environ.get("BENCH_SCALE_REPS", "2"))
RATES = [int(x) for x in os.environ.get("BENCH_RATES",
                                        "300 1000 3000").split()]
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


SCALE_SEND = r"""
import socket, sys, time
n = int(sys.argv[1])
dst = [("127.%d.%d.%d" % (1 + (i >> 16), (i >> 8) & 255, i & 255), 7001)
       for i in range(1, n + 1)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 7002))
m = b"s" * 16
print("ready", flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "warm":
        for d in dst:
            s.sendto(m, d)
        print("ok", flush=True)
        continue
    secs, rate = float(cmd[1]), float(cmd[2])
    sent, i = 0, 0
    t0 = time.monotonic()
    end = t0 + secs
    while True:
        now = time.monotonic()
        if now >= end:
            break
        # paced: catch up with rate * elapsed, then sleep 2 ms; rate 0:
        # as fast as the socket takes them
        todo = 256 if rate == 0 else int((now - t0) * rate) - sent
        if todo <= 0:
            time.sleep(0.002)
            continue
        for _ in range(todo):
            s.sendto(m, dst[i])
            i += 1
            if i == n:
                i = 0
        sent += todo
    print(sent, time.monotonic() - t0, flush=True)
"""

SCALE_RECV = r"""
import socket, sys, threading
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
r.bind(("0.0.0.0", 7001))
lock = threading.Lock()
n = [0]
def rd():
    while True:
        r.recv(64)
        with lock:
            n[0] += 1
threading.Thread(target=rd, daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    with lock:
        print(n[0], flush=True)
"""

SCALE_MAX_FLOWS = 131072


class Gen:
    """One loopback UDP sender (16-byte datagrams round-robin over n
    destinations 127.x.y.z:7001, one flow each) and one reader, kept
    across configurations so that only the module changes."""

    def __init__(self, n):
        self.recv = subprocess.Popen(["python3", "-c", SCALE_RECV],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.snd = subprocess.Popen(["python3", "-c", SCALE_SEND, str(n)],
                                    stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        assert self.recv.stdout.readline().strip() == "ready"
        assert self.snd.stdout.readline().strip() == "ready"

    def cmd(self, p, line):
        p.stdin.write(line + "\n")
        p.stdin.flush()
        return p.stdout.readline().split()

    def warm(self):
        """Creates every flow (a record is made at a flow's first exit)."""
        self.cmd(self.snd, "warm")
        time.sleep(0.5)

    def run(self, secs, rate=0):
        """Returns (sent, received, seconds)."""
        r0 = int(self.cmd(self.recv, "x")[0])
        sent, el = self.cmd(self.snd, f"run {secs} {rate}")
        time.sleep(0.3)
        return int(sent), int(self.cmd(self.recv, "x")[0]) - r0, float(el)

    def close(self):
        for p in (self.snd, self.recv):
            p.kill()
            p.wait()


def cpu_busy():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def measure(gen, cfg, secs, rate=0):
    st0 = stats() if cfg == "vnacct" else None
    c0 = cpu_busy()
    sent, got, el = gen.run(secs, rate)
    c1 = cpu_busy()
    hz = os.sysconf("SC_CLK_TCK")
    busy_s = (c1[0] - c0[0]) / hz
    rec = {"config": cfg, "sent": sent, "received": got, "seconds": el,
           "pps": sent / el, "rate": rate,
           "cpu_busy_s": busy_s,
           "cpu_util": (c1[0] - c0[0]) / max(c1[1] - c0[1], 1),
           "cpu_ns_per_pkt": busy_s * 1e9 / max(sent, 1)}
    if st0:
        st1 = stats()
        d = delta(st0, st1)
        rec["probe_ns"] = probe_ns(d)
        rec["packets_seen"] = seen(d)
        rec["flows_in_table"] = st1["flows"]
        rec["flows_full"] = d["flows_full"]
        rec["memory_bytes"] = st1["memory_bytes"]
        rec["flows_max"] = st1["flows_max"]
    return rec


def insmod(params):
    t0 = time.time()
    sh(f"insmod {KO} {params}")
    return time.time() - t0


def scale(res):
    """Cost against the number of concurrent flows: for each n, the same
    sender and reader run without the module and with it (loaded with
    max_flows=131072 and every flow created by a warm-up pass), in
    SCALE_REPS interleaved repetitions at full speed."""
    for n in SCALE:
        gen = Gen(n)
        try:
            for rep in range(SCALE_REPS):
                order = ["none", "vnacct"][::1 if rep % 2 == 0 else -1]
                for cfg in order:
                    if cfg == "vnacct":
                        lt = insmod(f"max_flows={SCALE_MAX_FLOWS} "
                                    f"max_packets=65536")
                        t0 = time.time()
                        gen.warm()
                        wt = time.time() - t0
                    rec = measure(gen, cfg, SECS)
                    rec.update(flows=n, rep=rep)
                    if cfg == "vnacct":
                        rec.update(load_s=lt, warm_s=wt)
                        if n <= 2 and rep == 0:
                            rec["flows_file"] = open(
                                "/sys/kernel/debug/vnacct/flows").read()
                            log(rec["flows_file"])
                        sh("rmmod vnacct")
                    res["scale"].append(rec)
                    npp = rec.get("probe_ns", 0) / max(
                        rec.get("packets_seen", 1), 1)
                    log(f"scale {n} flows rep {rep} {cfg}: {rec['pps']:.0f} "
                        f"pps, received {rec['received']}, {npp:.0f} ns/pkt")
        finally:
            gen.close()


def rates(res):
    """Cost against packet rate: a paced sender (RATES pkt/s, 100 flows)
    without and with the module (default parameters), interleaved: the
    module's own ns/pkt and its share of a CPU, and the CPU time the VM
    spent per packet (all CPUs, /proc/stat) in each configuration."""
    gen = Gen(100)
    try:
        for rep in range(SCALE_REPS):
            for rate in RATES:
                order = ["none", "vnacct"][::1 if rep % 2 == 0 else -1]
                for cfg in order:
                    if cfg == "vnacct":
                        insmod("")
                        gen.warm()
                    rec = measure(gen, cfg, SECS, rate)
                    rec.update(rep=rep, flows=100)
                    if cfg == "vnacct":
                        sh("rmmod vnacct")
                    res["rates"].append(rec)
                    npp = rec.get("probe_ns", 0) / max(
                        rec.get("packets_seen", 1), 1)
                    log(f"rate {rate} rep {rep} {cfg}: {rec['pps']:.0f} pps"
                        f", cpu {100 * rec['cpu_util']:.1f} %, "
                        f"{rec['cpu_ns_per_pkt']:.0f} cpu ns/pkt, "
                        f"{npp:.0f} probe ns/pkt")
    finally:
        gen.close()


def main():
    res = {"kernel": os.uname().release, "cpus": os.cpu_count(),
           "reps": REPS, "secs": SECS, "scale_reps": SCALE_REPS,
           "runs": [], "scale": [], "rates": []}
    sh("rmmod vnacct", check=False)
    env = Env()
    env.topology()
    t0 = time.time()
    if REPS:
        env.calibrate()
        main_matrix(env, res)
    res["matrix_s"] = time.time() - t0
    t1 = time.time()
    if SCALE:
        scale(res)
    res["scale_s"] = time.time() - t1
    t2 = time.time()
    if RATES:
        rates(res)
    res["rates_s"] = time.time() - t2
    with open(f"{OUT}/bench.json", "w") as f:
        json.dump(res, f)
    log(f"bench: matrix {res['matrix_s']:.0f} s, scale {res['scale_s']:.0f} "
        f"s, rates {res['rates_s']:.0f} s")


main()
