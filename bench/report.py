#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns bench/run_vm.py's bench.json into medians, ratios to the
no-module baseline, the issue's targets, a Markdown table, the RST page
Documentation/bench.rst and a PNG plot.

usage: report.py BENCH.JSON OUTDIR [--rst FILE] [--machine TEXT] [--date TEXT]
"""

import json
import os
import statistics
import sys
import textwrap
import time

CONFIGS = ["none", "vnacct", "vnacct_s16", "bpftrace"]
WORKLOADS = {
    "lo_udp_pps": ("loopback UDP, 16 B datagrams", "pkt/s", 1),
    "lo_tcp_bps": ("loopback TCP (iperf3)", "Mbit/s", 1e-6),
    "vhost_tcp_Bps": ("vhost-net guest -> br -> veth TCP", "MB/s", 1e-6),
    "vhost_udp_pps": ("vhost-net guest -> br -> veth UDP 18 B", "pkt/s", 1),
}


def summarize(res):
    out = {}
    for w in WORKLOADS:
        out[w] = {}
        for c in CONFIGS:
            runs = [r for r in res["runs"] if r["workload"] == w and
                    r["config"] == c]
            if not runs:
                continue
            d = {"median": statistics.median(r["value"] for r in runs),
                 "values": [r["value"] for r in runs]}
            npp = [r["probe_ns"] / r["packets_seen"] for r in runs
                   if r.get("packets_seen")]
            if npp:
                d["ns_per_pkt"] = statistics.median(npp)
            out[w][c] = d
        base = out[w].get("none", {}).get("median")
        for c, d in out[w].items():
            d["ratio"] = d["median"] / base if base else None
    return out


def hooks(res, cfg="vnacct", workload=None):
    tot = {}
    for r in res["runs"]:
        if r["config"] != cfg or workload and r["workload"] != workload:
            continue
        for k, v in r.get("hooks", {}).items():
            t = tot.setdefault(k, [0, 0])
            t[0] += v["hits"]
            t[1] += v["ns"]
    allns = sum(v[1] for v in tot.values()) or 1
    return sorted(((k, v[0], v[1], v[1] / allns) for k, v in tot.items()),
                  key=lambda x: -x[2])


def targets(s):
    def loss(w, c):
        r = s[w].get(c, {}).get("ratio")
        return None if r is None else 1 - r
    t = []
    u = s["lo_udp_pps"].get("vnacct", {}).get("ratio")
    t.append(("loopback UDP pkt rate, vnacct all stages >= 95 % of none",
              u, u is not None and u >= 0.95))
    c = s["lo_tcp_bps"].get("vnacct", {}).get("ratio")
    t.append(("loopback TCP throughput, vnacct all stages >= 97 % of none",
              c, c is not None and c >= 0.97))
    for w in WORKLOADS:
        lv, lb = loss(w, "vnacct"), loss(w, "bpftrace")
        ok = lv is not None and lb is not None and (
            lv <= max(lb, 0) / 3 or lv <= 0)
        t.append((f"{w}: vnacct loss <= 1/3 of bpftrace's "
                  f"({fmt_pct(lv)} vs {fmt_pct(lb)})",
                  None if lv is None else lv, ok))
    return t


def fmt_pct(x):
    return "-" if x is None else f"{100 * x:.1f} %"


def fmt_val(w, v):
    scale = WORKLOADS[w][2]
    v = v * scale
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}"


def table_rows(s):
    rows = []
    for w, (desc, unit, _) in WORKLOADS.items():
        row = [f"{desc} ({unit})"]
        for c in CONFIGS:
            d = s[w].get(c)
            if not d:
                row.append("-")
                continue
            cell = fmt_val(w, d["median"])
            if c != "none":
                cell += f" ({100 * d['ratio']:.1f} %)"
            row.append(cell)
        vals = s[w].get("none", {}).get("values") or [0]
        row.append(f"{max(vals) / min(vals):.2f}" if min(vals) else "-")
        npp = [s[w].get(c, {}).get("ns_per_pkt") for c in
               ("vnacct", "vnacct_s16")]
        row.append(" / ".join("-" if x is None else f"{x:,.0f}"
                              for x in npp))
        rows.append(row)
    return rows


HEAD = ["workload", "no module", "vnacct all stages", "vnacct sample 16",
        "bpftrace peer", "no-module max/min", "vnacct ns/pkt (all / 1:16)"]
SHEAD = ["flows", "pkt/s no module", "pkt/s vnacct", "ratio",
         "max/min (none / vnacct)",
         "read/sent (none / vnacct)", "vnacct ns/pkt",
         "VM CPU ns/pkt (none / vnacct)", "flows in table", "memory_bytes",
         "flows_full"]
RHEAD = ["paced pkt/s", "sent pkt/s (none / vnacct)",
         "VM CPU busy (none / vnacct)", "VM CPU ns/pkt (none / vnacct)",
         "extra ns/pkt", "vnacct ns/pkt", "vnacct CPU"]


def med(recs, key):
    v = [key(r) for r in recs]
    return statistics.median(v) if v else None


def npp(r):
    return r["probe_ns"] / max(r["packets_seen"], 1)


def pairs(recs, key):
    """(value of key, no-module records, vnacct records) per key value."""
    for k in sorted({r[key] for r in recs}):
        b = [r for r in recs if r[key] == k and r["config"] == "none"]
        v = [r for r in recs if r[key] == k and r["config"] == "vnacct"]
        if b and v:
            yield k, b, v


def spread(recs):
    v = [r["pps"] for r in recs]
    return max(v) / min(v) if min(v) else 0


def scale_rows(res):
    rows = []
    for n, b, v in pairs(res.get("scale", []), "flows"):
        bp, vp = med(b, lambda r: r["pps"]), med(v, lambda r: r["pps"])

        def rd(x):
            return med(x, lambda r: r.get("received", 0) / max(r["sent"],
                                                               1))
        rows.append([
            f"{n:,}", f"{bp:,.0f}", f"{vp:,.0f}", f"{100 * vp / bp:.1f} %",
            f"{spread(b):.2f} / {spread(v):.2f}",
            f"{100 * rd(b):.0f} % / {100 * rd(v):.0f} %",
            f"{med(v, npp):,.0f}",
            f"{med(b, lambda r: r.get('cpu_ns_per_pkt', 0)):,.0f} / "
            f"{med(v, lambda r: r.get('cpu_ns_per_pkt', 0)):,.0f}",
            f"{max(r['flows_in_table'] for r in v):,}",
            f"{v[0]['memory_bytes'] / 2**20:,.0f} MiB",
            f"{sum(r['flows_full'] for r in v):,}"])
    return rows


def rate_rows(res):
    rows = []
    for rate, b, v in pairs(res.get("rates", []), "rate"):
        cb = med(b, lambda r: r["cpu_ns_per_pkt"])
        cv = med(v, lambda r: r["cpu_ns_per_pkt"])
        rows.append([
            f"{rate:,}",
            f"{med(b, lambda r: r['pps']):,.0f} / "
            f"{med(v, lambda r: r['pps']):,.0f}",
            f"{100 * med(b, lambda r: r['cpu_util']):.1f} % / "
            f"{100 * med(v, lambda r: r['cpu_util']):.1f} %",
            f"{cb:,.0f} / {cv:,.0f}", f"{cv - cb:+,.0f}",
            f"{med(v, npp):,.0f}",
            f"{100 * med(v, lambda r: r['probe_ns'] / r['seconds'] / 1e9):.1f}"
            " %"])
    return rows


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join(" --- " for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def rst_table(head, rows):
    w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    sep = "  ".join("=" * n for n in w)
    line = lambda r: "  ".join(str(x).ljust(n) for x, n in zip(r, w)).rstrip()
    return "\n".join([sep, line(head), sep] + [line(r) for r in rows] +
                     [sep])


def plot(res, s, png):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    ws = list(WORKLOADS)
    width = 0.2
    for i, c in enumerate(CONFIGS):
        vals = [100 * (s[w].get(c, {}).get("ratio") or 0) for w in ws]
        a.bar([x + (i - 1.5) * width for x in range(len(ws))], vals, width,
              label=c)
    a.axhline(95, color="grey", lw=0.8, ls="--")
    a.set_xticks(range(len(ws)))
    a.set_xticklabels([w.replace("_", "\n", 1) for w in ws], fontsize=8)
    a.set_ylabel("% of no-module median")
    a.set_title("throughput / packet rate vs no module")
    a.legend(fontsize=8, loc="lower left")
    sc = [r for r in res["scale"] if r["config"] == "vnacct"]
    if sc:
        xs = sorted({r["flows"] for r in sc})
        b.plot(xs, [med([r for r in sc if r["flows"] == n], npp)
                    for n in xs], "o-", label="vs concurrent flows")
        b.set_xscale("log")
        b.set_xlabel("concurrent flows (full speed)")
        b.set_ylabel("vnacct probe ns per packet")
        b.set_title("cost per packet vs flows")
        b.set_ylim(bottom=0)
    fig.suptitle(f"vnacct bench, {res['kernel']}, {res['cpus']} vCPUs "
                 f"(QEMU TCG: ratios only)", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    return True


def profile_rst(path):
    """The section on ``make profile``'s last run, if there is one."""
    if not os.path.exists(path):
        return ""
    none, mod = json.load(open(path))
    date = none.get("date") or time.strftime(
        "%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(path)))
    groups = ", ".join(f"{g} {p:.1f} %" for g, p in sorted(
        mod["groups"].items(), key=lambda x: -x[1]))

    pd = mod["per_datagram"]
    busy, ours = pd["busy_ns"], pd["vnacct_ns"]
    rows = [[f"{d:+,.0f}", sym] for d, sym, _ in pd["growth"][:12]]
    para = textwrap.fill(
        f"``scripts/profile.sh``, ``bench/profile_vm.py``, run {date}: "
        f"loopback UDP (16 B datagrams, iperf3 -b 0) for "
        f"{none.get('secs', 8):g} s under ``perf record -a -e cpu-clock``, "
        f"without and with the module (all stages).  Rates under perf: "
        f"{none['pps']:,.0f} and {mod['pps']:,.0f} datagrams/s "
        f"({100 * mod['pps'] / none['pps']:.1f} %).  Busy CPU time per "
        f"datagram (samples outside the idle loop, times the CPUs, over the "
        f"datagrams): {busy[0]:,.0f} ns without the module, "
        f"{busy[1]:,.0f} ns with it, of which {ours:,.0f} ns in vnacct's "
        f"own functions.  Self time of all samples with the module: "
        f"{groups}.  The symbols whose time per datagram grew most:", 76)
    note = textwrap.fill(
        "Under TCG a sample lands where QEMU delivers the timer interrupt, "
        "at the end of a translated block, so time shifts between "
        "neighbouring symbols: ``ktime_get`` here stands for the clock "
        "reads plus whatever precedes them (a clock read costs about "
        "110 ns in a tight loop in this VM).  The ratio under perf varies "
        "by up to 30 points from run to run on the shared host (55.5 to "
        "85.5 % in five runs on 2026-12-07).  What held in all of them: "
        "vnacct's cost is spread over the tracker lookups (one per hook), "
        "the commit of a packet to its flow (a histogram per stage), the "
        "start of a packet (tracker insert and header parse) and the clock "
        "reads, with no single hot spot; the kprobe machinery is small.",
        76)
    return f"""
Profile (``make profile``)
==========================

{para}

{rst_table(["ns per datagram", "symbol"], rows)}

{note}

Full output: ``bench/results/profile.txt``.
"""


def main():
    args = sys.argv[1:]
    src, outdir = args[0], args[1]
    rst = args[args.index("--rst") + 1] if "--rst" in args else None
    machine = args[args.index("--machine") + 1] if "--machine" in args \
        else "unknown"
    res = json.load(open(src))
    s = summarize(res)
    tg = targets(s)
    hk = hooks(res)
    date = args[args.index("--date") + 1] if "--date" in args else \
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(src)))
    os.makedirs(outdir, exist_ok=True)
    rows, srows, rrows = table_rows(s), scale_rows(res), rate_rows(res)
    json.dump({"summary": s, "targets": tg, "hooks": hk,
               "kernel": res["kernel"], "date": date, "machine": machine,
               "tables": {"bench": {"head": HEAD, "rows": rows},
                          "scale_flows": {"head": SHEAD, "rows": srows},
                          "scale_rate": {"head": RHEAD, "rows": rrows}},
               "scale": res["scale"], "rates": res.get("rates", []),
               "durations_s": {k: res.get(k) for k in (
                   "matrix_s", "scale_s", "rates_s")}},
              open(os.path.join(outdir, "summary.json"), "w"), indent=1)
    hrows = [[k, f"{h:,}", f"{ns / h if h else 0:,.0f}",
              f"{100 * sh:.1f} %"] for k, h, ns, sh in hk[:8]]
    trows = [[t, "met" if ok else "MISSED"] for t, v, ok in tg]
    wrows = []
    for w in WORKLOADS:
        hw = hooks(res, "vnacct", w)
        wrows.append([w, ", ".join(f"{k} {100 * sh:.0f} % ({ns / h:,.0f} "
                                   f"ns/hit)" for k, h, ns, sh in hw[:4]
                                   if h)])
    md = (f"vnacct bench {date}, kernel {res['kernel']}, {machine}; "
          f"{res['reps']} interleaved repetitions of {res['secs']} s, "
          f"medians (ratio to no module)\n\n" + md_table(HEAD, rows) +
          "\n\nscale: flows (loopback UDP at full speed, 16 B datagrams, "
          "one flow per destination 127.x.y.z)\n\n" + md_table(SHEAD, srows) +
          "\n\nscale: packet rate (paced loopback UDP, 100 flows)\n\n" +
          md_table(RHEAD, rrows) + "\n\ntargets\n\n" +
          md_table(["target", "result"], trows) + "\n\nwhere vnacct's time "
          "goes (all-stages runs)\n\n" +
          md_table(["hook", "hits", "ns/hit", "share"], hrows) +
          "\n\ntop hooks per workload\n\n" +
          md_table(["workload", "hooks (share of probe time)"], wrows) +
          "\n")
    open(os.path.join(outdir, "bench.md"), "w").write(md)
    havepng = plot(res, s, os.path.join(outdir, "bench.png"))
    print(md)
    if rst:
        max_flows = max([r.get("flows_max", 0) for r in res["scale"]] or
                        [131072])
        doc = f""".. SPDX-License-Identifier: GPL-2.0

============
vnacct bench
============

Written by ``make bench`` (``scripts/bench.sh``, ``bench/run_vm.py``,
``bench/report.py``); JSON, Markdown and the plot are kept in
``bench/results/``.

:date: {date}
:kernel: {res['kernel']} (Debian stock), in QEMU TCG, {res['cpus']} vCPUs,
         ``-accel tcg,thread=single``
:machine: {machine}
:method: {res['reps']} repetitions, configuration order rotated each
         repetition, {res['secs']} s per workload; medians; ratios to the
         no-module median of the same run.  Software emulation: absolute
         numbers are not hardware numbers, only the ratios mean anything.

Configurations: ``none`` (module not loaded), ``vnacct`` (every stage),
``vnacct sample 16`` (``echo 'sample 16' > control``), ``bpftrace``
(``bench/peer.bt``: per-skb entry and per-stage timestamps in BPF hash maps
on the same tracepoints, histograms per stage; no flow keys).  ``ns/pkt`` is
vnacct's own probe time (``stats``: an estimate from one timed hit in 16
per CPU) per packet it saw; for the kretprobe
hooks (``skb_copy_datagram_iter`` …) it includes the probed function's own
run time, and a vCPU descheduled by the host inside a probe adds to it, so
it is an upper bound.  ``no-module max/min`` is the spread of the baseline's
repetitions: a ratio is only meaningful where it differs from 100 % by more
than that spread (the host's 2 cores are shared with other VMs).  Between
runs it is worse: on the shared development host, runs at 02:30 and 03:10
UTC on 2026-11-22 measured the no-module loopback UDP rate at 11,643 and
7,180 pkt/s, and vnacct's ratios at 80 % and 101 % (loopback TCP: 58 %
and 104 %; the module gained copy-cost hooks in between), so a target
reads as met or missed only when it holds run after run.

Throughput and packet rate
==========================

{rst_table(HEAD, rows)}

Scale: concurrent flows
=======================

One UDP socket sending 16-byte datagrams as fast as it can, round-robin
to N loopback destinations (127.x.y.z:7001, one flow each), one reader
(``bench/run_vm.py``, ``Gen``).  The same sender and reader run without
the module and with it (loaded with ``max_flows={max_flows}``, every flow
created by a warm-up pass before the measurement), in
{res.get('scale_reps', 1)} interleaved repetitions of {res['secs']} s;
medians; ``max/min``: the spread of the repetitions.  ``read/sent``:
datagrams the reader got per datagram sent (the rest were dropped at its
full socket buffer).  ``VM CPU ns/pkt``: busy time of all vCPUs
(``/proc/stat``) per datagram sent.  ``memory_bytes`` (``stats``) is
allocated at load for ``max_flows`` records, whatever the number in use:
it does not grow with the flows.

{rst_table(SHEAD, srows) if srows else "(not run)"}

Scale: packet rate
==================

The same generator with 100 flows, paced at each rate (the sender sleeps
2 ms between catch-up bursts), without and with the module (default
parameters), interleaved.  ``VM CPU busy``: share of the 2 vCPUs busy
during the run; ``extra ns/pkt``: the difference of the VM's CPU time per
packet with and without the module (``/proc/stat`` counts 10 ms ticks:
at 300 pkt/s for 3 s one tick is 11,000 ns/pkt, and the host is shared,
so only the larger rates say much); ``vnacct ns/pkt``: the module's own
probe time per packet (``stats``); ``vnacct CPU``: that probe time as a
share of one CPU.

{rst_table(RHEAD, rrows) if rrows else "(not run)"}

Targets (issue 5)
=================

{rst_table(["target", "result"], trows)}

Where vnacct's time goes
========================

Probe time per hook over the all-stages runs (``stats``):

{rst_table(["hook", "hits", "ns/hit", "share"], hrows) if hrows else "-"}

Per workload, the four costliest hooks:

{rst_table(["workload", "hooks (share of probe time)"], wrows)}
"""
        if havepng:
            doc += "\nPlot: ``bench/results/bench.png``.\n"
        doc += profile_rst(os.path.join(outdir, "profile.json"))
        open(rst, "w").write(doc)


main()
