/*
 * Host stand-ins for building and removing VMs (tests/host/vm_host.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/cache.h>
#include <arch/gic.h>
#include <arch/mmu.h>
#include <arch/stage2_tlb.h>
#include <arch/vgic_hw.h>
#include <core/dirty_log.h>
#include <core/event.h>
#include <core/frame.h>
#include <core/hypercall.h>
#include <core/irq.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/vm.h>
#include <lib/mstream.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>

#include "vm_host.h"

#define MAX_BLOCKS 8192

struct hv_state *hv_state_root;
uint8_t *host_mvm_ram;
size_t host_frames_used, host_heap_used;
unsigned host_blocks;
bool host_irq_handler[GIC_MAX_INTID + 1];
unsigned host_events;
bool host_log_print;

static struct hv_state *state;
static struct vm guest;
static struct vm_config guest_cfg;
static uint64_t clock_now;
static uint32_t nr_gic_irqs;
static size_t frame_budget;
static unsigned alloc_count, alloc_fail_at;

static struct block {
	void *p;
	size_t frames; /* 0: a heap block */
} blocks[MAX_BLOCKS];

uint64_t host_sysreg_read(const char *name)
{
	if (!strcmp(name, "cntfrq_el0"))
		return 62500000;
	if (!strcmp(name, "cntpct_el0"))
		return clock_now += 1000;
	if (!strcmp(name, "tpidr_el2"))
		return (uint64_t)(uintptr_t)&hv.cpus[0];
	if (!strcmp(name, "mpidr_el1"))
		return 0;
	abort(); /* a register these paths were not expected to read */
}

void host_sysreg_write(const char *name, uint64_t value)
{
	(void)name;
	(void)value;
	abort();
}

void host_setup(const struct host_board *b)
{
	struct vm *mvm;

	if (!state) {
		state = aligned_alloc(4096, (sizeof(*state) + 4095) & ~(size_t)4095);
		host_mvm_ram = aligned_alloc(4096, HOST_MVM_SIZE);
		if (!state || !host_mvm_ram)
			abort();
	}
	if (b->nr_cpus < 1 || b->nr_cpus > HV_MAX_CPUS)
		abort();
	memset(state, 0, sizeof(*state));
	hv_state_root = state;
	hv.magic = HV_STATE_MAGIC;
	hv.nr_cpus = b->nr_cpus;
	for (unsigned c = 0; c < b->nr_cpus; c++) {
		hv.cpus[c].id = c;
		hv.cpus[c].state = c && (b->offline & (1UL << c)) ? CPU_OFF : CPU_ONLINE;
	}
	hv.board.nr_ram = 1;
	hv.board.ram[0].base = HOST_RAM_BASE;
	hv.board.ram[0].size = HOST_RAM_SIZE;
	hv.board.gic.version = b->gic_version;
	hv.board.gic.gicd_base = HOST_GICD_BASE;
	hv.board.gic.gicd_size = 0x10000;
	if (b->gic_version == 3) {
		hv.board.gic.gicr_base = HOST_GICR_BASE;
		hv.board.gic.gicr_size = 0xf60000;
	} else {
		hv.board.gic.gicc_base = HOST_GICC_BASE;
		hv.board.gic.gicc_size = 0x10000;
		hv.board.gic.gich_base = HOST_GICH_BASE;
		hv.board.gic.gich_size = 0x10000;
		if (!b->no_gicv) {
			hv.board.gic.gicv_base = HOST_GICV_BASE;
			hv.board.gic.gicv_size = 0x10000;
		}
	}
	hv.board.timer.virt_intid = HOST_VIRT_TIMER;
	hv.board.timer.phys_intid = HOST_PHYS_TIMER;
	nr_gic_irqs = b->nr_irqs;

	/* The MVM: running, on core 0 and its other cores; its RAM holds
	 * the buffers it passes. */
	hv.mvm_cfg = (struct vm_config){
		.name = "mvm", .type = VM_T_LINUX, .nr_vcpus = 1, .nr_mem = 1,
		.cpu_bitmap = (1u | b->mvm_cores) & ((1UL << b->nr_cpus) - 1),
		.mem = { { .ipa = HOST_MVM_BASE, .size = HOST_MVM_SIZE, .identity = true } },
	};
	mvm = &hv.vms[0];
	*mvm = (struct vm){ .id = 0, .state = VM_RUNNING, .cfg = &hv.mvm_cfg, .nr_vcpus = 1 };
	mvm->vcpus[0] = (struct vcpu){ .id = 0, .vm = mvm, .state = VCPU_RUNNING };
	mvm->mem_pa[0] = (uint64_t)(uintptr_t)host_mvm_ram;
	for (unsigned c = 0; c < b->nr_cpus; c++)
		if (hv.mvm_cfg.cpu_bitmap & (1UL << c))
			hv.cpu_owner[c] = 1;
	hv.irq_owner[HOST_MVM_IRQ] = 1;
	memset(host_mvm_ram, 0, HOST_MVM_SIZE);

	guest_cfg = (struct vm_config){ .name = "guest" };
	guest = (struct vm){ .id = HV_MAX_VMS - 1, .state = VM_RUNNING, .cfg = &guest_cfg };
	guest.vcpus[0] = (struct vcpu){ .id = 0, .vm = &guest };

	memset(host_irq_handler, 0, sizeof(host_irq_handler));
	host_blocks = 0;
	host_frames_used = host_heap_used = 0;
	host_events = 0;
	frame_budget = b->frame_budget ? b->frame_budget : 4096;
	alloc_count = 0;
	alloc_fail_at = b->alloc_fail_at;
}

