/*
 * Arguments and input buffers for shyper-hvc-fuzz: boundary values, huge
 * and wrapping lengths, addresses of the hypervisor, of other VMs, of
 * devices, beyond RAM, unaligned, and mutated valid structures. No raw
 * address ever falls inside the MVM's own RAM (see hvc-fuzz-calls.c).
 */
#include "hvc-fuzz.h"

#include <string.h>

#include <shyper/hypercall.h>
#include <shyper/ivc.h>

/* QEMU virt: RAM starts at 1 GiB, the hypervisor's image first; on another
 * board these are merely other addresses outside the MVM. */
#define BOARD_RAM_BASE 0x40000000UL
#define GICD_PA 0x08000000UL
#define GICR_PA 0x080a0000UL
#define PAGE 4096UL
/* A guest's RAM in every configuration of guests/configs. */
#define GUEST_RAM 0x80000000UL
/* Ids no VM has: the registry's bound and above. */
#define NO_VM_MIN 256U

static const uint64_t lengths[] = {
	0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 255, 256, 257, 4095, 4096, 4097, 65536,
	(1U << 19) + 32, (1U << 20) - 1, 1U << 20, (1U << 20) + 1, 1UL << 31, 1UL << 32,
	1UL << 40, 1UL << 63, ~0UL, ~0UL - 4095, ~0UL - 0x3fffffffUL,
};

static const uint64_t ipas[] = {
	0, GUEST_RAM, GUEST_RAM + 0x200000, GUEST_RAM + 0x1000, GUEST_RAM - PAGE,
	0x08000000, 0x09000000, 0x0a000000, 0x70000000, 0x10000000000UL,
	0x10000000000UL - PAGE, 0xfffffffffffff000UL,
};

uint64_t fuzz_rand(struct fuzzer *f)
{
	/* xorshift64*: small, and good enough to spread arguments. */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dUL;
}

uint64_t fuzz_below(struct fuzzer *f, uint64_t n)
{
	return fuzz_rand(f) % n;
}

#define PICK(f, table) ((table)[fuzz_below(f, sizeof(table) / sizeof((table)[0]))])

bool fuzz_in_mvm_ram(uint64_t v)
{
	for (unsigned i = 0; i < fuzz_cfg.nr_ram; i++)
		if (v >= fuzz_cfg.ram_start[i] && v < fuzz_cfg.ram_end[i])
			return true;
	return false;
}

/* Just outside the MVM's RAM, the hypervisor, the board's RAM (other VMs,
 * free frames), devices, beyond RAM, kernel-looking, unaligned. */
uint64_t fuzz_foreign_addr(struct fuzzer *f)
{
	unsigned r = fuzz_cfg.nr_ram ? (unsigned)fuzz_below(f, fuzz_cfg.nr_ram) : 0;
	uint64_t v;

	do {
		switch (fuzz_below(f, 10)) {
		case 0: v = fuzz_cfg.ram_start[r] - fuzz_below(f, 64); break;
		case 1: v = fuzz_cfg.ram_end[r] + fuzz_below(f, 2) * PAGE; break;
		case 2: v = BOARD_RAM_BASE + fuzz_below(f, 0x400000); break;
		case 3:
		case 4:
			v = BOARD_RAM_BASE +
			    fuzz_below(f, fuzz_cfg.board_ram_end - BOARD_RAM_BASE);
			break;
		case 5: v = fuzz_cfg.board_ram_end - fuzz_below(f, 2) * PAGE; break;
		case 6: v = fuzz_below(f, 2) ? GICD_PA : 0x09000000; break;
		case 7: v = 1UL << (32 + fuzz_below(f, 32)); break;
		case 8: v = 0xffff000000000000UL + (fuzz_rand(f) & 0xffffffffffUL); break;
		default: v = ~0UL - fuzz_below(f, 8192); break;
		}
		if (!fuzz_below(f, 4))
			v += 1 + fuzz_below(f, 7);
	} while (fuzz_in_mvm_ram(v));
	return v;
}

static uint64_t any_value(struct fuzzer *f)
{
	switch (fuzz_below(f, 10)) {
	case 0: return 0;
	case 1: return ~0UL;
	case 2: return fuzz_below(f, 16);
	case 3: return 1UL << fuzz_below(f, 64);
	case 4: return (1UL << fuzz_below(f, 64)) - 1;
	case 5: return fuzz_rand(f);
	case 6: return (uint32_t)fuzz_rand(f);
	case 7: return fuzz_foreign_addr(f);
	default: return PICK(f, lengths);
	}
}

static uint64_t length(struct fuzzer *f)
{
	static const uint64_t sizes[] = {
		sizeof(struct shyper_sys_info), sizeof(struct shyper_vm_info),
		sizeof(struct shyper_vcpu_info), sizeof(struct shyper_net_info),
		sizeof(struct shyper_vm_desc), sizeof(struct shyper_image_desc),
		sizeof(struct shyper_emu_dev), sizeof(struct shyper_dtb_dev),
		sizeof(struct shyper_upd_report), sizeof(struct shyper_upd_status),
		sizeof(struct shyper_ivc_channel), sizeof(struct shyper_ivc_channel_desc),
	};

	switch (fuzz_below(f, 4)) {
	case 0: return PICK(f, sizes) + fuzz_below(f, 3) - 1;
	case 1: return fuzz_below(f, 4096);
	default: return PICK(f, lengths);
	}
}

