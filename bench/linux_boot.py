"""Boot time of the Linux MVM natively and under cshyper.

Each repetition boots Linux four times, one QEMU at a time: natively and
under cshyper, once in real time (wall clock to the initramfs's ready line)
and once under -icount shift=0,sleep=off (virtual time, read from inside the
guest once its shell is up; see clockmark.py for the absolute clock).

Reading /proc/uptime at the shell prompt would not measure the boot: with
sleep=off an idle guest's virtual clock jumps to its next timer deadline at
once, so it races ahead (by tens of seconds) while the guest waits for the
host to type. The figures are therefore dmesg timestamps of events taken
while booting, which idling afterwards cannot change.
"""
import re

import clockmark
import qemu
from report import Figure

RUN_INIT = "Run /init as init process"
# The last kernel message before /init prints its ready line: the shell
# builtin echo is all that runs in between.
MODULE_LOADED = r"shyper: cshyper module version \S+, ABI version \d+ loaded"


def _dmesg_time(out, pattern):
    m = re.search(r"^\[\s*(\d+)\.(\d{6})\]\s+(?:" + pattern + ")", out, re.M)
    return None if m is None else int(m.group(1)) * 10**9 + int(m.group(2)) * 1000


def _commands(kind, icount, opts):
    if kind == "native":
        return qemu.native_linux(gic=opts.gic, icount=icount,
                                 vcpus=None if opts.native_full else opts.vcpus)
    return qemu.cshyper(gic=opts.gic, icount=icount, hv_append=qemu.mvm_vcpus_arg(opts.vcpus))


def _wait_mvm(con, kind):
    if kind == "cshyper":
        m = con.expect(r"mvm: (\d+) vCPU\(s\)[^\r\n]*", "the hypervisor starting the MVM")
        return m.group(0)
    return None


def wall_boot(kind, opts, rep):
    """Seconds from starting QEMU to the initramfs's ready line."""
    with qemu.boot(_commands(kind, False, opts), f"linux-{kind}-wall-{rep}", opts.timeout) as con:
        _wait_mvm(con, kind)
        con.expect_text(qemu.READY, "the initramfs's ready line")
        return con.since_start()


def virtual_boot(kind, opts, rep):
    """Virtual-time figures (ns) from one boot under icount."""
    with qemu.boot(_commands(kind, True, opts), f"linux-{kind}-icount-{rep}", opts.timeout) as con:
        mvm_line = _wait_mvm(con, kind)
        con.expect_text(qemu.READY, "the initramfs's ready line")
        con.expect(qemu.PROMPT, "the shell prompt")
        clockmark.install(con)
        offset, error = clockmark.measure(con)
        rc, out = con.sh(f"dmesg | grep -E '{RUN_INIT}|shyper: '; cat /proc/cmdline; "
                         "grep -c ^processor /proc/cpuinfo")
        init, ready = _dmesg_time(out, re.escape(RUN_INIT)), _dmesg_time(out, MODULE_LOADED)
        if init is None:
            raise qemu.BenchError(f"{con.name}: no '{RUN_INIT}' in dmesg:\n{out}")
        lines = [l for l in out.strip().splitlines() if l.strip()]
        return {"offset": offset, "offset_error": error, "init": init, "ready": ready,
                "cmdline": lines[-2].strip() if len(lines) >= 2 else "",
                "cpus": int(lines[-1]) if lines and lines[-1].strip().isdigit() else None,
                "mvm_line": mvm_line, "wall": con.since_start()}


