// SPDX-License-Identifier: GPL-2.0
/*
 * shyper.ko - the management VM's door to the cshyper hypervisor.
 *
 * The hypervisor announces itself with a device-tree node compatible
 * "cshyper,hypervisor" whose interrupt is its notification SPI. Only then
 * may the module issue HVCs: without a hypervisor at EL2 an HVC from EL1 is
 * UNDEFINED. The platform driver bound to that node creates /dev/shyper:
 * ioctl(SHYPER_IOC_HVC) makes one hypercall (shyper_hvc.c), read() and
 * poll() deliver the hypervisor's events (shyper_events.c).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include <asm/virt.h>

#include <shyper/version.h>

#include "shyper_drv.h"

#define SHYPER_COMPATIBLE "cshyper,hypervisor"

static int shyper_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return stream_open(inode, file);
}

/* Mediated-disk registrations are tracked per file (shyper_mediated.c). */
static long shyper_main_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	long ret = shyper_mediated_ioctl(file, cmd, arg);

	return ret == -ENOIOCTLCMD ? shyper_ioctl(file, cmd, arg) : ret;
}

static int shyper_release(struct inode *inode, struct file *file)
{
	shyper_mediated_release(file);
	shyper_incoming_release(file);
	shyper_update_release(file);
	return 0;
}

static const struct file_operations shyper_fops = {
	.owner = THIS_MODULE,
	.open = shyper_open,
	.release = shyper_release,
	.read = shyper_read,
	.poll = shyper_poll,
	.unlocked_ioctl = shyper_main_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

static int shyper_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct shyper_dev *sdev;
	int ret;

	sdev = devm_kzalloc(dev, sizeof(*sdev), GFP_KERNEL);
	if (!sdev)
		return -ENOMEM;
	sdev->dev = dev;
	mutex_init(&sdev->buf_lock);

	shyper_report_version();

	ret = shyper_buf_init(sdev);
	if (ret)
		return ret;
	ret = shyper_events_init(pdev, sdev);
	if (ret)
		return ret;

	/* Last: /dev/shyper can be opened as soon as it exists. */
	sdev->misc.minor = MISC_DYNAMIC_MINOR;
	sdev->misc.name = "shyper";
	sdev->misc.fops = &shyper_fops;
	sdev->misc.mode = 0600;
	sdev->misc.parent = dev;
	ret = misc_register(&sdev->misc);
	if (ret)
		return dev_err_probe(dev, ret, "cannot register /dev/shyper\n");

	platform_set_drvdata(pdev, sdev);
	ret = shyper_ivc_init(pdev, sdev);
	if (ret) {
		misc_deregister(&sdev->misc);
		return ret;
	}
	pr_info("/dev/shyper ready, notification interrupt %d\n", sdev->irq);
	return 0;
}

/*
 * Only at module unload (the driver cannot be unbound through sysfs), so no
 * file is open: each holds a reference to the module. The interrupt and the
 * bounce buffer are devres and go after this.
 */
static int shyper_remove(struct platform_device *pdev)
{
	struct shyper_dev *sdev = platform_get_drvdata(pdev);

	shyper_ivc_exit(sdev);
	misc_deregister(&sdev->misc);
	mutex_destroy(&sdev->buf_lock);
	return 0;
}

static const struct of_device_id shyper_of_match[] = {
	{ .compatible = SHYPER_COMPATIBLE },
	{ }
};
MODULE_DEVICE_TABLE(of, shyper_of_match);

static struct platform_driver shyper_driver = {
	.probe = shyper_probe,
	.remove = shyper_remove,
	.driver = {
		.name = "shyper",
		.of_match_table = shyper_of_match,
		.suppress_bind_attrs = true,
	},
};

static bool shyper_driver_registered;

/* Whether HVCs reach the cshyper hypervisor, judged without making one. */
static bool shyper_hypervisor_present(void)
{
	struct device_node *np;

	np = of_find_compatible_node(NULL, NULL, SHYPER_COMPATIBLE);
	if (!np)
		return false;
	of_node_put(np);

	/* At EL2 an HVC would trap to this kernel, not to a hypervisor. */
	if (is_kernel_in_hyp_mode()) {
		pr_warn("%s node present but the kernel runs at EL2; ignoring it\n",
			SHYPER_COMPATIBLE);
		return false;
	}
	return true;
}

static int __init shyper_init(void)
{
	int ret;

	pr_info("cshyper module version %s, ABI version %d loaded\n",
		SHYPER_VERSION_STRING, SHYPER_ABI_VERSION);

	if (!shyper_hypervisor_present()) {
		pr_info("no cshyper hypervisor found; /dev/shyper not created\n");
		return 0;
	}

	ret = platform_driver_register(&shyper_driver);
	if (ret)
		return ret;
	shyper_driver_registered = true;
	return 0;
}

static void __exit shyper_exit(void)
{
	if (shyper_driver_registered)
		platform_driver_unregister(&shyper_driver);
	pr_info("cshyper module version %s unloaded\n", SHYPER_VERSION_STRING);
}

module_init(shyper_init);
module_exit(shyper_exit);

MODULE_AUTHOR("cshyper developers");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cshyper hypervisor interface for the management VM");
MODULE_VERSION(SHYPER_VERSION_STRING);
