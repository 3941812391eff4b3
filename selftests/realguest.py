# SPDX-License-Identifier: GPL-2.0
"""Real KVM guests (L2) and a real NIC inside the test VM (L1).

A guest is QEMU with KVM, Debian's 6.12 kernel and a busybox initramfs
(selftests/vm/mkl2initrd.sh) whose init serves commands on a virtio serial
port: the test runs `ping`, `iperf3` and `cat /proc/net/...` in the guest
and reads their output back.  Its network is a virtio-net device on a tap
of the host's bridge, through vhost-net (vhost=on, what libvirt uses) or
QEMU's own reads of the tap (vhost=off), with the offloads the guest
negotiates or none, and one or two queues.

The "real NIC" is the pair of virtio-net devices vm-run.sh -N gives the
test VM, joined by a QEMU hub: one is a bridge port, the other sits in
namespace "ext" playing the external host, so that wire-to-guest traffic
enters through a NIC driver's NAPI/GRO receive.  A veth to namespace
"ext2" is the second, container-style wire.
"""

import os
import re
import socket
import subprocess
import time

from vnacct_util import sh

L2_KERNEL = os.environ.get("VNACCT_L2_KERNEL", "")
L2_INITRD = os.environ.get("VNACCT_L2_INITRD", "")
OUT = os.environ.get("VNACCT_OUT", "/tmp")
HOST_NIC_MAC = "52:54:00:00:a0:01"
EXT_NIC_MAC = "52:54:00:00:a0:02"
# What QEMU calls the offloads a virtio-net device offers; off = a guest
# that sends and receives plain frames, one per segment.
NO_OFFLOADS = ("csum=off,guest_csum=off,gso=off,host_tso4=off,host_tso6=off,"
               "host_ecn=off,host_ufo=off,guest_tso4=off,guest_tso6=off,"
               "guest_ecn=off,guest_ufo=off,mrg_rxbuf=off")


def kvm_ready():
    """Loads kvm_amd; returns why real guests cannot run, or None."""
    if not (L2_KERNEL and L2_INITRD):
        return "no real-guest kernel and initramfs (vm-run.sh -N)"
    sh("modprobe kvm_amd", check=False)
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm after modprobe kvm_amd"
    if os.cpu_count() != 1:
        return (f"{os.cpu_count()} vCPUs: nested guests hang unless the "
                f"test VM has one (vm-run.sh -c 1)")
    return None


def dev_by_mac(mac):
    for d in os.listdir("/sys/class/net"):
        try:
            with open(f"/sys/class/net/{d}/address") as f:
                if f.read().strip() == mac:
                    return d
        except OSError:
            pass
    return None


def link_stats(dev, netns=None):
    """A device's own counters (what `ip -s link` prints)."""
    pre = f"ip netns exec {netns} " if netns else ""
    out = sh(f"{pre}cat /sys/class/net/{dev}/statistics/rx_packets "
             f"/sys/class/net/{dev}/statistics/rx_bytes "
             f"/sys/class/net/{dev}/statistics/tx_packets "
             f"/sys/class/net/{dev}/statistics/tx_bytes "
             f"/sys/class/net/{dev}/statistics/tx_dropped").split()
    keys = ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "tx_dropped")
    return dict(zip(keys, (int(x) for x in out)))


def delta(after, before):
    return {k: after[k] - before.get(k, 0) for k in after}


