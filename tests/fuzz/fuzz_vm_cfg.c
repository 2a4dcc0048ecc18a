/*
 * libFuzzer harness for the config hypercall group (hv/core/vm_cfg.c): the
 * MVM builds guests piece by piece and the hypervisor checks every piece.
 * Linked with what those calls reach for real: the VM table and its
 * claims of cores, interrupts and passthrough (hv/core/vm.c), stage 2
 * (hv/arch/aarch64/stage2.c), the vGIC's set-up (hv/dev/vgic*.c), the
 * virtio devices' checks, set-up and tear-down (hv/dev/vdev*.c, the net,
 * console and mediated-blk models with their transport) and the PL011.
 * tests/host/vm_host.c stands in for the rest: frames and heap come from
 * malloc (each allocation its own block, so ASan sees every overrun; a
 * budget and an optional injected failure), the board is made up from the
 * input, the GIC hardware and cross-core calls do nothing; tests/host/arch
 * holds host versions of the two arch headers with inline assembly.
 *
 * The input is what the MVM sends: a short board description, then a
 * sequence of calls, each an opcode byte and its arguments, encoded
 * compactly (values that mean something: windows near the board's RAM and
 * GIC, page and block sizes, valid names, the next upload offset) unless
 * the opcode's "raw" bit asks for 8-byte values. Structures the call takes
 * by address (shyper_vm_desc, shyper_emu_dev, shyper_dtb_dev,
 * shyper_image_desc, upload data) are built in the MVM's RAM, whose
 * address and length the call is given (or a wrong length, or an address
 * outside its RAM). Besides the config calls: REMOVE as SHYPER_VMM_REMOVE
 * does it (vmm.c), a guest's register access to one of a finished VM's
 * emulated devices (which puts a virtio-net port on the switch) and the
 * mediated daemon registering an image.
 *
 * Checked after every call, beyond no crash or sanitizer report:
 *  - the result is 0 or one of the codes the group documents;
 *  - a call from a VM other than the MVM is refused and changes nothing;
 *  - a call that fails changes nothing: the VM it names (byte for byte,
 *    but for the scratch slot of a virtio device being checked, and the
 *    images a SET_IMAGE short of frames dropped), no other VM slot, the
 *    interrupt and core owners, the mediated registry and the switch, and
 *    no frame or heap block is left over;
 *  - a successful ADD_VM returns a CONFIGURING VM, FINISH a READY one;
 *  - accounting: the frames and heap blocks in use are exactly those the
 *    live VMs own (RAM, images, stage-2 tables; one heap block per virtio
 *    device set up); core owners are what the claims say; interrupt
 *    owners, registered handlers, mediated devices and switch ports
 *    belong to live VMs only.
 * At the end every guest is removed and nothing may remain: no frame, no
 * heap block, no owner, handler, mediated device or switch port.
 *
 * Input layout:
 *   0      bit 0 GICv3 (else v2), bits 1-3 cores - 1, bit 4 GICv2 without
 *          a virtual CPU interface
 *   1      cores that are offline (bit n: core n; core 0 never)
 *   2      cores of the MVM besides core 0
 *   3      GIC interrupts: 64 + 32 * (value % 15)
 *   4      the n-th allocation (frames or heap) fails; 0: none does
 *   5-7    unused
 *   8-     calls: opcode byte (bits 0-3 the call, bit 4 raw arguments,
 *          bit 5 a wrong buffer length, bit 6 a buffer outside the MVM's
 *          RAM, bit 7 made by a guest, not the MVM), then its arguments
 *          (see the call_* functions).
 *
 * Seeds: run with FUZZ_VM_CFG_WRITE_SEEDS=<dir>, the harness writes
 * well-formed configurations there and exits; fuzz.mk does that first.
 *
 * fuzz-sources: hv/core/vm_cfg.c hv/core/vm.c hv/arch/aarch64/stage2.c
 * fuzz-sources: hv/dev/vgic.c hv/dev/vgic_irq.c hv/dev/vgic_mmio.c hv/dev/vuart.c
 * fuzz-sources: hv/dev/vdev.c hv/dev/vdev_net.c hv/dev/virtio_net.c hv/dev/vswitch.c
 * fuzz-sources: hv/dev/vdev_console.c hv/dev/virtio_console.c hv/dev/mediated.c
 * fuzz-sources: hv/dev/virtio_blk.c hv/dev/virtio_mmio.c hv/dev/virtq.c hv/lib/fmt.c
 * fuzz-sources: tests/host/vm_host.c tests/host/vm_host.h
 * fuzz-sources: tests/host/arch/sysreg.h tests/host/arch/spinlock.h
 * fuzz-sources: hv/core/iommu.c hv/core/io_pt.c hv/core/vm_pcie.c hv/core/board_pcie.c hv/core/board.c hv/lib/dt.c hv/lib/dt_irq.c hv/plat/drivers/smmuv3.c hv/plat/drivers/smmuv3_desc.c
 * fuzz-cflags: -Itests/host -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/gic.h>
#include <core/hypercall.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/mediated.h>
#include <dev/vdev.h>
#include <dev/vswitch.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/mediated.h>
#include <shyper/virtio.h>

#include "vm_host.h"

#define HDR 8
#define MAX_CALLS 256
#define GUEST_RAM 0x80000000ULL /* where compact guest addresses point */
#define FRAME_BUDGET 2048 /* 8 MiB */
#define MVM_BASE HOST_MVM_BASE
#define MVM_SIZE HOST_MVM_SIZE

