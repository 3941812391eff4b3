#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unload under load (issue 6): vnacct is loaded and unloaded again and
again while traffic runs on every path and its readers keep reading:

  traffic   the tap guest (vnacct-tapguest, pinned to vCPU 0) and the
            vhost-net guest (vnacct-vhostguest, vCPU 1) ping the external
            namespace through their taps, bridge br0 and a veth, run after
            run; a loopback generator per vCPU does UDP ping-pong, a TCP
            stream and (with churn) one-shot datagrams to fresh addresses
  readers   a process reading every debugfs file and dumping the flows
            over netlink; `vnacct top` (it waits while the module is away,
            and must never exit on its own); userspace/vnacctd when it is built (restarted when
            it exits) and a scraper of its /metrics

Checks: every load succeeds; before each rmmod the module reference count
falls to 0 (readers paused only for the debugfs files they hold open;
netlink dumps of top/vnacctd take a reference only while they run); every
rmmod succeeds (retried on EBUSY while a dump holds a reference) and
returns within 120 s; every generator's counts are exact (ping replies,
UDP datagrams, TCP bytes: vnacct never drops traffic, loaded or not);
the readers see only "module not loaded" errors.  Leaks: vm-run.sh's
kmemleak scans after the run; splats fail the run.

Cycles: 1 on the debug kernel, 3 on the others (make check); VNACCT_SOAK=1:
60 (VNACCT_CYCLES overrides).  rmmod is the delete_module() system call
with O_NONBLOCK, retried every 20 ms while a dump holds the module (a
process per try took seconds on a loaded TCG guest, and dumps grew with a
table of 4096 churned flows: 5 cycles overran 600 s).  With a table of 256
flows and a 5 s idle timeout, one cycle takes 4-21 s on stock 6.12 under
TCG (insmod under this load up to 17 s, rmmod 2-3 s with 1-6 EBUSY).
"""

import ctypes
import errno
import faulthandler
import json
import multiprocessing as mp
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vnacct_util import Tap, sh, load, host_topology, DBG, BIN  # noqa

SOAK = os.environ.get("VNACCT_SOAK") == "1"
DEBUG = "debug" in platform.release() or \
    os.environ.get("VNACCT_KERNEL") == "debug"
CYCLES = int(os.environ.get("VNACCT_CYCLES",
                            60 if SOAK else 1 if DEBUG else 3))
FILES = ["stats", "flows", "stages", "histograms"]
PING = 40
GUESTS = [
    ("vnacct-tapguest", "tap0", "02:00:00:00:00:01", "10.0.0.1", 0),
    ("vnacct-vhostguest", "vtap0", "02:00:00:00:00:03", "10.0.0.3", 1),
]
VNACCTD = os.path.join(BIN, "vnacctd")
# The churn makes a new flow per datagram: with 3600 s (vnacct_util's
# default) they pile up and every dump of top and vnacctd (each holding a
# module reference while it runs) grows until rmmod rarely finds the module
# free.  A small table and a short idle timeout keep dumps short, and the
# full-table path (flows_full, eviction) runs under load too.
PARAMS = "max_flows=256 flow_timeout=5"
METRICS = "127.0.0.1:9469"


def loaded():
    return os.path.exists("/sys/module/vnacct")


def topology():
    host_topology([g[1] for g in GUESTS], ext_ipv6=False)


def teardown():
    sh("ip link del tap0; ip link del vtap0; ip link del br0; "
       "ip netns del ext", check=False)


class GuestLoop(threading.Thread):
    """Runs one test guest again and again, pinned to one vCPU: PING echo
    requests, one at a time, through its tap, br0 and the veth to the
    external namespace.  Keeps every run's report."""

    def __init__(self, prog, tap, mac, ip, cpu, stop):
        super().__init__(daemon=True)
        self.args = ["taskset", "-c", str(cpu), f"{BIN}/{prog}", "--ifname",
                     tap, "--mac", mac, "--ip", f"{ip}/24", "--peer",
                     "10.0.0.2", "--ping", str(PING), "--interval-ms", "10",
                     "--timeout-ms", "5000", "--json"]
        self.name = prog.split("-")[1]
        self.stop = stop
        self.reports, self.errors = [], []

    def run(self):
        while not self.stop.is_set():
            r = subprocess.run(self.args, capture_output=True, text=True)
            try:
                self.reports.append(json.loads(r.stdout))
            except ValueError:
                self.errors.append((r.returncode, r.stderr[-200:]))

    def tally(self):
        sent = sum(r["ping"]["sent"] for r in self.reports)
        recv = sum(r["ping"]["received"] for r in self.reports)
        return len(self.reports), sent, recv


