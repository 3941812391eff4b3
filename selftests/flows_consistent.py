#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Every record vnacct prints is one moment of its flow, even while the
flow's counters change on both vCPUs.

Two senders flood one loopback UDP flow each (one per vCPU, both into one
reader) while this test reads `histograms`, `stages` and `vnacct --json
flows` over and over.  Every packet of such a flow passes qdisc, driver,
backlog and receive before it leaves (read or dropped), so in any
consistent record those four stages and the total have the same count.
A record printed while a packet's exit was half applied would show them
apart.  The reference is the path itself (and, at the end, the senders'
own counts: every datagram sent is one packet of its flow).
"""

import json
import platform
import subprocess
import time

from vnacct_util import Tap, sh, load, unload, table, BIN

t = Tap()
PATH_STAGES = ("qdisc", "driver", "backlog", "receive")
# Long enough for at least three rounds of reads while both vCPUs send: one
# round (two debugfs tables and a CLI dump) took 3-4 s on the debug kernel
# with another VM on the host.
SECONDS = 30 if "debug" in platform.release() else 8

SENDER = """
import socket, sys, time
s = socket.socket(2, 2)
s.bind(("127.0.0.1", int(sys.argv[1])))
n, end = 0, time.time() + float(sys.argv[2])
while time.time() < end:
    s.sendto(b"c" * 64, ("127.0.0.1", 7300))
    n += 1
print(n)
"""

READER = """
import socket, time
r = socket.socket(2, 2)
r.bind(("127.0.0.1", 7300))
r.settimeout(3)
try:
    while True:
        r.recv(2048)
except socket.timeout:
    pass
"""


def records(name, what, count):
    """{flow id: {what: count}} from one read of a debugfs table."""
    out = {}
    for r in table(name):
        out.setdefault(r["id"], {})[r[what]] = r[count]
    return out


def torn(counts, total=None):
    vals = [counts.get(s) for s in PATH_STAGES]
    if None in vals:
        return False        # a flow that is not a loopback UDP flow
    if total is not None:
        vals.append(total)
    return len(set(vals)) != 1


def main():
    load()
    sh("ip link set lo up")
    reader = subprocess.Popen(["python3", "-c", READER])
    time.sleep(0.5)
    senders = [subprocess.Popen(["taskset", "-c", str(cpu), "python3", "-c",
                                 SENDER, str(7301 + cpu), str(SECONDS)],
                                stdout=subprocess.PIPE, text=True)
               for cpu in (0, 1)]
    reads, bad = {"histograms": 0, "stages": 0, "netlink": 0}, []
    end = time.time() + SECONDS - 1
    while time.time() < end:
        for fid, c in records("histograms", "what", "count").items():
            if torn(c, c.get("total")):
                bad.append(("histograms", fid, c))
        reads["histograms"] += 1
        for fid, c in records("stages", "stage", "packets").items():
            if torn(c):
                bad.append(("stages", fid, c))
        reads["stages"] += 1
        r = subprocess.run([f"{BIN}/vnacct", "--json", "flows"],
                           capture_output=True, text=True)
        for fl in json.loads(r.stdout or "[]"):
            c = {s["stage"]: s["packets"] for s in fl.get("stages", [])}
            if torn(c, fl["residency"]["count"]):
                bad.append(("netlink", fl["id"], c))
        reads["netlink"] += 1
    sent = [int(p.communicate(timeout=60)[0]) for p in senders]
    reader.wait(timeout=30)
    t.diag(f"reads {reads}; datagrams sent {sent}")
    t.ok(min(reads.values()) >= 3,
         f"read every file and the netlink dump while both vCPUs sent "
         f"({reads})")
    t.ok(not bad, f"every record one moment of its flow: qdisc, driver, "
         f"backlog, receive and total counts equal ({len(bad)} torn: "
         f"{bad[:3]})")
    flows = {r["sport"]: r["packets"] for r in table("flows")
             if r["proto"] == "udp" and r["dport"] == 7300}
    t.ok(flows == {7301: sent[0], 7302: sent[1]},
         f"each sender's flow has exactly the datagrams it sent "
         f"({flows} vs {sent})")
    unload()
    t.done()


if __name__ == "__main__":
    main()
