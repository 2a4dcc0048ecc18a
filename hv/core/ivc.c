/*
 * Inter-VM communication (docs/HYPERCALLS.md, IVC group): channels the
 * configuration declares (zeroed frames mapped into both VMs' stage 2),
 * doorbells, bounded message queues in hypervisor memory, keep-alive and
 * the counter as a common time base.
 *
 * Any VM may call the group (but IVC_ADD_CHANNEL, the MVM's config step):
 * every buffer is checked against the caller's own RAM, and a VM reaches
 * only VMs it shares a channel with. One lock (hv.ivc.lock, interrupts
 * masked) covers the IVC state of every VM.
 *
 * Keep-alive is checked by the EL2 timer of the MVM's core 0, which the
 * scheduler never uses (the MVM does not share cores): it is armed for the
 * earliest heartbeat deadline, so a miss is seen within one period even if
 * nobody calls anything. Other cores ask core 0 to re-arm with an SGI.
 */
#include <arch/cache.h>
#include <arch/gic.h>
#include <arch/stage2.h>
#include <arch/sysreg.h>
#include <arch/timer.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <core/irq.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vm_fdt.h>
#include <dev/vgic.h>
#include <dev/vuart.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/ivc.h>

#define IVC_IPA_LIMIT (1UL << 40)
/* The PL011 a guest without a console gets at FINISH (vm_cfg.c). */
#define DEFAULT_UART_INTID 33

static uint64_t ivc_lock(void)
{
	uint64_t flags = irq_save();

	spin_lock(&hv.ivc.lock);
	return flags;
}

static void ivc_unlock(uint64_t flags)
{
	spin_unlock(&hv.ivc.lock);
	irq_restore(flags);
}

static unsigned chan_id(const struct vm *owner, const struct ivc_channel *c)
{
	return owner->id * SHYPER_IVC_CHANNELS_PER_VM + (unsigned)(c - owner->ivc.chan);
}

static struct ivc_channel *chan_by_id(uint64_t id, struct vm **owner)
{
	struct vm *o;
	struct ivc_channel *c;

	if (id >= SHYPER_IVC_MAX_CHANNEL_ID)
		return 0;
	o = vm_by_id((unsigned)(id / SHYPER_IVC_CHANNELS_PER_VM));
	if (!o)
		return 0;
	c = &o->ivc.chan[id % SHYPER_IVC_CHANNELS_PER_VM];
	if (!c->used)
		return 0;
	*owner = o;
	return c;
}

/* The channel between VMs a and b, whichever declared it. */
static struct ivc_channel *link_between(unsigned a, unsigned b, struct vm **owner)
{
	for (unsigned id = 0; id < SHYPER_IVC_MAX_CHANNEL_ID; id++) {
		struct vm *o;
		struct ivc_channel *c = chan_by_id(id, &o);

		if (c && ((o->id == a && c->peer == b) || (o->id == b && c->peer == a))) {
			*owner = o;
			return c;
		}
	}
	return 0;
}

/* --------------------------------------------------------------------- */
/* Doorbells                                                              */

/* Tells `to` that `from` rang channel `id` (or sent a message). */
static void ring(struct vm *to, unsigned from, const struct ivc_channel *c, uint32_t what)
{
	if (to->state != VM_RUNNING)
		return;
	if (vm_is_mvm(to))
		event_post(SHYPER_EVENT_IVC, from, what);
	else
		vgic_inject(&to->vcpus[0], c->irq);
}

/* --------------------------------------------------------------------- */
/* Keep-alive                                                             */

