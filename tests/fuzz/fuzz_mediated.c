/*
 * libFuzzer harness for the mediated virtio-blk protocol (hv/dev/mediated.c):
 * the MEDIATED hypercalls of the MVM's daemon (REGISTER, UNREGISTER, FETCH,
 * COMPLETE) against guests whose mediated blk devices (hv/dev/virtio_blk.c
 * over virtio_mmio.c and virtq.c) take requests from their drivers, and
 * guests removed while requests are in flight. The guests are built by the
 * config hypercalls and reached through the VM's MMIO dispatch, as on the
 * board (hv/core/vm_cfg.c, vm.c, vdev.c; tests/host/vm_host.c for the
 * rest, as fuzz_vm_cfg.c has it).
 *
 * The input: how many guests and devices, their queue layout and image
 * indexes, each guest's RAM, then steps of the drivers (notify, raw
 * register accesses, reset, RAM changes, interrupt acks), of the daemon
 * (FETCH into buffers of every size, also outside its RAM; COMPLETE of
 * what it fetched or of ids changed or made up, with every status and
 * length; REGISTER and UNREGISTER with any index, size and flags; a call
 * the group lacks) and of the MVM (REMOVE a guest, add it again), and
 * calls from a guest.
 *
 * Checked (beyond no crash or sanitizer report; ASan sees every guest RAM
 * and device model as its own block, so a request reaching a removed
 * guest's memory is a report):
 *  - results: FETCH 0, -EAGAIN, -EINVAL (only for a buffer shorter than a
 *    request), -EFAULT (only for one outside the MVM's RAM) or -EOVERFLOW;
 *    COMPLETE exactly what the registry and the request's state say;
 *    REGISTER / UNREGISTER 0 or -EINVAL as the index and flags say; a
 *    guest's call -EPERM; an unknown function -ENOSYS;
 *  - a fetched request: its id names a registry slot holding a device of
 *    a live guest, whose VM id and image it carries; a type the daemon
 *    knows; FLUSH without data at sector 0, reads and writes of whole
 *    sectors, at most SHYPER_MED_DATA_MAX, inside the device's capacity;
 *    never from an image not registered or failed; no write to a
 *    read-only one; a write's data fits the buffer;
 *  - an id fetched from a device whose guest was removed since never
 *    completes a request: a device set up in the removed one's registry
 *    slot numbers its requests from a start of its own (before, from 1
 *    again, so a daemon holding the old id completed the new device's
 *    first request with data meant for the removed guest; the seeds do
 *    exactly that);
 *  - the registry holds devices of live guests only, each once;
 *  - frames and heap blocks in use are those the live guests own, and
 *    nothing remains once all are removed.
 *
 * Input layout:
 *   0      bits 0-1 guests - 1 (1 .. 3), bit 2 two devices each, bit 3
 *          EVENT_IDX, bit 4 INDIRECT_DESC, bit 5 GICv3 (else v2)
 *   1      log2 of the queues' size (1 .. 128)
 *   2-7    descriptor table, driver area, device area offsets (each
 *          device's rings: these plus 0x2000 times its index in the guest)
 *   8-9    image of device k of all: bits 2k+1..2k (0 .. 3)
 *   10-11  capacity of every device, in sectors (0: 1)
 *   12     images registered at the start (bits 0-3), read-only (4-7)
 *   13     unused
 *   14-15  L: bytes of steps
 *   16-    L bytes of steps, then the guests' RAM, one after the other.
 *          Steps: opcode byte (low 4 bits the step, bits 4-5 the guest,
 *          bit 6 its second device, bit 7 a variant), operands:
 *            0 notify       the request queue (variant: queue 1, none)
 *            1 register     offset (1 byte, times 2), width 1/2/4/8 (low 2
 *                           bits of the next byte), write (bit 2), value
 *                           (4 bytes)
 *            2 reset        the driver resets the device and brings it up
 *            3 RAM          variant: avail idx += 1 + byte % 8; else an
 *                           offset (2 bytes) and a value
 *            4 FETCH        buffer length (byte: table), variant: buffer
 *                           outside the MVM's RAM
 *            5 COMPLETE     which fetched (byte), status (byte % 4),
 *                           length (byte: right, none, +512, too big, raw
 *                           * 512); variant: the id changed (byte: which
 *                           bits) or made up (8 bytes)
 *            6 REGISTER     index (byte % 17), sectors (2 bytes; 0: the
 *                           capacity), flags (byte % 8)
 *            7 UNREGISTER   index (byte % 17)
 *            8 REMOVE       the guest (SHYPER_VMM_REMOVE's vm_destroy)
 *            9 add          the guest again, if removed
 *           10 interrupt    the guest reads and acks the device's status
 *           11 from a guest a MEDIATED call made by a guest (fn: byte % 5)
 *           12 unknown      a MEDIATED function past COMPLETE
 *
 * Seeds: run with FUZZ_MEDIATED_WRITE_SEEDS=<dir>, the harness writes
 * guests with requests of every kind and a daemon serving them, and exits.
 *
 * fuzz-sources: hv/dev/mediated.c hv/dev/virtio_blk.c hv/dev/virtio_mmio.c hv/dev/virtq.c
 * fuzz-sources: hv/core/vm_cfg.c hv/core/vm.c hv/arch/aarch64/stage2.c
 * fuzz-sources: hv/dev/vgic.c hv/dev/vgic_irq.c hv/dev/vgic_mmio.c hv/dev/vuart.c
 * fuzz-sources: hv/dev/vdev.c hv/dev/vdev_net.c hv/dev/virtio_net.c hv/dev/vswitch.c
 * fuzz-sources: hv/dev/vdev_console.c hv/dev/virtio_console.c hv/lib/fmt.c
 * fuzz-sources: tests/host/vm_host.c tests/host/vm_host.h
 * fuzz-sources: tests/host/arch/sysreg.h tests/host/arch/spinlock.h
 * fuzz-sources: hv/core/iommu.c hv/core/io_pt.c hv/core/vm_pcie.c hv/core/board_pcie.c hv/core/board.c hv/lib/dt.c hv/lib/dt_irq.c hv/plat/drivers/smmuv3.c hv/plat/drivers/smmuv3_desc.c
 * fuzz-cflags: -Itests/host -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <core/hypercall.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/mediated.h>
#include <dev/vdev.h>
#include <dev/virtio_blk.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/mediated.h>
#include <shyper/virtio.h>

#include "vm_host.h"

#define HDR 16
#define MAX_GUESTS 3
#define GUEST_RAM 0x80000000ULL
#define GRAM_SIZE 0x4000u
#define DEV_BASE 0x0a000000ULL
#define DEV_IRQ 48
#define MAX_FETCHED 64
#define REQ sizeof(struct shyper_med_req)

#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

struct fetched {
	uint64_t id;
	uint32_t type, len;
	unsigned g;	/* the guest it came from */
	bool stale;	/* that guest was removed since */
};

