#include <arch/cache.h>
#include <arch/gic.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/entropy.h>
#include <core/irq.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/mvm.h>
#include <core/mvm_dtb.h>
#include <core/event.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vm_fdt.h>
#include <core/vm_pcie.h>
#include <dev/vgic.h>
#include <lib/fmt.h>
#include <lib/string.h>
#include <plat/platform.h>
#include <shyper/errno.h>

/* arm64 Image header (Documentation/arch/arm64/booting.rst). */
#define IMAGE_MAGIC_OFFSET 56
#define IMAGE_MAGIC 0x644d5241U /* "ARM\x64" */
#define IMAGE_SIZE_OFFSET 16
#define MVM_DTB_MAX (64UL << 10)
#define MAX_VIRTIO (32 + VM_MAX_VDEVS) /* QEMU's transports, then our own */

static bool in_region(const struct vm_mem_cfg *m, uint64_t a, uint64_t size)
{
	return a >= m->ipa && size <= m->size && a - m->ipa <= m->size - size;
}

/* Reads "key=N" from the hypervisor command line; -1 when absent or bad. */
static long bootarg_number(const char *args, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = args; p && *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			long v = 0;
			const char *d = p + klen + 1;

			if (*d < '0' || *d > '9')
				return -1;
			for (; *d >= '0' && *d <= '9'; d++)
				v = v * 10 + (*d - '0');
			return (*d == ' ' || !*d) ? v : -1;
		}
		while (*p && *p != ' ')
			p++;
	}
	return -1;
}

static const char *hv_bootargs(const struct dt *dt)
{
	int chosen = dt_path_offset(dt, "/chosen");
	int len;
	const char *args = chosen >= 0 ? dt_getprop(dt, chosen, "bootargs", &len) : 0;

	return args && len > 0 && args[len - 1] == 0 ? args : "";
}

bool mvm_boot_initrd(const struct dt *dt, uint64_t *start, uint64_t *end)
{
	int chosen = dt_path_offset(dt, "/chosen");
	int ls, le;
	const uint8_t *s, *e;

	if (chosen < 0)
		return false;
	s = dt_getprop(dt, chosen, "linux,initrd-start", &ls);
	e = dt_getprop(dt, chosen, "linux,initrd-end", &le);
	if (!s || !e || (ls != 4 && ls != 8) || ls != le)
		return false;
	*start = ls == 8 ? dt_be64(s) : dt_be32(s);
	*end = le == 8 ? dt_be64(e) : dt_be32(e);
	return *end > *start;
}

/* True when the command line has `word` as a whole argument. */
static bool has_word(const char *args, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = args; *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, word, n) && (p[n] == ' ' || !p[n]))
			return true;
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

/* "key=value" from the command line into val; false when absent. */
static bool bootarg_word(const char *args, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = args; *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			for (p += klen + 1; *p && *p != ' ' && n + 1 < size; p++)
				val[n++] = *p;
			val[n] = 0;
			return !*p || *p == ' ';
		}
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

/* mvm.net=<addr>/<bits>: the MVM's eth0 address, for its initramfs
 * (cshyper.net=), e.g. for two boards linked by a cable and no DHCP. */
static int apply_mvm_net(const struct vm_config *cfg, const char *args)
{
	char net[48], extra[64];
	size_t len = strlen(cfg->cmdline); /* hv.mvm_cmdline */

	if (!bootarg_word(args, "mvm.net", net, sizeof(net)))
		return 0;
	for (const char *c = net; *c; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '.' || *c == '/' || *c == ':' ||
		      (*c >= 'a' && *c <= 'f'))) {
			log_err("mvm.net=%s: not an address/prefix", net);
			return -SHYPER_EINVAL;
		}
	fmt_snprintf(extra, sizeof(extra), " cshyper.net=%s", net);
	if (len + strlen(extra) >= sizeof(hv.mvm_cmdline)) {
		log_err("mvm.net=%s: the MVM's command line is full", net);
		return -SHYPER_E2BIG;
	}
	memcpy(hv.mvm_cmdline + len, extra, strlen(extra) + 1);
	return 0;
}

/* Truncated if it must be: the built-in strings are short. */
static const char *copy_string(char *dst, size_t size, const char *src)
{
	size_t n;

	if (!src)
		return 0;
	n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
	return dst;
}

/* The built-in configuration, its strings in the state root: what the
 * root keeps holds no pointer into the image (core/state.h). */
static void load_builtin(struct vm_config *cfg)
{
	*cfg = mvm_config;
	cfg->name = copy_string(hv.mvm_name, sizeof(hv.mvm_name), mvm_config.name);
	cfg->cmdline = copy_string(hv.mvm_cmdline, sizeof(hv.mvm_cmdline), mvm_config.cmdline);
}

static int apply_bootargs(struct vm_config *cfg, const char *args)
{
	long vcpus = bootarg_number(args, "mvm.vcpus");

	if (apply_mvm_net(cfg, args))
		return -SHYPER_EINVAL;
	if (vcpus < 0)
		return 0;
	if (vcpus < 1 || vcpus > (long)hv.nr_cpus || vcpus > VM_MAX_VCPUS) {
		log_err("mvm.vcpus=%ld: must be 1 to %u", vcpus, hv.nr_cpus);
		return -SHYPER_EINVAL;
	}
	cfg->nr_vcpus = (unsigned)vcpus;
	cfg->cpu_bitmap = (1UL << vcpus) - 1;
	return 0;
}

