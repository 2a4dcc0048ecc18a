"""Mediated virtio-blk: two Linux guests, each with its own disk image in the
MVM (/mnt is the MVM's ext4 disk), served by `shyper system daemon
mediated-cfg.json` through shyper.ko and the MEDIATED hypercalls. The guests'
/init (cshyper.blk-test, guests/initramfs/init) makes a file system, writes a
file and a marker, and then reads and writes a block every 2 s, printing
whether each worked. Checked: the data reaches the right image file, survives
a reboot, a killed daemon fails the I/O while guests and hypervisor keep
running, a restarted daemon serves again, a read-only image refuses writes
but serves reads, a missing image fails I/O and nothing hangs."""
import re

from conftest import PROMPT, expect, sh
from test_guests import GUESTS, boot_mvm_with_disk, configure, expect_all, vm_list

CFG = "/mnt/mediated-cfg.json"
DAEMON = f"(shyper system daemon {CFG} > /tmp/daemon.log 2>&1 &)"


def blk_line(child, vm, pattern, what, timeout=120):
    expect(child, rf"\[vm{vm}\] cshyper-blk: {pattern}", what, timeout=timeout)
    return child.match


def loop_line(child, vm, result, what, timeout=60):
    """The next `N read X write Y` line of vm matching result; returns N."""
    m = blk_line(child, vm, rf"(\d+) {result}", what, timeout)
    return int(m.group(1))


def prompt(child):
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")


def variant(child, name, src, index):
    """A copy of a guest config whose disk is image `index` of the daemon."""
    path = f"{GUESTS}/{name}.json"
    # cfg_list's first element is alone on its line: "    0,".
    rc, out = sh(child, f"sed 's/^\\( *\\)[01],$/\\1{index},/' {GUESTS}/{src} > {path} && "
                        f"grep -A1 cfg_list {path}")
    assert rc == 0 and re.search(rf"^\s*{index},", out, re.M), out
    return path


def test_mediated_disks(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    # Sparse 64 MiB images: the MVM's disk is small.
    rc, out = sh(child, " && ".join(f"dd if=/dev/zero of=/mnt/{i}.img bs=1M seek=64 count=0 "
                                    "2>/dev/null" for i in ("vm1", "vm2", "ro")) + " && "
                        "echo cshyper-ro-marker | dd of=/mnt/ro.img bs=512 seek=98304 "
                        "conv=notrunc,sync 2>/dev/null && rm -f /mnt/missing.img && df -k /mnt",
                 timeout=60)
    assert rc == 0, out
    sh(child, f"echo '{{\"mediated\": [\"/mnt/vm1.img\", \"vm2.img\", "
              f"{{\"path\": \"/mnt/ro.img\", \"readonly\": true}}, \"/mnt/missing.img\"]}}' > {CFG}")
    sh(child, DAEMON + "; sleep 1")
    rc, out = sh(child, "cat /tmp/daemon.log")
    assert "mediated[3]: /mnt/missing.img: No such file or directory" in out, out

    a = configure(child, f"{GUESTS}/linux-blk-a.json")
    b = configure(child, f"{GUESTS}/linux-blk-b.json")
    child.sendline(f"shyper vm boot {a} >/dev/null; shyper vm boot {b} >/dev/null")
    md5 = {}
    for _ in range(2):
        m = expect(child, [rf"\[vm({a}|{b})\] cshyper-blk: wrote ([0-9a-f]{{32}})",
                           r"\[vm(\d+)\] cshyper-blk: (no file system|no /dev/vda)"],
                   "the guests writing their disks", timeout=180)
        assert m == 0, f"vm{child.match.group(1)}: {child.match.group(2)}"
        md5[int(child.match.group(1))] = child.match.group(2)
    for vm in (a, b):
        loop_line(child, vm, "read ok write ok", f"vm{vm} I/O going on")
    prompt(child)

    # Each guest's data went to its own image, through the daemon.
    for img, guest in (("vm1", "linux-blk-a"), ("vm2", "linux-blk-b")):
        rc, out = sh(child, f"dd if=/mnt/{img}.img bs=512 skip=98304 count=1 2>/dev/null | "
                            f"grep -c 'cshyper-blk-marker {guest}$'")
        assert rc == 0, f"{img}.img lacks the marker of {guest}:\n{out}"

    # After a reboot the file system and its file read back the same.
    child.sendline(f"shyper vm reboot {a} >/dev/null")
    m = blk_line(child, a, r"read ([0-9a-f]{32})", "guest a reading its file after a reboot")
    assert m.group(1) == md5[a]

    # The daemon dies: I/O fails, the guest goes on, the hypervisor answers.
    loop_line(child, a, "read ok write ok", "guest a's I/O after its reboot")
    prompt(child)
    sh(child, "kill -9 $(pidof shyper); sleep 1")
    n = loop_line(child, a, "read error write error", "guest a's I/O failing without daemon")
    assert loop_line(child, a, "read error write error", "guest a still running") > n
    loop_line(child, b, "read error write error", "guest b's I/O failing too")
    prompt(child)
    rows = vm_list(child)
    assert rows[a]["state"] == "running" and rows[b]["state"] == "running", rows

    # Started again: I/O works again.
    sh(child, DAEMON)
    loop_line(child, a, "read ok write ok", "guest a's I/O with the daemon back")
    loop_line(child, b, "read ok write ok", "guest b's I/O with the daemon back")
    prompt(child)

    for vm in (a, b):
        sh(child, f"shyper vm shutdown {vm}; shyper vm remove {vm}", timeout=30)

    # A read-only image (index 2) and a missing one (index 3).
    ro = configure(child, variant(child, "blk-ro", "linux-blk-a.json", 2))
    gone = configure(child, variant(child, "blk-missing", "linux-blk-b.json", 3))
    child.sendline(f"shyper vm boot {ro} >/dev/null; shyper vm boot {gone} >/dev/null")
    expect_all(child, [rf"\[vm{ro}\] [^\n]*cshyper-blk: sector 98304: cshyper-ro-marker",
                       rf"\[vm{ro}\] cshyper-blk: \d+ read ok write error",
                       rf"\[vm{gone}\] cshyper-blk: no file system",
                       rf"\[vm{gone}\] cshyper-blk: \d+ read error write error"],
               "the read-only and the missing image", timeout=180)
    n = loop_line(child, gone, "read error write error", "the missing image's guest")
    assert loop_line(child, gone, "read error write error", "the missing image's guest") > n
    prompt(child)
    rows = vm_list(child)
    assert rows[ro]["state"] == "running" and rows[gone]["state"] == "running", rows
    rc, out = sh(child, "dd if=/mnt/ro.img bs=512 skip=100000 count=1000 2>/dev/null | "
                        "grep -c cshyper-blk-loop")
    assert out.strip().endswith("0"), f"the read-only image was written:\n{out}"