static struct env {
	unsigned nr_guests, nr_devs;
	unsigned id[MAX_GUESTS]; /* VM id; 0: removed */
	uint8_t image[MAX_GUESTS][2];
	uint64_t capacity;
	unsigned num;
	uint64_t desc, avail, used;
	bool event_idx, indirect;
	const uint8_t *ram;
	size_t ram_len;
	struct fetched fetched[MAX_FETCHED];
	unsigned nr_fetched;
} env;

static bool trace; /* FUZZ_MEDIATED_TRACE set: the daemon's calls on stderr */

/* ---- guests ---- */

static int64_t cfg(unsigned fn, uint64_t x1, uint64_t x2, uint64_t x3, uint64_t x4)
{
	struct trap_frame f = { .x = { 0, x1, x2, x3, x4 } };
	int64_t ret = hc_config(host_mvm_vcpu(), &f, SHYPER_HVC_FN(fn));

	return !ret && fn == SHYPER_CFG_ADD_VM ? (int64_t)f.x[1] : ret;
}

static uint64_t in_mvm(const void *p, size_t len)
{
	memcpy(host_mvm_ram, p, len);
	return HOST_MVM_BASE;
}

NO_COVERAGE static struct vm *guest_vm(unsigned g)
{
	return env.id[g] ? &hv.vms[env.id[g]] : NULL;
}

NO_COVERAGE static struct vdev *guest_dev(unsigned g, unsigned d)
{
	struct vm *vm = guest_vm(g);

	return vm && d < vm->nr_vdevs ? &vm->vdevs[d] : NULL;
}

NO_COVERAGE static struct virtio_blk *blk_of(const struct vdev *vd)
{
	return (struct virtio_blk *)((uint8_t *)vd->dev - offsetof(struct virtio_blk, dev));
}

