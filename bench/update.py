"""Hypervisor live update (`shyper system update`), on the reference board
under -icount shift=0,sleep=off, so the pause is virtual time tied to
instructions (1 ns each) and repeats on a noisy host.

- pause, 1 VM: the MVM alone; three switches (cshyper.bin -> cshyper-s1.bin
  -> cshyper.bin -> cshyper-s1.bin), each figure the hypervisor's own: from
  the park request to every core back in the new image (the span in which
  any guest can be stopped), as `updating: N cores paused X ms` prints it.
- pause, 3 VMs: the same with a Linux guest on core 1 (linux-console-a)
  and the real-time guest on core 3 (rt-latency-loop: virtual-timer shots
  reported per window).
- RT worst latency: the largest per-window maximum of rt-latency-loop's
  timer latency (a shot every 50 us, windows of 200 ms) in the 10 windows
  before the switches, once Linux has booted (idle), against the windows
  that were running while a switch happened (update).
- command: the whole `shyper system update` (upload, check, switch,
  self-check) in the MVM's virtual time (busybox `time`).

There is no native counterpart: a board without a hypervisor has nothing to
replace; the RT guest's idle windows are its baseline.
"""
import os
import re
import shutil

import qemu
from report import Figure

HV = "/mnt/hv"
IMAGES = [f"{HV}/cshyper-s1.bin", f"{HV}/cshyper.bin", f"{HV}/cshyper-s1.bin"]
GUESTS = "/mnt/guests"
WINDOW = re.compile(r"\[vm(\d+)\] rt-latency: window (\d+) n=(\d+) missed=(\d+) "
                    r"max=(\d+) ticks max=(\d+) ns")


def update(con, image, timeout):
    rc, out = con.sh(f"time shyper system update {image}", timeout=timeout)
    m = re.search(r"^updating: (\d+) cores paused ([\d.]+) ms$", out, re.M)
    t = re.search(r"^real\s+(\d+)m\s*([\d.]+)s$", out, re.M)
    if rc or not m or not t:
        raise qemu.BenchError(f"{con.name}: update to {image} failed:\n{out}")
    return float(m.group(2)) * 1000, int(t.group(1)) * 60 + float(t.group(2))


def windows(con, vm):
    """rt-latency-loop's windows so far: [(k, max_ns, missed)]."""
    with open(con.log_path, errors="replace") as f:
        text = f.read()
    return [(int(m[2]), int(m[6]), int(m[4])) for m in WINDOW.finditer(text)
            if int(m[1]) == vm]


def boot_vm(con, config, timeout):
    rc, out = con.sh(f"shyper vm config {GUESTS}/{config}", timeout=timeout)
    m = re.search(r"^VM (\d+) configured$", out, re.M)
    if rc or not m:
        raise qemu.BenchError(f"{con.name}: configuring {config} failed:\n{out}")
    vm = int(m.group(1))
    rc, out = con.sh(f"shyper vm boot {vm}", timeout=timeout)
    if rc:
        raise qemu.BenchError(f"{con.name}: booting {config} failed:\n{out}")
    return vm


def one_run(opts, rep, with_guests):
    name = f"update-{'3vm' if with_guests else '1vm'}-{rep}"
    qemu.require(qemu.DISK)
    disk = os.path.join(qemu.OUT, f"{name}-disk.img")
    os.makedirs(qemu.OUT, exist_ok=True)
    shutil.copyfile(qemu.DISK, disk)
    extra = ["-drive", f"if=none,id=d0,format=raw,file={disk}",
             "-device", "virtio-blk-device,drive=d0"]
    res = {"pause_us": [], "command_s": []}
    try:
        with qemu.boot(qemu.cshyper(icount=True, extra=extra), name, opts.timeout) as con:
            con.expect(r"/dev/vda mounted on /mnt", "the MVM mounting its disk")
            con.expect(qemu.PROMPT, "the MVM's shell prompt")
            rt = None
            if with_guests:
                boot_vm(con, "linux-console-a.json", opts.timeout)
                rt = boot_vm(con, "rt-latency-loop.json", opts.timeout)
                # Under icount the cores share one instruction clock: while
                # Linux boots, its core's turns delay the RT core's interrupts
                # by milliseconds. The baseline is 10 windows (2 s) once it
                # has settled.
                con.expect(rf"\[vm{rt}\] rt-latency: window 30 ", "30 RT windows",
                           timeout=opts.timeout * 4)
            idle = windows(con, rt)[-10:] if rt else []
            spans = []
            for image in IMAGES:
                before = len(windows(con, rt)) if rt else 0
                pause, cmd = update(con, image, opts.timeout * 2)
                res["pause_us"].append(pause)
                res["command_s"].append(cmd)
                if rt:
                    # The window running at the switch ends after it: wait for it.
                    con.expect(rf"\[vm{rt}\] rt-latency: window {len(windows(con, rt)) + 1} ",
                               "the RT window after the switch", timeout=opts.timeout)
                    spans.append((before, len(windows(con, rt))))
            if rt:
                w = windows(con, rt)
                during = [w[i] for a, b in spans for i in range(max(a - 1, 0), b)]
                if any(x[2] for x in w):
                    raise qemu.BenchError(f"{name}: RT timer shots were missed: {w}")
                res["rt_idle_ns"] = max(x[1] for x in idle)
                res["rt_update_ns"] = max(x[1] for x in during)
                res["rt_windows"] = len(w)
    finally:
        os.remove(disk)
    return res


def run(opts, progress):
    samples = {k: [] for k in ("p1", "p3", "c1", "c3", "idle", "upd")}
    for rep in range(1, opts.runs + 1):
        for guests in (False, True):
            r = one_run(opts, rep, guests)
            p, c = ("p3", "c3") if guests else ("p1", "c1")
            samples[p] += r["pause_us"]
            samples[c] += r["command_s"]
            text = (f"pauses {', '.join(f'{x:.0f}' for x in r['pause_us'])} us, commands "
                    f"{', '.join(f'{x:.2f}' for x in r['command_s'])} s")
            if guests:
                samples["idle"].append(r["rt_idle_ns"] / 1000)
                samples["upd"].append(r["rt_update_ns"] / 1000)
                text += (f"; RT worst {r['rt_idle_ns'] / 1000:.1f} us idle, "
                         f"{r['rt_update_ns'] / 1000:.1f} us across the switches")
            progress(f"update {rep}/{opts.runs}: {'3 VMs' if guests else '1 VM '} {text}")
    figures = [
        Figure("update_pause_1vm", "live update pause, MVM only", "us",
               "cores parked to every core back in the new image (virtual time)",
               None, samples["p1"], limit=1000),
        Figure("update_pause_3vm", "live update pause, MVM + Linux + RT guest", "us",
               "cores parked to every core back in the new image (virtual time)",
               None, samples["p3"], limit=1000),
        Figure("update_rt_worst_idle", "RT guest worst timer latency, no update", "us",
               "largest window maximum of rt-latency-loop before the switches",
               None, samples["idle"]),
        Figure("update_rt_worst_during", "RT guest worst timer latency across an update",
               "us", "largest window maximum of the windows running during a switch",
               None, samples["upd"]),
        Figure("update_command_1vm", "shyper system update, whole command, MVM only", "s",
               "upload, check, switch and self-check, the MVM's virtual time", None,
               samples["c1"]),
        Figure("update_command_3vm", "shyper system update, whole command, 3 VMs", "s",
               "upload, check, switch and self-check, the MVM's virtual time", None,
               samples["c3"]),
    ]
    notes = ["no native counterpart: the RT guest's windows before the switches are its baseline"]
    return figures, notes, {"update": samples}
