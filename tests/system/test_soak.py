"""Lifecycle soak: shyper-soak in the MVM configures, boots, stops and
removes guests again and again (Linux to its shell, Linux stopped or
rebooted part way through its boot, pairs of bare-metal guests including one
that resets itself in a loop), and checks every SOAK_CHECK_EVERY cycles that
the board is back at its baseline exactly: free memory, hypervisor heap,
every guest core free, no interrupt owned, only the MVM left.

SOAK_CYCLES (50 unless given; `make soak` runs 1000) sets the length."""
import os
import re

from conftest import sh
from test_guests import boot_mvm_with_disk, vm_list

CYCLES = int(os.environ.get("SOAK_CYCLES", "50"))
CHECK_EVERY = int(os.environ.get("SOAK_CHECK_EVERY", "10"))


def test_lifecycle_soak_leaves_the_board_as_it_was(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    sh(child, "dmesg -n 1")
    # Its output goes to a file: the guests' console lines share the UART.
    rc, out = sh(child, f"shyper-soak -c {CYCLES} -k {CHECK_EVERY} > /tmp/soak.log 2>&1",
                 timeout=CYCLES * 30 + 120)
    _, log = sh(child, "cat /tmp/soak.log", timeout=60)
    print(log)
    assert rc == 0, f"shyper-soak failed:\n{log}"
    checks = re.findall(r"^soak: cycle (\d+) ok \(", log, re.M)
    expected = list(range(CHECK_EVERY, CYCLES + 1, CHECK_EVERY))
    if CYCLES % CHECK_EVERY:
        expected.append(CYCLES)
    assert [int(c) for c in checks] == expected, log
    assert re.search(rf"^soak: done {CYCLES} cycles in \d+ s$", log, re.M), log
    assert set(vm_list(child)) == {0}
    child.logfile_read.flush()
    with open(child.logfile_read.name, errors="replace") as f:
        console = f.read()
    assert "PANIC" not in console and "unexpected exception" not in console
