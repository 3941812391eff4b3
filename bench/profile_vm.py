#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Where vnacct's packet-path time goes (scripts/profile.sh boots the VM
and runs this inside it).  A benchmark aid, not a test.

Loopback UDP, 16-byte datagrams (the workload whose rate vnacct costs the
most, Documentation/bench.rst), sent by iperf3 as fast as it can under
``perf record -a -e cpu-clock`` (TCG has no hardware PMU), once without
the module and once with it.  Writes to $VNACCT_OUT:
  profile.txt   per configuration: the rate, vnacct's per-hook probe time
                from its own stats, and perf's top symbols (self time) with
                each symbol's share of all samples, grouped into vnacct's
                own code, kprobe/ftrace machinery and the rest, then the top
                symbols of the first two groups alone
  profile.json  the same numbers
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "selftests"))
from vnacct_util import sh, KO  # noqa: E402

OUT = os.environ.get("VNACCT_OUT", "/dev/shm")
SECS = float(os.environ.get("PROFILE_SECS", "8"))
TOP = int(os.environ.get("PROFILE_TOP", "25"))
# Symbols of the probe machinery a kprobe, kretprobe or tracepoint hit
# runs through before and after vnacct's handler.
MACHINERY = re.compile(r"kprobe|kretprobe|rethook|ftrace|fprobe|"
                       r"arch_rethook|__traceiter|trampoline|"
                       r"get_kprobe|opt_pre_handler")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def group(sym, dso):
    if "vnacct" in dso or sym.startswith("vnacct_"):
        return "vnacct"
    if MACHINERY.search(sym):
        return "probe machinery"
    return "kernel/other"


def report(data, syms):
    """perf report --stdio, self time per symbol, as (pct, dso, sym)."""
    out = sh(f"perf report -i {data} --kallsyms {syms} --stdio --no-children "
             f"--sort dso,sym --percent-limit 0.05 2>/dev/null", timeout=600)
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.kgu]\]\s+(.+?)\s*$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3)))
    return rows


def run(cfg):
    if cfg == "vnacct":
        sh(f"insmod {KO}")
    data = f"/dev/shm/perf-{cfg}.data"
    cmd = (f"perf record -q -a -e cpu-clock -F 2000 -o {data} -- "
           f"iperf3 -c 127.0.0.1 -u -l 16 -b 0 -t {SECS} --json")
    j = json.loads(subprocess.run(cmd, shell=True, check=True, text=True,
                                  capture_output=True, timeout=600).stdout)
    s = j["end"]["sum"]
    pps = s["packets"] / s["seconds"]
    hooks = []
    if cfg == "vnacct":
        for line in open("/sys/kernel/debug/vnacct/stats"):
            f = line.split()
            # per-hook lines: name kind hits ns ... (see vnacct.rst)
            if len(f) >= 4 and f[1] in ("tracepoint", "kprobe",
                                        "kretprobe") and f[2].isdigit():
                hooks.append({"hook": f[0], "kind": f[1],
                              "hits": int(f[2]), "ns": int(f[3])})
    # The module's symbols, for perf report after the unload.
    syms = f"/dev/shm/kallsyms-{cfg}"
    open(syms, "w").write(open("/proc/kallsyms").read())
    if cfg == "vnacct":
        sh("rmmod vnacct")
    rows = report(data, syms)
    os.unlink(data)
    groups = {}
    for pct, dso, sym in rows:
        g = group(sym, dso)
        groups[g] = groups.get(g, 0.0) + pct
    ours = [r for r in rows if group(r[2], r[1]) != "kernel/other"]
    return {"config": cfg, "secs": SECS, "pps": pps, "hooks": hooks,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "groups": groups,
            "top": [{"pct": p, "dso": d, "sym": y} for p, d, y in rows[:TOP]],
            "ours": [{"pct": p, "dso": d, "sym": y}
                     for p, d, y in ours[:TOP]],
            "all": [{"pct": p, "dso": d, "sym": y} for p, d, y in rows],
            "ncpu": os.cpu_count()}


def ns_per_pkt(r, pct):
    """CPU time per datagram of a share of all samples (cpu-clock samples
    every CPU, busy or idle, so a share is a share of ncpu x the run)."""
    return pct / 100 * r["ncpu"] * 1e9 / r["pps"]


def growth(none, mod):
    """Symbols by how much CPU time per datagram they gained with the
    module: where its cost lands, its own code or not."""
    base = {(t["dso"], t["sym"]): ns_per_pkt(none, t["pct"])
            for t in none["all"]}
    out = []
    for t in mod["all"]:
        if "safe_halt" in t["sym"]:
            continue  # the idle loop: not work
        k = (t["dso"], t["sym"])
        out.append((ns_per_pkt(mod, t["pct"]) - base.get(k, 0.0), t["sym"],
                    group(t["sym"], t["dso"])))
    return sorted(out, reverse=True)


def per_datagram(none, mod):
    """CPU time per datagram: busy (outside the idle loop) without and with
    the module, in vnacct's own functions, and the symbols that grew most.
    Stored with the run (bench/report.py renders it, computes nothing)."""
    busy = [ns_per_pkt(r, 100 - sum(t["pct"] for t in r["all"]
                                    if "safe_halt" in t["sym"]))
            for r in (none, mod)]
    ours = sum(ns_per_pkt(mod, t["pct"]) for t in mod["all"]
               if group(t["sym"], t["dso"]) == "vnacct")
    return {"busy_ns": busy, "vnacct_ns": ours,
            "growth": [list(g) for g in growth(none, mod)[:TOP]]}


def text(res):
    lines = []
    base = res[0]["pps"]
    for r in res:
        lines.append(f"== {r['config']}: {r['pps']:,.0f} datagrams/s "
                     f"({100 * r['pps'] / base:.1f} % of no module)")
        for h in sorted(r["hooks"], key=lambda h: -h["ns"]):
            if h["hits"]:
                lines.append(f"   hook {h['hook']:<28} {h['kind']:<10} "
                             f"{h['hits']:>10} hits {h['ns'] / h['hits']:>8.0f}"
                             f" ns/hit")
        lines.append("   perf self time by group: " + ", ".join(
            f"{g} {p:.1f} %" for g, p in sorted(r["groups"].items(),
                                                 key=lambda x: -x[1])))
        for what in ("top", "ours"):
            if r[what]:
                lines.append("   top symbols" if what == "top" else
                             "   vnacct and probe machinery")
            for t in r[what]:
                lines.append(f"   {t['pct']:6.2f} %  "
                             f"{group(t['sym'], t['dso']):<16} {t['sym']}")
    pd = res[1]["per_datagram"]
    busy = pd["busy_ns"]
    lines.append(f"== per datagram: busy CPU {busy[0]:,.0f} ns without, "
                 f"{busy[1]:,.0f} ns with the module (+{busy[1] - busy[0]:,.0f}"
                 f" ns, {pd['vnacct_ns']:,.0f} ns in vnacct's functions); the "
                 f"symbols that gained most:")
    for d, sym, g in pd["growth"]:
        lines.append(f"   {d:+9,.0f} ns  {g:<16} {sym}")
    return "\n".join(lines) + "\n"


def main():
    sh("ip link set lo up")
    sh("iperf3 -s -D -B 127.0.0.1")
    time.sleep(1)
    res = [run("none"), run("vnacct")]
    res[1]["per_datagram"] = per_datagram(*res)
    json.dump(res, open(f"{OUT}/profile.json", "w"), indent=1)
    t = text(res)
    open(f"{OUT}/profile.txt", "w").write(t)


if __name__ == "__main__":
    main()