/* The checks' own branches are no coverage worth seeking (and cost). */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

static bool trace; /* FUZZ_VM_CFG_TRACE set: every call on stderr */

/* ---- the MVM's side: decoding calls ---- */

struct in {
	const uint8_t *p;
	size_t n, pos;
	bool raw;
};

static uint8_t u8(struct in *in)
{
	return in->pos < in->n ? in->p[in->pos++] : 0;
}

static uint16_t u16(struct in *in)
{
	uint16_t v = u8(in);

	return (uint16_t)(v | u8(in) << 8);
}

static uint64_t u64(struct in *in)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)u8(in) << (8 * i);
	return v;
}

/* An address: a window (top 4 bits) plus units (low 12 bits). */
static uint64_t addr(struct in *in, uint64_t unit)
{
	static const uint64_t windows[16] = {
		GUEST_RAM, GUEST_RAM, GUEST_RAM, GUEST_RAM + 0x10000000,
		HOST_GICD_BASE, HOST_GICR_BASE, 0x09000000, 0x0a000000,
		0x0a000000, HOST_RAM_BASE, HOST_GICV_BASE, 0,
		(1ULL << 40) - 0x100000, 1ULL << 40, 0x10000000, 0xfffffffffffff000ULL,
	};
	uint16_t v;

	if (in->raw)
		return u64(in);
	v = u16(in);
	return windows[v >> 12] + (uint64_t)(v & 0xfff) * unit;
}

/* A length: pages, 2 MiB blocks, or an odd size. */
static uint64_t length(struct in *in)
{
	static const uint64_t odd[8] = { 0, 1, 0x200, 0x1000 - 1, 0x10000, 0x10001,
					 1ULL << 40, ~0ULL };
	uint8_t v;

	if (in->raw)
		return u64(in);
	v = u8(in);
	switch (v >> 6) {
	case 0:
	case 1:
		return (uint64_t)(v & 0x7f) * FRAME_SIZE;
	case 2:
		return (uint64_t)((v & 3) + 1) << 21;
	default:
		return odd[v & 7];
	}
}

static uint64_t small(struct in *in)
{
	return in->raw ? u64(in) : u8(in);
}

struct env {
	unsigned last_vm;      /* what ADD_VM returned last */
	bool wrong_len, outside; /* the current call's buffer faults */
	uint8_t *buf;	       /* where the current call's structure goes */
	unsigned buf_off;
};

static struct env env;

/* x-register pair for a structure of `size` bytes written at env.buf. */
static void buf_args(uint64_t *ipa, uint64_t *len, size_t size)
{
	*ipa = env.outside ? MVM_BASE + MVM_SIZE - 8 : MVM_BASE + env.buf_off;
	*len = env.wrong_len ? size - 8 : size;
}

/* The VM a call names: bit 7 the last one added, else the low 4 bits
 * (8-15: none); raw, 8 bytes after it. */
static uint64_t vm_sel(struct in *in)
{
	uint8_t v = u8(in);

	if (in->raw)
		return u64(in);
	return v & 0x80 ? env.last_vm : v & 15;
}

static void fill_string(char *s, size_t max, uint8_t how, const char *base)
{
	memset(s, 0, max);
	switch (how & 3) {
	case 0:
		snprintf(s, max, "%s%u", base, how >> 2);
		break;
	case 1:
		break; /* empty */
	case 2:
		snprintf(s, max, "%s\n%u", base, how >> 2); /* not printable */
		break;
	case 3:
		memset(s, 'x', max); /* no NUL */
		break;
	}
}

/*
 * ADD_VM: byte 0 the name (bits 0-1: valid, empty, unprintable, no NUL),
 * byte 1 the cmdline (the same), byte 2 bit 0 RESTORE, bit 1 bare metal,
 * bit 2 a type past the last, bit 3 an unknown flag.
 */
