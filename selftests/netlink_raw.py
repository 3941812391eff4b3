#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed requests to the vnacct generic netlink family, from a small
raw-netlink client (class Genl, also used by the other netlink_* tests):
unknown attributes, wrong types and lengths, out-of-range values,
truncated and oversize attributes, bad nesting, a bad header.  Every one
must be rejected with an errno and an extack message, and change neither
the configuration nor the flows (compared before and after); a flow dump
interrupted by a reset must carry NLM_F_DUMP_INTR."""

import errno
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

NETLINK_GENERIC = 16
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 1, 2, 4
NLM_F_DUMP = 0x300
NLM_F_DUMP_INTR = 0x10
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS = 1, 2
NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 1, 10, 11

# include/uapi/linux/vnacct.h
CMD = dict(get_stats=1, get_flow=2, dump_flows=3, get_config=4,
           set_config=5, reset=6, threshold=7)
FLOW = dict(id=2, netns=3, ifindex=4, dir=5, family=6, proto=7, ethertype=8,
            saddr=9, daddr=10, sport=11, dport=12, first_ns=13, last_ns=14,
            packets=15, bytes=16, drops=17, drop_reason=18, gso_packets=19,
            gso_segs=20, copy=21, residency=22, stage=23, drtt=24,
            buckets_omitted=25, residency_ns=26, time_ns=27)
CONFIG = dict(enabled=2, sample=3, flow_timeout=4, filter_ifindex=5,
              filter_netns=6, filter_ifname=7, threshold_ns=8)
STATS = dict(packets_tracked=2, packets_exited=3, packets_untracked=4,
             packets_midpath=5, packets_sampled_out=6, packets_in_flight=7,
             flows=8, flows_max=9, flows_full=10, flows_evicted=11,
             memory_bytes=12, alerts_sent=13, alerts_dropped=14, hook=15)


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def u8(t, v):
    return attr(t, struct.pack("B", v))


def u32(t, v):
    return attr(t, struct.pack("I", v))


def u64(t, v):
    return attr(t, struct.pack("Q", v))


def string(t, s):
    return attr(t, s.encode() + b"\0")


def nest(t, payload):
    return attr(t | NLA_F_NESTED, payload)


def parse(data):
    """Attributes as a list of (type without flags, payload)."""
    out = []
    while len(data) >= 4:
        n, t = struct.unpack_from("HH", data)
        if n < 4 or n > len(data):
            break
        out.append((t & 0x3fff, data[4:n]))
        data = data[(n + 3) & ~3:]
    return out


def ext_ack(typ, body, flags):
    """The extended ACK of an NLMSG_ERROR, or of the NLMSG_DONE that ends a
    failed dump: (message, attribute offset), "" and None when absent."""
    msg, offs = "", None
    if not flags & NLM_F_ACK_TLVS:
        return msg, offs
    if typ == NLMSG_ERROR:
        # the TLVs follow the errno and the (possibly capped) request
        olen = struct.unpack_from("I", body, 4)[0]
        tlvs = body[4 + (16 if flags & NLM_F_CAPPED else (olen + 3) & ~3):]
    else:
        tlvs = body[4:]
    for t, p in parse(tlvs):
        if t == NLMSGERR_ATTR_MSG:
            msg = p.rstrip(b"\0").decode(errors="replace")
        elif t == NLMSGERR_ATTR_OFFS:
            offs = struct.unpack("I", p)[0]
    return msg, offs


def val(p):
    fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}.get(len(p))
    return struct.unpack(fmt, p)[0] if fmt else p


def todict(data, names):
    inv = {v: k for k, v in names.items()}
    return {inv.get(t, t): val(p) for t, p in parse(data)}


class NlError(Exception):
    def __init__(self, err, msg, offs):
        super().__init__(f"{os.strerror(err)} ({msg})")
        self.errno, self.msg, self.offs = err, msg, offs


class Genl:
    """A generic netlink socket speaking to one family."""

    def __init__(self, family="vnacct", rcvbuf=None):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.s.bind((0, 0))
        self.seq = 1
        self.fam, self.groups = 0x10, {}
        self.s.send(self.msg(3, string(2, family)))        # GETFAMILY
        r = [(c, a) for c, a, _ in self.recv_all(rcvbuf or 1 << 16)][0]
        for t, p in parse(r[1]):
            if t == 1:
                self.fam = struct.unpack("H", p)[0]
            elif t == 7:
                for _, g in parse(p):
                    d = dict(parse(g))
                    self.groups[d[1].rstrip(b"\0").decode()] = \
                        struct.unpack("I", d[2])[0]

    def send_raw(self, data):
        self.s.send(data)

    def msg(self, cmd, attrs=b"", flags=NLM_F_REQUEST | NLM_F_ACK,
            version=1, fam=None, reserved=0):
        self.seq += 1
        body = struct.pack("BBH", cmd, version, reserved) + attrs
        return struct.pack("IHHII", 16 + len(body),
                           self.fam if fam is None else fam, flags,
                           self.seq, 0) + body

    def recv_all(self, bufsize=1 << 20, dump=False, on_part=None):
        """Replies to the last request: a list of (cmd, attrs, flags)."""
        out = []
        while True:
            data = self.s.recv(bufsize)
            if on_part:
                on_part()
                on_part = None
            while data:
                n, typ, flags, seq, _ = struct.unpack_from("IHHII", data)
                body = data[16:n]
                data = data[(n + 3) & ~3:]
                if typ == NLMSG_ERROR:
                    err = -struct.unpack_from("i", body)[0]
                    if err:
                        raise NlError(err, *ext_ack(typ, body, flags))
                    return out
                if typ == NLMSG_DONE:
                    # a dump that failed: its errno, then extack TLVs
                    err = -struct.unpack_from("i", body)[0] \
                        if len(body) >= 4 else 0
                    if err:
                        raise NlError(err, *ext_ack(typ, body, flags))
                    if flags & NLM_F_DUMP_INTR:
                        out.append((None, b"", flags))
                    return out
                out.append((body[0], body[4:], flags))
                if not dump and not flags & NLM_F_MULTI:
                    # a do: the ACK follows
                    continue

    def request(self, cmd, attrs=b"", version=1, fam=None):
        self.s.send(self.msg(cmd, attrs, version=version, fam=fam))
        return [(c, a) for c, a, _ in self.recv_all()]

    def dump(self, cmd, attrs=b"", bufsize=1 << 20, on_part=None):
        self.s.send(self.msg(cmd, attrs, flags=NLM_F_REQUEST | NLM_F_DUMP))
        return self.recv_all(bufsize, dump=True, on_part=on_part)

    def config(self):
        return todict(self.request(CMD["get_config"])[0][1], CONFIG)

    def stats(self):
        return todict(self.request(CMD["get_stats"])[0][1], STATS)

    def flows(self):
        return [todict(a, FLOW) for c, a, _ in self.dump(CMD["dump_flows"])
                if c is not None]


def main():
    from vnacct_util import Tap, sh, load, unload

    t = Tap()
    load()
    g = Genl()
    t.ok(g.fam > 0x10, f"family vnacct resolved (id {g.fam}, groups "
         f"{g.groups})")
    # some flows to lose, if anything went wrong
    sh("ping -c 3 -i 0.2 -q 127.0.0.1")
    base_cfg, base_flows = g.config(), g.flows()
    t.ok(len(base_flows) > 0, f"{len(base_flows)} flows before the tests")

    def bad(name, data, want_errno=errno.EINVAL, want_msg=True):
        try:
            g.send_raw(data)
            g.recv_all()
            t.ok(False, f"{name}: accepted")
            return
        except NlError as e:
            t.ok(e.errno == want_errno and (e.msg or not want_msg),
                 f"{name}: rejected with {errno.errorcode.get(e.errno)}, "
                 f"extack '{e.msg}' offset {e.offs}")
        except OSError as e:
            t.ok(False, f"{name}: socket error {e}")

    C, S = CONFIG, CMD["set_config"]
    bad("unknown attribute type 200 in set-config",
        g.msg(S, u32(200, 1)))
    bad("attribute unsupported by the command (filter-netns is reply-only)",
        g.msg(S, u32(C["filter_netns"], 1)))
    bad("sample 0 (range 1..65536)", g.msg(S, u32(C["sample"], 0)), errno.ERANGE)
    bad("sample 65537", g.msg(S, u32(C["sample"], 65537)), errno.ERANGE)
    bad("flow-timeout 86401", g.msg(S, u32(C["flow_timeout"], 86401)), errno.ERANGE)
    bad("enabled 2", g.msg(S, u8(C["enabled"], 2)), errno.ERANGE)
    bad("threshold above one hour",
        g.msg(S, u64(C["threshold_ns"], 3600 * 10**9 + 1)), errno.ERANGE)
    bad("wrong type: u8 where u32 expected (sample)",
        g.msg(S, u8(C["sample"], 2)))
    bad("wrong type: u32 where u64 expected (threshold)",
        g.msg(S, u32(C["threshold_ns"], 5)))
    bad("oversize u32 (8 bytes, sample)",
        g.msg(S, attr(C["sample"], struct.pack("Q", 2))))
    bad("oversize interface name", g.msg(S, string(C["filter_ifname"],
                                                   "x" * 40)))
    bad("unterminated interface name",
        g.msg(S, attr(C["filter_ifname"], b"lo")))
    bad("interface name with bytes after its NUL (lo\\0junk)",
        g.msg(S, attr(C["filter_ifname"], b"lo\0junk")))
    bad("interface name with two NULs (lo\\0\\0)",
        g.msg(S, attr(C["filter_ifname"], b"lo\0\0")))
    bad("NLA_F_NET_BYTEORDER on a host-order u64 (threshold)",
        g.msg(S, attr(C["threshold_ns"] | NLA_F_NET_BYTEORDER,
                      struct.pack("Q", 5))))
    bad("NLA_F_NET_BYTEORDER on get-flow's id",
        g.msg(CMD["get_flow"], attr(FLOW["id"] | NLA_F_NET_BYTEORDER,
                                    struct.pack("I", 0))))
    bad("NLA_F_NET_BYTEORDER on dump-flows' ifindex",
        g.msg(CMD["dump_flows"], attr(FLOW["ifindex"] | NLA_F_NET_BYTEORDER,
                                      struct.pack("I", 1)),
              flags=NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK))
    m = bytearray(g.msg(S, u32(C["sample"], 2)))
    struct.pack_into("H", m, 20, 64)   # attribute claims 64 bytes
    bad("truncated attribute (length past the message)", bytes(m))
    m = g.msg(S, u32(C["sample"], 2) + b"\x08\x00")
    m = struct.pack("I", len(m)) + m[4:]
    bad("trailing garbage after the attributes", m)
    bad("bad nesting: NLA_F_NESTED on a u32 (sample)",
        g.msg(S, nest(C["sample"], u32(1, 2))))
    bad("bad nesting: a nest where a string goes (filter-ifname)",
        g.msg(S, nest(C["filter_ifname"], string(1, "lo"))))
    bad("filter-ifname and filter-ifindex together",
        g.msg(S, string(C["filter_ifname"], "lo") +
              u32(C["filter_ifindex"], 1)))
    bad("filter on a device that does not exist",
        g.msg(S, string(C["filter_ifname"], "nosuchdev0")), errno.ENODEV)
    bad("filter on an ifindex that does not exist",
        g.msg(S, u32(C["filter_ifindex"], 99999)), errno.ENODEV)
    bad("set-config with nothing to set", g.msg(S))
    bad("a valid attribute next to an invalid one changes nothing",
        g.msg(S, u32(C["sample"], 7) + u32(C["flow_timeout"], 0)),
        errno.ERANGE)
    bad("reset with an attribute", g.msg(CMD["reset"], u32(C["sample"], 1)))
    bad("get-stats with an unknown attribute",
        g.msg(CMD["get_stats"], u32(99, 1)))
    bad("get-flow without an id", g.msg(CMD["get_flow"]))
    bad("get-flow of a flow that does not exist",
        g.msg(CMD["get_flow"], u32(FLOW["id"], 10**6)), errno.ENOENT)
    bad("dump-flows with an attribute it does not take",
        g.msg(CMD["dump_flows"], u32(FLOW["netns"], 1),
              flags=NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK))
    bad("unknown command 99", g.msg(99), errno.EOPNOTSUPP, want_msg=False)
    t.eq(g.config(), base_cfg, "configuration unchanged by rejected requests")
    now = g.flows()
    t.ok({f["id"] for f in now} >= {f["id"] for f in base_flows},
         f"no flow lost ({len(base_flows)} before, {len(now)} after)")

    # A valid set-config works and reads back (then restored).
    g.request(S, u32(C["sample"], 3) + u64(C["threshold_ns"], 10**9))
    c = g.config()
    t.ok(c["sample"] == 3 and c["threshold_ns"] == 10**9,
         f"set-config sample 3, threshold 1 s reads back ({c})")
    g.request(S, u32(C["sample"], base_cfg["sample"]) +
              u64(C["threshold_ns"], 0))

    # A dump interrupted by a reset is flagged NLM_F_DUMP_INTR: read the
    # first part with a small buffer, reset from another socket, read on.
    for i in range(5):
        sh(f"ping -c 1 -q -s {100 + i} 127.0.0.{2 + i}", check=False)
    n = len(g.flows())
    other = Genl()
    # a fresh socket that never received more than 4 KiB: small parts
    g = Genl(rcvbuf=4096)
    parts = g.dump(CMD["dump_flows"], bufsize=4096,
                   on_part=lambda: other.request(CMD["reset"]))
    intr = [p for p in parts if p[2] & NLM_F_DUMP_INTR]
    t.ok(n > 1 and intr, f"dump interrupted by a reset carries "
         f"NLM_F_DUMP_INTR ({n} flows, {len(parts)} messages, "
         f"{len(intr)} flagged)")
    parts = g.dump(CMD["dump_flows"])
    t.ok(not any(p[2] & NLM_F_DUMP_INTR for p in parts),
         "an undisturbed dump is not flagged")
    unload()
    t.done()


if __name__ == "__main__":
    main()
