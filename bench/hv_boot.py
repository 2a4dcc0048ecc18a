"""The hypervisor's own boot.

- Wall time from starting QEMU to its console being ready, alone (mvm=off),
  on GICv2 and GICv3: every core online, IPI and EL2 timer self-checks done.
  There is no native counterpart.
- Virtual time (icount) from starting QEMU to the first instruction of the
  MVM's kernel. The "kernel" is a 200-byte arm64 Image (`entry stub`) that
  prints CNTVCT_EL0 on the PL011 and waits; the MVM sees the physical count
  (CNTVOFF_EL2 = 0), so this is the hypervisor's whole boot including the
  copy of the real initramfs, which is passed too. Natively QEMU's boot stub
  jumps straight to it: the native figure is the baseline of (nearly) zero.

Entry stub source (aarch64-linux-gnu-as; the bytes below are its .text):

    _head:  b     start                 // arm64 Image header
            .long 0
            .quad 0x80000               // text_offset
            .quad end - _head           // image_size
            .quad 0x2                   // flags: LE, 4K pages
            .quad 0, 0, 0
            .ascii "ARM\\x64"
            .long 0
    start:  isb
            mrs   x0, cntvct_el0
            movz  x1, #0x0900, lsl #16  // PL011
            adr   x2, prefix
    1:      ldrb  w3, [x2], #1
            cbz   w3, 2f
            bl    putc
            b     1b
    2:      mov   x4, #60
    3:      lsr   x3, x0, x4            // 16 hex digits
            and   x3, x3, #0xf
            add   x5, x3, #'0'
            add   x6, x3, #('a' - 10)
            cmp   x3, #10
            csel  x3, x5, x6, lo
            bl    putc
            subs  x4, x4, #4
            b.ge  3b
            mov   w3, #'\\n'
            bl    putc
    4:      wfi
            b     4b
    putc:   ldr   w7, [x1, #0x18]       // UARTFR.TXFF
            tbnz  w7, #5, putc
            strb  w3, [x1]
            ret
    prefix: .asciz "cshyper-bench: entry cntvct 0x"
            .balign 8
    end:
"""
import os

import qemu
from clockmark import COUNTER_NS
from report import Figure

ENTRY_STUB = bytes.fromhex(
    "10000014000000000000080000000000c8000000000000000200000000000000"
    "00000000000000000000000000000000000000000000000041524d6400000000"
    "df3f03d540e03bd50120a1d2e2020010431440386300003410000094fdffff17"
    "840780d20324c49a630c409265c00091665c01917f2800f1a330869a07000094"
    "841000f10affff5443018052030000947f2003d5ffffff17271840b9e7ff2f37"
    "23000039c0035fd6637368797065722d62656e63683a20656e74727920636e74"
    "7663742030780000")
ENTRY_RE = r"cshyper-bench: entry cntvct 0x([0-9a-f]{16})"


def stub_path():
    path = os.path.join(qemu.OUT, "entry-stub.Image")
    os.makedirs(qemu.OUT, exist_ok=True)
    with open(path, "wb") as f:
        f.write(ENTRY_STUB)
    return path


def console_wall(gic, opts, rep):
    cmd = qemu.cshyper(gic=gic, mvm=False)
    with qemu.boot(cmd, f"hv-gicv{gic}-{rep}", opts.timeout) as con:
        con.expect_text(qemu.HV_CONSOLE_READY, "the hypervisor's console")
        return con.since_start()


def entry_virtual(kind, stub, opts, rep):
    """Milliseconds of virtual time from QEMU start to the kernel's entry."""
    if kind == "native":
        cmd = qemu.native_linux(gic=opts.gic, icount=True, kernel=stub)
    else:
        cmd = qemu.cshyper(gic=opts.gic, icount=True, kernel=stub,
                           hv_append=qemu.mvm_vcpus_arg(opts.vcpus))
    with qemu.boot(cmd, f"entry-{kind}-{rep}", opts.timeout) as con:
        m = con.expect(ENTRY_RE, "the entry stub's counter line")
        return int(m.group(1), 16) * COUNTER_NS / 1e6


def run(opts, progress):
    wall = {2: [], 3: []}
    entry = {"native": [], "cshyper": []}
    stub = stub_path()
    for rep in range(1, opts.runs + 1):
        for gic in wall:
            t = console_wall(gic, opts, rep)
            wall[gic].append(t)
            progress(f"hv boot {rep}/{opts.runs}: GICv{gic} console ready after {t:.2f} s")
        for kind in entry:
            ms = entry_virtual(kind, stub, opts, rep)
            entry[kind].append(ms)
            progress(f"hv boot {rep}/{opts.runs}: {kind:7} kernel entry at {ms:.3f} ms virtual")
    figures = [Figure("kernel_entry_virtual", "QEMU start to kernel entry, virtual", "ms",
                      "icount virtual time at the kernel's first instruction (entry stub): under "
                      "cshyper the hypervisor's whole boot to starting the MVM, initramfs copy "
                      "included; natively QEMU's boot stub", entry["native"], entry["cshyper"])]
    figures += [Figure(f"hv_console_ready_gicv{gic}_wall", f"cshyper alone to console, GICv{gic}, wall",
                       "s", f"real seconds from starting QEMU to '{qemu.HV_CONSOLE_READY}' with "
                       "mvm=off (4 cores, self-checks included)", None, s)
                for gic, s in wall.items()]
    return figures, [], {}
