"""QEMU command construction and console handling for every benchmark.

One place builds the reference board's command line (QEMU virt, EL2,
Cortex-A72, 4 cores), natively and under cshyper, so that every workload
compares like with like. `boot()` returns a Console whose QEMU child is
killed when the `with` block ends, whatever happens inside it.
"""
import contextlib
import os
import re
import shlex
import shutil
import time

import pexpect

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
OUT = os.path.join(BUILD, "bench")
LOGS = os.path.join(OUT, "logs")

# CSHYPER_HV_IMAGE: another build of the image, as for the system tests.
HV_IMAGE = os.environ.get("CSHYPER_HV_IMAGE") or os.path.join(BUILD, "hv", "cshyper.bin")
KERNEL = os.path.join(BUILD, "images", "Image")
INITRD = os.path.join(BUILD, "images", "initramfs.cpio.gz")

QEMU = "qemu-system-aarch64"
SMP = 4
MEM = "1G"
# Where the hypervisor's built-in MVM configuration (hv/config/qemu-virt.c)
# expects the kernel, how much RAM it gives the MVM, and its command line.
MVM_KERNEL_ADDR = 0x50000000
MVM_MEM = "256M"
MVM_CMDLINE = "earlycon=pl011,0x09000000 console=ttyAMA0 rdinit=/init"
# 1 ns of virtual time per instruction; an idle machine skips to the next
# timer deadline at once instead of waiting for it in real time.
ICOUNT = ["-icount", "shift=0,sleep=off"]

READY = "cshyper-initramfs: ready"
PROMPT = r"cshyper:[^\r\n]*# "
HV_CONSOLE_READY = "[cpu0] console ready"


# A line the hypervisor prints for a guest ("[vm1] ..."): it shares the UART
# with the MVM and can land between any two characters the MVM writes.
HV_LINE_RE = r"\[vm\d+\] [^\r\n]*\r*\n"


def marker(text):
    """A pattern for text as the MVM printed it, guest lines allowed inside."""
    return f"(?:{HV_LINE_RE})*".join(re.escape(c) for c in text)


class BenchError(Exception):
    """A benchmark could not run; the message says why and what to do."""


def require(*paths):
    missing = [os.path.relpath(p, ROOT) for p in paths if not os.path.exists(p)]
    if missing:
        raise BenchError(f"missing {', '.join(missing)}: run `make hv images kmod` "
                         "(or plain `make bench`, which builds them) first")


def board(gic=3, smp=SMP, mem=MEM, icount=False, machine_opts=()):
    """The reference board, with the console on stdio."""
    machine = ",".join([f"virt,virtualization=on,gic-version={gic}", *machine_opts])
    cmd = [QEMU, "-M", machine,
           "-cpu", "cortex-a72", "-smp", str(smp), "-m", mem,
           "-nographic", "-no-reboot",
           # No default PCI NIC (its option ROM is not a dependency).
           "-nic", "none"]
    return cmd + (ICOUNT if icount else [])


_no_seed = None


def no_dtb_seed():
    """The virt machine option that keeps QEMU from putting kaslr-seed and
    rng-seed in the device tree ("dtb-randomness=off" since QEMU 7.2,
    "dtb-kaslr-seed=off" before), or None if it has none."""
    global _no_seed
    if _no_seed is None:
        try:
            out = pexpect.run(f"{QEMU} -M virt,help", encoding="utf-8", timeout=20)
        except pexpect.ExceptionPexpect as e:
            raise BenchError(f"cannot run {QEMU}: {e} (run `make deps`)") from e
        _no_seed = next((f"{p}=off" for p in ("dtb-randomness", "dtb-kaslr-seed")
                         if f"{p}=" in out), "")
    return _no_seed or None


def native_linux(gic=3, icount=False, vcpus=None, extra_append="", extra=(), kernel=KERNEL):
    """Linux booted directly by QEMU at EL2, with the MVM's command line.

    With `vcpus`, Linux also gets what the MVM gets: that many CPUs
    (nr_cpus), 256 MiB (mem=) and no kaslr-seed or rng-seed in its device
    tree (cshyper's MVM device tree has neither). A seed makes a large
    difference: it turns KASLR on, which forces page table isolation on,
    and a seeded RNG saves the kernel tens of ms of boot. What is left is
    the hypervisor and the rest of the device tree (QEMU's lists every virt
    device: PCIe, ITS, flash, fw_cfg, 32 virtio-mmio slots)."""
    require(kernel, INITRD)
    append = MVM_CMDLINE
    machine_opts = []
    if vcpus:
        append += f" nr_cpus={vcpus} mem={MVM_MEM}"
        machine_opts = [o for o in (no_dtb_seed(),) if o]
    if extra_append:
        append += " " + extra_append
    return board(gic, icount=icount, machine_opts=machine_opts) + [
        "-kernel", kernel, "-initrd", INITRD, "-append", append] + list(extra)


