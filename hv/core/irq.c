#include <arch/gic.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/log.h>
#include <core/state.h>
#include <shyper/errno.h>

/* Rebuilt by every boot from code addresses, so not part of the state root. */
static irq_handler_t handlers[GIC_MAX_INTID + 1];

int irq_register(uint32_t intid, irq_handler_t handler)
{
	if (intid > GIC_MAX_INTID)
		return -SHYPER_EINVAL;
	if (handlers[intid] && handlers[intid] != handler)
		return -SHYPER_EBUSY;
	handlers[intid] = handler;
	return 0;
}

void irq_unregister(uint32_t intid)
{
	if (intid <= GIC_MAX_INTID)
		handlers[intid] = 0;
}

bool irq_is_registered(uint32_t intid)
{
	return intid <= GIC_MAX_INTID && handlers[intid];
}

/* One interrupt per exception: if another is pending, the GIC raises the
 * exception again at once, which costs less than a second acknowledge
 * that usually finds nothing. */
void irq_handle_pending(void)
{
	struct cpu *cpu = this_cpu();
	uint32_t ack, intid;

	if (cpu->preack) { /* the vectors' fast path took it already */
		ack = (uint32_t)cpu->preack & ~(1U << 31);
		cpu->preack = 0;
	} else {
		ack = gic_ack();
	}
	intid = gic_ack_intid(ack);
	enum irq_result res = IRQ_HANDLED;

	if (intid >= GIC_SPURIOUS_FIRST)
		return;
	cpu->irqs++;
	if (handlers[intid]) {
		res = handlers[intid](intid);
	} else {
		log_warn("unexpected interrupt %u, disabled", intid);
		gic_disable(intid, this_cpu_id());
	}
	gic_eoi(ack);
	if (res == IRQ_HANDLED)
		gic_deactivate(ack);
	/* A new image on probation: its leader judges at its next exit. */
	if (__builtin_expect(hv.update.phase == SHYPER_UPD_PROBATION, 0) &&
	    cpu->id == hv.update.leader)
		cpu->resched = true;
}

void irq_board_gic(struct gic_desc *desc)
{
	const struct board_info *b = &hv.board;

	*desc = (struct gic_desc){
		.version = b->gic.version,
		.gicd = b->gic.gicd_base,
		.gicc = b->gic.gicc_base,
		.gich = b->gic.gich_base,
		.gicv = b->gic.gicv_base,
		.gicr = b->gic.gicr_base,
		.gicr_size = b->gic.gicr_size,
	};
}
