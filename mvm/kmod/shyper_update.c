// SPDX-License-Identifier: GPL-2.0
/*
 * A live-update upload belongs to the file that began it (SHYPER_UPD_BEGIN)
 * until it is switched to or cancelled (a refused one is dropped by the
 * hypervisor itself, and cancelling nothing is harmless). If that file is released
 * first (`shyper system update` exited, crashed or was killed halfway), the
 * upload is cancelled, so the next update is not refused as "already in
 * progress" forever.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/mutex.h>

#include <shyper/hypercall.h>

#include "shyper_drv.h"

static struct file *uploader;
static DEFINE_MUTEX(uploader_lock);

void shyper_update_note(struct file *file, u32 fid, const struct arm_smccc_res *res)
{
	mutex_lock(&uploader_lock);
	if (fid == SHYPER_UPD_BEGIN && !(long)res->a0)
		uploader = file;
	else if (fid == SHYPER_UPD_APPLY || fid == SHYPER_UPD_CANCEL)
		uploader = NULL;
	mutex_unlock(&uploader_lock);
}

void shyper_update_release(struct file *file)
{
	struct arm_smccc_res res;

	mutex_lock(&uploader_lock);
	if (uploader == file) {
		arm_smccc_1_1_hvc(SHYPER_UPD_CANCEL, &res);
		pr_info("live-update upload cancelled: its uploader went away (%ld)\n",
			(long)res.a0);
		uploader = NULL;
	}
	mutex_unlock(&uploader_lock);
}