static uint64_t reg(struct vm *vm, unsigned d, uint64_t off, unsigned size, bool write,
		    uint64_t val)
{
	struct mmio_access acc = { .addr = DEV_BASE + 0x1000 * d + off, .size = size,
				   .write = write, .value = val };

	(void)vm_mmio_dispatch(&vm->vcpus[0], &acc);
	return acc.value;
}

static void bring_up(struct vm *vm, unsigned d)
{
	uint32_t lo, hi, st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint64_t shift = (uint64_t)0x2000 * d;

	reg(vm, d, VIRTIO_MMIO_STATUS, 4, true, 0);
	reg(vm, d, VIRTIO_MMIO_STATUS, 4, true, st);
	reg(vm, d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, true, 0);
	lo = (uint32_t)reg(vm, d, VIRTIO_MMIO_DEVICE_FEATURES, 4, false, 0);
	reg(vm, d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, true, 1);
	hi = (uint32_t)reg(vm, d, VIRTIO_MMIO_DEVICE_FEATURES, 4, false, 0);
	if (!env.event_idx)
		lo &= ~(1u << VIRTIO_F_EVENT_IDX);
	if (!env.indirect)
		lo &= ~(1u << VIRTIO_F_INDIRECT_DESC);
	reg(vm, d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, true, 0);
	reg(vm, d, VIRTIO_MMIO_DRIVER_FEATURES, 4, true, lo);
	reg(vm, d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, true, 1);
	reg(vm, d, VIRTIO_MMIO_DRIVER_FEATURES, 4, true, hi);
	st |= VIRTIO_STATUS_FEATURES_OK;
	reg(vm, d, VIRTIO_MMIO_STATUS, 4, true, st);
	reg(vm, d, VIRTIO_MMIO_QUEUE_SEL, 4, true, 0);
	reg(vm, d, VIRTIO_MMIO_QUEUE_NUM, 4, true, env.num);
	reg(vm, d, VIRTIO_MMIO_QUEUE_DESC_LOW, 4, true, (uint32_t)(env.desc + shift));
	reg(vm, d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, true, (env.desc + shift) >> 32);
	reg(vm, d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 4, true, (uint32_t)(env.avail + shift));
	reg(vm, d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 4, true, (env.avail + shift) >> 32);
	reg(vm, d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 4, true, (uint32_t)(env.used + shift));
	reg(vm, d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 4, true, (env.used + shift) >> 32);
	reg(vm, d, VIRTIO_MMIO_QUEUE_READY, 4, true, 1);
	reg(vm, d, VIRTIO_MMIO_STATUS, 4, true, st | VIRTIO_STATUS_DRIVER_OK);
}

/* Guest g as the CLI builds it: one vCPU on core 1 (Linux guests share
 * it), its RAM, its mediated devices; finished and its drivers up. */
static void add_guest(unsigned g)
{
	struct shyper_vm_desc d = { .type = SHYPER_VM_T_LINUX, .flags = SHYPER_VM_F_RESTORE };
	int64_t id;
	struct vm *vm;

	snprintf(d.name, sizeof(d.name), "guest%u", g);
	id = cfg(SHYPER_CFG_ADD_VM, in_mvm(&d, sizeof(d)), sizeof(d), 0, 0);
	if (id <= 0 || cfg(SHYPER_CFG_SET_CPU, id, 1, 2, 1) ||
	    cfg(SHYPER_CFG_ADD_MEM, id, GUEST_RAM, GRAM_SIZE, 0) ||
	    cfg(SHYPER_CFG_ADD_MEM, id, 0x09000000, 0x1000, 0)) /* no default console */
		abort();
	for (unsigned k = 0; k < env.nr_devs; k++) {
		struct shyper_emu_dev e = {
			.base_ipa = DEV_BASE + 0x1000 * k, .length = 0x1000, .irq_id = DEV_IRQ + k,
			.type = SHYPER_EMU_VIRTIO_BLK_MEDIATED, .cfg_num = 2,
			.cfg_list = { env.image[g][k], env.capacity },
		};

		if (cfg(SHYPER_CFG_ADD_EMU_DEV, id, in_mvm(&e, sizeof(e)), sizeof(e), 0))
			abort();
	}
	if (cfg(SHYPER_CFG_FINISH, id, 0, 0, 0))
		abort();
	env.id[g] = (unsigned)id;
	vm = guest_vm(g);
	if (env.ram_len > (size_t)g * GRAM_SIZE) {
		size_t n = env.ram_len - (size_t)g * GRAM_SIZE;

		memcpy(vm_ram_ptr(vm, GUEST_RAM, GRAM_SIZE), env.ram + (size_t)g * GRAM_SIZE,
		       n < GRAM_SIZE ? n : GRAM_SIZE);
	}
	for (unsigned k = 0; k < env.nr_devs; k++)
		bring_up(vm, k);
}

