/*
 * The config hypercall group (hv/core/vm_cfg.c) with what it reaches for
 * real (hv/core/vm.c, stage 2, the vGIC's and the virtio devices' set-up)
 * on the host stand-ins of tests/host/vm_host.c: a FINISH whose set-up
 * fails part way leaves nothing of it behind, so the VM is as before,
 * another FINISH can follow once the MVM fixed the configuration, and a
 * removal frees everything once (found by tests/fuzz/fuzz_vm_cfg.c: the
 * devices set up by the failed FINISH were set up again over themselves by
 * the next one, and REMOVE then tore a freed virtio-net model down again).
 *
 * unit-sources: hv/core/vm_cfg.c hv/core/vm.c hv/arch/aarch64/stage2.c
 * unit-sources: hv/dev/vgic.c hv/dev/vgic_irq.c hv/dev/vgic_mmio.c hv/dev/vuart.c
 * unit-sources: hv/dev/vdev.c hv/dev/vdev_net.c hv/dev/virtio_net.c hv/dev/vswitch.c
 * unit-sources: hv/dev/vdev_console.c hv/dev/virtio_console.c hv/dev/mediated.c
 * unit-sources: hv/dev/virtio_blk.c hv/dev/virtio_mmio.c hv/dev/virtq.c hv/lib/fmt.c
 * unit-sources: tests/host/vm_host.c tests/host/vm_host.h
 * unit-sources: tests/host/arch/sysreg.h tests/host/arch/spinlock.h
 * unit-sources: hv/core/iommu.c hv/core/io_pt.c hv/core/vm_pcie.c hv/core/board_pcie.c hv/core/board.c hv/lib/dt.c hv/lib/dt_irq.c hv/plat/drivers/smmuv3.c hv/plat/drivers/smmuv3_desc.c
 * unit-cflags: -Itests/host -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arch/stage2.h>
#include <core/hypercall.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vm_pcie.h>
#include <dev/vgic.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>

#include "vm_host.h"

#define GUEST_RAM 0x80000000ULL
#define NET_A 0x0a000000ULL
#define NET_B 0x0a001000ULL

static int64_t cfg(unsigned fn, uint64_t x1, uint64_t x2, uint64_t x3, uint64_t x4,
		   uint64_t x5)
{
	struct trap_frame f = { .x = { 0, x1, x2, x3, x4, x5 } };
	int64_t ret = hc_config(host_mvm_vcpu(), &f, SHYPER_HVC_FN(fn));

	if (!ret && fn == SHYPER_CFG_ADD_VM)
		return (int64_t)f.x[1];
	return ret;
}

/* The structure at the start of the MVM's RAM, and its address. */
static uint64_t in_mvm(const void *p, size_t len)
{
	memcpy(host_mvm_ram, p, len);
	return HOST_MVM_BASE;
}

static void setup(unsigned gic_version)
{
	struct host_board b = { .gic_version = gic_version, .nr_cpus = 4, .nr_irqs = 128 };

	host_setup(&b);
}

/* A guest for a restore (no images needed): one vCPU on core 1, 256 KiB of
 * RAM and a page of it where the default console would go (so it has
 * none: nothing but the devices can clash). */
static unsigned add_guest(void)
{
	struct shyper_vm_desc d = { .name = "g", .type = SHYPER_VM_T_LINUX,
				    .flags = SHYPER_VM_F_RESTORE };
	int64_t id = cfg(SHYPER_CFG_ADD_VM, in_mvm(&d, sizeof(d)), sizeof(d), 0, 0, 0);

	assert_true(id > 0);
	assert_int_equal(cfg(SHYPER_CFG_SET_CPU, id, 1, 2, 1, 0), 0);
	assert_int_equal(cfg(SHYPER_CFG_ADD_MEM, id, GUEST_RAM, 0x40000, 0, 0), 0);
	assert_int_equal(cfg(SHYPER_CFG_ADD_MEM, id, 0x09000000, 0x1000, 0, 0), 0);
	return (unsigned)id;
}

