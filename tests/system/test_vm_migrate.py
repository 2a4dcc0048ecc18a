"""Live migration between two boards (`shyper vm migrate`): two cshyper
QEMUs whose MVMs' eth0 are cabled together over UDP on 127.0.0.1, with
addresses from the hypervisor's command line (mvm.net=). A running Linux
guest with a virtio console and two virtio-net cards moves from board A to
board B while it writes memory; on B its processes go on (same PIDs,
counters counting on from above their values, files with their checksums,
its shell answering), its network card fetches from B's MVM through B's
switch, and on A it is gone and its memory free again. A destination that cannot take the VM refuses it before
anything stops, and the guest runs on at the source."""
import os
import re
import shutil
import time

import pytest

from conftest import (HV_IMAGE, IMAGES, INITRD, PROMPT, READY, board_link,
                      expect, mvm_devices, require_images, sh)
from test_guests import GUESTS, configure, free_memory, vm_list
from test_vm_snapshot import counter_at_least, guest, guest_value, wait_console

ADDR = {"a": "10.0.3.1", "b": "10.0.3.2"}


def boot_boards(qemu, tmp_path, gic, gic_b=None, smp=2, mem_b="1G"):
    """Boards A and B (B with gic_b and mem_b if given), booted side by
    side; their MVM shells."""
    require_images()
    links = board_link()
    boards = {}
    for name, net in zip("ab", links):
        disk = tmp_path / f"mvm-disk-{name}.img"
        shutil.copy(f"{IMAGES}/mvm-disk.img", disk)
        boards[name] = qemu(HV_IMAGE, gic=gic_b if name == "b" and gic_b else gic, smp=smp, mem=mem_b if name == "b" else "1G", initrd=INITRD, timeout=30,
                            append=f"mvm.net={ADDR[name]}/24",
                            extra=mvm_devices(disk, netdev=net))
    for child in boards.values():
        expect(child, r"/dev/vda mounted on /mnt", "the MVM mounting its disk", timeout=180)
        expect(child, re.escape(READY), "the MVM's initramfs", timeout=60)
        expect(child, PROMPT, "the MVM shell prompt")
    a, b = boards["a"], boards["b"]
    rc, out = sh(a, f"ping -c 1 -W 5 {ADDR['b']}", timeout=30)
    assert rc == 0, f"board A cannot reach board B over the link:\n{out}"
    return a, b


def start_daemon(child):
    rc, out = sh(child, "shyper system daemon >/tmp/daemon.log 2>&1 & sleep 1; "
                        "grep -c 'not accepted' /tmp/daemon.log", timeout=20)
    assert out.strip().endswith("0"), f"the daemon does not accept migrations:\n{out}"


def daemon_log(child):
    return sh(child, "cat /tmp/daemon.log", timeout=20)[1]


def boot_guest(child, config="linux-console-a.json"):
    vm = configure(child, f"{GUESTS}/{config}")
    child.sendline(f"shyper vm boot {vm} >/dev/null; sleep 1")
    expect(child, PROMPT, "the MVM prompt")
    wait_console(child, vm, "cshyper-initramfs: ready", "the guest's init on hvc0")
    return vm


def start_disk_workload(child, vm):
    """An ext2 file system on the guest's mediated disk, and a writer that
    rewrites four files with their checksums beside them until /tmp/stop."""
    out = guest(child, vm, "mke2fs -b 1024 /dev/vda 32768 >/dev/null 2>&1 && mkdir -p /blk && "
                           "mount -t ext4 /dev/vda /blk && echo fs=ok", "the file system",
                quiet=15, timeout=120)
    assert "fs=ok" in out, f"no file system on the guest's disk:\n{out}"
    guest(child, vm, "(n=0; while [ ! -e /tmp/stop ]; do n=$((n+1)); f=/blk/f$((n % 4)); "
                     "dd if=/dev/urandom of=$f bs=64k count=4 2>/dev/null; md5sum $f > $f.md5; "
                     "sync; echo $n > /tmp/disk-rounds; done; touch /tmp/disk-done) "
                     "</dev/null >/dev/null 2>&1 & echo started", "starting the disk writer")