/* On IVC_KA_CPU, lock held: the timer at the earliest deadline, or off. */
static void ka_rearm_here(void)
{
	uint64_t next = UINT64_MAX;

	if (this_cpu()->sched_armed)
		return; /* never on the MVM's core; slices keep their timer */
	for (unsigned id = 0; id < HV_MAX_VMS; id++) {
		const struct vm *vm = &hv.vms[id];
		const struct ivc_keepalive *ka = &vm->ivc.ka;

		if (vm->state == VM_RUNNING && !vm_is_paused(vm) && ka->period_ms && !ka->missed &&
		    ivc_ka_deadline(ka) + 1 < next)
			next = ivc_ka_deadline(ka) + 1;
	}
	if (next == UINT64_MAX) {
		if (hv.ivc.ka_timer_on)
			timer_hv_stop();
		hv.ivc.ka_timer_on = false;
		return;
	}
	hv.ivc.ka_deadline = next;
	hv.ivc.ka_timer_on = true;
	timer_hv_arm(next);
}

static void ka_kick(void)
{
	if (this_cpu_id() == IVC_KA_CPU) {
		uint64_t flags = ivc_lock();

		ka_rearm_here();
		ivc_unlock(flags);
		return;
	}
	gic_send_sgi(IVC_KA_CPU, SGI_IVC_KICK);
}

static enum irq_result kick_irq(uint32_t intid)
{
	(void)intid;
	if (this_cpu_id() == IVC_KA_CPU) {
		uint64_t flags = ivc_lock();

		ka_rearm_here();
		ivc_unlock(flags);
	}
	return IRQ_HANDLED;
}

void ivc_init(void)
{
	irq_register(SGI_IVC_KICK, kick_irq);
	gic_enable(SGI_IVC_KICK, IVC_KA_CPU);
}

bool ivc_timer_irq(void)
{
	struct {
		unsigned id;
		uint32_t period;
		bool restart;
	} missed[HV_MAX_VMS];
	unsigned n = 0;
	uint64_t flags, now;

	if (this_cpu_id() != IVC_KA_CPU || !hv.ivc.ka_timer_on)
		return false;
	flags = ivc_lock();
	now = timer_now();
	for (unsigned id = 0; id < HV_MAX_VMS; id++) {
		struct vm *vm = &hv.vms[id];
		struct ivc_keepalive *ka = &vm->ivc.ka;

		/* A paused VM cannot beat: its period starts again at the resume. */
		if (vm->state != VM_RUNNING || vm_is_paused(vm) || !ivc_ka_overdue(ka, now))
			continue;
		ka->missed = true; /* once per miss: the next beat re-arms it */
		missed[n].id = id;
		missed[n].period = ka->period_ms;
		missed[n].restart = ka->restart;
		n++;
	}
	ka_rearm_here();
	ivc_unlock(flags);

	for (unsigned i = 0; i < n; i++) {
		struct vm *vm = &hv.vms[missed[i].id];

		log_warn("vm%u missed its heartbeat (period %u ms)", missed[i].id,
			 missed[i].period);
		event_post(SHYPER_EVENT_KEEPALIVE, missed[i].id, missed[i].period);
		if (!missed[i].restart || vm->state != VM_RUNNING)
			continue;
		log_info("vm%u: restarted by keep-alive", missed[i].id);
		/* vm_shutdown ends the registration first (ivc_vm_stopped). */
		if (vm_shutdown(vm) || vm_boot(vm))
			log_err("vm%u: keep-alive restart failed", missed[i].id);
	}
	return true;
}

void ivc_vm_resumed(struct vm *vm)
{
	uint64_t flags = ivc_lock();

	vm->ivc.ka.last_beat = timer_now();
	ivc_unlock(flags);
	ka_kick();
}

void ivc_vm_stopped(struct vm *vm)
{
	uint64_t flags = ivc_lock();

	vm->ivc.ka = (struct ivc_keepalive){ 0 };
	ivc_queue_clear(&vm->ivc.rx);
	ivc_unlock(flags);
}

/* --------------------------------------------------------------------- */
/* Channels                                                               */

