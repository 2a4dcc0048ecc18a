// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/shyper-ivc: inter-VM communication for user space of any VM (the MVM
 * or a guest with IVC channels, whose device tree then has the
 * "cshyper,hypervisor" node too).
 *
 *  ioctl(SHYPER_IOC_IVC)  one IVC hypercall, buffers copied through a page
 *                         of this module (include/shyper/ivc_ioctl.h)
 *  mmap(offset = id * page size)  the shared memory of channel <id>,
 *                         mapped uncached so that a bare-metal peer running
 *                         with its caches off sees the same bytes
 *  poll()/read()          wake on a doorbell: any interrupt of the
 *                         hypervisor node (the MVM: every event; a guest:
 *                         its first channel) or of another channel node,
 *                         or a message waiting in this VM's queue
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/capability.h>
#include <linux/interrupt.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_irq.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <shyper/errno.h>
#include <shyper/ivc.h>
#include <shyper/ivc_ioctl.h>

#include "shyper_drv.h"

struct shyper_ivc_file {
	struct shyper_dev *sdev;
	unsigned long seen; /* doorbell count at the last read() */
};

static unsigned long doorbells(struct shyper_dev *sdev)
{
	return READ_ONCE(sdev->ev_seq) + atomic_long_read(&sdev->ivc_seq);
}

static long ivc_hvc(u32 fid, u64 x1, u64 x2, u64 x3, struct arm_smccc_res *res)
{
	arm_smccc_1_1_hvc(fid, x1, x2, x3, res);
	return (long)res->a0;
}

/* A message waits in this VM's queue (RECV with no buffer only peeks). */
static bool message_waiting(void)
{
	struct arm_smccc_res res;

	return ivc_hvc(SHYPER_IVC_RECV, 0, 0, 0, &res) == 0;
}

static irqreturn_t shyper_ivc_irq(int irq, void *data)
{
	struct shyper_dev *sdev = data;

	atomic_long_inc(&sdev->ivc_seq);
	wake_up_interruptible_poll(&sdev->ivc_wait, EPOLLIN | EPOLLRDNORM);
	wake_up_interruptible_poll(&sdev->ev_wait, EPOLLIN | EPOLLRDNORM);
	return IRQ_HANDLED;
}

static long shyper_ivc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct shyper_ivc_file *f = file->private_data;
	struct shyper_dev *sdev = f->sdev;
	struct shyper_ioc_ivc io;
	struct arm_smccc_res res;
	u64 x[3], pa;
	bool in = false, out = false;
	long status;

	if (cmd != SHYPER_IOC_IVC)
		return -ENOTTY;
	if (copy_from_user(&io, (void __user *)arg, sizeof(io)))
		return -EFAULT;
	if (io.buf_len > PAGE_SIZE || SHYPER_HVC_GROUP(io.fid) != SHYPER_GRP_IVC ||
	    !SHYPER_HVC_IS_OURS(io.fid) || io.fid == SHYPER_IVC_ADD_CHANNEL)
		return -EINVAL;
	memcpy(x, io.args, sizeof(x));
	mutex_lock(&sdev->ivc_lock);
	pa = virt_to_phys(sdev->ivc_buf); /* the VM's IPA of the page */
	switch (io.fid) {
	case SHYPER_IVC_SEND:
		in = true;
		x[1] = pa;
		x[2] = io.buf_len;
		break;
	case SHYPER_IVC_BROADCAST:
		in = true;
		x[0] = pa;
		x[1] = io.buf_len;
		break;
	case SHYPER_IVC_RECV:
		out = io.buf_len != 0;
		x[0] = out ? pa : 0;
		x[1] = io.buf_len;
		break;
	case SHYPER_IVC_CHANNEL_INFO:
		out = io.buf_len != 0;
		x[1] = out ? pa : 0;
		x[2] = io.buf_len;
		break;
	}
	if (in && copy_from_user(sdev->ivc_buf, u64_to_user_ptr(io.buf), io.buf_len)) {
		mutex_unlock(&sdev->ivc_lock);
		return -EFAULT;
	}
	status = ivc_hvc(io.fid, x[0], x[1], x[2], &res);
	io.ret[0] = res.a0;
	io.ret[1] = res.a1;
	io.ret[2] = res.a2;
	io.ret[3] = res.a3;
	if (out && !status &&
	    copy_to_user(u64_to_user_ptr(io.buf), sdev->ivc_buf, io.buf_len))
		status = -EFAULT;
	mutex_unlock(&sdev->ivc_lock);
	if (copy_to_user((void __user *)arg, &io, sizeof(io)))
		return -EFAULT;
	return status;
}

/* The caller's channel with this id, as the hypervisor describes it. */
static int find_channel(struct shyper_dev *sdev, unsigned long id,
			struct shyper_ivc_channel *out)
{
	struct arm_smccc_res res;
	u64 pa = virt_to_phys(sdev->ivc_buf);
	int ret = -ENOENT;

