"""The hypervisor alone on the reference board: boot on every core, IPIs,
timers, the panic path, and clear errors for boards it cannot run on."""
import os
import re

import pexpect
import pytest

from conftest import HV_IMAGE, HV_UBSAN_IMAGE, ROOT

PROMPT = "cshyper> "
# make test-ubsan runs this file on the UBSan build too.
UBSAN_RUN = os.path.realpath(HV_IMAGE) == os.path.realpath(HV_UBSAN_IMAGE)


def header_version():
    text = open(os.path.join(ROOT, "include", "shyper", "version.h")).read()
    version = re.search(r'SHYPER_VERSION_STRING "([^"]+)"', text).group(1)
    abi = re.search(r"SHYPER_ABI_VERSION (\d+)", text).group(1)
    return version, abi


def boot_to_shell(qemu, gic, smp=4, mem="1G", image=HV_IMAGE):
    child = qemu(image, gic=gic, smp=smp, mem=mem, append="mvm=off")
    version, abi = header_version()
    child.expect_exact(f"cshyper {version} (ABI {abi}) on qemu-virt, EL2")
    child.expect(r"board: (\d+) cores, (\d+) MiB RAM at 0x40000000, GICv(\d)")
    cores, ram, gicv = (int(x) for x in child.match.groups())
    assert (cores, ram, gicv) == (smp, 1024 if mem == "1G" else None, gic)
    child.expect_exact(f"cpus: {smp} of {smp} cores online")
    child.expect_exact("mvm: not started (mvm=off)")
    child.expect_exact("console ready")
    child.expect_exact(PROMPT)
    return child


def run(child, command):
    """Types a shell command and returns what it printed before the next prompt."""
    child.sendline(command)
    child.expect_exact(PROMPT)
    return child.before


@pytest.mark.parametrize("gic", [2, 3])
def test_all_cores_ipis_and_timers(qemu, gic):
    child = boot_to_shell(qemu, gic)
    # The boot log already ran both checks once; run them again on demand.
    out = run(child, "ipi")
    pairs = re.findall(r"ipi: cpu(\d) -> cpu(\d) -> cpu\1: \d+ us", out)
    assert sorted((int(a), int(b)) for a, b in pairs) == [
        (a, b) for a in range(4) for b in range(4) if a != b]
    assert "12/12 round trips between online cores ok" in out

    out = run(child, "timer")
    assert sorted(int(c) for c in re.findall(r"timer: cpu(\d) tick", out)) == [0, 1, 2, 3]
    assert "4/4 cores took the EL2 timer interrupt" in out

    out = run(child, "cpus")
    assert len(re.findall(r"cpu\d mpidr 0x\d+ online", out)) == 4
    # Every core has taken interrupts: IPIs and its own timer.
    for irqs, timer in re.findall(r"online\s+irqs (\d+) timer (\d+)", out):
        assert int(irqs) > 0 and int(timer) >= 2
    child.sendline("poweroff")
    child.expect(pexpect.EOF)


def test_two_core_board(qemu):
    child = boot_to_shell(qemu, 3, smp=2)
    out = run(child, "ipi")
    assert "2/2 round trips between online cores ok" in out


@pytest.mark.parametrize("gic", [2, 3])
def test_panic_stops_only_the_faulting_core(qemu, gic):
    child = boot_to_shell(qemu, gic)
    out = run(child, "fault 2")
    assert "[cpu2] error: PANIC: synchronous exception in the hypervisor" in out
    assert "exception class 0x25 (data abort)" in out
    assert re.search(r"ELR 0x40[0-9a-f]{6} FAR 0x800000000000", out)
    assert "translation fault at level 0, read" in out
    assert re.search(r"backtrace: pc 0x40[0-9a-f]{6}", out)
    assert "cpu2 halted; the other cores keep running" in out
    assert "fault: cpu2 is now halted" in out

    out = run(child, "cpus")
    states = dict(re.findall(r"cpu(\d) mpidr 0x\d+ (\w+)", out))
    assert states == {"0": "online", "1": "online", "2": "halted", "3": "online"}
    # The survivors still talk to each other.
    out = run(child, "ipi")
    assert "6/6 round trips between online cores ok" in out
    out = run(child, "fault 2")
    assert "is now halted" in out  # a halted core is refused, not hung on


