# SPDX-License-Identifier: GPL-2.0
"""Helpers for vnacct's Python selftests: TAP output, running commands,
loading the module and reading its debugfs tables."""

import json
import os
import subprocess
import sys

DBG = "/sys/kernel/debug/vnacct"
SRC = os.environ.get("VNACCT_SRC", os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("VNACCT_BUILD",
                       os.path.join(SRC, "build",
                                    os.environ.get("VNACCT_KERNEL", "6.12")))
KO = os.path.join(BUILD, "vnacct", "vnacct.ko")
BIN = os.path.join(SRC, "userspace")


class Tap:
    """kselftest-style TAP: one line per check, plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, text):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {text}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {text}", flush=True)
        return cond

    def eq(self, got, want, text):
        return self.ok(got == want, f"{text}: got {got}, expected {want}")

    def skip(self, text, why):
        self.n += 1
        print(f"ok {self.n} - {text} # SKIP {why}", flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)

    def done(self):
        print(f"1..{self.n}")
        sys.exit(1 if self.failed else 0)


def sh(cmd, check=True, **kw):
    """Runs a shell command, returning its stdout."""
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)
    if check and r.returncode:
        raise RuntimeError(f"{cmd}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def load(params=""):
    # Tests compare flows minutes after their traffic on a slow (KASAN,
    # loaded host) VM: the default 60 s idle timeout would expire them.
    if "flow_timeout" not in params:
        params += " flow_timeout=3600"
    sh("modprobe -a tun vhost_net bridge veth", check=False)
    sh(f"insmod {KO} {params}")


def unload():
    sh("rmmod vnacct")


def table(name):
    """Reads a debugfs table: a header line, then rows of columns."""
    with open(os.path.join(DBG, name)) as f:
        lines = f.read().splitlines()
    head = lines[0].split()
    rows = []
    for line in lines[1:]:
        cols = line.split()
        row = dict(zip(head, cols))
        for k, v in row.items():
            if v.isdigit():
                row[k] = int(v)
        if name == "histograms":
            row["buckets"] = cols[len(head) - 1:]
        rows.append(row)
    return rows


def stats():
    out = {}
    with open(os.path.join(DBG, "stats")) as f:
        for line in f.read().splitlines()[1:]:
            cols = line.split()
            if len(cols) == 2:
                out[cols[0]] = int(cols[1])
            else:
                out[cols[0]] = {"hits": int(cols[2]), "ns": int(cols[3])}
    return out


def control(cmd):
    """Writes one command to the control file; returns 0 or the errno."""
    try:
        fd = os.open(os.path.join(DBG, "control"), os.O_WRONLY)
    except OSError as e:
        return e.errno
    try:
        os.write(fd, cmd.encode())
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def guest(prog, args):
    """Runs a test guest with --json and returns its report."""
    out = sh(f"{BIN}/{prog} {args} --json", timeout=300)
    return json.loads(out)


def find_flows(rows, **match):
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def host_topology(taps, ext_ipv6=True):
    """The KVM-host topology the selftests share: the taps on bridge br0,
    and a veth to namespace "ext" (10.0.0.2, and fd00::2 with ext_ipv6)
    playing the external host.  No IPv6 on the host side of the guests'
    ports: no router or MLD chatter in the guests' flows."""
    cmds = ["ip netns add ext",
            "ip link add br0 type bridge",
            "ip link add veth-host type veth peer name veth-ext netns ext",
            "ip link set veth-host master br0 up",
            "ip -n ext addr add 10.0.0.2/24 dev veth-ext"]
    if ext_ipv6:
        cmds.append("ip -n ext addr add fd00::2/64 dev veth-ext nodad")
    else:
        cmds += ["sysctl -qw net.ipv6.conf.veth-host.disable_ipv6=1",
                 "ip netns exec ext "
                 "sysctl -qw net.ipv6.conf.veth-ext.disable_ipv6=1"]
    cmds += ["ip -n ext link set veth-ext up",
             "ip -n ext link set lo up",
             "ip link set br0 up",
             "sysctl -qw net.ipv6.conf.br0.disable_ipv6=1"]
    for tap in taps:
        cmds += [f"{BIN}/vnacct-tapguest --ifname {tap} --create-only",
                 f"sysctl -qw net.ipv6.conf.{tap}.disable_ipv6=1",
                 f"ip link set {tap} master br0 up"]
    for cmd in cmds:
        sh(cmd)


def stage_sum_mismatches(rows, hists):
    """Flows whose stage residencies do not add up to their host residency
    (flows and histograms are read at different moments: each flow is
    compared within the histograms file)."""
    bad = []
    for f in rows:
        mine = [h for h in hists if h["id"] == f["id"]]
        total = [h for h in mine if h["what"] == "total"]
        stages = [h for h in mine if h["what"] not in ("total", "drtt")]
        if not total:
            continue
        if sum(h["sum_ns"] for h in stages) != total[0]["sum_ns"]:
            bad.append((f["id"], f["dir"], f["proto"], total[0]["count"],
                        total[0]["sum_ns"], [(h["what"], h["count"],
                                              h["sum_ns"]) for h in stages]))
    return bad
