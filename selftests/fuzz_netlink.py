#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile input to the vnacct generic netlink family (issue 6), from the
raw client in netlink_raw.py (netlink_raw.py itself has the hand-written
malformed requests; this is the random part):

  fuzz      N random messages as root (VNACCT_SOAK=1: 100,000, else 5,000,
            1,000 on the debug kernel; VNACCT_FUZZ_N overrides):
            random commands (weighted to the family's, and unknown ones),
            header flags, version and reserved bytes, lengths (truncated,
            padded), attribute types, lengths, values (boundaries), flag
            bits and nesting up to 3 deep, trailing garbage.  After each
            message a GET-STATS and a GET-CONFIG (the "sync": they also
            collect every reply to the fuzzed message) and, every 200
            messages, a full dump:
              - every rejection is an NLMSG_ERROR with an errno; those with
                a known command and valid header carry an extack message
                (counted per errno; see below);
              - a rejected message changes nothing: configuration, stats
                and (at the checkpoints) every flow's id and counters are
                as before;
              - an accepted SET-CONFIG had only well-formed attributes and
                the configuration reads back as its attributes say (then
                it is restored); an accepted RESET had no attribute (then
                flows are made again); an accepted read changed nothing.
  unpriv    the same fuzzer run as uid 65534 (setpriv), also sending
            valid SET-CONFIG and RESET requests: every SET-CONFIG/RESET
            fails with EPERM, nothing changes (compared by root).
  perms     each state-changing request (set-config per attribute, reset)
            from uid 65534 in the initial namespace, from uid 65534 inside
            a second namespace, and from root of a new user namespace with
            its own network namespace (CAP_NET_ADMIN there, not in the
            initial user namespace): EPERM each time, nothing changes; the
            alerts multicast group cannot be joined by them.

Traffic is quiet during the test (loopback flows made up front, idle
timeout 86400 s) so that stats are comparable message by message.
VNACCT_SEED fixes the random sequence (printed at the start).
"""

import errno
import json
import os
import platform
import random
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlink_raw import (Genl, NlError, CMD, CONFIG, STATS, FLOW, parse,  # noqa
                         todict, ext_ack, attr, u8, u32, u64, string,
                         NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP, NLMSG_ERROR,
                         NLMSG_DONE, NLA_F_NESTED, SOL_NETLINK,
                         NETLINK_ADD_MEMBERSHIP)

SOAK = os.environ.get("VNACCT_SOAK") == "1"
DEBUG = "debug" in platform.release()
N = int(os.environ.get("VNACCT_FUZZ_N", 100000 if SOAK else
                       1000 if DEBUG else 5000))
N_UNPRIV = max(N // 5, 200)
CHECK_EVERY = 200
NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534",
          "--clear-groups"]
NLA_F_NET_BYTEORDER = 0x4000
BASE = dict(enabled=1, sample=1, flow_timeout=86400, filter_ifindex=0,
            threshold_ns=0)
# Stats that move without traffic: the hook hit counters and times (the
# kretprobe on skb_copy_datagram_iter also fires for every netlink
# message this test receives).  Everything else must stay put.
VOLATILE = {"hook", "kprobes_missed"}

INTS = [0, 1, 2, 7, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000,
        0x10001, 65536, 65537, 86400, 86401, 3600 * 10**9,
        3600 * 10**9 + 1, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32,
        (1 << 63) - 1, 1 << 63, (1 << 64) - 1]


def rnd_int(rng, size):
    v = rng.choice(INTS) if rng.random() < 0.7 else \
        rng.getrandbits(size * 8)
    return v & ((1 << (size * 8)) - 1)


def rnd_payload(rng, depth):
    k = rng.random()
    if k < 0.45:
        size = rng.choice([1, 2, 4, 8])
        return rnd_int(rng, size).to_bytes(size, "little")
    if k < 0.6:
        s = rng.choice(["lo", "eth0", "", "x" * 15, "x" * 16, "x" * 40,
                        "lo\0junk", "nosuchdev", "\xff\xfe"])
        return s.encode("utf-8", "surrogateescape") + \
            rng.choice([b"\0", b"", b"\0\0"])
    if k < 0.75 and depth < 3:
        return rnd_attrs(rng, depth + 1)
    if k < 0.9:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 24)))
    return bytes(rng.randint(0, 3))


def rnd_type(rng):
    k = rng.random()
    if k < 0.8:
        t = rng.randint(0, 10)
    elif k < 0.95:
        t = rng.randint(11, 40)
    else:
        t = rng.randrange(1 << 14)
    if rng.random() < 0.1:
        t |= NLA_F_NESTED
    if rng.random() < 0.05:
        t |= NLA_F_NET_BYTEORDER
    return t


def rnd_attrs(rng, depth=0):
    out = b""
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3, 5])):
        t = rnd_type(rng)
        p = rnd_payload(rng, depth)
        a = attr(t, p)
        r = rng.random()
        if r < 0.04:          # claimed length too long / too short
            a = struct.pack("HH", rng.choice([0, 1, 3, len(a) + 4,
                                              0xffff]), t) + a[4:]
        elif r < 0.06:        # unpadded
            a = a[:4 + len(p)]
        out += a
    return out


def valid_set_config(rng):
    """A valid SET-CONFIG attribute set (for the unprivileged run)."""
    choices = [u8(CONFIG["enabled"], rng.randint(0, 1)),
               u32(CONFIG["sample"], rng.randint(1, 65536)),
               u32(CONFIG["flow_timeout"], rng.randint(1, 86400)),
               u32(CONFIG["filter_ifindex"], rng.choice([0, 1])),
               string(CONFIG["filter_ifname"], "lo"),
               u64(CONFIG["threshold_ns"], rng.randint(0, 10**9))]
    rng.shuffle(choices)
    return b"".join(choices[:rng.randint(1, 3)])


def rnd_message(g, rng, unpriv=False):
    """(bytes, cmd, attrs, header_ok)."""
    k = rng.random()
    if k < 0.75:
        cmd = rng.randint(1, 7)
    elif k < 0.85:
        cmd = 0
    else:
        cmd = rng.randrange(256)
    attrs = rnd_attrs(rng)
    if unpriv and rng.random() < 0.3:
        cmd = rng.choice([CMD["set_config"], CMD["reset"]])
        attrs = valid_set_config(rng) if cmd == CMD["set_config"] else b""
    elif cmd == CMD["set_config"] and rng.random() < 0.3:
        # well-formed attributes, values at and around the limits
        attrs = b""
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(list(CONFIG))
            t = CONFIG[name]
            size = {"enabled": 1, "threshold_ns": 8}.get(name, 4)
            if name == "filter_ifname":
                attrs += string(t, rng.choice(["lo", "nosuch0", "x" * 15,
                                               "br0"]))
            else:
                attrs += attr(t, rnd_int(rng, size).to_bytes(size,
                                                             "little"))
    flags = NLM_F_REQUEST | NLM_F_ACK
    r = rng.random()
    if r < 0.15:
        flags |= NLM_F_DUMP
    elif r < 0.2:
        flags = rng.getrandbits(16) | NLM_F_ACK
    version = 1 if rng.random() < 0.9 else rng.randrange(256)
    reserved = 0 if rng.random() < 0.95 else rng.randrange(1, 1 << 16)
    data = g.msg(cmd, attrs, flags=flags, version=version,
                 reserved=reserved)
    header_ok = True
    r = rng.random()
    if r < 0.03:      # truncated message (length fixed up)
        n = rng.randint(16, len(data))
        data = struct.pack("I", n) + data[4:n]
        header_ok = n >= 20
    elif r < 0.05:    # trailing garbage inside the message
        extra = bytes(rng.randrange(256) for _ in range(rng.randint(1, 7)))
        data = struct.pack("I", len(data) + len(extra)) + data[4:] + extra
    elif r < 0.06:    # nlmsg_len lies
        data = struct.pack("I", rng.choice([0, 15, 16, 17, 19,
                                            len(data) + 8, 0xffffffff])) + \
            data[4:]
        header_ok = False
    seq = struct.unpack_from("I", data, 8)[0]
    return data, cmd, attrs, flags, header_ok and reserved == 0, seq


class Sync:
    """Sends a fuzzed message, then GET-STATS and GET-CONFIG, and reads
    until both answered: every reply to the fuzzed message is collected
    whether or not it asked for an ACK."""

    def __init__(self, g):
        self.g = g
        g.s.settimeout(20)

    def roundtrip(self, data, seq):
        g = self.g
        g.s.send(data)
        m_stats = g.msg(CMD["get_stats"])
        s_seq = g.seq
        m_cfg = g.msg(CMD["get_config"])
        c_seq = g.seq
        g.s.send(m_stats)
        g.s.send(m_cfg)
        replies, errs = [], []
        st = cf = None
        acks = set()
        while len(acks) < 2:
            buf = g.s.recv(1 << 20)
            while buf:
                n, typ, flags, mseq, _ = struct.unpack_from("IHHII", buf)
                if n < 16:
                    break
                body = buf[16:n]
                buf = buf[(n + 3) & ~3:]
                if typ == NLMSG_ERROR:
                    err = -struct.unpack_from("i", body)[0]
                    if mseq in (s_seq, c_seq):
                        if err:
                            raise NlError(err, "sync failed", None)
                        acks.add(mseq)
                        continue
                    if mseq == seq:
                        errs.append((err, ext_ack(typ, body, flags)[0]))
                    continue
                if typ == NLMSG_DONE:
                    # a dump that failed ends with its errno and extack
                    err = -struct.unpack_from("i", body)[0] \
                        if len(body) >= 4 else 0
                    if mseq == seq and err:
                        errs.append((err, ext_ack(typ, body, flags)[0]))
                    elif mseq == seq:
                        replies.append(("done", flags))
                    continue
                if mseq == s_seq:
                    st = todict(body[4:], STATS)
                elif mseq == c_seq:
                    cf = todict(body[4:], CONFIG)
                elif mseq == seq:
                    replies.append((body[0] if body else None, flags))
        return replies, errs, st, cf


def well_formed_config(attrs):
    """Expected configuration changes of a SET-CONFIG, or None when some
    attribute is not well-formed (a kernel that accepted it is wrong)."""
    want = {}
    rest = attrs
    while rest:
        if len(rest) < 4:
            return None
        n, t = struct.unpack_from("HH", rest)
        if n < 4 or n > len(rest) or t & (NLA_F_NESTED |
                                           NLA_F_NET_BYTEORDER):
            return None
        p = rest[4:n]
        rest = rest[(n + 3) & ~3:]
        size = {CONFIG["enabled"]: 1, CONFIG["sample"]: 4,
                CONFIG["flow_timeout"]: 4, CONFIG["filter_ifindex"]: 4,
                CONFIG["threshold_ns"]: 8}.get(t)
        if t == CONFIG["filter_ifname"]:
            # one NUL, at the end (the module refuses "lo\0junk")
            if not p.endswith(b"\0") or b"\0" in p[:-1] or len(p) > 16:
                return None
            # the device is looked up for the last occurrence only
            want["filter_ifname"] = p.split(b"\0")[0]
            continue
        if size is None or len(p) != size:
            return None
        v = int.from_bytes(p, "little")
        inv = {v_: k for k, v_ in CONFIG.items()}
        name = inv[t]
        lim = {"enabled": (0, 1), "sample": (1, 65536),
               "flow_timeout": (1, 86400), "threshold_ns": (0, 3600 * 10**9),
               "filter_ifindex": (0, 0xffffffff)}[name]
        if not lim[0] <= v <= lim[1]:
            return None
        want[name] = v
    # Attributes repeat: the last one counts (nla_parse), and only its
    # device is looked up, in this namespace: lo, and whatever else the
    # kernel made here (the debug kernel's built-in SIT adds sit0 as
    # ifindex 2).
    devs = {name.encode(): idx for idx, name in socket.if_nameindex()}
    if "filter_ifname" in want:
        if "filter_ifindex" in want or want["filter_ifname"] not in devs:
            return None
        want["filter_ifindex"] = devs[want.pop("filter_ifname")]
    elif want.get("filter_ifindex", 0) not in {0, *devs.values()}:
        return None
    return want or None


def flow_state(g):
    return {f["id"]: tuple(f.get(k) for k in ("packets", "bytes", "drops",
                                              "first_ns", "last_ns"))
            for f in g.flows()}


def cfg_view(c):
    return {k: c.get(k) for k in BASE}


def restore(g):
    g.request(CMD["set_config"], u8(CONFIG["enabled"], 1) +
              u32(CONFIG["sample"], 1) + u32(CONFIG["flow_timeout"], 86400) +
              u32(CONFIG["filter_ifindex"], 0) +
              u64(CONFIG["threshold_ns"], 0))


def make_flows():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    port = rx.getsockname()[1]
    for i in range(5):      # five flows (five source ports)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.sendto(b"f" * (10 + i), ("127.0.0.1", port))
        rx.recv(100)
        tx.close()
    rx.close()
    time.sleep(0.5)   # every packet exited


def fuzz(n, seed, unpriv=False, root=True):
    """Runs n fuzzed messages; returns a summary dict.  With root, checks
    state after every message (see the module docstring)."""
    rng = random.Random(seed)
    g = Genl()
    sync = Sync(g)
    res = dict(sent=0, rejected=0, accepted=0, errnos={}, no_extack={},
               extack=0, wrong=[], changed=[], epermed=0, admin_sent=0,
               set_ok=0, reset_ok=0, read_ok=0)
    st0 = cf0 = fl0 = None
    if root:
        restore(g)
        make_flows()
        st0, cf0, fl0 = g.stats(), g.config(), flow_state(g)
    for i in range(n):
        data, cmd, attrs, flags, hdr_ok, seq = rnd_message(g, rng, unpriv)
        replies, errs, st, cf = sync.roundtrip(data, seq)
        res["sent"] += 1
        admin = cmd in (CMD["set_config"], CMD["reset"])
        if errs:
            err, msg = errs[0]
            if err:
                res["rejected"] += 1
                e = errno.errorcode.get(err, str(err))
                res["errnos"][e] = res["errnos"].get(e, 0) + 1
                if msg:
                    res["extack"] += 1
                elif hdr_ok and 1 <= cmd <= 6 and err not in (
                        errno.EPERM, errno.EOPNOTSUPP):
                    res["no_extack"][e] = res["no_extack"].get(e, 0) + 1
                    if len(res["wrong"]) < 5:
                        res["wrong"].append(("no extack", e, data[:48].hex()))
            else:
                res["accepted"] += 1
        elif replies:
            res["accepted"] += 1
        else:
            res["accepted"] += 1   # no reply asked for (no ACK flag)
        accepted = not errs or not errs[0][0]
        if not flags & NLM_F_REQUEST:
            # not a request: the kernel ignores it (and only ACKs)
            accepted = False
            admin = False
        if unpriv and admin:
            res["admin_sent"] += 1
            if accepted and (replies or errs) and len(res["wrong"]) < 5:
                res["wrong"].append(("unprivileged accepted", cmd,
                                     data[:48].hex()))
            if errs and errs[0][0] == errno.EPERM:
                res["epermed"] += 1
        if not root:
            continue
        changes = accepted and admin and (replies or errs)
        if changes and cmd == CMD["set_config"]:
            # what the kernel parsed: everything after the genl header
            n = struct.unpack_from("I", data)[0]
            want = well_formed_config(data[20:n])
            res["set_ok"] += 1
            exp = dict(cfg_view(cf0))
            exp.update(want or {})
            if want is None or cfg_view(cf) != exp:
                if len(res["wrong"]) < 5:
                    res["wrong"].append(("set-config accepted", want,
                                         cfg_view(cf), attrs.hex()))
            restore(g)
            cf = g.config()
            if want and want.get("flow_timeout", 86400) < 86400:
                # A short idle timeout legitimately expires the flows; the
                # expiry work reads it once a second and may still be
                # running on the old value after restore(): let it finish,
                # then start from the state it left.
                time.sleep(2.5)
                if not flow_state(g):
                    make_flows()
                st0, fl0 = g.stats(), flow_state(g)
                st = st0
        elif changes and cmd == CMD["reset"]:
            res["reset_ok"] += 1
            # What the kernel parsed: a truncated message lost its attributes.
            n = struct.unpack_from("I", data)[0]
            if data[20:n] and len(res["wrong"]) < 5:
                res["wrong"].append(("reset with attributes accepted",
                                     data[20:n].hex()))
            make_flows()
            st0, fl0 = g.stats(), flow_state(g)
            st, cf = st0, g.config()
        else:
            if accepted:
                res["read_ok"] += 1
            if cfg_view(cf) != cfg_view(cf0) or \
                    any(st.get(k) != st0.get(k) for k in st0
                        if k not in VOLATILE):
                if len(res["changed"]) < 5:
                    res["changed"].append((i, cmd, data[:64].hex(),
                                           {k: (st0.get(k), st.get(k))
                                            for k in st0
                                            if st0.get(k) != st.get(k)},
                                           cfg_view(cf)))
                st0, cf0 = st, cf
        if (i + 1) % CHECK_EVERY == 0 or i == n - 1:
            fl = flow_state(g)
            if fl != fl0 and len(res["changed"]) < 5:
                res["changed"].append((i, "flows", len(fl0), len(fl)))
                fl0 = fl
    return res


def child():
    """The unprivileged fuzzer (no state checks: it may not read
    everything); prints its summary as JSON."""
    n, seed = int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(fuzz(n, seed, unpriv=True, root=False)))


def state(g):
    st = {k: v for k, v in g.stats().items() if k not in VOLATILE}
    return cfg_view(g.config()), st, flow_state(g)


def same(t, now, before, what):
    diff = [(n, {k: (before[i].get(k), now[i].get(k))
                 for k in set(before[i]) | set(now[i])
                 if before[i].get(k) != now[i].get(k)})
            for i, n in enumerate(["config", "stats", "flows"])
            if now[i] != before[i]]
    t.ok(not diff, f"{what}: configuration, stats and flows unchanged "
         f"(changed: {diff})")


def perms(t, g):
    """Each state-changing request from three unprivileged places."""
    here = os.path.dirname(os.path.abspath(__file__))
    reqs = [("reset", CMD["reset"], b"")]
    for name, a in [("enabled", u8(CONFIG["enabled"], 0)),
                    ("sample", u32(CONFIG["sample"], 9)),
                    ("flow_timeout", u32(CONFIG["flow_timeout"], 5)),
                    ("filter_ifindex", u32(CONFIG["filter_ifindex"], 1)),
                    ("filter_ifname", string(CONFIG["filter_ifname"], "lo")),
                    ("threshold_ns", u64(CONFIG["threshold_ns"], 1000))]:
        reqs.append((f"set-config {name}", CMD["set_config"], a))
    code = f"""
import json, socket, sys
sys.path.insert(0, {here!r})
from netlink_raw import *
g = Genl()
out = {{}}
for name, cmd, a in json.loads(sys.argv[1]):
    try:
        g.request(cmd, bytes.fromhex(a))
        out[name] = "ok"
    except NlError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
try:
    g.s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g.groups["alerts"])
    out["join alerts"] = "ok"
