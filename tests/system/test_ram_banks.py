"""A board whose RAM comes in more than one bank (QEMU virt with two NUMA
nodes: two /memory nodes, 512 MiB each): every bank goes into the frame
pool, so a guest can have memory from the bank the hypervisor does not run
from. With only the image's bank in the pool, half the board's RAM would
be out of reach."""
import re
import shutil

import pexpect

from conftest import (HV_IMAGE, IMAGES, INITRD, PROMPT, READY, expect, mvm_devices,
                      require_images, sh)
from test_guests import GUESTS, configure, free_memory, vm_list
from test_hv_boot import PROMPT as HV_PROMPT, run
from test_vm_snapshot import guest, guest_value, wait_console

TWO_NODES = ["-object", "memory-backend-ram,id=m0,size=512M", "-numa", "node,memdev=m0",
             "-object", "memory-backend-ram,id=m1,size=512M", "-numa", "node,memdev=m1"]
FRAMES_1G = 262144


def test_hypervisor_pools_both_banks(qemu):
    child = qemu(HV_IMAGE, gic=3, mem="1G", append="mvm=off", extra=TWO_NODES)
    child.expect_exact("board: 4 cores, 1024 MiB RAM at 0x40000000 in 2 banks, GICv3")
    m = child.expect(r"memory: hypervisor 0x40000000-0x[0-9a-f]+, heap \d+ KiB, (\d+) MiB free")
    assert int(child.match.group(1)) > 900, child.match.group(0)
    child.expect_exact(HV_PROMPT)
    out = run(child, "mem")
    m = re.search(r"frames: (\d+) free of (\d+)", out)
    assert m, out
    assert int(m.group(2)) == FRAMES_1G, out
    assert int(m.group(1)) > 0.9 * FRAMES_1G, out
    child.sendline("poweroff")
    child.expect(pexpect.EOF)


def test_guest_gets_memory_from_the_second_bank(qemu, tmp_path):
    """The MVM's 256 MiB and the image fill half of the first bank: a
    384 MiB guest fits only in the second."""
    require_images()
    disk = tmp_path / "mvm-disk.img"
    shutil.copy(f"{IMAGES}/mvm-disk.img", disk)
    child = qemu(HV_IMAGE, gic=3, smp=4, mem="1G", initrd=INITRD, timeout=30,
                 extra=mvm_devices(disk) + TWO_NODES)
    expect(child, r"/dev/vda mounted on /mnt", "the MVM mounting its disk", timeout=90)
    expect(child, re.escape(READY), "the MVM's initramfs")
    expect(child, PROMPT, "the MVM shell prompt")
    free = free_memory(child)
    assert free > 600, f"only {free} MiB free on a 1 GiB board"
    rc, out = sh(child, f"sed 's/\"0x8000000\"/\"0x18000000\"/; s/linux-console-a/linux-big/' "
                        f"{GUESTS}/linux-console-a.json > {GUESTS}/linux-big.json")
    assert rc == 0, out
    vm = configure(child, f"{GUESTS}/linux-big.json")
    assert free_memory(child) <= free - 384
    child.sendline(f"shyper vm boot {vm} >/dev/null; sleep 1")
    expect(child, PROMPT, "the MVM prompt")
    wait_console(child, vm, "cshyper-initramfs: ready", "the guest's init on hvc0")
    total = guest_value(child, vm, "kib", "sed -n \"s/^MemTotal: *\\([0-9]*\\) kB/\\1/p\" "
                                          "/proc/meminfo", "the guest's MemTotal")
    assert 300 * 1024 < total <= 384 * 1024, total
    # The guest can use it: 160 MiB in its tmpfs (half its RAM at most).
    out = guest(child, vm, "dd if=/dev/zero of=/tmp/fill bs=1M count=160 2>/dev/null; "
                           "echo filled=$(du -m /tmp/fill | cut -f1)",
                "filling the guest's memory", quiet=20, timeout=180)
    assert re.search(r"^filled=160$", out, re.M), out
    rc, out = sh(child, f"shyper vm shutdown {vm} && shyper vm remove {vm}", timeout=60)
    assert rc == 0, out
    assert set(vm_list(child)) == {0}
    assert free_memory(child) == free
