// SPDX-License-Identifier: GPL-2.0
/*
 * Mediated disks: the daemon that serves them registers each image index
 * with SHYPER_MED_REGISTER through ioctl(SHYPER_IOC_HVC). When its file is
 * released (it exited, crashed or was killed), every index it still serves
 * is unregistered, so that the guests' I/O on them fails at once instead of
 * waiting for ever; a daemon started again registers them anew.
 *
 * The calls are made here rather than by shyper_hvc.c so that the
 * bookkeeping sees exactly the call that was made and its result.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/bitops.h>
#include <linux/capability.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <shyper/hypercall.h>
#include <shyper/ioctl.h>
#include <shyper/mediated.h>

#include "shyper_drv.h"

/* A file that registered images, and which ones it still serves. */
struct shyper_med_owner {
	struct list_head node;
	struct file *file;
	unsigned long images;
};

static LIST_HEAD(owners);
static DEFINE_MUTEX(owners_lock);

static struct shyper_med_owner *owner_of(struct file *file)
{
	struct shyper_med_owner *o;

	list_for_each_entry(o, &owners, node)
		if (o->file == file)
			return o;
	return NULL;
}

/* owners_lock held. Index `image` now belongs to `file` (or to nobody). */
static void note(struct file *file, struct shyper_med_owner *mine,
		 unsigned long image, bool registered)
{
	struct shyper_med_owner *o;

	/* The newest registration wins: an older file must not drop it. */
	list_for_each_entry(o, &owners, node)
		clear_bit(image, &o->images);
	if (registered && mine) {
		set_bit(image, &mine->images);
		if (list_empty(&mine->node))
			list_add(&mine->node, &owners);
	}
}

long shyper_mediated_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct shyper_ioc_hvc __user *uioc = (void __user *)arg;
	struct shyper_med_owner *fresh = NULL, *mine;
	struct shyper_ioc_hvc ioc;
	struct arm_smccc_res res;
	u64 ret[4];

	if (cmd != SHYPER_IOC_HVC)
		return -ENOIOCTLCMD;
	if (copy_from_user(&ioc, uioc, sizeof(ioc)))
		return -EFAULT;
	if (ioc.fid != SHYPER_MED_REGISTER && ioc.fid != SHYPER_MED_UNREGISTER)
		return -ENOIOCTLCMD;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (ioc.buf_arg)
		return -EINVAL; /* these calls take no buffer */

	if (ioc.fid == SHYPER_MED_REGISTER) {
		fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
		if (!fresh)
			return -ENOMEM;
		fresh->file = file;
		INIT_LIST_HEAD(&fresh->node);
	}
	mutex_lock(&owners_lock);
	arm_smccc_1_1_hvc(ioc.fid, ioc.args[1], ioc.args[2], ioc.args[3], &res);
	if (!res.a0 && ioc.args[1] < SHYPER_MED_IMAGES_MAX) {
		mine = owner_of(file);
		if (!mine && fresh) {
			mine = fresh;
			fresh = NULL;
		}
		note(file, mine, ioc.args[1], ioc.fid == SHYPER_MED_REGISTER);
	}
	mutex_unlock(&owners_lock);
	kfree(fresh);

	ret[0] = res.a0;
	ret[1] = res.a1;
	ret[2] = res.a2;
	ret[3] = res.a3;
	if (copy_to_user(uioc->ret, ret, sizeof(ret)))
		return -EFAULT;
	return 0;
}

void shyper_mediated_release(struct file *file)
{
	struct shyper_med_owner *o;
	struct arm_smccc_res res;
	unsigned long image;

	mutex_lock(&owners_lock);
	o = owner_of(file);
	if (o) {
		list_del(&o->node);
		for_each_set_bit(image, &o->images, SHYPER_MED_IMAGES_MAX) {
			arm_smccc_1_1_hvc(SHYPER_MED_UNREGISTER, image, &res);
			pr_info("mediated image %lu: its daemon went away (%ld)\n", image,
				(long)res.a0);
		}
	}
	mutex_unlock(&owners_lock);
	kfree(o);
}
