"""Guest VMs from the management VM, as a user runs them: `shyper vm config`
with a Rust-Shyper JSON file from the MVM's disk, then boot, list, reboot,
shutdown and remove, two Linux guests at once, and bad input refused with
one clear line while everything else keeps running."""
import re
import shutil

import pexpect
import pytest

from conftest import (HV_IMAGE, IMAGES, INITRD, PROMPT, READY, expect,
                      mvm_devices, require_images, sh)

GUESTS = "/mnt/guests"


def boot_mvm_with_disk(qemu, tmp_path, gic=3, mem="1G"):
    require_images()
    disk = tmp_path / "mvm-disk.img"
    shutil.copy(f"{IMAGES}/mvm-disk.img", disk)
    child = qemu(HV_IMAGE, gic=gic, smp=4, mem=mem, initrd=INITRD, timeout=30,
                 extra=mvm_devices(disk))
    expect(child, r"/dev/vda mounted on /mnt", "the MVM mounting its disk", timeout=90)
    expect(child, re.escape(READY), "the MVM's initramfs")
    expect(child, PROMPT, "the MVM shell prompt")
    return child


def configure(child, config):
    rc, out = sh(child, f"shyper vm config {config}", timeout=90)
    m = re.search(r"^VM (\d+) configured$", out, re.M)
    assert rc == 0 and m, f"vm config {config}: rc={rc}\n{out}"
    return int(m.group(1))


def vm_list(child):
    rc, out = sh(child, "shyper vm list")
    assert rc == 0, out
    rows = {}
    for m in re.finditer(r"^(\d+)\s+(\S+)\s+(linux|bare-metal)\s+(\w+)\s+(\S+)\s+\d+ MiB$",
                         out, re.M):
        rows[int(m.group(1))] = {"name": m.group(2), "type": m.group(3),
                                 "state": m.group(4), "cores": m.group(5)}
    return rows


def wait_guest_shell(child, vm, what):
    """The guest's /init marker, then the end of its shell banner, so that its
    console output does not run into the MVM's next command."""
    expect(child, re.escape(f"[vm{vm}] {READY}"), what, timeout=90)
    expect(child, re.escape(f"[vm{vm}] Enter 'help'"), what)


def free_memory(child):
    rc, out = sh(child, "shyper system info")
    assert rc == 0, out
    return int(re.search(r"memory free: (\d+) MiB", out).group(1))


def run_probe(child, vm, what):
    """Boots hvc-probe and waits for its verdict and its SYSTEM_OFF. Guest
    output shares the board UART with the MVM's shell, characters of both can
    mix, so the MVM stays silent (sleep) while the probe (well under a second)
    runs, and the probe's result is read from its own lines."""
    child.sendline(f"shyper vm boot {vm} >/dev/null && sleep 2")
    expect(child, rf"\[vm{vm}\] hvc-probe: (\d+) passed, (\d+) failed", what, timeout=60)
    passed, failed = (int(x) for x in child.match.groups())
    log = child.before
    expect(child, rf"vm{vm} \(hvc-probe\): PSCI SYSTEM_OFF", f"{what}: SYSTEM_OFF")
    child.sendline("")
    expect(child, PROMPT, f"{what}: the MVM prompt")
    assert vm_list(child)[vm]["state"] == "stopped"
    return passed, failed, log


def expect_all(child, patterns, what, timeout=120):
    """Waits until every pattern has been seen, in whatever order."""
    left = list(patterns)
    while left:
        i = expect(child, left, f"{what} (still waiting for {left})", timeout=timeout)
        left.pop(i)


def wait_tickers(child, goals, what, timeout=120):
    """Reads `[vmN] cshyper-ticker: K` lines until every VM in `goals` has
    reached its count; the lines of several guests come in any order."""
    seen = {vm: 0 for vm in goals}
    while any(seen[vm] < goal for vm, goal in goals.items()):
        expect(child, r"\[vm(\d+)\] cshyper-ticker: (\d+)", what, timeout=timeout)
        vm, n = int(child.match.group(1)), int(child.match.group(2))
        if vm in seen:
            seen[vm] = max(seen[vm], n)
    return seen


def fails_with(child, cmd, pattern):
    rc, out = sh(child, cmd, timeout=60)
    assert rc != 0, f"`{cmd}` succeeded:\n{out}"
    assert re.search(pattern, out), f"`{cmd}` said:\n{out}"
    return out