struct vcpu *host_mvm_vcpu(void)
{
	return &hv.vms[0].vcpus[0];
}

struct vcpu *host_guest_vcpu(void)
{
	return &guest.vcpus[0];
}

/* ---- frames and heap ---- */

static bool alloc_fails(void)
{
	return ++alloc_count == alloc_fail_at;
}

static void track(void *p, size_t frames)
{
	if (host_blocks == MAX_BLOCKS)
		abort();
	blocks[host_blocks++] = (struct block){ p, frames };
	if (frames)
		host_frames_used += frames;
	else
		host_heap_used++;
}

/* Forgets the block at p, which must be one of this kind and size. */
static void untrack(void *p, size_t frames)
{
	for (unsigned i = host_blocks; i-- > 0;) {
		if (blocks[i].p != p)
			continue;
		if (blocks[i].frames != frames)
			abort(); /* freed with another size than allocated */
		blocks[i] = blocks[--host_blocks];
		if (frames)
			host_frames_used -= frames;
		else
			host_heap_used--;
		return;
	}
	abort(); /* not allocated, or freed twice */
}

uint64_t mem_alloc_frames(size_t nr, size_t align_frames)
{
	void *p = NULL;

	if (!nr || !align_frames || (align_frames & (align_frames - 1)))
		abort();
	if (nr > frame_budget - host_frames_used || alloc_fails())
		return FRAME_NONE;
	if (posix_memalign(&p, align_frames * FRAME_SIZE, nr * FRAME_SIZE))
		abort();
	/* Whatever the frames held before (small ones: RAM is large). */
	if (nr <= 16)
		memset(p, 0xa5, nr * FRAME_SIZE);
	track(p, nr);
	return (uint64_t)(uintptr_t)p;
}

int mem_free_frames(uint64_t pa, size_t nr)
{
	untrack((void *)(uintptr_t)pa, nr);
	free((void *)(uintptr_t)pa);
	return 0;
}

void *hv_alloc(size_t size)
{
	void *p;

	if (alloc_fails())
		return NULL;
	p = malloc(size);
	if (!p)
		abort();
	memset(p, 0x5a, size);
	track(p, 0);
	return p;
}

int hv_free(void *p)
{
	if (!p)
		return 0;
	untrack(p, 0);
	free(p);
	return 0;
}

int frame_pool_reserve(struct frame_pool *p, uint64_t pa, size_t nr)
{
	(void)p;
	(void)pa;
	(void)nr;
	abort(); /* identity memory: the MVM's, never built here */
}

/* ---- the GIC and interrupts ---- */

static bool hv_irq(uint32_t intid)
{
	return intid == HOST_HV_UART_INTID || intid < GIC_FIRST_SPI;
}

unsigned gic_version(void)
{
	return hv.board.gic.version;
}

uint32_t gic_nr_irqs(void)
{
	return nr_gic_irqs;
}

void gic_enable(uint32_t intid, unsigned cpu)
{
	(void)intid;
	(void)cpu;
}

void gic_set_edge(uint32_t intid)
{
	(void)intid;
}

void gic_disable(uint32_t intid, unsigned cpu)
{
	(void)intid;
	(void)cpu;
}

void gic_send_sgi(unsigned cpu, uint32_t sgi)
{
	(void)cpu;
	(void)sgi;
}

