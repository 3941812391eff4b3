#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vnacct against the traffic tools' own counts: a guest's ping.
(iperf3's byte counts: selftests/crosscheck_iperf.py.)

* a tap guest pinging an external namespace through a bridge and veth:
  one delta-RTT sample per echo; the guest's RTT (its own per-echo rtt_ns)
  minus vnacct's delta-RTT is the wire RTT, which must be positive; and
  delta-RTT, by definition the host residency of the request plus that of
  the reply, must match the two flows' measured host residencies (sums of
  their "total" histograms) within 12.5 % (the two are read at different
  hooks' timestamps only where an exchange's edges are matched), and
  the guest's RTT distribution must sit above delta-RTT's: max and p50.
"""

import json
import time

from vnacct_util import (Tap, sh, load, unload, table, control, find_flows,
                         host_topology, BIN)

t = Tap()
TAPG = f"{BIN}/vnacct-tapguest"
N_PING = 30


def ping():
    host_topology(["tap0"], ext_ipv6=False)
    control("reset")
    rep = json.loads(sh(f"{TAPG} --ifname tap0 --mac 02:00:00:00:00:01 "
                        f"--ip 10.0.0.1/24 --peer 10.0.0.2 --ping {N_PING} "
                        f"--interval-ms 10 --json"))
    time.sleep(0.5)
    p = rep["ping"]
    rtts = [r for r in p["rtt_ns"] if r > 0]
    t.eq(p["received"], N_PING, "ping: the guest got every reply")
    rows = table("flows")
    hists = table("histograms")
    fg = find_flows(rows, dir="from_guest", proto="icmp", src="10.0.0.1",
                    sport=p["id"])
    tg = find_flows(rows, dir="to_guest", proto="icmp", dst="10.0.0.1",
                    sport=p["id"])
    if not t.ok(len(fg) == 1 and len(tg) == 1, "ping: request and reply "
                "flows"):
        return

    def hist(f, what):
        h = [x for x in hists if x["id"] == f["id"] and x["what"] == what]
        return h[0] if h else None

    d = hist(fg[0], "drtt")
    req, rpl = hist(fg[0], "total"), hist(tg[0], "total")
    if not t.ok(d is not None and req and rpl, "ping: delta-RTT and "
                "residency histograms"):
        return
    t.eq(d["count"], len(rtts), "ping: one delta-RTT per echo exchange")
    g_mean = sum(rtts) / len(rtts)
    d_mean = d["sum_ns"] / d["count"]
    wire = g_mean - d_mean
    host = (req["sum_ns"] + rpl["sum_ns"]) / N_PING
    srt = sorted(rtts)
    t.diag(f"ping: guest RTT mean {g_mean:.0f} ns p50 "
           f"{srt[len(srt) // 2]} ns; delta-RTT mean {d_mean:.0f} ns p50 "
           f"{d['p50_ns']} ns; wire RTT (guest - delta) mean {wire:.0f} ns;"
           f" request + reply residency mean {host:.0f} ns")
    t.ok(0 < d_mean < g_mean and wire > 0,
         f"ping: 0 < delta-RTT ({d_mean:.0f} ns) < guest RTT "
         f"({g_mean:.0f} ns): wire RTT {wire:.0f} ns > 0")
    t.ok(d["max_ns"] < max(rtts) and d["p50_ns"] < srt[len(srt) // 2] *
         1.125, "ping: delta-RTT max and p50 below the guest's")
    t.ok(abs(d_mean - host) <= 0.125 * host,
         f"ping: delta-RTT mean {d_mean:.0f} ns = request + reply host "
         f"residency {host:.0f} ns within 12.5 %")
    sh("ip link del tap0; ip link del br0; ip netns del ext", check=False)


def main():
    load()
    ping()
    unload()
    t.done()


main()
