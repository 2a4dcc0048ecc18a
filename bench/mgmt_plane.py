"""The management plane, as a user drives it from the MVM's shell: uploading a
guest's images (`shyper vm config`) and booting the guest (`shyper vm boot`).

Each repetition runs four QEMUs, one at a time: cshyper with the MVM and a
copy of its disk, and the guest's kernel and initramfs booted natively with
the guest's resources, each once under -icount shift=0,sleep=off (virtual
time) and once without (wall time, paced by the host).

Image upload (cshyper only: there is nothing native to compare with). In the
MVM, `cntrun` (below) times one command by the MVM's counter. The counter is
read while the MVM is busy (once the page cache is warm the command runs
from start to end without waiting), so under sleep=off it counts the
instructions in between. `/proc/uptime` or `time` around a command would do
as well but only to 10 ms; around anything that idles (the shell waiting
for input, disk I/O) virtual time jumps to the next timer deadline.
In order:

1. `dd bs=1M` of the guest's Image, twice: from the disk (cold), then from
   the page cache (warm: the CLI's read pattern, 1 MiB at a time).
2. `shyper vm config /mnt/guests/linux-core1.json`, the first one since the
   MVM booted, then `shyper vm remove`. The first is slow: json-c seeds its
   hash tables from /dev/urandom, which waits for the MVM's CRNG.
3. `shyper vm config` of the same JSON copied to /tmp with Image cut to its
   first 64 KiB (the initramfs the same), and remove: the fixed costs.
4. `shyper vm config /mnt/guests/linux-core1.json` again. Minus 3. it is what
   the 33 MB kernel costs (read and upload); minus the warm dd as well, the
   upload alone, reported as MB/s.

Guest boot. `shyper vm boot` is timed by cntrun as above. The guest cannot
be typed to (its UART only transmits), so the bench's copy of the MVM disk
gets a guest initramfs with one more cpio archive appended, which replaces
/etc/profile: the shell started after `cshyper-initramfs: ready` prints a
clockmark (see clockmark.py: the guest's CNTVCT is absolute, CNTVOFF_EL2 is
0) and the dmesg lines of `Run /init` and shyper.ko's load message, once,
then `cshyper-bench: done`. These are stamps taken while booting, so the
MVM and the guest idling afterwards cannot change them. Natively the same
Image and initramfs boot on a board with the guest's CPUs and memory and
its command line. The MVM stays idle while the guest boots: under icount
all vCPUs share one instruction clock, a busy MVM would slow the guest.

cntrun source (aarch64-linux-gnu-as; the bytes below are its .text). It
forks, execs argv[1] with argv[1..], waits, and writes the counters before
the fork and after the wait and the wait status, raw, to fd 3:

    _start: ldr   x19, [sp]             // argc
            add   x20, sp, #8           // argv
            add   x21, x20, x19, lsl #3
            add   x21, x21, #8          // envp
            sub   sp, sp, #32
            isb
            mrs   x22, cntvct_el0
            mov   x0, #17               // clone(SIGCHLD, 0, 0, 0, 0): fork
            mov   x1, #0
            mov   x2, #0
            mov   x3, #0
            mov   x4, #0
            mov   x8, #220
            svc   #0
            cbnz  x0, 1f
            ldr   x0, [x20, #8]         // child: execve(argv[1], argv + 1, envp)
            add   x1, x20, #8
            mov   x2, x21
            mov   x8, #221
            svc   #0
            mov   x0, #127
            mov   x8, #93               // exit(127)
            svc   #0
    1:      str   xzr, [sp, #16]
            add   x1, sp, #16           // wait4(pid, &status, 0, 0)
            mov   x2, #0
            mov   x3, #0
            mov   x8, #260
            svc   #0
            isb
            mrs   x23, cntvct_el0
            stp   x22, x23, [sp]
            mov   x0, #3                // write(3, {t0, t1, status}, 24)
            mov   x1, sp
            mov   x2, #24
            mov   x8, #64
            svc   #0
            ldr   w0, [sp, #16]         // exit(WEXITSTATUS)
            ubfx  w0, w0, #8, #8
            mov   x8, #93
            svc   #0
"""
import base64
import gzip
import json
import os
import re
import shutil
import struct
import subprocess