static void call_add_vm(struct in *in, struct trap_frame *f)
{
	struct shyper_vm_desc d;
	uint8_t nm = u8(in), cl = u8(in), fl = u8(in);

	fill_string(d.name, sizeof(d.name), nm, "guest");
	fill_string(d.cmdline, sizeof(d.cmdline), cl, "console=ttyAMA0");
	d.type = fl & 4 ? 2 : fl & 2 ? SHYPER_VM_T_BARE_METAL : SHYPER_VM_T_LINUX;
	d.flags = (fl & 1 ? SHYPER_VM_F_RESTORE : 0) | (fl & 8 ? 0x100 : 0);
	memcpy(env.buf, &d, sizeof(d));
	buf_args(&f->x[1], &f->x[2], sizeof(d));
}

/* SET_CPU: vm, vCPUs, cores bitmap, master core, slice (table). */
static void call_set_cpu(struct in *in, struct trap_frame *f)
{
	static const uint64_t slices[8] = { 0, 0, SHYPER_SLICE_MIN_US, 10000,
					    SHYPER_SLICE_MAX_US, SHYPER_SLICE_MIN_US - 1,
					    SHYPER_SLICE_MAX_US + 1, 1ULL << 32 };

	f->x[1] = vm_sel(in);
	f->x[2] = small(in);
	f->x[3] = small(in);
	f->x[4] = small(in);
	f->x[5] = in->raw ? u64(in) : slices[u8(in) & 7];
}

/* ADD_MEM: vm, IPA, length. */
static void call_add_mem(struct in *in, struct trap_frame *f)
{
	f->x[1] = vm_sel(in);
	f->x[2] = addr(in, FRAME_SIZE);
	f->x[3] = length(in);
}

static const uint32_t emu_types[16] = {
	SHYPER_EMU_CONSOLE, SHYPER_EMU_GICD, SHYPER_EMU_GICR, SHYPER_EMU_VIRTIO_NET,
	SHYPER_EMU_VIRTIO_NET, SHYPER_EMU_VIRTIO_CONSOLE, SHYPER_EMU_VIRTIO_BLK_MEDIATED,
	SHYPER_EMU_VIRTIO_BLK_MEDIATED, SHYPER_EMU_GPPT, SHYPER_EMU_VIRTIO_BLK,
	SHYPER_EMU_SHYPER, SHYPER_EMU_META, 13, 0x80000000u, SHYPER_EMU_VIRTIO_NET,
	SHYPER_EMU_CONSOLE,
};

/*
 * ADD_EMU_DEV: vm, type (table), base (in 0x200 units), length, SPI
 * (32 + byte; 0xff: a raw 4 bytes), cfg_num, then cfg_num values (a byte
 * each; the MAC of a net device, [image, sectors] of a blk one).
 */
static void call_add_emu_dev(struct in *in, struct trap_frame *f)
{
	struct shyper_emu_dev d;
	uint8_t irq;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "dev");
	f->x[1] = vm_sel(in);
	d.type = in->raw ? (uint32_t)u64(in) : emu_types[u8(in) & 15];
	d.base_ipa = addr(in, VIRTIO_MMIO_SIZE);
	d.length = length(in);
	irq = u8(in);
	d.irq_id = irq == 0xff ? (uint32_t)u64(in) : 32u + irq;
	d.cfg_num = u8(in) % (SHYPER_CFG_LIST_MAX + 3);
	for (unsigned i = 0; i < d.cfg_num && i < SHYPER_CFG_LIST_MAX; i++)
		d.cfg_list[i] = small(in);
	memcpy(env.buf, &d, sizeof(d));
	buf_args(&f->x[2], &f->x[3], sizeof(d));
}

/* ADD_PT_REGION: vm, PA, IPA, length. */
static void call_add_pt_region(struct in *in, struct trap_frame *f)
{
	f->x[1] = vm_sel(in);
	f->x[2] = addr(in, FRAME_SIZE);
	f->x[3] = addr(in, FRAME_SIZE);
	f->x[4] = length(in);
}

/* ADD_PT_IRQ: vm, interrupt id (2 bytes). */
static void call_add_pt_irq(struct in *in, struct trap_frame *f)
{
	f->x[1] = vm_sel(in);
	f->x[2] = in->raw ? u64(in) : u16(in);
}

