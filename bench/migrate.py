"""Live migration of a 256 MiB Linux guest (1 vCPU, the MVM's kernel and
initramfs), idle and while it rewrites 4 MiB of RAM over and over
(`cshyper.mem-writer`): total time, downtime and bytes sent, wall time.

- under cshyper: two boards whose MVMs are cabled together (UDP socket
  netdevs on 127.0.0.1, as tests/system/test_vm_migrate.py), the guest
  migrated by `shyper vm migrate` from board A's MVM to B's daemon; the
  figures are the ones it prints (downtime: from the pause to the
  destination's RUNNING).
- natively: QEMU's own live migration of the same guest between two QEMUs
  (`migrate tcp:127.0.0.1:<port>` on the source's monitor, the destination
  started with -incoming), figures from `info migrate`.

In both, the guest prints a numbered tick every millisecond on its UART
(`cshyper.tick-ms`: mvm/tools/tick.c, no fork per tick, so the guest stays
nearly idle), and the host timestamps every tick as it arrives from either
board: the longest gap between consecutive ticks is the downtime seen from
outside the guest. It includes the console paths (QEMU's stdio, pexpect
reading in bursts: tens of ms even without a migration).
"""
import os
import re
import shutil
import socket
import threading
import time

import qemu
from report import Figure

GUESTS = "/mnt/guests"
ADDR = {"a": "10.0.3.1", "b": "10.0.3.2"}
GUEST_MEM = "256M"
TICK = re.compile(r"cshyper-tick (\d+)")
APPEND = "console=ttyAMA0 quiet rdinit=/init cshyper.tick-ms"
WORKLOADS = {"idle": "", "writer": " cshyper.mem-writer"}
if os.environ.get("MIGRATE_BENCH_ONLY"):  # one workload, while tuning
    WORKLOADS = {k: v for k, v in WORKLOADS.items() if k == os.environ["MIGRATE_BENCH_ONLY"]}


class TickLog:
    """A console's log file that also timestamps every tick line on arrival."""

    def __init__(self, log, ticks):
        self.log, self.ticks, self.part = log, ticks, ""

    def write(self, data):
        now = time.monotonic()
        self.log.write(data)
        self.part += data
        *lines, self.part = self.part.split("\n")
        for line in lines:
            m = TICK.search(line)
            if m:
                self.ticks.append((int(m.group(1)), now))

    def flush(self):
        self.log.flush()


def watch(con, ticks):
    con.child.logfile_read = TickLog(con.child.logfile_read, ticks)


class Drain:
    """Keeps reading a console in a thread (so that its ticks are stamped
    when they arrive) while the main thread waits on another board."""

    def __init__(self, con):
        self.con, self.stop = con, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                self.con.child.expect([r"\A\Z never", qemu.pexpect.TIMEOUT], timeout=0.02)
            except (qemu.pexpect.EOF, OSError):
                return

    def join(self):
        self.stop = True
        self.thread.join(timeout=5)


def longest_gap(ticks, t0, t1):
    """The longest time between consecutive tick numbers seen in [t0, t1]
    (ms), and the mean tick period over that window (ms)."""
    seen = {}
    for n, t in ticks:
        if t0 <= t <= t1:
            seen.setdefault(n, t)
    ns = sorted(seen)
    gaps = [(seen[b] - seen[a]) * 1e3 for a, b in zip(ns, ns[1:]) if b == a + 1]
    if not gaps:
        raise qemu.BenchError("no ticks seen during the migration")
    period = (seen[ns[-1]] - seen[ns[0]]) * 1e3 / (ns[-1] - ns[0])
    return max(gaps), period


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# QEMU's own migration