def check_disk(child, vm, what):
    """The writer stopped; every file read back from the disk (not the page
    cache) matches the checksum written beside it."""
    out = ""
    for _ in range(30):
        out = guest(child, vm, "touch /tmp/stop; sleep 1; ls /tmp/disk-done && "
                               "echo rounds=$(cat /tmp/disk-rounds)", what)
        if "rounds=" in out:
            break
    m = re.search(r"^rounds=(\d+)$", out, re.M)
    assert m and int(m.group(1)) >= 4, f"{what}: the disk writer did not run:\n{out}"
    out = guest(child, vm, "sync; umount /blk && echo 3 > /proc/sys/vm/drop_caches; "
                           "mount -t ext4 /dev/vda /blk && cd /blk && md5sum -c f0.md5 f1.md5 "
                           "f2.md5 f3.md5 && echo disk=ok", what, quiet=15, timeout=120)
    assert "disk=ok" in out, f"{what}: the files on the disk do not match:\n{out}"
    return int(m.group(1))


def start_workload(child, vm):
    """A 16 MiB file of random data with its checksum, and a counter that
    rewrites its file as fast as the guest's shell can; the counter's PID
    and the checksum."""
    out = guest(child, vm, "dd if=/dev/urandom of=/tmp/blob bs=1M count=16 2>/dev/null; "
                           "md5sum /tmp/blob | cut -c1-32 > /tmp/blob.md5; "
                           "echo md5=$(cat /tmp/blob.md5)", "writing the blob", quiet=15,
                timeout=120)
    m = re.search(r"^md5=([0-9a-f]{32})$", out, re.M)
    assert m, f"no checksum for the blob:\n{out}"
    out = guest(child, vm, "(i=0; while true; do i=$((i+1)); echo $i > /tmp/count; done) "
                           "</dev/null >/dev/null 2>&1 & echo $! > /tmp/counter.pid; "
                           "echo cpid=$!", "starting the counter")
    p = re.search(r"^cpid=(\d+)$", out, re.M)
    assert p, f"no PID for the counter:\n{out}"
    counter_at_least(child, vm, 50, "the counter running")
    return int(p.group(1)), m.group(1)


def serve_on_switch(child, name):
    """The MVM's port on its board's switch (eth1) at 192.168.77.1, serving
    256 KiB of random data over HTTP; its checksum."""
    rc, out = sh(child, "ip addr add 192.168.77.1/24 dev eth1; ip link set eth1 up; "
                        f"mkdir -p /tmp/www && dd if=/dev/urandom of=/tmp/www/{name} bs=64k "
                        f"count=4 2>/dev/null && (httpd -p 8080 -h /tmp/www &) && "
                        f"md5sum /tmp/www/{name}", timeout=30)
    m = re.search(r"^([0-9a-f]{32}) ", out, re.M)
    assert rc == 0 and m, out
    return m.group(1)


def fetch_over_switch(child, vm, name, md5, what):
    """The guest's eth0 fetches the MVM's file through the switch."""
    out = ""
    for _ in range(10):
        out = guest(child, vm, f"wget -q -O /tmp/{name} http://192.168.77.1:8080/{name} "
                               f"&& echo got=$(md5sum /tmp/{name} | cut -c1-32)", what,
                    timeout=60)
        if f"got={md5}" in out:
            return
    raise AssertionError(f"{what}: the guest did not fetch {name} ({md5}):\n{out}")


def migrate(child, vm, dest, extra="", timeout=600):
    return sh(child, f"shyper vm migrate {vm} {dest} {extra}".strip(), timeout=timeout)


