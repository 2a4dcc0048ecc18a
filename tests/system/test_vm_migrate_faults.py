"""A live migration cut at each phase, by killing the destination's daemon
or dropping its link: the guest goes on running on exactly one board, and
neither board keeps anything of the failed attempt (the destination's VM
list and free memory are back to what they were).

The phases are hit on purpose: pre-copy with the sender capped to a few
MiB/s; the hand-over with SHYPER_MIG_STALL, which makes the receiver wait
before a chosen reply (migrate_recv.c).

Also: a destination without the memory refuses the VM and keeps nothing,
and the disk copy a migration brought goes when its VM is removed."""
import re
import time

from conftest import sh
from test_guests import GUESTS, free_memory, vm_list
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


def serve_disk_on_a(a):
    """A's daemon serves a 64 MiB image in RAM, from its JSON configuration."""
    rc, out = sh(a, "dd if=/dev/zero of=/tmp/vm.img bs=1M count=64 2>/dev/null && "
                    "echo '{\"mediated\": [\"/tmp/vm.img\"]}' > /tmp/med.json && "
                    f"({DAEMON} /tmp/med.json >/tmp/daemon.log 2>&1 &) && sleep 1",
                 timeout=60)
    assert rc == 0, out


def test_disk_copy_goes_with_the_removed_vm(qemu, tmp_path):
    """B's daemon serves the disk copy a migration brought until the VM is
    removed (shut down is not enough, nor a restart of the daemon), then
    stops serving it and deletes the file. A's disk, from its daemon's
    JSON, stays when the VM leaves A."""
    a, b = boot_boards(qemu, tmp_path, 3)
    restart_daemon(b)
    serve_disk_on_a(a)
    vm = boot_guest(a, "linux-migrate.json")
    out = guest(a, vm, "echo disk-marker-$((6*7)) | dd of=/dev/vda bs=512 seek=100 "
                       "conv=fsync 2>/dev/null && echo wrote=ok", "writing the disk")
    assert "wrote=ok" in out, out

    rc, out = migrate(a, vm, ADDR["b"])
    m = re.search(rf"^VM {vm} is now VM (\d+) on", out, re.M)
    assert rc == 0 and m, f"vm migrate failed:\n{out}\nB's daemon:\n{daemon_log(b)}"
    new = int(m.group(1))
    log = daemon_log(b)
    d = re.search(rf"VM {new}'s disk is (/tmp/linux-migrate-disk0-\w+) \(mediated image "
                  r"(\d+)\)", log)
    assert d, log
    copy, index = d.group(1), int(d.group(2))
    # A's image is its own: still there once the VM left A.
    wait_for(a, f"grep -q '^vm{vm}: removed' /tmp/daemon.log", "the VM removed on A")
    rc, out = sh(a, "ls /tmp/vm.img; cat /tmp/daemon.log")
    assert rc == 0 and "deleted" not in out, out

    # A daemon started again serves the copy again, under the same index.
    restart_daemon(b)
    wait_for(b, f"grep -q 'mediated image {index}: {copy} served again' /tmp/daemon.log",
             "the restarted daemon serving the copy")
    out = guest(b, new, "echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=512 skip=100 "
                        "count=1 2>/dev/null | head -c 14; echo", "reading the disk on B")
    assert "disk-marker-42" in out, f"the copy is not served after the restart:\n{out}"

    # Shut down, the VM may still want its disk.
    rc, out = sh(b, f"shyper vm shutdown {new}", timeout=60)
    assert rc == 0, out
    wait_for(b, f"grep -q '^vm{new}: stopped' /tmp/daemon.log", "the VM stopped on B")
    rc, out = sh(b, f"ls {copy} && cat /tmp/daemon.log")
    assert rc == 0 and "no longer served" not in out, out

    # Removed: the copy goes.
    rc, out = sh(b, f"shyper vm remove {new}", timeout=60)
    assert rc == 0, out
    wait_for(b, f"grep -q 'mediated image {index}: VM {new} (linux-migrate) was removed; "
                f"its disk copy {copy} is no longer served and is deleted' /tmp/daemon.log",
             "the daemon dropping the copy")
    rc, out = sh(b, f"ls {copy} /run/shyper-daemon-disks 2>&1")
    assert rc != 0 and out.count("No such file") == 2, out


def test_destination_without_memory_refuses(qemu, tmp_path):
    """B's free memory is taken by another VM: the migration is refused
    with a reason naming memory before anything is copied, the guest runs
    on at A, and B keeps nothing of it (no VM, no memory, no disk file)."""
    a, b = boot_boards(qemu, tmp_path, 3, smp=3, mem_b="512M")
    restart_daemon(b)
    serve_disk_on_a(a)
    vm = boot_guest(a, "linux-migrate.json")  # 128 MiB and a mediated disk
    pid, md5 = start_workload(a, vm)

    # A VM on B's third core whose 64 MiB regions leave less than 128 MiB
    # of B's free memory (a 512 MiB board: 256 MiB are the MVM's).
    free = free_memory(b)
    n = -(-(free - 127) // 64)
    assert 1 <= n <= 4, f"{free} MiB free on B"
    regions = ", ".join(f'{{ "ipa_start": "{0x80000000 + (i << 26):#x}", "length": '
                        '"0x4000000" }' for i in range(n))
    rc, out = sh(b, "sed 's/\"0b1000\"/\"0b0100\"/; s/\"master\": 3/\"master\": 2/; "
                    f's/{{ "ipa_start": "0x80000000", "length": "0x400000" }}/{regions}/\' '
                    f"{GUESTS}/hvc-probe.json > {GUESTS}/filler.json && "
                    f"shyper vm config {GUESTS}/filler.json", timeout=60)
    assert rc == 0, f"{free} MiB free on B:\n{out}"
    free_b, vms_b = free_memory(b), set(vm_list(b))
    assert free_b < 128 <= free, f"the filler left {free_b} of {free} MiB free"

    rc, out = migrate(a, vm, ADDR["b"])
    assert rc == 1 and re.search(r"the destination refused: not enough free memory on this "
                                 rf"board: the VM needs 128 MiB, {free_b} MiB are free; "
                                 rf"VM {vm} keeps running here", out), out
    assert "round 1" not in out, out
    assert re.search(rf"migration from {re.escape(ADDR['a'])} failed: not enough free memory.*"
                     r"nothing of it is left here", daemon_log(b))
    assert set(vm_list(b)) == vms_b and free_memory(b) == free_b, "B kept something"
    rc, out = sh(b, "ls /tmp/linux-migrate-disk* 2>&1")
    assert rc != 0 and "No such file" in out, f"a disk copy was left on B:\n{out}"
    still_running_here(a, vm, pid, md5, "after B refused the VM")