except OSError as e:
    out["join alerts"] = errno.errorcode.get(e.errno, str(e.errno))
try:
    out["get-config"] = "ok" if g.config() else "empty"
except NlError as e:
    out["get-config"] = errno.errorcode.get(e.errno)
print(json.dumps(out))
"""
    arg = json.dumps([(n, c, a.hex()) for n, c, a in reqs])
    places = [("uid 65534", NOBODY),
              ("uid 65534 in netns peer",
               ["ip", "netns", "exec", "peer"] + NOBODY),
              ("root of a new user and network namespace",
               NOBODY + ["unshare", "--user", "--map-root-user", "--net"])]
    s0 = state(g)
    for where, prefix in places:
        r = subprocess.run(prefix + ["python3", "-c", code, arg],
                           capture_output=True, text=True)
        try:
            out = json.loads(r.stdout)
        except ValueError:
            if "unshare" in prefix and "unshare" in r.stderr:
                t.skip(f"perms: {where}", r.stderr.strip()[-100:])
                continue
            t.ok(False, f"perms: {where}: {r.stderr.strip()[-200:]}")
            continue
        # Joining "alerts" needs CAP_NET_ADMIN in the user namespace that
        # owns the caller's network namespace (GENL_MCAST_CAP_NET_ADMIN);
        # root of its own namespaces has it, and gets only the alerts of
        # flows of that namespace (Documentation/vnacct.rst, Netlink).
        own = "unshare" in prefix
        if own:
            t.diag(f"perms: {where}: join alerts -> {out.get('join alerts')}")
        bad = {k: v for k, v in out.items()
               if k != "get-config" and v != "EPERM" and
               not (own and k == "join alerts")}
        t.ok(not bad and out.get("get-config") == "ok",
             f"perms: {where}: reset, set-config of each attribute"
             f"{'' if own else ' and joining the alerts group'} fail with "
             f"EPERM, get-config works (not EPERM: {bad})")
        same(t, state(g), s0, f"perms: {where}")


def main():
    from vnacct_util import Tap, sh, load, unload

    t = Tap()
    seed = int(os.environ.get("VNACCT_SEED", time.time()))
    t.diag(f"fuzz_netlink: {N} messages as root, {N_UNPRIV} unprivileged, "
           f"seed {seed}")
    load("flow_timeout=86400")
    sh("ip netns add peer")
    try:
        g = Genl()
        t0 = time.time()
        res = fuzz(N, seed)
        el = time.time() - t0
        t.diag(f"fuzz: {res['sent']} messages in {el:.1f} s: "
               f"{res['rejected']} rejected {res['errnos']}, "
               f"{res['extack']} with an extack message; accepted "
               f"{res['accepted']} ({res['read_ok']} reads, "
               f"{res['set_ok']} set-config, {res['reset_ok']} reset)")
        t.ok(res["sent"] == N and res["rejected"] > N // 4,
             f"fuzz: {res['sent']} messages sent, {res['rejected']} "
             f"rejected with an errno")
        t.ok(not res["no_extack"], f"fuzz: every rejection of a message "
             f"with a valid header and known command carries an extack "
             f"message (without: {res['no_extack']})")
        t.ok(not res["wrong"], f"fuzz: accepted set-config/reset were "
             f"well-formed and took effect as sent (wrong: {res['wrong']})")
        t.ok(not res["changed"], f"fuzz: rejected messages and reads "
             f"changed neither configuration, stats nor flows (changed: "
             f"{res['changed']})")

        s0 = state(g)
        t0 = time.time()
        r = subprocess.run(NOBODY + ["python3", os.path.abspath(__file__),
                                     "--child", str(N_UNPRIV),
                                     str(seed + 1)],
                           capture_output=True, text=True)
        el = time.time() - t0
        try:
            u = json.loads(r.stdout)
        except ValueError:
            u = None
        t.ok(u is not None, f"unpriv: fuzzer ran as uid 65534 "
             f"({r.stderr.strip()[-200:]})")
        if u:
            t.diag(f"unpriv: {u['sent']} messages in {el:.1f} s, "
                   f"{u['admin_sent']} set-config/reset ({u['epermed']} "
                   f"EPERM), errnos {u['errnos']}")
            t.ok(u["admin_sent"] > 0 and not u["wrong"],
                 f"unpriv: no set-config/reset accepted from uid 65534 "
                 f"(wrong: {u['wrong']})")
        same(t, state(g), s0, "unpriv: after the unprivileged fuzzer")
        perms(t, g)
    finally:
        sh("ip netns del peer", check=False)
        unload()
    t.done()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child()
    else:
        main()
