"""Hypervisor live update (`shyper system update`): the running cshyper
image is replaced while the MVM and guests run. The two images differ in
their state layout (cshyper.bin writes layout 4, cshyper-s1.bin layout 1,
built with -DHV_STATE_VERSION=1: each switch converts through layouts 2 and 3) and
in one hypercall the newer adds
(SHYPER_VMM_UPTIME, shown by `shyper vm info` as "uptime:"): each switch is
visible, and no guest notices more than a pause. Bad images are refused
before anything stops; an image that fails its self-check is rolled back."""
import io
import re
import shutil
import time

import pytest

from conftest import (HV_IMAGE, IMAGES, INITRD, PROMPT, READY, expect,
                      mvm_devices, require_images, sh)
from test_guests import GUESTS, configure, free_memory, vm_list
from test_vm_migrate import (boot_guest, check_disk, serve_on_switch,
                             start_disk_workload, start_workload)
from test_vm_snapshot import counter_at_least, guest, guest_value

HV = "/mnt/hv"
IMAGE = {"0.2.0": f"{HV}/cshyper.bin", "0.2.0-s1": f"{HV}/cshyper-s1.bin"}
LAYOUT = 4  # the state layout cshyper.bin writes (core/state_version.h)


class Tee:
    """The console as the test log gets it, and kept for reading back."""

    def __init__(self, log):
        self.log, self.text = log, io.StringIO()

    def write(self, s):
        self.text.write(s)
        return self.log.write(s)

    def flush(self):
        self.log.flush()

    def close(self):
        self.log.close()


def boot(qemu, tmp_path, gic=3, append=None):
    require_images()
    disk = tmp_path / "mvm-disk.img"
    shutil.copy(f"{IMAGES}/mvm-disk.img", disk)
    child = qemu(HV_IMAGE, gic=gic, smp=4, mem="1G", initrd=INITRD, timeout=30,
                 append=append, extra=mvm_devices(disk))
    expect(child, r"/dev/vda mounted on /mnt", "the MVM mounting its disk", timeout=120)
    expect(child, re.escape(READY), "the MVM's initramfs", timeout=60)
    expect(child, PROMPT, "the MVM shell prompt")
    return child


def info(child):
    """(image version, state layout, live updates, free MiB, heap KiB)."""
    rc, out = sh(child, "shyper system info")
    assert rc == 0, out
    m = re.search(r"^hypervisor image: (\S+), state layout (\d+), (\d+) live updates? since boot$",
                  out, re.M)
    free = re.search(r"^memory free: (\d+) MiB$", out, re.M)
    heap = re.search(r"^hypervisor heap free: (\d+) KiB$", out, re.M)
    assert m and free and heap, out
    return m.group(1), int(m.group(2)), int(m.group(3)), int(free.group(1)), int(heap.group(1))


def update(child, image, timeout=120):
    """Switches to image; the CLI's output. Fails unless it ran and passed."""
    rc, out = sh(child, f"shyper system update {image}", timeout=timeout)
    assert rc == 0, f"update to {image} failed:\n{out}"
    assert re.search(r"^checking: arm64 image \S+, board qemu-virt, ABI 1, state v\d -> v\d, "
                     r"sha256 ok$", out, re.M), out
    m = re.search(r"^updating: (\d+) cores paused ([\d.]+) ms$", out, re.M)
    assert m and int(m.group(1)) == 4, out
    assert re.search(r"^cshyper (\S+) running; (\d+) VMs kept \((.*)\)$", out, re.M), out
    return out, float(m.group(2))


def has_uptime(child, vm):
    """The VM's uptime as `shyper vm info` shows it, None when it shows none.
    Whether the line is there is grep's verdict in the MVM; the value is read
    again when a guest's console line split it on its way to the test."""
    for _ in range(5):
        rc, out = sh(child, f"if shyper vm info {vm} >/tmp/vminfo; then grep '^uptime: ' "
                            "/tmp/vminfo; else cat /tmp/vminfo; (exit 3); fi")
        if rc == 1:
            return None
        assert rc == 0, out
        m = re.search(r"uptime: ([\d.]+) s", out)
        if m:
            return float(m.group(1))
    raise AssertionError(f"`shyper vm info {vm}` has an uptime line the console kept splitting")


def refused(child, image, pattern, what):
    rc, out = sh(child, f"shyper system update {image}", timeout=120)
    assert rc != 0, f"{what}: the update was not refused:\n{out}"
    assert re.search(pattern, out), f"{what}: expected {pattern!r}:\n{out}"
    return out