@pytest.mark.parametrize("gic", [3, 2])
def test_running_guest_moves_to_the_other_board(qemu, tmp_path, gic):
    a, b = boot_boards(qemu, tmp_path, gic)
    start_daemon(b)
    # A's daemon serves the guest's mediated disk, a 64 MiB image in RAM.
    rc, out = sh(a, "dd if=/dev/zero of=/tmp/vm.img bs=1M count=64 2>/dev/null && "
                    "echo '{\"mediated\": [\"/tmp/vm.img\"]}' > /tmp/med.json && "
                    "(shyper system daemon /tmp/med.json >/tmp/daemon.log 2>&1 &) && sleep 1",
                 timeout=60)
    assert rc == 0, out
    free_a, free_b = free_memory(a), free_memory(b)
    vm = boot_guest(a, "linux-migrate.json")
    pid, md5 = start_workload(a, vm)
    start_disk_workload(a, vm)
    fetch_over_switch(a, vm, "from-a", serve_on_switch(a, "from-a"),
                      "the guest's network on board A")
    start_memcheck(a, vm, 8)
    checked = memcheck_past(a, vm, 0, "memcheck before migrating")
    before = guest_value(a, vm, "count", "cat /tmp/count", "the count before migrating")

    t0 = time.monotonic()
    rc, out = migrate(a, vm, ADDR["b"])
    wall = time.monotonic() - t0
    assert rc == 0, f"vm migrate failed:\n{out}\nB's daemon:\n{daemon_log(b)}"
    rounds = re.findall(r"^round (\d+): (\d+) KiB sent, (\d+) pages dirtied meanwhile", out,
                        re.M)
    assert rounds and rounds[0][0] == "1", f"no pre-copy rounds reported:\n{out}"
    m = re.search(rf"^VM {vm} is now VM (\d+) on {re.escape(ADDR['b'])}: total ([\d.]+) s, "
                  r"downtime (\d+) ms, ([\d.]+) MiB sent in (\d+) rounds \(\d+ pages, "
                  r"disks (\d+) KiB\)", out, re.M)
    assert m, f"no summary line:\n{out}"
    new, downtime = int(m.group(1)), int(m.group(3))
    # The downtime's split: the destination's own load, timed there and
    # sent back in LOADED, is part of the wait for LOADED.
    parts = re.search(r"^downtime: .*destination loaded ([\d.]+) ms \(its load ([\d.]+) ms, "
                      r"(\d+) TCP segments resent\)", out, re.M)
    assert parts, f"no downtime split:\n{out}"
    assert 0 < float(parts.group(2)) <= float(parts.group(1)), parts.group(0)

    # Gone from A, all of its memory back.
    assert vm not in vm_list(a), "the VM is still listed on the source"
    assert free_memory(a) == free_a, "the source did not free the VM's memory"
    # Running on B: the same processes, counting on, the file intact.
    assert vm_list(b)[new]["state"] == "running"
    log = daemon_log(b)
    assert re.search(rf"migration from {re.escape(ADDR['a'])}: VM {new} runs here", log), log
    assert re.search(rf"VM {new}'s disk is /tmp/linux-migrate-disk0-\w+ \(mediated image 0\)",
                     log), log
    # No write lost: every page the checker rewrote holds its last pattern.
    memcheck_past(b, new, checked, "memcheck after migrating")
    out = guest(b, new, f"kill -0 {pid} && echo alive-{pid}", "the counter after migrating")
    assert f"alive-{pid}" in out, f"the counter process {pid} is gone:\n{out}"
    after = guest_value(b, new, "count", "cat /tmp/count", "the count after migrating")
    assert after >= before, f"the count went back: {after} < {before}"
    counter_at_least(b, new, after + 50, "the migrated counter counting on")
    out = guest(b, new, "echo md5=$(md5sum /tmp/blob | cut -c1-32) "
                        "saved=$(cat /tmp/blob.md5)", "the blob's checksum", quiet=15,
                timeout=120)
    assert f"md5={md5} saved={md5}" in out, f"the blob changed in the move:\n{out}"
    out = guest(b, new, "echo shell-$((6*7))", "the migrated shell")
    assert "shell-42" in out, out
    # Its network card works on B's switch, its disk holds what it wrote.
    fetch_over_switch(b, new, "from-b", serve_on_switch(b, "from-b"),
                      "the guest's network on board B")
    disk_rounds = check_disk(b, new, "the guest's disk on board B")
    print(f"\nGICv{gic}: {len(rounds)} rounds, downtime {downtime} ms, total {m.group(2)} s "
          f"({wall:.1f} s wall), {m.group(4)} MiB, disk {m.group(6)} KiB; count {before:.0f} "
          f"-> {after:.0f}; {disk_rounds} disk writes")

    rc, out = sh(b, f"shyper vm shutdown {new} && shyper vm remove {new}", timeout=60)
    assert rc == 0, out
    assert free_memory(b) == free_b, "the migrated VM's memory did not come back on B"