def cshyper(gic=3, icount=False, mvm=True, hv_append="", extra=(), kernel=KERNEL):
    """cshyper on the board; with `mvm`, the MVM kernel loaded where the
    built-in configuration expects it, and the initramfs."""
    require(HV_IMAGE, *((kernel, INITRD) if mvm else ()))
    cmd = board(gic, icount=icount) + ["-kernel", HV_IMAGE]
    if mvm:
        cmd += ["-device", f"loader,file={kernel},addr={MVM_KERNEL_ADDR:#x},force-raw=on",
                "-initrd", INITRD]
    args = " ".join(a for a in (("" if mvm else "mvm=off"), hv_append) if a)
    if args:
        cmd += ["-append", args]
    return cmd + list(extra)


def mvm_vcpus_arg(vcpus):
    return f"mvm.vcpus={vcpus}" if vcpus and vcpus != 1 else ""


class Console:
    """A running QEMU and its first UART. `t0` is time.monotonic() just
    before QEMU was started; use `since_start()` for wall times."""

    def __init__(self, cmd, name, timeout):
        os.makedirs(LOGS, exist_ok=True)
        self.name = name
        self.cmd = cmd
        self.log_path = os.path.join(LOGS, f"{name}.log")
        self.timeout = timeout
        self.child = None
        self._log = open(self.log_path, "w")
        self._log.write("# " + shlex.join(cmd) + "\n")
        self._log.flush()
        self.t0 = time.monotonic()
        try:
            self.child = pexpect.spawn(cmd[0], cmd[1:], timeout=timeout, encoding="utf-8",
                                       codec_errors="replace", cwd=ROOT)
        except pexpect.ExceptionPexpect as e:
            self._log.close()
            raise BenchError(f"cannot start {cmd[0]}: {e}") from e
        self.child.logfile_read = self._log

    def since_start(self):
        return time.monotonic() - self.t0

    def expect(self, pattern, what, timeout=None):
        """Waits for a regex; on timeout or exit raises BenchError with the
        tail of the console."""
        try:
            self.child.expect(pattern, timeout=timeout or self.timeout)
            return self.child.match
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            kind = "timed out" if isinstance(e, pexpect.TIMEOUT) else "QEMU exited"
            tail = (self.child.before or "")[-1500:]
            raise BenchError(f"{self.name}: {kind} waiting for {what}; console log in "
                             f"{os.path.relpath(self.log_path, ROOT)}, last output:\n{tail}") from None

    def expect_text(self, text, what=None, timeout=None):
        return self.expect(re.escape(text), what or repr(text), timeout)

    def sh(self, cmd, timeout=30):
        """Runs cmd in the guest's busybox shell (the prompt must be showing);
        returns (exit status, output). The quotes split the markers so the
        echoed command line cannot match them."""
        self.child.sendline(f'echo "@@BEG""IN@@"; {cmd}; echo "@@E""ND@@$?"')
        self.expect(marker("@@BEGIN@@") + r"\r*\n", f"the start of `{cmd}`", timeout)
        m = self.expect(marker("@@END@@") + r"(\d+)", f"the end of `{cmd}`", timeout)
        out, rc = self.child.before.replace("\r", ""), int(m.group(1))
        self.expect(PROMPT, f"the prompt after `{cmd}`", timeout)
        # Guest lines the hypervisor printed in the middle of the output.
        return rc, re.sub(HV_LINE_RE, "", out)

    def kill(self):
        if self.child is not None and self.child.isalive():
            self.child.terminate(force=True)
        if self.child is not None:
            self.child.close(force=True)
        if not self._log.closed:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False


def boot(cmd, name, timeout=90):
    """Starts QEMU; use as `with boot(...) as con:` so it is always killed."""
    return Console(cmd, name, timeout)


def qemu_version():
    try:
        out = pexpect.run(f"{QEMU} --version", encoding="utf-8", timeout=10)
    except pexpect.ExceptionPexpect as e:
        raise BenchError(f"cannot run {QEMU}: {e} (run `make deps`)") from e
    return out.splitlines()[0].strip() if out else "unknown"


DISK = os.path.join(BUILD, "images", "mvm-disk.img")


@contextlib.contextmanager
def mvm_with_disk(name, timeout):
    """cshyper with the MVM and a throw-away copy of its disk (guests/configs
    in /mnt/guests), yielding the Console at the MVM's shell prompt."""
    require(DISK)
    os.makedirs(OUT, exist_ok=True)
    disk = os.path.join(OUT, f"{name}-disk.img")
    shutil.copyfile(DISK, disk)
    extra = ["-drive", f"if=none,id=d0,format=raw,file={disk}",
             "-device", "virtio-blk-device,drive=d0"]
    try:
        with boot(cshyper(extra=extra), name, timeout) as con:
            con.expect(r"/dev/vda mounted on /mnt", "the MVM mounting its disk")
            con.expect(PROMPT, "the MVM's shell prompt")
            yield con
    finally:
        os.remove(disk)


def native_and_cshyper(opts, progress, label, native_run, cshyper_run, describe):
    """Runs both `opts.runs` times, alternating; returns {"native": [...],
    "cshyper": [...]} and reports each result with describe(result)."""
    res = {"native": [], "cshyper": []}
    for rep in range(1, opts.runs + 1):
        for kind, fn in (("native", native_run), ("cshyper", cshyper_run)):
            r = fn(opts, rep)
            res[kind].append(r)
            progress(f"{label} {rep}/{opts.runs}: {kind:7} {describe(r)}")
    return res