static void remove_guest(unsigned g)
{
	struct vm *vm = guest_vm(g);

	if (!vm)
		return;
	vm_destroy(vm);
	env.id[g] = 0;
	for (unsigned i = 0; i < env.nr_fetched; i++)
		if (env.fetched[i].g == g)
			env.fetched[i].stale = true;
}

/* ---- the daemon ---- */

static int64_t med(struct vcpu *caller, unsigned fn, uint64_t x1, uint64_t x2, uint64_t x3,
		   uint64_t x4)
{
	struct trap_frame f = { .x = { SHYPER_HVC(SHYPER_GRP_MEDIATED, fn), x1, x2, x3, x4 } };
	int64_t ret = hc_mediated(caller, &f, fn);

	if (trace)
		fprintf(stderr, "med %u(%lx, %lx, %lx, %lx) = %ld\n", fn, x1, x2, x3, x4,
			(long)ret);
	return ret;
}

/* The live device registry slot dev holds, and its guest and index. */
NO_COVERAGE static struct vdev *registered(unsigned dev, unsigned *g_out, unsigned *d_out)
{
	const void *m = dev < MED_MAX_DEVS ? (const void *)hv.mediated.devs[dev] : NULL;

	for (unsigned g = 0; m && g < env.nr_guests; g++)
		for (unsigned d = 0; d < env.nr_devs; d++) {
			struct vdev *vd = guest_dev(g, d);

			if (vd && vd->model == m) {
				*g_out = g;
				*d_out = d;
				return vd;
			}
		}
	return NULL;
}

/* The guest a fetched request came from (check_fetched found it). */
NO_COVERAGE static unsigned fetched_from(const struct shyper_med_req *r)
{
	unsigned g = 0, d;

	(void)registered((unsigned)(r->id >> 40), &g, &d);
	return g;
}

NO_COVERAGE static void check_fetched(const struct shyper_med_req *r, uint64_t buf_len)
{
	unsigned g, d;
	struct vdev *vd = registered((unsigned)(r->id >> 40), &g, &d);
	const struct med_image *im;
	uint64_t cap;

	if (!vd || !r->id || r->vm_id != env.id[g] || r->image != env.image[g][d])
		abort();
	im = &hv.mediated.img[r->image];
	cap = blk_of(vd)->capacity;
	if (!im->registered || (im->flags & SHYPER_MED_F_FAILED))
		abort(); /* no backend: the request fails at once */
	switch (r->type) {
	case SHYPER_MED_T_FLUSH:
		if (r->len || r->sector)
			abort();
		break;
	case SHYPER_MED_T_WRITE:
		if ((im->flags & SHYPER_MED_F_RO) || r->len > buf_len - REQ)
			abort();
		/* fall through */
	case SHYPER_MED_T_READ:
		if (!r->len || r->len % SHYPER_MED_SECTOR || r->len > SHYPER_MED_DATA_MAX ||
		    r->sector > cap || r->len / SHYPER_MED_SECTOR > cap - r->sector)
			abort();
		break;
	default:
		abort();
	}
}

/* FETCH: buffer length from a table, or outside the MVM's RAM. */
static void fetch(uint8_t op, uint8_t which)
{
	static const uint64_t lens[8] = { REQ, REQ - 1, REQ + 512, REQ + 4096,
					  REQ + 0x10000, REQ + SHYPER_MED_DATA_MAX, 1ULL << 32, 0 };
	uint64_t len = lens[which & 7], ipa = HOST_MVM_BASE, clipped;
	bool outside = op & 0x80;
	struct shyper_med_req r;
	int64_t ret;

	if (outside)
		ipa = HOST_MVM_BASE + HOST_MVM_SIZE - REQ;
	clipped = len > REQ + SHYPER_MED_DATA_MAX ? REQ + SHYPER_MED_DATA_MAX : len;
	memset(host_mvm_ram, 0xee, REQ);
	ret = med(host_mvm_vcpu(), SHYPER_HVC_FN(SHYPER_MED_FETCH), ipa, len, 0, 0);
	if (len < REQ) {
		if (ret != -SHYPER_EINVAL)
			abort();
		return;
	}
	if (outside && clipped > REQ) {
		if (ret != -SHYPER_EFAULT)
			abort();
		return;
	}
	if (ret == -SHYPER_EAGAIN || ret == -SHYPER_EOVERFLOW)
		return;
	if (ret)
		abort();
	memcpy(&r, outside ? host_mvm_ram + HOST_MVM_SIZE - REQ : host_mvm_ram, REQ);
	check_fetched(&r, clipped);
	if (env.nr_fetched < MAX_FETCHED)
		env.fetched[env.nr_fetched++] = (struct fetched){ .id = r.id, .type = r.type,
								  .len = r.len, .g = fetched_from(&r) };
}