static bool valid_name(const char *s)
{
	size_t i;

	for (i = 0; i < SHYPER_NAME_MAX && s[i]; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return i > 0 && i < SHYPER_NAME_MAX;
}

static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return as && bs && a < b + bs && b < a + as;
}

/* An SPI the VM's vGIC has and nothing of the VM uses yet. */
static bool irq_free_for(const struct vm *vm, uint32_t irq)
{
	const struct vm_config *cfg = vm->cfg;

	if (irq < GIC_FIRST_SPI || irq >= VGIC_MAX_IRQS || irq == MVM_NOTIFY_INTID)
		return false;
	if (vm->has_uart ? vm->uart.intid == irq : irq == DEFAULT_UART_INTID)
		return false;
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		if (cfg->pt_irqs[i] == irq)
			return false;
	for (unsigned id = 0; id < SHYPER_IVC_MAX_CHANNEL_ID; id++) {
		struct vm *o;
		struct ivc_channel *c = chan_by_id(id, &o);

		if (c && (o == vm || c->peer == vm->id) && c->irq == irq)
			return false;
	}
	return true;
}

/* [ipa, ipa + size) is not memory, a device or a mapping of the VM. */
static bool ipa_free_in(struct vm *vm, uint64_t ipa, uint64_t size)
{
	const struct vm_config *cfg = vm->cfg;

	for (unsigned i = 0; i < cfg->nr_mem; i++)
		if (overlaps(ipa, size, cfg->mem[i].ipa, cfg->mem[i].size))
			return false;
	for (unsigned i = 0; i < vm->nr_mmio; i++)
		if (overlaps(ipa, size, vm->mmio[i].base, vm->mmio[i].size))
			return false;
	if (overlaps(ipa, size, cfg->gicd_ipa, 0x10000) ||
	    overlaps(ipa, size, cfg->gicr_ipa, VGIC_GICR_FRAME_SIZE * VM_MAX_VCPUS) ||
	    overlaps(ipa, size, cfg->gicc_ipa, VGIC_GICV2_CPU_SIZE) ||
	    (vm->has_uart && overlaps(ipa, size, vm->uart.base, VUART_SIZE)))
		return false;
	for (uint64_t a = ipa; a < ipa + size; a += FRAME_SIZE)
		if (!stage2_translate(&vm->s2, a, 0, 0))
			return false;
	return true;
}

static int check_channel(struct vm *vm, const struct shyper_ivc_channel_desc *d,
			 struct vm **peer_out)
{
	struct vm *peer, *o;

	if (!valid_name(d->name) || !d->length || (d->ipa | d->length) & (FRAME_SIZE - 1) ||
	    d->length > SHYPER_IVC_SHM_MAX || d->ipa + d->length < d->ipa ||
	    d->ipa + d->length > IVC_IPA_LIMIT)
		return -SHYPER_EINVAL;
	if (d->peer == vm->id)
		return -SHYPER_EINVAL;
	peer = d->peer < HV_MAX_VMS ? vm_by_id(d->peer) : 0;
	if (!peer)
		return -SHYPER_ENOENT;
	if (link_between(vm->id, peer->id, &o))
		return -SHYPER_EEXIST; /* one channel per pair of VMs */
	for (unsigned i = 0; i < SHYPER_IVC_CHANNELS_PER_VM; i++)
		if (vm->ivc.chan[i].used &&
		    !strncmp(vm->ivc.chan[i].name, d->name, SHYPER_NAME_MAX))
			return -SHYPER_EEXIST;
	if (!irq_free_for(vm, d->irq_id) ||
	    (!vm_is_mvm(peer) && !irq_free_for(peer, d->irq_id)))
		return -SHYPER_EBUSY;
	if (!ipa_free_in(vm, d->ipa, d->length) ||
	    (!vm_is_mvm(peer) && !ipa_free_in(peer, d->ipa, d->length)))
		return -SHYPER_EEXIST;
	*peer_out = peer;
	return 0;
}

