/* shyper vm config|boot|shutdown|reboot|pause|resume|remove|list|info */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/version.h>

#include "cli.h"
#include "config.h"
#include "hvc.h"
#include "util.h"
#include "vm_cmds.h"

#define MIB (1024ULL * 1024)

int cli_open_device(int *fd)
{
	char msg[256];

	*fd = hvc_open();
	if (*fd < 0)
		return cli_err("%s", hvc_open_error(*fd, msg, sizeof(msg)));
	return CLI_EXIT_OK;
}

/*
 * What an error means for this call (docs/HYPERCALLS.md), when that says more
 * than errno.h's description; NULL: none.
 */
static const char *hint(uint32_t fid, int code)
{
	const int e = -code;

	if (e == SHYPER_ENOSYS)
		return "the hypervisor does not implement this call";
	switch (fid) {
	case SHYPER_CFG_ADD_VM:
		if (e == SHYPER_ENOSPC)
			return "no free VM slot";
		if (e == SHYPER_EINVAL)
			return "bad name, type or command line";
		break;
	case SHYPER_CFG_SET_CPU:
		if (e == SHYPER_EBUSY)
			return "a core is already used by another VM";
		if (e == SHYPER_EINVAL)
			return "bad vCPU count, core bitmap or master core for this board";
		break;
	case SHYPER_CFG_ADD_MEM:
		if (e == SHYPER_EBUSY)
			return "overlaps memory owned by another VM or the hypervisor";
		if (e == SHYPER_EEXIST)
			return "overlaps another memory region of this VM";
		if (e == SHYPER_ENOMEM)
			return "not enough contiguous free memory";
		if (e == SHYPER_ENOSPC)
			return "too many memory regions";
		if (e == SHYPER_EINVAL)
			return "not page aligned, empty or above the IPA limit";
		break;
	case SHYPER_CFG_ADD_EMU_DEV:
		if (e == SHYPER_ENOTSUP)
			return "the hypervisor does not emulate this device type yet";
		break;
	case SHYPER_CFG_ADD_PT_REGION:
		if (e == SHYPER_EPERM)
			return "the range is RAM or the hypervisor's own GIC";
		if (e == SHYPER_EBUSY)
			return "the physical range belongs to the hypervisor or another VM";
		if (e == SHYPER_EEXIST)
			return "overlaps another region of this VM";
		break;
	case SHYPER_CFG_ADD_PT_STREAM:
		if (e == SHYPER_ENODEV)
			return "the hypervisor has no SMMU on this board";
		if (e == SHYPER_EBUSY)
			return "another VM has this stream";
		if (e == SHYPER_EINVAL)
			return "beyond the SMMU's stream table";
		break;
	case SHYPER_CFG_ADD_DTB_DEV:
		if (e == SHYPER_ENODEV)
			return "the board has no PCIe host bridge";
		if (e == SHYPER_EINVAL)
			return "a PCIe bridge needs its configuration space passed through at "
			       "addr_region_ipa and its four INTx interrupts passed through first";
		break;
	case SHYPER_CFG_ADD_PT_IRQ:
		if (e == SHYPER_EBUSY)
			return "the interrupt is already assigned to another VM";
		if (e == SHYPER_EINVAL)
			return "not an interrupt of this board that can be passed through";
		break;
	case SHYPER_CFG_SET_IMAGE:
		if (e == SHYPER_EINVAL)
			return "an image is too big (kernel and initramfs 256 MiB, device tree 64 KiB)";
		if (e == SHYPER_ENOMEM)
			return "no memory left for the image copies";
		break;
	case SHYPER_CFG_FINISH:
		if (e == SHYPER_ERANGE)
			return "an image or the entry point lies outside the VM's memory";
		if (e == SHYPER_EEXIST)
			return "kernel, initramfs and device tree overlap";
		if (e == SHYPER_EINVAL)
			return "the configuration is incomplete";
		break;
	case SHYPER_VMM_BOOT:
		if (e == SHYPER_EBUSY)
			return "the VM is already running";
		if (e == SHYPER_EINVAL)
			return "the VM is not completely configured";
		break;
	case SHYPER_VMM_SHUTDOWN:
		if (e == SHYPER_EINVAL)
			return "the VM is not running";
		break;
	case SHYPER_VMM_REMOVE:
		if (e == SHYPER_EBUSY)
			return "the VM is running: shut it down first";
		break;
	case SHYPER_MIG_PAUSE:
		if (e == SHYPER_EINVAL)
			return "the VM is not running, or already paused";
		if (e == SHYPER_EBUSY)
			return "a vCPU shares the MVM's core, or its core did not answer";
		break;
	case SHYPER_MIG_RESUME:
		if (e == SHYPER_EINVAL)
			return "the VM is not paused";
		break;
	case SHYPER_MIG_STATE_SAVE:
		if (e == SHYPER_ENOTSUP)
			return "the VM has passthrough devices, IVC channels or a mediated disk, "
			       "which a snapshot cannot carry yet";
		break;
	case SHYPER_MIG_STATE_LOAD:
		if (e == SHYPER_EINVAL)
			return "the state does not fit this VM or board (the hypervisor console says why)";
		break;
	}
	if (SHYPER_HVC_GROUP(fid) == SHYPER_GRP_VMM ||
	    SHYPER_HVC_GROUP(fid) == SHYPER_GRP_MIGRATE) {
		if (e == SHYPER_ENOENT)
			return "no such VM";
		if (e == SHYPER_EPERM)
			return "not allowed on the management VM";
	}
	if (SHYPER_HVC_GROUP(fid) == SHYPER_GRP_CONFIG && e == SHYPER_EBUSY)
		return "the VM is not being configured";
	if (e == SHYPER_EPERM)
		return "only the management VM may do this";
	return NULL;
}

