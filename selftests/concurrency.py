#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Concurrency (issue 6): for DURATION seconds (60, 30 on the debug
kernel; VNACCT_SOAK=1: 600; VNACCT_CONCURRENCY_S overrides), at the same
time and on both vCPUs:

  traffic   the tap and vhost-net guests pinging through br0 and a veth,
            loopback UDP/TCP generators with one-shot flows (churn)
  readers   one process per debugfs file (stats, flows, stages,
            histograms), two netlink flow dumpers, `vnacct top`
  writers   resets, sample / timeout / enable changes, alternately through
            the debugfs control file and netlink SET-CONFIG / RESET

Invariants:
  - no torn record: every debugfs line has its header's column count (and
    histogram buckets their lo-hi:count form); every netlink flow message
    parses and carries the flow key and counters;
  - between two reads of one reader with no reset started or finished in
    between, no flow's packets/bytes/drops (debugfs and netlink) decrease;
  - per flow, the stage residency sums add up to the total residency sum
    for every flow that was quiescent (same total in the previous read)
    (debugfs histograms, and netlink's per-stage nests);
  - stats: memory_bytes constant;
  - every control write and netlink request succeeds;
  - every generator's counts exact (traffic never dropped).
"""

import errno
import multiprocessing as mp
import os
import platform
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vnacct_util import Tap, sh, load, unload, stats, control, DBG, BIN  # noqa
from load_cycles import (GuestLoop, GUESTS, loopgens, loopgens_stop,  # noqa
                         topology, teardown, check_traffic, Restarter, SOAK)

DURATION = int(os.environ.get("VNACCT_CONCURRENCY_S", 600 if SOAK else
                              30 if "debug" in platform.release() else 60))
FILES = ["stats", "flows", "stages", "histograms"]
COUNTERS = ["packets", "bytes", "drops"]
KEYCOLS = ["id", "netns", "ifindex", "dir", "proto", "src", "sport", "dst",
           "dport"]


def read_all(name):
    with open(os.path.join(DBG, name)) as f:
        return f.read()


def dbg_reader(name, gen, stop, q):
    """One reader of one debugfs file.  gen: reset generation, odd while
    a reset is in progress."""
    n, torn, decr, sums, sums_all, mem_changed = 0, [], [], [], 0, []
    prev, prev_gen = None, None
    prev_totals = {}
    mem0 = None
    while not stop.is_set():
        time.sleep(0.05)
        g0 = gen.value
        try:
            text = read_all(name)
        except OSError as e:
            torn.append(("read", errno.errorcode.get(e.errno)))
            break
        g1 = gen.value
        n += 1
        lines = text.splitlines()
        head = lines[0].split()
        if name in ("flows", "stages"):
            cur = {}
            for line in lines[1:]:
                cols = line.split()
                if len(cols) != len(head):
                    if len(torn) < 5:
                        torn.append(line[:160])
                    continue
                if name == "flows":
                    row = dict(zip(head, cols))
                    key = tuple(row[k] for k in KEYCOLS)
                    cur[key] = [int(row[k]) for k in COUNTERS]
            if name == "flows":
                if prev is not None and prev_gen == g1 and g0 == g1 and \
                        g1 % 2 == 0:
                    for key, vals in cur.items():
                        old = prev.get(key)
                        if old and any(a < b for a, b in zip(vals, old)) \
                                and len(decr) < 5:
                            decr.append((key, old, vals))
                prev, prev_gen = cur, g0
        elif name == "histograms":
            per = {}
            for line in lines[1:]:
                cols = line.split()
                if len(cols) < len(head) - 1 or not all(
                        re.fullmatch(r"\d+-\d+:\d+", b)
                        for b in cols[len(head) - 1:]):
                    if len(torn) < 5:
                        torn.append(line[:160])
                    continue
                per.setdefault(cols[0], {})[cols[1]] = (int(cols[2]),
                                                        int(cols[3]))
            totals = {}
            for fid, h in per.items():
                if "total" not in h:
                    continue
                totals[fid] = h["total"]
                st = sum(v[1] for w, v in h.items()
                         if w not in ("total", "drtt"))
                if st != h["total"][1]:
                    sums_all += 1
                    # Quiescent: the same total in the previous read, so
                    # no packet of this flow exited while it was printed.
                    if prev_totals.get(fid) == h["total"] and len(sums) < 5:
                        sums.append((fid, h))
            prev_totals = totals
        elif name == "stats":
            s = {}
            for line in lines[1:]:
                cols = line.split()
                if len(cols) == 2:
                    s[cols[0]] = int(cols[1])
            if mem0 is None:
                mem0 = s.get("memory_bytes")
            if s.get("memory_bytes") != mem0 and len(mem_changed) < 5:
                mem_changed.append(s.get("memory_bytes"))
    q.put((name, n, torn, decr, sums, sums_all, mem_changed))


def nl_flow(attrs):
    """One flow message: (id, key, counters, total residency sum, stage
    residency sums) or raises ValueError when it is incomplete."""
    from netlink_raw import parse, val, FLOW
    a = {}
    stages = []
    for t, p in parse(attrs):
        if t == FLOW["stage"]:
            stages.append(p)
        else:
            a[t] = p
    need = ["id", "netns", "ifindex", "dir", "family", "proto", "packets",
            "bytes"]
    missing = [k for k in need if FLOW[k] not in a]
    if missing:
        raise ValueError(f"missing {missing}")
    fid = val(a[FLOW["id"]])
    key = tuple(a.get(FLOW[k], b"") for k in ("netns", "ifindex", "dir",
                                              "proto", "saddr", "daddr",
                                              "sport", "dport"))
    cnt = [val(a[FLOW["packets"]]), val(a[FLOW["bytes"]]),
           val(a.get(FLOW["drops"], b"\0\0\0\0\0\0\0\0"))]

    def hsum(nest):   # VNACCT_A_HIST_SUM = 3, _COUNT = 2
        h = dict(parse(nest))
        return (val(h[2]) if 2 in h else 0, val(h[3]) if 3 in h else 0)
    total = hsum(a[FLOW["residency"]]) if FLOW["residency"] in a else None
    ssum = 0
    for s in stages:
        d = dict(parse(s))
        if 5 in d:     # VNACCT_A_STAGE_RESIDENCY
            ssum += hsum(d[5])[1]
    return fid, key, cnt, total, ssum


def nl_reader(gen, stop, q):
    from netlink_raw import Genl, CMD, NLM_F_DUMP_INTR
    g = Genl()
    n = intr = 0
    torn, decr, sums, errs = [], [], [], []
    prev, prev_gen, prev_tot = None, None, {}
    while not stop.is_set():
        time.sleep(0.05)
        g0 = gen.value
        try:
            parts = g.dump(CMD["dump_flows"])
        except Exception as e:  # noqa: any failure is reported
            if len(errs) < 5:
                errs.append(str(e)[:120])
            continue
        g1 = gen.value
        n += 1
        if any(f & NLM_F_DUMP_INTR for _, _, f in parts):
            intr += 1
        cur, tot = {}, {}
        for c, a, _ in parts:
            if c is None:
                continue
            try:
                fid, key, cnt, total, ssum = nl_flow(a)
            except (ValueError, KeyError, TypeError, IndexError) as e:
                if len(torn) < 5:
                    torn.append(str(e)[:120])
                continue
            cur[(fid, key)] = cnt
            if total is not None:
                tot[fid] = total
                if total[1] != ssum and prev_tot.get(fid) == total and \
                        len(sums) < 5:
                    sums.append((fid, total, ssum))
        if prev is not None and prev_gen == g1 and g0 == g1 and g1 % 2 == 0:
            for k, v in cur.items():
                old = prev.get(k)
                if old and any(x < y for x, y in zip(v, old)) and \
                        len(decr) < 5:
                    decr.append((k[0], old, v))
        prev, prev_gen, prev_tot = cur, g0, tot
    q.put(("netlink", n, torn, decr, sums, intr, errs))


def main():
    from netlink_raw import Genl, CMD, CONFIG, u8, u32
    t = Tap()
    rng = random.Random(int(os.environ.get("VNACCT_SEED", time.time())))
    sh("modprobe -a tun vhost_net bridge veth", check=False)
    t.diag(f"concurrency: {DURATION} s")
    topology()
    load()
    gen = mp.Value("l", 0)
    rstop, q = mp.Event(), mp.Queue()
    readers = [mp.Process(target=dbg_reader, args=(f, gen, rstop, q))
               for f in FILES]
    readers += [mp.Process(target=nl_reader, args=(gen, rstop, q))
                for _ in range(2)]
    for r in readers:
        r.start()
    stop = threading.Event()
    top = Restarter([f"{BIN}/vnacct", "top", "-d", "0.3", "-n", "5"],
                    threading.Event())
    top.start()
    guests = [GuestLoop(p, tap, mac, ip, cpu, stop)
              for p, tap, mac, ip, cpu in GUESTS]
    for g in guests:
        g.start()
    lgens = loopgens(True)
    nl = Genl()
    ctl = {"reset": 0, "sample": 0, "timeout": 0, "enable": 0, "fail": []}
    end = time.time() + DURATION
    while time.time() < end:
        time.sleep(rng.uniform(0.05, 0.5))
        k = rng.random()
        via_nl = rng.random() < 0.5
        try:
            if k < 0.2:
                with gen.get_lock():
                    gen.value += 1
                rc = nl.request(CMD["reset"]) and 0 if via_nl else \
                    control("reset")
                with gen.get_lock():
                    gen.value += 1
                ctl["reset"] += 1
            elif k < 0.5:
                v = rng.choice([1, 1, 2, 3, 16])
                rc = nl.request(CMD["set_config"],
                                u32(CONFIG["sample"], v)) and 0 \
                    if via_nl else control(f"sample {v}")
                ctl["sample"] += 1
            elif k < 0.8:
                # >= 5 s: the steady flows (one packet every few ms)
                # never idle out, so an id+key seen twice is one flow's
                # life.
                v = rng.choice([5, 10, 60, 3600])
                rc = nl.request(CMD["set_config"],
                                u32(CONFIG["flow_timeout"], v)) and 0 \
                    if via_nl else control(f"timeout {v}")
                ctl["timeout"] += 1
            else:
                v = rng.randint(0, 1)
                rc = nl.request(CMD["set_config"],
                                u8(CONFIG["enabled"], v)) and 0 \
                    if via_nl else control(["disable", "enable"][v])
                ctl["enable"] += 1
        except Exception as e:  # noqa: reported
            rc = str(e)
        if rc:
            ctl["fail"].append(rc)
    control("enable")
    control("sample 1")
    rstop.set()
    results = [q.get(timeout=180) for _ in readers]
    for r in readers:
        r.join(timeout=10)
    stop.set()
    for g in guests:
        g.join(timeout=120)
    lo = loopgens_stop(lgens)
    top.finish()
    st = stats()
    t.diag(f"concurrency: {DURATION} s; writes: {ctl['reset']} resets, "
           f"{ctl['sample']} sample, {ctl['timeout']} timeout, "
           f"{ctl['enable']} enable/disable; flows now {st['flows']}, "
           f"evicted {st['flows_evicted']}, exited {st['packets_exited']}; "
           f"vnacct top exits {top.codes} {top.why}")
    t.ok(not ctl["fail"], f"concurrency: every control write and netlink "
         f"request succeeded ({ctl['fail'][:5]})")
    for res in results:
        if res[0] == "netlink":
            _, n, torn, decr, sums, intr, errs = res
            t.diag(f"netlink: {n} dumps, {intr} flagged interrupted")
            t.ok(n > 0 and not errs and not torn,
                 f"concurrency: netlink: {n} flow dumps, every message "
                 f"complete (torn: {torn}, errors: {errs})")
            t.ok(not decr, f"concurrency: netlink: no counter decreased "
                 f"between two dumps without a reset ({decr})")
            t.ok(not sums, f"concurrency: netlink: stage residency sums "
                 f"equal the total for every quiescent flow ({sums})")
            continue
        name, n, torn, decr, sums, sums_all, memc = res
        t.ok(n > 0 and not torn, f"concurrency: {name}: {n} reads, every "
             f"line complete (torn: {torn})")
        if name == "flows":
            t.ok(not decr, f"concurrency: flows: no counter decreased "
                 f"between two reads without a reset (decreased: {decr})")
        if name == "histograms":
            t.diag(f"histograms: {sums_all} flow records read whose stage "
                   f"sums differed from the total (flow updated while "
                   f"printed)")
            t.ok(not sums, f"concurrency: histograms: stage residencies "
                 f"sum to the total for every quiescent flow (bad: {sums})")
        if name == "stats":
            t.ok(not memc, f"concurrency: stats: memory_bytes constant "
                 f"({memc})")
    check_traffic(t, "concurrency", guests, lo)
    unload()
    teardown()
    t.done()


if __name__ == "__main__":
    main()
