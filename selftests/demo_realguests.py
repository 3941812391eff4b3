#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make demo, inside the test VM: two real KVM guests on a bridge with a
real NIC to an external host (selftests/realguest.py), ping and iperf3
between them, then what vnacct measured: first one line per VM a person
reads at a glance, then the detailed tables."""

import json
import re
import time

import realguest as rg
from vnacct_util import sh, load, unload, table, stats, DBG

EXT = "10.0.0.2"
VMS = [("vm1", "tap0", "52:54:00:00:00:11", "10.0.0.11", "fd00::11"),
       ("vm2", "tap1", "52:54:00:00:00:12", "10.0.0.12", "fd00::12")]


def say(text):
    print(text, flush=True)


def merged_pcts(hists, ids, what, pcts=(50, 99)):
    """Percentiles of the union of several flows' histograms (upper bound
    of the bucket holding the rank: within one bucket's ~12 %)."""
    buckets = {}
    for h in hists:
        if h["id"] in ids and h["what"] == what:
            for b in h["buckets"]:
                m = re.match(r"(\d+)-(\d+):(\d+)", b)
                if m:
                    hi = int(m.group(2))
                    buckets[hi] = buckets.get(hi, 0) + int(m.group(3))
    total = sum(buckets.values())
    out = []
    for p in pcts:
        rank, acc, val = total * p / 100, 0, 0
        for hi in sorted(buckets):
            acc += buckets[hi]
            val = hi
            if acc >= rank:
                break
        out.append(val if total else None)
    return total, out


def ms(ns):
    return "-" if ns is None else f"{ns / 1e6:.2f} ms"


def summary(g, ping, flows, hists):
    tap = int(open(f"/sys/class/net/{g.tap}/ifindex").read())
    mine = [f for f in flows if f["ifindex"] == tap]
    rtts = sorted(ping[2])
    rtt50 = rtts[len(rtts) // 2] if rtts else None
    echo = [f for f in mine if f["dir"] == "from_guest" and
            f["proto"] == "icmp" and f["dst"] == EXT and f["drtt_n"]]
    host = echo[0]["drtt_p50_ns"] if echo else None
    share = (f" ({100 * host / rtt50:.0f} %)" if host and rtt50 else "")
    say(f"{g.name} ({g.tap}): ping RTT p50 {ms(rtt50)}, of which the host "
        f"added {ms(host)}{share}")
    for d in ("from_guest", "to_guest"):
        fl = [f for f in mine if f["dir"] == d]
        ids = {f["id"] for f in fl}
        n, (p50, p99) = merged_pcts(hists, ids, "total")
        nbytes = sum(f["bytes"] for f in fl)
        copied = sum(f["copy_in_B" if d == "from_guest" else "copy_out_B"]
                     for f in fl)
        cns = sum(f["copy_ns"] for f in fl)
        drops = sum(f["drops"] for f in fl)
        cost = f"{cns * 1024 / copied:.0f} ns/KiB" if copied else "-"
        say(f"    {d:10s} {n:6d} packets {nbytes:9d} B  host residency "
            f"p50 {ms(p50)} p99 {ms(p99)}  copy {copied} B at {cost}  "
            f"drops {drops}")


def main():
    why = rg.kvm_ready()
    if why:
        raise SystemExit(f"demo: real guests cannot run here: {why}")
    load()
    rg.host_topology()
    guests = [rg.Guest(*v) for v in VMS]
    t0 = time.time()
    try:
        for g in guests:
            say(f"== booting {g.name} (QEMU/KVM, vhost-net, Debian 6.12) "
                f"on {g.tap}")
            g.start()
            g.wait_ready()
        say(f"== guests up in {time.time() - t0:.0f} s")
        sh("ip netns exec ext iperf3 -s -D -p 5201")
        pings = {}
        for i, g in enumerate(guests):
            say(f"== {g.name}: ping {EXT} (external host, over the NIC), "
                f"iperf3 TCP both ways")
            pings[g.name] = rg.ping_stats(g.sh(
                f"/usr/bin/ping -c 20 -i 0.05 -e {11 + i} {EXT}"))
            for rev in ("", "-R"):
                r = json.loads(g.sh(f"iperf3 -c {EXT} -J -n 1M {rev}",
                                    timeout=300))
                # What the guest sent, or what it received.
                s = r["end"]["sum_received" if rev else "sum_sent"]
                say(f"   iperf3 {'to' if rev else 'from'} the guest: "
                    f"{s['bytes']} B at "
                    f"{s['bits_per_second'] / 1e6:.0f} Mbit/s")
        say(f"== {guests[0].name} -> {guests[1].name}: ping through the "
            f"bridge")
        say(guests[0].sh(f"/usr/bin/ping -c 10 -i 0.05 -q {guests[1].ip}")
            .strip().splitlines()[-1])
        time.sleep(1)
        flows, hists = table("flows"), table("histograms")
        say("")
        say("== per VM (TCG emulation: times are not hardware times)")
        for g in guests:
            summary(g, pings[g.name], flows, hists)
        say("")
        say("== /sys/kernel/debug/vnacct/flows (the guests' flows with "
            "packets; times in ns)")
        cols = ("id", "ifindex", "dir", "proto", "src", "sport", "dst",
                "dport", "packets", "bytes", "gso_pkts", "copy_in_B",
                "copy_out_B", "res_p50_ns", "res_p99_ns", "drtt_n",
                "drtt_p50_ns")
        taps = {int(open(f"/sys/class/net/{g.tap}/ifindex").read())
                for g in guests}
        rows = [f for f in flows if f["ifindex"] in taps and f["packets"] and
                f["proto"] in ("icmp", "tcp", "udp")]
        rows.sort(key=lambda f: -f["bytes"])
        say(" ".join(f"{c:>10s}" for c in cols))
        for f in rows[:16]:
            say(" ".join(f"{str(f[c]):>10s}" for c in cols))
        say("")
        say("== stages of the echo flows (ns)")
        ids = {f["id"] for f in rows if f["proto"] == "icmp"}
        with open(f"{DBG}/stages") as fh:
            lines = fh.read().splitlines()
        say(lines[0])
        for line in lines[1:]:
            if int(line.split()[0]) in ids:
                say(line)
        st = stats()
        say("")
        say(f"== module: {st['packets_tracked']} packets followed, "
            f"{st['flows']} flows, {st['memory_bytes']} B of memory")
    finally:
        for g in guests:
            g.stop()
        sh("pkill iperf3", check=False)
    unload()


main()