/* ADD_DTB_DEV: vm, type (byte % 5), irq_num, address, length. */
static void call_add_dtb_dev(struct in *in, struct trap_frame *f)
{
	struct shyper_dtb_dev d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "dtb");
	f->x[1] = vm_sel(in);
	d.type = in->raw ? (uint32_t)u64(in) : u8(in) % 5;
	d.irq_num = in->raw ? (uint32_t)u64(in) : u8(in) % (SHYPER_CFG_LIST_MAX + 2);
	for (unsigned i = 0; i < d.irq_num && i < SHYPER_CFG_LIST_MAX; i++)
		d.irqs[i] = 32 + i;
	d.addr_ipa = addr(in, FRAME_SIZE);
	d.length = length(in);
	memcpy(env.buf, &d, sizeof(d));
	buf_args(&f->x[2], &f->x[3], sizeof(d));
}

/*
 * SET_IMAGE: vm; kernel IPA, entry (pages past the kernel's IPA, 1 byte),
 * size (2 bytes, in 16-byte units); DTB IPA, size (2 bytes,
 * 16-byte units); initrd IPA, size (the same). Raw: the seven values.
 */
static void call_set_image(struct in *in, struct trap_frame *f)
{
	struct shyper_image_desc d;

	f->x[1] = vm_sel(in);
	if (in->raw) {
		d.kernel_load_ipa = u64(in);
		d.kernel_entry = u64(in);
		d.kernel_size = u64(in);
		d.dtb_load_ipa = u64(in);
		d.dtb_size = u64(in);
		d.ramdisk_load_ipa = u64(in);
		d.ramdisk_size = u64(in);
	} else {
		d.kernel_load_ipa = addr(in, FRAME_SIZE);
		d.kernel_entry = d.kernel_load_ipa + (uint64_t)u8(in) * FRAME_SIZE;
		d.kernel_size = (uint64_t)u16(in) * 16;
		d.dtb_load_ipa = addr(in, FRAME_SIZE);
		d.dtb_size = (uint64_t)u16(in) * 16;
		d.ramdisk_load_ipa = addr(in, FRAME_SIZE);
		d.ramdisk_size = (uint64_t)u16(in) * 16;
	}
	memcpy(env.buf, &d, sizeof(d));
	buf_args(&f->x[2], &f->x[3], sizeof(d));
}

/*
 * UPLOAD: vm, kind (byte % 4), offset (0: the next one due, else a raw
 * byte times 16), length (2 bytes; 0: what is left, at most 4 KiB), a
 * count (% 65) of data bytes that follow (the rest of the chunk is 0x41);
 * an arm64 Image header (magic, image_size from the second data byte) when
 * the first data byte is 'I'.
 */
static void call_upload(struct in *in, struct trap_frame *f)
{
	unsigned kind, id, count;
	uint64_t off, len, left = 0;
	uint8_t o;
	struct vm *vm;

	f->x[1] = vm_sel(in);
	kind = in->raw ? (unsigned)u64(in) : u8(in) % 4;
	o = u8(in);
	id = (unsigned)f->x[1];
	vm = id && id < HV_MAX_VMS ? &hv.vms[id] : NULL;
	if (vm && kind < 3)
		left = vm->images[kind].size - vm->images[kind].received;
	off = !o && vm && kind < 3 ? vm->images[kind].received : (uint64_t)o * 16;
	len = in->raw ? u64(in) : u16(in);
	if (!len)
		len = left < 4096 ? left : 4096;
	count = u8(in) % 65;
	f->x[2] = kind;
	f->x[3] = off;
	f->x[4] = env.outside ? MVM_BASE + MVM_SIZE - 8 : MVM_BASE + env.buf_off;
	f->x[5] = env.wrong_len ? len + 1 : len;
	if (len > MVM_SIZE - env.buf_off)
		len = MVM_SIZE - env.buf_off;
	memset(env.buf, 0x41, len);
	for (unsigned i = 0; i < count; i++) {
		uint8_t b = u8(in);

		if (i < len)
			env.buf[i] = b;
	}
	if (len >= 64 && env.buf[0] == 'I') {
		uint64_t image_size = (uint64_t)env.buf[1] << 16;

		memcpy(env.buf + 16, &image_size, 8);
		memcpy(env.buf + 56, "ARM\x64", 4);
	}
}

/* ---- what is checked ---- */

static bool known_error(int64_t ret)
{
	switch (-ret) {
	case SHYPER_EPERM: case SHYPER_ENOENT: case SHYPER_ENOMEM: case SHYPER_EFAULT:
	case SHYPER_EBUSY: case SHYPER_EEXIST: case SHYPER_ENODEV: case SHYPER_EINVAL:
	case SHYPER_ENOSPC: case SHYPER_ERANGE: case SHYPER_ENOSYS: case SHYPER_ENOTSUP:
		return true;
	}
	return false;
}

