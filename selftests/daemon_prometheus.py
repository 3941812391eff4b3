#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vnacctd, the Prometheus exporter, in the VM:

  * on a quiet topology (veth to a namespace, ping and UDP with known
    counts) /metrics equals the CLI and debugfs for the same flows:
    packets, bytes, per-stage packets, residency histogram count, sum and
    every cumulative le bucket (recomputed from debugfs `histograms`);
  * the page passes `promtool check metrics`; --top 1 keeps one flow
    label and sums the rest into flow="other" exactly;
  * Debian's real Prometheus server scrapes vnacctd every second and its
    HTTP API returns the expected values;
  * rmmod / insmod under scraping: vnacctd survives, serves vnacct_up 0
    while the module is absent, reconnects and serves new flows after the
    reload;
  * SIGTERM: exit status 0.

Every wait is a poll with a generous deadline (TCG, debug kernel); no
pass/fail depends on timing.
"""

import glob
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from netlink_cli import topology as veth_topology
from vnacct_util import Tap, sh, load, table, BIN

t = Tap()
CLI = f"{BIN}/vnacct"
DAEMON = f"{BIN}/vnacctd"
PORT, PORT_TOP1, PROM_PORT = 19469, 19470, 19090
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
LE_NS = [250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
         500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
         100000000, 250000000, 500000000, 1000000000, 2500000000,
         5000000000, 10000000000]
NPING, NUDP, UDP_LEN = 20, 50, 300
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


T0 = time.monotonic()


def phase(what):
    t.diag(f"[{time.monotonic() - T0:.0f} s] {what}")


def run(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                          **kw)


def wait_for(fn, what, deadline=240, step=0.5):
    """Polls fn() until it returns a true value or the deadline passes."""
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v or time.monotonic() > end:
            if not v:
                t.diag(f"gave up waiting for {what} after {deadline} s")
            return v
        time.sleep(step)


def fetch(port, path="/metrics"):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=30) as r:
            return r.read().decode()
    except OSError:
        return None


def parse(page):
    """Exposition text -> {(name, frozenset(labels)): float}, HELP/TYPE."""
    out, types = {}, {}
    for line in page.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"bad sample line {line!r}")
        labels = {k: v.replace('\\"', '"').replace("\\\\", "\\")
                  for k, v in LABEL.findall(m.group(2) or "")}
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out, types


def get(samples, name, **labels):
    want = set(labels.items())
    return [v for (n, ls), v in samples.items() if n == name and want <= ls]


def one(samples, name, **labels):
    v = get(samples, name, **labels)
    return v[0] if len(v) == 1 else None


def flow_label(f):
    return f"{f['proto']} {f['src']}:{f['sport']} > {f['dst']}:{f['dport']}"


def topology():
    """netlink_cli's veth pair to namespace peer (10.9.0.1 - 10.9.0.2),
    with a permanent neighbour: no ARP refresh while flows are compared."""
    veth_topology()
    sh("ip neigh replace 10.9.0.2 lladdr "
       "$(ip -n peer -br link show v1 | awk '{print $3}') "
       "dev v0 nud permanent")


def traffic():
    sh(f"ping -c {NPING} -i 0.05 -q 10.9.0.2")
    sh("python3 -c \"import socket; s=socket.socket(2, 2); "
       f"[s.sendto(b'x' * {UDP_LEN}, ('10.9.0.2', 9)) "
       f"for i in range({NUDP})]\"")


DAEMONS = {}


def daemon_state(port):
    """Where vnacctd on @port is, for a test that waits on it in vain."""
    p = DAEMONS.get(port)
    if not p:
        return
    for what in ("wchan", "stack", "status"):
        try:
            with open(f"/proc/{p.pid}/{what}") as f:
                t.diag(f"vnacctd {p.pid} {what}: " + " | ".join(
                    x for x in f.read().splitlines()
                    if what != "status" or x.startswith("State")))
        except OSError as e:
            t.diag(f"vnacctd {p.pid} {what}: {e}")
    # Each thread twice, 2 s apart: its state, CPU time (a thread that
    # spins gains utime/stime) and the system call it is in.
    for rnd in (1, 2):
        for tid in sorted(os.listdir(f"/proc/{p.pid}/task"), key=int):
            d = f"/proc/{p.pid}/task/{tid}"
            try:
                st = open(f"{d}/stat").read().rsplit(")", 1)[1].split()
                sc = open(f"{d}/syscall").read().split()[:3]
                t.diag(f"vnacctd thread {tid} ({rnd}): state {st[0]} "
                       f"utime {st[11]} stime {st[12]} syscall {sc}")
            except OSError as e:
                t.diag(f"vnacctd thread {tid}: {e}")
        time.sleep(2)
    page = fetch(port)
    t.diag("vnacctd page now: " + ("none" if not page else " | ".join(
        x for x in page.splitlines() if x.startswith(("vnacct_up",
                                                      "vnacctd_")))))
    try:
        with open(f"/tmp/vnacctd-{port}.log") as f:
            t.diag("vnacctd log: " + " | ".join(f.read().splitlines()[-8:]))
    except OSError:
        pass


def start_daemon(port, *args):
    log = open(f"/tmp/vnacctd-{port}.log", "w")
    p = subprocess.Popen([DAEMON, "--listen", f"127.0.0.1:{port}",
                          "--interval", "1", *args],
                         stdout=log, stderr=subprocess.STDOUT)
    DAEMONS[port] = p
    ok = wait_for(lambda: fetch(port) is not None or p.poll() is not None,
                  f"vnacctd on port {port}", 60)
    return p if ok and p.poll() is None else p


def fresh_page(port, after):
    """A page from a poll that started after the monotonic-ish wall time
    @after (vnacctd_last_poll_timestamp_seconds)."""
    def f():
        page = fetch(port)
        if not page:
            return None
        s, _ = parse(page)
        ts = one(s, "vnacctd_last_poll_timestamp_seconds")
        return (page, s) if ts and ts > after else None
    # On the debug kernel one poll (stats, dump, page) can take tens of
    # seconds, ~80% of it kernel time in vnacctd's main thread (measured
    # by daemon_state(): 20 polls in ~500 s); 90 s was sometimes too short.
    slow = "debug" in os.uname().release
    r = wait_for(f, f"a poll after {after:.3f} on port {port}",
                 240 if slow else 90)
    if not r:
        daemon_state(port)
    return r


def quiet(flows_json):
    """The flows that stay still: all but loopback's (ifindex 1 in every
    namespace), where the scrapes themselves are TCP flows."""
    return [f for f in json.loads(flows_json or "[]") if f["ifindex"] != 1]


def quiet_snapshot(port):
    """CLI flows, debugfs histograms and a vnacctd page of the same
    (unchanging) state of the quiet flows: retried until the CLI reads
    before and after the page agree."""
    for attempt in range(6):
        before = quiet(run(f"{CLI} --json flows").stdout)
        hists = table("histograms")
        res = fresh_page(port, time.time())
        after = quiet(run(f"{CLI} --json flows").stdout)
        if res and before == after:
            return after, hists, res[0], res[1]
        t.diag(f"flows changed around the scrape (try {attempt + 1})")
    return after, hists, res[0] if res else "", res[1] if res else {}


def cumulative(buckets):
    """debugfs `lo-hi:count` buckets -> cumulative counts per LE_NS bound
    (a bucket counts under the first bound >= its upper end)."""
    out = []
    for le in LE_NS:
        out.append(sum(int(c) for b in buckets
                       for r, c in [b.split(":")]
                       if int(r.split("-")[1]) <= le))
    return out


def compare(cli, hists, s):
    mine = os.stat("/proc/self/ns/net").st_ino
    ours = [f for f in cli if f["netns"] == mine and f["dst"] == "10.9.0.2"
            and f["proto"] in ("udp", "icmp")]
    t.ok(len(ours) == 2, f"the CLI shows the test's UDP and ICMP flows "
         f"({[flow_label(f) for f in ours]})")
    udp = [f for f in ours if f["proto"] == "udp"]
    t.ok(udp and udp[0]["packets"] == NUDP and
         udp[0]["bytes"] == NUDP * (UDP_LEN + 28),
         f"generator reference: UDP flow has {NUDP} packets, "
         f"{NUDP * (UDP_LEN + 28)} bytes")
    bad = []
    checked = 0
    for f in ours:
        lab = dict(flow=flow_label(f), direction=f["dir"],
                   device=socket.if_indextoname(f["ifindex"]),
                   netns=str(f["netns"]))
        for name, key in [("vnacct_packets_total", "packets"),
                          ("vnacct_bytes_total", "bytes")]:
            v = one(s, name, **lab)
            checked += 1
            if v != f[key]:
                bad.append((lab["flow"], name, v, f[key]))
        v = one(s, "vnacct_copied_bytes_total", kind="to_socket", **lab)
        checked += 1
        if v != f["copies"]["to_socket"]["bytes"]:
            bad.append((lab["flow"], "copied to_socket", v,
                        f["copies"]["to_socket"]["bytes"]))
        hrows = {h["what"]: h for h in hists if h["id"] == f["id"]}
        for st in f["stages"]:
            sl = dict(lab, stage=st["stage"])
            pairs = [
                (one(s, "vnacct_stage_packets_total", **sl), st["packets"]),
                (one(s, "vnacct_stage_bytes_total", **sl), st["bytes"]),
                (one(s, "vnacct_stage_residency_seconds_count", **sl),
                 st["residency"]["count"]),
                (one(s, "vnacct_stage_residency_seconds_bucket", le="+Inf",
                     **sl), st["residency"]["count"])]
            ssum = one(s, "vnacct_stage_residency_seconds_sum", **sl)
            want_sum = st["residency"]["sum_ns"] / 1e9
            if ssum is None or not math.isclose(ssum, want_sum,
                                                rel_tol=1e-9):
                bad.append((lab["flow"], st["stage"], "sum", ssum, want_sum))
            for got, want in pairs:
                checked += 1
                if got != want:
                    bad.append((lab["flow"], st["stage"], got, want))
            h = hrows.get(st["stage"])
            if not h:
                bad.append((lab["flow"], st["stage"], "no debugfs row"))
                continue
            want = cumulative(h["buckets"])
            got = [one(s, "vnacct_stage_residency_seconds_bucket",
                       le=f"{le / 1e9:g}", **sl) for le in LE_NS]
            checked += len(LE_NS)
            if got != want:
                bad.append((lab["flow"], st["stage"], "le", got, want))
        got = one(s, "vnacct_residency_seconds_count", **lab)
        checked += 1
        if got != f["residency"]["count"]:
            bad.append((lab["flow"], "residency count", got,
                        f["residency"]["count"]))
    t.ok(checked > 50 and not bad,
         f"/metrics equals the CLI and debugfs: {checked} values of "
         f"{len(ours)} flows (differences {bad[:4]})")
    return ours


def check_top1(cli, page):
    """--top 1: one flow label on the whole page, the rest in "other"; on
    the quiet device (v0 in this namespace) labelled + other = the CLI."""
    s, _ = parse(page)
    labels = {dict(ls)["flow"] for (n, ls) in s
              if n == "vnacct_packets_total"}
    t.ok(len(labels - {"other"}) == 1 and "other" in labels,
         f"--top 1: one flow label plus other ({sorted(labels)[:3]}, "
         f"vnacct_up {one(s, 'vnacct_up')}, page {len(page)} bytes)")
    mine = str(os.stat("/proc/self/ns/net").st_ino)
    v0 = [f for f in cli if str(f["netns"]) == mine and
          f["ifindex"] == socket.if_nametoindex("v0")]
    for name, key in [("vnacct_packets_total", "packets"),
                      ("vnacct_bytes_total", "bytes"),
                      ("vnacct_residency_seconds_count", "residency")]:
        got = sum(get(s, name, netns=mine, device="v0"))
        want = sum(f[key]["count"] if key == "residency" else f[key]
                   for f in v0)
        t.eq(got, want, f"--top 1: {name} of v0's series (flow label + "
             f"other) sums the CLI's {len(v0)} flows")


def prom_query(q):
    url = (f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" +
           urllib.parse.urlencode({"query": q}))
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            d = json.loads(r.read())
    except (OSError, ValueError):
        return None
    if d.get("status") != "success":
        return None
    return d["data"]["result"]


def prometheus(ours, tmp):
    if not os.access(PROMETHEUS, os.X_OK):
        t.skip("Prometheus server scrapes vnacctd",
               f"{PROMETHEUS} missing (scripts/deps.sh installs prometheus)")
        return None
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: vnacct\n"
                "    static_configs:\n"
                f"      - targets: ['127.0.0.1:{PORT}']\n")
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    p = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}",
                          f"--storage.tsdb.path={tmp}/data",
                          f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
                         stdout=log, stderr=subprocess.STDOUT)
    t0 = time.monotonic()
    r = wait_for(lambda: p.poll() is not None or
                 prom_query('vnacct_up{job="vnacct"} == 1'),
                 "Prometheus' first successful scrape", 300, 1)
    r = r and p.poll() is None
    t.ok(r,
         f"Prometheus {PROMETHEUS} is up and scraped vnacctd "
         f"(took {time.monotonic() - t0:.0f} s)")
    if not r:
        with open(os.path.join(tmp, "prometheus.log")) as f:
            t.diag(f.read()[-2000:])
        return p
    udp = [f for f in ours if f["proto"] == "udp"][0]
    icmp = [f for f in ours if f["proto"] == "icmp"][0]
    ns = f'netns="{udp["netns"]}"'
    q = (f'vnacct_packets_total{{job="vnacct",{ns},'
         f'flow="{flow_label(udp)}"}}')
    res = prom_query(q)
    t.diag(f"query {q}")
    t.diag(json.dumps(res))
    t.ok(res and len(res) == 1 and float(res[0]["value"][1]) == NUDP and
         res[0]["metric"].get("device") ==
         socket.if_indextoname(udp["ifindex"]),
         f"Prometheus API: {q} = {NUDP}")
    q = (f'sum(vnacct_stage_residency_seconds_count{{{ns},flow="'
         f'{flow_label(icmp)}"}}) by (flow)')
    res = prom_query(q)
    want = sum(st["residency"]["count"] for st in icmp["stages"])
    t.ok(res and float(res[0]["value"][1]) == want,
         f"Prometheus API: {q} = {want} "
         f"({res and res[0]['value'][1]})")
    q = (f'vnacct_bytes_total{{{ns},flow="{flow_label(udp)}"}} / '
         f'vnacct_packets_total{{{ns},flow="{flow_label(udp)}"}}')
    res = prom_query(q)
    t.ok(res and float(res[0]["value"][1]) == UDP_LEN + 28,
         f"Prometheus API: bytes per UDP packet = {UDP_LEN + 28}")
    return p


def raw_page_with_up(port, up):
    """The text of vnacctd's page on @port if it says vnacct_up @up."""
    page = fetch(port)
    return page if page and one(parse(page)[0], "vnacct_up") == up else None


