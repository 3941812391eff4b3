#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The vnacct netlink family from its clients, in the VM:

  * `vnacct flows` equals debugfs `flows` at the same moment (quiet
    topology: a veth pair to a namespace, ping and UDP, then silence);
  * the kernel's own YNL client (tools/net/ynl/cli.py from Debian's
    linux-source-6.12, see scripts/ynl-fetch.sh) drives the family from
    Documentation/netlink/specs/vnacct.yaml;
  * an unprivileged user gets EPERM for set-config and reset, from the CLI
    and from YNL, and can still read;
  * a second network namespace sees only its own flows;
  * CLI exit codes: bad argument 2, permission denied 4, module not
    loaded 3.
"""

import json
import os
import subprocess
import threading
import time

from vnacct_util import Tap, sh, load, unload, table, stats, SRC, BIN
from netlink_raw import NlError

t = Tap()
CLI = f"{BIN}/vnacct"
SPEC = f"{SRC}/Documentation/netlink/specs/vnacct.yaml"
# scripts/ynl-fetch.sh (run by make check on the host) mirrors it here
YNL = os.environ.get("VNACCT_YNL", f"{SRC}/build/ynl")
NOBODY = "setpriv --reuid 65534 --regid 65534 --clear-groups"


def run(cmd, limit=240):
    """A command that hangs fails its check, naming itself, instead of
    taking the whole test past run_all.sh's limit."""
    try:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(
            cmd, 124, "", f"{cmd}: no answer in {limit} s")


def ynl(args, prefix=""):
    # --no-schema: the spec's validation against genetlink-c.yaml is a
    # property of the file, checked once on the host by scripts/ynl-check.sh;
    # jsonschema in the VM cost every call seconds under TCG.
    return run(f"{prefix} python3 {YNL}/tools/net/ynl/cli.py --spec {SPEC} "
               f"--no-schema --output-json {args}")


def phase(fn, *args):
    """Runs one part of the test and says how long it took: on the debug
    kernel this test once went past its limit, and the log did not say
    where the time went."""
    start = time.monotonic()
    ret = fn(*args)
    print(f"# {fn.__name__} took {time.monotonic() - start:.0f} s",
          flush=True)
    return ret


def topology():
    for c in ["ip netns add peer",
              "ip link add v0 type veth peer name v1 netns peer",
              "sysctl -qw net.ipv6.conf.v0.disable_ipv6=1",
              "ip netns exec peer sysctl -qw net.ipv6.conf.v1.disable_ipv6=1",
              "ip addr add 10.9.0.1/24 dev v0", "ip link set v0 up",
              "ip -n peer addr add 10.9.0.2/24 dev v1",
              "ip -n peer link set v1 up", "ip -n peer link set lo up"]:
        sh(c)


def cli_vs_debugfs():
    sh("ping -c 20 -i 0.05 -q 10.9.0.2")
    sh("python3 -c \"import socket; s=socket.socket(2, 2); "
       "[s.sendto(b'x' * 300, ('10.9.0.2', 9)) for i in range(50)]\"")
    time.sleep(1.5)   # quiet: every packet has left the host
    for attempt in range(3):
        dbg = table("flows")
        r = run(f"{CLI} --json flows")
        dbg2 = table("flows")
        if dbg == dbg2:
            break
    t.ok(r.returncode == 0, f"vnacct --json flows exits 0 ({r.stderr.strip()})")
    cli = json.loads(r.stdout or "[]")
    t.ok(dbg == dbg2, f"debugfs flows stable around the CLI read "
         f"({len(dbg)} flows)")
    t.eq(sorted(f["id"] for f in cli), sorted(f["id"] for f in dbg),
         "same flow ids in the CLI and debugfs")
    cols = list(dbg[0].keys()) if dbg else []
    bad = []
    for d in dbg:
        c = next((f for f in cli if f["id"] == d["id"]), None)
        if c is None:
            continue
        for k in cols:
            cv = c.get(k)
            if k in ("src", "dst") and cv == "-":
                cv = "-"
            if cv != d[k]:
                bad.append((d["id"], k, cv, d[k]))
    t.ok(dbg and not bad, f"every column of every flow equal "
         f"({len(cols)} columns x {len(dbg)} flows; differences {bad[:5]})")
    mine = os.stat("/proc/self/ns/net").st_ino
    udp = [f for f in cli if f["proto"] == "udp" and f["dst"] == "10.9.0.2"
           and f["netns"] == mine]
    t.ok(len(udp) == 1 and udp[0]["packets"] == 50 and
         udp[0]["bytes"] == 50 * 328,
         f"CLI: the UDP flow has 50 packets, {50 * 328} bytes "
         f"({[(f['packets'], f['bytes']) for f in udp]})")
    r = run(f"{CLI} --csv flows")
    lines = r.stdout.splitlines()
    t.ok(r.returncode == 0 and len(lines) == len(dbg) + 1 and
         all(len(x.split(",")) == 30 for x in lines),
         f"--csv: header + {len(dbg)} rows of 30 fields")
    r = run(f"{CLI} flows proto udp dst 10.9.0.2 sort bytes -n 1")
    t.ok(r.returncode == 0 and len(r.stdout.splitlines()) == 2,
         "flows with filters, sort and -n")
    r = run(f"{CLI} --json stats")
    st = json.loads(r.stdout or "{}")
    missed = stats()["kprobes_missed"]
    t.ok(r.returncode == 0 and st.get("flows") == len(dbg) and
         len(st.get("hooks", [])) > 10 and
         st.get("kprobes_missed") == missed,
         f"stats: {st.get('flows')} flows, {len(st.get('hooks', []))} hooks, "
         f"kprobes_missed {st.get('kprobes_missed')} (debugfs {missed})")
    r = run(f"{CLI} top -c 2 -d 0.2")
    t.ok(r.returncode == 0 and r.stdout.count("vnacct top:") == 2,
         "top -c 2 refreshes twice and exits")
    return dbg