LOOPGEN = r"""
import os, signal, socket, sys, time
cpu, port, churn_on = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
os.sched_setaffinity(0, {cpu})
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("0.0.0.0", port)); rx.settimeout(5)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.bind(("127.0.0.1", port + 1))
ls = socket.socket(); ls.bind(("127.0.0.1", port + 2)); ls.listen(1)
c = socket.socket(); c.connect(("127.0.0.1", port + 2))
s, _ = ls.accept(); s.settimeout(5)
print("ready", flush=True)
sent = got = tsent = tgot = churn = loops = 0
while not stop:
    loops += 1
    time.sleep(0.002)
    tx.sendto(b"u" * 200, ("127.0.0.1", port))
    sent += 1
    try:
        rx.recv(1000); got += 1
    except OSError:
        pass
    if loops % 10 == 0:
        c.sendall(b"t" * 3000); tsent += 3000
        while tgot < tsent:
            try:
                tgot += len(s.recv(65536))
            except OSError:
                break
    if churn_on:
        # one-shot flows to fresh destinations (counted like the others)
        churn += 1
        x = (churn * 2654435761 + port) & 0xffff
        tx.sendto(b"c", ("127.%d.%d.%d" % (100 + cpu, x >> 8,
                                            (x & 254) | 1), port))
        sent += 1
        try:
            rx.recv(1000); got += 1
        except OSError:
            pass
print(sent, got, tsent, tgot, flush=True)
"""


def loopgens(churn):
    """UDP ping-pong and a TCP stream over loopback, one generator pinned
    to each vCPU; with churn also one-shot datagrams to fresh local
    addresses (new flows all the time)."""
    procs = [subprocess.Popen(["python3", "-c", LOOPGEN, str(cpu),
                               str(7500 + 10 * cpu), str(int(churn))],
                              stdout=subprocess.PIPE, text=True)
             for cpu in (0, 1)]
    # Started (Python's start-up takes many seconds on the debug kernel):
    # a SIGTERM before the handler is set would lose the counts.
    for p in procs:
        p.stdout.readline()
    return procs


def loopgens_stop(procs):
    out = []
    for p in procs:
        p.send_signal(signal.SIGTERM)
        o = p.communicate(timeout=60)[0].split()
        out.append([int(x) for x in o] if len(o) == 4 else None)
    return out


def check_traffic(t, what, guests, lo):
    for g in guests:
        runs, sent, recv = g.tally()
        t.ok(runs > 0 and sent == recv and sent == PING * runs and
             not g.errors,
             f"{what}: {g.name} guest: {runs} runs, {recv}/{sent} echo "
             f"replies (errors: {g.errors[:2]})")
    for cpu, r in enumerate(lo):
        t.ok(r is not None and r[0] == r[1] and r[2] == r[3] and r[0] > 0,
             f"{what}: loopback on vCPU {cpu}: udp {r and r[1]}/"
             f"{r and r[0]} datagrams, tcp {r and r[3]}/{r and r[2]} bytes")


def reader_loop(pause, paused, stop, q):
    """Reads every debugfs file and dumps the flows over netlink, in a
    loop; tolerates the module going away.  Pauses (files closed) on
    request."""
    from netlink_raw import Genl, NlError, CMD
    n = nl = errs = 0
    other = []
    def pausing():
        if not pause.is_set():
            return False
        paused.set()
        while pause.is_set() and not stop.is_set():
            time.sleep(0.01)
        paused.clear()
        return True

    while not stop.is_set():
        time.sleep(0.02)
        for name in FILES:
            if pausing():
                break
            try:
                with open(os.path.join(DBG, name)) as f:
                    f.read()
                n += 1
            except OSError as e:
                errs += 1
                if e.errno not in (errno.ENOENT, errno.EIO) and \
                        len(other) < 5:
                    other.append(errno.errorcode.get(e.errno, e.errno))
        try:
            g = Genl()
            g.dump(CMD["dump_flows"])
            nl += 1
            g.s.close()
        except NlError as e:
            # family gone (ENOENT), or unloading under the dump
            if e.errno not in (errno.ENOENT,) and len(other) < 5:
                other.append(f"netlink {e}")
        except (IndexError, OSError):
            pass    # GETFAMILY answered with nothing: family gone
    q.put((n, nl, errs, other))


