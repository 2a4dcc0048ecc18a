// SPDX-License-Identifier: GPL-2.0
/*
 * Hypercalls: the version check at probe time and ioctl(SHYPER_IOC_HVC),
 * which makes one hypercall on behalf of user space, passing an optional
 * buffer through a physically contiguous kernel bounce buffer.
 *
 * SMC Calling Convention v1.1 (DEN0028): function id in w0, arguments in
 * x1..x6 (the ABI uses no more), results in x0..x3.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <shyper/hypercall.h>
#include <shyper/ioctl.h>
#include <shyper/version.h>

#include "shyper_drv.h"

/* args[1..6] are x1..x6. */
#define SHYPER_IOC_ARG_MAX 6

#define SHYPER_BUF_ORDER get_order(SHYPER_IOC_BUF_MAX)

static_assert(sizeof(struct shyper_ioc_hvc) == 120);
static_assert(_IOC_SIZE(SHYPER_IOC_HVC) == sizeof(struct shyper_ioc_hvc));

void shyper_report_version(void)
{
	struct arm_smccc_res res;
	long status;

	arm_smccc_1_1_hvc(SHYPER_SYS_VERSION, &res);
	status = (long)res.a0;
	if (status) {
		pr_warn("SHYPER_SYS_VERSION failed (%ld): hypervisor version unknown\n",
			status);
		return;
	}

	/* x1: major << 16 | minor << 8 | patch, as in shyper_sys_info. */
	pr_info("cshyper hypervisor version %lu.%lu.%lu, ABI version %lu\n",
		(res.a1 >> 16) & 0xff, (res.a1 >> 8) & 0xff, res.a1 & 0xff,
		res.a2);
	if (res.a2 != SHYPER_ABI_VERSION)
		pr_warn("hypervisor ABI version %lu differs from the module's %d: hypercalls may be misread\n",
			res.a2, SHYPER_ABI_VERSION);
}

static void shyper_buf_free(void *data)
{
	struct shyper_dev *sdev = data;

	free_pages((unsigned long)sdev->buf, SHYPER_BUF_ORDER);
}

int shyper_buf_init(struct shyper_dev *sdev)
{
	unsigned long addr;

	/* Zeroed once so the hypervisor never sees stale kernel memory. */
	addr = __get_free_pages(GFP_KERNEL | __GFP_ZERO, SHYPER_BUF_ORDER);
	if (!addr) {
		dev_err(sdev->dev, "cannot allocate the %u byte bounce buffer\n",
			SHYPER_IOC_BUF_MAX);
		return -ENOMEM;
	}
	sdev->buf = (void *)addr;
	sdev->buf_pa = virt_to_phys(sdev->buf);
	return devm_add_action_or_reset(sdev->dev, shyper_buf_free, sdev);
}

static int shyper_ioc_check(const struct shyper_ioc_hvc *ioc)
{
	if (!SHYPER_HVC_IS_OURS(ioc->fid))
		return -EINVAL;
	if (ioc->buf_arg > SHYPER_IOC_ARG_MAX)
		return -EINVAL;
	if (ioc->buf_len > SHYPER_IOC_BUF_MAX)
		return -EINVAL;
	if (ioc->buf_dir & ~(SHYPER_BUF_IN | SHYPER_BUF_OUT))
		return -EINVAL;
	if (ioc->buf_arg && ioc->buf_len && !ioc->buf)
		return -EINVAL;
	return 0;
}

static void shyper_hvc(const struct shyper_ioc_hvc *ioc,
		       struct arm_smccc_res *res)
{
	arm_smccc_1_1_hvc(ioc->fid, ioc->args[1], ioc->args[2], ioc->args[3],
			  ioc->args[4], ioc->args[5], ioc->args[6], res);
}

/*
 * The call with a buffer, under buf_lock. Returns -EFAULT if a copy failed:
 * before the call, nothing was done; after it, *res is still valid.
 */
static int shyper_hvc_buf(struct shyper_dev *sdev, struct shyper_ioc_hvc *ioc,
			  struct arm_smccc_res *res, bool *called, bool *restore)
{
	void __user *ubuf = u64_to_user_ptr(ioc->buf);
	size_t len = ioc->buf_len;

	if (ioc->buf_dir & SHYPER_BUF_IN) {
		if (copy_from_user(sdev->buf, ubuf, len))
			return -EFAULT;
	} else if (ioc->buf_dir & SHYPER_BUF_OUT) {
		/* What the hypervisor leaves unwritten must not leak. */
		memset(sdev->buf, 0, len);
	}

	ioc->args[ioc->buf_arg] = sdev->buf_pa;
	shyper_hvc(ioc, res);
	*called = true;
	/* A VM added to be rebuilt from a stream (shyper_incoming.c). */
	*restore = ioc->fid == SHYPER_CFG_ADD_VM &&
		   len >= sizeof(struct shyper_vm_desc) &&
		   (((struct shyper_vm_desc *)sdev->buf)->flags & SHYPER_VM_F_RESTORE);

	/* A failed call wrote nothing worth copying (a daemon polling an empty
	 * queue would otherwise copy its whole buffer every time). */
	if ((ioc->buf_dir & SHYPER_BUF_OUT) && (long)res->a0 >= 0 &&
	    copy_to_user(ubuf, sdev->buf, len))
		return -EFAULT;
	return 0;
}

static long shyper_hvc_ioctl(struct shyper_dev *sdev, struct file *file,
			     struct shyper_ioc_hvc __user *uioc)
{
	struct shyper_ioc_hvc ioc;
	struct arm_smccc_res res;
	bool called = false, restore = false;
	u64 id;
	u64 ret[4];
	int err;

	if (copy_from_user(&ioc, uioc, sizeof(ioc)))
		return -EFAULT;
	err = shyper_ioc_check(&ioc);
	if (err)
		return err;

	id = ioc.args[1]; /* before the buffer's address may replace it */
	if (ioc.buf_arg) {
		err = mutex_lock_interruptible(&sdev->buf_lock);
		if (err)
			return err;
		err = shyper_hvc_buf(sdev, &ioc, &res, &called, &restore);
		mutex_unlock(&sdev->buf_lock);
	} else {
		shyper_hvc(&ioc, &res);
		called = true;
	}
	if (!called)
		return err;
	shyper_incoming_note(file, ioc.fid, id, restore, &res);
	shyper_update_note(file, ioc.fid, &res);

	/* Only ret: the rest stays as the caller wrote it. */
	ret[0] = res.a0;
	ret[1] = res.a1;
	ret[2] = res.a2;
	ret[3] = res.a3;
	if (copy_to_user(uioc->ret, ret, sizeof(ret)))
		return -EFAULT;
	return err;
}

long shyper_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct shyper_dev *sdev = shyper_from_file(file);

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case SHYPER_IOC_HVC:
		return shyper_hvc_ioctl(sdev, file, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}