static uint64_t small(struct fuzzer *f)
{
	switch (fuzz_below(f, 8)) {
	case 0: return (uint32_t)fuzz_rand(f);
	case 1: return fuzz_rand(f);
	case 2: return fuzz_below(f, 64);
	default: return fuzz_below(f, 8);
	}
}

static uint64_t ipa(struct fuzzer *f)
{
	uint64_t v = fuzz_below(f, 4) ? PICK(f, ipas) : fuzz_rand(f) & ~(PAGE - 1);

	if (!fuzz_below(f, 6))
		v += 1 + fuzz_below(f, PAGE - 1);
	return v;
}

/* Physical addresses a passthrough region must never get: RAM (the
 * hypervisor's, other VMs', free), the hypervisor's GIC, nonsense. Never a
 * real device: a guest of ours running garbage would then drive it. */
static uint64_t refused_pa(struct fuzzer *f)
{
	switch (fuzz_below(f, 5)) {
	case 0: return GICD_PA;
	case 1: return GICR_PA;
	case 2: return 1UL << (48 + fuzz_below(f, 16));
	default:
		return (BOARD_RAM_BASE + fuzz_below(f, fuzz_cfg.board_ram_end - BOARD_RAM_BASE)) &
		       ~(PAGE - 1);
	}
}

/* A VM id for a call of the given scope (the registry is held by the caller
 * for OWN calls, see hvc-fuzz.c). */
static uint64_t vm_id(struct fuzzer *f, enum scope scope, bool mvm_refused)
{
	uint32_t own;
	unsigned r = (unsigned)fuzz_below(f, 10);

	if (r < 5 && own_pick(f, &own))
		return own;
	if ((scope == READ || scope == EXCL) && r < 8)
		return fuzz_below(f, 9); /* whoever exists, and one past */
	if (r == 8 && mvm_refused)
		return 0;
	switch (fuzz_below(f, 4)) {
	case 0: return NO_VM_MIN + fuzz_below(f, 1000);
	case 1: return (1UL << 32) + fuzz_below(f, 9); /* an id if truncated */
	case 2: return 1UL << 63;
	default: return ~0UL;
	}
}

uint64_t fuzz_arg(struct fuzzer *f, const struct call_spec *c, unsigned i)
{
	uint64_t v;

	switch (c->kind[i]) {
	case K_VM:
		/* The MVM is refused by every call that changes a VM except the
		 * console, whose ops then depend on devices the MVM may have. */
		v = vm_id(f, c->scope, c->fid != SHYPER_VMM_CONSOLE);
		break;
	case K_BUF: v = fuzz_below(f, 8) ? fuzz_foreign_addr(f) : 0; break;
	case K_LEN: v = length(f); break;
	case K_SMALL: v = small(f); break;
	case K_IPA: v = ipa(f); break;
	case K_PTPA: v = refused_pa(f); break;
	default: v = any_value(f); break;
	}
	return fuzz_in_mvm_ram(v) ? fuzz_foreign_addr(f) : v;
}

/* ---- input buffers --------------------------------------------------------- */

static void random_bytes(struct fuzzer *f, void *dst, size_t len)
{
	uint8_t *p = dst;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = fuzz_rand(f);

		memcpy(p + i, &r, len - i < 8 ? len - i : 8);
	}
}

static void name(struct fuzzer *f, char *dst, size_t max, const char *prefix)
{
	size_t n = strlen(prefix);

	memset(dst, 0, max);
	memcpy(dst, prefix, n);
	for (unsigned i = 0; i < 6 && n + 1 < max; i++)
		dst[n++] = "0123456789abcdef"[fuzz_below(f, 16)];
	if (!fuzz_below(f, 10))
		random_bytes(f, dst, max); /* unterminated, unprintable */
}

static uint64_t vm_desc(struct fuzzer *f, struct shyper_vm_desc *d)
{
	memset(d, 0, sizeof(*d));
	name(f, d->name, sizeof(d->name), "fz");
	d->type = fuzz_below(f, 8) ? (uint32_t)fuzz_below(f, 2) : (uint32_t)fuzz_rand(f);
	d->flags = fuzz_below(f, 4) ? 0 : (uint32_t)small(f);
	if (fuzz_below(f, 2))
		name(f, d->cmdline, sizeof(d->cmdline), "console=ttyAMA0 ");
	return sizeof(*d);
}