static int64_t add_emu(unsigned id, uint32_t type, uint64_t base, uint32_t irq, uint8_t mac)
{
	struct shyper_emu_dev d = { .name = "d", .base_ipa = base, .length = 0x200,
				    .irq_id = irq, .type = type };

	if (type == SHYPER_EMU_VIRTIO_NET) {
		static const uint8_t m[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0 };

		d.cfg_num = 6;
		for (unsigned i = 0; i < 6; i++)
			d.cfg_list[i] = i == 5 ? mac : m[i];
	}
	return cfg(SHYPER_CFG_ADD_EMU_DEV, id, in_mvm(&d, sizeof(d)), sizeof(d), 0, 0);
}

static void remove_all(void)
{
	for (unsigned id = 1; id < HV_MAX_VMS; id++)
		if (hv.vms[id].state != VM_FREE)
			vm_destroy(&hv.vms[id]);
	assert_int_equal(host_frames_used, 0);
	assert_int_equal(host_heap_used, 0);
	assert_int_equal(host_blocks, 0);
	for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++)
		assert_null(hv.vswitch.ports[i]);
}

/* Two virtio-net devices, the second on the distributor: FINISH fails at
 * the second, after the first was set up. */
static unsigned failing_finish(unsigned gic_version)
{
	unsigned id;

	setup(gic_version);
	id = add_guest();
	assert_int_equal(add_emu(id, SHYPER_EMU_VIRTIO_NET, NET_A, 48, 1), 0);
	assert_int_equal(add_emu(id, SHYPER_EMU_VIRTIO_NET, HOST_GICD_BASE, 49, 2), 0);
	assert_int_equal(cfg(SHYPER_CFG_FINISH, id, 0, 0, 0, 0), -SHYPER_EEXIST);
	return id;
}

static void move_gic(unsigned id)
{
	struct shyper_emu_dev d = { .name = "gicd", .base_ipa = 0x0c000000,
				    .type = SHYPER_EMU_GICD };

	assert_int_equal(cfg(SHYPER_CFG_ADD_EMU_DEV, id, in_mvm(&d, sizeof(d)), sizeof(d), 0, 0),
			 0);
	d.base_ipa = 0x0d000000;
	d.type = SHYPER_EMU_GICR;
	assert_int_equal(cfg(SHYPER_CFG_ADD_EMU_DEV, id, in_mvm(&d, sizeof(d)), sizeof(d), 0, 0),
			 0);
}

/* With the distributor moved out of the way, FINISH succeeds; REMOVE then
 * frees everything, once. */
static void finish_retry(unsigned gic_version)
{
	unsigned id = failing_finish(gic_version);

	move_gic(id);
	assert_int_equal(cfg(SHYPER_CFG_FINISH, id, 0, 0, 0, 0), 0);
	assert_int_equal(hv.vms[id].state, VM_READY);
	assert_int_equal(hv.vms[id].nr_vdevs, 2);
	assert_int_equal(host_heap_used, 2);
	remove_all();
}

/* Whatever fails, FINISH tried again and the VM removed: nothing is torn
 * down twice or left over. */
static void test_finish_twice_then_remove(void **state)
{
	unsigned id = failing_finish(3);

	(void)state;
	move_gic(id);
	(void)cfg(SHYPER_CFG_FINISH, id, 0, 0, 0, 0);
	remove_all();
}

/* The failed FINISH leaves the VM as it was, byte for byte, and holds no
 * frame or heap block more. */
