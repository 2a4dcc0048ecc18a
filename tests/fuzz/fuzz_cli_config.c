/*
 * libFuzzer harness for the shyper CLI's configuration parsers
 * (mvm/cli/config.c mvm/cli/config_images.c with jsoncheck.c and util.c): the VM configuration file
 * is text the user hands to the management VM. Every input goes to
 * cli_config_parse() and cli_mediated_parse(); each must either accept it,
 * with a configuration that keeps the promises of config.h, or reject it
 * with an error message. A rejected input is parsed again with a tiny error
 * buffer (the messages must truncate, not overflow).
 *
 * File names resolve against the tests/unit/cli/full fixtures (relative to
 * the repository, where `make fuzz` runs), and an accepted configuration
 * whose files all lie inside tests/unit/cli (no absolute paths, no "..")
 * also goes through cli_config_check_images(), which stats them and reads
 * 64 bytes of the kernel.
 *
 * fuzz-sources: mvm/cli/config.c mvm/cli/config_devices.c mvm/cli/config_text.c mvm/cli/config_mediated.c mvm/cli/config_images.c mvm/cli/config_ivc.c mvm/cli/jsoncheck.c mvm/cli/util.c mvm/cli/config.h mvm/cli/jsoncheck.h mvm/cli/util.h
 * fuzz-cflags: -Imvm/cli
 * fuzz-libs: -ljson-c
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define FUZZ_CLI_DATA "tests/unit/cli"
#define BASE_DIR FUZZ_CLI_DATA "/full"
#define TINY_ERR 8

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond))                                                         \
			__builtin_trap();                                            \
	} while (0)

/* Keep the compiler from dropping results; never read. */
static volatile unsigned long sink;

/* A message: NUL-terminated inside its buffer and not empty. */
static void check_err(const char *err, size_t errlen)
{
	size_t n = strnlen(err, errlen);

	CHECK(n < errlen);
	CHECK(n > 0);
}

static void check_str(const char *s, size_t size, bool nonempty)
{
	size_t n = strnlen(s, size);

	CHECK(n < size);
	CHECK(!nonempty || n > 0);
}

/* Inside the fixture directory: BASE_DIR/... without any ".." component. */
static bool fixture_path(const char *p)
{
	static const char dir[] = FUZZ_CLI_DATA "/";

	if (!p)
		return true;
	if (strncmp(p, dir, sizeof(dir) - 1))
		return false;
	for (p += sizeof(dir) - 1; *p; p++)
		if (p[0] == '.' && p[1] == '.')
			return false;
	return true;
}