def page_with_up(up):
    """The parsed page of the main vnacctd if it says vnacct_up @up."""
    page = fetch(PORT)
    if not page:
        return None
    s, _ = parse(page)
    return s if one(s, "vnacct_up") == up else None


def reload_cycle(daemon, prom):
    """rmmod / insmod while vnacctd is scraped (by Prometheus and here)."""
    s, _ = parse(fetch(PORT) or "")
    connects = one(s, "vnacctd_connects_total")

    def rmmod():
        return run("rmmod vnacct").returncode == 0
    t.ok(wait_for(rmmod, "rmmod vnacct (busy while a dump runs)", 60),
         "rmmod vnacct while vnacctd polls")

    s = wait_for(lambda: page_with_up(0), "vnacct_up 0")
    t.ok(s and daemon.poll() is None and
         not get(s, "vnacct_packets_total") and
         one(s, "vnacctd_polls_total") > 0,
         "module unloaded: vnacctd alive, vnacct_up 0, no flow series, "
         "own metrics served")
    if prom:
        r = wait_for(lambda: (prom_query('vnacct_up{job="vnacct"} == 0')),
                     "Prometheus sees vnacct_up 0", 120, 1)
        t.ok(r, "Prometheus API: vnacct_up == 0 while the module is out")
    load("flow_timeout=3600")
    sh(f"{CLI} config filter v0")
    # Until the filter is set every device is followed: the scrapes on lo
    # (Prometheus every second, one TCP flow per connection, kilobytes
    # each) made in that window outrank the ping flow by bytes and push it
    # out of vnacctd's --top 10 into flow="other" (seen on the debug
    # kernel, where insmod and the CLI take seconds).  Start from none.
    sh(f"{CLI} reset")
    n = 7
    sh(f"ping -c {n} -i 0.05 -q 10.9.0.2")

    s = wait_for(lambda: page_with_up(1), "vnacct_up 1 after insmod")
    # While rmmod tears the hooks down the family is still registered but
    # refuses dumps (module going): vnacctd may reconnect more than once.
    t.ok(s and daemon.poll() is None and connects is not None and
         one(s, "vnacctd_connects_total") > connects,
         f"module reloaded: vnacctd alive, vnacct_up 1, the family resolved "
         f"again (vnacctd_connects_total {connects} -> "
         f"{s and one(s, 'vnacctd_connects_total')})")
    cli, _, _, s = quiet_snapshot(PORT)
    mine = os.stat("/proc/self/ns/net").st_ino
    req = [f for f in cli if f["proto"] == "icmp" and f["netns"] == mine and
           f["dst"] == "10.9.0.2"]
    got = [one(s, "vnacct_packets_total", flow=flow_label(f),
               netns=str(f["netns"]), device="v0") for f in req]
    if got != [n]:
        t.diag("page's v0 packet series: " + str(
            [(dict(ls).get("flow"), v) for (nm, ls), v in s.items()
             if nm == "vnacct_packets_total" and
             dict(ls).get("device") == "v0"]))
    t.ok(len(req) == 1 and req[0]["packets"] == n and got == [n],
         f"after the reload /metrics serves the new ping flow: {got} "
         f"packets, CLI {[f['packets'] for f in req]}, ping sent {n}")
    if prom:
        r = wait_for(lambda: prom_query('vnacct_up{job="vnacct"} == 1'),
                     "Prometheus sees vnacct_up 1 again", 120, 1)
        t.ok(r, "Prometheus API: vnacct_up == 1 after the reload")