int cli_vm_call(int fd, const char *what, uint32_t fid, const uint64_t x[6], unsigned buf_arg,
		void *buf, size_t len, unsigned dir, uint64_t ret[4], char *err, size_t errlen)
{
	char e[160];
	int code = hvc_call(fd, fid, x, buf_arg, buf, len, dir, ret);

	if (code)
		snprintf(err, errlen, "%s: %s", what, hvc_strerror(code, hint(fid, code), e, sizeof(e)));
	return code;
}

/* ------------------------------------------------------------------------ */
/* vm config                                                                 */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static size_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int upload(int fd, uint32_t id, uint32_t kind, const char *what, const char *path,
		  uint64_t size, void *chunk, char *err, size_t errlen)
{
	uint64_t off = 0;
	char step[256], extra;
	int f = open(path, O_RDONLY | O_CLOEXEC);

	if (f < 0) {
		snprintf(err, errlen, "upload %s: %s: %s", what, path, strerror(errno));
		return -1;
	}
	while (off < size) {
		size_t n = size - off > SHYPER_UPLOAD_CHUNK_MAX ? SHYPER_UPLOAD_CHUNK_MAX
								 : (size_t)(size - off);
		uint64_t x[6] = { id, kind, off, 0, n, 0 };

		if (interrupted) {
			snprintf(err, errlen, "upload %s: interrupted", what);
			goto fail;
		}
		if (read_full(f, chunk, n) != n) {
			snprintf(err, errlen, "upload %s: %s: file shrank while reading", what,
				 path);
			goto fail;
		}
		snprintf(step, sizeof(step), "upload %s %s at offset 0x%llx", what,
			 base_name(path), (unsigned long long)off);
		if (cli_vm_call(fd, step, SHYPER_CFG_UPLOAD, x, 4, chunk, n, SHYPER_BUF_IN, NULL, err,
			 errlen))
			goto fail;
		off += n;
	}
	if (read_full(f, &extra, 1)) {
		snprintf(err, errlen, "upload %s: %s: file grew while reading", what, path);
		goto fail;
	}
	close(f);
	return 0;
fail:
	close(f);
	return -1;
}