/* What a failed call may not change: copies taken before it. */
static struct snapshot {
	struct vm vm;
	enum vm_state states[HV_MAX_VMS];
	uint8_t irq_owner[GIC_MAX_INTID + 1];
	uint8_t cpu_owner[HV_MAX_CPUS];
	bool handlers[GIC_MAX_INTID + 1];
	struct med_state med;
	struct vswitch sw;
	size_t frames, heap;
} before;

NO_COVERAGE static void take_snapshot(unsigned id)
{
	if (id < HV_MAX_VMS)
		before.vm = hv.vms[id];
	for (unsigned i = 0; i < HV_MAX_VMS; i++)
		before.states[i] = hv.vms[i].state;
	memcpy(before.irq_owner, hv.irq_owner, sizeof(before.irq_owner));
	memcpy(before.cpu_owner, hv.cpu_owner, sizeof(before.cpu_owner));
	memcpy(before.handlers, host_irq_handler, sizeof(before.handlers));
	before.med = hv.mediated;
	before.sw = hv.vswitch;
	before.frames = host_frames_used;
	before.heap = host_heap_used;
}

NO_COVERAGE static void check_unchanged(unsigned id)
{
	if (id < HV_MAX_VMS) {
		struct vm *vm = &hv.vms[id];
		unsigned n = vm->config.nr_vdevs;

		/* A virtio device is written to the next slot before its checks. */
		if (n < VM_MAX_VDEVS && n == before.vm.config.nr_vdevs)
			before.vm.config.vdevs[n] = vm->config.vdevs[n];
		if (memcmp(&before.vm, vm, sizeof(*vm)))
			abort();
	}
	for (unsigned i = 0; i < HV_MAX_VMS; i++)
		if (before.states[i] != hv.vms[i].state)
			abort();
	if (memcmp(before.irq_owner, hv.irq_owner, sizeof(before.irq_owner)) ||
	    memcmp(before.cpu_owner, hv.cpu_owner, sizeof(before.cpu_owner)) ||
	    memcmp(before.handlers, host_irq_handler, sizeof(before.handlers)) ||
	    memcmp(before.med.img, hv.mediated.img, sizeof(before.med.img)) ||
	    memcmp(before.med.devs, hv.mediated.devs, sizeof(before.med.devs)) ||
	    memcmp(before.sw.ports, hv.vswitch.ports, sizeof(before.sw.ports)) ||
	    before.frames != host_frames_used || before.heap != host_heap_used)
		abort();
}

static bool is_live_guest(unsigned id)
{
	return id && id < HV_MAX_VMS && hv.vms[id].state != VM_FREE;
}

/* Frames, heap blocks and owners: exactly what the live VMs hold. */
NO_COVERAGE static void check_accounting(void)
{
	size_t frames = 0, heap = 0;
	unsigned ports = 0, med_devs = 0;

	for (unsigned id = 1; id < HV_MAX_VMS; id++) {
		const struct vm *vm = &hv.vms[id];

		if (vm->state == VM_FREE) {
			if (vm->s2.mm || vm->nr_vdevs || vm->cfg)
				abort();
			continue;
		}
		if (vm->id != id || vm->cfg != &vm->config)
			abort();
		frames += vm->s2.nr_tables;
		for (unsigned i = 0; i < vm->config.nr_mem; i++)
			frames += vm->config.mem[i].size / FRAME_SIZE;
		for (unsigned k = 0; k < 3; k++)
			if (vm->images[k].store_pa)
				frames += (vm->images[k].size + FRAME_SIZE - 1) / FRAME_SIZE;
		for (unsigned i = 0; i < vm->nr_vdevs; i++)
			if (vm->vdevs[i].model)
				heap++;
		if (vm->nr_vdevs > vm->config.nr_vdevs)
			abort();
	}
	if (frames != host_frames_used || heap != host_heap_used)
		abort();
	for (unsigned c = 0; c < HV_MAX_CPUS; c++) {
		unsigned owner = 0;

		for (unsigned id = 0; id < HV_MAX_VMS && !owner; id++) {
			const struct vm *vm = &hv.vms[id];
			uint64_t cores = id == 0 ? vm->cfg->cpu_bitmap :
					 vm->cpus_set ? vm->config.cpu_bitmap : 0;

			if (vm->state != VM_FREE && (cores & (1UL << c)))
				owner = id + 1;
		}
		if (hv.cpu_owner[c] != owner)
			abort();
	}
	for (unsigned i = 0; i <= GIC_MAX_INTID; i++) {
		unsigned owner = hv.irq_owner[i];

		if (owner && (owner > HV_MAX_VMS || hv.vms[owner - 1].state == VM_FREE))
			abort();
		if (host_irq_handler[i] && (!owner || owner == 1))
			abort(); /* only a guest's passthrough interrupts get one here */
	}
	for (unsigned i = 0; i < MED_MAX_DEVS; i++)
		med_devs += hv.mediated.devs[i] != NULL;
	for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++)
		ports += hv.vswitch.ports[i] != NULL;
	if (med_devs > heap || ports > heap)
		abort();
}