void gic_deactivate(uint32_t ack)
{
	(void)ack;
}

/* The EL1 physical timer's hardware side (arch/aarch64/vcpu_ptimer.c). */
void vcpu_ptimer_cpu_init(void)
{
}

void vcpu_ptimer_resample(struct vcpu *v)
{
	(void)v;
}


int irq_register(uint32_t intid, irq_handler_t handler)
{
	if (intid > GIC_MAX_INTID || !handler)
		abort();
	if (host_irq_handler[intid] || hv_irq(intid))
		return -SHYPER_EBUSY;
	host_irq_handler[intid] = true;
	return 0;
}

void irq_unregister(uint32_t intid)
{
	if (intid > GIC_MAX_INTID)
		abort();
	host_irq_handler[intid] = false;
}

bool irq_is_registered(uint32_t intid)
{
	return intid <= GIC_MAX_INTID && (host_irq_handler[intid] || hv_irq(intid));
}

/* The vGIC's hardware side: not reached while VMs are only configured. */
int vgic_hw_init(unsigned version, uint64_t gich_base)
{
	(void)version;
	(void)gich_base;
	abort();
}

unsigned vgic_hw_nr_lrs(void)
{
	abort();
}

void vgic_hw_write_lr(unsigned n, const struct lr *lr)
{
	(void)n;
	(void)lr;
	abort();
}

void vgic_hw_read_lr(unsigned n, struct lr *lr)
{
	(void)n;
	(void)lr;
	abort();
}

uint64_t vgic_hw_empty_lrs(void)
{
	abort();
}

void vgic_hw_set_hcr(bool uie)
{
	(void)uie;
	abort();
}

bool vgic_hw_deactivates_on_eoi(void)
{
	abort();
}

uint64_t vgic_hw_eoi_lrs(void)
{
	abort();
}

uint64_t vgic_hw_raw_lr(unsigned n)
{
	(void)n;
	abort();
}

void vgic_hw_set_raw_lr(unsigned n, uint64_t v)
{
	(void)n;
	(void)v;
	abort();
}

/* ---- MMU, caches ---- */

/* Host heap addresses stand for physical ones: 47 bits on x86-64. */
unsigned mmu_pa_bits(void)
{
	return 48;
}

void stage2_tlb_flush_vm(uint64_t vttbr, uint64_t ipa, uint64_t size)
{
	(void)vttbr;
	(void)ipa;
	(void)size;
}

void cache_clean_range(uint64_t addr, size_t size)
{
	(void)addr;
	(void)size;
}

/* ---- services ---- */

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap); /* every argument is read */
	va_end(ap);
	if (host_log_print)
		fprintf(stderr, "log%d: %s\n", (int)level, buf);
}

void con_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (host_log_print)
		fprintf(stderr, "con: %s", buf);
}

void event_post(uint32_t type, uint32_t vm, uint32_t st)
{
	if (type != SHYPER_EVENT_VM_STATE && type != SHYPER_EVENT_MEDIATED)
		abort();
	(void)vm;
	(void)st;
	host_events++;
}

void ivc_vm_destroy(struct vm *vm)
{
	(void)vm;
}

int dirty_log_stop(struct vm *vm)
{
	(void)vm;
	return 0;
}

void dirty_log_mark(struct vm *vm, uint64_t ipa, uint64_t len)
{
	(void)vm;
	(void)ipa;
	(void)len;
}

/* Migration only. */
int mstream_append(struct mstream_writer *w, const void *data, size_t len)
{
	(void)w;
	(void)data;
	(void)len;
	abort();
}

int mstream_begin_section(struct mstream_writer *w, uint16_t type, uint16_t version,
			  uint32_t instance)
{
	(void)w;
	(void)type;
	(void)version;
	(void)instance;
	abort();
}

int mstream_end_section(struct mstream_writer *w)
{
	(void)w;
	abort();
}

/* As hv/core/hypercall.c has them. */
bool hc_caller_is_mvm(const struct vcpu *caller)
{
	return vm_is_mvm(caller->vm);
}

void *hc_mvm_buffer(struct vcpu *caller, uint64_t ipa, uint64_t len)
{
	if (!hc_caller_is_mvm(caller) || !len)
		return 0;
	return vm_ram_ptr(caller->vm, ipa, len);
}

/* As hv/core/entropy.c's, without a board seed: a different value on each
 * call, the same run after run. */
void entropy_fill(void *buf, size_t len)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		p[i] = (uint8_t)(z ^ (z >> 31));
	}
}
