/*
 * Which interrupt state a vCPU sees and where a shared interrupt goes: pure
 * logic over the VM's vGIC state, unit-tested on the host.
 */
#include <core/vm.h>
#include <dev/vgic.h>

/* GICD_IROUTER.Interrupt_Routing_Mode: any participating core. */
#define IROUTER_IRM (1UL << 31)

struct vgic_irq *vgic_get_irq(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	if (intid < VGIC_NR_PRIVATE)
		return vcpu ? &vcpu->vgic.priv[intid] : 0;
	if (intid >= vm->vgic.nr_irqs)
		return 0;
	return &vm->vgic.spi[intid - VGIC_NR_PRIVATE];
}

struct vcpu *vgic_irq_target(struct vm *vm, uint32_t intid)
{
	struct vgic_irq *irq = vgic_get_irq(vm, 0, intid);

	if (!irq)
		return 0;
	if (vm->vgic.version == 3) {
		uint64_t aff0 = irq->route & 0xff;

		if (irq->route & IROUTER_IRM)
			return &vm->vcpus[0]; /* "any core": the boot vCPU */
		if ((irq->route & ~0xffUL) || aff0 >= vm->nr_vcpus)
			return 0; /* an affinity no vCPU has */
		return &vm->vcpus[aff0];
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (irq->targets & (1U << i))
			return &vm->vcpus[i];
	return 0;
}