int cli_vm_configure(int fd, const struct cli_vm_config *cfg, uint32_t id, bool images,
		     char *err, size_t errlen)
{
	const struct cli_image *im = &cfg->image;
	char what[256], bits[80];
	void *chunk;
	int ret = -1;

	cli_format_bitmap(cfg->cpu_bitmap, bits, sizeof(bits));
	snprintf(what, sizeof(what), "cpus %s (num %u, master %u)", bits, cfg->cpu_num,
		 cfg->cpu_master);
	if (cli_vm_call(fd, what, SHYPER_CFG_SET_CPU,
		 (uint64_t[6]){ id, cfg->cpu_num, cfg->cpu_bitmap, cfg->cpu_master, cfg->cpu_slice_us },
		 0, NULL, 0,
		 0, NULL, err, errlen))
		return -1;

	for (size_t i = 0; i < cfg->nr_mem; i++) {
		const struct cli_mem_region *m = &cfg->mem[i];

		snprintf(what, sizeof(what), "memory region 0x%llx+0x%llx",
			 (unsigned long long)m->ipa, (unsigned long long)m->length);
		if (cli_vm_call(fd, what, SHYPER_CFG_ADD_MEM, (uint64_t[6]){ id, m->ipa, m->length }, 0,
			 NULL, 0, 0, NULL, err, errlen))
			return -1;
	}

	for (size_t i = 0; i < cfg->nr_emu; i++) {
		struct shyper_emu_dev dev = cfg->emu[i];
		const char *t = cli_emu_type_name(dev.type);

		snprintf(what, sizeof(what), "emulated device %s (%s at 0x%llx)", dev.name,
			 t ? t : "?", (unsigned long long)dev.base_ipa);
		if (cli_vm_call(fd, what, SHYPER_CFG_ADD_EMU_DEV, (uint64_t[6]){ id, 0, sizeof(dev) }, 2,
			 &dev, sizeof(dev), SHYPER_BUF_IN, NULL, err, errlen))
			return -1;
	}

	for (size_t i = 0; i < cfg->nr_pt; i++) {
		const struct cli_pt_dev *p = &cfg->pt[i];

		snprintf(what, sizeof(what), "passthrough region %s 0x%llx -> 0x%llx+0x%llx",
			 p->name, (unsigned long long)p->base_pa, (unsigned long long)p->base_ipa,
			 (unsigned long long)p->length);
		if (cli_vm_call(fd, what, SHYPER_CFG_ADD_PT_REGION,
			 (uint64_t[6]){ id, p->base_pa, p->base_ipa, p->length }, 0, NULL, 0, 0,
			 NULL, err, errlen))
			return -1;
		for (uint32_t j = 0; j < p->irq_num; j++) {
			snprintf(what, sizeof(what), "passthrough interrupt %u (%s)", p->irqs[j],
				 p->name);
			if (cli_vm_call(fd, what, SHYPER_CFG_ADD_PT_IRQ, (uint64_t[6]){ id, p->irqs[j] },
				 0, NULL, 0, 0, NULL, err, errlen))
				return -1;
		}
	}

	for (size_t i = 0; i < cfg->nr_streams; i++) {
		snprintf(what, sizeof(what), "DMA stream 0x%x (passthrough_device.streams_ids[%zu])",
			 cfg->streams[i], i);
		if (cli_vm_call(fd, what, SHYPER_CFG_ADD_PT_STREAM, (uint64_t[6]){ id, cfg->streams[i] },
			 0, NULL, 0, 0, NULL, err, errlen))
			return -1;
	}

	for (size_t i = 0; i < cfg->nr_dtb; i++) {
		struct shyper_dtb_dev dev = cfg->dtb[i];
		const char *t = cli_dtb_type_name(dev.type);

		snprintf(what, sizeof(what), "device tree device %s (%s)", dev.name, t ? t : "?");
		if (cli_vm_call(fd, what, SHYPER_CFG_ADD_DTB_DEV, (uint64_t[6]){ id, 0, sizeof(dev) }, 2,
			 &dev, sizeof(dev), SHYPER_BUF_IN, NULL, err, errlen))
			return -1;
	}

	for (size_t i = 0; i < cfg->nr_ivc; i++) {
		struct shyper_ivc_channel_desc ch = cfg->ivc[i];

		snprintf(what, sizeof(what), "ivc channel %s (ivc.channel[%zu])", ch.name, i);
		if (cli_vm_call(fd, what, SHYPER_IVC_ADD_CHANNEL, (uint64_t[6]){ id, 0, sizeof(ch) }, 2,
			 &ch, sizeof(ch), SHYPER_BUF_IN, NULL, err, errlen))
			return -1;
	}

	if (!images)
		goto finish;
	struct shyper_image_desc desc = {
		.kernel_load_ipa = im->kernel_load_ipa,
		.kernel_entry = im->kernel_entry,
		.kernel_size = im->kernel_size,
		.dtb_load_ipa = im->dtb_load_ipa,
		.dtb_size = im->dtb_path ? im->dtb_size : 0,
		.ramdisk_load_ipa = im->ramdisk_path ? im->ramdisk_load_ipa : 0,
		.ramdisk_size = im->ramdisk_path ? im->ramdisk_size : 0,
	};
	if (cli_vm_call(fd, "image layout", SHYPER_CFG_SET_IMAGE, (uint64_t[6]){ id, 0, sizeof(desc) },
		 2, &desc, sizeof(desc), SHYPER_BUF_IN, NULL, err, errlen))
		return -1;

	chunk = malloc(SHYPER_UPLOAD_CHUNK_MAX);
	if (!chunk) {
		snprintf(err, errlen, "upload: out of memory");
		return -1;
	}
	if (!upload(fd, id, SHYPER_IMAGE_KERNEL, "kernel", im->kernel_path, im->kernel_size,
		    chunk, err, errlen) &&
	    (!im->ramdisk_path || !upload(fd, id, SHYPER_IMAGE_INITRD, "ramdisk",
					  im->ramdisk_path, im->ramdisk_size, chunk, err, errlen)) &&
	    (!im->dtb_path || !upload(fd, id, SHYPER_IMAGE_DTB, "device tree", im->dtb_path,
				      im->dtb_size, chunk, err, errlen)))
		ret = 0;
	free(chunk);
	if (ret)
		return ret;

finish:
	if (interrupted) {
		snprintf(err, errlen, "interrupted");
		return -1;
	}
	return cli_vm_call(fd, "finish", SHYPER_CFG_FINISH, (uint64_t[6]){ id }, 0, NULL, 0, 0, NULL,
		    err, errlen) ? -1 : 0;
}