static uint64_t image_desc(struct fuzzer *f, struct shyper_image_desc *d)
{
	d->kernel_load_ipa = fuzz_below(f, 4) ? GUEST_RAM + 0x200000 : ipa(f);
	d->kernel_entry = fuzz_below(f, 4) ? d->kernel_load_ipa : ipa(f);
	d->kernel_size = fuzz_below(f, 2) ? PAGE : PICK(f, lengths);
	d->dtb_load_ipa = fuzz_below(f, 4) ? GUEST_RAM : ipa(f);
	d->dtb_size = fuzz_below(f, 4) ? 0 : PICK(f, lengths);
	d->ramdisk_load_ipa = fuzz_below(f, 4) ? 0 : ipa(f);
	d->ramdisk_size = fuzz_below(f, 4) ? 0 : PICK(f, lengths);
	return sizeof(*d);
}

static uint64_t emu_dev(struct fuzzer *f, struct shyper_emu_dev *d)
{
	memset(d, 0, sizeof(*d));
	name(f, d->name, sizeof(d->name), "dev");
	d->type = fuzz_below(f, 8) ? (uint32_t)fuzz_below(f, SHYPER_EMU_META + 2) :
				     (uint32_t)fuzz_rand(f);
	d->base_ipa = ipa(f);
	d->length = fuzz_below(f, 2) ? 0x1000UL << fuzz_below(f, 5) : length(f);
	d->irq_id = (uint32_t)(fuzz_below(f, 2) ? 32 + fuzz_below(f, 256) : small(f));
	d->cfg_num = (uint32_t)(fuzz_below(f, 4) ? fuzz_below(f, SHYPER_CFG_LIST_MAX + 1) :
						   small(f));
	random_bytes(f, d->cfg_list, sizeof(d->cfg_list));
	return sizeof(*d);
}

static uint64_t dtb_dev(struct fuzzer *f, struct shyper_dtb_dev *d)
{
	memset(d, 0, sizeof(*d));
	name(f, d->name, sizeof(d->name), "dtb");
	d->type = (uint32_t)(fuzz_below(f, 4) ? fuzz_below(f, 5) : small(f));
	d->irq_num = (uint32_t)(fuzz_below(f, 4) ? fuzz_below(f, SHYPER_CFG_LIST_MAX + 1) :
						   small(f));
	random_bytes(f, d->irqs, sizeof(d->irqs));
	d->addr_ipa = ipa(f);
	d->length = length(f);
	return sizeof(*d);
}

/* The peer is ours, the MVM or no VM: a channel maps memory into it. */
static uint64_t chan_desc(struct fuzzer *f, struct shyper_ivc_channel_desc *d)
{
	uint32_t own;

	memset(d, 0, sizeof(*d));
	name(f, d->name, sizeof(d->name), "fz-ch");
	if (fuzz_below(f, 3) && own_pick(f, &own))
		d->peer = own;
	else
		d->peer = fuzz_below(f, 2) ? 0 : NO_VM_MIN + (uint32_t)fuzz_below(f, 1000);
	d->irq_id = (uint32_t)(fuzz_below(f, 2) ? 32 + fuzz_below(f, 256) : small(f));
	d->ipa = ipa(f);
	d->length = fuzz_below(f, 2) ? PAGE << fuzz_below(f, 13) : length(f);
	return sizeof(*d);
}

/* An arm64 Image (its header's image_size covers the file) whose code is a
 * WFI loop or random words: a guest of ours running garbage. */
static uint64_t kernel(struct fuzzer *f, uint8_t *p)
{
	static const uint32_t loop[] = { 0xd503207f, 0x17ffffff }; /* wfi; b .-4 */
	uint64_t size = PAGE, text_offset = 0x200000, flags = 2;

	random_bytes(f, p, size);
	memset(p, 0, 64);
	memcpy(p + 8, &text_offset, 8);
	memcpy(p + 16, &size, 8);
	memcpy(p + 24, &flags, 8);
	memcpy(p + 56, "ARM\x64", 4);
	if (fuzz_below(f, 2)) {
		uint32_t b = 0x14000000 | (64 / 4); /* b 64: past the header */

		memcpy(p, &b, 4);
		memcpy(p + 64, loop, sizeof(loop));
	}
	return size;
}

uint64_t fuzz_fill(struct fuzzer *f, const struct call_spec *c)
{
	static const uint64_t sizes[] = { 64, 300, 4096, 65536, SHYPER_IOC_BUF_MAX };
	uint64_t n;

	switch (c->fill) {
	case F_VM_DESC: n = vm_desc(f, (void *)f->buf); break;
	case F_IMAGE_DESC: n = image_desc(f, (void *)f->buf); break;
	case F_EMU_DEV: n = emu_dev(f, (void *)f->buf); break;
	case F_DTB_DEV: n = dtb_dev(f, (void *)f->buf); break;
	case F_CHAN_DESC: n = chan_desc(f, (void *)f->buf); break;
	case F_KERNEL: n = kernel(f, f->buf); break;
	default:
		n = PICK(f, sizes);
		random_bytes(f, f->buf, n < 4096 ? n : 4096);
		return n;
	}
	/* Now and then a byte of the structure flipped. */
	if (!fuzz_below(f, 5))
		f->buf[fuzz_below(f, n)] ^= (uint8_t)(1 + fuzz_below(f, 255));
	return n;
}
