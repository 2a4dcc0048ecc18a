"""virtio-console: two Linux guests with console=hvc0 (their only console),
reached from the MVM with `shyper vm console <id>`: interactively (raw
terminal, Ctrl-] detaches) and from scripts (stdin sent, output until
quiet). A 1 MiB stream arrives complete and in order; a guest nobody is
attached to keeps running, its oldest output dropped and counted."""
import re

import pexpect
import pytest

from conftest import PROMPT, expect, sh
from test_guests import GUESTS, boot_mvm_with_disk, configure

DETACH = "\x1d"  # Ctrl-]


def collect(child, vm, pattern, what, tries=90):
    """Appends vm's console output to /tmp/vm<vm>.log until pattern shows."""
    rc, out = sh(child, f"for i in $(seq {tries}); do shyper vm console {vm} 0.3 "
                        f"</dev/null >>/tmp/vm{vm}.log 2>&1; grep -q '{pattern}' "
                        f"/tmp/vm{vm}.log && break; sleep 1; done; "
                        f"grep -c '{pattern}' /tmp/vm{vm}.log", timeout=tries * 3 + 30)
    assert rc == 0, f"{what}: {out}"


def test_virtio_console_two_guests(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    a = configure(child, f"{GUESTS}/linux-console-a.json")
    b = configure(child, f"{GUESTS}/linux-console-b.json")
    child.sendline(f"shyper vm boot {a} >/dev/null; shyper vm boot {b} >/dev/null; sleep 1")
    expect(child, PROMPT, "the MVM prompt")
    # Both boot with hvc0 as their console: init says so there, not on the UART.
    collect(child, a, "cshyper-initramfs: ready", "guest A's init on hvc0")
    collect(child, b, "cshyper-initramfs: ready", "guest B's init on hvc0")

    # From a script: stdin goes to the guest's shell, output comes back.
    rc, out = sh(child, f"echo 'echo hello-$((6*7)) from $(hostname)' | shyper vm console {a} 2")
    assert rc == 0 and "hello-42 from" in out, out
    rc, out = sh(child, f"echo 'cat /proc/cmdline' | shyper vm console {b} 2")
    assert rc == 0 and "guest=linux-console-b" in out, out

    # Interactively, on the MVM's terminal: a login shell, ^C reaches the
    # guest (not the CLI), Ctrl-] detaches.
    child.sendline(f"shyper vm console {a}")
    expect(child, rf"\[vm{a} console; Ctrl-\] detaches\]", "attached")
    # ^C only once sleep runs (earlier, it would hit the shell reading its
    # line and flush what follows); the next line is repeated until the
    # shell answers, since ^C also discards input typed ahead.
    child.send('echo "sleep-start""ed"; sleep 30\r')
    expect(child, r"sleep-started\r*\n", "the guest starting sleep 30")
    child.send("\x03")
    for attempt in range(12):
        child.send("echo after-$((1+1))\r")
        if child.expect([r"after-2", pexpect.TIMEOUT], timeout=5) == 0:
            break
    else:
        pytest.fail("the guest shell never answered after ^C (sleep 30 not interrupted?)")
    child.send(DETACH)
    expect(child, rf"\[detached from vm{a}\]", "detached")
    expect(child, PROMPT, "the MVM prompt after detaching")

    # 1 MiB from the guest with someone attached: every byte, in order.
    rc, out = sh(child, f"s=$(date +%s); echo 'seq 1 150000' | shyper vm console {a} 10 > /tmp/big.out; "
                        "echo took $(( $(date +%s) - s )) s >&2; "
                        "wc -c < /tmp/big.out; tr -d '\\r' < /tmp/big.out | "
                        "grep -E '^[0-9]+$' | md5sum; seq 1 150000 | md5sum", timeout=300)
    lines = [l for l in out.split("\n") if not l.startswith("took ")]
    assert rc == 0 and int(lines[0]) > 1_000_000, out
    got, want = (l.split()[0] for l in lines[1:3])
    assert got == want, out

    # Nobody attached: the guest does not stall; its oldest output goes,
    # counted, and the newest is there for the next reader.
    rc, out = sh(child, f"echo 'seq 1 100000; echo end-of-$((2*3))-burst' | "
                        f"shyper vm console {b} 0")
    assert rc == 0, out
    # Nobody reads until the hypervisor has dropped some of it (the guest
    # went on writing), then read until the burst's end arrived, however
    # slow the host: the notice comes with the first read.
    rc, out = sh(child, f"for i in $(seq 120); do shyper vm info {b} | "
                        f"grep -q 'console: .* bytes kept, [1-9][0-9]* dropped' && break; "
                        f"sleep 1; done; shyper vm info {b} | grep '^console:'", timeout=200)
    assert re.search(r"console: \d+ bytes kept, [1-9]\d* dropped while nobody was attached, "
                     r"detached", out), f"guest B's output was never dropped: {out}"
    collect(child, b, "end-of-6-burst", "the burst's end")
    rc, out = sh(child, f"grep -c 'bytes of earlier output were not kept' /tmp/vm{b}.log")
    assert rc == 0 and int(out.strip()) >= 1, f"no drop notice in guest B's console: {out}"

    # Errors are one clear line.
    rc, out = sh(child, "shyper vm console 0 </dev/null")
    assert rc != 0 and re.search(r"VM 0 has no virtio console", out), out
    rc, out = sh(child, "shyper vm console 7 </dev/null")
    assert rc != 0 and re.search(r"no VM 7", out), out
    child.sendline(f"shyper vm console {a} 60 </dev/null >/dev/null & sleep 1; "
                   f"shyper vm console {a} </dev/null; kill %1")
    expect(child, rf"someone else is attached to VM {a}'s console", "one reader at a time")


def test_malformed_descriptor_chains_are_refused(qemu, tmp_path):
    """virtio-evil (guests/baremetal/virtio-evil.c) offers its virtio-console
    one malformed chain after another: addresses in the MVM's RAM, in the
    hypervisor, past its RAM, wrapping; a huge length; loops; indexes out of
    range; an indirect table outside its RAM; writable before readable. Each
    is refused (DEVICE_NEEDS_RESET, nothing used), a good chain after a reset
    goes through, and meanwhile a Linux guest's virtio console keeps
    working. Nothing of the bad chains reaches the console."""
    child = boot_mvm_with_disk(qemu, tmp_path)
    lin = configure(child, f"{GUESTS}/linux-console-a.json")
    evil = configure(child, f"{GUESTS}/virtio-evil.json")
    child.sendline(f"shyper vm boot {lin} >/dev/null; sleep 1")
    expect(child, PROMPT, "the MVM prompt")
    collect(child, lin, "cshyper-initramfs: ready", "the Linux guest on hvc0")
    # The Linux guest streams on its console while the other one misbehaves.
    sh(child, f"echo '(for i in $(seq 12); do seq 1 300; sleep 1; done; echo ticks-done) &' "
              f"| shyper vm console {lin} 1 >/dev/null")
    # The MVM's shell stays quiet while the guest prints (they share the UART).
    child.sendline(f"shyper vm boot {evil} >/dev/null && sleep 20")
    expect(child, rf"\[vm{evil}\] virtio-evil: done refused=(\d+) of (\d+) recovered=(\d+)",
           "virtio-evil's summary", timeout=120)
    refused, cases, recovered = (int(g) for g in child.match.groups())
    log = child.before.replace("\r", "")
    assert cases >= 11 and refused == cases and recovered == cases, log
    assert "ACCEPTED" not in log and "zero-length buffer outside its RAM: ignored" in log, log
    expect(child, rf"vm{evil} \(virtio-evil\): PSCI SYSTEM_OFF", "its power-off")
    expect(child, PROMPT, "the MVM prompt", timeout=60)
    # Only the good chains' bytes arrived; the hypervisor says why it refused.
    rc, out = sh(child, f"shyper vm console {evil} 1 </dev/null")
    assert rc == 0, out
    lines = [l for l in out.replace("\r", "").split("\n") if l]
    assert lines and all(l.startswith("evil-ok ") for l in lines), out
    assert len(lines) == cases, out
    # The Linux guest's console still works, and the MVM is fine.
    rc, out = sh(child, f"sleep 8; echo 'echo still-$((40+2))' | shyper vm console {lin} 2",
                 timeout=60)
    assert rc == 0 and "still-42" in out and "ticks-done" in out, out
    rc, out = sh(child, "shyper vm list")
    assert rc == 0 and re.search(rf"^{lin}\s+linux-console-a\s+linux\s+running", out, re.M), out