def test_refusals_leave_the_guest_running(qemu, tmp_path):
    a, b = boot_boards(qemu, tmp_path, 3, gic_b=2)
    vm = boot_guest(a)
    free_b = free_memory(b)

    # Nobody listening on B yet.
    rc, out = migrate(a, vm, ADDR["b"], "--timeout=5")
    assert rc == 1 and re.search(rf"connect to {re.escape(ADDR['b'])} port 7740: "
                                 rf"Connection refused; VM {vm} keeps running here", out), out
    # Not an address.
    rc, out = migrate(a, vm, "board-b")
    assert rc == 2 and "expected an IP address" in out, out

    # B has another GIC: refused when the configuration arrives, before
    # the guest is paused for the copy.
    start_daemon(b)
    rc, out = migrate(a, vm, ADDR["b"])
    assert rc == 1 and re.search(r"the destination refused: the VM comes from a qemu-virt "
                                 r"with GICv3, this board is a qemu-virt with GICv2; "
                                 rf"VM {vm} keeps running here", out), out
    assert "round 1" not in out, out
    assert re.search(rf"migration from {re.escape(ADDR['a'])} failed: .*GICv2; nothing of it "
                     r"is left here", daemon_log(b))
    assert set(vm_list(b)) == {0}, "a refused migration left a VM on B"
    assert free_memory(b) == free_b

    # The guest never stopped being A's.
    assert vm_list(a)[vm]["state"] == "running"
    out = guest(a, vm, "echo shell-$((6*7))", "the guest after the refusals")
    assert "shell-42" in out, out


def test_four_vcpu_guest_moves(qemu, tmp_path):
    """No limit on vCPUs: a guest on cores 1-4 of a 5-core board, a counter
    pinned to each of its CPUs, all counting on after the move."""
    a, b = boot_boards(qemu, tmp_path, 3, smp=5)
    start_daemon(b)
    rc, out = sh(a, f"sed 's/\"num\": 1/\"num\": 4/; s/\"0b0010\"/\"0b11110\"/; "
                    f"s/linux-console-a/linux-4vcpu/' {GUESTS}/linux-console-a.json "
                    f"> {GUESTS}/4vcpu.json")
    assert rc == 0, out
    vm = configure(a, f"{GUESTS}/4vcpu.json")
    a.sendline(f"shyper vm boot {vm} >/dev/null; sleep 1")
    expect(a, PROMPT, "the MVM prompt")
    wait_console(a, vm, "cshyper-initramfs: ready", "the guest's init on hvc0")
    # Each count is written aside and renamed into place, so a reader never
    # finds a file the counter has just truncated.
    guest(a, vm, "for c in 0 1 2 3; do taskset -c $c sh -c \"i=0; while true; do "
                 "i=\\$((i+1)); echo \\$i > /tmp/c$c.t; mv /tmp/c$c.t /tmp/c$c; "
                 "usleep 20000; done\" </dev/null >/dev/null 2>&1 & done; echo started",
          "starting the counters")

    def counts(child, vm, what):
        out = guest(child, vm, "echo cpus=$(cat /sys/devices/system/cpu/online) "
                               "c=$(cat /tmp/c0 /tmp/c1 /tmp/c2 /tmp/c3)", what)
        m = re.search(r"^cpus=(\S+) c=(\d+) (\d+) (\d+) (\d+)$", out, re.M)
        assert m, f"{what}: no counts:\n{out}"
        return m.group(1), [int(x) for x in m.groups()[1:]]

    time.sleep(3)
    online, before = counts(a, vm, "the counters before the move")
    assert online == "0-3" and min(before) > 0, (online, before)
    rc, out = migrate(a, vm, ADDR["b"])
    m = re.search(rf"^VM {vm} is now VM (\d+) on", out, re.M)
    assert rc == 0 and m, f"vm migrate failed:\n{out}\nB's daemon:\n{daemon_log(b)}"
    new = int(m.group(1))
    online, after = counts(b, new, "the counters after the move")
    time.sleep(3)
    online, later = counts(b, new, "the counters a little later")
    assert online == "0-3", online
    assert all(l > x >= y for l, x, y in zip(later, after, before)), \
        f"a CPU's counter stopped: before {before}, after {after}, later {later}"

    # Its boot images came along: the guest's own reset boots it afresh on
    # B, all four vCPUs up again, nothing of the old run left in RAM.
    assert re.search(r"^boot images: \d+ KiB sent$", out, re.M), out
    up = guest_value(b, new, "up", "cut -d\" \" -f1 /proc/uptime", "the uptime before the reset")
    guest(b, new, "reboot -f", "the guest resetting itself", quiet=1)
    for _ in range(60):
        fresh = guest(b, new, "echo cpus=$(cat /sys/devices/system/cpu/online) "
                              "up=$(cut -d\" \" -f1 /proc/uptime) c0=$(cat /tmp/c0 2>/dev/null)",
                      "the guest after its reset")
        m = re.search(r"^cpus=(\S+) up=([\d.]+) c0=(\d*)$", fresh, re.M)
        if m and float(m.group(2)) < up:
            break
    else:
        pytest.fail(f"the migrated guest did not boot again after its reset:\n{fresh}")
    assert m.group(1) == "0-3" and m.group(3) == "", f"not a fresh boot:\n{fresh}"
    assert vm_list(b)[new]["state"] == "running"