/* What COMPLETE must return, from the registry and the request's state. */
NO_COVERAGE static int64_t complete_expected(uint64_t id, uint64_t status, uint64_t len,
					     bool outside)
{
	unsigned dev = (unsigned)(id >> 40), slot = (unsigned)(id >> 32) & 0xff, g, d;
	struct vdev *vd;
	const struct vblk_req *r;

	if (status > SHYPER_MED_S_UNSUPP || len > SHYPER_MED_DATA_MAX)
		return -SHYPER_EINVAL;
	if (len && outside)
		return -SHYPER_EFAULT;
	if (dev >= MED_MAX_DEVS || !hv.mediated.devs[dev])
		return -SHYPER_ENOENT;
	vd = registered(dev, &g, &d);
	if (!vd)
		abort(); /* the registry names a device no live guest has */
	if (slot >= VBLK_INFLIGHT)
		return -SHYPER_ENOENT;
	r = &blk_of(vd)->req[slot];
	if (r->state != VBLK_FETCHED || r->seq != (uint32_t)id)
		return -SHYPER_ENOENT;
	if (r->type == VIRTIO_BLK_T_IN && status == SHYPER_MED_S_OK && len != r->len)
		return -SHYPER_EINVAL;
	return 0;
}

static uint64_t u8at(const uint8_t *s, size_t n, size_t *pos)
{
	return *pos < n ? s[(*pos)++] : 0;
}

static void complete(uint8_t op, const uint8_t *s, size_t n, size_t *pos)
{
	uint8_t which = (uint8_t)u8at(s, n, pos), status = (uint8_t)u8at(s, n, pos) % 4;
	uint8_t lsel = (uint8_t)u8at(s, n, pos);
	struct fetched f = { 0 };
	uint64_t id, len, ipa = HOST_MVM_BASE + 0x1000;
	bool outside = lsel & 0x80;
	int64_t want, ret;

	if (env.nr_fetched)
		f = env.fetched[which % env.nr_fetched];
	id = f.id;
	if (op & 0x80) { /* an id changed, or made up */
		uint8_t how = (uint8_t)u8at(s, n, pos);

		if (how & 0x80) {
			id = 0;
			for (unsigned i = 0; i < 8; i++)
				id |= u8at(s, n, pos) << (8 * i);
		} else {
			id ^= 1ULL << (how & 63);
		}
	}
	switch (lsel & 7) {
	case 0: len = f.type == SHYPER_MED_T_READ ? f.len : 0; break;
	case 1: len = 0; break;
	case 2: len = f.len + 512; break;
	case 3: len = SHYPER_MED_DATA_MAX + 1; break;
	default: len = (uint64_t)(lsel >> 3 & 15) * 512; break;
	}
	if (outside)
		ipa = HOST_MVM_BASE + HOST_MVM_SIZE - 8;
	else
		memset(host_mvm_ram + 0x1000, 0x5d, len < HOST_MVM_SIZE - 0x1000 ? len :
			HOST_MVM_SIZE - 0x1000);
	want = complete_expected(id, status, len, outside);
	ret = med(host_mvm_vcpu(), SHYPER_HVC_FN(SHYPER_MED_COMPLETE), id, status, ipa, len);
	if (ret != want)
		abort();
	if (!ret && f.stale && id == f.id)
		abort(); /* a removed guest's id completed another device's request */
}

/* ---- invariants ---- */

