// SPDX-License-Identifier: GPL-2.0
/*
 * VMs being rebuilt from a migration stream or a snapshot (added with
 * SHYPER_VM_F_RESTORE) belong to the file that added them until they are
 * resumed or removed. If that file is released first (the receiver or
 * `shyper vm restore` exited, crashed or was killed halfway), they are
 * shut down and removed, so a failed migration leaves nothing behind.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include <shyper/hypercall.h>

#include "shyper_drv.h"

struct shyper_incoming {
	struct list_head node;
	struct file *file;
	u64 id;
};

static LIST_HEAD(incoming);
static DEFINE_MUTEX(incoming_lock);

static void forget(u64 id)
{
	struct shyper_incoming *in, *tmp;

	list_for_each_entry_safe(in, tmp, &incoming, node)
		if (in->id == id) {
			list_del(&in->node);
			kfree(in);
		}
}

void shyper_incoming_note(struct file *file, u32 fid, u64 id, bool restore,
			  const struct arm_smccc_res *res)
{
	struct shyper_incoming *in;

	if ((long)res->a0)
		return;
	if (fid == SHYPER_CFG_ADD_VM && restore) {
		in = kzalloc(sizeof(*in), GFP_KERNEL);
		if (!in) {
			pr_warn("VM %lu: not tracked (out of memory)\n", res->a1);
			return;
		}
		in->file = file;
		in->id = res->a1;
		mutex_lock(&incoming_lock);
		forget(in->id);
		list_add(&in->node, &incoming);
		mutex_unlock(&incoming_lock);
	} else if (fid == SHYPER_MIG_RESUME || fid == SHYPER_VMM_REMOVE) {
		mutex_lock(&incoming_lock);
		forget(id);
		mutex_unlock(&incoming_lock);
	}
}

void shyper_incoming_release(struct file *file)
{
	struct shyper_incoming *in, *tmp;
	struct arm_smccc_res res;

	mutex_lock(&incoming_lock);
	list_for_each_entry_safe(in, tmp, &incoming, node) {
		if (in->file != file)
			continue;
		arm_smccc_1_1_hvc(SHYPER_VMM_SHUTDOWN, in->id, &res);
		arm_smccc_1_1_hvc(SHYPER_VMM_REMOVE, in->id, &res);
		pr_info("VM %llu: removed, its builder went away before it was resumed (%ld)\n",
			in->id, (long)res.a0);
		list_del(&in->node);
		kfree(in);
	}
	mutex_unlock(&incoming_lock);
}
