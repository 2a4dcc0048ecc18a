"""Isolation: a guest that reaches for what is not its own (the MVM's RAM and
devices, the hypervisor, another VM's memory, interrupts it does not own)
gets an abort injected into itself, and the target is untouched.

The bare-metal guest iso-probe (guests/baremetal/iso-probe.c) makes the
attempts from core 2 while a Linux guest runs on core 1 and the MVM uses its
virtio disk; afterwards the MVM's file reads back the same from disk, the
Linux guest still runs and the MVM still answers."""
import re

import pytest

from conftest import PROMPT, expect, sh
from test_guests import GUESTS, boot_mvm_with_disk, configure, vm_list, wait_guest_shell

PROBE = "iso-probe"
# Addresses whose aborts the hypervisor must report on its console.
REPORTED = ["0x50000000", "0x5ff00000", "0x40080000", "0x40100000", "0x48000000",
            "0x80400000", "0x88000000", "0xc0000000", "0xa000000", "0x8080000"]
REPORTED_V3 = ["0x80c0000"]
REPORTED_V2 = ["0x8030000"]


def run_iso_probe(child, vm):
    """Boots the probe with the MVM's shell silent (guest and MVM output share
    the UART) and returns (passed, failed, everything printed meanwhile)."""
    child.sendline(f"shyper vm boot {vm} >/dev/null && sleep 2")
    expect(child, rf"\[vm{vm}\] {PROBE}: (\d+) passed, (\d+) failed", "the probe's verdict",
           timeout=60)
    passed, failed = (int(x) for x in child.match.groups())
    log = child.before.replace("\r", "")
    expect(child, rf"vm{vm} \({PROBE}\): PSCI SYSTEM_OFF", "the probe's SYSTEM_OFF")
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt after the probe")
    return passed, failed, log


def md5(child, path):
    rc, out = sh(child, f"md5sum {path}", timeout=30)
    m = re.search(rf"^([0-9a-f]{{32}})\s+{re.escape(path)}$", out, re.M)
    assert rc == 0 and m, out
    return m.group(1)


@pytest.mark.parametrize("gic", [3, 2])
def test_guest_cannot_reach_what_is_not_its_own(qemu, tmp_path, gic):
    child = boot_mvm_with_disk(qemu, tmp_path, gic)

    linux = configure(child, f"{GUESTS}/linux-core1.json")
    rc, out = sh(child, f"shyper vm boot {linux}")
    assert rc == 0, out
    wait_guest_shell(child, linux, "the Linux guest on core 1")

    # Data on the MVM's virtio disk, whose interrupt the probe plays with.
    rc, out = sh(child, "dd if=/dev/urandom of=/mnt/iso.bin bs=64k count=32 2>/dev/null "
                        "&& sync", timeout=30)
    assert rc == 0, out
    before = md5(child, "/mnt/iso.bin")

    probe = configure(child, f"{GUESTS}/{PROBE}.json")
    passed, failed, log = run_iso_probe(child, probe)
    lines = [l for l in log.splitlines() if f"[vm{probe}] {PROBE}:" in l]
    fails = [l for l in lines if "FAIL" in l]
    assert failed == 0 and not fails, "\n".join(fails) or log
    assert passed >= 100, log
    assert f"{PROBE}: start: VM {probe}, GICv{gic}" in log, log
    # Every attempt was reported by the hypervisor, naming the VM and address.
    for addr in REPORTED + (REPORTED_V3 if gic == 3 else REPORTED_V2):
        want = f"vm{probe} ({PROBE}) vcpu0: access outside its memory and devices at {addr} "
        assert want in log, f"no `{want}` on the console:\n{log}"
    assert "PANIC" not in log and "unexpected exception" not in log, log

    # The MVM's disk still works: the file read back from the device, not the
    # page cache, is the same.
    rc, out = sh(child, "echo 3 > /proc/sys/vm/drop_caches")
    assert rc == 0, out
    assert md5(child, "/mnt/iso.bin") == before
    # And writes: a new file, read back from the device.
    rc, out = sh(child, "dd if=/dev/urandom of=/mnt/iso2.bin bs=64k count=16 2>/dev/null "
                        "&& sync", timeout=30)
    assert rc == 0, out
    written = md5(child, "/mnt/iso2.bin")
    rc, out = sh(child, "echo 3 > /proc/sys/vm/drop_caches")
    assert rc == 0, out
    assert md5(child, "/mnt/iso2.bin") == written

    # The Linux guest still runs, the probe stopped itself, the MVM answers.
    rows = vm_list(child)
    assert rows[linux]["state"] == "running", rows
    assert rows[probe] == {"name": PROBE, "type": "bare-metal", "state": "stopped",
                           "cores": "2"}, rows
    rc, out = sh(child, "echo alive && shyper system info")
    assert rc == 0 and "alive" in out and f"core 1: vm{linux} (linux-core1)" in out, out


# A removed VM must leave nothing a later VM can read. Its image copies and
# stage-2 tables go back to the frame pool; a later VM's RAM may land on those
# frames (first-fit allocation puts the victim's initramfs copy right after its
# 2 MiB of RAM, where the probe's 4 MiB then go). The hypervisor zeroes a VM's
# RAM when it is given (and when it is removed); the probe checks that every
# word of its RAM outside its image is zero at boot.
SECRET = "SECRET-of-the-victim-VM"
VICTIM_SED = ("-e 's/\"iso-probe\"/\"victim\"/' "
              "-e 's/\"ramdisk_filename\": \"\"/\"ramdisk_filename\": \"secret.bin\"/' "
              "-e 's/\"ramdisk_load_ipa\": \"0\"/\"ramdisk_load_ipa\": \"0x80010000\"/' "
              "-e 's/\"0x80200000\"/\"0x80180000\"/g' -e 's/\"0x400000\"/\"0x200000\"/' "
              "-e 's/\"0b0100\"/\"0b1000\"/' -e 's/\"master\": 2/\"master\": 3/'")


def test_removed_vm_leaves_nothing_behind(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    rc, out = sh(child, f"cp {GUESTS}/{PROBE}.bin /tmp/ && yes {SECRET} | head -c 1310720 "
                        f"> /tmp/secret.bin && sed {VICTIM_SED} {GUESTS}/{PROBE}.json "
                        "> /tmp/victim.json", timeout=30)
    assert rc == 0, out
    victim = configure(child, "/tmp/victim.json")
    rc, out = sh(child, f"shyper vm remove {victim}")
    assert rc == 0, out
    probe = configure(child, f"{GUESTS}/{PROBE}.json")
    passed, failed, log = run_iso_probe(child, probe)
    fails = [l for l in log.splitlines() if "FAIL" in l]
    assert failed == 0 and passed >= 100, "\n".join(fails) or log