def host_topology():
    """Bridge br0 with the host's NIC; the external host's NIC in "ext"
    (10.0.0.2, fd00::2); a veth to "ext2" (10.0.0.4, fd00::4).  No IPv6
    on the host side of the bridge: no router or MLD chatter."""
    sh("modprobe -a virtio_net tun vhost_net bridge veth")
    for _ in range(50):
        nic, ext = dev_by_mac(HOST_NIC_MAC), dev_by_mac(EXT_NIC_MAC)
        if nic and ext:
            break
        time.sleep(0.1)
    if not nic or not ext:
        raise RuntimeError(f"hub NICs not found ({nic}, {ext}): "
                           "vm-run.sh -N gives them")
    cmds = ["ip netns add ext", "ip netns add ext2",
            "ip link add br0 type bridge",
            "sysctl -qw net.ipv6.conf.br0.disable_ipv6=1",
            f"sysctl -qw net.ipv6.conf.{nic}.disable_ipv6=1",
            f"ip link set {nic} master br0 up",
            f"ip link set {ext} netns ext",
            f"ip -n ext link set {ext} name nic-ext",
            "ip -n ext addr add 10.0.0.2/24 dev nic-ext",
            "ip -n ext addr add fd00::2/64 dev nic-ext nodad",
            "ip -n ext link set nic-ext up", "ip -n ext link set lo up",
            "ip link add veth-host type veth peer name veth-ext netns ext2",
            "sysctl -qw net.ipv6.conf.veth-host.disable_ipv6=1",
            "ip link set veth-host master br0 up",
            "ip -n ext2 addr add 10.0.0.4/24 dev veth-ext",
            "ip -n ext2 addr add fd00::4/64 dev veth-ext nodad",
            "ip -n ext2 link set veth-ext up", "ip -n ext2 link set lo up",
            "ip link set br0 up"]
    for c in cmds:
        sh(c)
    return nic