static int vm_config(int argc, char **argv)
{
	struct cli_vm_config cfg;
	struct shyper_vm_desc desc;
	struct sigaction sa, old_int, old_term;
	char err[CLI_ERR_MAX + 64], what[64];
	uint64_t ret[4];
	uint32_t id;
	int fd, status = CLI_EXIT_ERR;

	(void)argc;
	if (cli_config_load(&cfg, argv[0], err, sizeof(err)))
		return cli_err("%s: %s", argv[0], err);
	if (cli_config_check_images(&cfg, err, sizeof(err))) {
		cli_config_free(&cfg);
		return cli_err("%s: %s", argv[0], err);
	}
	for (size_t i = 0; i < cfg.nr_warnings; i++)
		cli_warn("%s: %s", argv[0], cfg.warnings[i]);

	if (cli_open_device(&fd)) {
		cli_config_free(&cfg);
		return CLI_EXIT_ERR;
	}
	/* The structs below must mean the same to both sides. */
	if (!hvc_call(fd, SHYPER_SYS_VERSION, NULL, 0, NULL, 0, 0, ret) &&
	    ret[2] != SHYPER_ABI_VERSION) {
		cli_err("the hypervisor's ABI version is %llu, this CLI's is %d "
			"(see shyper system version)", (unsigned long long)ret[2],
			SHYPER_ABI_VERSION);
		goto out;
	}

	/* Ctrl-C between steps removes the half-built VM instead of leaving it. */
	interrupted = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	memset(&desc, 0, sizeof(desc));
	memcpy(desc.name, cfg.name, sizeof(desc.name));
	desc.type = cfg.type;
	desc.flags = cfg.cpu_pmu ? SHYPER_VM_F_PMU : 0;
	memcpy(desc.cmdline, cfg.cmdline, sizeof(desc.cmdline));
	snprintf(what, sizeof(what), "add VM \"%s\"", cfg.name);
	if (cli_vm_call(fd, what, SHYPER_CFG_ADD_VM, (uint64_t[6]){ 0, sizeof(desc) }, 1, &desc,
		 sizeof(desc), SHYPER_BUF_IN, ret, err, sizeof(err))) {
		cli_err("%s", err);
		goto restore;
	}
	id = (uint32_t)ret[1];

	if (cli_vm_configure(fd, &cfg, id, true, err, sizeof(err))) {
		char e[160];
		int code;

		cli_err("%s", err);
		code = hvc_call(fd, SHYPER_VMM_REMOVE, (uint64_t[6]){ id }, 0, NULL, 0, 0, NULL);
		if (code)
			cli_err("could not remove the half-configured VM %u: %s", id,
				hvc_strerror(code, hint(SHYPER_VMM_REMOVE, code), e, sizeof(e)));
		goto restore;
	}
	printf("VM %u configured\n", id);
	status = CLI_EXIT_OK;
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	hvc_close(fd);
	cli_config_free(&cfg);
	return status;
}

