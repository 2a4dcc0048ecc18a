// SPDX-License-Identifier: GPL-2.0
/*
 * shyper.ko - the Management VM's interface to the cshyper hypervisor.
 *
 * For now a skeleton: it reports its version and the hypercall ABI version it
 * was built against. /dev/shyper, the hypercall wrappers and the notification
 * interrupt come later.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

#include <shyper/version.h>

static int __init shyper_init(void)
{
	pr_info("cshyper module version %s, ABI version %d loaded\n",
		SHYPER_VERSION_STRING, SHYPER_ABI_VERSION);
	return 0;
}

static void __exit shyper_exit(void)
{
	pr_info("cshyper module version %s unloaded\n", SHYPER_VERSION_STRING);
}

module_init(shyper_init);
module_exit(shyper_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cshyper hypervisor interface for the management VM");
MODULE_VERSION(SHYPER_VERSION_STRING);
