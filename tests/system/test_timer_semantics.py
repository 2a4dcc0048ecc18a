"""The virtual timer as a guest relies on it (guests/baremetal/timer-check.c),
on GICv3 and GICv2: it interrupts once unmasked, and a timer disabled or
masked before its pending interrupt was taken interrupts no more (a level
interrupt whose line fell is withdrawn, as a GIC does), and fires again
afterwards."""
import re

import pytest

from conftest import PROMPT, expect
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
    assert (passed, failed) == (4, 0), log
    assert vm_list(child)[vm]["state"] == "stopped"
