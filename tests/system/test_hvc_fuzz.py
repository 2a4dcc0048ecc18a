"""Hypercall fuzzing from inside the system: hvc-fuzz, a bare-metal guest with
two vCPUs racing, issues random HVCs and SMCs (every group, unknown ids,
PSCI with wild arguments), while shyper-hvc-fuzz in the MVM makes random
calls of the MVM-only groups from four threads. A victim, the rt-latency-loop
guest, runs beside them. Afterwards: no panic, both fuzzers finished with
every call answered by a status the ABI allows, the victim kept running and
its memory outside its own data was not written, nothing leaked, and the MVM
still works.

HVC_FUZZ_SECONDS (default 15) sets how long the guest fuzzes; the MVM's
fuzzer runs 15 s longer, part of it with the guest's cores free, so that the
VMs it builds can boot. `make fuzz-long` sets it to FUZZ_SECONDS.

Then the guest powers vCPU 1 on the moment it is seen off, a thousand
times, and powers off right after a last CPU_ON: the races between a core
taking a vCPU off, a CPU_ON and the VM's stop."""
import os
import re
import struct

from conftest import BUILD, expect, sh
from test_guests import GUESTS, boot_mvm_with_disk, configure, free_memory, vm_list

SECONDS = int(os.environ.get("HVC_FUZZ_SECONDS", "15"))
MVM_SECONDS = SECONDS + 15
VICTIM_ELF = os.path.join(BUILD, "guests", "rt-latency-loop.elf")
GUEST_RAM, GUEST_RAM_SIZE = 0x80000000, 0x400000
CHUNK = 1 << 20
MIG_MEM_READ = 0xc6000505
CLASSES = ("ok", "enosys", "eperm", "einval", "efault", "other")


def busy_sh(child, cmd, timeout=60):
    """sh() with room for a shell that shares two cores with two fuzzers."""
    return sh(child, cmd, timeout=timeout)


def writable_range(elf_path):
    """[lowest, highest) address of the ELF's writable or bss sections: what
    the victim itself writes (data, bss, stacks)."""
    with open(elf_path, "rb") as f:
        elf = f.read()
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3a)
    lo, hi = None, None
    for i in range(shnum):
        _, sh_type, flags, addr, _, size = struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
        alloc, write, nobits = flags & 0x2, flags & 0x1, sh_type == 8
        if alloc and (write or nobits) and size:
            lo = addr if lo is None else min(lo, addr)
            hi = addr + size if hi is None else max(hi, addr + size)
    return lo, hi


