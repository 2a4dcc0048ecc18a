"""A running Linux guest saved to a file in the MVM (`shyper vm save`),
removed, and restored from the file as a new VM (`shyper vm restore`): its
processes go on (a counter loop keeps its PID and counts on from above its
saved value), its virtual time continues, its shell on hvc0 answers.
Damaged or cut copies of the file are refused naming the section, and
leave nothing behind."""
import re
import time

import pytest

from conftest import PROMPT, expect, sh
from test_guests import (GUESTS, boot_mvm_with_disk, configure, free_memory,
                         vm_list)

SNAP = "/tmp/vm.snap"


def guest(child, vm, cmd, what, quiet=2, timeout=60):
    """Runs cmd in the guest's shell on its virtio console; its output."""
    rc, out = sh(child, f"echo '{cmd}' | shyper vm console {vm} {quiet}", timeout=timeout)
    assert rc == 0, f"{what}: shyper vm console failed:\n{out}"
    return out.replace("\r", "")


def guest_value(child, vm, key, cmd, what, tries=30):
    """Asks until the guest prints `key=<number>`; the number."""
    for _ in range(tries):
        out = guest(child, vm, f"echo {key}=$({cmd})", what)
        m = re.search(rf"^{key}=([0-9.]+)$", out, re.M)
        if m:
            return float(m.group(1))
    pytest.fail(f"{what}: the guest never printed {key}=<number>; last output:\n{out}")


def wait_console(child, vm, pattern, what, tries=90):
    """Reads the guest's console until pattern shows (it boots meanwhile)."""
    rc, out = sh(child, f"for i in $(seq {tries}); do shyper vm console {vm} 0.3 "
                        f"</dev/null >>/tmp/vm{vm}.log 2>&1; grep -q '{pattern}' "
                        f"/tmp/vm{vm}.log && break; sleep 1; done; "
                        f"grep -c '{pattern}' /tmp/vm{vm}.log", timeout=tries * 3 + 30)
    assert rc == 0, f"{what}: never saw {pattern!r}:\n{out}"


def counter_at_least(child, vm, goal, what):
    for _ in range(60):
        n = guest_value(child, vm, "count", "cat /tmp/count", what)
        if n >= goal:
            return n
        sh(child, "sleep 1")
    pytest.fail(f"{what}: the counter stayed at {n}, below {goal}")


def refused(child, cmd, pattern, what):
    rc, out = sh(child, cmd, timeout=300)
    assert rc != 0, f"{what}: `{cmd}` succeeded:\n{out}"
    lines = [l for l in out.split("\n") if l.strip()]
    assert len(lines) == 1 and re.search(pattern, lines[0]), \
        f"{what}: expected one line matching {pattern!r}, got:\n{out}"
    return lines[0]