/* ---- the other calls ---- */

/* SHYPER_VMM_REMOVE (vmm.c): not the MVM, not a running VM. */
static int64_t vmm_remove(uint64_t id)
{
	struct vm *vm = id < HV_MAX_VMS ? vm_by_id((unsigned)id) : NULL;

	if (!vm)
		return -SHYPER_ENOENT;
	if (vm_is_mvm(vm))
		return -SHYPER_EPERM;
	if (vm->state == VM_RUNNING || vm->state == VM_STOPPING)
		return -SHYPER_EBUSY;
	vm_destroy(vm);
	return 0;
}

/*
 * A guest register access to one of a finished VM's emulated devices:
 * vm, region (byte % regions), offset (2 bytes), bits 0-1 log2 width,
 * bit 2 write, then 4 value bytes. The vGIC's regions are left out (their
 * own harness has them).
 */
static void guest_mmio(struct in *in)
{
	uint64_t id = vm_sel(in);
	uint8_t r = u8(in), how;
	uint16_t off = u16(in);
	struct mmio_access acc;
	struct vm *vm;
	const struct mmio_region *reg;
	int ret;

	how = u8(in);
	acc.value = 0;
	for (unsigned i = 0; i < 4; i++)
		acc.value |= (uint64_t)u8(in) << (8 * i);
	if (id >= HV_MAX_VMS || !is_live_guest((unsigned)id))
		return;
	vm = &hv.vms[id];
	if (!vm->setup_done || !vm->nr_mmio)
		return;
	reg = &vm->mmio[r % vm->nr_mmio];
	if (reg->kind != MMIO_VDEV && reg->kind != MMIO_VUART)
		return;
	acc.addr = reg->base + off % reg->size;
	acc.size = 1u << (how & 3);
	acc.write = how & 4;
	ret = vm_mmio_dispatch(&vm->vcpus[0], &acc);
	if (trace)
		fprintf(stderr, "mmio vm%u 0x%lx/%u %s 0x%lx = %d\n", vm->id, acc.addr, acc.size,
			acc.write ? "write" : "read", acc.value, ret);
}

/* ---- the run ---- */

static void setup_board(const uint8_t *h)
{
	struct host_board b = {
		.gic_version = h[0] & 1 ? 3 : 2,
		.no_gicv = h[0] & 16,
		.nr_cpus = 1 + ((h[0] >> 1) & 7),
		.offline = h[1],
		.mvm_cores = h[2],
		.nr_irqs = 64 + 32 * (h[3] % 15),
		.frame_budget = FRAME_BUDGET,
		.alloc_fail_at = h[4],
	};

	host_setup(&b);
	env = (struct env){ 0 };
}