static void test_failed_finish_changes_nothing(void **state)
{
	static struct vm before;
	size_t frames, heap;
	unsigned id;

	(void)state;
	setup(3);
	id = add_guest();
	assert_int_equal(add_emu(id, SHYPER_EMU_VIRTIO_NET, NET_A, 48, 1), 0);
	assert_int_equal(add_emu(id, SHYPER_EMU_VIRTIO_NET, HOST_GICD_BASE, 49, 2), 0);
	before = hv.vms[id];
	frames = host_frames_used;
	heap = host_heap_used;
	assert_int_equal(cfg(SHYPER_CFG_FINISH, id, 0, 0, 0, 0), -SHYPER_EEXIST);
	assert_int_equal(hv.vms[id].nr_vdevs, 0);
	assert_int_equal(hv.vms[id].nr_mmio, 0);
	assert_int_equal(host_frames_used, frames);
	assert_int_equal(host_heap_used, heap);
	assert_memory_equal(&before, &hv.vms[id], sizeof(before));
	remove_all();
}

static void test_finish_retry_v3(void **state)
{
	(void)state;
	finish_retry(3);
}

static void test_finish_retry_v2(void **state)
{
	(void)state;
	finish_retry(2);
}

/* GICv2: the virtual CPU interface mapped by a FINISH that then failed is
 * unmapped again (its stage-2 tables freed), so the same FINISH works once
 * the clash is gone. */
static void test_finish_v2_gicc_unmapped(void **state)
{
	uint64_t pa;
	unsigned id, flags;
	size_t frames;

	(void)state;
	setup(2);
	id = add_guest();
	assert_int_equal(add_emu(id, SHYPER_EMU_VIRTIO_NET, HOST_GICD_BASE, 48, 1), 0);
	frames = host_frames_used;
	assert_int_equal(cfg(SHYPER_CFG_FINISH, id, 0, 0, 0, 0), -SHYPER_EEXIST);
	assert_int_not_equal(stage2_translate(&hv.vms[id].s2, hv.vms[id].config.gicc_ipa, &pa,
					      &flags), 0);
	assert_int_equal(host_frames_used, frames);
	move_gic(id);
	assert_int_equal(cfg(SHYPER_CFG_FINISH, id, 0, 0, 0, 0), 0);
	assert_int_equal(stage2_translate(&hv.vms[id].s2, hv.vms[id].config.gicc_ipa, &pa,
					  &flags), 0);
	assert_int_equal(pa, HOST_GICV_BASE);
	remove_all();
}

/* The default console a failed FINISH gave the VM goes again: the MVM can
 * still configure its own. */
static void test_finish_default_console_undone(void **state)
{
	struct shyper_vm_desc d = { .name = "g", .type = SHYPER_VM_T_LINUX,
				    .flags = SHYPER_VM_F_RESTORE };
	int64_t id;

	(void)state;
	setup(3);
	id = cfg(SHYPER_CFG_ADD_VM, in_mvm(&d, sizeof(d)), sizeof(d), 0, 0, 0);
	assert_true(id > 0);
	assert_int_equal(cfg(SHYPER_CFG_SET_CPU, id, 1, 2, 1, 0), 0);
	assert_int_equal(cfg(SHYPER_CFG_ADD_MEM, id, GUEST_RAM, 0x40000, 0, 0), 0);
	assert_int_equal(add_emu((unsigned)id, SHYPER_EMU_VIRTIO_NET, 0x09000000, 48, 1), 0);
	assert_int_equal(cfg(SHYPER_CFG_FINISH, id, 0, 0, 0, 0), -SHYPER_EEXIST);
	assert_false(hv.vms[id].has_uart);
	assert_int_equal(add_emu((unsigned)id, SHYPER_EMU_CONSOLE, 0x0b000000, 33, 0), 0);
	remove_all();
}

/* SET_IMAGE again, short of frames for the new images: refused, and the
 * images set before (and what was uploaded into them) stay. */