@pytest.mark.parametrize("gic", [2, 3])
def test_two_linux_guests_lifecycle(qemu, tmp_path, gic):
    child = boot_mvm_with_disk(qemu, tmp_path, gic)
    # The daemon prints every VM state change the hypervisor signals
    # (notification interrupt -> shyper.ko -> read()).
    sh(child, "(shyper system daemon > /tmp/events 2>&1 &)")
    a = configure(child, f"{GUESTS}/linux-core1.json")
    b = configure(child, f"{GUESTS}/linux-cores23.json")
    assert vm_list(child)[a]["state"] == "ready"

    # Each guest's /init prints its marker on its own console, prefixed by
    # the VM; the two guests' lines come in any order.
    child.sendline(f"shyper vm boot {a} && shyper vm boot {b} && echo booted-both")
    expect_all(child, [re.escape(f"[vm{vm}] {m}") for vm in (a, b)
                       for m in (READY, "Enter 'help'")] + ["booted-both"],
               "both guests reaching their shells")
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    rows = vm_list(child)
    assert rows[a] == {"name": "linux-core1", "type": "linux", "state": "running", "cores": "1"}
    assert rows[b] == {"name": "linux-cores23", "type": "linux", "state": "running", "cores": "2-3"}

    fails_with(child, f"shyper vm boot {a}", r"EBUSY")
    fails_with(child, f"shyper vm remove {a}", r"EBUSY")

    child.sendline(f"shyper vm reboot {a} >/dev/null")
    wait_guest_shell(child, a, "guest a after its reboot")
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")

    for vm in (a, b):
        rc, out = sh(child, f"shyper vm shutdown {vm}")
        assert rc == 0, out
        assert vm_list(child)[vm]["state"] == "stopped"
    # A stopped guest boots again from its pristine images.
    child.sendline(f"shyper vm boot {b} >/dev/null")
    wait_guest_shell(child, b, "guest b booted again")
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    sh(child, f"shyper vm shutdown {b}")
    for vm in (a, b):
        rc, out = sh(child, f"shyper vm remove {vm}")
        assert rc == 0, out
    assert set(vm_list(child)) == {0}
    rc, out = sh(child, "shyper system info")
    assert "core 1: free" in out and "core 2: free" in out and "core 3: free" in out, out
    rc, events = sh(child, "cat /tmp/events")
    seen = [l for l in events.splitlines() if re.match(r"vm\d+: ", l)]
    assert seen[:4] == [f"vm{a}: ready", f"vm{b}: ready", f"vm{a}: running", f"vm{b}: running"], events
    assert seen[-2:] == [f"vm{a}: removed", f"vm{b}: removed"], events
    assert f"vm{a}: stopped" in seen and seen.count(f"vm{b}: running") == 2, events
    child.sendline("poweroff")
    child.expect(pexpect.EOF, timeout=20)


def test_guest_cannot_use_the_management_interface(qemu, tmp_path):
    """hvc-probe, a bare-metal guest, calls every MVM-only hypercall with
    garbage and valid arguments, reaches outside its memory, and reports."""
    child = boot_mvm_with_disk(qemu, tmp_path)
    vm = configure(child, f"{GUESTS}/hvc-probe.json")
    passed, failed, log = run_probe(child, vm, "the probe")
    assert f"hvc-probe: running as VM {vm}" in log, log
    assert failed == 0 and passed >= 90, log
    for call in ("UPD_BEGIN(4 KiB)", "UPD_APPLY(garbage)", "UPD_ROLLBACK(0)",
                 "MIG_MEM_WRITE(id=0)", "MIG_PAUSE(id=self)", "MED_FETCH(own buffer)",
                 "IVC_ADD_CHANNEL(id=self)", "VMM_UPTIME(id=self)"):
        assert f"hvc-probe: {call}: ok" in log, f"{call} not refused:\n{log}"
    # The MVM and its hypervisor are untouched.
    rc, out = sh(child, "echo ok && shyper vm list")
    assert rc == 0 and "mvm" in out