/* ------------------------------------------------------------------------ */
/* boot, shutdown, reboot, remove                                            */

static int vm_simple(const char *arg, uint32_t fid, const char *done)
{
	char what[32], err[256];
	uint32_t id;
	int fd, st;

	st = cli_vm_id_arg(arg, &id);
	if (st || (st = cli_open_device(&fd)))
		return st;
	snprintf(what, sizeof(what), "VM %u", id);
	if (cli_vm_call(fd, what, fid, (uint64_t[6]){ id }, 0, NULL, 0, 0, NULL, err, sizeof(err))) {
		hvc_close(fd);
		return cli_err("%s", err);
	}
	hvc_close(fd);
	printf("VM %u %s\n", id, done);
	return CLI_EXIT_OK;
}

static int vm_boot(int argc, char **argv)
{
	(void)argc;
	return vm_simple(argv[0], SHYPER_VMM_BOOT, "booted");
}

static int vm_shutdown(int argc, char **argv)
{
	(void)argc;
	return vm_simple(argv[0], SHYPER_VMM_SHUTDOWN, "shut down");
}

static int vm_reboot(int argc, char **argv)
{
	(void)argc;
	return vm_simple(argv[0], SHYPER_VMM_REBOOT, "rebooted");
}

static int vm_pause(int argc, char **argv)
{
	(void)argc;
	return vm_simple(argv[0], SHYPER_MIG_PAUSE, "paused");
}

static int vm_resume(int argc, char **argv)
{
	(void)argc;
	return vm_simple(argv[0], SHYPER_MIG_RESUME, "resumed");
}

static int vm_remove(int argc, char **argv)
{
	(void)argc;
	return vm_simple(argv[0], SHYPER_VMM_REMOVE, "removed");
}

/* ------------------------------------------------------------------------ */
/* list, info                                                                */

/* Every VM, or NULL with the error printed. */
static struct shyper_vm_info *list_vms(int fd, size_t *count)
{
	size_t cap = 16;

	for (int tries = 0; tries < 4; tries++) {
		struct shyper_vm_info *v = calloc(cap, sizeof(*v));
		size_t len = cap * sizeof(*v);
		char err[256];
		uint64_t ret[4];

		if (!v) {
			cli_err("out of memory");
			return NULL;
		}
		if (cli_vm_call(fd, "list", SHYPER_VMM_LIST, (uint64_t[6]){ 0, len }, 1, v, len,
			 SHYPER_BUF_OUT, ret, err, sizeof(err))) {
			free(v);
			cli_err("%s", err);
			return NULL;
		}
		if (ret[1] <= cap) {
			*count = (size_t)ret[1];
			return v;
		}
		free(v);
		if (ret[1] > SHYPER_IOC_BUF_MAX / sizeof(*v)) {
			cli_err("list: the hypervisor reports %llu VMs", (unsigned long long)ret[1]);
			return NULL;
		}
		cap = (size_t)ret[1]; /* more VMs than room: ask again with enough */
	}
	cli_err("list: the number of VMs keeps changing");
	return NULL;
}

