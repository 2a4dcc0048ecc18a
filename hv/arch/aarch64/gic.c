/* Chooses the GIC driver once and forwards every call to it. */
#include <arch/gic.h>
#include <shyper/errno.h>

/* Derived from the board device tree at every boot; not VM state. */
static const struct gic_ops *gic;
static unsigned gic_arch_version;

static int choose(const struct gic_desc *desc)
{
	if (desc->version == 2)
		gic = &gicv2_ops;
	else if (desc->version == 3)
		gic = &gicv3_ops;
	else
		return -SHYPER_ENOTSUP;
	gic_arch_version = desc->version;
	return 0;
}

int gic_init(const struct gic_desc *desc)
{
	return choose(desc) ?: gic->init(desc, false);
}

int gic_attach(const struct gic_desc *desc)
{
	return choose(desc) ?: gic->init(desc, true);
}

int gic_cpu_init(unsigned cpu, uint64_t mpidr)
{
	return gic->cpu_init(cpu, mpidr, false);
}

int gic_cpu_attach(unsigned cpu, uint64_t mpidr)
{
	return gic->cpu_init(cpu, mpidr, true);
}

void gic_enable(uint32_t intid, unsigned cpu)
{
	gic->enable(intid, cpu);
}

void gic_disable(uint32_t intid, unsigned cpu)
{
	gic->disable(intid, cpu);
}

void gic_set_edge(uint32_t intid)
{
	if (intid >= 32)
		gic->set_edge(intid);
}

void gic_send_sgi(unsigned cpu, uint32_t sgi)
{
	gic->send_sgi(cpu, sgi);
}

uint32_t gic_ack(void)
{
	return gic->ack();
}

void gic_eoi(uint32_t ack)
{
	gic->eoi(ack);
}

void gic_deactivate(uint32_t ack)
{
	gic->deactivate(ack);
}

unsigned gic_version(void)
{
	return gic_arch_version;
}

uint32_t gic_nr_irqs(void)
{
	return gic->nr_irqs();
}

uint32_t gic_ack_intid(uint32_t ack)
{
	/* GICv2 GICC_IAR adds the source CPU of an SGI in bits 12:10. */
	return gic_arch_version == 2 ? (ack & 0x3ff) : (ack & 0xffffff);
}

bool gic_private_active(uint32_t intid)
{
	return intid < GIC_FIRST_SPI && gic->private_active(intid);
}

void gic_set_private_active(uint32_t intid, bool active)
{
	if (intid < GIC_FIRST_SPI)
		gic->set_private_active(intid, active);
}