NO_COVERAGE static void check_state(void)
{
	size_t frames = 0, heap = 0;

	for (unsigned i = 0; i < MED_MAX_DEVS; i++) {
		unsigned g, d;

		if (!hv.mediated.devs[i])
			continue;
		if (!registered(i, &g, &d))
			abort(); /* a device of no live guest */
		for (unsigned j = 0; j < i; j++)
			if (hv.mediated.devs[j] == hv.mediated.devs[i])
				abort();
	}
	for (unsigned id = 1; id < HV_MAX_VMS; id++) {
		const struct vm *vm = &hv.vms[id];

		if (vm->state == VM_FREE)
			continue;
		frames += vm->s2.nr_tables;
		for (unsigned i = 0; i < vm->config.nr_mem; i++)
			frames += vm->config.mem[i].size / FRAME_SIZE;
		for (unsigned i = 0; i < vm->nr_vdevs; i++)
			heap += vm->vdevs[i].model != NULL;
	}
	if (frames != host_frames_used || heap != host_heap_used)
		abort();
	if (hv.mediated.lock.next != hv.mediated.lock.owner)
		abort();
}

NO_COVERAGE static void check_end(void)
{
	for (unsigned g = 0; g < env.nr_guests; g++)
		remove_guest(g);
	check_state();
	if (host_frames_used || host_heap_used || host_blocks)
		abort();
	for (unsigned i = 0; i < MED_MAX_DEVS; i++)
		if (hv.mediated.devs[i])
			abort();
}

/* ---- the run ---- */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_board b = { .nr_cpus = 4, .nr_irqs = 128 };
	const uint8_t *s;
	size_t n, pos = 0;

	if (size < HDR)
		return 0;
	memset(&env, 0, sizeof(env));
	env.nr_guests = 1 + (data[0] & 3) % MAX_GUESTS;
	env.nr_devs = data[0] & 4 ? 2 : 1;
	env.event_idx = data[0] & 8;
	env.indirect = data[0] & 16;
	b.gic_version = data[0] & 32 ? 3 : 2;
	env.num = 1u << (data[1] % 8);
	env.desc = GUEST_RAM + le16(data + 2) % 0x2000;
	env.avail = GUEST_RAM + le16(data + 4) % 0x2000;
	env.used = GUEST_RAM + le16(data + 6) % 0x2000;
	for (unsigned g = 0; g < MAX_GUESTS; g++)
		for (unsigned d = 0; d < 2; d++) {
			unsigned k = 2 * g + d;

			env.image[g][d] = (uint8_t)(le16(data + 8) >> (2 * k) & 3);
		}
	env.capacity = le16(data + 10) ? le16(data + 10) : 1;
	n = le16(data + 14);
	if (n > size - HDR)
		n = size - HDR;
	s = data + HDR;
	env.ram = s + n;
	env.ram_len = size - HDR - n;
	host_setup(&b);
	for (unsigned k = 0; k < 4; k++)
		if (data[12] & (1u << k))
			med(host_mvm_vcpu(), SHYPER_HVC_FN(SHYPER_MED_REGISTER), k, env.capacity,
			    data[12] & (16u << k) ? SHYPER_MED_F_RO : 0, 0);
	for (unsigned g = 0; g < env.nr_guests; g++)
		add_guest(g);
	check_state();