static void run_call(struct in *in)
{
	uint8_t op = u8(in);
	struct trap_frame f;
	struct vcpu *caller = op & 0x80 ? host_guest_vcpu() : host_mvm_vcpu();
	unsigned fn = op & 15, id;
	int64_t ret;

	memset(&f, 0, sizeof(f));
	in->raw = op & 0x10;
	env.wrong_len = op & 0x20;
	env.outside = op & 0x40;
	env.buf_off = (unsigned)(in->pos * 8 % (MVM_SIZE / 2)) & ~7u;
	env.buf = host_mvm_ram + env.buf_off;

	switch (fn) {
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_VM): call_add_vm(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_SET_CPU): call_set_cpu(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_MEM): call_add_mem(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_EMU_DEV): call_add_emu_dev(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_PT_REGION): call_add_pt_region(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_PT_IRQ): call_add_pt_irq(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_DTB_DEV): call_add_dtb_dev(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_SET_IMAGE): call_set_image(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_UPLOAD): call_upload(in, &f); break;
	case SHYPER_HVC_FN(SHYPER_CFG_FINISH): f.x[1] = vm_sel(in); break;
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_PT_STREAM):
		f.x[1] = vm_sel(in);
		f.x[2] = small(in);
		if (u8(in) & 1) /* or a function past the group's last */
			fn += 1 + (u8(in) & 3);
		break;
	case 11:
	case 12: {
		uint64_t vm_id = vm_sel(in);

		take_snapshot(HV_MAX_VMS);
		ret = vmm_remove(vm_id);
		if (trace)
			fprintf(stderr, "remove %lu = %ld\n", vm_id, (long)ret);
		if (ret && (ret != -SHYPER_ENOENT && ret != -SHYPER_EPERM))
			abort();
		if (ret)
			check_unchanged(HV_MAX_VMS);
		else if (hv.vms[vm_id].state != VM_FREE)
			abort();
		return;
	}
	case 13:
		guest_mmio(in);
		return;
	case 14: { /* the mediated daemon: an image (un)registered */
		uint8_t img = u8(in), fl = u8(in);
		struct trap_frame m = { .x = { 0, img % (SHYPER_MED_IMAGES_MAX + 1),
					       1 + (uint64_t)u8(in) * 8, fl & 3 } };

		ret = hc_mediated(host_mvm_vcpu(), &m,
				  fl & 4 ? SHYPER_HVC_FN(SHYPER_MED_UNREGISTER) :
					   SHYPER_HVC_FN(SHYPER_MED_REGISTER));
		if (trace)
			fprintf(stderr, "mediated image %lu flags 0x%x = %ld\n", m.x[1], fl, (long)ret);
		if (ret && ret != -SHYPER_EINVAL)
			abort();
		return;
	}
	default: /* 15: the caller changes nothing, only what follows */
		return;
	}

	id = fn == SHYPER_HVC_FN(SHYPER_CFG_ADD_VM) ? HV_MAX_VMS :
	     f.x[1] < HV_MAX_VMS ? (unsigned)f.x[1] : HV_MAX_VMS;
	take_snapshot(id);
	f.x[0] = SHYPER_HVC(SHYPER_GRP_CONFIG, fn);
	ret = hc_config(caller, &f, fn);
	if (trace)
		fprintf(stderr, "cfg %u(%lx, %lx, %lx, %lx, %lx)%s = %ld\n", fn, f.x[1], f.x[2],
			f.x[3], f.x[4], f.x[5], caller->vm == &hv.vms[0] ? "" : " from a guest",
			(long)ret);
	if (ret && !known_error(ret))
		abort();
	if (caller->vm != &hv.vms[0] && ret != -SHYPER_EPERM && ret != -SHYPER_ENOSYS)
		abort();
	if (fn > SHYPER_HVC_FN(SHYPER_CFG_ADD_PT_STREAM) && ret != -SHYPER_ENOSYS)
		abort();
	if (ret) {
		check_unchanged(id);
	} else if (fn == SHYPER_HVC_FN(SHYPER_CFG_ADD_VM)) {
		if (!is_live_guest((unsigned)f.x[1]) ||
		    hv.vms[f.x[1]].state != VM_CONFIGURING || hv.vms[f.x[1]].id != f.x[1])
			abort();
		env.last_vm = (unsigned)f.x[1];
	} else if (fn == SHYPER_HVC_FN(SHYPER_CFG_FINISH)) {
		if (hv.vms[id].state != VM_READY || !hv.vms[id].setup_done)
			abort();
	}
}

/* Every guest removed (vm_destroy, as REMOVE does): nothing may remain. */
NO_COVERAGE static void remove_all_and_check(void)
{
	for (unsigned id = 1; id < HV_MAX_VMS; id++)
		if (hv.vms[id].state != VM_FREE)
			vm_destroy(&hv.vms[id]);
	check_accounting();
	if (host_frames_used || host_heap_used || host_blocks)
		abort();
	for (unsigned i = 0; i <= GIC_MAX_INTID; i++)
		if ((hv.irq_owner[i] && i != HOST_MVM_IRQ) || host_irq_handler[i])
			abort();
	for (unsigned c = 0; c < HV_MAX_CPUS; c++)
		if (hv.cpu_owner[c] > 1)
			abort();
	for (unsigned i = 0; i < MED_MAX_DEVS; i++)
		if (hv.mediated.devs[i])
			abort();
	for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++)
		if (hv.vswitch.ports[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size, HDR, false };
	unsigned calls = 0;

	if (size < HDR)
		return 0;
	setup_board(data);
	check_accounting();
	while (in.pos < in.n && calls++ < MAX_CALLS) {
		run_call(&in);
		check_accounting();
	}
	remove_all_and_check();
	return 0;
}

/* ---- seeds: configurations as the CLI sends them ---- */

struct seed {
	uint8_t b[4096];
	size_t n;
};

