"""A paused VM's devices leave its RAM and rings alone: a migration or a
snapshot takes its state while it is paused and copies its last dirty pages
after, so anything a device wrote in between would leave the rings ahead of
the saved device (the destination would then hand the guest a used entry
again, or fill a buffer the guest had freed).

The MVM pauses a Linux guest (MIG_PAUSE), starts its dirty log and types a
line into its virtio console: the console takes nothing while the guest is
paused (`shyper vm console` says the guest is not reading), and the dirty log
shows no page written. Once resumed the guest's shell answers on the same
console, and the line typed while paused never reached it."""
import re

from conftest import sh
from test_guests import GUESTS, boot_mvm_with_disk, configure
from test_vm_snapshot import guest, wait_console

MIG_PAUSE, MIG_RESUME = 0xc6000500, 0xc6000501
MIG_DIRTY_START, MIG_DIRTY_STOP, MIG_DIRTY_FETCH = 0xc6000502, 0xc6000503, 0xc6000504
RAM_IPA, RAM_PAGES = 0x80000000, 0x8000000 // 4096


def hvc(child, args, what):
    rc, out = sh(child, f"shyper-hvc {args}", timeout=30)
    m = re.search(r"x0=(\S+) x1=(\S+)", out)
    assert rc == 0 and m and int(m.group(1), 0) == 0, f"{what}: {out}"
    return int(m.group(2), 0)


def test_paused_guest_console_touches_nothing(qemu, tmp_path):
    child = boot_mvm_with_disk(qemu, tmp_path)
    sh(child, "dmesg -n 1")
    vm = configure(child, f"{GUESTS}/linux-console-a.json")
    rc, out = sh(child, f"shyper vm boot {vm}")
    assert rc == 0, out
    wait_console(child, vm, "cshyper-initramfs: ready", "the guest's init on hvc0")
    # Its shell answers: hvc0 is open, receive buffers are posted.
    assert "before-pause" in guest(child, vm, "echo before-pause", "the guest's shell")

    hvc(child, f"{MIG_PAUSE:#x} {vm}", "pause")
    hvc(child, f"{MIG_DIRTY_START:#x} {vm}", "start the dirty log")
    rc, out = sh(child, f"echo 'touch /tmp/typed-while-paused' | shyper vm console {vm} 0.5",
                 timeout=60)
    # One bit per page: the whole 128 MiB in one window.
    dirty = hvc(child, f"-b 3 {RAM_PAGES // 8} {MIG_DIRTY_FETCH:#x} {vm} {RAM_IPA:#x} 0 "
                       f"{RAM_PAGES // 8}", "fetch the dirty log")
    assert dirty == 0, f"{dirty} pages of the paused guest written"
    assert "not reading its console" in out, out
    hvc(child, f"{MIG_DIRTY_STOP:#x} {vm}", "stop the dirty log")
    hvc(child, f"{MIG_RESUME:#x} {vm}", "resume")

    out = guest(child, vm, "ls /tmp/typed-while-paused; echo after-resume", "the guest's shell")
    assert "after-resume" in out and "No such file" in out, out
