"""DMA isolation through the SMMUv3 of QEMU virt (-M virt,iommu=smmuv3): a
Linux guest is given the PCIe host bridge with an e1000e NIC and QEMU's edu
test device by its JSON config (passthrough regions and INTx, the bridge as a
DTB_DEVICE_T_PCIE, the devices' stream ids). Its stock e1000e driver gets an
address from QEMU's user network, pings the gateway and fetches 4 MiB over
TFTP intact: DMA at guest-physical addresses reaches its RAM. Then it has the
edu device write a page at the physical address of a page of the MVM's memory:
the SMMU refuses it, the hypervisor reports the VM, the stream and the
address, and the MVM's page is unchanged (without the SMMU that write lands:
the guest's IPA there is not its RAM, but the physical page is the MVM's)."""
import hashlib
import os
import re
import shutil

import pexpect
import pytest

from conftest import (HV_IMAGE, IMAGES, INITRD, PROMPT, READY, expect,
                      mvm_devices, require_images, sh)

GUESTS = "/mnt/guests"
E1000E_SID = 0x08  # bus 0, device 1: requester id 0x08
EDU_SID = 0x10     # bus 0, device 2


def boot_mvm(qemu, tmp_path, gic):
    require_images()
    disk = tmp_path / "mvm-disk.img"
    shutil.copy(f"{IMAGES}/mvm-disk.img", disk)
    tftp = tmp_path / "tftp"
    tftp.mkdir()
    blob = os.urandom(4 << 20)
    (tftp / "blob").write_bytes(blob)
    child = qemu(HV_IMAGE, gic=gic, smp=4, mem="1G", initrd=INITRD, timeout=30,
                 machine="iommu=smmuv3",
                 extra=mvm_devices(disk) + [
                     "-netdev", f"user,id=n1,tftp={tftp}",
                     # romfile=: no option ROM (ipxe-qemu is not a dependency).
                     "-device", "e1000e,netdev=n1,romfile=,addr=1",
                     "-device", "edu,addr=2,dma_mask=0xffffffffffffffff",
                 ])
    expect(child, r"smmu: SMMUv3 at 0x9050000, \d+-bit stream ids", "the hypervisor taking the SMMU")
    expect(child, r"/dev/vda mounted on /mnt", "the MVM mounting its disk", timeout=90)
    expect(child, re.escape(READY), "the MVM's initramfs")
    expect(child, PROMPT, "the MVM shell prompt")
    return child, hashlib.md5(blob).hexdigest()


def configure(child, config):
    rc, out = sh(child, f"shyper vm config {config}", timeout=90)
    m = re.search(r"^VM (\d+) configured$", out, re.M)
    assert rc == 0 and m, f"vm config {config}: rc={rc}\n{out}"
    return int(m.group(1))


