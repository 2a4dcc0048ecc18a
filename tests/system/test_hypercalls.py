"""Garbage arguments to every management hypercall, sent from the MVM with
shyper-hvc (one raw hypercall through /dev/shyper): each is refused with
its documented error, nothing changes, and the hypervisor keeps running."""
import re

import pytest

from conftest import sh
from test_guests import boot_mvm_with_disk, free_memory, vm_list

EPERM, ENOENT, EFAULT, EBUSY, EEXIST, EINVAL, ENOMEM, ENOSYS = 1, 2, 14, 16, 17, 22, 12, 38
ENODEV = 19
ENOTSUP = 95

SYS_INFO, SYS_NOTIFY = 0xc6000001, 0xc6000004
VMM_LIST, VMM_INFO, VMM_BOOT, VMM_SHUTDOWN, VMM_REBOOT, VMM_REMOVE = range(0xc6000101, 0xc6000107)
(CFG_ADD_VM, CFG_SET_CPU, CFG_ADD_MEM, CFG_ADD_EMU_DEV, CFG_ADD_PT_REGION, CFG_ADD_PT_IRQ,
 CFG_ADD_DTB_DEV, CFG_SET_IMAGE, CFG_UPLOAD, CFG_FINISH) = range(0xc6000200, 0xc600020a)
VM_DESC_SIZE = 32 + 4 + 4 + 512
IVC_KEEPALIVE = 0xc6000305
HV_IMAGE_PA = 0x40080000


def hvc(child, *args, buf=None):
    opt = f"{buf} " if buf else ""
    rc, out = sh(child, "shyper-hvc " + opt + " ".join(hex(a) if isinstance(a, int) else a
                                                        for a in args))
    m = re.search(r"x0=(-?\d+) x1=(0x[0-9a-f]+)", out)
    assert rc == 0 and m, out
    return int(m.group(1)), int(m.group(2), 16)


@pytest.fixture
def mvm(qemu, tmp_path):
    return boot_mvm_with_disk(qemu, tmp_path)