static void test_set_image_short_of_frames_keeps_the_old(void **state)
{
	struct shyper_image_desc small = { .kernel_load_ipa = GUEST_RAM, .kernel_entry = GUEST_RAM,
					   .kernel_size = 8192 };
	struct shyper_image_desc big = small;
	struct host_board b = { .gic_version = 3, .nr_cpus = 4, .nr_irqs = 128,
				.frame_budget = 256 };
	struct vm *vm;
	uint64_t kernel_pa;
	size_t used;
	unsigned id;

	(void)state;
	host_setup(&b);
	id = add_guest();
	vm = &hv.vms[id];
	assert_int_equal(cfg(SHYPER_CFG_SET_IMAGE, id, in_mvm(&small, sizeof(small)),
			     sizeof(small), 0, 0), 0);
	kernel_pa = vm->images[SHYPER_IMAGE_KERNEL].store_pa;
	assert_true(kernel_pa != 0);
	used = host_frames_used;
	/* A ramdisk bigger than the frames left: the kernel's store would
	 * come first and the ramdisk's then fail. */
	big.ramdisk_load_ipa = GUEST_RAM + 0x20000;
	big.ramdisk_size = 1UL << 20;
	assert_int_equal(cfg(SHYPER_CFG_SET_IMAGE, id, in_mvm(&big, sizeof(big)), sizeof(big), 0, 0),
			 -SHYPER_ENOMEM);
	assert_true(vm->images_set);
	assert_int_equal(vm->images[SHYPER_IMAGE_KERNEL].store_pa, kernel_pa);
	assert_int_equal(vm->images[SHYPER_IMAGE_KERNEL].size, 8192);
	assert_int_equal(vm->images[SHYPER_IMAGE_INITRD].size, 0);
	assert_int_equal(host_frames_used, used);
	/* With room, the new ones replace the old ones, whose frames go back. */
	big.ramdisk_size = 16384;
	assert_int_equal(cfg(SHYPER_CFG_SET_IMAGE, id, in_mvm(&big, sizeof(big)), sizeof(big), 0, 0),
			 0);
	assert_int_equal(vm->images[SHYPER_IMAGE_INITRD].size, 16384);
	assert_int_equal(host_frames_used, used + 4);
	remove_all();
}

/* An ordinary guest (it may have passthrough devices) on @core. */
static unsigned add_plain_guest(unsigned core)
{
	struct shyper_vm_desc d = { .name = "p", .type = SHYPER_VM_T_LINUX };
	int64_t id = cfg(SHYPER_CFG_ADD_VM, in_mvm(&d, sizeof(d)), sizeof(d), 0, 0, 0);

	assert_true(id > 0);
	assert_int_equal(cfg(SHYPER_CFG_SET_CPU, id, 1, 1UL << core, core, 0), 0);
	assert_int_equal(cfg(SHYPER_CFG_ADD_MEM, id, GUEST_RAM, 0x40000, 0, 0), 0);
	return (unsigned)id;
}

#define ECAM 0x4010000000ULL

static int64_t add_bridge(unsigned id, uint64_t ipa, const uint32_t irqs[4])
{
	struct shyper_dtb_dev d = { .name = "pcie", .type = SHYPER_DTB_PCIE, .irq_num = 4,
				    .addr_ipa = ipa, .length = 0x10000000 };

	memcpy(d.irqs, irqs, 4 * sizeof(irqs[0]));
	return cfg(SHYPER_CFG_ADD_DTB_DEV, id, in_mvm(&d, sizeof(d)), sizeof(d), 0, 0);
}

/* A PCIe host bridge and DMA streams: what the hypervisor checks of them,
 * and a physical region passed through to one VM only. */