class Guest:
    """One real guest on its own tap of br0."""

    def __init__(self, name, tap, mac, ip, ip6, vhost=True, queues=1,
                 offloads=True):
        self.name, self.tap, self.mac = name, tap, mac
        self.ip, self.ip6 = ip, ip6
        self.vhost, self.queues, self.offloads = vhost, queues, offloads
        self.dir = f"/tmp/l2-{name}"
        self.console = os.path.join(OUT, f"l2-{name}-console.log")
        self.proc = None
        self.agent = None
        self.seq = 0

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        mq = " multi_queue" if self.queues > 1 else ""
        sh(f"ip tuntap add dev {self.tap} mode tap vnet_hdr{mq}")
        sh(f"sysctl -qw net.ipv6.conf.{self.tap}.disable_ipv6=1")
        sh(f"ip link set {self.tap} master br0 up")
        netdev = (f"tap,id=n0,ifname={self.tap},script=no,downscript=no,"
                  f"vhost={'on' if self.vhost else 'off'}")
        dev = f"virtio-net-pci,netdev=n0,mac={self.mac}"
        if self.queues > 1:
            netdev += f",queues={self.queues}"
            dev += f",mq=on,vectors={2 * self.queues + 2}"
        if not self.offloads:
            dev += "," + NO_OFFLOADS
        append = (f"console=hvc0 loglevel=4 panic=-1 net.ifnames=0 "
                  f"mitigations=off "
                  f"vn.ip={self.ip}/24 vn.ip6={self.ip6}/64 "
                  f"vn.queues={self.queues}")
        cmd = ["qemu-system-x86_64", "-accel", "kvm",
               "-cpu", "host,pmu=off,xsave=off", "-m", "256", "-smp", "1",
               "-nodefaults", "-no-user-config", "-display", "none",
               "-no-reboot", "-name", f"guest={self.name}",
               "-kernel", L2_KERNEL, "-initrd", L2_INITRD,
               "-append", append,
               "-device", "virtio-serial-pci",
               "-chardev", f"file,id=con,path={self.console}",
               "-device", "virtconsole,chardev=con",
               "-chardev",
               f"socket,id=agent,path={self.dir}/agent.sock,server=on,"
               f"wait=off",
               "-device", "virtserialport,chardev=agent,name=agent",
               "-monitor",
               f"unix:{self.dir}/monitor.sock,server=on,wait=off",
               "-netdev", netdev, "-device", dev]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL,
            stdout=open(f"{self.dir}/qemu.log", "w"),
            stderr=subprocess.STDOUT)

    def _connect(self, path, deadline):
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: QEMU exited "
                                   f"{self.proc.returncode}: "
                                   f"{open(self.dir + '/qemu.log').read()}")
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return s
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name}: cannot connect to {path}")

    def wait_ready(self, timeout=600):
        """Until the guest's init answers on its agent port."""
        deadline = time.time() + timeout
        self.agent = self._connect(f"{self.dir}/agent.sock", deadline)
        while time.time() < deadline:
            try:
                rc, out = self.run("cat /sys/class/net/eth0/operstate",
                                   timeout=5)
                if rc == 0 and out.strip() == "up":
                    return
            except TimeoutError:
                pass
        raise RuntimeError(f"{self.name}: no answer from the guest in "
                           f"{timeout} s; console: {self.console_tail()}")

    def console_tail(self):
        try:
            with open(self.console, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return "(none)"

    def run(self, cmd, timeout=180):
        """Runs a shell command in the guest: (exit status, output)."""
        self.seq += 1
        tag = str(self.seq)
        self.agent.sendall(f"{tag} {cmd}\n".encode())
        buf = b""
        end = re.compile(rb"\n\x01END (\d+) (\d+)\n")
        deadline = time.time() + timeout
        self.agent.settimeout(1)
        while True:
            for m in end.finditer(buf):
                if m.group(1).decode() == tag:
                    # Output of earlier, abandoned commands comes first.
                    start = buf.rfind(b"\n\x01END ", 0, m.start())
                    start = 0 if start < 0 else buf.index(b"\n", start + 1) + 1
                    return int(m.group(2)), buf[start:m.start()].decode(
                        errors="replace")
            if time.time() > deadline:
                raise TimeoutError(f"{self.name}: {cmd}: no answer in "
                                   f"{timeout} s")
            try:
                d = self.agent.recv(65536)
            except socket.timeout:
                continue
            if not d:
                raise RuntimeError(f"{self.name}: agent closed")
            buf += d

    def sh(self, cmd, timeout=180):
        rc, out = self.run(cmd, timeout)
        if rc:
            raise RuntimeError(f"{self.name}: {cmd}: exit {rc}: {out}")
        return out

    def hmp(self, cmd):
        """One QEMU monitor command (stop, cont, quit)."""
        s = self._connect(f"{self.dir}/monitor.sock", time.time() + 10)
        s.settimeout(10)
        buf = b""
        while not buf.endswith(b"(qemu) "):
            buf += s.recv(4096)
        s.sendall(cmd.encode() + b"\n")
        buf = b""
        try:
            while not buf.endswith(b"(qemu) "):
                d = s.recv(4096)
                if not d:
                    break
                buf += d
        except socket.timeout:
            pass
        s.close()
        return buf.decode(errors="replace")

    def netdev(self):
        """The guest's own eth0 counters, from its /proc/net/dev."""
        for line in self.sh("cat /proc/net/dev").splitlines():
            if line.strip().startswith("eth0:"):
                v = [int(x) for x in line.split(":", 1)[1].split()]
                return {"rx_bytes": v[0], "rx_packets": v[1],
                        "tx_bytes": v[8], "tx_packets": v[9]}
        raise RuntimeError(f"{self.name}: no eth0 in /proc/net/dev")

    def snmp(self):
        """The guest's /proc/net/snmp and snmp6 as {"Tcp": {...}, ...}."""
        out = {}
        lines = self.sh("cat /proc/net/snmp").splitlines()
        for head, vals in zip(lines[::2], lines[1::2]):
            name = head.split(":")[0]
            out[name] = dict(zip(head.split()[1:],
                                 (int(x) for x in vals.split()[1:])))
        for line in self.sh("cat /proc/net/snmp6").splitlines():
            k, v = line.split()
            out.setdefault("Ip6", {})[k] = int(v)
        return out

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.hmp("quit")
            except (OSError, RuntimeError):
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.agent:
            self.agent.close()
            self.agent = None
        sh(f"ip link del {self.tap}", check=False)


def ping_stats(out):
    """iputils ping's output: (transmitted, received, [rtt ns, ...])."""
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    rtts = [int(float(x) * 1e6) for x in re.findall(r"time=([\d.]+) ms", out)]
    return (int(m.group(1)), int(m.group(2)), rtts) if m else (0, 0, rtts)
