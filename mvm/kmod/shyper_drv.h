/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shyper.ko internals shared by its files: the state of the one device the
 * hypervisor's device-tree node describes.
 */
#ifndef SHYPER_DRV_H
#define SHYPER_DRV_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

struct shyper_dev {
	struct device *dev;
	struct miscdevice misc;

	/*
	 * The bounce buffer: SHYPER_IOC_BUF_MAX bytes, physically contiguous,
	 * whose physical address (== the hypervisor's view of it, the MVM is
	 * identity mapped) goes into the argument the caller names.
	 */
	void *buf;
	phys_addr_t buf_pa;
	struct mutex buf_lock;	/* one user of buf at a time */

	/*
	 * Notifications. ev_pending: an event may be waiting in the
	 * hypervisor; set by the interrupt, cleared when SYS_NOTIFY says none
	 * and no interrupt came in the meantime (ev_seq counts interrupts).
	 */
	int irq;
	spinlock_t ev_lock;
	bool ev_pending;
	unsigned long ev_seq;
	wait_queue_head_t ev_wait;

	/* IVC (shyper_ivc.c): /dev/shyper-ivc, doorbells of extra channels. */
	struct miscdevice ivc_misc;
	void *ivc_buf;		/* one page for message and info copies */
	struct mutex ivc_lock;
	atomic_long_t ivc_seq;	/* doorbells not counted in ev_seq */
	wait_queue_head_t ivc_wait;
};

static inline struct shyper_dev *shyper_from_file(struct file *file)
{
	/* misc_open() sets private_data to the miscdevice. */
	return container_of(file->private_data, struct shyper_dev, misc);
}

/* shyper_hvc.c */
void shyper_report_version(void);
int shyper_buf_init(struct shyper_dev *sdev);
long shyper_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* shyper_events.c */
int shyper_events_init(struct platform_device *pdev, struct shyper_dev *sdev);
ssize_t shyper_read(struct file *file, char __user *ubuf, size_t count,
		    loff_t *ppos);
__poll_t shyper_poll(struct file *file, poll_table *wait);

/* shyper_mediated.c: REGISTER / UNREGISTER calls (-ENOIOCTLCMD: not one),
 * and the daemon's file going away. */
long shyper_mediated_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
void shyper_mediated_release(struct file *file);

/* shyper_incoming.c: VMs added with SHYPER_VM_F_RESTORE and not yet
 * resumed are removed when the file that added them is released. */
struct arm_smccc_res;
void shyper_incoming_note(struct file *file, u32 fid, u64 id, bool restore,
			  const struct arm_smccc_res *res);
void shyper_incoming_release(struct file *file);
/* shyper_update.c: the file whose live-update upload is in progress. */
void shyper_update_note(struct file *file, u32 fid, const struct arm_smccc_res *res);
void shyper_update_release(struct file *file);

/* shyper_ivc.c */
int shyper_ivc_init(struct platform_device *pdev, struct shyper_dev *sdev);
void shyper_ivc_exit(struct shyper_dev *sdev);

#endif
