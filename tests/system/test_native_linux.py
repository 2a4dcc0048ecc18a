"""The MVM's software stack without the hypervisor: the Debian arm64 kernel
boots natively on QEMU virt with the cshyper initramfs, loads the virtio
drivers and shyper.ko, and gives a working shell with the disk and network
devices present. Proves `make images kmod` before anything runs on cshyper."""
import os
import re
import time

import pytest

from conftest import INITRD, KERNEL, PROMPT, READY, ROOT, expect, sh

VERSION_H = os.path.join(ROOT, "include", "shyper", "version.h")


def header_define(name):
    with open(VERSION_H) as f:
        m = re.search(rf"^#define\s+{name}\s+(\S+)", f.read(), re.M)
    assert m, f"{name} not found in {VERSION_H}"
    return m.group(1).strip('"')


def test_native_linux_boots_with_virtio_and_shyper(qemu, tmp_path):
    for path in (KERNEL, INITRD):
        if not os.path.exists(path):
            pytest.fail(f"{path} missing: run `make images kmod` first")

    disk = tmp_path / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(8 << 20)

    start = time.monotonic()
    child = qemu(KERNEL, gic=3, smp=2, mem="1G", initrd=INITRD,
                 append="console=ttyAMA0", timeout=30, extra=[
                     "-drive", f"if=none,id=d0,format=raw,file={disk}",
                     "-device", "virtio-blk-device,drive=d0",
                     "-netdev", "user,id=n0",
                     "-device", "virtio-net-device,netdev=n0",
                 ])
    expect(child, re.escape(READY), "the initramfs ready marker", timeout=45)
    expect(child, PROMPT, "the first shell prompt")
    print(f"booted to the shell in {time.monotonic() - start:.1f} s")

    rc, out = sh(child, "echo $((6*7))")
    assert rc == 0 and out.strip() == "42", out

    version = header_define("SHYPER_VERSION_STRING")
    abi = header_define("SHYPER_ABI_VERSION")
    rc, out = sh(child, "dmesg | grep shyper:")
    assert f"cshyper module version {version}, ABI version {abi} loaded" in out, out

    rc, out = sh(child, "lsmod")
    loaded = {line.split()[0] for line in out.splitlines() if line.strip()}
    for mod in ("shyper", "virtio_mmio", "virtio_blk", "virtio_net"):
        assert mod in loaded, f"{mod} not loaded; lsmod:\n{out}"

    rc, out = sh(child, "grep -c ^processor /proc/cpuinfo")
    assert out.strip() == "2", out

    # 8 MiB raw disk = 16384 sectors of 512 bytes.
    rc, out = sh(child, "test -b /dev/vda && cat /sys/block/vda/size")
    assert rc == 0 and out.strip() == "16384", f"/dev/vda: rc={rc} {out}"

    rc, out = sh(child, "ip link")
    assert re.search(r"^\d+: eth0:", out, re.M), f"no eth0 in `ip link`:\n{out}"
