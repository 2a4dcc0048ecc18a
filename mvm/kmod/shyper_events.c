// SPDX-License-Identifier: GPL-2.0
/*
 * Events: the hypervisor queues them (a VM changed state, ...) and raises its
 * notification interrupt; SHYPER_SYS_NOTIFY takes the oldest one off the
 * queue. read() on /dev/shyper returns them as struct shyper_event records,
 * poll() waits for the interrupt.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/ioctl.h>

#include "shyper_drv.h"

static_assert(sizeof(struct shyper_event) == 16);

static irqreturn_t shyper_notify_irq(int irq, void *data)
{
	struct shyper_dev *sdev = data;

	spin_lock(&sdev->ev_lock);
	sdev->ev_seq++;
	sdev->ev_pending = true;
	spin_unlock(&sdev->ev_lock);
	wake_up_interruptible_poll(&sdev->ev_wait, EPOLLIN | EPOLLRDNORM);
	return IRQ_HANDLED;
}

int shyper_events_init(struct platform_device *pdev, struct shyper_dev *sdev)
{
	int ret;

	spin_lock_init(&sdev->ev_lock);
	init_waitqueue_head(&sdev->ev_wait);
	/* Events queued before the driver bound raised no interrupt we saw. */
	sdev->ev_pending = true;

	sdev->irq = platform_get_irq(pdev, 0);
	if (sdev->irq < 0)
		return sdev->irq;
	ret = devm_request_irq(&pdev->dev, sdev->irq, shyper_notify_irq, 0,
			       "shyper", sdev);
	if (ret)
		return dev_err_probe(&pdev->dev, ret,
				     "cannot request interrupt %d\n", sdev->irq);
	return 0;
}

/*
 * Takes one event off the hypervisor's queue: 1 if *ev holds one, 0 if none
 * is left, -EIO if SYS_NOTIFY failed.
 */
static int shyper_next_event(struct shyper_dev *sdev, struct shyper_event *ev)
{
	struct arm_smccc_res res;
	unsigned long seq;
	long status;

	spin_lock_irq(&sdev->ev_lock);
	seq = sdev->ev_seq;
	spin_unlock_irq(&sdev->ev_lock);

	arm_smccc_1_1_hvc(SHYPER_SYS_NOTIFY, &res);
	status = (long)res.a0;
	if (!status) {
		ev->type = res.a1;
		ev->vm_id = res.a2;
		ev->state = res.a3;
		ev->pad = 0;
		return 1;
	}

	/*
	 * None left (or NOTIFY fails, and then poll() must not report
	 * readiness for ever). An interrupt since the call began may announce
	 * an event the call did not see: then it stays pending.
	 */
	spin_lock_irq(&sdev->ev_lock);
	if (sdev->ev_seq == seq)
		sdev->ev_pending = false;
	spin_unlock_irq(&sdev->ev_lock);

	if (status == -SHYPER_EAGAIN)
		return 0;
	pr_warn_ratelimited("SHYPER_SYS_NOTIFY failed (%ld)\n", status);
	return -EIO;
}

ssize_t shyper_read(struct file *file, char __user *ubuf, size_t count,
		    loff_t *ppos)
{
	struct shyper_dev *sdev = shyper_from_file(file);
	struct shyper_event ev;
	size_t done;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (count < sizeof(ev))
		return -EINVAL;

	for (;;) {
		done = 0;
		do {
			ret = shyper_next_event(sdev, &ev);
			if (ret <= 0)
				break;
			/* A fault loses ev: the hypervisor has let it go. */
			if (copy_to_user(ubuf + done, &ev, sizeof(ev))) {
				if (!done)
					return -EFAULT;
				break;
			}
			done += sizeof(ev);
		} while (done + sizeof(ev) <= count);

		if (done)
			return done;
		if (ret < 0)
			return ret;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(sdev->ev_wait,
					       READ_ONCE(sdev->ev_pending));
		if (ret)
			return ret;
	}
}

__poll_t shyper_poll(struct file *file, poll_table *wait)
{
	struct shyper_dev *sdev = shyper_from_file(file);

	poll_wait(file, &sdev->ev_wait, wait);
	return READ_ONCE(sdev->ev_pending) ? EPOLLIN | EPOLLRDNORM : 0;
}
