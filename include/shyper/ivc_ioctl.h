/*
 * /dev/shyper-ivc (shyper.ko, any VM): IVC hypercalls from user space with
 * the buffers copied through the module, mmap of a channel (offset = its id
 * in pages: id * page size), poll()/read() that wake on a doorbell.
 */
#ifndef SHYPER_IVC_IOCTL_H
#define SHYPER_IVC_IOCTL_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

#define SHYPER_IVC_DEVICE "/dev/shyper-ivc"

/*
 * fid: a SHYPER_IVC_* call but ADD_CHANNEL. args are x1..x3 where no
 * buffer goes: SEND x1 = target; CHANNEL_INFO x1 = index; NOTIFY x1 =
 * channel; KEEPALIVE x1, x2. buf/buf_len: SEND and BROADCAST read it, RECV
 * and CHANNEL_INFO fill it (buf_len 0: RECV only peeks). ret: x0..x3. The
 * ioctl returns the hypervisor's status as -errno (same numbers), after
 * ret is copied back.
 */
struct shyper_ioc_ivc {
	uint32_t fid;
	uint32_t pad;
	uint64_t args[3];
	uint64_t buf;
	uint64_t buf_len; /* at most 4096 */
	uint64_t ret[4];
};

#define SHYPER_IOC_IVC _IOWR('S', 2, struct shyper_ioc_ivc)

#endif
