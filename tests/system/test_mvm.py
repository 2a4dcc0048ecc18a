"""The management VM: an unmodified Debian Linux booted by cshyper from its
built-in configuration, on GICv2 and GICv3, with one and two vCPUs, using
the passed-through PL011, virtio-blk and virtio-net devices."""
import hashlib
import os
import re
import time

import pexpect
import pytest

from conftest import (HV_IMAGE, INITRD, PROMPT, READY, expect, mvm_devices,
                      require_images, sh)

DISK_SIZE = 16 << 20


def boot_mvm(qemu, tmp_path, gic, vcpus):
    require_images()
    disk = tmp_path / "mvm.img"
    with open(disk, "wb") as f:
        f.truncate(DISK_SIZE)
    child = qemu(HV_IMAGE, gic=gic, smp=4, mem="1G", initrd=INITRD,
                 append=f"mvm.vcpus={vcpus}", timeout=30,
                 extra=mvm_devices(disk))
    expect(child, r"mvm: %d vCPU\(s\), 256 MiB at 0x50000000.*GICv%d" % (vcpus, gic),
           "the hypervisor starting the MVM", timeout=30)
    expect(child, re.escape(READY), "the MVM's initramfs", timeout=90)
    expect(child, PROMPT, "the MVM shell prompt")
    return child, disk


@pytest.mark.parametrize("gic", [2, 3])
@pytest.mark.parametrize("vcpus", [1, 2])
def test_mvm_boots_and_uses_its_devices(qemu, tmp_path, gic, vcpus):
    child, disk = boot_mvm(qemu, tmp_path, gic, vcpus)

    rc, out = sh(child, "grep -c ^processor /proc/cpuinfo")
    assert out.strip() == str(vcpus), out
    # Field 39 of /proc/<pid>/stat is the CPU the task last ran on.
    for cpu in range(vcpus):
        rc, out = sh(child, f"taskset -c {cpu} awk '{{print $39}}' /proc/self/stat")
        assert rc == 0 and out.strip() == str(cpu), f"taskset -c {cpu}: {out}"

    # The virtual timer drives sleep: it must neither hang nor return early.
    start = time.monotonic()
    rc, out = sh(child, "a=$(cut -d' ' -f1 /proc/uptime); sleep 1; "
                        "b=$(cut -d' ' -f1 /proc/uptime); echo $a $b")
    wall = time.monotonic() - start
    a, b = (float(x) for x in out.split())
    assert 0.95 <= b - a < 1.5, f"guest uptime advanced {b - a:.2f} s over sleep 1"
    assert 0.9 <= wall < 10, f"sleep 1 took {wall:.1f} s of wall time"

    # The passed-through NIC gets an address from QEMU's user network.
    sh(child, "printf '#!/bin/sh\\n[ \"$1\" = bound ] && ip addr add $ip/$mask dev $interface\\n'"
              " > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh; ip link set eth0 up")
    rc, out = sh(child, "udhcpc -i eth0 -n -q -t 5 -s /tmp/dhcp.sh && ip -4 addr show eth0",
                 timeout=30)
    assert rc == 0 and "inet 10.0.2.15/24" in out, out

    # The passed-through disk: write random data, drop caches, read it back,
    # and find the same bytes in the image file on the host.
    rc, out = sh(child, "dd if=/dev/urandom of=/tmp/a bs=1024 count=1024 2>/dev/null && "
                        "dd if=/tmp/a of=/dev/vda bs=1024 count=1024 conv=fsync 2>/dev/null && "
                        "echo 3 > /proc/sys/vm/drop_caches && "
                        "dd if=/dev/vda of=/tmp/b bs=1024 count=1024 2>/dev/null && "
                        "md5sum /tmp/a /tmp/b", timeout=60)
    sums = re.findall(r"^([0-9a-f]{32})\s", out, re.M)
    assert rc == 0 and len(sums) == 2 and sums[0] == sums[1], out
    with open(disk, "rb") as f:
        assert hashlib.md5(f.read(1 << 20)).hexdigest() == sums[0]

    # poweroff reaches the hypervisor as PSCI SYSTEM_OFF, and the board follows.
    child.sendline("poweroff")
    expect(child, r"vm0 \(mvm\): PSCI SYSTEM_OFF", "the hypervisor seeing SYSTEM_OFF")
    child.expect(pexpect.EOF, timeout=20)


@pytest.mark.parametrize("gic", [2, 3])
def test_wild_access_is_contained(qemu, tmp_path, gic):
    """The MVM reaching for the hypervisor's memory or the GIC's hypervisor
    interface gets an abort; the hypervisor reports it and keeps running."""
    child, _ = boot_mvm(qemu, tmp_path, gic, 1)
    # The hypervisor's image, the boot stub below it, the frame pool, and the
    # physical GIC behind the emulated one (GICv2 GICH; GICv3 the next core's
    # redistributor, beyond the MVM's single emulated frame).
    gic_hw = "0x08030000" if gic == 2 else "0x080c0000"
    addrs = ("0x40080000", "0x40000000", "0x48000000", gic_hw)
    for addr in addrs:
        rc, out = sh(child, f"devmem {addr} 32")
        assert rc != 0 and "Bus error" in out, f"devmem {addr}: rc={rc} {out}"
    rc, out = sh(child, "echo still alive")
    assert rc == 0 and "still alive" in out
    child.sendline("poweroff")
    child.expect(pexpect.EOF, timeout=20)
    child.logfile_read.flush()
    log = open(child.logfile_read.name).read()
    for addr in addrs:
        assert f"vm0 (mvm) vcpu0: access outside its memory and devices at {int(addr, 16):#x}" in log, addr


def test_fault_reports_are_rate_limited(qemu, tmp_path):
    """A VM hammering memory it does not own gets every abort, but the
    console carries a bounded number of reports (then a count of the rest),
    so it cannot monopolise the console other cores print to."""
    child, _ = boot_mvm(qemu, tmp_path, 3, 1)
    rc, out = sh(child, "i=0; while [ $i -lt 300 ]; do devmem 0x40080000 32 2>/dev/null; "
                        "i=$((i+1)); done; echo loops=$i", timeout=120)
    assert "loops=300" in out, out
    sh(child, "sleep 1; devmem 0x40080000 32 2>/dev/null; true")
    rc, out = sh(child, "echo still alive")
    assert rc == 0 and "still alive" in out
    child.logfile_read.flush()
    log = open(child.logfile_read.name).read()
    reports = log.count("vm0 (mvm) vcpu0: access outside its memory and devices at 0x40080000")
    assert 128 <= reports < 300, reports
    assert re.search(r"vm0 \(mvm\): \d+ fault reports suppressed", log), log[-2000:]
