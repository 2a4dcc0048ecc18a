#include <arch/sysreg.h>
#include <core/event.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/vgic.h>

void event_post(uint32_t type, uint32_t vm, uint32_t state)
{
	struct event_queue *q = &hv.events;
	struct vm *mvm = &hv.vms[0];
	uint64_t flags = irq_save();

	spin_lock(&q->lock);
	if (q->count == EVENT_QUEUE_LEN) {
		q->head = (q->head + 1) % EVENT_QUEUE_LEN;
		q->count--;
		q->dropped++;
	}
	q->ev[(q->head + q->count) % EVENT_QUEUE_LEN] = (struct event){ type, vm, state };
	q->count++;
	spin_unlock(&q->lock);
	irq_restore(flags);
	if (mvm->state == VM_RUNNING && mvm->cfg->notify)
		vgic_inject(&mvm->vcpus[0], MVM_NOTIFY_INTID);
}

bool event_pop(struct event *out)
{
	struct event_queue *q = &hv.events;
	uint64_t flags = irq_save();
	bool got = false;

	spin_lock(&q->lock);
	if (q->count) {
		*out = q->ev[q->head];
		q->head = (q->head + 1) % EVENT_QUEUE_LEN;
		q->count--;
		got = true;
	}
	spin_unlock(&q->lock);
	irq_restore(flags);
	return got;
}
