"""Hostile guests (guests/baremetal/hostile.c): a two-vCPU guest on cores 1
and 2 runs one attack after the other (SYSTEM_RESET loops, wild PSCI, SGI
floods, WFI/WFE storms, every width and alignment of the emulated
registers, every unassigned page of the first 4 GiB, timer storms,
interrupts never acknowledged, and last a runaway vCPU that aborts for ever
beside one spinning with everything masked). Meanwhile the other VMs keep
their service: on GICv3 the real-time guest (rt-latency-loop, core 3) takes
every timer shot in every 200 ms window and its worst latency per attack is
reported; the MVM's own ticker advances. The hostile guest is then removed
while it runs away, and the board is back at its baseline.

HOSTILE_MS (400 unless given) sets each attack's length."""
import os
import re

from conftest import PROMPT, expect, sh
from test_guests import GUESTS, boot_mvm_with_disk, configure, vm_list

import pytest

ATTACKS = ["reset", "spin", "psci", "sgi", "wfx", "mmio", "unaligned", "unassigned", "timer", "noack"]
MS = int(os.environ.get("HOSTILE_MS", "400"))
REPORT = os.path.join(os.path.dirname(__file__), "..", "..", "build", "test-logs")


def baseline(child):
    """What a removed guest must give back: free memory and heap, cores,
    interrupts (`shyper system info` without its clock)."""
    rc, out = sh(child, "shyper system info")
    assert rc == 0, out
    return [l for l in out.splitlines() if not re.search(r"uptime|time|ticks", l)]


def hostile_config(child, resets=3):
    """hostile.json with this run's attack length on its command line."""
    sh(child, f"sed 's/ms=[0-9]*/ms={MS}/; s/resets=[0-9]*/resets={resets}/' "
              f"{GUESTS}/hostile.json > {GUESTS}/hostile-run.json")
    return configure(child, f"{GUESTS}/hostile-run.json")


def attack_windows(log, vm, rt):
    """For each attack, the RT guest's windows that ended between its begin
    and end lines: [(n, missed, max_ns)]."""
    current, out = None, {}
    for line in log.splitlines():
        if m := re.search(rf"\[vm{vm}\] hostile: (\w+) begin", line):
            current = m[1]
            out.setdefault(current, [])
        elif re.search(rf"\[vm{vm}\] hostile: \w+ end ", line):
            current = None
        elif rt is not None and current and (
                m := re.search(rf"\[vm{rt}\] rt-latency: window \d+ n=(\d+) missed=(\d+) "
                               rf"max=\d+ ticks max=(\d+) ns", line)):
            out[current].append(tuple(int(x) for x in m.groups()))
    return out


@pytest.mark.parametrize("gic", [3, 2])
def test_hostile_guest_leaves_the_others_their_service(qemu, tmp_path, gic):
    child = boot_mvm_with_disk(qemu, tmp_path, gic=gic)
    sh(child, "dmesg -n 1")
    before = baseline(child)
    # The MVM's ticker: a line in a file every 200 ms of its own time.
    sh(child, "(i=0; while :; do i=$((i+1)); echo $i > /tmp/tick; usleep 200000; done &)")
    rt = None
    if gic == 3:  # rt-latency needs a GICv3
        rt = configure(child, f"{GUESTS}/rt-latency-loop.json")
        child.sendline(f"shyper vm boot {rt} >/dev/null")
        expect(child, rf"\[vm{rt}\] rt-latency: window 2 ", "the RT guest's windows",
               timeout=60)
    vm = hostile_config(child)
    _, t0 = sh(child, "cat /tmp/tick")
    child.sendline(f"shyper vm boot {vm} >/dev/null")
    expect(child, rf"\[vm{vm}\] hostile: runaway running", "the last attack",
           timeout=60 + MS * 30 // 1000)
    log = child.before.replace("\r", "")
    # A few RT windows more while the guest runs away.
    runaway = ""
    if rt is not None:
        for _ in range(3):
            expect(child, rf"\[vm{rt}\] rt-latency: window \d+ [^\r\n]*",
                   "an RT window while hostile runs away")
            runaway += child.before + child.after
    child.sendline("")
    expect(child, PROMPT, "the MVM prompt")

    ends = dict(re.findall(rf"\[vm{vm}\] hostile: (\w+) end (ok|FAILED[^\n]*)", log))
    for attack in ATTACKS:
        assert ends.get(attack) == "ok", f"{attack}: {ends.get(attack)}\n{log}"
    assert re.search(rf"\[vm{vm}\] hostile: 0 attacks failed", log), log
    assert len(re.findall(rf"vm{vm} \(hostile\): PSCI SYSTEM_RESET", log)) == 3, log
    # Every page of the first 4 GiB that is not its own aborted.
    m = re.search(rf"\[vm{vm}\] hostile: unassigned end ok pages=(\d+) of (\d+) ", log)
    assert m and m[1] == m[2], log
    assert "PANIC" not in log and "unexpected exception" not in log, log

    # The RT guest took its shots in every window that ended during each
    # attack; its worst latency per attack goes to the report.
    windows = attack_windows(log + runaway.replace("\r", ""), vm, rt)
    lines = []
    for attack in ATTACKS + ["runaway"]:
        w = windows.get(attack, [])
        if rt is not None:
            assert all(n > 0 for n, _, _ in w), (attack, w)
        if w:
            lines.append(f"{attack}: {len(w)} windows, shots {sum(n for n, _, _ in w)}, "
                         f"missed {sum(m for _, m, _ in w)}, worst {max(x for _, _, x in w)} ns")
    os.makedirs(REPORT, exist_ok=True)
    with open(os.path.join(REPORT, f"hostile-gicv{gic}.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    # Nothing of the attacks reached core 3: the RT vCPU, alone on it, was
    # never switched (0 switches in after its start) and took no exit but
    # its own (timer interrupts, its console lines, its trapped PMU reads):
    # no abort, no WFx, nothing else.
    if rt is not None:
        rc, info = sh(child, f"shyper vm info {rt}")
        m = re.search(r"vcpu0: core 3, \w+, run \d+ ms, switched in (\d+) times, "
                      r"exits (\d+) \(hvc (\d+), smc (\d+), mmio (\d+), sysreg (\d+), "
                      r"wfx (\d+), irq (\d+), abort (\d+), other (\d+)\)", info)
        assert rc == 0 and m, info
        switched, _, _, _, _, _, wfx, irq, abort, other = map(int, m.groups())
        assert switched == 0 and wfx == abort == other == 0 and irq > 0, info

    # The MVM's ticker went on, and the MVM answers while the guest runs away.
    rc, t1 = sh(child, "cat /tmp/tick")
    assert rc == 0 and int(t1) > int(t0), (t0, t1)
    assert vm_list(child)[vm]["state"] == "running"

    # Removed while it runs away: everything back as it was.
    rc, out = sh(child, f"shyper vm shutdown {vm} && shyper vm remove {vm}", timeout=60)
    assert rc == 0, out
    if rt is not None:
        rc, out = sh(child, f"shyper vm shutdown {rt} && shyper vm remove {rt}", timeout=60)
        assert rc == 0, out
    assert set(vm_list(child)) == {0}
    assert baseline(child) == before
