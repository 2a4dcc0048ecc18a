/* Placeholder until the virtio-net model lands: configs naming one are
 * refused with a clear message rather than half-working. */
#include <core/log.h>
#include <core/vm.h>
#include <dev/vdev.h>
#include <shyper/errno.h>

static int net_check(struct vm *vm, const struct vm_vdev_cfg *cfg)
{
	log_warn("vm%u config: virtio-net at 0x%lx is not supported yet", vm->id, cfg->base);
	return -SHYPER_ENOTSUP;
}

const struct vdev_kind vdev_net_kind = { .name = "net", .check = net_check };