#define NEXT() ((uint8_t)u8at(s, n, &pos))
	while (pos < n) {
		uint8_t op = NEXT();
		unsigned g = ((op >> 4) & 3) % env.nr_guests, d = (op >> 6) & 1;
		struct vm *vm = guest_vm(g);
		bool dev_ok = vm && d < env.nr_devs;

		switch (op & 15) {
		case 0:
			if (dev_ok)
				reg(vm, d, VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, op >> 7);
			break;
		case 1: {
			static const unsigned widths[4] = { 1, 2, 4, 8 };
			uint64_t off = 2u * NEXT(), v = 0;
			uint8_t how = NEXT();

			for (unsigned i = 0; i < 4; i++)
				v |= (uint64_t)NEXT() << (8 * i);
			if (dev_ok)
				reg(vm, d, off, widths[how & 3], how & 4, v);
			break;
		}
		case 2:
			if (dev_ok)
				bring_up(vm, d);
			break;
		case 3: {
			uint8_t *ram = vm ? vm_ram_ptr(vm, GUEST_RAM, GRAM_SIZE) : NULL;

			if (op & 0x80) {
				uint64_t a = env.avail + 0x2000 * d - GUEST_RAM + 2;
				uint8_t k = NEXT();

				if (ram && a + 2 <= GRAM_SIZE) {
					uint16_t idx = (uint16_t)(le16(ram + a) + 1 + k % 8);

					ram[a] = (uint8_t)idx;
					ram[a + 1] = (uint8_t)(idx >> 8);
				}
			} else {
				unsigned off = NEXT();

				off |= (unsigned)NEXT() << 8;
				if (ram)
					ram[off % GRAM_SIZE] = NEXT();
				else
					(void)NEXT();
			}
			break;
		}
		case 4:
			fetch(op, NEXT());
			break;
		case 5:
			complete(op, s, n, &pos);
			break;
		case 6: {
			uint64_t image = NEXT() % (SHYPER_MED_IMAGES_MAX + 1);
			uint64_t sectors = NEXT();
			uint64_t flags;
			int64_t ret;

			sectors |= (uint64_t)NEXT() << 8;
			flags = NEXT() % 8;
			ret = med(host_mvm_vcpu(), SHYPER_HVC_FN(SHYPER_MED_REGISTER), image,
				  sectors ? sectors : env.capacity, flags, 0);
			if (ret != (image < SHYPER_MED_IMAGES_MAX && flags <= SHYPER_MED_F_ALL ?
					    0 : -SHYPER_EINVAL))
				abort();
			break;
		}
		case 7: {
			uint64_t image = NEXT() % (SHYPER_MED_IMAGES_MAX + 1);

			if (med(host_mvm_vcpu(), SHYPER_HVC_FN(SHYPER_MED_UNREGISTER), image, 0, 0,
				0) != (image < SHYPER_MED_IMAGES_MAX ? 0 : -SHYPER_EINVAL))
				abort();
			break;
		}
		case 8:
			remove_guest(g);
			break;
		case 9:
			if (!vm)
				add_guest(g);
			break;
		case 10:
			if (dev_ok) {
				uint64_t isr = reg(vm, d, VIRTIO_MMIO_INTERRUPT_STATUS, 4, false, 0);

				reg(vm, d, VIRTIO_MMIO_INTERRUPT_ACK, 4, true, isr);
			}
			break;
		case 11:
			if (med(host_guest_vcpu(), NEXT() % 5, HOST_MVM_BASE, 0x1000, 0, 0) !=
			    -SHYPER_EPERM)
				abort();
			break;
		case 12:
			if (med(host_mvm_vcpu(), 4 + NEXT() % 8, 0, 0, 0, 0) != -SHYPER_ENOSYS)
				abort();
			break;
		default:
			break;
		}
		check_state();
	}
#undef NEXT
	check_end();
	return 0;
}

/* ---- seeds: requests of every kind, a daemon serving them ---- */

#define S_NUM 32
#define S_DESC 0x000u
#define S_AVAIL 0x200u
#define S_USED 0x300u
#define S_HDR(k) (0x500u + 0x20u * (k))
#define S_STATUS(k) (S_HDR(k) + 0x10u)
#define S_DATA(k) (0x800u + 0x400u * (k))

struct seed {
	uint8_t hdr[HDR];
	uint8_t steps[128];
	uint8_t ram[GRAM_SIZE];
	unsigned nsteps, nreq, ndesc;
};