def ynl_checks(dbg):
    t.ok(os.path.exists(f"{YNL}/tools/net/ynl/cli.py"),
         f"YNL client present at {YNL} (scripts/ynl-fetch.sh)")
    # Only the test's own IP flows are quiet: ARP and neighbour discovery
    # refresh on their own between the two reads.
    quiet = [d for d in table("flows")
             if d["proto"] in ("udp", "tcp", "icmp") and d["packets"]]
    r = ynl("--dump dump-flows")
    try:
        flows = json.loads(r.stdout)
    except ValueError:
        flows = []
    t.ok(r.returncode == 0 and len(flows) >= len(quiet),
         f"ynl --dump dump-flows: {len(flows)} flows ({r.stderr[-300:]})")
    by_id = {f["id"]: f for f in flows}
    dbg = quiet
    bad = [d["id"] for d in dbg if d["id"] not in by_id or
           by_id[d["id"]]["packets"] != d["packets"] or
           by_id[d["id"]]["bytes"] != d["bytes"] or
           by_id[d["id"]]["residency"]["p99"] != d["res_p99_ns"]]
    t.ok(flows and not bad, f"ynl packets, bytes and p99 equal debugfs "
         f"(mismatched ids {bad})")
    # One call, four requests in one payload (cli.py --multi): each call
    # costs tens of seconds of Python under TCG.
    fid = dbg[0]["id"] if dbg else 0
    r = ynl(f"--multi get-flow '{{\"id\": {fid}}}' --multi get-stats '{{}}' "
            "--multi set-config '{\"sample\": 2, \"threshold-ns\": 5000000}' "
            "--multi get-config '{}'")
    try:
        flow, st, _, cfg = [x or {} for x in json.loads(r.stdout)]
    except (ValueError, TypeError):
        flow, st, cfg = {}, {}, {}
    want = dbg[0]["packets"] if dbg else None
    t.ok(r.returncode == 0 and flow.get("packets") == want,
         f"ynl get-flow id {fid}: {want} packets (rc {r.returncode}: "
         f"{r.stdout[:200]} {r.stderr[-200:]})")
    t.ok("packets-tracked" in st and "kprobes-missed" in st,
         f"ynl get-stats ({sorted(st)[:4]}...)")
    t.ok(cfg.get("sample") == 2 and cfg.get("threshold-ns") == 5000000,
         f"ynl set-config then get-config ({cfg})")
    r = ynl("--do set-config --json '{\"sample\": 0}'")
    t.ok(r.returncode != 0 and "out of range" in (r.stdout + r.stderr),
         "ynl set-config sample 0 rejected with the kernel's extack")
    r = ynl("--multi set-config '{\"sample\": 1, \"threshold-ns\": 0}' "
            "--multi reset '{}'")
    n = len(table("flows"))
    t.ok(r.returncode == 0 and n == 0, f"ynl --multi set-config, reset: "
         f"the table is empty ({n} left, {r.stderr[-200:]})")


def unprivileged():
    sh("ping -c 2 -i 0.1 -q 10.9.0.2")
    r = run(f"{NOBODY} {CLI} reset")
    t.ok(r.returncode == 4 and "permission denied (need CAP_NET_ADMIN)"
         in r.stderr, f"nobody: vnacct reset -> exit 4 ({r.stderr.strip()})")
    r = run(f"{NOBODY} {CLI} config sample 2")
    t.ok(r.returncode == 4 and "permission denied" in r.stderr,
         f"nobody: vnacct config sample 2 -> exit 4 ({r.stderr.strip()})")
    r = ynl("--do reset", NOBODY)
    out = r.stdout + r.stderr
    t.ok(r.returncode != 0 and ("EPERM" in out or "not permitted" in out or
                                "'error': -1" in out),
         f"nobody: ynl reset fails with EPERM (rc {r.returncode}: "
         f"{out.strip()[-160:]})")
    r = run(f"{NOBODY} {CLI} --json flows")
    t.ok(r.returncode == 0 and len(json.loads(r.stdout or "[]")) > 0,
         "nobody can read the flows of its own namespace")
    r = run(f"{CLI} --json config")
    t.ok(json.loads(r.stdout)["sample"] == 1, "config unchanged by nobody")
    t.ok(len(table("flows")) > 0, "flows not reset by nobody")