static void name_of(const struct shyper_vm_info *v, char out[SHYPER_NAME_MAX])
{
	memcpy(out, v->name, SHYPER_NAME_MAX);
	out[SHYPER_NAME_MAX - 1] = '\0';
}

static int vm_list(int argc, char **argv)
{
	struct shyper_vm_info *v;
	size_t n;
	int fd, width = 4;

	(void)argc;
	(void)argv;
	if (cli_open_device(&fd))
		return CLI_EXIT_ERR;
	v = list_vms(fd, &n);
	hvc_close(fd);
	if (!v)
		return CLI_EXIT_ERR;
	for (size_t i = 0; i < n; i++) {
		char name[SHYPER_NAME_MAX];

		name_of(&v[i], name);
		if ((int)strlen(name) > width)
			width = (int)strlen(name);
	}
	printf("%-4s %-*s %-10s %-11s %-8s %s\n", "ID", width, "NAME", "TYPE", "STATE", "CORES",
	       "MEMORY");
	for (size_t i = 0; i < n; i++) {
		char name[SHYPER_NAME_MAX], t[24], s[24], cores[200];

		name_of(&v[i], name);
		cli_format_cores(v[i].cpu_bitmap, cores, sizeof(cores));
		printf("%-4u %-*s %-10s %-11s %-8s %llu MiB\n", v[i].id, width, name,
		       cli_vm_type_name(v[i].type, t, sizeof(t)),
		       cli_vm_state_name(v[i].state, s, sizeof(s)), cores,
		       (unsigned long long)(v[i].mem_bytes / MIB));
	}
	free(v);
	return CLI_EXIT_OK;
}

/* One line per vCPU: where it runs, for how long, and why it left the guest. */
static void print_vcpu(int fd, uint32_t id, uint32_t vcpu)
{
	static const char *const state_names[] = { "off", "starting", "running" };
	static const char *const reasons[SHYPER_EXIT_NR] = {
		"hvc", "smc", "mmio", "sysreg", "wfx", "irq", "abort", "other"
	};
	struct shyper_vcpu_info vi;
	char what[32], err[256];
	uint64_t total = 0;

	memset(&vi, 0, sizeof(vi));
	snprintf(what, sizeof(what), "VM %u vCPU %u", id, vcpu);
	if (cli_vm_call(fd, what, SHYPER_VMM_VCPU_INFO, (uint64_t[6]){ id, vcpu, 0, sizeof(vi) }, 3,
		 &vi, sizeof(vi), SHYPER_BUF_OUT, NULL, err, sizeof(err)))
		return; /* an older hypervisor: the VM's totals above still hold */
	for (unsigned r = 0; r < SHYPER_EXIT_NR; r++)
		total += vi.exits[r];
	printf("vcpu%u: core %u, %s, run %llu ms, switched in %llu times, exits %llu (",
	       vi.vcpu_id, vi.pcpu, vi.state < 3 ? state_names[vi.state] : "?",
	       (unsigned long long)(vi.run_ns / 1000000), (unsigned long long)vi.switches,
	       (unsigned long long)total);
	for (unsigned r = 0; r < SHYPER_EXIT_NR; r++)
		printf("%s%s %llu", r ? ", " : "", reasons[r], (unsigned long long)vi.exits[r]);
	printf(")\n");
}

/* The VM's ports on the hypervisor's switch, one line per virtio-net device. */
static void print_net(int fd, uint32_t id)
{
	for (uint64_t i = 0; i < SHYPER_NET_MAX_PER_VM; i++) {
		struct shyper_net_info n;
		char err[256], label[16] = "net";

		memset(&n, 0, sizeof(n));
		if (cli_vm_call(fd, "net", SHYPER_VMM_NET_INFO,
				(uint64_t[6]){ id, 0, sizeof(n), i }, 2, &n, sizeof(n),
				SHYPER_BUF_OUT, NULL, err, sizeof(err)))
			return; /* no more (or an older hypervisor) */
		if (i)
			snprintf(label, sizeof(label), "net%llu", (unsigned long long)i);
		printf("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, link %s, tx %llu packets %llu "
		       "bytes %llu drops, rx %llu packets %llu bytes %llu drops\n", label,
		       n.mac[0], n.mac[1], n.mac[2], n.mac[3], n.mac[4], n.mac[5],
		       n.link_up ? "up" : "down", (unsigned long long)n.tx_packets,
		       (unsigned long long)n.tx_bytes, (unsigned long long)n.tx_drops,
		       (unsigned long long)n.rx_packets, (unsigned long long)n.rx_bytes,
		       (unsigned long long)n.rx_drops);
	}
}