def victim_sums(child, vm, lo, hi, tag):
    """md5 of the victim's RAM below and above [lo, hi), read with
    MIG_MEM_READ (the VM keeps running) into files of the MVM."""
    for i in range(GUEST_RAM_SIZE // CHUNK):
        rc, out = busy_sh(child, f"SHYPER_HVC_OUT=/tmp/{tag}.{i} shyper-hvc -b 3 {CHUNK} "
                            f"{MIG_MEM_READ:#x} {vm} {GUEST_RAM + i * CHUNK:#x} 0 {CHUNK}",
                     timeout=60)
        assert rc == 0 and "x0=0 " in out, out
    page = 4096
    below = (lo - GUEST_RAM) // page
    above = -(-(hi - GUEST_RAM) // page)
    rc, out = busy_sh(child, f"cat /tmp/{tag}.0 /tmp/{tag}.1 /tmp/{tag}.2 /tmp/{tag}.3 > /tmp/{tag} && "
                        f"dd if=/tmp/{tag} bs={page} count={below} 2>/dev/null | md5sum && "
                        f"dd if=/tmp/{tag} bs={page} skip={above} 2>/dev/null | md5sum", timeout=60)
    sums = re.findall(r"^([0-9a-f]{32})\s", out, re.M)
    assert rc == 0 and len(sums) == 2, out
    return sums


def victim_progress(child, vm):
    """(run ms, interrupts taken) of the victim's vCPU: its timer ticks. The
    line is picked in the MVM and read again when the victim's own console
    output, which shares the UART, split it on its way here."""
    for _ in range(5):
        rc, out = busy_sh(child, f"shyper vm info {vm} >/tmp/vminfo && sed -n 's/^vcpu0: core 3, "
                            r"running, run \([0-9]*\) ms, .* irq \([0-9]*\),.*/progress=\1,\2/p' "
                            "/tmp/vminfo")
        assert rc == 0, out
        m = re.search(r"progress=(\d+),(\d+)", out)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise AssertionError(f"no vcpu0 progress line in `shyper vm info {vm}`:\n{out}")


def counts(line):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def wait_in_mvm(child, condition, what, seconds):
    """Waits in the MVM's shell (no console line to catch) until condition,
    a shell command, succeeds."""
    rc, out = busy_sh(child, f"n=0; until {condition}; do n=$((n+1)); [ $n -gt {seconds} ] && "
                        f"break; sleep 1; done; {condition}", timeout=seconds + 60)
    assert rc == 0, f"{what}: not within {seconds} s\n{out}"


def test_hypercall_fuzzers_harm_nothing(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    # Kernel messages would land in the middle of the shell's output.
    busy_sh(child, "dmesg -n 1")
    lo, hi = writable_range(VICTIM_ELF)
    # The victim measures without printing: its lines, written by the
    # hypervisor from another core, would land inside the MVM's output.
    busy_sh(child, f"sed 's/\"cmdline\": \"\"/\"cmdline\": \"quiet\"/' "
              f"{GUESTS}/rt-latency-loop.json > {GUESTS}/rt-latency-quiet.json")
    victim = configure(child, f"{GUESTS}/rt-latency-quiet.json")
    free_before = free_memory(child)
    busy_sh(child, f"sed 's/seconds=[0-9]*/seconds={SECONDS}/' {GUESTS}/hvc-fuzz.json "
              f"> {GUESTS}/hvc-fuzz-run.json")
    fuzz_vm = configure(child, f"{GUESTS}/hvc-fuzz-run.json")
    rc, out = busy_sh(child, f"shyper vm boot {victim}")
    assert rc == 0, out
    sums_before = victim_sums(child, victim, lo, hi, "before")
    run_before, irq_before = victim_progress(child, victim)

    # Both fuzzers at once; the MVM's in the background, its output to a file.
    busy_sh(child, f"( (shyper-hvc-fuzz -x -j 4 -n 0 -t {MVM_SECONDS} > /tmp/mvm-fuzz 2>&1; "
              f"echo \"rc=$?\" >> /tmp/mvm-fuzz) & )")
    rc, out = busy_sh(child, f"shyper vm boot {fuzz_vm}")
    assert rc == 0, out
    # The guest's report arrives in its channel, then it powers off.
    wait_in_mvm(child, "shyper ivc shm fuzz-report read 0 14 | grep -q 'hvc-fuzz: done'",
                "the guest fuzzer's report", SECONDS + 90)
    wait_in_mvm(child, f"shyper vm list | grep -q '^{fuzz_vm} .* stopped '",
                "the guest fuzzer powering off", 60)
    # Read again if a line the hypervisor printed meanwhile split it.
    for _ in range(5):
        rc, report = busy_sh(child, "shyper ivc shm fuzz-report read 0 300")
        found = re.search(r"hvc-fuzz: done [^.]*invalid=\d+", report)
        if rc == 0 and found:
            break
    assert found, report
    guest_line = found.group(0)
    guest = counts(guest_line)
    # Its cores, for the VMs the MVM's fuzzer builds. That fuzzer is still
    # running (four threads on the MVM's one vCPU, each call a console
    # line): on a busy host the shell may wait for it to end.
    rc, out = busy_sh(child, f"shyper vm remove {fuzz_vm}", timeout=MVM_SECONDS + 120)
    assert rc == 0, out
    wait_in_mvm(child, "grep -q '^rc=' /tmp/mvm-fuzz", "the MVM's fuzzer", MVM_SECONDS + 120)
    rc, out = busy_sh(child, "cat /tmp/mvm-fuzz")
    done = re.search(r"^shyper-hvc-fuzz: done .*$", out, re.M)
    assert done and "rc=0" in out, out
    mvm = counts(done.group(0))

    # The lines carry the seeds that replay a failure.
    print(f"{guest_line}\n{done.group(0)}")
    assert guest["vcpus"] == 2 and guest["invalid"] == 0, guest_line
    assert mvm["invalid"] == 0 and mvm["ioctl_errors"] == 0 and mvm["vms_left"] == 0, out
    for k in CLASSES:
        assert guest[k] > 0, f"the guest fuzzer never got {k}: {guest_line}"
        assert mvm[k] > 0, f"the MVM's fuzzer never got {k}: {done.group(0)}"
    assert mvm["vms_created"] > 0, out

    # The victim ran on, took its timer interrupts, and nothing wrote its RAM.
    run_after, irq_after = victim_progress(child, victim)
    assert run_after - run_before >= SECONDS * 1000, (run_before, run_after)
    assert irq_after > irq_before, (irq_before, irq_after)
    assert victim_sums(child, victim, lo, hi, "after") == sums_before

    # The MVM works, the board holds only what it held, nothing leaked.
    rows = vm_list(child)
    assert set(rows) == {0, victim} and rows[victim]["state"] == "running", rows
    assert free_memory(child) == free_before
    log = child.logfile_read.name
    child.logfile_read.flush()
    with open(log, errors="replace") as f:
        console = f.read()
    assert "PANIC" not in console and "unexpected exception" not in console
    # vCPU 1 powered on the moment it was seen off, again and again: every
    # CPU_ON succeeded and started it once (no start lost, none repeated
    # from a stale hand-over), and the SYSTEM_OFF right after the last one
    # stopped it (the VM was removed above without a panic).
    churn = re.search(r"hvc-fuzz: churn cycles=(\d+) on=(\d+) starts=(\d+)", console)
    assert churn, "no churn line from the guest fuzzer"
    cycles, on, starts = map(int, churn.groups())
    assert cycles == on == starts and cycles >= 100, churn.group(0)
    rc, out = busy_sh(child, f"shyper vm shutdown {victim}")
    assert rc == 0, out


def test_shutdown_meets_a_guest_that_resets_in_a_loop(qemu, tmp_path):
    """hvc-fuzz with `reset=`: each boot fuzzes briefly, leaves vCPU 1
    spinning in aborts and ends with PSCI SYSTEM_RESET, so the VM restarts
    again and again. The MVM shuts it down at a different point of that
    loop each time, then boots it again: every shutdown succeeds and leaves
    the VM stopped with its vCPUs off, every boot starts it afresh, and once
    it is removed the board has all its memory back and nothing panicked."""
    child = boot_mvm_with_disk(qemu, tmp_path)
    busy_sh(child, "dmesg -n 1")
    free_before = free_memory(child)
    busy_sh(child, f"sed 's/\"cmdline\": \"[^\"]*\"/\"cmdline\": \"iterations=300 reset=3\"/' "
              f"{GUESTS}/hvc-fuzz.json > {GUESTS}/hvc-fuzz-reset.json")
    vm = configure(child, f"{GUESTS}/hvc-fuzz-reset.json")
    log = child.logfile_read.name
    for cycle in range(12):
        child.logfile_read.flush()
        mark = os.path.getsize(log)
        rc, out = busy_sh(child, f"shyper vm boot {vm} && usleep {40000 + 23000 * cycle} && "
                                 f"shyper vm shutdown {vm}")
        assert rc == 0, f"cycle {cycle}: {out}"
        rows = vm_list(child)
        assert rows[vm]["state"] == "stopped", (cycle, rows)
        rc, out = busy_sh(child, f"shyper vm info {vm}")
        vcpus = re.findall(r"^vcpu(\d): core \d+, (\w+)", out, re.M)
        assert len(vcpus) == 2 and all(s == "off" for _, s in vcpus), f"cycle {cycle}: {out}"
        child.logfile_read.flush()
        with open(log, errors="replace") as f:
            f.seek(mark)
            seen = f.read()
        # It ran meanwhile, and (from the third cycle, given time) reset.
        assert "hvc-fuzz: start" in seen, f"cycle {cycle}: the guest never started"
        if cycle >= 2:
            assert "PSCI SYSTEM_RESET" in seen, f"cycle {cycle}: no reset before the shutdown"
    rc, out = busy_sh(child, f"shyper vm remove {vm}")
    assert rc == 0, out
    assert set(vm_list(child)) == {0}
    assert free_memory(child) == free_before
    child.logfile_read.flush()
    with open(log, errors="replace") as f:
        console = f.read()
    assert "PANIC" not in console and "did not stop" not in console
    assert busy_sh(child, "echo still-alive")[1].count("still-alive") == 1