static int add_channel(struct vcpu *caller, struct trap_frame *f)
{
	struct shyper_ivc_channel_desc d;
	struct ivc_channel *slot = 0;
	struct vm *vm, *peer = 0;
	const void *src;
	uint64_t pa, peer_ipa, flags;
	int ret;

	if (!hc_caller_is_mvm(caller))
		return -SHYPER_EPERM;
	vm = f->x[1] && f->x[1] < HV_MAX_VMS ? vm_by_id((unsigned)f->x[1]) : 0;
	if (!vm)
		return -SHYPER_ENOENT;
	if (vm->state != VM_CONFIGURING)
		return -SHYPER_EBUSY;
	if (f->x[3] != sizeof(d))
		return -SHYPER_EINVAL;
	src = hc_mvm_buffer(caller, f->x[2], sizeof(d));
	if (!src)
		return -SHYPER_EFAULT;
	memcpy(&d, src, sizeof(d)); /* read once, then checked */
	for (unsigned i = 0; i < SHYPER_IVC_CHANNELS_PER_VM && !slot; i++)
		if (!vm->ivc.chan[i].used)
			slot = &vm->ivc.chan[i];
	if (!slot)
		return -SHYPER_ENOSPC;
	flags = ivc_lock();
	ret = check_channel(vm, &d, &peer);
	ivc_unlock(flags);
	if (ret) {
		log_warn("vm%u config: ivc channel %.31s: %s", vm->id,
			 valid_name(d.name) ? d.name : "?",
			 ret == -SHYPER_ENOENT ? "no such peer VM" :
			 ret == -SHYPER_EBUSY ? "interrupt not free" :
			 ret == -SHYPER_EEXIST ? "overlaps, or already exists" : "invalid");
		return ret;
	}
	pa = mem_alloc_frames(d.length / FRAME_SIZE, 1);
	if (pa == FRAME_NONE)
		return -SHYPER_ENOMEM;
	memset((void *)pa, 0, d.length);
	cache_clean_range(pa, d.length); /* guests may read it with caches off */
	peer_ipa = vm_is_mvm(peer) ? pa : d.ipa; /* the MVM is identity mapped */
	ret = stage2_map(&vm->s2, d.ipa, pa, d.length, STAGE2_R | STAGE2_W);
	if (!ret) {
		ret = stage2_map(&peer->s2, peer_ipa, pa, d.length, STAGE2_R | STAGE2_W);
		if (ret)
			stage2_unmap(&vm->s2, d.ipa, d.length); /* not running yet */
	}
	if (ret) {
		mem_free_frames(pa, d.length / FRAME_SIZE);
		return ret;
	}
	dsb(ishst); /* new entries only: no invalidation needed */
	flags = ivc_lock();
	*slot = (struct ivc_channel){ .used = true, .peer = peer->id, .irq = d.irq_id,
				      .ipa = d.ipa, .peer_ipa = peer_ipa, .pa = pa,
				      .size = d.length };
	memcpy(slot->name, d.name, SHYPER_NAME_MAX);
	ivc_unlock(flags);
	log_info("vm%u: ivc channel %s (id %u) with vm%u, %lu KiB at 0x%lx", vm->id,
		 slot->name, chan_id(vm, slot), peer->id, d.length >> 10, d.ipa);
	return 0;
}

/* The stage-2 hook flushes every core's TLB before the tables go. */
static void unmap_live(struct vm *vm, uint64_t ipa, uint64_t size)
{
	uint64_t flags = vm_s2_lock(vm);

	stage2_unmap(&vm->s2, ipa, size);
	vm_s2_unlock(vm, flags);
}

