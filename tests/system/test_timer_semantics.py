"""The virtual timer and the EL1 physical timer as a guest relies on them
(guests/baremetal/timer-check.c), and SGIs between vCPUs
(guests/baremetal/sgi-check.c), on GICv3 and GICv2: each interrupts once
unmasked, a timer disabled or masked before its pending interrupt was taken
interrupts no more (a level interrupt whose line fell is withdrawn, as a GIC
does), it fires again afterwards, and TVAL sets a deadline relative to its
counter. (The physical timer was trapped and read as zero before: a guest
that armed it waited for ever.)"""
import re

import pytest

from conftest import PROMPT, expect, sh
from test_guests import GUESTS, boot_mvm_with_disk, configure, vm_list


@pytest.mark.parametrize("gic", [3, 2])
def test_virtual_timer_semantics(qemu, tmp_path, gic):
    child = boot_mvm_with_disk(qemu, tmp_path, gic=gic)
    vm = configure(child, f"{GUESTS}/timer-check.json")
    # The guest's lines share the UART with the MVM's shell: the shell
    # sleeps while the guest (well under a second) runs.
    child.sendline(f"shyper vm boot {vm} >/dev/null && sleep 3")
    expect(child, rf"\[vm{vm}\] timer-check: (\d+) passed, (\d+) failed", "the verdict",
           timeout=60)
    passed, failed = (int(x) for x in child.match.groups())
    log = child.before
    expect(child, rf"vm{vm} \(timer-check\): PSCI SYSTEM_OFF", "SYSTEM_OFF")
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    assert f"timer-check: GICv{gic}" in log, log
    for timer in ("virtual", "physical"):
        for check in ("fires", "disabled", "masked", "fires again", "tval"):
            assert f"timer-check: {timer} {check} ok" in log, log
    assert (passed, failed) == (10, 0), log
    assert vm_list(child)[vm]["state"] == "stopped"


def run_check_guest(qemu, tmp_path, gic, name):
    """Boots the bare-metal check guest `name` from the MVM and waits for its
    verdict: (passed, failed, its console lines)."""
    child = boot_mvm_with_disk(qemu, tmp_path, gic=gic)
    vm = configure(child, f"{GUESTS}/{name}.json")
    child.sendline(f"shyper vm boot {vm} >/dev/null && sleep 3")
    expect(child, rf"\[vm{vm}\] {name}: (\d+) passed, (\d+) failed", "the verdict",
           timeout=60)
    passed, failed = (int(x) for x in child.match.groups())
    log = child.before
    expect(child, rf"vm{vm} \({name}\): PSCI SYSTEM_OFF", "SYSTEM_OFF")
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    assert f"{name}: GICv{gic}" in log, log
    return passed, failed, log


@pytest.mark.parametrize("gic", [2, 3])
def test_sgis_between_vcpus(qemu, tmp_path, gic):
    """sgi-check (guests/baremetal/sgi-check.c): SGIs from the other vCPU,
    from itself, and from both at once. On GICv2 the acknowledge names the
    sender (GICC_IAR.CPUID), and the same SGI from two senders is two
    interrupts; before, every SGI read as from CPU 0 and the two merged."""
    passed, failed, log = run_check_guest(qemu, tmp_path, gic, "sgi-check")
    for check in ("from other", "from self", "two senders"):
        assert f"sgi-check: {check} ok" in log, log
    assert (passed, failed) == (3, 0), log


def wait_stopped(child, vm, seconds):
    rc, out = sh(child, f"n=0; until shyper vm list | grep -q '^{vm} .* stopped '; do "
                        f"n=$((n+1)); [ $n -gt {seconds * 5} ] && break; usleep 200000; done; "
                        f"shyper vm list | grep '^{vm} '", timeout=seconds + 30)
    assert rc == 0 and " stopped " in out, f"vm {vm} did not stop within {seconds} s:\n{out}"


def console_log(child):
    child.logfile_read.flush()
    with open(child.logfile_read.name, errors="replace") as f:
        return f.read()


def test_physical_timer_survives_save_and_restore(qemu, tmp_path):
    """timer-check with wait=: the physical timer armed 4 s ahead while the
    VM is saved (a snapshot: it runs on and takes its interrupt), removed and
    restored from the file: the restored VM takes it too, the time left kept
    (VCPU_PTIMER in the stream; without it the restored timer was off and
    the guest waited until it gave up)."""
    child = boot_mvm_with_disk(qemu, tmp_path)
    rc, out = sh(child, f"sed 's/\"cmdline\": \"\"/\"cmdline\": \"wait=4000\"/' "
                        f"{GUESTS}/timer-check.json > {GUESTS}/timer-wait.json")
    assert rc == 0, out
    vm = configure(child, f"{GUESTS}/timer-wait.json")
    child.sendline(f"shyper vm boot {vm} >/dev/null && sleep 2")
    expect(child, rf"\[vm{vm}\] timer-check: physical armed for 4000 ms", "the timer armed",
           timeout=60)
    expect(child, PROMPT, "the MVM prompt")
    rc, out = sh(child, f"shyper vm save {vm} /tmp/timer.snap", timeout=120)
    assert rc == 0 and "the VM runs on" in out, out
    wait_stopped(child, vm, 60)
    assert re.search(rf"\[vm{vm}\] timer-check: physical wait ok after \d+ ms",
                     console_log(child)), "the saved VM's own interrupt"
    rc, out = sh(child, f"shyper vm remove {vm}", timeout=60)
    assert rc == 0, out
    mark = len(console_log(child))  # the restored VM may get the same id
    rc, out = sh(child, "shyper vm restore /tmp/timer.snap", timeout=120)
    m = re.search(r"^VM (\d+) restored", out, re.M)
    assert rc == 0 and m, out
    new = int(m.group(1))
    wait_stopped(child, new, 60)
    got = re.search(rf"\[vm{new}\] timer-check: physical wait (ok after \d+ ms|FAILED.*)",
                    console_log(child)[mark:])
    assert got and got.group(1).startswith("ok"), got and got.group(0)


@pytest.mark.parametrize("gic", [2, 3])
def test_gic_and_psci_semantics(qemu, tmp_path, gic):
    """gic-check (guests/baremetal/gic-check.c): enable, pending and active
    state through the distributor and redistributors, what is and is not
    signalled (disabled, withdrawn, active, masked, lower than the running
    priority), priority bits, HPPIR, the distributor's enable, trigger
    configuration, identification and routing registers, and PSCI CPU_ON /
    CPU_OFF / AFFINITY_INFO with the entry state PSCI promises."""
    passed, failed, log = run_check_guest(qemu, tmp_path, gic, "gic-check")
    assert "FAILED" not in log and (passed, failed) == (19, 0), log