/* What config.h promises of an accepted configuration. */
static void check_config(struct cli_vm_config *cfg)
{
	const struct cli_image *im = &cfg->image;
	unsigned cores = (unsigned)__builtin_popcountll(cfg->cpu_bitmap);

	check_str(cfg->name, sizeof(cfg->name), true);
	check_str(cfg->cmdline, sizeof(cfg->cmdline), false);
	CHECK(cfg->type == SHYPER_VM_T_LINUX || cfg->type == SHYPER_VM_T_BARE_METAL);
	CHECK(im->kernel_path && *im->kernel_path);
	CHECK(!im->ramdisk_path == !im->ramdisk_load_ipa);
	sink += strlen(im->kernel_path) + (im->dtb_path ? strlen(im->dtb_path) : 0) +
		(im->ramdisk_path ? strlen(im->ramdisk_path) : 0);

	CHECK(cfg->nr_mem > 0 && cfg->mem);
	for (size_t i = 0; i < cfg->nr_mem; i++) {
		CHECK(cfg->mem[i].length && !(cfg->mem[i].length % CLI_PAGE_SIZE));
		CHECK(!(cfg->mem[i].ipa % CLI_PAGE_SIZE));
		CHECK(cfg->mem[i].length <= UINT64_MAX - cfg->mem[i].ipa);
	}

	CHECK(cores > 0 && cfg->cpu_num >= 1 && cfg->cpu_num <= cores);
	CHECK(!(cfg->cpu_bitmap & 1) && !(cfg->cpu_bitmap >> SHYPER_MAX_CPUS));
	CHECK(cfg->cpu_master < 64 && (cfg->cpu_bitmap >> cfg->cpu_master & 1));

	for (size_t i = 0; i < cfg->nr_emu; i++) {
		const struct shyper_emu_dev *e = &cfg->emu[i];

		check_str(e->name, sizeof(e->name), true);
		CHECK(cli_emu_type_name(e->type));
		CHECK(e->length && e->irq_id <= CLI_IRQ_MAX);
		CHECK(e->cfg_num <= SHYPER_CFG_LIST_MAX);
	}
	for (size_t i = 0; i < cfg->nr_pt; i++) {
		const struct cli_pt_dev *t = &cfg->pt[i];

		check_str(t->name, sizeof(t->name), true);
		CHECK(t->length && !(t->length % CLI_PAGE_SIZE));
		CHECK(!t->irq_num || t->irqs);
		for (uint32_t j = 0; j < t->irq_num; j++)
			CHECK(t->irqs[j] <= CLI_IRQ_MAX);
	}
	for (size_t i = 0; i < cfg->nr_dtb; i++) {
		const struct shyper_dtb_dev *d = &cfg->dtb[i];

		check_str(d->name, sizeof(d->name), true);
		CHECK(cli_dtb_type_name(d->type));
		CHECK(d->length && d->irq_num <= SHYPER_CFG_LIST_MAX);
		for (uint32_t j = 0; j < d->irq_num; j++)
			CHECK(d->irqs[j] <= CLI_IRQ_MAX);
	}

	CHECK(cfg->nr_warnings <= CLI_WARN_MAX);
	for (size_t i = 0; i < cfg->nr_warnings; i++)
		sink += strlen(cfg->warnings[i]);
}

static void fuzz_vm_config(const char *text, size_t len)
{
	struct cli_vm_config cfg;
	char *err = malloc(CLI_ERR_MAX), *tiny = malloc(TINY_ERR);

	CHECK(err && tiny);
	if (cli_config_parse(&cfg, text, len, BASE_DIR, err, CLI_ERR_MAX) == 0) {
		check_config(&cfg);
		if (fixture_path(cfg.image.kernel_path) && fixture_path(cfg.image.dtb_path) &&
		    fixture_path(cfg.image.ramdisk_path)) {
			size_t warned = cfg.nr_warnings;

			if (cli_config_check_images(&cfg, err, CLI_ERR_MAX) == 0) {
				CHECK(cfg.image.kernel_size > 0);
				CHECK(cfg.image.kernel_extent >= cfg.image.kernel_size);
			} else {
				check_err(err, CLI_ERR_MAX);
			}
			CHECK(cfg.nr_warnings >= warned && cfg.nr_warnings <= CLI_WARN_MAX);
		}
		cli_config_free(&cfg);
	} else {
		check_err(err, CLI_ERR_MAX);
		/* Rejected the same way with an error buffer too small for it. */
		CHECK(cli_config_parse(&cfg, text, len, NULL, tiny, TINY_ERR) == -1);
		check_err(tiny, TINY_ERR);
	}
	/* Rejected inputs leave nothing to free; freeing twice must be harmless. */
	cli_config_free(&cfg);
	free(tiny);
	free(err);
}

static void fuzz_mediated(const char *text, size_t len)
{
	struct cli_mediated_config m;
	char err[CLI_ERR_MAX];

	if (cli_mediated_parse(&m, text, len, BASE_DIR, err, sizeof(err)) == 0) {
		CHECK(!m.nr_paths || m.paths);
		for (size_t i = 0; i < m.nr_paths; i++)
			CHECK(m.paths[i] && *m.paths[i]);
	} else {
		check_err(err, sizeof(err));
		CHECK(!m.nr_paths && !m.paths);
	}
	cli_mediated_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: reading past len is an ASan report, not luck. */
	char *text = malloc(size ? size : 1);

	CHECK(text);
	memcpy(text, data, size);
	fuzz_vm_config(text, size);
	fuzz_mediated(text, size);
	free(text);
	return 0;
}