static void seed_desc(struct seed *s, uint64_t off, uint32_t len, uint16_t flags, bool more)
{
	unsigned i = s->ndesc++;
	uint8_t *p = s->ram + S_DESC + 16 * i;
	uint64_t addr = GUEST_RAM + off;
	uint16_t next = (uint16_t)(i + 1);

	flags |= more ? VIRTQ_DESC_F_NEXT : 0;
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void seed_req(struct seed *s, uint32_t type, uint64_t sector, uint32_t len, bool out)
{
	unsigned k = s->nreq++, head = s->ndesc;
	uint32_t h[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
	uint16_t idx, hd = (uint16_t)head;

	memcpy(s->ram + S_HDR(k), h, sizeof(h));
	seed_desc(s, S_HDR(k), 16, 0, true);
	if (len)
		seed_desc(s, S_DATA(k), len, out ? 0 : VIRTQ_DESC_F_WRITE, true);
	seed_desc(s, S_STATUS(k), 1, VIRTQ_DESC_F_WRITE, false);
	memcpy(&idx, s->ram + S_AVAIL + 2, 2);
	memcpy(s->ram + S_AVAIL + 4 + 2 * (idx % S_NUM), &hd, 2);
	idx++;
	memcpy(s->ram + S_AVAIL + 2, &idx, 2);
}

static void seed_step(struct seed *s, unsigned n, const uint8_t *b)
{
	memcpy(s->steps + s->nsteps, b, n);
	s->nsteps += n;
}

static void seed_write(const char *dir, const char *name, struct seed *s)
{
	char path[4096];
	FILE *f;

	s->hdr[14] = (uint8_t)s->nsteps;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->hdr, 1, HDR, f) != HDR ||
	    fwrite(s->steps, 1, s->nsteps, f) != s->nsteps ||
	    fwrite(s->ram, 1, S_DATA(6), f) != S_DATA(6) || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void write_seeds(const char *dir)
{
	static struct seed s;

	for (unsigned v = 0; v < 2; v++) {
		memset(&s, 0, sizeof(s));
		/* One guest (v: two, GICv3, EVENT_IDX), image 0 of 64 sectors
		 * registered (v: image 1 read-only too). */
		s.hdr[0] = (uint8_t)(v ? 1 | 4 | 8 | 32 : 0);
		s.hdr[1] = 5; /* S_NUM */
		s.hdr[3] = S_DESC >> 8;
		s.hdr[5] = S_AVAIL >> 8;
		s.hdr[7] = S_USED >> 8;
		s.hdr[8] = v ? 0x04 : 0; /* device 1: image 1 */
		s.hdr[10] = 64;
		s.hdr[12] = v ? 1 | 2 | 32 : 1;
		seed_req(&s, VIRTIO_BLK_T_OUT, 2, 1024, true);
		seed_req(&s, VIRTIO_BLK_T_IN, 62, 1024, false);
		seed_req(&s, VIRTIO_BLK_T_FLUSH, 0, 0, false);
		seed_req(&s, VIRTIO_BLK_T_GET_ID, 0, 20, false);
		seed_req(&s, VIRTIO_BLK_T_IN, 63, 1024, false); /* past the end */
		seed_req(&s, VIRTIO_BLK_T_OUT, 1, 512, true);
		seed_step(&s, 1, (const uint8_t[]){ 0 });		/* notify */
		seed_step(&s, 2, (const uint8_t[]){ 4, 3 });		/* FETCH 4 KiB */
		seed_step(&s, 4, (const uint8_t[]){ 5, 0, 0, 0 });	/* COMPLETE OK */
		seed_step(&s, 2, (const uint8_t[]){ 4, 3 });
		seed_step(&s, 2, (const uint8_t[]){ 4, 3 });
		seed_step(&s, 4, (const uint8_t[]){ 5, 1, 0, 0 });	/* the read */
		seed_step(&s, 4, (const uint8_t[]){ 5, 2, 1, 1 });	/* IOERR */
		seed_step(&s, 1, (const uint8_t[]){ 10 });		/* interrupt */
		seed_step(&s, 2, (const uint8_t[]){ 4, 3 });
		seed_step(&s, 2, (const uint8_t[]){ 7, 0 });		/* UNREGISTER 0 */
		seed_step(&s, 5, (const uint8_t[]){ 6, 0, 64, 0, 0 });	/* REGISTER 0 */
		seed_step(&s, 2, (const uint8_t[]){ 3 | 0x80, 0 });	/* one more */
		seed_step(&s, 2, (const uint8_t[]){ 4, 5 });		/* FETCH, most */
		seed_step(&s, 1, (const uint8_t[]){ 8 });		/* REMOVE */
		seed_step(&s, 4, (const uint8_t[]){ 5, 3, 0, 0 });	/* stale */
		seed_step(&s, 1, (const uint8_t[]){ 9 });		/* added again */
		seed_step(&s, 1, (const uint8_t[]){ 0 });
		seed_step(&s, 2, (const uint8_t[]){ 4, 3 });
		seed_step(&s, 4, (const uint8_t[]){ 5, 3, 0, 0 });
		/* The first id again: the removed device's first request, in
		 * the registry slot and request slot the new device uses now. */
		seed_step(&s, 4, (const uint8_t[]){ 5, 0, 0, 0 });
		seed_step(&s, 2, (const uint8_t[]){ 11, 2 });		/* from a guest */
		seed_step(&s, 2, (const uint8_t[]){ 12, 0 });		/* unknown */
		seed_write(dir, v ? "two-guests" : "one-guest", &s);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_MEDIATED_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_MEDIATED_TRACE");
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