def test_update_keeps_every_vm_running(qemu, tmp_path):
    """MVM, a Linux guest (mediated disk written, a counter, a TCP fetch
    loop over the switch) and the real-time guest through v3 -> v1 -> v3."""
    child = boot(qemu, tmp_path)
    seen = Tee(child.logfile_read)
    child.logfile_read = seen
    version, layout, updates, _, _ = info(child)
    assert (version, layout, updates) == ("0.2.0", LAYOUT, 0)

    rc, out = sh(child, "dd if=/dev/zero of=/tmp/vm.img bs=1M count=64 2>/dev/null && "
                        "echo '{\"mediated\": [\"/tmp/vm.img\"]}' > /tmp/med.json && "
                        "(shyper system daemon /tmp/med.json >/tmp/daemon.log 2>&1 &) && sleep 1",
                 timeout=60)
    assert rc == 0, out
    vm = boot_guest(child, "linux-migrate.json")
    pid, md5 = start_workload(child, vm)
    start_disk_workload(child, vm)
    # A 256 KiB file fetched again and again from the MVM over the switch,
    # each copy checked, until told to stop.
    big = serve_on_switch(child, "big")
    guest(child, vm, "(n=0; while [ ! -e /tmp/fstop ]; do n=$((n+1)); "
                     "wget -q -O /tmp/big http://192.168.77.1:8080/big && "
                     "echo $n $(md5sum /tmp/big | cut -c1-32) >> /tmp/fetch.log; done; "
                     "touch /tmp/fdone) </dev/null >/dev/null 2>&1 & echo fetching",
          "starting the fetch loop")
    # The real-time guest on core 3: a timer shot every 50 us, a line per
    # 200 ms window with the worst latency in it.
    rt = configure(child, f"{GUESTS}/rt-latency-loop.json")
    rc, out = sh(child, f"shyper vm boot {rt}")
    assert rc == 0, out
    expect(child, rf"\[vm{rt}\] rt-latency: window 3 ", "the RT guest's windows", timeout=60)
    uptime0 = has_uptime(child, vm)
    assert uptime0 is not None, "layouts from 2 on report a VM's uptime"
    fetched = guest_value(child, vm, "fetches", "wc -l < /tmp/fetch.log", "the first fetches")

    out, pause = update(child, IMAGE["0.2.0-s1"])
    assert f"state v{LAYOUT} -> v1" in out, out
    assert "cshyper 0.2.0-s1 running; 3 VMs kept (mvm, linux-migrate, rt-latency-loop)" in out, out
    assert info(child)[:3] == ("0.2.0-s1", 1, 1)
    assert has_uptime(child, vm) is None, "layout 1 has no SHYPER_VMM_UPTIME"
    out = guest(child, vm, f"kill -0 {pid} && echo alive-{pid}", "the counter after the update")
    assert f"alive-{pid}" in out, out

    out, pause2 = update(child, IMAGE["0.2.0"])
    assert f"state v1 -> v{LAYOUT}" in out, out
    assert info(child)[:3] == ("0.2.0", LAYOUT, 2)
    up = has_uptime(child, vm)
    assert up is not None and up >= uptime0, f"uptime after the way back: {up} (was {uptime0})"
    # Three windows after the switches, then the 20 kHz guest stops: on a
    # busy host its lines and interrupts would starve the checks below.
    expect(child, rf"\[vm{rt}\] rt-latency: window \d+ ", "an RT window after the updates",
           timeout=60)
    expect(child, rf"\[vm{rt}\] rt-latency: window \d+ ", "an RT window after the updates")
    expect(child, rf"\[vm{rt}\] rt-latency: window \d+ ", "an RT window after the updates")
    child.sendline(f"shyper vm shutdown {rt} >/dev/null")
    expect(child, rf"vm{rt} \(rt-latency-loop\) shut down", "the RT guest's shutdown", timeout=60)
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")

    # Nothing restarted: same processes, counting on; the fetches went on
    # through both updates, every copy intact; the disk holds what it wrote.
    after = guest_value(child, vm, "count", "cat /tmp/count", "the count after the updates")
    counter_at_least(child, vm, after + 50, "the counter counting on")
    out = guest(child, vm, f"kill -0 {pid} && echo alive-{pid}; "
                           "echo md5=$(md5sum /tmp/blob | cut -c1-32) saved=$(cat /tmp/blob.md5)",
                "the guest after the updates", quiet=15, timeout=120)
    assert f"alive-{pid}" in out and f"md5={md5} saved={md5}" in out, out
    out = guest(child, vm, "touch /tmp/fstop; for i in $(seq 60); do [ -e /tmp/fdone ] && break; "
                           "sleep 1; done; cat /tmp/fetch.log", "the fetch log", quiet=15,
                timeout=180)
    rows = re.findall(r"^(\d+) ([0-9a-f]{32})$", out, re.M)
    assert len(rows) > fetched + 1, f"the fetch loop stopped during the updates:\n{out}"
    assert all(h == big for _, h in rows), f"a fetched copy differs from {big}:\n{out}"
    check_disk(child, vm, "the guest's disk after the updates")
    log = seen.text.getvalue()
    assert len(re.findall(rf"vm{vm} \(linux-migrate\) started", log)) == 1, \
        "the guest was started again"
    # The RT guest measured on through both switches, no shot lost.
    wins = [(int(k), int(m), int(ns)) for k, m, ns in re.findall(
        rf"\[vm{rt}\] rt-latency: window (\d+) n=\d+ missed=(\d+) max=\d+ ticks max=(\d+) ns",
        log)]
    start = log.index(f"state v{LAYOUT} -> v1")
    after = [w for w in wins if log.index(f"window {w[0]} ") > start] if wins else []
    assert len(after) >= 3, f"the RT guest stopped reporting after the updates:\n{log[-3000:]}"
    assert all(m == 0 for _, m, _ in wins), f"RT timer shots were missed: {wins}"
    worst = max(ns for _, _, ns in wins) / 1000
    assert vm_list(child)[vm]["state"] == "running"
    print(f"\npauses: {pause:.3f} ms (v{LAYOUT} -> v1), {pause2:.3f} ms (v1 -> v{LAYOUT}); "
          f"{len(rows)} fetches of 256 KiB intact; RT guest: {len(wins)} windows, "
          f"worst timer latency {worst:.0f} us (wall-clock QEMU: `make bench` has the "
          f"icount figure)")