/* Unmaps the channel from both ends (the live ones flushed) and scrubs it. */
static void drop_channel(struct vm *owner, struct ivc_channel *c, struct vm *dying)
{
	struct vm *peer = vm_by_id(c->peer);

	if (owner != dying && owner->s2.mm)
		unmap_live(owner, c->ipa, c->size);
	if (peer && peer != dying && peer->s2.mm)
		unmap_live(peer, c->peer_ipa, c->size);
	memset((void *)c->pa, 0, c->size);
	cache_clean_range(c->pa, c->size);
	mem_free_frames(c->pa, c->size / FRAME_SIZE);
	*c = (struct ivc_channel){ 0 };
}

void ivc_vm_destroy(struct vm *vm)
{
	uint64_t flags = ivc_lock();

	for (unsigned id = 0; id < SHYPER_IVC_MAX_CHANNEL_ID; id++) {
		struct vm *o;
		struct ivc_channel *c = chan_by_id(id, &o);

		if (c && (o == vm || c->peer == vm->id))
			drop_channel(o, c, vm);
	}
	vm->ivc.ka = (struct ivc_keepalive){ 0 };
	ivc_queue_clear(&vm->ivc.rx);
	ivc_unlock(flags);
}

void ivc_fdt_describe(struct vm *vm, struct vm_fdt_desc *d)
{
	uint64_t flags = ivc_lock();

	for (unsigned id = 0; id < SHYPER_IVC_MAX_CHANNEL_ID && d->nr_ivc < VM_FDT_MAX_IVC;
	     id++) {
		struct vm *o;
		struct ivc_channel *c = chan_by_id(id, &o);
		struct vm_fdt_ivc *out = &d->ivc[d->nr_ivc];

		if (!c || (o != vm && c->peer != vm->id))
			continue;
		*out = (struct vm_fdt_ivc){ .base = o == vm ? c->ipa : c->peer_ipa,
					    .size = c->size, .irq = c->irq, .id = id,
					    .peer = o == vm ? c->peer : o->id };
		memcpy(out->name, c->name, sizeof(out->name));
		d->nr_ivc++;
	}
	ivc_unlock(flags);
	/* shyper.ko binds to /hypervisor: guests with channels get it too. */
	if (d->nr_ivc && !vm_is_mvm(vm)) {
		d->has_hypervisor = true;
		d->hypervisor_irq = d->ivc[0].irq;
	}
}

/* --------------------------------------------------------------------- */
/* The hypercalls                                                         */

/* [ipa, ipa + len) of the caller's own RAM, whichever VM calls. */
static void *caller_buffer(struct vcpu *caller, uint64_t ipa, uint64_t len)
{
	return len ? vm_ram_ptr(caller->vm, ipa, len) : 0;
}

static int64_t ivc_send(struct vcpu *caller, uint64_t target, uint64_t ipa, uint64_t len)
{
	uint8_t msg[SHYPER_IVC_MSG_MAX];
	struct ivc_channel *c;
	struct vm *to, *o;
	const void *src;
	uint64_t flags;
	int ret;

	if (!len || len > SHYPER_IVC_MSG_MAX)
		return -SHYPER_EINVAL;
	src = caller_buffer(caller, ipa, len);
	if (!src)
		return -SHYPER_EFAULT;
	memcpy(msg, src, len);
	flags = ivc_lock();
	to = target < HV_MAX_VMS ? vm_by_id((unsigned)target) : 0;
	c = to ? link_between(caller->vm->id, to->id, &o) : 0;
	if (!c)
		ret = -SHYPER_EPERM;
	else if (to->state != VM_RUNNING)
		ret = -SHYPER_EAGAIN;
	else
		ret = ivc_queue_push(&to->ivc.rx, caller->vm->id, msg, len);
	ivc_unlock(flags);
	if (!ret)
		ring(to, caller->vm->id, c, SHYPER_IVC_EVENT_MSG);
	return ret;
}

