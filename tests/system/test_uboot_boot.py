"""The boards' boot flow, run on QEMU virt (plat/qemu-uboot): U-Boot
(Debian's u-boot-qemu) finds the boot script on a disk the way it does on a
board's SD card, loads the hypervisor, the MVM's kernel, initramfs and the
device tree tools/mvm-dtb made at build time, and starts the hypervisor with
booti; the MVM runs on that tree. A tree made for another board is refused
by name, and the hypervisor's console stays up (docs/BOARDS.md)."""
import os
import shutil
import struct
import subprocess

import pytest

from conftest import BUILD, IMAGES, INITRD, KERNEL, PROMPT, READY, expect, sh, spawn

UBOOT = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
BOARD = os.path.join(BUILD, "qemu-uboot")
SECTOR = 512
PART_START = 2048  # sectors: the first partition at 1 MiB, as partitioners do


def boot_disk(tmp_path, mvm_dtb):
    """A disk with an MBR and one bootable ext4 partition holding boot.scr
    and cshyper/ (what docs/BOARDS.md tells a board user to copy)."""
    stage = tmp_path / "part"
    (stage / "cshyper").mkdir(parents=True)
    shutil.copy(os.path.join(BOARD, "boot.scr"), stage / "boot.scr")
    shutil.copy(os.path.join(BOARD, "hv", "cshyper.bin"), stage / "cshyper" / "cshyper.bin")
    shutil.copy(KERNEL, stage / "cshyper" / "Image")
    shutil.copy(INITRD, stage / "cshyper" / "initramfs.cpio.gz")
    shutil.copy(mvm_dtb, stage / "cshyper" / "mvm.dtb")
    fs = tmp_path / "part.img"
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(stage), str(fs), "64M"],
                   check=True)
    sectors = os.path.getsize(fs) // SECTOR
    mbr = bytearray(PART_START * SECTOR)
    # Partition 1: bootable, Linux (0x83), LBA start and length (CHS unused).
    mbr[446:462] = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff",
                               PART_START, sectors)
    mbr[510:512] = b"\x55\xaa"
    disk = tmp_path / "sd.img"
    with open(disk, "wb") as out, open(fs, "rb") as part:
        out.write(mbr)
        shutil.copyfileobj(part, out)
    return disk


@pytest.fixture
def uboot_board(request):
    children = []

    def boot(disk):
        cmd = ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3",
               "-cpu", "cortex-a72", "-smp", "4", "-m", "1G", "-nographic", "-no-reboot",
               "-nic", "none", "-bios", UBOOT,
               "-drive", f"if=none,format=raw,file={disk},id=sd",
               "-device", "virtio-blk-device,drive=sd"]
        child = spawn(cmd, timeout=60, log_name=request.node.name)
        children.append(child)
        return child

    yield boot
    for child in children:
        if child.isalive():
            child.terminate(force=True)
        child.logfile_read.close()


def require_files():
    for f in (UBOOT, KERNEL, INITRD, os.path.join(BOARD, "boot.scr"),
              os.path.join(BOARD, "mvm.dtb"), os.path.join(BOARD, "hv", "cshyper.bin")):
        if not os.path.exists(f):
            pytest.fail(f"missing {f}: run through `make test`")


def test_uboot_boots_the_hypervisor_and_the_mvm_on_its_tree(uboot_board, tmp_path):
    require_files()
    child = uboot_board(boot_disk(tmp_path, os.path.join(BOARD, "mvm.dtb")))
    expect(child, r"U-Boot 20\d\d", "U-Boot's banner", timeout=60)
    expect(child, r"Found U-Boot script /boot.scr", "distro boot finding boot.scr", timeout=90)
    expect(child, r"on qemu-uboot, EL2", "the hypervisor's banner (entered by booti at EL2)",
           timeout=120)
    expect(child, r"mvm: 1 vCPU\(s\), 256 MiB at 0x50000000, kernel 0x50000000, "
                  r"initramfs (\d+) KiB", "the MVM's start on its prebuilt tree", timeout=60)
    assert int(child.match.group(1)) == os.path.getsize(INITRD) // 1024
    expect(child, READY, "the MVM's initramfs", timeout=120)
    expect(child, PROMPT, "the MVM shell prompt")
    # The MVM runs on the tree made at build time, with the initramfs the
    # image put into its placeholders.
    rc, out = sh(child, "cat /proc/device-tree/chosen/cshyper,board; echo")
    assert rc == 0 and out.replace("\0", "").strip() == "qemu-uboot", out
    rc, out = sh(child, "grep -c ^processor /proc/cpuinfo; "
                        "cat /proc/device-tree/fw-cfg@9020000/status; echo")
    assert out.replace("\0", "").split() == ["1", "disabled"], out
    rc, out = sh(child, "od -An -tx1 /proc/device-tree/chosen/linux,initrd-start | tr -d ' \\n'")
    assert out.strip() == "0000000058000000", out
    # Its hypervisor devices work: shyper.ko's event interrupt and hypercalls.
    rc, out = sh(child, "shyper vm list")
    assert rc == 0 and "mvm" in out, out
    # The boot disk U-Boot read is the MVM's now, partition table and all.
    rc, out = sh(child, "cat /sys/block/vda/vda1/start")
    assert rc == 0 and out.strip() == str(PART_START), out


def test_a_tree_of_another_board_is_refused(uboot_board, tmp_path):
    require_files()
    other = os.path.join(BUILD, "rpi4", "mvm.dtb")
    if not os.path.exists(other):
        pytest.fail(f"missing {other}: run through `make test`")
    child = uboot_board(boot_disk(tmp_path, other))
    expect(child, r"on qemu-uboot, EL2", "the hypervisor's banner", timeout=180)
    expect(child, r"mvm: the device tree at 0x5fe00000 was not made for this image's board "
                  r"\(qemu-uboot\)", "the refusal", timeout=60)
    expect(child, "cshyper> ", "the hypervisor's own shell, still there", timeout=60)