def test_create_boot_remove_cycles_leak_nothing(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    before = free_memory(child)
    for cycle in range(20):
        vm = configure(child, f"{GUESTS}/hvc-probe.json")
        assert free_memory(child) < before
        passed, failed, log = run_probe(child, vm, f"cycle {cycle}")
        assert failed == 0, log
        rc, out = sh(child, f"shyper vm remove {vm}")
        assert rc == 0, out
    assert free_memory(child) == before


def test_bad_configurations_are_refused(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    before = free_memory(child)
    base = f"{GUESTS}/linux-core1.json"

    def variant(name, sed):
        sh(child, f"sed {sed} {base} > {GUESTS}/{name}.json")
        return f"{GUESTS}/{name}.json"

    fails_with(child, "shyper vm config /mnt/guests/nope.json", r"nope\.json: No such file")
    sh(child, f"echo '{{\"name\": ' > {GUESTS}/broken.json")
    fails_with(child, f"shyper vm config {GUESTS}/broken.json", r"broken\.json.*line")
    fails_with(child, "shyper vm config " + variant("unknown", "'s/\"cmdline\"/\"cmdlien\"/'"),
               r"cmdlien")
    fails_with(child, "shyper vm config " + variant("misaligned", "'s/\"0x8000000\" }/\"0x8000123\" }/'"),
               r"memory\.region\[0\]\.length")
    fails_with(child, "shyper vm config " + variant("core0", "'s/\"0b0010\"/\"0b0001\"/;s/\"master\": 1/\"master\": 0/'"),
               r"core 0|EBUSY")
    fails_with(child, "shyper vm config " + variant("toomany", "'s/\"num\": 1/\"num\": 3/'"),
               r"cpu")
    fails_with(child, "shyper vm config " + variant("nokernel", "'s/\"Image\"/\"Missing\"/'"),
               r"Missing")
    fails_with(child, "shyper vm config " + variant("small", "'s/\"0x8000000\" }/\"0x1000000\" }/'"),
               r"kernel|ramdisk|fit|region")
    # A Linux guest's core cannot also go to a real-time (bare-metal) one.
    vm = configure(child, base)
    sh(child, f"sed 's/\"0b1000\"/\"0b0010\"/;s/\"master\": 3/\"master\": 1/' "
              f"{GUESTS}/hvc-probe.json > {GUESTS}/rt-core1.json")
    fails_with(child, f"shyper vm config {GUESTS}/rt-core1.json", r"EBUSY")
    # Passthrough of RAM or of the hypervisor's interrupt controller.
    pt = "'s/\"passthrough_device_list\": \\[\\]/\"passthrough_device_list\": [{\"name\": \"x\", \"base_pa\": \"PA\", \"base_ipa\": \"0x10000000\", \"length\": \"0x1000\", \"irq_num\": 0, \"irq_list\": []}]/'"
    sh(child, f"shyper vm remove {vm}")
    for pa in ("0x50000000", "0x8000000", "0x80a0000"):
        fails_with(child, "shyper vm config " + variant("pt", pt.replace("PA", pa)), r"EPERM")
    assert set(vm_list(child)) == {0}
    assert free_memory(child) == before


def test_rust_shyper_template_is_accepted(qemu, tmp_path):
    """The README's template, with file names filled in and the virtio
    devices left out, on the GICv2 board it was written for (1 GiB guest)."""
    child = boot_mvm_with_disk(qemu, tmp_path, gic=2, mem="2G")
    vm = configure(child, f"{GUESTS}/rust-shyper-template.json")
    rows = vm_list(child)
    assert rows[vm] == {"name": "guest-os-1", "type": "linux", "state": "ready", "cores": "2"}
    rc, out = sh(child, f"shyper vm info {vm}")
    assert rc == 0 and re.search(r"1024 MiB", out), out
    rc, out = sh(child, f"shyper vm remove {vm}")
    assert rc == 0, out


def test_guest_reset_restarts_only_that_guest(qemu, tmp_path):
    """A Linux guest that cannot find init panics and resets itself through
    PSCI SYSTEM_RESET (panic=1): the hypervisor restarts that guest from its
    images; the MVM and the other guest are untouched."""
    child = boot_mvm_with_disk(qemu, tmp_path)
    other = configure(child, f"{GUESTS}/linux-cores23.json")
    sh(child, f"sed 's|rdinit=/init|rdinit=/no-such-init panic=1|;s/linux-core1/resetter/g' "
              f"{GUESTS}/linux-core1.json > /tmp/resetter.json && cp {GUESTS}/Image "
              f"{GUESTS}/initramfs.cpio.gz /tmp/")
    vm = configure(child, "/tmp/resetter.json")
    child.sendline(f"shyper vm boot {other} >/dev/null")
    expect(child, re.escape(f"[vm{other}] {READY}"), "the other guest", timeout=90)
    child.sendline(f"shyper vm boot {vm} >/dev/null")
    for n in range(2):
        expect(child, rf"vm{vm} \(resetter\): PSCI SYSTEM_RESET", f"reset {n}", timeout=90)
        expect(child, rf"vm{vm} \(resetter\) started on cpu1", f"restart {n}", timeout=30)
    child.sendline(f"shyper vm shutdown {vm} >/dev/null; sleep 1")
    expect(child, rf"vm{vm} \(resetter\) shut down", "the resetter's shutdown", timeout=30)
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    rows = vm_list(child)
    assert rows[vm]["state"] == "stopped" and rows[other]["state"] == "running", rows


@pytest.mark.parametrize("gic", [2, 3])
def test_linux_guests_share_a_core(qemu, tmp_path, gic):
    """Two Linux guests configured on the same core take turns (round robin,
    WFI gives the core away): both keep making progress, each its own
    ticker, and stopping one leaves the other running."""
    child = boot_mvm_with_disk(qemu, tmp_path, gic)
    a = configure(child, f"{GUESTS}/linux-shared-a.json")
    b = configure(child, f"{GUESTS}/linux-shared-b.json")
    child.sendline(f"shyper vm boot {a} >/dev/null; shyper vm boot {b} >/dev/null")
    # Both keep going: each ticker moves on while the other runs too.
    try:
        wait_tickers(child, {a: 6, b: 6}, "both guests ticking", timeout=60)
    except AssertionError as e:
        # Where each vCPU stands (state, run time, exits) says why.
        child.sendline(f"shyper vm info {a}; shyper vm info {b}; sleep 2; "
                       f"shyper vm info {a}; shyper vm info {b}")
        child.expect(pexpect.TIMEOUT, timeout=10)
        raise AssertionError(f"{e}\n--- vm info ---\n{child.before}") from None
    child.sendline(f"shyper vm shutdown {a} >/dev/null")
    expect(child, rf"vm{a} \(linux-shared-a\) shut down", "shutting one down")
    expect(child, rf"\[vm{b}\] cshyper-ticker: (\d+)", "the other one after it")
    n = int(child.match.group(1))
    wait_tickers(child, {b: n + 2}, "the other one alone on the core")
    child.sendline(f"shyper vm shutdown {b} >/dev/null; sleep 1")
    expect(child, rf"vm{b} \(linux-shared-b\) shut down", "the second shutdown")
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")
    rows = vm_list(child)
    assert rows[a]["state"] == rows[b]["state"] == "stopped" and rows[a]["cores"] == "2"
    # Per-vCPU figures: both had the core for a while, were switched in, gave
    # the core away in WFI and took interrupts.
    for vm in (a, b):
        rc, out = sh(child, f"shyper vm info {vm}")
        m = re.search(r"vcpu0: core 2, off, run (\d+) ms, switched in (\d+) times, "
                      r"exits (\d+) \(hvc (\d+), smc \d+, mmio \d+, sysreg \d+, "
                      r"wfx (\d+), irq (\d+), abort 0, other \d+\)", out)
        assert rc == 0 and m, out
        run, switched, exits, hvc, wfx, irq = (int(x) for x in m.groups())
        assert run > 0 and switched > 0 and wfx > 0 and irq > 0 and hvc > 0, out
        assert exits >= wfx + irq + hvc, out


def test_bare_metal_vm_keeps_its_core(qemu, tmp_path):
    """A bare-metal (real-time) VM never shares its core, in either order."""
    child = boot_mvm_with_disk(qemu, tmp_path)
    sh(child, f"sed 's/\"0b1000\"/\"0b0100\"/;s/\"master\": 3/\"master\": 2/' "
              f"{GUESTS}/hvc-probe.json > {GUESTS}/probe-core2.json")
    rt = configure(child, f"{GUESTS}/probe-core2.json")
    fails_with(child, f"shyper vm config {GUESTS}/linux-shared-a.json", r"EBUSY")
    sh(child, f"shyper vm remove {rt}")
    linux = configure(child, f"{GUESTS}/linux-shared-a.json")
    fails_with(child, f"shyper vm config {GUESTS}/probe-core2.json", r"EBUSY")
    sh(child, f"shyper vm remove {linux}")


def test_time_slices_follow_the_configuration(qemu, tmp_path):
    """Two busy Linux guests on core 2, one with cpu.slice_us 2000, the other
    with the default 10 ms: each turn lasts its VM's slice, so the first gets
    about 2/12 of the core and the second 10/12."""
    child = boot_mvm_with_disk(qemu, tmp_path)
    sh(child, f"cd {GUESTS} && sed 's/linux-stress/stress-short/; s/\"master\": 2/\"master\": 2, "
              f"\"slice_us\": 2000/' linux-stress.json > stress-short.json && "
              f"sed 's/linux-stress/stress-long/' linux-stress.json > stress-long.json; cd /")
    short = configure(child, f"{GUESTS}/stress-short.json")
    long_ = configure(child, f"{GUESTS}/stress-long.json")
    child.sendline(f"shyper vm boot {short} >/dev/null; shyper vm boot {long_} >/dev/null")
    expect_all(child, [rf"\[vm{short}\] cshyper-stress: running",
                       rf"\[vm{long_}\] cshyper-stress: running"], "both stress guests",
               timeout=180)
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")

    def run_ms():
        runs = {}
        for vm in (short, long_):
            rc, out = sh(child, f"shyper vm info {vm}")
            m = re.search(r"vcpu0: core 2, running, run (\d+) ms", out)
            assert rc == 0 and m, out
            runs[vm] = int(m.group(1))
        return runs

    before = run_ms()
    sh(child, "sleep 8", timeout=60)
    after = run_ms()
    got = {vm: after[vm] - before[vm] for vm in before}
    share = got[short] / (got[short] + got[long_])
    assert 0.07 < share < 0.35, f"short-slice guest had {share:.2f} of the core: {got}"
    for vm in (short, long_):
        sh(child, f"shyper vm shutdown {vm}")