static int64_t ivc_broadcast(struct vcpu *caller, struct trap_frame *f)
{
	uint64_t len = f->x[2];
	uint8_t msg[SHYPER_IVC_MSG_MAX];
	const void *src;
	unsigned links = 0, delivered = 0;

	if (!len || len > SHYPER_IVC_MSG_MAX)
		return -SHYPER_EINVAL;
	src = caller_buffer(caller, f->x[1], len);
	if (!src)
		return -SHYPER_EFAULT;
	memcpy(msg, src, len);
	for (unsigned id = 0; id < HV_MAX_VMS; id++) {
		struct vm *to = &hv.vms[id], *o;
		struct ivc_channel *c;
		uint64_t flags;
		int ret = -SHYPER_EPERM;

		if (id == caller->vm->id)
			continue;
		flags = ivc_lock();
		c = to->state != VM_FREE ? link_between(caller->vm->id, id, &o) : 0;
		if (c) {
			links++;
			ret = to->state == VM_RUNNING ?
				      ivc_queue_push(&to->ivc.rx, caller->vm->id, msg, len) :
				      -SHYPER_EAGAIN;
		}
		ivc_unlock(flags);
		if (!ret) {
			delivered++;
			ring(to, caller->vm->id, c, SHYPER_IVC_EVENT_MSG);
		}
	}
	f->x[1] = delivered;
	if (!links)
		return -SHYPER_EPERM;
	return delivered ? 0 : -SHYPER_EAGAIN;
}

static int64_t ivc_recv(struct vcpu *caller, struct trap_frame *f)
{
	uint64_t ipa = f->x[1], len = f->x[2], flags;
	const struct ivc_msg *m;
	void *dst = 0;
	int64_t ret = 0;

	if (ipa || len) { /* 0, 0: only say who sent what */
		if (len > SHYPER_IVC_MSG_MAX)
			len = SHYPER_IVC_MSG_MAX;
		dst = caller_buffer(caller, ipa, len);
		if (!dst)
			return -SHYPER_EFAULT;
	}
	flags = ivc_lock();
	m = ivc_queue_peek(&caller->vm->ivc.rx);
	if (!m) {
		ret = -SHYPER_EAGAIN;
	} else {
		f->x[1] = m->sender;
		f->x[2] = m->len;
		if (dst && len < m->len)
			ret = -SHYPER_EOVERFLOW;
		else if (dst)
			memcpy(dst, m->data, m->len);
	}
	ivc_unlock(flags);
	if (dst && !ret) {
		cache_clean_range((uint64_t)dst, len); /* guests with caches off */
		dirty_log_mark(caller->vm, ipa, len); /* stage 2 did not see it */
	}
	return ret;
}

static int64_t ivc_ack(struct vcpu *caller)
{
	uint64_t flags = ivc_lock();
	bool popped = ivc_queue_pop(&caller->vm->ivc.rx);

	ivc_unlock(flags);
	return popped ? 0 : -SHYPER_EAGAIN;
}

static int64_t ivc_notify(struct vcpu *caller, uint64_t id)
{
	struct ivc_channel *c;
	struct vm *o, *to = 0;
	uint64_t flags = ivc_lock();

	c = chan_by_id(id, &o);
	if (c && o == caller->vm)
		to = vm_by_id(c->peer);
	else if (c && c->peer == caller->vm->id)
		to = o;
	ivc_unlock(flags);
	if (!c)
		return -SHYPER_ENOENT;
	if (!to)
		return -SHYPER_EPERM; /* not an end of this channel */
	ring(to, caller->vm->id, c, (uint32_t)id);
	return 0;
}

static int64_t ivc_keepalive(struct vcpu *caller, uint64_t period, uint64_t restart)
{
	uint64_t flags;
	int ret;

	if (period > SHYPER_IVC_PERIOD_MAX_MS || restart > 1)
		return -SHYPER_EINVAL;
	/* Nothing can reboot the MVM for a missed heartbeat: it is not a
	 * promise to take. */
	if (restart && vm_is_mvm(caller->vm))
		return -SHYPER_EPERM;
	flags = ivc_lock();
	ret = ivc_ka_register(&caller->vm->ivc.ka, (uint32_t)period, restart, timer_now(),
			      timer_freq());
	ivc_unlock(flags);
	if (!ret)
		ka_kick();
	return ret;
}