static int build_dtb(struct vm *vm, const struct vm_config *cfg, uint64_t initrd_size)
{
	struct vm_fdt_mmio_dev virtio[MAX_VIRTIO];
	uint8_t seed[VM_RNG_SEED_SIZE];
	struct vm_fdt_desc d = {
		.cmdline = cfg->cmdline,
		.nr_vcpus = vm->nr_vcpus,
		.nr_mem = cfg->nr_mem,
		.has_initrd = initrd_size != 0,
		.initrd_start = cfg->initrd_ipa,
		.initrd_end = cfg->initrd_ipa + initrd_size,
		.virtio = virtio,
		.rng_seed = seed,
		.rng_seed_len = sizeof(seed),
		.has_hypervisor = cfg->notify,
		.hypervisor_irq = MVM_NOTIFY_INTID,
	};
	size_t len;
	int ret;

	entropy_fill(seed, sizeof(seed));
	vm_fdt_describe_vm(vm, &d);
	for (unsigned i = 0; i < cfg->nr_dtb_devs; i++) {
		const struct vm_dtb_dev_cfg *dev = &cfg->dtb_devs[i];

		if (dev->type == DTB_DEV_PL011) {
			d.has_uart = true;
			d.uart = (struct vm_fdt_mmio_dev){ dev->ipa, dev->size, dev->intid };
			continue;
		}
		if (dev->type != DTB_DEV_VIRTIO_MMIO)
			continue; /* a host bridge: vm_pcie_describe() */
		for (unsigned n = 0; n < dev->count && d.nr_virtio < MAX_VIRTIO; n++)
			virtio[d.nr_virtio++] = (struct vm_fdt_mmio_dev){
				dev->ipa + n * dev->size, dev->size, dev->intid + n
			};
	}
	vdev_fdt_describe(vm, &d, virtio, MAX_VIRTIO);
	vm_pcie_describe(vm, &d);
	ret = vm_fdt_build(&d, (void *)cfg->dtb_ipa, MVM_DTB_MAX, &len);
	/* The builder used the whole buffer as scratch: clean all of it. */
	cache_clean_range(cfg->dtb_ipa, MVM_DTB_MAX);
	return ret;
}

/* The hypervisor console stops reading the UART once the MVM owns it. */
static void release_console_input(const struct vm_config *cfg)
{
	uint32_t intid = hv.board.uart.intid;

	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		if (cfg->pt_irqs[i] == intid && intid) {
			gic_disable(intid, 0);
			irq_unregister(intid);
		}
}

int mvm_boot(const struct dt *dt)
{
	struct vm_config *cfg = &hv.mvm_cfg;
	const char *args = hv_bootargs(dt);
	uint64_t rd_start = 0, rd_end = 0, rd_size = 0;
	const struct vm_mem_cfg *ram;
	struct vm *vm;
	int ret;

	load_builtin(cfg); /* adjusted by the command line below */
	ram = &cfg->mem[0];
	if (has_word(args, "mvm=off")) {
		log_info("mvm: not started (mvm=off)");
		return -SHYPER_ENOENT;
	}
	if (cfg->dtb_given && (bootarg_number(args, "mvm.vcpus") >= 0 ||
			       bootarg_word(args, "mvm.net", (char[64]){ 0 }, 64))) {
		log_err("mvm: mvm.vcpus= and mvm.net= cannot change this board's MVM: its device "
			"tree (mvm.dtb) was made with the image; change hv/config/%s.c and rebuild",
			PLAT_NAME);
		return -SHYPER_EINVAL;
	}
	if (apply_bootargs(cfg, args))
		return -SHYPER_EINVAL;
	if (!in_region(ram, cfg->kernel_ipa, FRAME_SIZE) ||
	    ram->ipa + ram->size > hv.board.ram[0].base + hv.board.ram[0].size ||
	    *(volatile uint32_t *)(cfg->kernel_ipa + IMAGE_MAGIC_OFFSET) != IMAGE_MAGIC) {
		log_err("mvm: no arm64 kernel Image at 0x%lx (QEMU: -device loader,file=Image,addr=0x%lx,force-raw=on; a board: its boot script loads it)",
			cfg->kernel_ipa, cfg->kernel_ipa);
		return -SHYPER_ENOENT;
	}
	if (mvm_boot_initrd(dt, &rd_start, &rd_end)) {
		rd_size = rd_end - rd_start;
		if (!in_region(ram, cfg->initrd_ipa, rd_size) ||
		    cfg->initrd_ipa + rd_size > cfg->dtb_ipa) {
			log_err("mvm: initramfs of %lu bytes does not fit at 0x%lx", rd_size,
				cfg->initrd_ipa);
			return -SHYPER_E2BIG;
		}
	}
	/* A prebuilt tree is checked (and told where the initramfs goes)
	 * before anything is committed to the VM. */
	if (cfg->dtb_given && (ret = mvm_dtb_given_prepare(cfg, rd_size)))
		return ret;
	release_console_input(cfg);
	ret = vm_create(cfg, &vm);
	if (ret) {
		log_err("mvm: cannot create the management VM (%d)", ret);
		return ret;
	}
	if (rd_size) {
		memmove((void *)cfg->initrd_ipa, (const void *)rd_start, rd_size);
		cache_clean_range(cfg->initrd_ipa, rd_size);
		mem_release_boot_initrd();
	}
	ret = cfg->dtb_given ? 0 : build_dtb(vm, cfg, rd_size);
	if (ret) {
		log_err("mvm: cannot build its device tree (%d)", ret);
		return ret;
	}
	log_info("mvm: %u vCPU(s), %lu MiB at 0x%lx, kernel 0x%lx, initramfs %lu KiB, GICv%u",
		 vm->nr_vcpus, ram->size >> 20, ram->ipa, cfg->kernel_ipa, rd_size >> 10,
		 vm->vgic.version);
	vm_note_started(vm);
	vm->state = VM_RUNNING;
	return vcpu_power_on(&vm->vcpus[0], cfg->kernel_ipa, cfg->dtb_ipa);
}
