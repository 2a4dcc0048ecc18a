/*
 * /dev/shyper, the management VM's door to the hypervisor (mvm/kmod). One
 * ioctl makes one hypercall; the module copies an optional buffer between the
 * caller and a kernel bounce buffer whose physical address it places in the
 * argument the caller names. read() returns struct shyper_event records and
 * poll() waits for them (the hypervisor raises the notification interrupt).
 */
#ifndef SHYPER_IOCTL_H
#define SHYPER_IOCTL_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

#define SHYPER_DEVICE "/dev/shyper"

#define SHYPER_BUF_IN (1U << 0)	 /* copied to the hypervisor before the call */
#define SHYPER_BUF_OUT (1U << 1) /* copied back to the caller after it */
#define SHYPER_IOC_BUF_MAX (1U << 20)

struct shyper_ioc_hvc {
	uint32_t fid;	  /* SHYPER_* function id: only the cshyper range */
	uint32_t buf_arg; /* 1..6: x<n> receives the buffer's address; 0: no buffer */
	uint64_t args[7]; /* args[1..6] are x1..x6; args[0] is ignored */
	uint64_t ret[4];  /* x0..x3 after the call */
	uint64_t buf;	  /* user pointer */
	uint64_t buf_len; /* bytes, at most SHYPER_IOC_BUF_MAX */
	uint32_t buf_dir; /* SHYPER_BUF_IN | SHYPER_BUF_OUT */
	uint32_t pad;
};

struct shyper_event {
	uint32_t type; /* enum shyper_event_type */
	uint32_t vm_id;
	uint32_t state;
	uint32_t pad;
};

#define SHYPER_IOC_MAGIC 'S'
#define SHYPER_IOC_HVC _IOWR(SHYPER_IOC_MAGIC, 1, struct shyper_ioc_hvc)

#endif