class Monitor:
    """QEMU's human monitor on a unix socket."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise qemu.BenchError(f"no QEMU monitor at {path}")
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.read_prompt()

    def read_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise qemu.BenchError("the QEMU monitor closed")
            buf += chunk
        return buf.decode(errors="replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self.read_prompt()

    def close(self):
        self.sock.close()


def native_run(opts, rep, workload):
    port = free_port()
    cmds, mons = {}, {}
    for side in ("src", "dst"):
        mons[side] = os.path.join(qemu.OUT, f"mig-{side}.mon")
        if os.path.exists(mons[side]):
            os.remove(mons[side])
        cmds[side] = qemu.board(3, smp=1, mem=GUEST_MEM) + [
            "-kernel", qemu.KERNEL, "-initrd", qemu.INITRD,
            "-append", APPEND + WORKLOADS[workload],
            "-monitor", f"unix:{mons[side]},server=on,wait=off"]
    cmds["dst"] += ["-incoming", f"tcp:127.0.0.1:{port}"]
    ticks = []
    name = f"migrate-native-{workload}-{rep}"
    with qemu.boot(cmds["src"], name + "-src", opts.timeout) as src, \
            qemu.boot(cmds["dst"], name + "-dst", opts.timeout) as dst:
        watch(src, ticks)
        watch(dst, ticks)
        src.expect(TICK.pattern, "the guest's first tick")
        src.expect(r"cshyper-tick \d*000\b", "a thousand ticks", timeout=opts.timeout * 2)
        drains = [Drain(src), Drain(dst)]
        ms = Monitor(mons["src"], opts.timeout)
        t0 = time.monotonic()
        ms.cmd(f"migrate -d tcp:127.0.0.1:{port}")
        while True:
            info = ms.cmd("info migrate")
            status = re.search(r"Migration status: (\w+)", info)
            if status and status.group(1) in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() - t0 > opts.timeout * 4:
                raise qemu.BenchError(f"{name}: QEMU's migration did not finish:\n{info}")
            time.sleep(0.05)
        time.sleep(1)  # ticks from the destination
        t1 = time.monotonic()
        for d in drains:
            d.join()
        ms.close()
    if status.group(1) != "completed":
        raise qemu.BenchError(f"{name}: QEMU's migration {status.group(1)}:\n{info}")

    def field(key):
        m = re.search(rf"^{key}: (\d+)", info, re.M)
        if not m:
            raise qemu.BenchError(f"{name}: no '{key}' in info migrate:\n{info}")
        return int(m.group(1))
    gap, period = longest_gap(ticks, t0, t1)
    return {"total_s": field("total time") / 1e3, "downtime_ms": field("downtime"),
            "mib": field("transferred ram") / 1024, "gap_ms": gap, "tick_ms": period}


# --------------------------------------------------------------------------
# cshyper

def two_boards(name, timeout):
    """Boards A and B as in the system tests; their consoles at the prompt."""
    qemu.require(qemu.DISK)
    pa, pb = free_port(), free_port()
    links = {"a": f"socket,id=n0,udp=127.0.0.1:{pb},localaddr=127.0.0.1:{pa}",
             "b": f"socket,id=n0,udp=127.0.0.1:{pa},localaddr=127.0.0.1:{pb}"}
    cons, disks = {}, []
    try:
        for side in "ab":
            disk = os.path.join(qemu.OUT, f"{name}-{side}-disk.img")
            shutil.copyfile(qemu.DISK, disk)
            disks.append(disk)
            extra = ["-drive", f"if=none,id=d0,format=raw,file={disk}",
                     "-device", "virtio-blk-device,drive=d0",
                     "-netdev", links[side], "-device", "virtio-net-device,netdev=n0"]
            cmd = qemu.board(3, smp=2) + ["-kernel", qemu.HV_IMAGE, "-device",
                                          f"loader,file={qemu.KERNEL},"
                                          f"addr={qemu.MVM_KERNEL_ADDR:#x},force-raw=on",
                                          "-initrd", qemu.INITRD,
                                          "-append", f"mvm.net={ADDR[side]}/24"] + extra
            cons[side] = qemu.boot(cmd, f"{name}-{side}", timeout)
        for con in cons.values():
            con.expect(r"/dev/vda mounted on /mnt", "the MVM mounting its disk")
            con.expect(qemu.PROMPT, "the MVM's shell prompt")
        return cons, disks
    except BaseException:
        for con in cons.values():
            con.kill()
        for d in disks:
            os.remove(d)
        raise


def cshyper_run(opts, rep, workload):
    name = f"migrate-cshyper-{workload}-{rep}"
    cons, disks = two_boards(name, opts.timeout)
    a, b = cons["a"], cons["b"]
    ticks = []
    try:
        b.sh("(shyper system daemon >/tmp/daemon.log 2>&1 &)", timeout=opts.timeout)
        rc, out = a.sh(
            f"sed 's/\"0x8000000\"/\"0x10000000\"/; s|\"cmdline\": \"[^\"]*\"|\"cmdline\": "
            f"\"{APPEND + WORKLOADS[workload]}\"|; s/linux-console-a/mig-bench/' "
            f"{GUESTS}/linux-console-a.json > {GUESTS}/mig-bench.json && shyper vm config {GUESTS}/mig-bench.json",
            timeout=opts.timeout)
        m = re.search(r"^VM (\d+) configured", out, re.M)
        if rc or not m:
            raise qemu.BenchError(f"{name}: configuring the guest failed:\n{out}")
        vm = int(m.group(1))
        watch(a, ticks)
        watch(b, ticks)
        a.child.sendline(f"shyper vm boot {vm} >/dev/null")
        a.expect(r"cshyper-tick \d*000\b", "a thousand ticks", timeout=opts.timeout * 2)
        # The guest's ticks and the MVM's shell share A's UART character by
        # character, so no marker can be trusted while the guest runs there:
        # the command's output goes to a file, read once the guest ticks on B.
        drain_a = Drain(a)
        t0 = time.monotonic()
        a.child.sendline(f"shyper vm migrate {vm} {ADDR['b']} >/tmp/mig.out 2>&1")
        b.expect(r"\[vm\d+\] cshyper-tick \d+", "the guest ticking on board B",
                 timeout=opts.timeout * 4)
        drain_b = Drain(b)
        time.sleep(2)
        t1 = time.monotonic()
        drain_a.join()
        drain_b.join()
        rc, out = a.sh("cat /tmp/mig.out", timeout=opts.timeout)
        m = re.search(r"is now VM \d+ on \S+: total ([\d.]+) s, downtime (\d+) ms, "
                      r"([\d.]+) MiB sent in (\d+) rounds", out)
        if rc or not m:
            raise qemu.BenchError(f"{name}: the migration failed:\n{out}")
        gap, period = longest_gap(ticks, t0, t1)
        parts = re.search(r"^downtime: (.*?)\r?$", out, re.M)
        return {"total_s": float(m.group(1)), "downtime_ms": int(m.group(2)),
                "mib": float(m.group(3)), "rounds": int(m.group(4)), "gap_ms": gap,
                "tick_ms": period, "parts": parts.group(1) if parts else ""}
    finally:
        for con in cons.values():
            con.kill()
        for d in disks:
            os.remove(d)


def run(opts, progress):
    figures, extra = [], {}
    for workload in WORKLOADS:
        res = qemu.native_and_cshyper(
            opts, progress, f"migrate {workload}",
            lambda o, r, w=workload: native_run(o, r, w),
            lambda o, r, w=workload: cshyper_run(o, r, w),
            lambda r: f"total {r['total_s']:.2f} s, downtime {r['downtime_ms']} ms, "
                      f"{r['mib']:.1f} MiB, longest tick gap {r['gap_ms']:.0f} ms "
                      f"(ticks every {r['tick_ms']:.1f} ms)"
                      + (f"\n    downtime: {r['parts']}" if r.get("parts") else ""))
        extra[workload] = res

        def both(key):
            return [r[key] for r in res["native"]], [r[key] for r in res["cshyper"]]
        what = f"256 MiB Linux guest, {'idle' if workload == 'idle' else 'rewriting 4 MiB'}"
        figures += [
            Figure(f"migrate_{workload}_downtime", f"migration downtime, {what}", "ms",
                   "the migrating tool's own figure: cshyper from the pause to the "
                   "destination's RUNNING, QEMU's `info migrate` downtime",
                   *both("downtime_ms"),
                   limit=50 if workload == "idle" else None),
            Figure(f"migrate_{workload}_gap", f"migration, longest gap in the guest's ticks, "
                   f"{what}", "ms", "host time between two consecutive ticks of the guest "
                   "(printed about every ms) as they arrive from either board",
                   *both("gap_ms")),
            Figure(f"migrate_{workload}_total", f"migration total time, {what}", "s",
                   "from the command to the guest running on the destination",
                   *both("total_s")),
            Figure(f"migrate_{workload}_mib", f"migration data sent, {what}", "MiB",
                   "RAM pages and state sent", *both("mib")),
        ]
    notes = ["cshyper's data crosses two emulated NICs and two MVMs' TCP stacks; QEMU's "
             "goes from one QEMU process to the other over the host's loopback"]
    return figures, notes, {"migrate": extra}