def test_twenty_updates_back_and_forth_leak_nothing(qemu, tmp_path):
    """v3 -> v1 -> v3 ... twenty times in one boot, a guest running: free
    memory and the hypervisor's heap are back to their values each time."""
    child = boot(qemu, tmp_path)
    vm = configure(child, f"{GUESTS}/linux-core1.json")
    child.sendline(f"shyper vm boot {vm} >/dev/null; sleep 1")
    expect(child, rf"\[vm{vm}\] cshyper-initramfs: ready", "the guest's init", timeout=120)
    expect(child, rf"\[vm{vm}\] Enter 'help'", "the guest's shell")
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    _, _, _, free0, heap0 = info(child)
    pauses = []
    for n in range(1, 21):
        version = "0.2.0-s1" if n % 2 else "0.2.0"
        out, pause = update(child, IMAGE[version])
        pauses.append(pause)
        assert f"cshyper {version} running; 2 VMs kept (mvm, linux-core1)" in out, out
        got = info(child)
        assert got == (version, 1 if n % 2 else LAYOUT, n, free0, heap0), \
            f"after update {n}: {got}, expected free {free0} MiB, heap {heap0} KiB"
    assert vm_list(child)[vm]["state"] == "running"
    rc, out = sh(child, "shyper system update --status")
    assert rc == 0 and "live updates: 20, rollbacks: 0" in out, out
    print(f"\npauses over 20 updates: min {min(pauses):.2f} ms, max {max(pauses):.2f} ms")


# (what, how to damage a copy of cshyper-s1.bin in the MVM, expected message)
PATCH = "printf '{bytes}' | dd of=/tmp/bad.bin bs=1 seek={at} conv=notrunc 2>/dev/null"
BAD_IMAGES = [
    ("wrong magic", PATCH.format(bytes="XXXX", at=64), r"refused: not a cshyper image"),
    ("wrong architecture", PATCH.format(bytes="\\002", at=72),
     r"refused: wrong architecture: the image is for riscv64, this board is arm64"),
    ("wrong board", PATCH.format(bytes="rpi4\\000", at=120),
     r"refused: wrong board: the image is for rpi4, this board is qemu-virt"),
    ("incompatible ABI", PATCH.format(bytes="\\011", at=76),
     r"refused: incompatible ABI: the image speaks ABI 9"),
    ("a state layout it cannot import", PATCH.format(bytes="\\007\\000\\000\\000\\007", at=80),
     r"refused: incompatible state: the image imports layouts 7\.\.7"),
    ("bad digest", PATCH.format(bytes="Z", at=4096), r"refused: bad digest"),
    ("truncated", "head -c 100000 /mnt/hv/cshyper-s1.bin > /tmp/bad.bin",
     r"refused: truncated: the image says \d+ bytes, 100000 arrived"),
    ("trailing bytes", "echo junk >> /tmp/bad.bin", r"refused: 5 bytes after the end of the image"),
    ("needs more than a slot", PATCH.format(bytes="\\000\\000\\100", at=96),
     r"refused: too big: the image needs 4096 KiB, a slot holds 2048 KiB"),
    ("too big a file", "dd if=/dev/zero of=/tmp/bad.bin bs=1M count=3 2>/dev/null",
     r"too big: 3072 KiB, an image slot holds 2048 KiB"),
]