@pytest.mark.parametrize("gic", [2, 3])
def test_pcie_nic_behind_the_smmu(qemu, tmp_path, gic):
    child, blob_md5 = boot_mvm(qemu, tmp_path, gic)

    # A page of the MVM's memory, held until a line comes on the fifo.
    sh(child, "mkfifo /tmp/go; shyper-dma-target </tmp/go >/tmp/target.out 2>&1 & "
              "exec 3>/tmp/go")
    rc, out = sh(child, "sleep 1; cat /tmp/target.out")
    m = re.search(r"dma-target: page at (0x[0-9a-f]+), crc (0x[0-9a-f]+)", out)
    assert m, out
    target = m.group(1)

    # The guest's /init runs the checks (guests/initramfs/init, cshyper.pcie-test).
    sh(child, f"sed 's/guest=linux-pcie/& cshyper.pcie-test={target}/' {GUESTS}/linux-pcie.json "
              f"> {GUESTS}/pcie-run.json")
    vm = configure(child, f"{GUESTS}/pcie-run.json")

    # The streams are the VM's: another VM asking for one is refused.
    rc, out = sh(child, f"shyper vm config {GUESTS}/linux-stream8.json", timeout=90)
    assert rc != 0 and "DMA stream 0x8 (passthrough_device.streams_ids[0]): EBUSY " \
        "(another VM has this stream)" in out, out

    child.sendline(f"shyper vm boot {vm}")
    expect(child, rf"vm{vm}: 2 DMA stream\(s\) translate through its RAM",
           "the VM's streams set up at its start")
    expect(child, re.escape(f"[vm{vm}] {READY}"), "the guest's initramfs", timeout=90)
    # Its stock e1000e driver, its interrupt through the bridge's INTx, its
    # descriptors and buffers at guest-physical addresses.
    # (A guest line may follow its shell prompt: no "[vmN] " right before.)
    expect(child, r"cshyper-pcie: eth0 10\.0\.2\.15/24", "the guest's DHCP lease", timeout=120)
    expect(child, r"cshyper-pcie: ping 10\.0\.2\.2 [0-9.]+/", "ping of the gateway", timeout=60)
    expect(child, r"cshyper-pcie: fetched ([0-9a-f]{32}) (\d+)", "the TFTP download",
           timeout=240)
    assert child.match.group(1) == blob_md5 and int(child.match.group(2)) == 4 << 20, \
        child.match.group(0)

    # The edu device writes outside the guest's RAM: refused and reported.
    # QEMU's edu writes a word at a time: one line for the run of faults.
    expect(child, rf"smmu: vm{vm} \(linux-pcie\) stream 0x{EDU_SID:x}: DMA writes? to "
                  rf"{target}(-0x[0-9a-f]+ \(\d+ accesses\))? refused \(translation fault\)",
           "the SMMU's fault report", timeout=120)
    expect(child, rf"cshyper-pcie: edu dma to {target} finished", "edu done", timeout=60)
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")

    # An image of an older state layout knows no SMMU: it would free the
    # VM's memory with its devices still translating into it. Refused.
    rc, out = sh(child, "shyper system update /mnt/hv/cshyper-s1.bin", timeout=120)
    assert rc != 0 and re.search(rf"vm{vm} has DMA streams, and that image \(state layout 1\) "
                                 r"has no SMMU support", out), out

    # A live update to an image of the same layout takes the SMMU over as it
    # runs: after the switch the guest, rebooted, does it all again: its
    # NIC's DMA still translates, the edu write is refused and reported by
    # the new image.
    from test_hv_update import update
    update(child, "/mnt/hv/cshyper.bin")
    child.sendline(f"shyper vm reboot {vm} >/dev/null")
    expect(child, r"cshyper-pcie: fetched ([0-9a-f]{32}) (\d+)", "the TFTP download after the "
           "update", timeout=240)
    assert child.match.group(1) == blob_md5, child.match.group(0)
    expect(child, rf"smmu: vm{vm} \(linux-pcie\) stream 0x{EDU_SID:x}: DMA writes? to "
                  rf"{target}(-0x[0-9a-f]+ \(\d+ accesses\))? refused \(translation fault\)",
           "the fault report from the new image", timeout=120)
    expect(child, rf"cshyper-pcie: edu dma to {target} finished", "edu done", timeout=60)
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    rc, out = sh(child, "echo >&3; wait; cat /tmp/target.out", timeout=30)
    assert "dma-target: unchanged" in out, out

    # Removed, the VM's streams are no one's: a new VM may take them.
    for cmd in (f"shyper vm shutdown {vm}", f"shyper vm remove {vm}"):
        rc, out = sh(child, cmd, timeout=60)
        assert rc == 0, out
    other = configure(child, f"{GUESTS}/linux-stream8.json")
    rc, out = sh(child, f"shyper vm remove {other}", timeout=60)
    assert rc == 0, out
    child.sendline("poweroff")
    child.expect(pexpect.EOF, timeout=30)