@pytest.mark.parametrize("gic", [3, 2])
def test_save_remove_restore_continues(qemu, tmp_path, gic):
    child = boot_mvm_with_disk(qemu, tmp_path, gic=gic)
    free_before = free_memory(child)
    vm = configure(child, f"{GUESTS}/linux-console-a.json")
    child.sendline(f"shyper vm boot {vm} >/dev/null; sleep 1")
    expect(child, PROMPT, "the MVM prompt")
    wait_console(child, vm, "cshyper-initramfs: ready", "the guest's init on hvc0")

    # A counter in the guest's RAM-backed /tmp, one step a second.
    out = guest(child, vm, "(i=0; while true; do i=$((i+1)); echo $i > /tmp/count; "
                           "sleep 1; done) </dev/null >/dev/null 2>&1 & echo cpid=$!",
                "starting the counter")
    m = re.search(r"^cpid=(\d+)$", out, re.M)
    assert m, f"no PID for the counter:\n{out}"
    pid = int(m.group(1))
    counter_at_least(child, vm, 3, "the counter running")

    # Save: a snapshot, the VM runs on.
    before = guest_value(child, vm, "count", "cat /tmp/count", "the count before the save")
    up_before = guest_value(child, vm, "up", "cut -d\" \" -f1 /proc/uptime",
                            "the uptime before the save")
    t0 = time.monotonic()
    rc, out = sh(child, f"shyper vm save {vm} {SNAP}", timeout=600)
    save_s = time.monotonic() - t0
    assert rc == 0, f"vm save failed:\n{out}"
    m = re.search(rf"VM {vm} saved to {SNAP}: (\d+) KiB, (\d+) of (\d+) pages of RAM, "
                  r"state (\d+) bytes, boot images (\d+) KiB, paused (\d+) ms; "
                  r"the VM runs on \(a snapshot\)", out)
    assert m, f"unexpected vm save output:\n{out}"
    size_kib, pages, total, state_bytes, image_kib, paused_ms = (int(g) for g in m.groups())
    assert 0 < pages < total, out
    # The kernel and initramfs it was configured with, byte for byte.
    rc, sizes = sh(child, f"echo images=$(( ($(wc -c < {GUESTS}/Image) + "
                          f"$(wc -c < {GUESTS}/initramfs.cpio.gz)) / 1024 ))")
    assert rc == 0 and f"images={image_kib}\n" in sizes, f"boot images in the file:\n{out}"
    assert vm_list(child)[vm]["state"] == "running"
    counter_at_least(child, vm, before + 2, "the original counting on after the save")

    # Gone: shut down, removed, its memory back.
    rc, out = sh(child, f"shyper vm shutdown {vm} && shyper vm remove {vm}", timeout=60)
    assert rc == 0, out
    assert vm not in vm_list(child)
    assert free_memory(child) == free_before, "the removed VM's memory did not come back"

    # Damaged copies are refused before anything is created.
    sh(child, f"head -c $(( $(wc -c < {SNAP}) * 2 / 3 )) {SNAP} > /tmp/cut.snap", timeout=120)
    refused(child, "shyper vm restore /tmp/cut.snap",
            r"^vm restore: /tmp/cut\.snap: .*section \d+ \(\w+( #\d+)?\).*truncated",
            "a cut file")
    sh(child, "rm -f /tmp/cut.snap", timeout=60)
    # One byte a third into the file inverted in place (the MVM's /tmp is
    # RAM, too small for a second copy), then put back.
    def put_byte(expr):
        rc, out = sh(child, f"printf \"\\\\$(printf %o $(( {expr} )))\" | "
                            f"dd of={SNAP} bs=1 seek=$n count=1 conv=notrunc 2>/dev/null && "
                            f"echo byte=$(dd if={SNAP} bs=1 skip=$n count=1 2>/dev/null | "
                            "od -An -tu1 | tr -d ' ')", timeout=60)
        m = re.search(r"^byte=(\d+)$", out, re.M)
        assert rc == 0 and m, out
        return int(m.group(1))
    rc, out = sh(child, f"n=$(( $(wc -c < {SNAP}) / 3 )); b=$(dd if={SNAP} bs=1 skip=$n "
                        "count=1 2>/dev/null | od -An -tu1 | tr -d ' '); echo b=$b", timeout=60)
    m = re.search(r"^b=(\d+)$", out, re.M)
    assert rc == 0 and m, out
    b = int(m.group(1))
    assert put_byte("b ^ 255") == b ^ 255
    refused(child, f"shyper vm restore {SNAP}",
            rf"^vm restore: {SNAP}: section \d+ \(\w+( #\d+)?\): CRC mismatch",
            "a file with a flipped byte")
    assert put_byte("b") == b
    assert vm_list(child) == {0: vm_list(child)[0]}, "a refused restore left a VM behind"
    assert free_memory(child) == free_before, "a refused restore kept memory"

    # Restore: the same processes, time going on, the shell answering.
    t0 = time.monotonic()
    rc, out = sh(child, f"shyper vm restore {SNAP}", timeout=600)
    restore_s = time.monotonic() - t0
    m = re.search(rf"^VM (\d+) restored from {SNAP}", out, re.M)
    assert rc == 0 and m, f"vm restore failed:\n{out}"
    new = int(m.group(1))
    assert vm_list(child)[new]["state"] == "running"
    out = guest(child, new, f"kill -0 {pid} && echo alive-{pid}", "the counter after restore")
    assert f"alive-{pid}" in out, f"the counter process {pid} is gone after the restore:\n{out}"
    first = guest_value(child, new, "count", "cat /tmp/count", "the count after restore")
    assert first >= before, f"the count went back: {first} < {before} saved"
    counter_at_least(child, new, first + 2, "the restored counter counting on")
    up_after = guest_value(child, new, "up", "cut -d\" \" -f1 /proc/uptime",
                           "the uptime after restore")
    assert up_after >= up_before, f"uptime was reset: {up_after} < {up_before}"
    out = guest(child, new, "echo shell-$((6*7))", "the restored shell")
    assert "shell-42" in out, f"the restored guest's shell does not answer:\n{out}"

    # The file carried its boot images: the restored VM boots afresh from them.
    rc, out = sh(child, f"shyper vm reboot {new}", timeout=60)
    assert rc == 0 and f"VM {new} rebooted" in out, f"the restored VM cannot reboot:\n{out}"
    up_reboot = guest_value(child, new, "up", "cut -d\" \" -f1 /proc/uptime",
                            "the uptime after the reboot", tries=60)
    assert up_reboot < up_after, f"no fresh boot: uptime {up_reboot} after {up_after}"
    out = guest(child, new, f"kill -0 {pid} 2>/dev/null || echo gone-{pid}; "
                            "cat /tmp/count 2>/dev/null || echo no-count", "the rebooted guest")
    assert f"gone-{pid}" in out and "no-count" in out, \
        f"the counter survived a reboot:\n{out}"
    print(f"\nGICv{gic}: snapshot {size_kib} KiB ({pages} of {total} pages, state "
          f"{state_bytes} bytes, boot images {image_kib} KiB); save {save_s:.1f} s (paused {paused_ms} ms), restore "
          f"{restore_s:.1f} s; count {before:.0f} -> {first:.0f}, uptime {up_before} -> "
          f"{up_after}")

    rc, out = sh(child, f"shyper vm shutdown {new} && shyper vm remove {new}", timeout=60)
    assert rc == 0, out
    assert free_memory(child) == free_before