static void test_pcie_bridge_and_streams(void **state)
{
	static const uint32_t intx[4] = { 35, 36, 37, 38 };
	static const uint32_t shuffled[4] = { 35, 37, 36, 38 };
	struct vm_fdt_desc fd;
	unsigned a, b;

	(void)state;
	setup(3);
	a = add_plain_guest(1);
	/* This board has no SMMU the hypervisor took, and no host bridge. */
	assert_int_equal(cfg(SHYPER_CFG_ADD_PT_STREAM, a, 8, 0, 0, 0), -SHYPER_ENODEV);
	assert_int_equal(add_bridge(a, ECAM, intx), -SHYPER_ENODEV);

	/* One like QEMU virt's. */
	hv.v4.iommu.pcie = (struct board_pcie){
		.present = true, .ecam_base = ECAM, .ecam_size = 0x10000000, .bus_last = 255,
		.nr_ranges = 1, .ranges = { { 0x02000000, 0x10000000, 0x10000000, 0x2eff0000 } },
	};
	/* Its configuration space not given to the VM, then given. */
	assert_int_equal(add_bridge(a, ECAM, intx), -SHYPER_EINVAL);
	assert_int_equal(cfg(SHYPER_CFG_ADD_PT_REGION, a, ECAM, ECAM, 0x10000000, 0), 0);
	/* INTx not passed through, then passed through. */
	assert_int_equal(add_bridge(a, ECAM, intx), -SHYPER_EINVAL);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(cfg(SHYPER_CFG_ADD_PT_IRQ, a, intx[i], 0, 0, 0), 0);
	/* Elsewhere than where the VM has it, INTx out of order. */
	assert_int_equal(add_bridge(a, ECAM + 0x1000000000ULL, intx), -SHYPER_EINVAL);
	assert_int_equal(add_bridge(a, ECAM, shuffled), -SHYPER_EINVAL);
	assert_int_equal(hv.vms[a].config.nr_dtb_devs, 0);
	assert_int_equal(add_bridge(a, ECAM, intx), 0);
	assert_int_equal(add_bridge(a, ECAM, intx), -SHYPER_EEXIST);
	assert_int_equal(hv.vms[a].config.dtb_devs[0].type, DTB_DEV_PCIE);
	assert_int_equal(hv.vms[a].config.dtb_devs[0].intid, 35);

	/* Its tree gets the windows it was given only. */
	memset(&fd, 0, sizeof(fd));
	vm_pcie_describe(&hv.vms[a], &fd);
	assert_true(fd.has_pcie);
	assert_int_equal(fd.pcie.ecam_base, ECAM);
	assert_int_equal(fd.pcie.nr_ranges, 0);
	assert_int_equal(cfg(SHYPER_CFG_ADD_PT_REGION, a, 0x10000000, 0x20000000, 0x2eff0000, 0),
			 0);
	memset(&fd, 0, sizeof(fd));
	vm_pcie_describe(&hv.vms[a], &fd);
	assert_int_equal(fd.pcie.nr_ranges, 1);
	assert_int_equal(fd.pcie.ranges[0].pci_addr, 0x10000000);
	assert_int_equal(fd.pcie.ranges[0].cpu_addr, 0x20000000); /* where the VM has it */

	/* The bridge is a's: no other VM may map a page of it. */
	b = add_plain_guest(2);
	assert_int_equal(cfg(SHYPER_CFG_ADD_PT_REGION, b, ECAM + 0x5000, ECAM, 0x1000, 0),
			 -SHYPER_EBUSY);
	assert_int_equal(cfg(SHYPER_CFG_ADD_PT_REGION, b, 0x3eff0000 - 0x1000, 0x3eff0000,
			     0x2000, 0),
			 -SHYPER_EBUSY);
	assert_int_equal(cfg(SHYPER_CFG_ADD_PT_REGION, b, 0x3eff0000, 0x3eff0000, 0x10000, 0), 0);
	remove_all();
	/* Once a is gone, the bridge is free again. */
	b = add_plain_guest(2);
	assert_int_equal(cfg(SHYPER_CFG_ADD_PT_REGION, b, ECAM, ECAM, 0x10000000, 0), 0);
	remove_all();
	memset(&hv.v4.iommu.pcie, 0, sizeof(hv.v4.iommu.pcie));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_image_short_of_frames_keeps_the_old),
		cmocka_unit_test(test_finish_twice_then_remove),
		cmocka_unit_test(test_failed_finish_changes_nothing),
		cmocka_unit_test(test_finish_retry_v3),
		cmocka_unit_test(test_finish_retry_v2),
		cmocka_unit_test(test_finish_v2_gicc_unmapped),
		cmocka_unit_test(test_finish_default_console_undone),
		cmocka_unit_test(test_pcie_bridge_and_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
