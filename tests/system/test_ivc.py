"""Inter-VM communication (IVC): channels from the JSON configuration, messages
both ways between the MVM and a Linux guest and a bare-metal guest, shared
memory seen by both ends, doorbells that wake poll(), keep-alive misses
(console line, MVM event, restart), isolation (EPERM without a channel,
EFAULT for bad buffers, no access to another VM's channel) and bad `ivc`
sections refused with the field named.

A Linux guest's console is output-only: the test drives its shell through
`shyper ivc exec <channel> <cmd>` (the guest's /init starts `shyper ivc
agent` when its command line says cshyper.ivc-agent=<channel>)."""
import re

import pytest

from conftest import PROMPT, expect, sh
from test_guests import GUESTS, boot_mvm_with_disk, configure, fails_with, wait_guest_shell

IVC_SEND = 0xc6000300
EPERM, EFAULT = 1, 14
ECHO_SUM_LEN = 4096


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


def channels(child):
    rc, out = sh(child, "shyper ivc channels")
    assert rc == 0, out
    rows = {}
    for m in re.finditer(r"^(\d+)\s+(\S+)\s+vm(\d+)\s+vm(\d+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)",
                         out, re.M):
        rows[m.group(2)] = {"id": int(m.group(1)), "owner": int(m.group(3)),
                            "peer": int(m.group(4)), "ipa": int(m.group(5), 16),
                            "length": int(m.group(6), 16)}
    return rows


def guest(child, cmd, timeout=60):
    """Runs cmd in the Linux guest's shell (through the IVC agent)."""
    return sh(child, f"shyper ivc exec rt-link '{cmd}'", timeout=timeout)


