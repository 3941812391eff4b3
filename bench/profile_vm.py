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
                own code, kprobe/ftrace machinery and the rest
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


def report(data):
    """perf report --stdio, self time per symbol, as (pct, dso, sym)."""
    out = sh(f"perf report -i {data} --stdio --no-children "
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
        sh("rmmod vnacct")
    rows = report(data)
    os.unlink(data)
    groups = {}
    for pct, dso, sym in rows:
        g = group(sym, dso)
        groups[g] = groups.get(g, 0.0) + pct
    return {"config": cfg, "pps": pps, "hooks": hooks, "groups": groups,
            "top": [{"pct": p, "dso": d, "sym": y} for p, d, y in rows[:TOP]]}


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
        for t in r["top"]:
            lines.append(f"   {t['pct']:6.2f} %  {group(t['sym'], t['dso']):<16}"
                         f" {t['sym']}")
    return "\n".join(lines) + "\n"


def main():
    sh("ip link set lo up")
    sh("iperf3 -s -D -B 127.0.0.1")
    time.sleep(1)
    res = [run("none"), run("vnacct")]
    json.dump(res, open(f"{OUT}/profile.json", "w"), indent=1)
    t = text(res)
    open(f"{OUT}/profile.txt", "w").write(t)
    print(t)


if __name__ == "__main__":
    main()