import clockmark
import qemu
from linux_boot import MODULE_LOADED, RUN_INIT, _dmesg_time
from report import Figure

CNTRUN_CODE = bytes.fromhex(
    "f30340f9f4230091950e138bb5220091ff8300d1df3f03d556e03bd5200280d2"
    "010080d2020080d2030080d2040080d2881b80d2010000d4200100b5800640f9"
    "81220091e20315aaa81b80d2010000d4e00f80d2a80b80d2010000d4ff0b00f9"
    "e1430091020080d2030080d2882080d2010000d4df3f03d557e03bd5f65f00a9"
    "600080d2e1030091020380d2080880d2010000d4e01340b9003c0853a80b80d2"
    "010000d4")
CNTRUN = "/tmp/cntrun"

DISK = os.path.join(qemu.BUILD, "images", "mvm-disk.img")
WORK = os.path.join(qemu.OUT, "mgmt")
GUESTS = "/mnt/guests"
CONFIG_NAME = "linux-core1.json"
CONFIG = f"{GUESTS}/{CONFIG_NAME}"
SMALL_KERNEL = 64 * 1024

HOOK = "cshyper-bench:"
HOOK_DONE = "cshyper-bench: done"
HOOK_CLOCKMARK = "/usr/bin/cshyper-bench-clockmark"
HOOK_PROFILE = f"""
# Added by bench/mgmt_plane.py on the bench's copy of the MVM disk: once,
# print the guest's clock tie (clockmark) and the boot events in dmesg.
if [ ! -e /run/cshyper-bench ]; then
	: > /run/cshyper-bench
	{HOOK_CLOCKMARK} 2>&1 >/dev/kmsg | hexdump -v -e '16/1 "%02x" "\\n"' | sed 's/^/{HOOK} cnt /'
	dmesg | grep -E '{RUN_INIT}|shyper: |{clockmark.MARK}' | sed 's/^/{HOOK} dmesg /'
	echo "{HOOK_DONE}"
fi
"""


# --- the guest initramfs with the hook ---------------------------------------

def _cpio_entries(data):
    """(name, mode, body) of every entry of (concatenated) newc archives."""
    pos = 0
    while pos + 110 <= len(data):
        if data[pos:pos + 6] not in (b"070701", b"070702"):
            pos += 1  # padding between archives
            continue
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name_end = pos + 110 + namesize
        name = data[pos + 110:name_end - 1].decode()
        body_start = (name_end + 3) & ~3
        body = data[body_start:body_start + size]
        pos = (body_start + size + 3) & ~3
        if name != "TRAILER!!!":
            yield name, mode, body


def _cpio(files):
    """A newc archive of regular files: [(name, mode, bytes)]."""
    out = bytearray()

    def entry(ino, name, mode, body):
        nb = name.encode() + b"\0"
        out.extend(b"070701" + b"".join(b"%08x" % v for v in (
            ino, mode, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(nb), 0)))
        out.extend(nb + bytes(-(110 + len(nb)) % 4))
        out.extend(body + bytes(-len(body) % 4))
    for i, (name, mode, body) in enumerate(files):
        entry(0x7ffff000 + i, name, mode, body)
    entry(0, "TRAILER!!!", 0, b"")
    return bytes(out)