static void put(struct seed *s, unsigned n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		s->b[s->n++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}

static void seed_write(const char *dir, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

#define LAST 0x80 /* the VM selector: the one added last */

/*
 * A Linux guest: 2 vCPUs on cores 1-2, two RAM regions at GUEST_RAM (256
 * KiB each, or 2 MiB with `blocks`), images uploaded (or none: a VM for a
 * restore, its images after FINISH), and with `devices` virtio net,
 * console and mediated blk, a PL011, a passthrough region and interrupt,
 * then guest accesses to the devices.
 */
static void seed_linux(struct seed *s, bool restore, bool devices, bool blocks)
{
	put(s, 4, 0, 0, 0, restore ? 1 : 0);		/* ADD_VM */
	put(s, 6, 1, LAST, 2, 6, 1, 3);			/* SET_CPU: 2 on 0b110 */
	if (blocks) {
		put(s, 5, 2, LAST, 0x00, 0x00, 0x80);	/* ADD_MEM: 2 MiB */
		put(s, 5, 2, LAST, 0x00, 0x02, 0x80);	/* and 2 MiB more */
	} else {
		put(s, 5, 2, LAST, 0x00, 0x00, 0x40);	/* ADD_MEM: 256 KiB */
		put(s, 5, 2, LAST, 0x40, 0x00, 0x40);	/* and 256 KiB more */
	}
	if (devices) {
		/* virtio-net at 0x0a000000 (0x200 bytes), SPI 48, a MAC. */
		put(s, 7, 3, LAST, 3, 0x00, 0x70, 0xc2, 16);
		put(s, 7, 6, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
		/* virtio-console at 0x0a001000, SPI 49, peer 0. */
		put(s, 7, 3, LAST, 5, 0x08, 0x70, 0xc2, 17);
		put(s, 2, 1, 0);
		/* mediated blk at 0x0a002000, SPI 50: image 0, 64 sectors. */
		put(s, 7, 3, LAST, 6, 0x10, 0x70, 0xc2, 18);
		put(s, 3, 2, 0, 64);
		/* A PL011 at 0x09000000, SPI 33. */
		put(s, 8, 3, LAST, 0, 0x00, 0x60, 0x08, 1, 0);
		put(s, 4, 5, LAST, 40, 0);		/* passthrough SPI 40 */
		/* Passthrough 0x10000000, two pages, at the same IPA. */
		put(s, 7, 4, LAST, 0x00, 0xe0, 0x00, 0xe0, 0x02);
		/* The device tree's console: the PL011. */
		put(s, 6, 6, LAST, 0, 0, 0x00, 0x60);
		put(s, 1, 0x01);
	}
	if (!restore) {
		/* Kernel at +64 KiB (0x200 bytes), the generated DTB at
		 * +128 KiB, an initrd at +256 KiB (0x100 bytes). */
		put(s, 2, 7, LAST);
		put(s, 13, 0x10, 0x00, 0, 0x20, 0x00, 0x20, 0x00, 0, 0, 0x40, 0x00, 0x10, 0x00);
		put(s, 10, 8, LAST, 0, 0, 0, 0, 4, 'I', 0, 0);	/* UPLOAD kernel */
		put(s, 1, 0);
		put(s, 7, 8, LAST, 1, 0, 0, 0, 0);		/* UPLOAD initrd */
	}
	put(s, 2, 9, LAST);				/* FINISH */
	if (devices) {
		put(s, 4, 14, 0, 0, 8);			/* image 0 served */
		/* Reads of each region's first word, then a status write
		 * (the net device joins the switch). */
		for (unsigned r = 0; r < 4; r++) {
			put(s, 10, 13, LAST, r, 0, 0, 2, 0, 0, 0, 0);
			put(s, 10, 13, LAST, r, 0x70, 0, 6, 1, 0, 0, 0);
		}
	}
	if (restore) {
		/* Images after FINISH, as a migration's stream brings them. */
		put(s, 2, 7, LAST);
		put(s, 13, 0x10, 0x00, 0, 0x20, 0x00, 0x20, 0x00, 0, 0, 0, 0, 0, 0);
		put(s, 7, 8, LAST, 0, 0, 0, 0, 0);
	}
}

static void seed_start(struct seed *s, uint8_t board)
{
	s->n = 0;
	put(s, 8, board, 0, 0, 0, 0, 0, 0, 0);
}

static void write_seeds(const char *dir)
{
	static struct seed s;

	seed_start(&s, 1 | 2 << 1);
	seed_linux(&s, false, false, true);
	seed_write(dir, "linux-v3", &s);
	seed_start(&s, 0 | 3 << 1);
	seed_linux(&s, false, true, false);
	seed_write(dir, "linux-v2-devices", &s);
	seed_start(&s, 1 | 3 << 1);
	seed_linux(&s, true, true, false);
	seed_write(dir, "restore-v3-devices", &s);
	/* Two guests sharing cores; the first removed, the second kept. */
	seed_start(&s, 1 | 3 << 1);
	seed_linux(&s, false, true, false);
	put(&s, 2, 11, 1);
	seed_linux(&s, true, false, false);
	seed_write(dir, "remove-add", &s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_VM_CFG_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_VM_CFG_TRACE");
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