static int64_t ivc_heartbeat(struct vcpu *caller)
{
	struct ivc_keepalive *ka = &caller->vm->ivc.ka;
	uint64_t flags = ivc_lock();
	bool registered = ka->period_ms != 0, was_missed = false;

	if (registered)
		was_missed = ivc_ka_beat(ka, timer_now());
	ivc_unlock(flags);
	if (was_missed)
		ka_kick(); /* it counts again */
	return registered ? 0 : -SHYPER_EINVAL;
}

static int64_t ivc_channel_info(struct vcpu *caller, struct trap_frame *f)
{
	struct shyper_ivc_channel info;
	uint64_t index = f->x[1], flags;
	unsigned n = 0, me = caller->vm->id;
	bool found = false;
	void *dst = 0;

	if (f->x[2] || f->x[3]) {
		if (f->x[3] < sizeof(info))
			return -SHYPER_EINVAL;
		dst = caller_buffer(caller, f->x[2], sizeof(info));
		if (!dst)
			return -SHYPER_EFAULT;
	}
	memset(&info, 0, sizeof(info));
	flags = ivc_lock();
	for (unsigned id = 0; id < SHYPER_IVC_MAX_CHANNEL_ID; id++) {
		struct vm *o;
		struct ivc_channel *c = chan_by_id(id, &o);

		if (!c || (o->id != me && c->peer != me))
			continue;
		if (n++ != index)
			continue;
		found = true;
		info.id = id;
		info.owner = o->id;
		info.peer = c->peer;
		info.irq_id = vm_is_mvm(caller->vm) ? 0 : c->irq;
		info.ipa = o->id == me ? c->ipa : c->peer_ipa;
		info.length = c->size;
		memcpy(info.name, c->name, sizeof(info.name));
	}
	ivc_unlock(flags);
	f->x[1] = n;
	if (!dst)
		return 0;
	if (!found)
		return -SHYPER_ENOENT;
	memcpy(dst, &info, sizeof(info));
	cache_clean_range((uint64_t)dst, sizeof(info));
	dirty_log_mark(caller->vm, f->x[2], sizeof(info));
	return 0;
}

int64_t hc_ivc(struct vcpu *caller, struct trap_frame *f, unsigned fn)
{
	switch (fn) {
	case SHYPER_HVC_FN(SHYPER_IVC_SEND):
		return ivc_send(caller, f->x[1], f->x[2], f->x[3]);
	case SHYPER_HVC_FN(SHYPER_IVC_BROADCAST):
		return ivc_broadcast(caller, f);
	case SHYPER_HVC_FN(SHYPER_IVC_RECV):
		return ivc_recv(caller, f);
	case SHYPER_HVC_FN(SHYPER_IVC_ACK):
		return ivc_ack(caller);
	case SHYPER_HVC_FN(SHYPER_IVC_NOTIFY):
		return ivc_notify(caller, f->x[1]);
	case SHYPER_HVC_FN(SHYPER_IVC_KEEPALIVE):
		return ivc_keepalive(caller, f->x[1], f->x[2]);
	case SHYPER_HVC_FN(SHYPER_IVC_HEARTBEAT):
		return ivc_heartbeat(caller);
	case SHYPER_HVC_FN(SHYPER_IVC_TIME):
		f->x[1] = timer_now();
		f->x[2] = timer_freq();
		return 0;
	case SHYPER_HVC_FN(SHYPER_IVC_CHANNEL_INFO):
		return ivc_channel_info(caller, f);
	case SHYPER_HVC_FN(SHYPER_IVC_ADD_CHANNEL):
		return add_channel(caller, f);
	}
	return -SHYPER_ENOSYS;
}