@pytest.mark.parametrize("gic", [2, 3])
def test_bad_images_are_refused(qemu, tmp_path, gic):
    """Each damage has its own message; the running image goes on."""
    child = boot(qemu, tmp_path, gic)
    before = info(child)
    for what, damage, pattern in BAD_IMAGES:
        rc, out = sh(child, f"cp {HV}/cshyper-s1.bin /tmp/bad.bin && {damage}")
        assert rc == 0, f"{what}: {out}"
        refused(child, "/tmp/bad.bin", pattern, what)
        assert info(child) == before, f"{what}: the running hypervisor changed"
    # One update at a time: an upload held open by another process.
    rc, out = sh(child, "(SHYPER_HVC_HOLD=5 shyper-hvc 0xc6000600 4096 > /tmp/hold.log &) ; "
                        "sleep 1; cat /tmp/hold.log")
    assert "x0=0 " in out, out
    refused(child, IMAGE["0.2.0-s1"], r"EALREADY.*an update is already in progress",
            "a second update")
    # Once its owner goes away, shyper.ko cancels that upload.
    sh(child, "sleep 5")
    out, _ = update(child, IMAGE["0.2.0-s1"])
    assert info(child)[:3] == ("0.2.0-s1", 1, 1)


# The two images built to fail their self-check, and what each must be told.
FAULTS = {
    "fault": r"core\(s\) 0x8 did not come back in 0\.2\.0-fault",
    "fault-run": r"self-check: a vCPU did not run again \(mask 0x100\)",
}


@pytest.mark.parametrize("gic,fault", [(2, "fault"), (3, "fault-run")])
def test_failing_image_is_rolled_back(qemu, tmp_path, gic, fault):
    """cshyper-fault.bin leaves core 3 parked (caught during the switch);
    cshyper-fault-run.bin brings core 1 back but never resumes the guest
    there (caught when its probation ends). Either way the previous image
    takes over again and the guest goes on. `--rollback` then returns to
    the previous image on request."""
    child = boot(qemu, tmp_path, gic)
    vm = boot_guest(child, "linux-console-a.json")  # on core 1
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    guest(child, vm, "(i=0; while true; do i=$((i+1)); echo $i > /tmp/count; done) "
                     "</dev/null >/dev/null 2>&1 & echo started", "starting the counter")
    before = counter_at_least(child, vm, 20, "the counter before the update")
    rc, out = sh(child, f"shyper system update {HV}/cshyper-{fault}.bin", timeout=120)
    assert rc != 0, out
    assert re.search(r"the new image failed its self-check: " + FAULTS[fault], out), out
    assert re.search(r"rolled back: cshyper 0\.2\.0 running; 2 VMs kept", out), out
    assert info(child)[:2] == ("0.2.0", LAYOUT)
    counter_at_least(child, vm, before + 50, "the counter after the rollback")
    rc, out = sh(child, "shyper system update --status")
    assert rc == 0 and "rollbacks: 1" in out and "rolled back: " in out, out
    assert "previous image: none kept" in out, out
    # The failed image is not one to go back to.
    rc, out = sh(child, "shyper system update --rollback")
    assert rc != 0 and "no previous image kept" in out, out

    # A healthy update, then back on request.
    update(child, IMAGE["0.2.0-s1"])
    rc, out = sh(child, "shyper system update --rollback", timeout=120)
    assert rc == 0 and "cshyper 0.2.0 running; 2 VMs kept" in out, out
    assert info(child)[:2] == ("0.2.0", LAYOUT)
    after = guest_value(child, vm, "count", "cat /tmp/count", "the count at the end")
    counter_at_least(child, vm, after + 50, "the counter after --rollback")


def test_update_led_from_the_mvms_second_core(qemu, tmp_path):
    """With two MVM vCPUs (cores 0 and 1), the core that asks leads the
    switch, whichever it is; both vCPUs run on afterwards."""
    child = boot(qemu, tmp_path, gic=2, append="mvm.vcpus=2")
    for cpu, version in ((1, "0.2.0-s1"), (0, "0.2.0"), (1, "0.2.0-s1")):
        rc, out = sh(child, f"taskset -c {cpu} shyper system update {IMAGE[version]}",
                     timeout=120)
        assert rc == 0 and f"cshyper {version} running; 1 VMs kept (mvm)" in out, out
        assert info(child)[0] == version
    for cpu in (0, 1):
        rc, out = sh(child, f"taskset -c {cpu} awk '{{print $39}}' /proc/self/stat")
        assert rc == 0 and out.strip() == str(cpu), f"vCPU {cpu} after the updates: {out}"