def hooked_initramfs(orig_path, out_path):
    """The guest's initramfs plus a gzip'd cpio appended (the kernel unpacks
    them in turn, later files replace earlier ones): /etc/profile with the
    hook added, and clockmark."""
    with open(orig_path, "rb") as f:
        orig = f.read()
    profile = b""
    for name, _, body in _cpio_entries(gzip.decompress(orig)):
        if name.lstrip("./") == "etc/profile":
            profile = body
    extra = gzip.compress(_cpio([
        ("etc/profile", 0o100644, profile + HOOK_PROFILE.encode()),
        (HOOK_CLOCKMARK.lstrip("/"), 0o100755, clockmark.elf()),
    ]), mtime=0)
    with open(out_path, "wb") as f:
        f.write(orig + extra)
    return len(extra)


def _debugfs(disk, *cmds, write=False):
    script = os.path.join(WORK, "debugfs.cmds")
    with open(script, "w") as f:
        f.write("\n".join(cmds) + "\n")
    try:
        r = subprocess.run(["debugfs", *(["-w"] if write else []), "-f", script, disk],
                           capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise qemu.BenchError(f"cannot run debugfs (e2fsprogs): {e}") from e
    if r.returncode:
        raise qemu.BenchError(f"debugfs on {disk} failed: {r.stderr.strip()}")
    return r.stdout


class Guest:
    """What the bench boots: the MVM disk with the hooked guest initramfs,
    and the guest's own files and configuration taken from it."""

    def __init__(self):
        qemu.require(DISK)
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        self.disk = os.path.join(WORK, "mvm-disk.img")
        shutil.copyfile(DISK, self.disk)  # never touch the build's disk
        self.kernel = os.path.join(WORK, "Image")
        orig = os.path.join(WORK, "initramfs.orig.cpio.gz")
        self.initrd = os.path.join(WORK, "initramfs.cpio.gz")
        cfg = os.path.join(WORK, CONFIG_NAME)
        _debugfs(self.disk, f"dump /guests/Image {self.kernel}",
                 f"dump /guests/initramfs.cpio.gz {orig}", f"dump /guests/{CONFIG_NAME} {cfg}")
        for p in (self.kernel, orig, cfg):
            if not os.path.exists(p):
                raise qemu.BenchError(f"{os.path.relpath(DISK, qemu.ROOT)} has no "
                                      f"/guests/{os.path.basename(p)}: run `make mvm-disk`")
        with open(cfg) as f:
            self.config = json.load(f)
        if self.config["image"].get("ramdisk_filename") != "initramfs.cpio.gz" or \
                self.config["image"].get("kernel_filename") != "Image":
            raise qemu.BenchError(f"{CONFIG_NAME} no longer boots Image with initramfs.cpio.gz: "
                                  "update bench/mgmt_plane.py")
        self.hook_bytes = hooked_initramfs(orig, self.initrd)
        _debugfs(self.disk, "cd /guests", "rm initramfs.cpio.gz",
                 f"write {self.initrd} initramfs.cpio.gz", "sif initramfs.cpio.gz mode 0100644",
                 write=True)
        self.kernel_bytes = os.path.getsize(self.kernel)
        self.initrd_bytes = os.path.getsize(self.initrd)
        self.cmdline = self.config["cmdline"]
        self.cpus = int(self.config["cpu"]["num"])
        self.mem_mib = sum(int(str(r["length"]), 0) for r in self.config["memory"]["region"]) >> 20

    def session_disk(self, name):
        path = os.path.join(WORK, f"{name}.img")
        shutil.copyfile(self.disk, path)
        return path


# --- in the guests -----------------------------------------------------------

def _hook_result(text, name):
    """The hook's lines (prefixes such as [vm1] stripped) -> kernel clock
    tie and the dmesg stamps of Run /init and shyper.ko's load message."""
    lines = re.findall(re.escape(HOOK) + r" (?:cnt|dmesg) ([^\r\n]*)", text)
    out = "\n".join(lines)
    offset, error = clockmark.tie(out, name)
    init, ready = _dmesg_time(out, re.escape(RUN_INIT)), _dmesg_time(out, MODULE_LOADED)
    if init is None or ready is None:
        raise qemu.BenchError(f"{name}: the guest's dmesg lacks '{RUN_INIT}' or shyper.ko's "
                              f"load message:\n{out}")
    return {"offset": offset, "offset_error": error, "init": init, "ready": ready}


def install_cntrun(con):
    b64 = base64.b64encode(clockmark.elf(CNTRUN_CODE)).decode()
    rc, out = con.sh(f"echo {b64} | base64 -d > {CNTRUN} && chmod +x {CNTRUN}")
    if rc:
        raise qemu.BenchError(f"{con.name}: cannot install cntrun in the MVM: {out.strip()}")


def _read_cntrun(con, tfile, what):
    rc, out = con.sh(f"hexdump -v -e '24/1 \"%02x\" \"\\n\"' {tfile}")
    m = re.search(r"^([0-9a-f]{48})$", out, re.M)
    if rc or not m:
        raise qemu.BenchError(f"{con.name}: no cntrun result for {what}:\n{out}")
    t0, t1, status = struct.unpack("<QQQ", bytes.fromhex(m.group(1)))
    return t0 * clockmark.COUNTER_NS, t1 * clockmark.COUNTER_NS, (status >> 8) & 0xff


def timed(con, cmd, what, timeout=120):
    """Runs `cmd` (its program looked up in PATH) under cntrun in the MVM;
    returns (ns, output). The command must succeed."""
    prog, _, args = cmd.partition(" ")
    rc, out = con.sh(f"{CNTRUN} $(which {prog}) {args} 3>/tmp/cnt.t >/tmp/cnt.out 2>&1;"
                     f" cat /tmp/cnt.out", timeout)
    t0, t1, status = _read_cntrun(con, "/tmp/cnt.t", what)
    if rc or status:
        raise qemu.BenchError(f"{con.name}: `{cmd}` failed ({rc}/{status}):\n{out}")
    return t1 - t0, out


def _vm_id(out, con, cmd):
    m = re.search(r"^VM (\d+) configured", out, re.M)
    if not m:
        raise qemu.BenchError(f"{con.name}: `{cmd}` did not configure a VM:\n{out}")
    return int(m.group(1))


def cshyper_session(guest, opts, icount, rep):
    mode = "icount" if icount else "wall"
    name = f"mgmt-cshyper-{mode}-{rep}"
    disk = guest.session_disk("mvm-disk-session")
    extra = ["-drive", f"if=none,id=d0,format=raw,file={disk}",
             "-device", "virtio-blk-device,drive=d0",
             "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]
    cmd = qemu.cshyper(gic=opts.gic, icount=icount, hv_append=qemu.mvm_vcpus_arg(opts.vcpus),
                       extra=extra)
    r = {}
    with qemu.boot(cmd, name, opts.timeout) as con:
        con.expect(r"/dev/vda mounted on /mnt", "the MVM mounting its disk")
        con.expect_text(qemu.READY, "the MVM's initramfs")
        con.expect(qemu.PROMPT, "the MVM's shell prompt")
        install_cntrun(con)
        dd = f"dd if={GUESTS}/Image of=/dev/null bs=1M"
        r["read_cold"], _ = timed(con, dd, "the cold read")
        r["read_warm"], _ = timed(con, dd, "the warm read")
        con.sh(f"cat {GUESTS}/initramfs.cpio.gz > /dev/null")
        rc, out = con.sh(f"mkdir -p /tmp/small && head -c {SMALL_KERNEL} {GUESTS}/Image > "
                         f"/tmp/small/Image && ln -sf {GUESTS}/initramfs.cpio.gz /tmp/small/ && "
                         f"cp {CONFIG} /tmp/small/")
        if rc:
            raise qemu.BenchError(f"{con.name}: cannot set up /tmp/small:\n{out}")
        full_cmd = f"shyper vm config {CONFIG}"
        small_cmd = f"shyper vm config /tmp/small/{CONFIG_NAME}"
        _, before = con.sh("dmesg | grep -c 'crng init done'")
        r["config_first"], out = timed(con, full_cmd, "the first configuration")
        _, after = con.sh("dmesg | grep -c 'crng init done'")
        r["crng_init_in_first_config"] = before.strip() == "0" and after.strip() != "0"
        r["remove"], _ = timed(con, f"shyper vm remove {_vm_id(out, con, full_cmd)}", "vm remove")
        r["config_small"], out = timed(con, small_cmd, "the small configuration")
        timed(con, f"shyper vm remove {_vm_id(out, con, small_cmd)}", "vm remove")
        r["config"], out = timed(con, full_cmd, "the configuration")
        vm = _vm_id(out, con, full_cmd)

        # The boot: from here on the MVM stays silent until the guest's hook
        # is done, so that nothing else runs (or prints) meanwhile.
        con.child.sendline(f"{CNTRUN} $(which shyper) vm boot {vm} "
                           "3>/tmp/boot.t >/tmp/boot.out 2>&1")
        con.expect(rf"\[vm{vm}\] " + re.escape(qemu.READY), "the guest's ready line")
        con.expect(rf"\[vm{vm}\] " + re.escape(HOOK_DONE), "the guest's bench hook")
        hook = _hook_result(con.child.before, con.name)
        con.child.sendline("")
        con.expect(qemu.PROMPT, "the MVM's prompt after the guest's boot")
        t0, t1, status = _read_cntrun(con, "/tmp/boot.t", "vm boot")
        if status:
            _, out = con.sh("cat /tmp/boot.out")
            raise qemu.BenchError(f"{con.name}: `shyper vm boot {vm}` failed:\n{out}")
        r["boot_cmd"] = t1 - t0
        r["boot_start"] = t0
        r.update({f"guest_{k}": v for k, v in hook.items()})
        # Absolute (QEMU start) times minus the boot command's start.
        r["to_clock_zero"] = hook["offset"] - t0
        r["to_init"] = hook["offset"] + hook["init"] - t0
        r["to_ready"] = hook["offset"] + hook["ready"] - t0
        r["wall"] = con.since_start()
    os.remove(disk)
    return r


def native_command(guest, opts, icount):
    seed = qemu.no_dtb_seed()
    return qemu.board(opts.gic, smp=guest.cpus, mem=f"{guest.mem_mib}M", icount=icount,
                      machine_opts=[seed] if seed else []) + [
        "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", guest.cmdline]


def native_session(guest, opts, icount, rep):
    mode = "icount" if icount else "wall"
    name = f"mgmt-native-{mode}-{rep}"
    with qemu.boot(native_command(guest, opts, icount), name, opts.timeout) as con:
        con.expect_text(qemu.READY, "the guest's ready line")
        con.expect_text(HOOK_DONE, "the guest's bench hook")
        hook = _hook_result(con.child.before, con.name)
        wall = con.since_start()
    return {**{f"guest_{k}": v for k, v in hook.items()},
            "to_clock_zero": hook["offset"], "to_init": hook["offset"] + hook["init"],
            "to_ready": hook["offset"] + hook["ready"], "wall": wall}


# --- the workload ------------------------------------------------------------

def run(opts, progress):
    guest = Guest()
    runs = {(k, m): [] for k in ("native", "cshyper") for m in ("icount", "wall")}
    for rep in range(1, opts.runs + 1):
        for icount in (True, False):
            mode = "icount" if icount else "wall"
            n = native_session(guest, opts, icount, rep)
            runs[("native", mode)].append(n)
            c = cshyper_session(guest, opts, icount, rep)
            runs[("cshyper", mode)].append(c)
            progress(f"mgmt plane {rep}/{opts.runs} {mode:6}: vm config {c['config'] / 1e6:.1f} ms "
                     f"(first after boot {c['config_first'] / 1e6:.0f} ms), guest ready "
                     f"{c['to_ready'] / 1e6:.1f} ms after vm boot, natively "
                     f"{n['to_ready'] / 1e6:.1f} ms ({n['wall']:.0f} + {c['wall']:.0f} s wall)")

    def col(kind, mode, f, scale=1e6):
        return [f(r) / scale for r in runs[(kind, mode)]]

    def virt(f, scale=1e6):
        return col("cshyper", "icount", f, scale)

    mb = guest.kernel_bytes / 1e6

    def upload_ns(r):  # the kernel's share of vm config, less reading it
        return r["config"] - r["config_small"] - r["read_warm"]

    upload_target = "guest image upload (30 MB kernel) from the MVM < 0.5 s virtual time"
    boot_target = "Linux boot to init under cshyper vs. natively (virtual time) ≤ 1.10×"
    both = ("native", "cshyper")
    config_what = (f"`shyper vm config {CONFIG}` ({mb:.1f} MB kernel, "
                   f"{guest.initrd_bytes / 1e6:.1f} MB initramfs, both in the page cache)")
    figures = [
        Figure("mgmt_vm_config_virtual", "vm config linux-core1, virtual", "ms",
               f"icount: {config_what} timed by the MVM's counter around it (cntrun), not the "
               "first configuration since the MVM booted", None, virt(lambda r: r["config"]),
               target_text=upload_target, limit=500),
        Figure("mgmt_kernel_upload_virtual", f"  its {mb:.0f} MB kernel: read + upload", "ms",
               "icount: vm config minus vm config of the same JSON with the Image cut to its "
               f"first {SMALL_KERNEL >> 10} KiB: the CLI reading the kernel (page cache) and "
               "uploading it in 1 MiB hypercalls", None,
               virt(lambda r: r["config"] - r["config_small"])),
        Figure("mgmt_kernel_read_virtual", "  reading it alone (dd bs=1M)", "ms",
               "icount: `dd bs=1M` of the Image to /dev/null, page cache warm", None,
               virt(lambda r: r["read_warm"])),
        Figure("mgmt_upload_rate_virtual", "  upload rate, less the read", "MB/s",
               "icount: kernel size / (read + upload - dd read), dd standing in for the CLI's "
               "reads: the ioctl's copy into the bounce buffer, the hypercall and the "
               "hypervisor's copy into the image store",
               None, virt(lambda r: guest.kernel_bytes / upload_ns(r) * 1e3, 1)),
        Figure("mgmt_vm_config_small_virtual", f"  the rest (config with {SMALL_KERNEL >> 10} KiB kernel)",
               "ms", "icount: the fixed part of a configuration: VM, cores, 128 MiB of memory, "
               "devices, the 2.5 MB initramfs", None, virt(lambda r: r["config_small"])),
        Figure("mgmt_vm_config_first_virtual", "vm config, first after MVM boot, virtual", "ms",
               "icount: the same command run first after the MVM booted (its files already in "
               "the page cache): json-c's hash seed reads /dev/urandom, which waits for the "
               "MVM's CRNG to initialise", None, virt(lambda r: r["config_first"]),
               target_text=upload_target, limit=500),
        Figure("mgmt_image_read_cold_virtual", "Image read from MVM disk (cold), virtual", "ms",
               "icount: the first `dd bs=1M` of the Image, from the MVM's virtio disk; the MVM "
               "idles while QEMU does the I/O, so virtual time jumps and this one varies", None,
               virt(lambda r: r["read_cold"])),
        Figure("mgmt_vm_remove_virtual", "vm remove (128 MiB, never booted), virtual", "ms",
               "icount: `shyper vm remove` of the configured guest (its memory is zeroed)", None,
               virt(lambda r: r["remove"])),
        Figure("mgmt_vm_boot_cmd_virtual", "vm boot command, virtual", "ms",
               "icount: `shyper vm boot` until it returns: the hypervisor copies the images into "
               "the guest's memory, writes its device tree, starts its vCPU", None,
               virt(lambda r: r["boot_cmd"])),
        Figure("guest_clock_zero_virtual", "guest: boot to its kernel clock zero, virtual", "ms",
               "icount: from the start of `shyper vm boot` (natively QEMU start, which loads the "
               "images for free) to the guest's kernel setting up its clock", *(
                   col(k, "icount", lambda r: r["to_clock_zero"]) for k in both)),
        Figure("guest_init_kernel_clock", "guest: Run /init, kernel clock", "ms",
               "icount: the guest's dmesg stamp of 'Run /init as init process'", *(
                   col(k, "icount", lambda r: r["guest_init"]) for k in both), 1.10, boot_target),
        Figure("guest_init_virtual", "guest: boot to Run /init, virtual", "ms",
               "icount: from the start of `shyper vm boot` (natively QEMU start) to "
               "'Run /init as init process'",
               *(col(k, "icount", lambda r: r["to_init"]) for k in both), 1.10, boot_target),
        Figure("guest_ready_virtual", "guest: boot to initramfs ready, virtual", "ms",
               "icount: as above, to shyper.ko's load message, the last kernel message before "
               "the guest's /init prints 'cshyper-initramfs: ready'", *(
                   col(k, "icount", lambda r: r["to_ready"]) for k in both)),
        Figure("mgmt_vm_config_wall", "vm config linux-core1, wall", "s",
               "no icount: as the virtual figure; the MVM's counter then follows the host's clock",
               None, col("cshyper", "wall", lambda r: r["config"], 1e9)),
        Figure("mgmt_vm_config_first_wall", "vm config, first after MVM boot, wall", "s",
               "no icount: as the virtual figure", None,
               col("cshyper", "wall", lambda r: r["config_first"], 1e9)),
        Figure("guest_ready_wall", "guest: boot to initramfs ready, wall", "s",
               "no icount: as the virtual figure, by the guests' counters (host-paced)", *(
                   col(k, "wall", lambda r: r["to_ready"], 1e9) for k in both)),
    ]

    c = runs[("cshyper", "icount")]
    med = Figure.median
    chunks = -(-guest.kernel_bytes // (1 << 20))
    per_mib = med([upload_ns(r) for r in c]) / chunks / 1000
    crng = med([r["config_first"] - r["config"] for r in c]) / 1e6
    notes = [
        f"mgmt plane: the kernel goes up in {chunks} hypercalls of ≤ 1 MiB, {per_mib:.0f} µs "
        "virtual per MiB besides reading the file",
        f"mgmt plane: the first vm config after the MVM boots takes {crng:.0f} ms longer "
        "(virtual; it varies from run to run): json-c in the CLI seeds its hash tables from "
        "/dev/urandom, and the MVM's CRNG is not initialised yet (no rng-seed in the MVM's "
        "device tree, no hardware RNG), so the read waits for jitter entropy"
        + ("" if all(r["crng_init_in_first_config"] for r in c) else
           " [check: 'crng init done' did not always appear during that command]"),
        f"mgmt plane: the bench's disk copy carries the guest initramfs plus a "
        f"{guest.hook_bytes}-byte archive whose /etc/profile prints a clockmark and dmesg "
        "stamps after the ready line; natively the same Image and initramfs boot with the "
        f"guest's command line '{guest.cmdline}' on a {guest.cpus}-CPU, {guest.mem_mib} MiB "
        "board without DTB seeds; its device tree still lists PCIe, flash, fw_cfg and 32 "
        "virtio-mmio slots, the guest's none",
    ]
    err = max(r["guest_offset_error"] for k in both for r in runs[(k, "icount")])
    notes.append(f"mgmt plane: guest clock tie (clockmark) uncertainty ≤ {err / 1000:.1f} µs "
                 "virtual")
    extra = {"mgmt_plane_runs": {f"{k}_{m}": v for (k, m), v in runs.items()},
             "mgmt_plane_native_cmd": native_command(guest, opts, True),
             "mgmt_plane_kernel_bytes": guest.kernel_bytes,
             "mgmt_plane_initrd_bytes": guest.initrd_bytes}
    return figures, notes, extra