	mutex_lock(&sdev->ivc_lock);
	for (u64 i = 0; i < SHYPER_IVC_MAX_CHANNEL_ID; i++) {
		if (ivc_hvc(SHYPER_IVC_CHANNEL_INFO, i, pa, sizeof(*out), &res))
			break;
		memcpy(out, sdev->ivc_buf, sizeof(*out));
		if (out->id == id) {
			ret = 0;
			break;
		}
	}
	mutex_unlock(&sdev->ivc_lock);
	return ret;
}

static int shyper_ivc_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct shyper_ivc_file *f = file->private_data;
	struct shyper_ivc_channel ch;
	unsigned long len = vma->vm_end - vma->vm_start;
	int ret = find_channel(f->sdev, vma->vm_pgoff, &ch);

	if (ret)
		return ret;
	if (len > ch.length)
		return -EINVAL;
	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	return remap_pfn_range(vma, vma->vm_start, PHYS_PFN(ch.ipa), len,
			       vma->vm_page_prot);
}

static __poll_t shyper_ivc_poll(struct file *file, poll_table *wait)
{
	struct shyper_ivc_file *f = file->private_data;
	struct shyper_dev *sdev = f->sdev;

	poll_wait(file, &sdev->ev_wait, wait);
	poll_wait(file, &sdev->ivc_wait, wait);
	if (doorbells(sdev) != f->seen || message_waiting())
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

/* Waits for a doorbell (or a queued message); returns the doorbell count. */
static ssize_t shyper_ivc_read(struct file *file, char __user *ubuf, size_t count,
			       loff_t *ppos)
{
	struct shyper_ivc_file *f = file->private_data;
	struct shyper_dev *sdev = f->sdev;
	u64 now;
	int ret;

	if (count < sizeof(now))
		return -EINVAL;
	if (doorbells(sdev) == f->seen && !message_waiting()) {
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(sdev->ev_wait,
					       doorbells(sdev) != f->seen);
		if (ret)
			return ret;
	}
	f->seen = doorbells(sdev);
	now = f->seen;
	if (copy_to_user(ubuf, &now, sizeof(now)))
		return -EFAULT;
	return sizeof(now);
}

static int shyper_ivc_open(struct inode *inode, struct file *file)
{
	struct shyper_dev *sdev = container_of(file->private_data, struct shyper_dev,
					       ivc_misc);
	struct shyper_ivc_file *f;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->sdev = sdev;
	f->seen = doorbells(sdev);
	file->private_data = f;
	return 0;
}

static int shyper_ivc_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static const struct file_operations shyper_ivc_fops = {
	.owner = THIS_MODULE,
	.open = shyper_ivc_open,
	.release = shyper_ivc_release,
	.read = shyper_ivc_read,
	.poll = shyper_ivc_poll,
	.mmap = shyper_ivc_mmap,
	.unlocked_ioctl = shyper_ivc_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

/* Doorbells of a guest's channels beyond the hypervisor node's interrupt. */
static void request_channel_irqs(struct platform_device *pdev, struct shyper_dev *sdev)
{
	struct device_node *np;

	for_each_compatible_node(np, NULL, "cshyper,ivc-channel") {
		unsigned int virq = irq_of_parse_and_map(np, 0);

		if (!virq || (int)virq == sdev->irq)
			continue;
		if (devm_request_irq(&pdev->dev, virq, shyper_ivc_irq, 0, "shyper-ivc", sdev))
			dev_warn(&pdev->dev, "%pOF: cannot request its interrupt\n", np);
	}
}

int shyper_ivc_init(struct platform_device *pdev, struct shyper_dev *sdev)
{
	int ret;

	mutex_init(&sdev->ivc_lock);
	init_waitqueue_head(&sdev->ivc_wait);
	atomic_long_set(&sdev->ivc_seq, 0);
	sdev->ivc_buf = devm_kzalloc(&pdev->dev, PAGE_SIZE, GFP_KERNEL);
	if (!sdev->ivc_buf)
		return -ENOMEM;
	request_channel_irqs(pdev, sdev);
	sdev->ivc_misc.minor = MISC_DYNAMIC_MINOR;
	sdev->ivc_misc.name = "shyper-ivc";
	sdev->ivc_misc.fops = &shyper_ivc_fops;
	sdev->ivc_misc.mode = 0600;
	sdev->ivc_misc.parent = &pdev->dev;
	ret = misc_register(&sdev->ivc_misc);
	if (ret)
		return dev_err_probe(&pdev->dev, ret, "cannot register /dev/shyper-ivc\n");
	return 0;
}

void shyper_ivc_exit(struct shyper_dev *sdev)
{
	misc_deregister(&sdev->ivc_misc);
	mutex_destroy(&sdev->ivc_lock);
}