class Restarter(threading.Thread):
    """Runs a command again whenever it exits; counts exit codes."""

    def __init__(self, args, stop, **kw):
        super().__init__(daemon=True)
        self.args, self.stop, self.kw = args, stop, kw
        self.codes = {}
        self.why = {}       # exit code: last line of stderr (first seen)
        self.proc = None

    def run(self):
        while not self.stop.is_set():
            self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, **self.kw)
            err = self.proc.communicate()[1]
            rc = self.proc.returncode
            self.codes[rc] = self.codes.get(rc, 0) + 1
            if rc and rc not in self.why:
                self.why[rc] = err.decode(errors="replace").strip()[-120:]
            time.sleep(0.2)

    def finish(self):
        self.stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
        self.join(timeout=30)


def scraper(stop, res):
    while not stop.is_set():
        time.sleep(0.5)
        try:
            with urllib.request.urlopen(f"http://{METRICS}/metrics",
                                        timeout=10) as r:
                r.read()
            res["ok"] += 1
        except OSError:
            res["fail"] += 1


def readers_start():
    """The reader process (forked before any thread exists), `vnacct top`
    and vnacctd loops."""
    pause, paused, rstop, q = mp.Event(), mp.Event(), mp.Event(), mp.Queue()
    rd = mp.Process(target=reader_loop, args=(pause, paused, rstop, q))
    rd.start()
    stop = threading.Event()
    # stdin an open, silent pipe: top waits its -d between refreshes
    top = Restarter([f"{BIN}/vnacct", "top", "-d", "0.3", "-n", "5"], stop)
    top.start()
    d = scr = None
    sres = {"ok": 0, "fail": 0}
    if os.access(VNACCTD, os.X_OK):
        d = Restarter([VNACCTD, "--interval", "0.5", "--listen", METRICS],
                      stop)
        d.start()
        scr = threading.Thread(target=scraper, args=(stop, sres),
                               daemon=True)
        scr.start()
    return dict(pause=pause, paused=paused, rstop=rstop, q=q, rd=rd,
                stop=stop, top=top, d=d, scr=scr, sres=sres)


def readers_stop(r):
    r["rstop"].set()
    r["pause"].clear()
    reads = r["q"].get(timeout=60)
    r["rd"].join(timeout=10)
    r["top"].finish()
    if r["d"]:
        r["d"].finish()
    return reads


def refcnt():
    try:
        with open("/sys/module/vnacct/refcnt") as f:
            return int(f.read())
    except OSError:
        return None


LIBC = ctypes.CDLL(None, use_errno=True)
SYS_delete_module = 176     # x86_64


def rmmod_bounded(t, limit=120):
    """delete_module("vnacct", O_NONBLOCK) as rmmod does, but without a
    process per try (a fork and exec take seconds on a loaded TCG guest,
    and a dump of top or vnacctd holds the module meanwhile): 0, an errno
    (EBUSY/EAGAIN: in use), or None when it does not return within limit
    seconds (then the blocked thread's kernel stack goes to the log)."""
    res = {}

    def call():
        res["tid"] = threading.get_native_id()
        r = LIBC.syscall(SYS_delete_module, b"vnacct", os.O_NONBLOCK)
        res["rc"] = 0 if r == 0 else ctypes.get_errno()

    th = threading.Thread(target=call, daemon=True)
    th.start()
    th.join(limit)
    if not th.is_alive():
        return res["rc"]
    t.diag(f"delete_module (tid {res.get('tid')}) blocked for {limit} s; "
           f"its stack:")
    try:
        with open(f"/proc/self/task/{res.get('tid')}/stack") as f:
            t.diag(f.read())
    except OSError as e:
        t.diag(str(e))
    sh("echo w > /proc/sysrq-trigger", check=False)
    return None


