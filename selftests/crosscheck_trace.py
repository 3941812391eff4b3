#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vnacct against an independent reference: trace-cmd recording the same
tracepoints over the same window, read back by userspace/vnacct-tracecheck
(libtracecmd), which follows each skb by its address.

Workloads (quiet VM, one flow each, distinctive packet sizes so the trace's
skb lengths pick the flow's packets out of ARP and the like):
  * loopback UDP, 127.0.0.1:7002 -> :7001, N datagrams of 100 bytes;
  * a tap guest pinging an external namespace through br0 and a veth pair
    (topology of flows_guest.py), echo payload 333 bytes.

Stages compared, where both see the same two tracepoints on one skb:
  qdisc   net_dev_queue -> net_dev_start_xmit  (lo; veth-host for the
          guest's requests; tap0 for the replies)
  backlog netif_rx -> netif_receive_skb        (lo; veth-host for replies)

Checks and tolerances:
  * packet counts: equal, exactly (and trace-cmd lost no event).
  * mean residency: |vnacct - trace| <= c(A) + c(B) + 5 % of the trace mean,
    where c(H) is vnacct's own mean probe cost at hook H over the window
    (its `stats`).  Both probes sit on the same tracepoints; vnacct's,
    registered first, takes its timestamp at its start and then does its
    work (tracker, flow key) before ftrace takes its own, so each boundary
    of a trace-cmd interval is displaced by at most vnacct's probe time
    there; the 5 % covers trace-cmd's event write, which falls inside both
    intervals but not always at the same point, and clock differences
    (ktime vs trace clock) are ppm.  Plus |max(vnacct) - max(trace)| / n:
    on a shared host a vCPU can be descheduled between vnacct's timestamp
    and ftrace's, displacing one packet by milliseconds (seen on 6.1: a
    9.3 ms maximum against 2.4 ms); the two maxima show that packet.
  * the same displacement seen on the fastest packet: off = min(vnacct) -
    min(trace) (both exact: vnacct keeps its minimum outside the
    histogram) within c(A) + c(B).
  * percentiles p50, p90: |p_vnacct - p_trace| <= 12.5 % of p_trace (the
    histogram's bucket error) + c(A) + c(B) (the displacement above: it is
    not a constant shift, vnacct's work after its timestamp varies from
    packet to packet, under TCG by more than the bucket width).  (p99 of a
    few hundred packets is one or two samples: printed, not checked.)
Stages inside the external namespace are left out: there the first hook
is a namespace crossing at which vnacct's probe also closes the previous
hop's accounting, far more than its mean cost.
"""

import json
import os
import subprocess
import time

from vnacct_util import (Tap, sh, load, unload, table, stats, control,
                         find_flows, host_topology, BIN)

TAP = Tap()
KASAN = os.path.exists("/sys/kernel/debug/kasan") or "kasan" in open(
    "/proc/cmdline").read()
t = TAP


class Pending:
    """Holds one attempt's checks until it is known whether it is kept."""

    def __init__(self):
        self.lines = []

    def ok(self, cond, text):
        self.lines.append(("ok", bool(cond), text))
        return cond

    def eq(self, got, want, text):
        return self.ok(got == want, f"{text}: got {got}, expected {want}")

    def diag(self, text):
        self.lines.append(("diag", True, text))

    def skip(self, text, why):
        self.lines.append(("skip", why, text))

    def failed(self):
        return [x for kind, ok, x in self.lines if kind == "ok" and not ok]


def attempt(block):
    """Runs a measurement window's checks; a window that fails is measured
    once more and judged on that second window alone.  Timing on a shared
    host: a vCPU descheduled between vnacct's and ftrace's timestamps
    displaces packets by milliseconds, and under heavy load more than the
    one outlier the mean tolerance allows for.  The first window's failures
    stay in the output as diagnostics; a second failure fails the test."""
    global t
    for n in (1, 2):
        t = Pending()
        block()
        pending, t = t, TAP
        if not pending.failed() or n == 2:
            break
        for x in pending.failed():
            t.diag(f"first window, not kept: {x}")
    for kind, ok, text in pending.lines:
        if kind == "ok":
            t.ok(ok, text)
        elif kind == "skip":
            t.skip(text, ok)
        else:
            t.diag(text)
TOOL = os.path.join(BIN, "vnacct-tracecheck")
WORK = "/dev/shm/vnacct-xtrace"
EVENTS = ["net:net_dev_queue", "net:net_dev_start_xmit", "net:netif_rx",
          "net:netif_receive_skb", "skb:consume_skb", "skb:kfree_skb",
          "skb:skb_copy_datagram_iovec"]
HOOKS = {"qdisc": ("net_dev_queue", "net_dev_start_xmit"),
         "backlog": ("netif_rx", "netif_receive_skb")}
N_UDP, UDP_LEN = 300, 100
N_PING, PING_LEN = 50, 333
TAPG = f"{BIN}/vnacct-tapguest"

LOOP_UDP = f"""
import socket
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 7001))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.bind(("127.0.0.1", 7002))
for i in range({N_UDP}):
    tx.sendto(b"q" * {UDP_LEN}, ("127.0.0.1", 7001))
    rx.recv(4096)
"""


def topology():
    host_topology(["tap0"], ext_ipv6=False)


def window(name, workload):
    """Resets vnacct, records the tracepoints around workload(), and returns
    (vnacct stages and flows, vnacct probe costs, the trace's per-stage figures)."""
    dat = f"{WORK}/" + name.replace(" ", "_") + ".dat"
    t.eq(control("reset"), 0, f"{name}: control reset")
    st0 = stats()
    ev = " ".join(f"-e {e}" for e in EVENTS)
    sh(f"trace-cmd start -b 8192 {ev}")
    try:
        workload()
    finally:
        sh("trace-cmd stop")
    time.sleep(0.3)
    stages = table("stages")
    flows = table("flows")
    st1 = stats()
    sh(f"cd {WORK} && trace-cmd extract -o {dat}")
    sh("trace-cmd reset", check=False)
    ref = json.loads(sh(f"{TOOL} {dat}"))
    t.eq(ref["missed_events"], 0, f"{name}: trace-cmd lost no event")
    cost = {}
    for h in set(sum(HOOKS.values(), ())):
        hits = st1[h]["hits"] - st0[h]["hits"]
        cost[h] = (st1[h]["ns"] - st0[h]["ns"]) / hits if hits else 0
    return stages, flows, cost, ref


def compare(name, flow, stage, ref, dev, length, stages, cost):
    what = f"{name}: {stage} on {dev}"
    v = [s for s in stages if flow and s["id"] == flow["id"] and
         s["stage"] == stage]
    r = [s for s in ref["stages"] if s["stage"] == stage and
         s["dev"] == dev and s["len"] == length]
    if not t.ok(len(v) == 1 and len(r) == 1,
                f"{what}: seen by vnacct ({len(v)}) and in the trace "
                f"({len(r)})"):
        return
    v, r = v[0], r[0]
    t.eq(v["packets"], r["count"], f"{what}: packets, vnacct vs trace-cmd")
    if KASAN:
        # KASAN instruments vnacct's probes (the tracker, the flow key
        # parser) several-fold and unevenly: the time between vnacct's and
        # ftrace's timestamps is no longer bounded by the mean probe cost.
        t.skip(f"{what}: residency mean, minimum and percentiles",
               "timing is not comparable on a KASAN kernel")
        return
    a, b = HOOKS[stage]
    slack = cost[a] + cost[b]
    vmean = v["res_sum_ns"] / v["packets"]
    outlier = abs(v["res_max_ns"] - r["max_ns"]) / r["count"]
    t.ok(abs(vmean - r["mean_ns"]) <= slack + 0.05 * r["mean_ns"] + outlier,
         f"{what}: mean residency vnacct {vmean:.0f} ns, trace-cmd "
         f"{r['mean_ns']:.0f} ns, within probe costs {cost[a]:.0f} + "
         f"{cost[b]:.0f} ns + 5 % + |max difference| / n {outlier:.0f} ns")
    off = v["res_min_ns"] - r["min_ns"]
    t.ok(abs(off) <= slack,
         f"{what}: shift min(vnacct) - min(trace) = {off} ns, within the "
         f"probe costs ({slack:.0f} ns)")
    for p in ("p50", "p90"):
        want = r[f"{p}_ns"]
        got = v[f"res_{p}_ns"]
        t.ok(abs(got - want) <= 0.125 * want + slack,
             f"{what}: {p} vnacct {got} ns vs trace-cmd {want} ns, within "
             f"12.5 % + the probe costs ({0.125 * want + slack:.0f} ns)")
    t.diag(f"{what}: p99 vnacct {v['res_p99_ns']} trace {r['p99_ns']}; "
           f"max vnacct {v['res_max_ns']} trace {r['max_ns']}")


def main():
    if not os.access(TOOL, os.X_OK):
        print(f"1..0 # SKIP {TOOL} not built (needs libtracecmd-dev)")
        return
    sh(f"rm -rf {WORK}; mkdir -p {WORK}")
    sh("trace-cmd reset", check=False)
    # idle flows must outlive trace-cmd's extract on a slow, shared host
    load("flow_timeout=3600")

    host = int(sh("readlink /proc/self/ns/net").strip()[5:-1])

    def loopback():
        stages, flows, cost, ref = window(
            "loopback udp",
            lambda: subprocess.run(["python3", "-c", LOOP_UDP], check=True))
        f = find_flows(flows, dir="local", proto="udp",
                       src="127.0.0.1", sport=7002, dport=7001, netns=host)
        t.ok(len(f) == 1 and f[0]["packets"] == N_UDP,
             f"loopback udp: one flow of {N_UDP} packets "
             f"({[x['packets'] for x in f]})")
        f = f[0] if f else None
        compare("loopback udp", f, "qdisc", ref, "lo", 14 + 28 + UDP_LEN,
                stages, cost)
        compare("loopback udp", f, "backlog", ref, "lo", 28 + UDP_LEN,
                stages, cost)

    attempt(loopback)

    topology()
    # ARP both ways first, so the window holds the echo exchange alone
    # (the guest still resolves its peer: its ARP has other sizes).
    sh(f"{TAPG} --ifname tap0 --mac 02:00:00:00:00:01 --ip 10.0.0.1/24 "
       f"--peer 10.0.0.2 --ping 1 --timeout-ms 5000")
    rep = {}

    def ping():
        out = sh(f"{TAPG} --ifname tap0 --mac 02:00:00:00:00:01 "
                 f"--ip 10.0.0.1/24 --peer 10.0.0.2 --ping {N_PING} "
                 f"--ping-size {PING_LEN} --interval-ms 5 --json")
        rep.update(json.loads(out))

    def guest_ping():
        stages, rows, cost, ref = window("tap guest ping", ping)
        t.eq(rep["ping"]["received"], N_PING, "tap guest ping: every reply")
        ip_len = 28 + PING_LEN
        fg = find_flows(rows, dir="from_guest", proto="icmp",
                        src="10.0.0.1", dst="10.0.0.2",
                        sport=rep["ping"]["id"])
        tg = find_flows(rows, dir="to_guest", proto="icmp", src="10.0.0.2",
                        dst="10.0.0.1", sport=rep["ping"]["id"])
        t.ok(len(fg) == 1 and len(tg) == 1,
             f"tap guest ping: one from_guest and one to_guest echo flow "
             f"({len(fg)}, {len(tg)})")
        fg = fg[0] if fg else None
        tg = tg[0] if tg else None
        compare("requests", fg, "qdisc", ref, "veth-host", 14 + ip_len,
                stages, cost)
        compare("replies", tg, "backlog", ref, "veth-host", ip_len,
                stages, cost)
        compare("replies", tg, "qdisc", ref, "tap0", 14 + ip_len, stages,
                cost)

    attempt(guest_ping)

    sh("ip link del tap0; ip link del br0; ip netns del ext", check=False)
    sh(f"rm -rf {WORK}")
    unload()
    TAP.done()


main()