def main():
    tmp = tempfile.mkdtemp(prefix="vnacctd-")
    phase("start")
    sh("ip link del v0; ip netns del peer", check=False)
    load("flow_timeout=3600")
    phase("module loaded")
    topology()
    # Only v0's flows: the scrapes (TCP on lo, one flow per connection)
    # would otherwise grow the table and the page all along the test.
    sh(f"{CLI} config filter v0")
    r = run(f"{DAEMON} --listen nowhere")
    t.ok(r.returncode == 2 and "--listen 'nowhere'" in r.stderr,
         f"bad --listen: exit 2 ({r.stderr.strip()})")
    traffic()
    phase("traffic sent")
    daemon = start_daemon(PORT, "--top", "10")
    t.ok(daemon.poll() is None, f"vnacctd listens on 127.0.0.1:{PORT}")
    # The page served before the first poll ends says vnacct_up 0 (a poll
    # takes seconds on the debug kernel): the first one with data.
    page = wait_for(lambda: raw_page_with_up(PORT, 1),
                    "a page from a successful poll", 120) or ""
    bad = run(f"{PROMTOOL} check metrics", input=page)
    t.ok(bad.returncode == 0 and one(parse(page)[0], "vnacct_up") == 1,
         f"promtool check metrics: clean ({len(page)} bytes) "
         f"{(bad.stdout + bad.stderr).strip()[:300]}")
    phase("promtool done")
    _, types = parse(page)
    want = {"vnacct_stage_residency_seconds": "histogram",
            "vnacct_residency_seconds": "histogram",
            "vnacct_packets_total": "counter",
            "vnacct_copied_bytes_total": "counter",
            "vnacct_probe_hits_total": "counter",
            "vnacct_memory_bytes": "gauge",
            "vnacct_packets_cloned_total": "counter",
            "vnacct_packets_lost_stale_total": "counter", "vnacct_up": "gauge"}
    t.ok(all(types.get(k) == v for k, v in want.items()),
         f"# TYPE of the main metrics ({[k for k in want if types.get(k) != want[k]]} wrong)")
    cli, hists, _, s = quiet_snapshot(PORT)
    t.diag("vnacct --json flows (the compared moment):")
    t.diag(json.dumps([f for f in cli if f["dst"] == "10.9.0.2"]))
    ours = compare(cli, hists, s)
    t.diag("vnacct top -c 1 -n 6 (example screen):")
    t.diag(run(f"{CLI} top -c 1 -n 6").stdout)
    t.diag("scrape excerpt:")
    t.diag("\n".join(x for x in (fetch(PORT) or "").splitlines()
                     if "udp 10.9.0.1" in x and ("_total" in x or
                                                 'le="5e-05"' in x or
                                                 "_count" in x))[:3000])
    st = json.loads(run(f"{CLI} --json stats").stdout or "{}")
    t.ok(one(s, "vnacct_flows") is not None and
         one(s, "vnacct_flows_max") == st.get("flows_max") and
         one(s, "vnacct_memory_bytes") == st.get("memory_bytes") and
         "packets_cloned" in st and "packets_lost_stale" in st and
         "packets_lost_reused" in st,
         f"module stats in /metrics equal vnacct stats (flows_max "
         f"{st.get('flows_max')}, memory {st.get('memory_bytes')}); stats has "
         f"packets_cloned/lost_stale/lost_reused")
    phase("compared")
    top1 = start_daemon(PORT_TOP1, "--top", "1")
    cli2, _, page2, _ = quiet_snapshot(PORT_TOP1)
    check_top1(cli2, page2)
    top1.send_signal(signal.SIGINT)
    t.eq(top1.wait(60), 0, "SIGINT: vnacctd --top 1 exits 0")
    phase("top 1 done")
    prom = prometheus(ours, tmp) if len(ours) == 2 else None
    phase("prometheus done")
    reload_cycle(daemon, prom)
    phase("reload done")
    daemon.send_signal(signal.SIGTERM)
    try:
        rc = daemon.wait(60)
    except subprocess.TimeoutExpired:
        daemon.kill()
        rc = None
    t.eq(rc, 0, "SIGTERM: vnacctd exits 0")
    if prom:
        prom.terminate()
        try:
            prom.wait(120)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
    for log in sorted(glob.glob("/tmp/vnacctd-*.log")):
        with open(log) as f:
            t.diag(f"{log}:\n" + "".join(f.readlines()[-15:]))
    sh("ip link del v0; ip netns del peer", check=False)
    run("rmmod vnacct")
    shutil.rmtree(tmp, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