/* The VM's virtio-console history, if it has one (nothing is read). */
static void print_console(int fd, uint32_t id)
{
	uint64_t ret[4] = { 0 };

	if (hvc_call(fd, SHYPER_VMM_CONSOLE,
		     (uint64_t[6]){ id, SHYPER_CONSOLE_STATS, 0, 0, 0, 0 }, 0, NULL, 0, 0, ret))
		return; /* no virtio console (or an older hypervisor) */
	printf("console: %llu bytes kept, %llu dropped while nobody was attached, %s\n",
	       (unsigned long long)ret[1], (unsigned long long)ret[2],
	       ret[3] ? "attached" : "detached");
}

/* Since its boot; hypervisors with state layout 1 do not keep it (ENOSYS),
 * and a VM that is not running has none: no line then. */
static void print_uptime(int fd, uint32_t id)
{
	uint64_t r[4];

	if (!hvc_call(fd, SHYPER_VMM_UPTIME, (uint64_t[6]){ id }, 0, NULL, 0, 0, r) && r[2])
		printf("uptime: %.1f s\n", (double)r[1] / (double)r[2]);
}

static int vm_info(int argc, char **argv)
{
	struct shyper_vm_info v;
	char what[32], err[256], name[SHYPER_NAME_MAX], t[24], s[24], cores[200];
	uint32_t id;
	int fd, st;

	(void)argc;
	st = cli_vm_id_arg(argv[0], &id);
	if (st || (st = cli_open_device(&fd)))
		return st;
	memset(&v, 0, sizeof(v));
	snprintf(what, sizeof(what), "VM %u", id);
	st = cli_vm_call(fd, what, SHYPER_VMM_INFO, (uint64_t[6]){ id, 0, sizeof(v) }, 2, &v, sizeof(v),
		  SHYPER_BUF_OUT, NULL, err, sizeof(err));
	if (st) {
		hvc_close(fd);
		return cli_err("%s", err);
	}
	name_of(&v, name);
	cli_format_cores(v.cpu_bitmap, cores, sizeof(cores));
	printf("id: %u\nname: %s\ntype: %s\nstate: %s\nvcpus: %u\ncores: %s\n"
	       "memory: %llu MiB\nexits: %llu\n",
	       v.id, name, cli_vm_type_name(v.type, t, sizeof(t)),
	       cli_vm_state_name(v.state, s, sizeof(s)), v.nr_vcpus, cores,
	       (unsigned long long)(v.mem_bytes / MIB), (unsigned long long)v.exits);
	print_uptime(fd, id);
	for (uint32_t i = 0; i < v.nr_vcpus && i < SHYPER_MAX_CPUS; i++)
		print_vcpu(fd, id, i);
	print_net(fd, id);
	print_console(fd, id);
	hvc_close(fd);
	return CLI_EXIT_OK;
}