@pytest.mark.parametrize("kind,report", [
    ("write-text", r"exception class 0x25 \(data abort\).*\r?\n.*permission fault at level 3, write"),
    ("exec-data", r"exception class 0x21 \(instruction abort\).*\r?\n.*"
                  r"permission fault at level 3, instruction fetch"),
])
def test_hypervisor_code_is_never_writable_nor_data_executable(qemu, kind, report):
    """W^X in the hypervisor's own map: its code is read-only and nothing
    else runs. Without it the write and the call would just return (the
    command then says W^X does not hold)."""
    child = boot_to_shell(qemu, 3)
    out = run(child, f"fault 1 {kind}")
    assert "W^X does not hold" not in out, out
    assert re.search(report, out), out
    assert "cpu1 halted; the other cores keep running" in out
    assert "6/6 round trips between online cores ok" in run(child, "ipi")
    out = run(child, "cpus")
    assert re.search(r"cpu1 mpidr 0x\d+ halted", out), out


@pytest.mark.parametrize("gic", [2, 3])
def test_stack_smash_stops_the_core(qemu, gic):
    """-fstack-protector-strong with a canary from the entropy pool: a
    function that overruns its local array stops its core on return, with
    a report, instead of returning through a corrupted frame."""
    child = boot_to_shell(qemu, gic)
    out = run(child, "fault 3 stack")
    assert "the overrun went unnoticed" not in out, out
    if UBSAN_RUN:
        # UBSan's bounds check sees the overrun before the canary does.
        assert "undefined behaviour caught by UBSan" in out, out
    else:
        assert re.search(r"\[cpu3\] error: PANIC: stack smashed: a function returning to "
                         r"0x40[0-9a-f]{6} found its canary overwritten", out), out
    assert "cpu3 halted; the other cores keep running" in out
    assert "6/6 round trips between online cores ok" in run(child, "ipi")


@pytest.mark.parametrize("gic", [2, 3])
def test_stack_overflow_stops_the_core(qemu, gic):
    """Each core's stack has an unmapped guard page below it: a core that
    runs into it switches to a stack of its own for the report and stops;
    before, it went on writing below its stack (into the next core's)."""
    child = boot_to_shell(qemu, gic)
    out = run(child, "fault 2 overflow")
    assert "no stack guard" not in out, out
    assert re.search(r"\[cpu2\] error: PANIC: hypervisor stack overflow: this core's stack "
                     r"ran into its guard page", out), out
    assert "translation fault at level 3, write" in out, out
    assert "cpu2 halted; the other cores keep running" in out
    assert "6/6 round trips between online cores ok" in run(child, "ipi")


def test_ubsan_build_stops_undefined_behaviour(qemu):
    """The UBSan build (trap mode, build/hv-ubsan) turns a signed overflow
    into a report that names it; the image the tests normally run lets it
    pass, which is what the message of the second half says."""
    child = boot_to_shell(qemu, 3, image=HV_UBSAN_IMAGE)
    out = run(child, "fault 2 ubsan")
    assert "went unnoticed" not in out, out
    assert "exception class 0x3c (BRK instruction)" in out, out
    assert "BRK #0x3e8: undefined behaviour caught by UBSan (trap mode)" in out, out
    assert "cpu2 halted; the other cores keep running" in out
    if not UBSAN_RUN:
        plain = boot_to_shell(qemu, 3)
        out = run(plain, "fault 2 ubsan")
        assert "the overflow to -2147483648 went unnoticed: not a UBSan build" in out, out


def test_shell_rejects_bad_commands(qemu):
    child = boot_to_shell(qemu, 3)
    assert "unknown command 'frobnicate'" in run(child, "frobnicate")
    assert "usage: fault <cpu>" in run(child, "fault 9")
    assert "usage: fault <cpu>" in run(child, "fault x")
    assert "usage: fault <cpu>" in run(child, "fault 1 sideways")
    assert "runs this shell" in run(child, "fault 0")
    assert "usage: loglevel" in run(child, "loglevel 7")
    out = run(child, "mem")
    free = int(re.search(r"frames: (\d+) free", out).group(1))
    assert free > 200000  # most of 1 GiB (262144 frames) stays free


@pytest.mark.parametrize("args,message", [
    ({"mem": "128M"}, "the board has 128 MiB of RAM; cshyper needs at least 256 MiB"),
    ({"smp": 1}, "the board has 1 core(s); cshyper needs at least 2"),
])
def test_unusable_board_is_refused_clearly(qemu, args, message):
    child = qemu(HV_IMAGE, gic=3, **args)
    child.expect_exact(message)
    child.expect_exact("cshyper cannot start on this board; powering off")
    child.expect(pexpect.EOF, timeout=20)
