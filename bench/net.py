"""Guest-to-guest networking: ping round trip and TCP throughput between two
Linux guests, under cshyper and natively, in wall time (the host's pace).

- under cshyper: the reference board with the MVM and a copy of its disk;
  the MVM derives two configurations from linux-net-a.json and
  linux-net-b.json (core 1 and cores 2-3, each a virtio-net device on the
  hypervisor's switch) whose command lines say `cshyper.net-bench=serve`
  and `cshyper.net-bench=<server>`, and boots both.
- natively: two QEMUs, each one Linux guest (-smp 1, 128 MiB, the same
  Image and initramfs, the same command line), their virtio-net devices
  joined by QEMU's socket netdev (one listens, the other connects).

In both, guests/initramfs/init does the work: the server makes 16 MiB of
random data and serves it with busybox httpd; the client waits for it,
pings the server 50 times (-i 0.05) and fetches the 16 MiB with wget,
timed by /proc/uptime (10 ms). Figures: the ping average, and MB/s.
"""
import re

import qemu
from report import Figure

GUESTS = "/mnt/guests"
SERVER_IP, CLIENT_IP = "192.168.77.11", "192.168.77.12"
LINE = r"cshyper-net-bench: rtt_ms=(\S+) bytes=(\d+) t0=([\d.]+) t1=([\d.]+)"
PORT = 47391


def figures_from(m, where):
    rtt, nbytes, t0, t1 = m.group(1), int(m.group(2)), float(m.group(3)), float(m.group(4))
    if nbytes != 16 << 20 or t1 <= t0:
        raise qemu.BenchError(f"{where}: the client fetched {nbytes} bytes in {t1 - t0:.2f} s")
    if rtt == "none":
        raise qemu.BenchError(f"{where}: no ping figure")
    return {"rtt_ms": float(rtt), "mbps": nbytes / (t1 - t0) / 1e6}


def guest_cmd(ip, role, netdev):
    append = (f"console=ttyAMA0 quiet rdinit=/init cshyper.net={ip}/24 "
              f"cshyper.net-bench={role}")
    return qemu.board(3, smp=1, mem="128M") + [
        "-kernel", qemu.KERNEL, "-initrd", qemu.INITRD, "-append", append,
        "-netdev", f"socket,id=n0,{netdev}", "-device", "virtio-net-device,netdev=n0"]


def native_run(opts, rep):
    qemu.require(qemu.KERNEL, qemu.INITRD)
    server = guest_cmd(SERVER_IP, "serve", f"listen=127.0.0.1:{PORT + rep}")
    client = guest_cmd(CLIENT_IP, SERVER_IP, f"connect=127.0.0.1:{PORT + rep}")
    with qemu.boot(server, f"net-native-server-{rep}", opts.timeout) as srv:
        srv.expect(r"cshyper-net-bench: serving", "the native server")
        with qemu.boot(client, f"net-native-client-{rep}", opts.timeout) as cli:
            cli.expect(LINE, "the native client's figures", timeout=opts.timeout * 3)
            return figures_from(cli.child.match, cli.name)


def derive(con, src, dst, role, opts):
    """A copy of a guest configuration with the bench's role on its command line."""
    rc, out = con.sh(f"sed 's/cshyper.net-test=[^\"]*/cshyper.net-bench={role}/; "
                     f"s/\"name\": \"\\([^\"]*\\)\"/\"name\": \"\\1-bench\"/' "
                     f"{GUESTS}/{src} > {GUESTS}/{dst} && shyper vm config {GUESTS}/{dst}",
                     timeout=opts.timeout)
    m = re.search(r"^VM (\d+) configured", out, re.M)
    if rc or not m:
        raise qemu.BenchError(f"{con.name}: configuring {dst} failed:\n{out}")
    return int(m.group(1))


def cshyper_run(opts, rep):
    with qemu.mvm_with_disk(f"net-cshyper-{rep}", opts.timeout) as con:
        server = derive(con, "linux-net-a.json", "net-bench-a.json", "serve", opts)
        client = derive(con, "linux-net-b.json", "net-bench-b.json", SERVER_IP, opts)
        con.child.sendline(f"shyper vm boot {server} >/dev/null; "
                           f"shyper vm boot {client} >/dev/null")
        con.expect(rf"\[vm{client}\] [^\n]*" + LINE, "the client guest's figures",
                   timeout=opts.timeout * 3)
        return figures_from(con.child.match, con.name)


def run(opts, progress):
    res = qemu.native_and_cshyper(
        opts, progress, "net", native_run, cshyper_run,
        lambda r: f"ping {r['rtt_ms']:.3f} ms, TCP {r['mbps']:.1f} MB/s")

    def both(key):
        return [r[key] for r in res["native"]], [r[key] for r in res["cshyper"]]

    figures = [
        Figure("net_ping_rtt", "guest-to-guest ping round trip", "ms",
               "wall: busybox ping -c 50 -i 0.05, average; natively two QEMUs joined by a "
               "socket netdev, under cshyper two guests on the hypervisor's switch",
               *both("rtt_ms")),
        Figure("net_tcp_throughput", "guest-to-guest TCP (HTTP GET of 16 MiB)", "MB/s",
               "wall: wget of 16 MiB of random data from busybox httpd, timed in the client "
               "by /proc/uptime", *both("mbps")),
    ]
    notes = ["net: wall-time figures on an emulated board; the native baseline's two QEMUs "
             "copy every frame through a host socket, cshyper's switch copies it once "
             "inside the one QEMU"]
    return figures, notes, {"net": res}