const struct cli_cmd cli_vm_cmds[] = {
	{ "config", "<file.json>", "configure a new VM from a JSON file; prints its id",
	  "The file is the JSON template of the Rust-Shyper README: name, type, cmdline,\n"
	  "image, memory, cpu, emulated_device, passthrough_device, dtb_device.\n"
	  "Numbers may be JSON integers or strings in decimal, 0x hex or 0b binary.\n"
	  "File names are relative to the JSON file's directory; device_tree_filename\n"
	  "\"-\" or \"\" lets the hypervisor generate the device tree; ramdisk_load_ipa 0\n"
	  "means no ramdisk. The file is checked completely before the hypervisor is\n"
	  "asked for anything; if a later step fails the half-built VM is removed.\n"
	  "On success prints \"VM <id> configured\"; boot it with shyper vm boot <id>.\n",
	  1, 1, vm_config },
	{ "boot", "<id>", "boot a configured VM", NULL, 1, 1, vm_boot },
	{ "shutdown", "<id>", "shut a VM down", NULL, 1, 1, vm_shutdown },
	{ "reboot", "<id>", "reboot a VM", NULL, 1, 1, vm_reboot },
	{ "pause", "<id>", "stop a running VM's vCPUs where they are, until resume", NULL, 1, 1,
	  vm_pause },
	{ "resume", "<id>", "let a paused VM run on", NULL, 1, 1, vm_resume },
	{ "save", "<id> <file>", "snapshot a running VM into a file; it runs on",
	  "Pauses the VM, writes its configuration, the non-zero pages of its RAM and the\n"
	  "state of its vCPUs, vGIC and virtio devices to <file> (one migration stream,\n"
	  "docs/MIGRATION.md), then resumes it and adds its boot images. VMs with\n"
	  "passthrough devices, IVC channels or mediated disks are refused.\n",
	  2, 2, cli_vm_save },
	{ "restore", "<file>", "create a VM from a file of shyper vm save; it runs on where it was",
	  "Checks the whole file first (a damaged or cut file is refused naming the\n"
	  "section), creates the VM from the configuration in it, uploads the boot\n"
	  "images the file carries (so that it can be rebooted), fills its RAM, loads\n"
	  "its state and resumes it. Prints \"VM <id> restored from <file>\".\n",
	  1, 1, cli_vm_restore },
	{ "migrate",
	  "<id> <host[:port]> [--downtime=MS] [--bandwidth=MiB/s] [--timeout=S] [--max-rounds=N] "
	  "[--shared-disk] [--no-auto-converge]",
	  "move a running VM to the board whose MVM runs `shyper system daemon` at host",
	  "Live migration (pre-copy): the VM's configuration goes first and the other\n"
	  "board builds the VM (or refuses, and nothing changes here); then all of its\n"
	  "RAM while it runs, then the pages it wrote meanwhile, round after round,\n"
	  "until the rest can be sent within --downtime (default 50 ms) or the rounds\n"
	  "stop shrinking it (--max-rounds, default 30). A guest that dirties pages as\n"
	  "fast as they are sent is slowed down: each page it dirties costs it 100 us,\n"
	  "then twice that each time the rounds stall again, up to 2 ms (auto-converge;\n"
	  "--no-auto-converge stops the rounds instead). Then the VM is paused, the\n"
	  "rest and its vCPU, vGIC and device state are sent, and the other board\n"
	  "resumes it. Only then is it removed here; on any failure before that it\n"
	  "runs on here. --bandwidth caps the rate, --timeout (default 30 s) bounds\n"
	  "every wait for the other board. Port 7740 unless given. A mediated disk's\n"
	  "image goes along (the local daemon tracks the blocks written meanwhile),\n"
	  "unless --shared-disk says the other board's daemon serves the same image\n"
	  "under the same index. Refused: VMs with passthrough devices or IVC channels.\n",
	  2, 2, cli_vm_migrate },
	{ "remove", "<id>", "remove a VM that is not running, freeing its cores and memory", NULL,
	  1, 1, vm_remove },
	{ "list", "", "list the VMs: id, name, type, state, cores, memory", NULL, 0, 0, vm_list },
	{ "info", "<id>", "one VM's details: exit counts, its virtio-net port's counters", NULL, 1,
	  1, vm_info },
	{ "console", "<id> [quiet-seconds]", "attach to a VM's virtio console (hvc0); Ctrl-] detaches",
	  "The VM needs an EMU_DEVICE_T_VIRTIO_CONSOLE device (cfg_list [\"0\", ...]: the MVM\n"
	  "is its peer) and console=hvc0 on its command line. On attaching, what the\n"
	  "guest printed while nobody was attached is shown first (the last 64 KiB).\n"
	  "On a terminal every key goes to the guest, Ctrl-C included; Ctrl-] detaches.\n"
	  "With stdin not a terminal, stdin is sent and output is printed until the\n"
	  "guest has been quiet for quiet-seconds (default 1). One reader at a time.\n",
	  1, 2, cli_vm_console },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL },
};