def main():
    t = Tap()
    # A hang shows where it is, well before run_all.sh's 600 s.
    # Only past run_all's limit: a dump while the worker threads run has
    # crashed python itself (SIGSEGV) on a loaded host.
    faulthandler.dump_traceback_later(
        (3000 if not DEBUG else 9000) if SOAK else 1500)
    sh("modprobe -a tun vhost_net bridge veth", check=False)
    t.diag(f"load_cycles: {CYCLES} cycles ({'soak' if SOAK else 'short'}"
           f"{', debug kernel' if DEBUG else ''}); vnacctd "
           f"{'running' if os.access(VNACCTD, os.X_OK) else 'not built'}")
    topology()
    load(PARAMS)
    rd = readers_start()
    stop = threading.Event()
    guests = [GuestLoop(p, tap, mac, ip, cpu, stop)
              for p, tap, mac, ip, cpu in GUESTS]
    for g in guests:
        g.start()
    lgens = loopgens(True)
    stuck, fails, times, busy = [], [], [], 0
    done = 0
    t_start = time.time()
    for c in range(CYCLES):
        t0 = time.time()
        if c:
            try:
                load(PARAMS)
            except RuntimeError as e:
                fails.append(("load", c, str(e)[-160:]))
                break
        t_load = time.time() - t0
        time.sleep(1.0)     # traffic through the loaded module
        # Debugfs readers hold a reference while a file is open: pause
        # the reader, then the count must fall to 0 (a netlink dump of top
        # or vnacctd holds one only while it runs).
        t1 = time.time()
        rd["pause"].set()
        rd["paused"].wait(60)
        t_pause = time.time() - t1
        for _ in range(200):
            ref = refcnt()
            if ref == 0:
                break
            time.sleep(0.05)
        if ref != 0:
            stuck.append((c, ref))
        t1 = time.time()
        ok = False
        busy0, t_last = busy, 0.0
        # vnacct top and vnacctd keep dumping: each dump holds a module
        # reference for its duration, so rmmod may need many tries.
        while time.time() - t1 < 300:
            t_last = time.time()
            r = rmmod_bounded(t)
            t_last = time.time() - t_last
            if r is None:
                fails.append(("rmmod hangs", c))
                break
            if r == 0:
                ok = True
                break
            if r not in (errno.EBUSY, errno.EAGAIN):
                fails.append(("rmmod", c, errno.errorcode.get(r, r)))
                break
            busy += 1
            time.sleep(0.02)
        rd["pause"].clear()
        if not ok:
            if not fails:
                fails.append(("rmmod keeps failing", c, refcnt()))
            break
        done += 1
        times.append(time.time() - t0)
        t.diag(f"cycle {c}: {times[-1]:.1f} s (insmod {t_load:.1f} s, "
               f"reader paused in {t_pause:.1f} s, rmmod "
               f"{time.time() - t1:.1f} s: {busy - busy0} x EBUSY, the "
               f"successful one {t_last:.1f} s)")
        time.sleep(0.5)     # traffic with the module away
    el = time.time() - t_start
    stop.set()
    for g in guests:
        g.join(timeout=120)
    lo = loopgens_stop(lgens)
    reads = readers_stop(rd)
    if loaded():
        subprocess.run(["rmmod", "vnacct"], capture_output=True)
    t.diag(f"load_cycles: {done} cycles in {el:.1f} s "
           f"({el / max(done, 1):.1f} s each, slowest "
           f"{max(times, default=0):.1f} s); rmmod EBUSY retries {busy}; "
           f"reader: {reads[0]} debugfs reads, {reads[1]} netlink dumps, "
           f"{reads[2]} failed (module away); vnacct top exits "
           f"{rd['top'].codes} {rd['top'].why}; vnacctd exits "
           f"{rd['d'].codes if rd['d'] else None}, /metrics {rd['sres']}")
    t.ok(done == CYCLES and not fails,
         f"load_cycles: {done}/{CYCLES} load/unload cycles under traffic "
         f"(failures: {fails})")
    t.ok(not stuck, f"load_cycles: module refcount 0 before every rmmod "
         f"(stuck: {stuck})")
    t.ok(not reads[3], f"load_cycles: readers saw only 'not loaded' "
         f"errors (other: {reads[3]})")
    # top waits while the module is away: one top runs through every
    # cycle and exits only when stopped here (SIGTERM).
    t.ok(rd["top"].codes == {-signal.SIGTERM: 1},
         f"load_cycles: one vnacct top ran through every cycle, stopped "
         f"only at the end (exits {rd['top'].codes} {rd['top'].why})")
    if rd["d"]:
        bad_d = {k: v for k, v in rd["d"].codes.items() if k < 0 and
                 k != -signal.SIGTERM}
        t.ok(not bad_d and rd["sres"]["ok"] > 0,
             f"load_cycles: vnacctd never crashed ({rd['d'].codes}), "
             f"/metrics scraped {rd['sres']['ok']} times")
    else:
        t.skip("load_cycles: vnacctd reading", f"{VNACCTD} not built")
    check_traffic(t, "load_cycles", guests, lo)
    teardown()
    t.done()


if __name__ == "__main__":
    main()