def test_garbage_to_every_management_call(mvm):
    child = mvm
    before = free_memory(child)

    # System and VMM groups: bad buffers, bad ids, the MVM itself.
    assert hvc(child, SYS_INFO, HV_IMAGE_PA, 4096)[0] == -EFAULT
    assert hvc(child, SYS_INFO, 0, 4096)[0] == -EFAULT
    assert hvc(child, SYS_INFO, 0, 1, buf="-b 1 4096")[0] == -EINVAL
    # A CLI older than the hypervisor passes the size of the fields it knows.
    assert hvc(child, SYS_INFO, 0, 135, buf="-b 1 4096")[0] == -EINVAL
    assert hvc(child, SYS_INFO, 0, 136, buf="-b 1 4096")[0] == 0
    assert hvc(child, SYS_INFO, 0, 4096, buf="-b 1 4096")[0] == 0
    assert hvc(child, 0xc60000ff)[0] == -ENOSYS
    assert hvc(child, VMM_LIST, 0xdeadbeef000, 1 << 20)[0] == -EFAULT
    assert hvc(child, VMM_INFO, 99, 0, 4096)[0] == -ENOENT
    assert hvc(child, VMM_INFO, 0, HV_IMAGE_PA, 4096)[0] == -EFAULT
    for call in (VMM_BOOT, VMM_SHUTDOWN, VMM_REBOOT, VMM_REMOVE):
        assert hvc(child, call, 0)[0] == -EPERM, hex(call)
        assert hvc(child, call, 7)[0] == -ENOENT, hex(call)
        assert hvc(child, call, (1 << 64) - 1)[0] == -ENOENT, hex(call)

    # Config group: a descriptor from a file, then every step with garbage.
    sh(child, f"(printf probe; head -c {VM_DESC_SIZE - 5} /dev/zero) > /tmp/desc")
    sh(child, f"head -c {VM_DESC_SIZE} /dev/zero > /tmp/zero")
    assert hvc(child, CFG_ADD_VM, 0, VM_DESC_SIZE, buf="-f 1 /tmp/zero")[0] == -EINVAL
    assert hvc(child, CFG_ADD_VM, 0, 8, buf="-f 1 /tmp/desc")[0] == -EINVAL
    assert hvc(child, CFG_ADD_VM, HV_IMAGE_PA, VM_DESC_SIZE)[0] == -EFAULT
    ret, vm = hvc(child, CFG_ADD_VM, 0, VM_DESC_SIZE, buf="-f 1 /tmp/desc")
    assert ret == 0 and vm >= 1
    assert vm_list(child)[vm]["state"] == "configuring"

    for args, err in [
        ((CFG_SET_CPU, vm, 0, 0x2, 1), EINVAL),         # no vCPUs
        ((CFG_SET_CPU, vm, 9, 0xff, 1), EINVAL),        # more than 8
        ((CFG_SET_CPU, vm, 2, 0x2, 1), EINVAL),         # more vCPUs than cores
        ((CFG_SET_CPU, vm, 1, 0x100, 8), EINVAL),       # a core the board lacks
        ((CFG_SET_CPU, vm, 1, 0x2, 2), EINVAL),         # master outside the bitmap
        ((CFG_SET_CPU, vm, 1, 0x1, 0), EBUSY),          # the MVM's core
        ((CFG_SET_CPU, 0, 1, 0x2, 1), ENOENT),          # the MVM is not configurable
        ((CFG_SET_CPU, 99, 1, 0x2, 1), ENOENT),
        ((CFG_ADD_MEM, vm, 0x80000001, 0x100000), EINVAL),
        ((CFG_ADD_MEM, vm, 0x80000000, 0), EINVAL),
        ((CFG_ADD_MEM, vm, 0xfffffffffffff000, 0x2000), EINVAL),  # wraps
        ((CFG_ADD_MEM, vm, 0, 1 << 41), EINVAL),        # beyond the IPA space
        ((CFG_ADD_MEM, vm, 0, 0xff00000000), ENOMEM),   # more than the board has
        ((CFG_ADD_EMU_DEV, vm, 0, 1), EINVAL),
        ((CFG_ADD_EMU_DEV, vm, HV_IMAGE_PA, 192), EFAULT),
        ((CFG_ADD_PT_REGION, vm, 0x40000000, 0x10000000, 0x1000), EPERM),  # RAM
        ((CFG_ADD_PT_REGION, vm, 0x50000000, 0x10000000, 0x1000), EPERM),  # the MVM's RAM
        ((CFG_ADD_PT_REGION, vm, 0x08000000, 0x08000000, 0x10000), EPERM), # the GIC
        ((CFG_ADD_PT_REGION, vm, 0x09000001, 0x09000000, 0x1000), EINVAL),
        ((CFG_ADD_PT_REGION, vm, 0x09000000, 0x09000000, 0x1000), EBUSY),  # the MVM's UART
        ((CFG_ADD_PT_IRQ, vm, 33), EBUSY),              # the MVM's UART
        ((CFG_ADD_PT_IRQ, vm, 5), EINVAL),              # an SGI
        ((CFG_ADD_PT_IRQ, vm, 5000), EINVAL),
        ((CFG_ADD_DTB_DEV, vm, 0, 3), EINVAL),
        ((CFG_SET_IMAGE, vm, HV_IMAGE_PA, 56), EFAULT),
        ((CFG_UPLOAD, vm, 0, 0, 0, 4096), EINVAL),      # no image declared
        ((CFG_UPLOAD, vm, 7, 0, 0, 4096), EINVAL),
        ((CFG_FINISH, vm), EINVAL),                     # incomplete
        ((0xc600020a, vm, 8), ENODEV),                  # CFG_ADD_PT_STREAM: no SMMU here
        ((0xc600020b, vm), ENOSYS),
    ]:
        assert hvc(child, *args)[0] == -err, [hex(a) for a in args]

    # A memory region twice at the same address: the second overlaps.
    assert hvc(child, CFG_ADD_MEM, vm, 0x80000000, 0x200000)[0] == 0
    assert hvc(child, CFG_ADD_MEM, vm, 0x80100000, 0x200000)[0] == -EEXIST
    # A zero image descriptor (no kernel) is refused.
    assert hvc(child, CFG_SET_IMAGE, vm, 0, 56, buf="-b 2 56")[0] == -EINVAL

    assert hvc(child, VMM_REMOVE, vm)[0] == 0
    assert set(vm_list(child)) == {0}

    # A VM built for a restore (flags: RESTORE) is what a snapshot file or
    # a migration stream describes: none carries a passthrough device, so
    # one naming a device of this board (here QEMU's PL061 GPIO, which an
    # ordinary VM may have) or an interrupt is refused.
    sh(child, f"(printf probe; head -c 31 /dev/zero; printf '\\001'; "
              f"head -c {VM_DESC_SIZE - 37} /dev/zero) > /tmp/desc-restore")
    # Such a VM belongs to the /dev/shyper file that added it until it
    # runs: the adding call holds its file open meanwhile.
    rc, out = sh(child, f"(SHYPER_HVC_HOLD=8 shyper-hvc -f 1 /tmp/desc-restore "
                        f"{CFG_ADD_VM:#x} 0 {VM_DESC_SIZE:#x} >/tmp/restore-vm 2>&1 &); "
                        f"for i in $(seq 100); do grep -q x0= /tmp/restore-vm && break; "
                        f"usleep 100000; done; cat /tmp/restore-vm", timeout=30)
    m = re.search(r"x0=(-?\d+) x1=(0x[0-9a-f]+)", out)
    assert m and int(m.group(1)) == 0, out
    vm = int(m.group(2), 16)
    assert hvc(child, CFG_ADD_PT_REGION, vm, 0x09030000, 0x09030000, 0x1000)[0] == -ENOTSUP
    assert hvc(child, CFG_ADD_PT_IRQ, vm, 39)[0] == -ENOTSUP
    # The file closed, shyper.ko removes the VM it added.
    sh(child, "while pidof shyper-hvc >/dev/null; do usleep 100000; done", timeout=30)
    assert set(vm_list(child)) == {0}
    ret, vm = hvc(child, CFG_ADD_VM, 0, VM_DESC_SIZE, buf="-f 1 /tmp/desc")
    assert ret == 0 and hvc(child, CFG_ADD_PT_REGION, vm, 0x09030000, 0x09030000,
                                0x1000)[0] == 0, "an ordinary VM may have the GPIO"
    assert hvc(child, VMM_REMOVE, vm)[0] == 0
    assert set(vm_list(child)) == {0}
    # The MVM may watch itself, but nothing can restart it on a miss.
    assert hvc(child, IVC_KEEPALIVE, 1000, 1)[0] == -EPERM
    assert hvc(child, IVC_KEEPALIVE, 1000, 2)[0] == -EINVAL
    assert hvc(child, IVC_KEEPALIVE, 0, 0)[0] == 0
    assert free_memory(child) == before
    rc, out = sh(child, "shyper system info")
    assert rc == 0 and "core 1: free" in out
