"""Ties the guest kernel's log clock to the board's virtual counter.

Linux's dmesg timestamps (sched_clock) count from when the kernel set up its
timer, not from when QEMU started: under cshyper everything the hypervisor
does before the kernel is invisible to them, and so are the kernel's first
instructions. The guest's virtual counter CNTVCT_EL0 is absolute: cshyper
gives the MVM CNTVOFF_EL2 = 0 (hv/arch/aarch64/vcpu_arch.c) and Linux booted
natively at EL2 sets it to 0 too, so it counts from QEMU start in both cases
(62.5 MHz, 16 ns per tick; under -icount shift=0 that is 16 instructions).

`clockmark` is a 221-byte static arm64 program, sent to the guest shell as
base64. It reads CNTVCT_EL0, writes a line to stdout (redirected to
/dev/kmsg, which stamps it with sched_clock), reads CNTVCT_EL0 again and
writes both counter values, raw, to stderr. The printk timestamp lies between
them, so offset = counter time - printk time is the virtual time at which
the kernel's log clock read zero, within half the bracket (a few µs), and
any dmesg timestamp t becomes `offset + t` since QEMU start. The offset is
constant while the kernel runs, so it does not matter that the shell is
idle (and, with sleep=off, virtual time races ahead) before it runs.

Source (aarch64-linux-gnu-as; the bytes below are its .text):

    _start: isb
            mrs  x19, cntvct_el0
            mov  x0, #1
            adr  x1, msg
            mov  x2, #(msg_end - msg)
            mov  x8, #64            // write(1, msg, len)
            svc  #0
            isb
            mrs  x20, cntvct_el0
            stp  x19, x20, [sp, #-16]!
            mov  x0, #2
            mov  x1, sp
            mov  x2, #16
            mov  x8, #64            // write(2, sp, 16)
            svc  #0
            mov  x0, #0
            mov  x8, #93            // exit(0)
            svc  #0
    msg:    .ascii "<6>cshyper-bench: clock mark\\n"
    msg_end:
"""
import base64
import re
import struct

from qemu import BenchError

CODE = bytes.fromhex(
    "df3f03d553e03bd5200080d2e1010010a20380d2080880d2010000d4"
    "df3f03d554e03bd5f353bfa9400080d2e1030091020280d2080880d2"
    "010000d4000080d2a80b80d2010000d4"
    "3c363e637368797065722d62656e63683a20636c6f636b206d61726b0a")
MARK = "cshyper-bench: clock mark"
COUNTER_NS = 16  # QEMU virt's generic timer: 62.5 MHz
GUEST_PATH = "/tmp/clockmark"

_EHDR, _PHDR = 64, 56
_VADDR = 0x400000


def elf(code=CODE):
    """A minimal ELF64 executable: header, one R+X PT_LOAD, the code
    (position-independent, entered at its first byte)."""
    size = _EHDR + _PHDR + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, LE, SysV
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH",
                               2, 183, 1,               # ET_EXEC, EM_AARCH64, EV_CURRENT
                               _VADDR + _EHDR + _PHDR,  # entry
                               _EHDR, 0, 0,             # phoff, shoff, flags
                               _EHDR, _PHDR, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, _VADDR, _VADDR, size, size, 0x1000)
    return ehdr + phdr + code


def install(con):
    """Writes clockmark into the guest (its shell prompt must be showing)."""
    b64 = base64.b64encode(elf()).decode()
    rc, out = con.sh(f"echo {b64} | base64 -d > {GUEST_PATH} && chmod +x {GUEST_PATH}")
    if rc:
        raise BenchError(f"{con.name}: cannot install clockmark in the guest: {out.strip()}")


def measure(con):
    """Returns (offset_ns, half_bracket_ns): the virtual time since QEMU
    start at which the guest's dmesg clock read 0, and its uncertainty."""
    rc, out = con.sh(f"{GUEST_PATH} 2>&1 >/dev/kmsg | hexdump -v -e '16/1 \"%02x\" \"\\n\"'"
                     f" && dmesg | grep '{MARK}' | tail -n 1")
    if rc:
        raise BenchError(f"{con.name}: clockmark failed (rc {rc}):\n{out.strip()}")
    return tie(out, con.name)


def tie(out, name):
    """(offset_ns, half_bracket_ns) from clockmark's output: its hex line
    (the counters, as hexdump prints them) and dmesg's line of its mark."""
    hexes = re.findall(r"^([0-9a-f]{32})$", out, re.M)
    stamp = re.search(r"^\[\s*(\d+)\.(\d{6})\]\s+" + re.escape(MARK), out, re.M)
    if not hexes or not stamp:
        raise BenchError(f"{name}: clockmark failed:\n{out.strip()}")
    before, after = struct.unpack("<QQ", bytes.fromhex(hexes[-1]))
    if after < before:
        raise BenchError(f"{name}: the guest's counter ran backwards ({before} > {after})")
    printk_ns = int(stamp.group(1)) * 10**9 + int(stamp.group(2)) * 1000
    mid_ns = (before + after) * COUNTER_NS // 2
    half_ns = (after - before) * COUNTER_NS // 2 + 1000  # + printk's µs rounding
    if mid_ns < printk_ns:
        raise BenchError(f"{name}: the guest's virtual counter ({mid_ns} ns) is behind its "
                         f"kernel clock ({printk_ns} ns): is CNTVOFF_EL2 no longer 0?")
    return mid_ns - printk_ns, half_ns