def start_memcheck(child, vm, mib):
    """shyper-memcheck (mvm/tools/memcheck.c) over mib MiB in the guest."""
    out = guest(child, vm, f"(shyper-memcheck {mib} >/tmp/memcheck.log 2>&1 & "
                           f"echo $! > /tmp/memcheck.pid); echo mc-started", "starting memcheck")
    assert "mc-started" in out, out


def memcheck_state(child, vm, what):
    """shyper-memcheck's last line and whether it and the shell counter
    still run: (pages checked, alive, counter alive, the lines)."""
    out = guest(child, vm, "echo mc=$(tail -n 1 /tmp/memcheck.log | tr -d \"\\n\") "
                           "alive=$(kill -0 $(cat /tmp/memcheck.pid) && echo y) "
                           "counter=$(kill -0 $(cat /tmp/counter.pid) && echo y)", what)
    m = re.search(r"^mc=(.*) alive=(y?) counter=(y?)$", out, re.M)
    assert m, f"{what}: no answer from the guest:\n{out}"
    assert "BAD" not in m.group(1), f"{what}: a write of the guest was lost, or its registers " \
                                      f"changed under it:\n{m.group(1)}"
    n = re.match(r"memcheck: (\d+) pages checked, 0 bad", m.group(1))
    return (int(n.group(1)) if n else 0), m.group(2) == "y", m.group(3) == "y", out


def memcheck_past(child, vm, checked, what):
    """Waits until the checker went past `checked` pages (every page checked
    again many times over); the count."""
    for _ in range(60):
        n, alive, counting, out = memcheck_state(child, vm, what)
        if not (alive and counting):
            # The guest kernel's account of the fault (show_unhandled_signals).
            log = guest(child, vm, "dmesg | tail -n 60", f"{what}: the guest's kernel log")
            pytest.fail(f"{what}: a process died:\n{out}\nguest dmesg:\n{log}")
        if n > checked:
            return n
        time.sleep(1)
    pytest.fail(f"{what}: the checker made no progress past {checked} pages")


@pytest.mark.parametrize("gic", [2])
def test_guest_memory_survives_migrations_back_and_forth(qemu, tmp_path, gic):
    """A guest that rewrites 16 MiB page by page, checking each page still
    holds what it last wrote there (mvm/tools/memcheck.c), and a shell
    counter beside it, moves A -> B -> A (MIGRATE_ROUND_TRIPS, default 1; GICv2,
    where a CI run once saw a migrated process die; the main test runs the
    checker on both GICs):
    after every move both run on, and no page came back older (a write lost
    by the dirty log, the final copy or the pause shows as a bad page)."""
    trips = int(os.environ.get("MIGRATE_ROUND_TRIPS", "1"))
    extra = os.environ.get("MIGRATE_EXTRA", "")  # e.g. --no-auto-converge
    a, b = boot_boards(qemu, tmp_path, gic)
    boards = {"a": a, "b": b}
    start_daemon(a)
    start_daemon(b)
    vm = boot_guest(a)
    start_memcheck(a, vm, 16)
    guest(a, vm, "(i=0; while true; do i=$((i+1)); echo $i > /tmp/count; done) "
                 "</dev/null >/dev/null 2>&1 & echo $! > /tmp/counter.pid; echo started",
          "starting the counter")
    # A process killed by a signal it did not ask for leaves its registers in
    # the kernel log (dmesg, shown if one dies).
    guest(a, vm, "echo 1 > /proc/sys/kernel/print-fatal-signals; echo ok", "print-fatal-signals")
    where, checked = "a", 0
    for move in range(2 * trips):
        child = boards[where]
        checked = memcheck_past(child, vm, checked, f"before move {move + 1}")
        dest = "b" if where == "a" else "a"
        rc, out = migrate(child, vm, ADDR[dest], extra)
        m = re.search(rf"^VM {vm} is now VM (\d+) on", out, re.M)
        assert rc == 0 and m, f"move {move + 1} failed:\n{out}\n" \
                              f"daemon there:\n{daemon_log(boards[dest])}"
        vm, where = int(m.group(1)), dest
    checked = memcheck_past(boards[where], vm, checked, "after the last move")
    print(f"\nGICv{gic}: {2 * trips} moves, {checked} pages checked by the end")