def netns():
    sh("ip netns exec peer ping -c 3 -i 0.1 -q 127.0.0.1")
    inum = os.stat("/run/netns/peer").st_ino
    mine = os.stat("/proc/self/ns/net").st_ino
    r = run(f"ip netns exec peer {CLI} --json flows")
    peer = json.loads(r.stdout or "[]")
    t.ok(r.returncode == 0 and peer and
         all(f["netns"] == inum for f in peer),
         f"namespace peer sees only its own flows ({len(peer)}, netns "
         f"{set(f['netns'] for f in peer)} == {inum})")
    root = json.loads(run(f"{CLI} --json flows").stdout)
    t.ok({inum, mine} <= {f["netns"] for f in root},
         "the initial namespace with CAP_NET_ADMIN sees both namespaces")
    other = [f["id"] for f in root if f["netns"] != inum]
    code = (f"import sys; sys.path.insert(0, '{SRC}/selftests');"
            "from netlink_raw import *;"
            "g = Genl();"
            f"g.request(CMD['get_flow'], u32(FLOW['id'], {other[0]}))"
            if other else "raise SystemExit(9)")
    r = run(f"ip netns exec peer python3 -c \"{code}\"")
    t.ok(r.returncode != 0 and "No such file" in r.stderr,
         f"namespace peer cannot get a flow of the initial namespace "
         f"({r.stderr.strip()[-100:]})")
    r = run(f"{NOBODY} {CLI} --json flows")
    mine_only = json.loads(r.stdout or "[]")
    t.ok(mine_only and all(f["netns"] == mine for f in mine_only),
         "without CAP_NET_ADMIN the initial namespace sees only its own")


def churn():
    """Dumps while new flows keep coming: the kernel flags them interrupted
    (NLM_F_DUMP_INTR) and the CLI dumps again instead of failing."""
    gen = subprocess.Popen(["python3", "-c", """
import socket, time
end = time.time() + 20
while time.time() < end:
    s = socket.socket(2, 2); s.sendto(b"x", ("127.0.0.1", 9)); s.close()
"""])
    time.sleep(2)
    fails = []
    for i in range(20):
        r = run(f"{CLI} --json flows")
        if r.returncode:
            fails.append(r.stderr.strip())
    gen.kill()
    gen.wait()
    t.ok(not fails, f"20 dumps while a flow is created every few ms all "
         f"succeed ({len(fails)} failed: {fails[:2]})")


def wait_for(cond, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return False


def top_reload():
    """`vnacct top` outlasts a module reload: while the module is away it
    says so, and it shows flows again once the module is back."""
    top = subprocess.Popen([CLI, "top", "-d", "0.3"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(top.stdout.readline, "")),
        daemon=True)
    reader.start()

    def shown(text, since=0):
        return lambda: any(text in x for x in lines[since:])
    up = wait_for(shown("flows, every"), 120)
    # rmmod fails with EBUSY while one of top's dumps holds the module
    gone = wait_for(lambda: subprocess.run(["rmmod", "vnacct"],
                                           capture_output=True)
                    .returncode == 0, 120)
    waiting = wait_for(shown("module not loaded, waiting for it"), 120)
    since = len(lines)
    load("flow_timeout=3600")
    back = wait_for(shown("flows, every", since), 120)
    alive = top.poll() is None
    top.terminate()
    top.wait()
    t.ok(up and gone and waiting and back and alive,
         f"vnacct top outlasts a reload: flows shown {up}, module unloaded "
         f"{gone}, 'module not loaded, waiting' shown {waiting}, flows "
         f"again {back}, still running {alive} ({len(lines)} lines)")


def main():
    # The YNL client parses its YAML spec on every call: under TCG with
    # KASAN one call takes tens of seconds, long enough for the default
    # 60 s idle timeout to expire the quiet flows it is meant to compare.
    load("flow_timeout=3600")
    topology()
    r = run(f"{CLI} flows proto bogus")
    t.ok(r.returncode == 2 and "proto 'bogus'" in r.stderr,
         f"bad argument: exit 2 naming it ({r.stderr.strip()})")
    dbg = phase(cli_vs_debugfs)
    phase(ynl_checks, dbg)
    phase(unprivileged)
    phase(netns)
    phase(churn)
    phase(top_reload)
    sh("ip link del v0; ip netns del peer", check=False)
    unload()
    r = run(f"{CLI} flows")
    t.ok(r.returncode == 3 and "module not loaded (genl family vnacct not "
         "found)" in r.stderr, f"module unloaded: exit 3 "
         f"({r.stderr.strip()})")
    t.done()


if __name__ == "__main__":
    try:
        main()
    except NlError as e:
        t.ok(False, f"netlink error {e}")
        t.done()
