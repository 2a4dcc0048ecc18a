"""A live migration cut at each phase, by killing the destination's daemon
or dropping its link: the guest goes on running on exactly one board, and
neither board keeps anything of the failed attempt (the destination's VM
list and free memory are back to what they were).

The phases are hit on purpose: pre-copy with the sender capped to a few
MiB/s; the hand-over with SHYPER_MIG_STALL, which makes the receiver wait
before a chosen reply (migrate_recv.c)."""
import re
import time

from conftest import sh
from test_guests import free_memory, vm_list
from test_vm_migrate import (ADDR, boot_boards, boot_guest, daemon_log, migrate,
                             start_workload)
from test_vm_snapshot import counter_at_least, guest, guest_value

DAEMON = "shyper system daemon"


def restart_daemon(child, env=""):
    sh(child, f"killall shyper 2>/dev/null; sleep 1; {env} {DAEMON} --timeout=8 "
              ">/tmp/daemon.log 2>&1 & sleep 1", timeout=20)


def kill_daemon(child):
    """SIGKILL to the daemon and its receivers (the only shyper processes on
    B): nothing of theirs runs on."""
    sh(child, "killall -9 shyper; sleep 1", timeout=20)


def start_migration(child, vm, extra=""):
    sh(child, f"(shyper vm migrate {vm} {ADDR['b']} {extra} >/tmp/mig.log 2>&1; "
              "echo rc=$? >>/tmp/mig.log) & true", timeout=20)


def migration_result(child, timeout=120):
    rc, out = sh(child, f"for i in $(seq {timeout}); do grep -q '^rc=' /tmp/mig.log && break; "
                        "sleep 1; done; cat /tmp/mig.log", timeout=timeout + 30)
    m = re.search(r"^rc=(\d+)$", out, re.M)
    assert m, f"the migration did not end:\n{out}"
    return int(m.group(1)), out


def wait_for(child, cmd, what, tries=60):
    rc, out = sh(child, f"for i in $(seq {tries}); do {cmd} && break; sleep 1; done; {cmd}",
                 timeout=tries * 2 + 30)
    assert rc == 0, f"{what}: never happened:\n{out}"
    return out


def nothing_left(child, free_before, what):
    """Only the MVM listed, all memory free: what a failed attempt built is gone."""
    for _ in range(30):
        if set(vm_list(child)) == {0} and free_memory(child) == free_before:
            return
        sh(child, "sleep 1")
    assert set(vm_list(child)) == {0}, f"{what}: a VM was left behind: {vm_list(child)}"
    assert free_memory(child) == free_before, f"{what}: memory was not freed"


def still_running_here(child, vm, pid, md5, what):
    assert vm_list(child)[vm]["state"] == "running", what
    n = guest_value(child, vm, "count", "cat /tmp/count", what)
    counter_at_least(child, vm, n + 20, f"{what}: the counter going on")
    out = guest(child, vm, f"kill -0 {pid} && echo alive-{pid}; echo md5=$(md5sum /tmp/blob "
                           "| cut -c1-32)", what, timeout=120)
    assert f"alive-{pid}" in out and f"md5={md5}" in out, f"{what}:\n{out}"


def vcpu_run_ms(child, vm):
    rc, out = sh(child, f"shyper vm info {vm}")
    assert rc == 0, out
    return [int(x) for x in re.findall(r"vcpu\d+: core \d+, \w+, run (\d+) ms", out)]


def test_migration_cut_at_each_phase(qemu, tmp_path):
    a, b = boot_boards(qemu, tmp_path, 3)
    free_b = free_memory(b)
    vm = boot_guest(a)
    pid, md5 = start_workload(a, vm)

    # 1. Pre-copy, the destination's daemon killed: its half-filled VM is
    # removed by shyper.ko when the receiver's file closes.
    restart_daemon(b)
    start_migration(a, vm, "--bandwidth=3")
    wait_for(b, "shyper vm list | grep -q '^1 '", "the VM being built on B")
    sh(b, "sleep 2")
    kill_daemon(b)
    rc, out = migration_result(a)
    assert rc == 1 and re.search(rf"(connection lost|Connection reset|the stream stopped).*"
                                 rf"VM {vm} keeps running here", out, re.S), out
    assert "round 2" not in out and "stop-and-copy" not in out, out
    nothing_left(b, free_b, "the daemon killed in pre-copy")
    still_running_here(a, vm, pid, md5, "after the daemon was killed in pre-copy")

    # 2. Pre-copy, the link dropped: the source gives up after its timeout,
    # the destination after its own, and removes the VM.
    restart_daemon(b)
    start_migration(a, vm, "--bandwidth=3 --timeout=5")
    wait_for(b, "shyper vm list | grep -q '^1 '", "the VM being built on B")
    sh(b, "ip link set eth0 down")
    rc, out = migration_result(a)
    assert rc == 1 and f"VM {vm} keeps running here" in out, out
    wait_for(b, "grep -q 'failed: the stream stopped' /tmp/daemon.log",
             "the destination giving up")
    sh(b, f"ip link set eth0 up; ping -c 1 -W 5 {ADDR['a']} >/dev/null", timeout=30)
    nothing_left(b, free_b, "the link dropped in pre-copy")
    still_running_here(a, vm, pid, md5, "after the link dropped in pre-copy")

    # 3. Stop-and-copy done, the daemon killed before it says LOADED: the
    # source resumes the guest, the loaded copy on B is removed.
    restart_daemon(b, "SHYPER_MIG_STALL=loaded:30")
    start_migration(a, vm)
    wait_for(b, "grep -q 'stalling 30 s before loaded' /tmp/daemon.log", "the stall")
    kill_daemon(b)
    rc, out = migration_result(a)
    assert rc == 1 and "stop-and-copy" in out and f"VM {vm} keeps running here" in out, out
    nothing_left(b, free_b, "the daemon killed before LOADED")
    still_running_here(a, vm, pid, md5, "after the daemon was killed before LOADED")

    # 4. After the go-ahead the destination resumed the guest, then died
    # before saying RUNNING: the source cannot know, keeps its copy paused,
    # and says so. The guest runs on B only.
    restart_daemon(b, "SHYPER_MIG_STALL=running:30")
    start_migration(a, vm)
    wait_for(b, "grep -q 'stalling 30 s before running' /tmp/daemon.log", "the stall")
    kill_daemon(b)
    rc, out = migration_result(a)
    assert rc == 1 and re.search(rf"the destination may already run VM {vm}, so it stays "
                                 rf"paused here", out), out
    moved = [i for i in vm_list(b) if i != 0]
    assert len(moved) == 1, f"B should run the guest: {vm_list(b)}"
    still_running_here(b, moved[0], pid, md5, "the guest on B after a lost RUNNING")
    first = vcpu_run_ms(a, vm)
    sh(a, "sleep 2")
    assert vcpu_run_ms(a, vm) == first, "the source's copy ran although B runs the guest"
    log = daemon_log(b)
    assert "runs here" not in log, log