def run(opts, progress):
    kinds = ("native", "cshyper")
    wall = {k: [] for k in kinds}
    virt = {k: [] for k in kinds}
    for rep in range(1, opts.runs + 1):
        for kind in kinds:
            t = wall_boot(kind, opts, rep)
            wall[kind].append(t)
            progress(f"linux boot {rep}/{opts.runs}: {kind:7} wall {t:.2f} s")
        for kind in kinds:
            v = virtual_boot(kind, opts, rep)
            virt[kind].append(v)
            progress(f"linux boot {rep}/{opts.runs}: {kind:7} icount: Run /init at "
                     f"{v['init'] / 1e6:.1f} ms kernel clock, kernel clock zero at "
                     f"{v['offset'] / 1e6:.2f} ms virtual ({v['wall']:.1f} s wall)")

    def ms(kind, f):
        vals = [f(v) for v in virt[kind]]
        return None if any(x is None for x in vals) else [x / 1e6 for x in vals]

    target = "Linux boot to init under cshyper vs. natively (virtual time) ≤ 1.10×"
    figures = [
        Figure("linux_ready_wall", "Linux to initramfs ready, wall", "s",
               "real seconds from starting QEMU to 'cshyper-initramfs: ready' (no icount; noisy)",
               wall["native"], wall["cshyper"]),
        Figure("linux_init_kernel_clock", "Linux to Run /init, kernel clock", "ms",
               "icount virtual time: dmesg timestamp of 'Run /init as init process', i.e. from "
               "the kernel setting up its timer; excludes the hypervisor's boot",
               ms("native", lambda v: v["init"]), ms("cshyper", lambda v: v["init"]),
               1.10, target),
        Figure("linux_ready_kernel_clock", "Linux to initramfs ready, kernel clock", "ms",
               "icount virtual time: dmesg timestamp of shyper.ko's load message, the last "
               "thing /init does before printing its ready line",
               ms("native", lambda v: v["ready"]), ms("cshyper", lambda v: v["ready"])),
        Figure("linux_init_virtual", "QEMU start to Run /init, virtual", "ms",
               "icount virtual time since QEMU started (guest CNTVCT tied to the dmesg clock "
               "by clockmark): includes the hypervisor's boot and the kernel's first steps",
               ms("native", lambda v: v["offset"] + v["init"]),
               ms("cshyper", lambda v: v["offset"] + v["init"]), 1.10, target),
        Figure("linux_ready_virtual", "QEMU start to initramfs ready, virtual", "ms",
               "as above, to shyper.ko's load message",
               ms("native", lambda v: v["offset"] + v["ready"] if v["ready"] else None),
               ms("cshyper", lambda v: v["offset"] + v["ready"] if v["ready"] else None)),
        Figure("pre_kernel_clock_virtual", "QEMU start to kernel clock zero, virtual", "ms",
               "icount virtual time before the kernel's log clock starts: natively the kernel's "
               "earliest boot; under cshyper also the whole hypervisor boot (all cores up, IPI "
               "and timer checks, MVM set-up and initramfs copy)",
               ms("native", lambda v: v["offset"]), ms("cshyper", lambda v: v["offset"])),
    ]
    figures = [f for f in figures if f.native is not None and f.cshyper is not None]

    notes = []
    if any(v["ready"] is None for k in kinds for v in virt[k]):
        notes.append("no shyper.ko load message in dmesg: the 'initramfs ready' virtual "
                     "figures are left out (run `make kmod images`)")
    if opts.native_full:
        notes.append(f"native Linux used the whole board ({qemu.SMP} CPUs, {qemu.MEM}); the MVM "
                     f"had {opts.vcpus} vCPU(s), {qemu.MVM_MEM}; QEMU also gave it KASLR and RNG seeds")
    else:
        seed = qemu.no_dtb_seed()
        notes.append(f"native Linux got the MVM's resources and command line: nr_cpus={opts.vcpus} "
                     f"mem={qemu.MVM_MEM}, " + (f"and -M ...,{seed}: no KASLR or RNG seed in its "
                     "device tree, as in the MVM's" if seed else "but this QEMU cannot drop the "
                     "KASLR/RNG seeds from its device tree (the MVM gets none)") +
                     "; the device trees still differ: QEMU's also lists PCIe, ITS, flash, "
                     "fw_cfg and 32 virtio-mmio slots, which native Linux probes")
    mvm_cmdline = virt["cshyper"][0]["cmdline"]
    if mvm_cmdline != qemu.MVM_CMDLINE:
        notes.append(f"the MVM's /proc/cmdline is '{mvm_cmdline}', not '{qemu.MVM_CMDLINE}' "
                     "as bench/qemu.py assumes for the native baseline: update MVM_CMDLINE")
    for kind in kinds:
        cpus = {v["cpus"] for v in virt[kind]}
        notes.append(f"{kind}: Linux saw {'/'.join(str(c) for c in sorted(cpus, key=str))} CPU(s)")
    err = max(v["offset_error"] for k in kinds for v in virt[k])
    notes.append(f"virtual clock tie (clockmark) uncertainty ≤ {err / 1000:.1f} µs")

    details = {k: virt[k] for k in kinds}
    return figures, notes, {"linux_boot_icount_runs": details,
                            "native_cmd": _commands("native", True, opts),
                            "cshyper_cmd": _commands("cshyper", True, opts)}
