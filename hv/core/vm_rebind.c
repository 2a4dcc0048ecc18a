/*
 * Live update: a new image takes over the state root (core/state.h) as the
 * old one left it. The root holds data, and pointers into itself, the heap
 * or frames; the few pointers it must hold into an image are callbacks of
 * pure code (the stage-2 builder's hooks, the device models' ops, memory
 * accessors, interrupt lines and notifications). hv_state_rebind() sets
 * each of them again to this image's functions, once, before any vCPU
 * runs. It writes nothing else, so running it twice, or in the image that
 * set them up, changes nothing.
 *
 * Not pointers, looked up by the image using them: an MMIO region's device
 * (enum mmio_kind), a virtual device's kind (from its configured type).
 */
#include <core/iommu.h>
#include <core/log.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/vdev.h>

void vm_rebind(struct vm *vm)
{
	if (vm->s2.mm) /* its stage 2 exists */
		vm_stage2_hooks(vm);
	/* Set up: the handlers were registered (and stay until vm_destroy). */
	if (vm->setup_done) {
		int ret = vm_passthrough_irqs(vm);

		if (ret)
			log_warn("vm%u: a passthrough interrupt has another handler (%d)", vm->id,
				 ret);
	}
	vdev_rebind_all(vm);
}

void hv_state_rebind(void)
{
	for (unsigned id = 0; id < HV_MAX_VMS; id++)
		if (hv.vms[id].state != VM_FREE)
			vm_rebind(&hv.vms[id]);
	iommu_rebind();
	/* Boot only: NULL once the board was accepted, and boot got here. */
	hv.board.error = 0;
}