def recv(child, timeout_ms=5000):
    rc, out = sh(child, f"shyper ivc recv {timeout_ms}", timeout=timeout_ms // 1000 + 10)
    assert rc == 0, out
    m = re.search(r"^from vm(\d+): (.*)$", out, re.M)
    assert m, out
    return int(m.group(1)), m.group(2)


def abort_exits(child, vm):
    """Stage-2 aborts the VM's vCPU 0 took so far (`shyper vm info`)."""
    rc, out = sh(child, f"shyper vm info {vm}")
    m = re.search(r"^vcpu0: .* abort (\d+),", out, re.M)
    assert rc == 0 and m, out
    return int(m.group(1))


def boot_echo(child):
    vm = configure(child, f"{GUESTS}/ivc-echo.json")
    # The MVM's shell stays quiet (sleep) while the guest prints its line:
    # both share the UART, and a prompt in the middle would split it.
    child.sendline(f"shyper vm boot {vm} >/dev/null && sleep 3")
    expect(child, rf"\[vm{vm}\] ivc-echo: started, channel echo-link at 0x70000000 "
           r"\(128 KiB\), keep-alive 200 ms \(0\)", "ivc-echo starting", timeout=60)
    expect(child, PROMPT, "the MVM prompt", timeout=30)
    return vm


def test_ivc_linux_guest_baremetal_and_isolation(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    lin = configure(child, f"{GUESTS}/ivc-linux.json")
    child.sendline(f"shyper vm boot {lin} >/dev/null")
    wait_guest_shell(child, lin, "the IVC Linux guest's shell")
    sh(child, "sleep 2")
    echo = boot_echo(child)

    chans = channels(child)
    assert set(chans) == {"rt-link", "echo-link"}, chans
    assert chans["rt-link"]["owner"] == lin and chans["rt-link"]["peer"] == 0
    rt_pa = chans["rt-link"]["ipa"]  # the MVM sees it at its physical address

    # The guest's device tree describes its channel; user space sees it.
    rc, out = guest(child, "cat /proc/device-tree/ivc@70000000/compatible; echo; "
                           "cat /proc/device-tree/ivc@70000000/label; echo; "
                           "shyper ivc channels")
    assert rc == 0 and "cshyper,ivc-channel" in out and "rt-link" in out, out
    assert re.search(r"rt-link\s+vm%d\s+vm0\s+0x70000000\s+0x10000\s+60" % lin, out), out

    # Messages both ways.
    rc, out = guest(child, "shyper ivc send 0 hello-from-guest")
    assert rc == 0, out
    assert recv(child) == (lin, "hello-from-guest")
    rc, out = sh(child, f"shyper ivc send {lin} hello-from-mvm")
    assert rc == 0, out
    rc, out = guest(child, "shyper ivc recv 5000")
    assert rc == 0 and "from vm0: hello-from-mvm" in out, out

    # Shared memory: written on one side, read on the other.
    assert sh(child, "shyper ivc shm rt-link write 0 written-by-the-mvm")[0] == 0
    rc, out = guest(child, "shyper ivc shm rt-link read 0 18")
    assert rc == 0 and "written-by-the-mvm" in out, out
    assert guest(child, "shyper ivc shm rt-link write 256 written-by-the-guest")[0] == 0
    rc, out = sh(child, "shyper ivc shm rt-link read 256 20")
    assert rc == 0 and "written-by-the-guest" in out, out

    # A doorbell wakes a poll in the guest. Without one, the wait times out.
    guest(child, "(shyper ivc wait 2000; echo rc=$?) > /tmp/w0 2>&1 &")
    sh(child, "sleep 4")
    rc, out = guest(child, "cat /tmp/w0")
    assert "no doorbell" in out and "rc=1" in out, out
    guest(child, "(shyper ivc wait 30000; echo rc=$?; cut -d\" \" -f1 /proc/uptime) "
                 "> /tmp/w1 2>&1 &")
    sh(child, "sleep 1")
    assert sh(child, "shyper ivc notify rt-link")[0] == 0
    sh(child, "sleep 2")
    rc, out = guest(child, "cat /tmp/w1; cut -d\" \" -f1 /proc/uptime")
    m = re.search(r"doorbell\s+rc=0\s+([\d.]+)\s+([\d.]+)", out)
    assert m, out
    woke, asked = float(m.group(1)), float(m.group(2))
    assert asked - woke > 1.0, f"woken by the later exec, not the notify:\n{out}"

    # The bare-metal echo guest: messages and its mirror of shared memory.
    assert sh(child, f"shyper ivc send {echo} ping-12345")[0] == 0
    assert recv(child) == (echo, "ping-12345")
    text = b"bare-metal shared memory"
    assert sh(child, f"shyper ivc shm echo-link write 0 '{text.decode()}'")[0] == 0
    assert sh(child, f"shyper ivc send {echo} shm-sum")[0] == 0
    want = "%08x" % fnv1a(text + bytes(ECHO_SUM_LEN - len(text)))
    assert recv(child) == (echo, f"shm-sum {want}")
    rc, out = sh(child, "shyper ivc shm echo-link read 4096 8")
    assert rc == 0 and want in out, out

    # Broadcast reaches every VM the caller has a channel with (here: the MVM).
    rc, out = sh(child, "shyper ivc broadcast to-all")
    assert rc == 0 and "delivered to 2 VM(s)" in out, out
    assert recv(child) == (echo, "to-all")
    rc, out = guest(child, "shyper ivc recv 5000")
    assert "from vm0: to-all" in out, out

    # Isolation: no channel between the two guests.
    rc, out = guest(child, f"shyper ivc send {echo} hi")
    assert rc != 0 and "EPERM" in out, out
    rc, out = guest(child, f"shyper ivc shm {chans['echo-link']['id']} read 0 4")
    assert rc != 0 and "no channel" in out, out
    # The MVM gives a buffer outside its RAM: EFAULT.
    rc, out = sh(child, f"shyper-hvc {IVC_SEND:#x} {lin} 0x40080000 16")
    assert re.search(rf"x0=-{EFAULT}\b", out), out
    # The echo guest cannot touch the Linux guest's channel: the load
    # faults, and the channel's bytes are what they were.
    rc, before = sh(child, "shyper ivc shm rt-link sum 0 65536")
    aborts = abort_exits(child, echo)
    assert sh(child, f"shyper ivc send {echo} 'probe {rt_pa:#x}'")[0] == 0
    assert recv(child) == (echo, "probe faulted")
    # The hypervisor took the abort (its console line about it can be split
    # by the MVM's output on the shared UART, so count the exit instead).
    assert abort_exits(child, echo) == aborts + 1
    rc, after = sh(child, "shyper ivc shm rt-link sum 0 65536")
    assert before.split()[-1] == after.split()[-1]


def test_ivc_keepalive_miss_and_restart(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    sh(child, "(shyper system daemon > /tmp/events 2>&1 &)")
    echo = boot_echo(child)
    # Beating: no miss for a while.
    sh(child, "sleep 2")
    assert "missed its heartbeat" not in child.before
    assert sh(child, f"shyper ivc send {echo} stop-heartbeat")[0] == 0
    # The daemon's log, not the console: the guest's lines and the MVM's
    # share the UART and can split each other on a busy host.
    rc, out = sh(child, f"for i in $(seq 60); do grep -q 'event 3: vm{echo}, value 200' "
                        f"/tmp/events && break; sleep 1; done; cat /tmp/events", timeout=90)
    assert re.search(rf"event 3: vm{echo}, value 200", out), out
    # After the restart it answers again (its queue was emptied).
    for _ in range(30):
        assert sh(child, f"shyper ivc send {echo} again")[0] == 0
        rc, out = sh(child, "shyper ivc recv 2000", timeout=20)
        if rc == 0 and re.search(rf"^from vm{echo}: again$", out, re.M):
            break
    else:
        pytest.fail(f"the restarted guest does not answer:\n{out}")


BAD_IVC = [
    ('"length": "0x20000"', '"length": "0x20001"', r"ivc\.channel\[0\]\.length: must be"),
    ('"irq_id": 60', '"irq_id": 20', r"ivc\.channel\[0\]\.irq_id: 20 is not a shared"),
    ('"peer": 0', '"peer": 0, "color": 1', r"ivc\.channel\[0\]\.color: unknown field"),
    ('"ipa_start": "0x70000000"', '"ipa_start": "0x80000000"',
     r"ivc\.channel\[0\]: overlaps memory\.region\[0\]"),
    ('"name": "echo-link"', '"name": "bad name"', r"ivc\.channel\[0\]\.name: only letters"),
    ('"length": "0x20000"', '"length": "0x2000000"', r"ivc\.channel\[0\]\.length: more than"),
    ('"peer": 0', '"peer": 6', r"ivc channel echo-link.*ENOENT"),
]


def test_ivc_bad_config_refused(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    for i, (old, new, pattern) in enumerate(BAD_IVC):
        path = f"/tmp/bad{i}.json"
        sh(child, f"sed 's/{old}/{new}/' {GUESTS}/ivc-echo.json > {path}; "
                  f"cp {GUESTS}/ivc-echo.bin /tmp/")
        fails_with(child, f"shyper vm config {path}", pattern)
    # Nothing was left behind: a good one still configures as VM 1.
    assert configure(child, f"{GUESTS}/ivc-echo.json") == 1
