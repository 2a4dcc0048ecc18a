/*
 * The shyper CLI's VM configuration parser (mvm/cli/config.c mvm/cli/config_images.c): the Rust-Shyper
 * README template is accepted as written, every field lands where it should,
 * and every rejected input gives exactly its one-line message.
 *
 * Fixtures live in tests/unit/cli/ (found next to this file, or in
 * $CLI_TEST_DATA). Error cases take the template, change one JSON pointer
 * with json-c and parse the result.
 *
 * unit-sources: mvm/cli/config.c mvm/cli/config_devices.c mvm/cli/config_text.c mvm/cli/config_mediated.c mvm/cli/config_images.c mvm/cli/config_ivc.c mvm/cli/jsoncheck.c mvm/cli/util.c mvm/cli/config.h mvm/cli/jsoncheck.h mvm/cli/util.h
 * unit-libs: -ljson-c
 * unit-cflags: -Imvm/cli
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"

static char data_dir[512];	/* tests/unit/cli */
static char template_dir[600];	/* tests/unit/cli/template */
static char template_path[700]; /* .../template/guest.json */
static char full_dir[600];
static char *template_text;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	const char *env = getenv("CLI_TEST_DATA");
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');

	(void)state;
	if (env && *env)
		snprintf(data_dir, sizeof(data_dir), "%s", env);
	else if (slash)
		snprintf(data_dir, sizeof(data_dir), "%.*s/cli", (int)(slash - file), file);
	else
		snprintf(data_dir, sizeof(data_dir), "cli");
	snprintf(template_dir, sizeof(template_dir), "%s/template", data_dir);
	snprintf(template_path, sizeof(template_path), "%s/guest.json", template_dir);
	snprintf(full_dir, sizeof(full_dir), "%s/full", data_dir);
	template_text = slurp(template_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(template_text);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/* text with the value at JSON pointer ptr replaced by value_json (NULL: deleted). */
static char *mutate(const char *text, const char *ptr, const char *value_json)
{
	json_object *root = json_tokener_parse(text);
	char *out;

	assert_non_null(root);
	if (value_json) {
		json_object *v = json_tokener_parse(value_json);

		/* "null" parses to NULL, which json-c stores as a JSON null */
		assert_true(v || !strcmp(value_json, "null"));
		assert_int_equal(json_pointer_set(&root, ptr, v), 0);
	} else {
		const char *last = strrchr(ptr, '/');
		char parent[256];
		json_object *p;

		snprintf(parent, sizeof(parent), "%.*s", (int)(last - ptr), ptr);
		assert_int_equal(json_pointer_get(root, parent, &p), 0);
		json_object_object_del(p, last + 1);
	}
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

/* Parses text; returns the error ("" when accepted). */
static const char *parse_err(const char *text, size_t len, const char *base)
{
	static char err[CLI_ERR_MAX];
	struct cli_vm_config cfg;

	if (cli_config_parse(&cfg, text, len, base, err, sizeof(err)) == 0) {
		cli_config_free(&cfg);
		return "";
	}
	return err;
}

/* Error of the template with one change, after parsing and (if that passed) image checks. */
static const char *mutated_err(const char *ptr, const char *value_json)
{
	static char err[CLI_ERR_MAX];
	struct cli_vm_config cfg;
	char *text = mutate(template_text, ptr, value_json);

	err[0] = '\0';
	if (cli_config_parse(&cfg, text, strlen(text), template_dir, err, sizeof(err)) == 0) {
		cli_config_check_images(&cfg, err, sizeof(err));
		cli_config_free(&cfg);
	}
	free(text);
	return err;
}

struct err_case {
	const char *ptr;
	const char *value; /* JSON; NULL deletes */
	const char *want;
};

static void run_cases(const struct err_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = mutated_err(c[i].ptr, c[i].value);

		if (strcmp(got, c[i].want))
			print_error("case %zu: %s = %s\n", i, c[i].ptr,
				    c[i].value ? c[i].value : "(deleted)");
		assert_string_equal(got, c[i].want);
	}
}

#define RUN_CASES(c) run_cases(c, sizeof(c) / sizeof((c)[0]))

/* ------------------------------------------------------------------------ */
/* The template, field by field                                              */

static void test_template_accepted(void **state)
{
	struct cli_vm_config cfg;
	char err[CLI_ERR_MAX], want[800];

	(void)state;
	assert_int_equal(cli_config_load(&cfg, template_path, err, sizeof(err)), 0);

	assert_string_equal(cfg.name, "guest-os-1");
	assert_int_equal(cfg.type, SHYPER_VM_T_LINUX);
	assert_string_equal(cfg.cmdline, "earlycon console=hvc0,115200n8 root=/dev/vda rw audit=0");

	snprintf(want, sizeof(want), "%s/Image", template_dir);
	assert_string_equal(cfg.image.kernel_path, want);
	assert_int_equal(cfg.image.kernel_load_ipa, 0x80080000);
	assert_int_equal(cfg.image.kernel_entry, 0x80080000);
	assert_null(cfg.image.dtb_path); /* "-": generated */
	assert_int_equal(cfg.image.dtb_load_ipa, 0x80000000);
	/* "initrd.gz" with ramdisk_load_ipa "0": no ramdisk, as in Rust-Shyper */
	assert_null(cfg.image.ramdisk_path);
	assert_int_equal(cfg.image.ramdisk_load_ipa, 0);
	assert_int_equal(cfg.nr_warnings, 1);
	assert_string_equal(cfg.warnings[0], "image.ramdisk_filename: ignored because "
					     "ramdisk_load_ipa is 0 (no ramdisk is loaded)");

	assert_int_equal(cfg.nr_mem, 1);
	assert_int_equal(cfg.mem[0].ipa, 0x80000000);
	assert_int_equal(cfg.mem[0].length, 0x40000000);

	assert_int_equal(cfg.cpu_num, 1);
	assert_int_equal(cfg.cpu_bitmap, 0x4);
	assert_int_equal(cfg.cpu_master, 2);

	assert_int_equal(cfg.nr_emu, 4);
	assert_string_equal(cfg.emu[0].name, "intc@8000000");
	assert_int_equal(cfg.emu[0].base_ipa, 0x8000000);
	assert_int_equal(cfg.emu[0].length, 0x1000);
	assert_int_equal(cfg.emu[0].irq_id, 0);
	assert_int_equal(cfg.emu[0].cfg_num, 0);
	assert_int_equal(cfg.emu[0].type, SHYPER_EMU_GICD);
	assert_string_equal(cfg.emu[1].name, "virtio_blk@a000000");
	assert_int_equal(cfg.emu[1].base_ipa, 0xa000000);
	assert_int_equal(cfg.emu[1].length, 0x1000);
	assert_int_equal(cfg.emu[1].irq_id, 48);
	assert_int_equal(cfg.emu[1].cfg_num, 2);
	assert_int_equal(cfg.emu[1].cfg_list[0], 0);
	assert_int_equal(cfg.emu[1].cfg_list[1], 209715200);
	assert_int_equal(cfg.emu[1].type, SHYPER_EMU_VIRTIO_BLK_MEDIATED);
	assert_string_equal(cfg.emu[2].name, "virtio_net@a001000");
	assert_int_equal(cfg.emu[2].base_ipa, 0xa001000);
	assert_int_equal(cfg.emu[2].irq_id, 49);
	assert_int_equal(cfg.emu[2].cfg_num, 6);
	{
		static const uint64_t mac[6] = { 0x74, 0x56, 0xaa, 0x0f, 0x47, 0xd1 };

		for (int i = 0; i < 6; i++)
			assert_int_equal(cfg.emu[2].cfg_list[i], mac[i]);
	}
	assert_int_equal(cfg.emu[2].type, SHYPER_EMU_VIRTIO_NET);
	assert_string_equal(cfg.emu[3].name, "virtio_console@a002000");
	assert_int_equal(cfg.emu[3].base_ipa, 0xa002000);
	assert_int_equal(cfg.emu[3].irq_id, 50);
	assert_int_equal(cfg.emu[3].cfg_num, 2);
	assert_int_equal(cfg.emu[3].cfg_list[0], 0);
	assert_int_equal(cfg.emu[3].cfg_list[1], 0xa002000);
	assert_int_equal(cfg.emu[3].type, SHYPER_EMU_VIRTIO_CONSOLE);

	assert_int_equal(cfg.nr_pt, 1);
	assert_string_equal(cfg.pt[0].name, "gicv");
	assert_int_equal(cfg.pt[0].base_pa, 0x8040000);
	assert_int_equal(cfg.pt[0].base_ipa, 0x8010000);
	assert_int_equal(cfg.pt[0].length, 0x2000);
	assert_int_equal(cfg.pt[0].irq_num, 1);
	assert_int_equal(cfg.pt[0].irqs[0], 27);

	assert_int_equal(cfg.nr_dtb, 2);
	assert_string_equal(cfg.dtb[0].name, "gicd");
	assert_int_equal(cfg.dtb[0].type, SHYPER_DTB_GICD);
	assert_int_equal(cfg.dtb[0].irq_num, 0);
	assert_int_equal(cfg.dtb[0].addr_ipa, 0x8000000);
	assert_int_equal(cfg.dtb[0].length, 0x1000);
	assert_string_equal(cfg.dtb[1].name, "gicc");
	assert_int_equal(cfg.dtb[1].type, SHYPER_DTB_GICC);
	assert_int_equal(cfg.dtb[1].addr_ipa, 0x8010000);
	assert_int_equal(cfg.dtb[1].length, 0x2000);

	/* The image files: sizes filled in, the fake Image passes the magic check. */
	assert_int_equal(cli_config_check_images(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.image.kernel_size, 134);
	assert_int_equal(cfg.image.kernel_extent, 0x20000); /* image_size of its header */
	assert_int_equal(cfg.image.dtb_size, 0);
	assert_int_equal(cfg.image.ramdisk_size, 0);
	assert_int_equal(cfg.nr_warnings, 1);

	cli_config_free(&cfg);
	assert_null(cfg.mem);
	assert_int_equal(cfg.nr_warnings, 0);
}

/* Every number format, optional fields left out, files in a subdirectory. */
static void test_full_config(void **state)
{
	struct cli_vm_config cfg;
	char path[800], err[CLI_ERR_MAX], want[800];

	(void)state;
	snprintf(path, sizeof(path), "%s/vm.json", full_dir);
	assert_int_equal(cli_config_load(&cfg, path, err, sizeof(err)), 0);

	assert_string_equal(cfg.name, "full-0123456789-0123456789-0123"); /* 31: the most */
	snprintf(want, sizeof(want), "%s/Image", full_dir);
	assert_string_equal(cfg.image.kernel_path, want);
	snprintf(want, sizeof(want), "%s/dtb/guest.dtb", full_dir);
	assert_string_equal(cfg.image.dtb_path, want);
	snprintf(want, sizeof(want), "%s/rootfs.cpio.gz", full_dir);
	assert_string_equal(cfg.image.ramdisk_path, want);
	assert_int_equal(cfg.image.kernel_load_ipa, 0x80080000);	  /* JSON number */
	assert_int_equal(cfg.image.ramdisk_load_ipa, 0x84000000); /* 0b string */
	assert_int_equal(cfg.image.dtb_load_ipa, 0x82000000);

	assert_int_equal(cfg.nr_mem, 2);
	assert_int_equal(cfg.mem[0].length, 0x10000000);	  /* decimal string */
	assert_int_equal(cfg.mem[1].ipa, 0x100000000ULL); /* JSON number above 32 bits */
	assert_int_equal(cfg.mem[1].length, 0x10000000);	  /* 0X */

	assert_int_equal(cfg.cpu_num, 2);
	assert_int_equal(cfg.cpu_bitmap, 0xc);
	assert_int_equal(cfg.cpu_master, 2); /* absent: the lowest core */

	assert_int_equal(cfg.nr_emu, 3);
	assert_int_equal(cfg.emu[1].type, SHYPER_EMU_GICR);
	assert_int_equal(cfg.emu[2].type, SHYPER_EMU_ICCSRE); /* Rust-Shyper's EMU_DEVICE_T_SRE */
	assert_int_equal(cfg.emu[2].cfg_num, 3);		 /* absent: the list's length */
	assert_int_equal(cfg.emu[2].cfg_list[0], UINT64_MAX);
	assert_int_equal(cfg.emu[2].cfg_list[1], UINT64_MAX);
	assert_int_equal(cfg.emu[2].cfg_list[2], 3);

	assert_int_equal(cfg.nr_pt, 2);
	assert_int_equal(cfg.pt[0].irq_num, 1); /* irq_num absent */
	assert_int_equal(cfg.pt[0].irqs[0], 33);
	assert_int_equal(cfg.pt[1].length, 4096);
	assert_int_equal(cfg.pt[1].irq_num, 2);
	assert_int_equal(cfg.pt[1].irqs[0], 40);
	assert_int_equal(cfg.pt[1].irqs[1], 41);
	assert_int_equal(cfg.nr_streams, 2);
	assert_int_equal(cfg.streams[0], 8);
	assert_int_equal(cfg.streams[1], 0x10);

	assert_int_equal(cfg.nr_dtb, 2);
	assert_int_equal(cfg.dtb[0].type, SHYPER_DTB_GICR);
	assert_int_equal(cfg.dtb[0].irq_num, 1);
	assert_int_equal(cfg.dtb[0].irqs[0], 25);
	assert_int_equal(cfg.dtb[1].type, SHYPER_DTB_CONSOLE);
	assert_int_equal(cfg.dtb[1].irqs[0], 1019);
	assert_int_equal(cfg.nr_warnings, 0);

	assert_int_equal(cli_config_check_images(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.image.kernel_size, 134);
	assert_int_equal(cfg.image.dtb_size, 30);
	assert_int_equal(cfg.image.ramdisk_size, 124);
	assert_int_equal(cfg.nr_warnings, 0);
	cli_config_free(&cfg);
}

static void test_accepted_variants(void **state)
{
	static const struct err_case ok[] = {
		{ "/type", "\"VM_T_BARE_METAL\"", "" },
		{ "/type", "\"VM_T_BARE_MATEL_APP\"", "" }, /* Rust-Shyper's spelling */
		{ "/cpu/master", "-1", "" },		    /* Rust-Shyper's "none" */
		{ "/cpu/master", NULL, "" },
		{ "/cpu/slice_us", "1000", "" },
		{ "/cpu/slice_us", "\"1000000\"", "" },
		{ "/cpu/pmu", "true", "" },
		{ "/cpu/pmu", "false", "" },
		{ "/cpu/allocate_bitmap", "\"0x4\"", "" },
		{ "/cpu/allocate_bitmap", "4", "" },
		{ "/cpu/allocate_bitmap", "\"4\"", "" },
		{ "/cpu/allocate_bitmap", "\"0B100\"", "" },
		{ "/cmdline", NULL, "" },
		{ "/image/device_tree_filename", "\"\"", "" },
		{ "/image/device_tree_filename", NULL, "" },
		{ "/image/ramdisk_filename", NULL, "" },
		{ "/image/ramdisk_load_ipa", NULL, "" },
		{ "/emulated_device", NULL, "" },
		{ "/passthrough_device", NULL, "" },
		{ "/dtb_device", NULL, "" },
		{ "/emulated_device/emulated_device_list", "[]", "" },
		{ "/memory/region/0/length", "\"0x100000\"", "" }, /* still holds the kernel */
		{ "/name", "\"0123456789012345678901234567890\"", "" }, /* 31 */
		{ "/emulated_device/emulated_device_list/0/irq_id", "1019", "" },
		/* touching is not overlapping */
		{ "/emulated_device/emulated_device_list/0/base_ipa", "\"0x7ffff000\"", "" },
	};
	struct cli_vm_config cfg;
	char err[CLI_ERR_MAX];
	char *text;

	(void)state;
	RUN_CASES(ok);

	/* The bitmap's value lands whatever the notation. */
	text = mutate(template_text, "/cpu/allocate_bitmap", "\"0b1100\"");
	assert_int_equal(cli_config_parse(&cfg, text, strlen(text), NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg.cpu_bitmap, 0xc);
	cli_config_free(&cfg);
	free(text);

	/* A ramdisk with a load address is loaded. */
	text = mutate(template_text, "/image/ramdisk_load_ipa", "\"0x88000000\"");
	assert_int_equal(cli_config_parse(&cfg, text, strlen(text), template_dir, err,
					  sizeof(err)), 0);
	assert_non_null(cfg.image.ramdisk_path);
	assert_int_equal(cfg.nr_warnings, 0);
	assert_int_equal(cli_config_check_images(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.image.ramdisk_size, 53);
	cli_config_free(&cfg);
	free(text);

	/* A load address without a ramdisk file is ignored, with a warning. */
	text = mutate(template_text, "/image/ramdisk_filename", "\"\"");
	{
		char *t2 = mutate(text, "/image/ramdisk_load_ipa", "\"0x88000000\"");

		assert_int_equal(cli_config_parse(&cfg, t2, strlen(t2), NULL, err, sizeof(err)), 0);
		assert_null(cfg.image.ramdisk_path);
		assert_int_equal(cfg.image.ramdisk_load_ipa, 0);
		assert_int_equal(cfg.nr_warnings, 1);
		assert_string_equal(cfg.warnings[0], "image.ramdisk_load_ipa: ignored because "
						     "ramdisk_filename is empty");
		cli_config_free(&cfg);
		free(t2);
	}
	free(text);
}

/* ------------------------------------------------------------------------ */
/* Rejected values                                                           */

static void test_memory_errors(void **state)
{
	static const struct err_case c[] = {
		{ "/memory/region/0/length", "\"0x40000001\"",
		  "memory.region[0].length: must be a multiple of 4096" },
		{ "/memory/region/0/ipa_start", "\"0x80000800\"",
		  "memory.region[0].ipa_start: must be a multiple of 4096" },
		{ "/memory/region/0/length", "0", "memory.region[0].length: must not be zero" },
		{ "/memory/region/0/length", "\"0x0\"", "memory.region[0].length: must not be zero" },
		{ "/memory/region", "[]", "memory.region: must list at least one region" },
		{ "/memory/region",
		  "[{\"ipa_start\":\"0x80000000\",\"length\":\"0x40000000\"},"
		  "{\"ipa_start\":\"0xbffff000\",\"length\":\"0x2000\"}]",
		  "memory.region[1]: overlaps memory.region[0]" },
		{ "/memory/region",
		  "[{\"ipa_start\":\"0x80000000\",\"length\":\"0x40000000\"},"
		  "{\"ipa_start\":\"0x70000000\",\"length\":\"0x20000000\"}]",
		  "memory.region[1]: overlaps memory.region[0]" },
		{ "/memory/region",
		  "[{\"ipa_start\":\"0x80000000\",\"length\":\"0x40000000\"},"
		  "{\"ipa_start\":\"0x80000000\",\"length\":\"0x40000000\"}]",
		  "memory.region[1]: overlaps memory.region[0]" },
		{ "/memory/region/0/ipa_start", "\"0xfffffffffffff000\"",
		  "memory.region[0]: ipa_start + length overflows 64 bits" },
		{ "/memory/region/0/length", "-4096", "memory.region[0].length: must not be negative" },
		{ "/memory/region/0", "[]", "memory.region[0]: expected an object, got an array" },
		{ "/memory/region", "{}", "memory.region: expected an array, got an object" },
		{ "/memory", "[]", "memory: expected an object, got an array" },
		{ "/memory/colors", "\"0-3\"", "memory.colors: not supported by cshyper" },
		{ "/memory/budget", "10", "memory.budget: not supported by cshyper" },
	};

	(void)state;
	RUN_CASES(c);
}

static void test_cpu_errors(void **state)
{
	static const struct err_case c[] = {
		{ "/cpu/allocate_bitmap", "\"0b0101\"",
		  "cpu.allocate_bitmap: core 0 belongs to the management VM" },
		{ "/cpu/allocate_bitmap", "1", "cpu.allocate_bitmap: core 0 belongs to the management VM" },
		{ "/cpu/allocate_bitmap", "\"0b0\"", "cpu.allocate_bitmap: no cores selected" },
		{ "/cpu/allocate_bitmap", "\"0x100\"",
		  "cpu.allocate_bitmap: core 8 does not exist (at most 8 cores)" },
		{ "/cpu/allocate_bitmap", "\"0b\"",
		  "cpu.allocate_bitmap: \"0b\" is not a number (use decimal, 0x hex or 0b binary)" },
		{ "/cpu/allocate_bitmap", "\"0b0120\"",
		  "cpu.allocate_bitmap: \"0b0120\" is not a number (use decimal, 0x hex or 0b binary)" },
		{ "/cpu/num", "2", "cpu.num: 2 but allocate_bitmap 0b0100 selects only 1 core" },
		{ "/cpu/num", "0", "cpu.num: must be at least 1" },
		{ "/cpu/master", "1", "cpu.master: core 1 is not in allocate_bitmap 0b0100" },
		{ "/cpu/master", "64", "cpu.master: core 64 is not in allocate_bitmap 0b0100" },
		{ "/cpu/master", "-2", "cpu.master: must not be negative" },
		{ "/cpu/slice_us", "999", "cpu.slice_us: 999: must be 1000 to 1000000 (1 ms to 1 s)" },
		{ "/cpu/slice_us", "1000001",
		  "cpu.slice_us: 1000001: must be 1000 to 1000000 (1 ms to 1 s)" },
		{ "/cpu/slice_us", "0", "cpu.slice_us: 0: must be 1000 to 1000000 (1 ms to 1 s)" },
		{ "/cpu/pmu", "1", "cpu.pmu: must be true or false" },
		{ "/cpu/pmu", "\"yes\"", "cpu.pmu: must be true or false" },
		{ "/cpu/num", NULL, "cpu.num: required field is missing" },
		{ "/cpu/allocate_bitmap", NULL, "cpu.allocate_bitmap: required field is missing" },
		{ "/cpu/num", "4294967296", "cpu.num: 4294967296 does not fit in 32 bits" },
		{ "/cpu/num", "1.0", "cpu.num: not an integer (1.0)" },
		{ "/cpu/num", "1.5", "cpu.num: not an integer (1.5)" },
		{ "/cpu/num", "1e3", "cpu.num: not an integer (1e3)" },
		{ "/cpu/num", "true", "cpu.num: expected a number, got a boolean" },
		{ "/cpu/num", "null", "cpu.num: expected a number, got null" },
		{ "/cpu/num", "[1]", "cpu.num: expected a number, got an array" },
		{ "/cpu/num", "\"\"", "cpu.num: \"\" is not a number (use decimal, 0x hex or 0b binary)" },
		{ "/cpu/num", "\"-1\"",
		  "cpu.num: \"-1\" is not a number (use decimal, 0x hex or 0b binary)" },
		{ "/cpu/num", "\" 1\"",
		  "cpu.num: \" 1\" is not a number (use decimal, 0x hex or 0b binary)" },
		{ "/cpu/num", "\"1.0\"",
		  "cpu.num: \"1.0\" is not a number (use decimal, 0x hex or 0b binary)" },
		{ "/cpu/foo", "1", "cpu.foo: unknown field" },
	};

	(void)state;
	RUN_CASES(c);
}

static void test_device_errors(void **state)
{
	static const struct err_case c[] = {
		{ "/emulated_device/emulated_device_list/1/type", "\"EMU_DEVICE_T_FOO\"",
		  "emulated_device.emulated_device_list[1].type: unknown device type "
		  "\"EMU_DEVICE_T_FOO\"" },
		{ "/emulated_device/emulated_device_list/1/cfg_list", "[1,2,3]",
		  "emulated_device.emulated_device_list[1]: cfg_num 2 but cfg_list has 3 entries" },
		{ "/emulated_device/emulated_device_list/1/cfg_num", "1",
		  "emulated_device.emulated_device_list[1]: cfg_num 1 but cfg_list has 2 entries" },
		{ "/emulated_device/emulated_device_list/0/cfg_num", "1",
		  "emulated_device.emulated_device_list[0]: cfg_num 1 but cfg_list has 0 entries" },
		{ "/emulated_device/emulated_device_list/1/cfg_list/1", "[2]",
		  "emulated_device.emulated_device_list[1].cfg_list[1]: expected a number, got an array" },
		{ "/emulated_device/emulated_device_list/1/cfg_list",
		  "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]",
		  "emulated_device.emulated_device_list[1].cfg_list: 17 entries, at most 16" },
		{ "/emulated_device/emulated_device_list/2/cfg_list/3", "\"0xzz\"",
		  "emulated_device.emulated_device_list[2].cfg_list[3]: \"0xzz\" is not a number "
		  "(use decimal, 0x hex or 0b binary)" },
		{ "/emulated_device/emulated_device_list/0/name",
		  "\"0123456789012345678901234567890x\"",
		  "emulated_device.emulated_device_list[0].name: longer than 31 characters" },
		{ "/emulated_device/emulated_device_list/0/length", "0",
		  "emulated_device.emulated_device_list[0].length: must not be zero" },
		{ "/emulated_device/emulated_device_list/0/irq_id", "1020",
		  "emulated_device.emulated_device_list[0].irq_id: 1020 is not a valid interrupt id "
		  "(at most 1019)" },
		{ "/emulated_device/emulated_device_list/0/type", NULL,
		  "emulated_device.emulated_device_list[0].type: required field is missing" },
		{ "/emulated_device/emulated_device_list/0", "\"x\"",
		  "emulated_device.emulated_device_list[0]: expected an object, got a string" },
		{ "/emulated_device/emulated_device_list/1/base_ipa", "\"0x8000000\"",
		  "emulated_device.emulated_device_list[1]: overlaps "
		  "emulated_device.emulated_device_list[0]" },
		{ "/emulated_device/emulated_device_list/0/base_ipa", "\"0x7ffff800\"",
		  "emulated_device.emulated_device_list[0]: overlaps memory.region[0]" },
		{ "/emulated_device/emulated_device_list/3/base_ipa", "\"0xfffffffffffff800\"",
		  "emulated_device.emulated_device_list[3]: base_ipa + length overflows 64 bits" },
		{ "/emulated_device", "{}",
		  "emulated_device.emulated_device_list: required field is missing" },
		{ "/emulated_device/emulated_device_list", "{}",
		  "emulated_device.emulated_device_list: expected an array, got an object" },

		{ "/passthrough_device/passthrough_device_list/0/irq_num", "2",
		  "passthrough_device.passthrough_device_list[0]: irq_num 2 but irq_list has 1 entry" },
		{ "/passthrough_device/passthrough_device_list/0/irq_list", "[]",
		  "passthrough_device.passthrough_device_list[0]: irq_num 1 but irq_list has 0 entries" },
		{ "/passthrough_device/passthrough_device_list/0/irq_list/0", "1020",
		  "passthrough_device.passthrough_device_list[0].irq_list[0]: 1020 is not a valid "
		  "interrupt id (at most 1019)" },
		{ "/passthrough_device/passthrough_device_list/0/base_pa", "\"0x8040800\"",
		  "passthrough_device.passthrough_device_list[0].base_pa: must be a multiple of 4096" },
		{ "/passthrough_device/passthrough_device_list/0/base_ipa", "\"0x8010100\"",
		  "passthrough_device.passthrough_device_list[0].base_ipa: must be a multiple of 4096" },
		{ "/passthrough_device/passthrough_device_list/0/length", "\"0x2001\"",
		  "passthrough_device.passthrough_device_list[0].length: must be a multiple of 4096" },
		{ "/passthrough_device/passthrough_device_list/0/length", "0",
		  "passthrough_device.passthrough_device_list[0].length: must not be zero" },
		{ "/passthrough_device/passthrough_device_list/0/base_ipa", "\"0x80000000\"",
		  "passthrough_device.passthrough_device_list[0]: overlaps memory.region[0]" },
		{ "/passthrough_device/passthrough_device_list/0/base_ipa", "\"0xa001000\"",
		  "passthrough_device.passthrough_device_list[0]: overlaps "
		  "emulated_device.emulated_device_list[2]" },
		{ "/passthrough_device/passthrough_device_list/0/base_pa", "\"0xfffffffffffff000\"",
		  "passthrough_device.passthrough_device_list[0]: base_pa + length overflows 64 bits" },
		{ "/passthrough_device/passthrough_device_list/0/smmu_id", "1",
		  "passthrough_device.passthrough_device_list[0].smmu_id: not supported by cshyper" },
		{ "/passthrough_device/passthrough_device_list/0/name", "\"\"",
		  "passthrough_device.passthrough_device_list[0].name: must not be empty" },
		{ "/passthrough_device/streams_ids", "[8, \"0x8\"]",
		  "passthrough_device.streams_ids[1]: stream 0x8 is listed twice" },
		{ "/passthrough_device/streams_ids", "[0,1,2,3,4,5,6,7,8]",
		  "passthrough_device.streams_ids: 9 entries, at most 8" },
		{ "/passthrough_device/streams_ids", "8",
		  "passthrough_device.streams_ids: expected an array, got a number" },
		{ "/passthrough_device/streams_ids", "[-1]",
		  "passthrough_device.streams_ids[0]: must not be negative" },
		{ "/passthrough_device/streams", "[8]",
		  "passthrough_device.streams: unknown field" },

		{ "/dtb_device/dtb_device_list/1/irq_list", "[27]",
		  "dtb_device.dtb_device_list[1]: irq_num 0 but irq_list has 1 entry" },
		{ "/dtb_device/dtb_device_list/0/type", "\"DTB_DEVICE_T_FOO\"",
		  "dtb_device.dtb_device_list[0].type: unknown device type \"DTB_DEVICE_T_FOO\"" },
		{ "/dtb_device/dtb_device_list/0/irq_list",
		  "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
		  "dtb_device.dtb_device_list[0].irq_list: 17 entries, at most 16" },
		{ "/dtb_device/dtb_device_list/0/addr_region_length", "0",
		  "dtb_device.dtb_device_list[0].addr_region_length: must not be zero" },
		{ "/dtb_device/dtb_device_list/0/addr_region_ipa", NULL,
		  "dtb_device.dtb_device_list[0].addr_region_ipa: required field is missing" },
		{ "/dtb_device", "{}", "dtb_device.dtb_device_list: required field is missing" },
	};

	(void)state;
	RUN_CASES(c);
}

static void test_top_level_errors(void **state)
{
	static const struct err_case c[] = {
		{ "/name", "\"0123456789012345678901234567890x\"", "name: longer than 31 characters" },
		{ "/name", "\"\"", "name: must not be empty" },
		{ "/name", "5", "name: expected a string, got a number" },
		{ "/name", "\"a\\u0000b\"", "name: contains a NUL character" },
		{ "/name", "\"tab\\there\"", "name: only printable ASCII characters are allowed" },
		{ "/name", "\"caf\u00e9\"", "name: only printable ASCII characters are allowed" },
		{ "/name", NULL, "name: required field is missing" },
		{ "/type", "\"VM_T_FOO\"",
		  "type: unknown VM type \"VM_T_FOO\" (expected VM_T_LINUX or VM_T_BARE_METAL)" },
		{ "/type", NULL, "type: required field is missing" },
		{ "/foo", "1", "foo: unknown field" },
		{ "/memory/region/0/lenght", "1", "memory.region[0].lenght: unknown field" },
		{ "/image", NULL, "image: required field is missing" },
		{ "/image/kernel_filename", NULL, "image.kernel_filename: required field is missing" },
		{ "/image/kernel_filename", "\"\"", "image.kernel_filename: must not be empty" },
		{ "/image/kernel_load_ipa", "\"0x80080000 \"",
		  "image.kernel_load_ipa: \"0x80080000 \" is not a number (use decimal, 0x hex or 0b "
		  "binary)" },
		{ "/image/kernel_load_ipa", "\"0x10000000000000000\"",
		  "image.kernel_load_ipa: \"0x10000000000000000\" does not fit in 64 bits" },
		{ "/image/kernel_load_ipa", "\"18446744073709551616\"",
		  "image.kernel_load_ipa: \"18446744073709551616\" does not fit in 64 bits" },
		{ "/image/kernel_load_ipa",
		  "\"0b10000000000000000000000000000000000000000000000000000000000000000\"",
		  "image.kernel_load_ipa: \"0b10000000000000000000000000000000000000\" does not "
		  "fit in 64 bits" },
		{ "/image/ramdisk_filename", "7", "image.ramdisk_filename: expected a string, got a number" },
		{ "/image/image_name", "\"x\"", "image.image_name: unknown field" },
		/* What the file says is echoed, but never breaks the line. */
		{ "/type", "\"VM\\n_T\"",
		  "type: unknown VM type \"VM?_T\" (expected VM_T_LINUX or VM_T_BARE_METAL)" },
	};
	char *long_cmdline = malloc(600), json[700];
	char *text;

	(void)state;
	RUN_CASES(c);

	memset(long_cmdline, 'c', 511);
	long_cmdline[511] = '\0';
	snprintf(json, sizeof(json), "\"%s\"", long_cmdline);
	assert_string_equal(mutated_err("/cmdline", json), "");
	long_cmdline[511] = 'c';
	long_cmdline[512] = '\0';
	snprintf(json, sizeof(json), "\"%s\"", long_cmdline);
	assert_string_equal(mutated_err("/cmdline", json), "cmdline: longer than 511 characters");
	free(long_cmdline);

	/* A typo is reported as the unknown field it is, not as a missing one. */
	text = mutate(template_text, "/cpu/num", NULL);
	{
		char *t2 = mutate(text, "/cpu/nmu", "1");

		assert_string_equal(parse_err(t2, strlen(t2), NULL), "cpu.nmu: unknown field");
		free(t2);
	}
	free(text);
}

/* ------------------------------------------------------------------------ */
/* JSON text itself                                                          */

static void test_json_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} c[] = {
		{ "", "file is empty" },
		{ " \n\t\n", "file is empty" },
		{ "[1]", "expected a JSON object at the top level, got an array" },
		{ "\"x\"", "expected a JSON object at the top level, got a string" },
		{ "{\n  \"name\": \"x\",\n  \"type\" \"VM_T_LINUX\"\n}",
		  "line 3, column 10: invalid JSON: object property name separator ':' expected" },
		{ "{\"name\": \"x\",}", "line 1, column 14: invalid JSON: unexpected character" },
		{ "{\"a\": 1} x", "line 1, column 10: invalid JSON: unexpected character" },
		{ "{\n\"a\": [1, 2", "line 2, column 11: invalid JSON: unexpected end of data" },
		{ "{\"a\": tru}", "line 1, column 10: invalid JSON: boolean expected" },
		{ "{\"a\": 01}", "line 1, column 9: invalid JSON: number expected" },
		{ "{\"name\": 'x'}", "line 1, column 10: invalid JSON: unexpected character" },
		/* json-c takes single-quoted keys even in strict mode */
		{ "{\n 'name': \"x\"}", "line 2, column 2: invalid JSON: single-quoted string" },
		{ "{\"a\": \"\xff\"}", "line 1, column 8: invalid JSON: invalid utf-8 string" },
		/* What json-c would keep silently. */
		{ "{\"name\": \"a\", \"name\": \"b\"}", "name: duplicate key" },
		{ "{\"cpu\": {\"num\": 1, \"master\": 2, \"num\": 2}}", "cpu.num: duplicate key" },
		{ "{\"cpu\": {\"num\": 18446744073709551616}}",
		  "cpu.num: 18446744073709551616 does not fit in 64 bits" },
		{ "{\"a\": [{\"b\": [1, 2, 99999999999999999999999]}]}",
		  "a[0].b[2]: 99999999999999999999999 does not fit in 64 bits" },
	};
	static const char edge[] = "{\"a\": 18446744073709551615, \"b\": -9223372036854775809}";

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *got = parse_err(c[i].text, strlen(c[i].text), NULL);

		if (strcmp(got, c[i].want))
			print_error("case %zu: %s\n", i, c[i].text);
		assert_string_equal(got, c[i].want);
	}
	/* The largest 64-bit value is no overflow; a negative one is just negative. */
	assert_string_equal(parse_err(edge, strlen(edge), NULL), "a: unknown field");

	/* A NUL byte in the file. */
	assert_string_equal(parse_err("{\"a\"\0: 1}", 9, NULL),
			    "line 1, column 5: invalid JSON: NUL byte");
	/* Only len bytes count. */
	assert_string_equal(parse_err("{} trailing", 2, NULL), "name: required field is missing");
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

static void test_paths_relative(void **state)
{
	struct cli_vm_config cfg;
	char err[CLI_ERR_MAX];
	char *text;

	(void)state;
	/* No base directory: as written. */
	assert_int_equal(cli_config_parse(&cfg, template_text, strlen(template_text), NULL, err,
					  sizeof(err)), 0);
	assert_string_equal(cfg.image.kernel_path, "Image");
	cli_config_free(&cfg);
	/* "." is the current directory: as written too. */
	assert_int_equal(cli_config_parse(&cfg, template_text, strlen(template_text), ".", err,
					  sizeof(err)), 0);
	assert_string_equal(cfg.image.kernel_path, "Image");
	cli_config_free(&cfg);
	assert_int_equal(cli_config_parse(&cfg, template_text, strlen(template_text), "/", err,
					  sizeof(err)), 0);
	assert_string_equal(cfg.image.kernel_path, "/Image");
	cli_config_free(&cfg);
	assert_int_equal(cli_config_parse(&cfg, template_text, strlen(template_text), "cfg/", err,
					  sizeof(err)), 0);
	assert_string_equal(cfg.image.kernel_path, "cfg/Image");
	cli_config_free(&cfg);

	/* Absolute names stay; relative ones get the directory, subdirectories too. */
	text = mutate(template_text, "/image/kernel_filename", "\"/boot/Image\"");
	{
		char *t2 = mutate(text, "/image/device_tree_filename", "\"dtbs/../x.dtb\"");

		assert_int_equal(cli_config_parse(&cfg, t2, strlen(t2), "/srv/vms", err,
						  sizeof(err)), 0);
		assert_string_equal(cfg.image.kernel_path, "/boot/Image");
		assert_string_equal(cfg.image.dtb_path, "/srv/vms/dtbs/../x.dtb");
		cli_config_free(&cfg);
		free(t2);
	}
	free(text);
}

static void test_load_errors(void **state)
{
	struct cli_vm_config cfg;
	char err[CLI_ERR_MAX], path[800];
	char tmpl[] = "/tmp/cli-test-XXXXXX";
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such.json", data_dir);
	assert_int_equal(cli_config_load(&cfg, path, err, sizeof(err)), -1);
	assert_string_equal(err, "No such file or directory");

	assert_int_equal(cli_config_load(&cfg, data_dir, err, sizeof(err)), -1);
	assert_string_equal(err, "Is a directory");

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cli_config_load(&cfg, tmpl, err, sizeof(err)), -1);
	assert_string_equal(err, "file is empty");

	/* Over the limit. */
	{
		FILE *f = fopen(tmpl, "w");

		assert_non_null(f);
		for (unsigned i = 0; i <= CLI_CONFIG_FILE_MAX / 8; i++)
			fputs("        ", f);
		fclose(f);
	}
	assert_int_equal(cli_config_load(&cfg, tmpl, err, sizeof(err)), -1);
	assert_string_equal(err, "larger than 1048576 bytes");
	unlink(tmpl);
}

static void test_image_errors(void **state)
{
	static const struct err_case c[] = {
		{ "/image/kernel_load_ipa", "\"0x7ffff000\"",
		  "image.kernel_load_ipa: kernel 0x7ffff000+0x20000 (image_size of its header) is "
		  "outside the VM's memory regions" },
		/* the file would fit, its bss would not */
		{ "/image/kernel_load_ipa", "\"0xbfff0000\"",
		  "image.kernel_load_ipa: kernel 0xbfff0000+0x20000 (image_size of its header) is "
		  "outside the VM's memory regions" },
		{ "/image/kernel_entry_point", "\"0x80000000\"",
		  "image.kernel_entry_point: 0x80000000 is outside the kernel 0x80080000+0x86" },
		{ "/image/kernel_entry_point", "\"0x80080086\"",
		  "image.kernel_entry_point: 0x80080086 is outside the kernel 0x80080000+0x86" },
		/* a generated device tree takes 64 KiB */
		{ "/image/device_tree_load_ipa", "\"0x80078000\"",
		  "image.device_tree_load_ipa: generated device tree 0x80078000+0x10000 overlaps the "
		  "kernel 0x80080000+0x20000 (image_size of its header)" },
		{ "/image/device_tree_load_ipa", "\"0x80070000\"", "" },
		{ "/image/device_tree_load_ipa", "\"0xbfff8000\"",
		  "image.device_tree_load_ipa: generated device tree 0xbfff8000+0x10000 is outside "
		  "the VM's memory regions" },
		{ "/image/device_tree_load_ipa", "\"0xc0000000\"",
		  "image.device_tree_load_ipa: generated device tree 0xc0000000+0x10000 is outside "
		  "the VM's memory regions" },
		{ "/image/ramdisk_load_ipa", "\"0x80090000\"",
		  "image.ramdisk_load_ipa: ramdisk 0x80090000+0x35 overlaps the kernel "
		  "0x80080000+0x20000 (image_size of its header)" },
		{ "/image/ramdisk_load_ipa", "\"0x800a0000\"", "" },
		{ "/image/device_tree_filename", "\"guest.json\"", "" },
	};
	char want[900];
	struct cli_vm_config cfg;
	char err[CLI_ERR_MAX], path[800];
	char *text;

	(void)state;
	RUN_CASES(c);

	snprintf(want, sizeof(want), "image.kernel_filename: %s/nope: No such file or directory",
		 template_dir);
	assert_string_equal(mutated_err("/image/kernel_filename", "\"nope\""), want);
	snprintf(want, sizeof(want), "image.kernel_filename: %s/.: not a regular file",
		 template_dir);
	assert_string_equal(mutated_err("/image/kernel_filename", "\".\""), want);
	snprintf(want, sizeof(want), "image.device_tree_filename: %s/x.dtb: No such file or "
				     "directory", template_dir);
	assert_string_equal(mutated_err("/image/device_tree_filename", "\"x.dtb\""), want);

	/* A file device tree overlapping the ramdisk, in the full config. */
	snprintf(path, sizeof(path), "%s/vm.json", full_dir);
	{
		char *full = slurp(path);

		text = mutate(full, "/image/ramdisk_load_ipa", "\"0x82000010\"");
		free(full);
	}
	assert_int_equal(cli_config_parse(&cfg, text, strlen(text), full_dir, err, sizeof(err)), 0);
	assert_int_equal(cli_config_check_images(&cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "image.ramdisk_load_ipa: ramdisk 0x82000010+0x7c overlaps the "
				 "device tree 0x82000000+0x1e");
	cli_config_free(&cfg);
	free(text);

	/* A compressed or headerless kernel is only a warning, and only for Linux. */
	text = mutate(template_text, "/image/kernel_filename", "\"../full/vmlinuz\"");
	assert_int_equal(cli_config_parse(&cfg, text, strlen(text), template_dir, err,
					  sizeof(err)), 0);
	assert_int_equal(cli_config_check_images(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nr_warnings, 2);
	snprintf(want, sizeof(want), "image.kernel_filename: %s/../full/vmlinuz is "
				     "gzip-compressed; use the uncompressed arm64 Image",
		 template_dir);
	assert_string_equal(cfg.warnings[1], want);
	cli_config_free(&cfg);
	free(text);

	text = mutate(template_text, "/image/kernel_filename", "\"initrd.gz\"");
	assert_int_equal(cli_config_parse(&cfg, text, strlen(text), template_dir, err,
					  sizeof(err)), 0);
	assert_int_equal(cli_config_check_images(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nr_warnings, 2);
	snprintf(want, sizeof(want), "image.kernel_filename: %s/initrd.gz is not an arm64 "
				     "Linux Image (no ARM\\x64 magic at offset 0x38)", template_dir);
	assert_string_equal(cfg.warnings[1], want);
	cli_config_free(&cfg);
	free(text);

	text = mutate(template_text, "/type", "\"VM_T_BARE_METAL\"");
	{
		char *t2 = mutate(text, "/image/kernel_filename", "\"initrd.gz\"");

		assert_int_equal(cli_config_parse(&cfg, t2, strlen(t2), template_dir, err,
						  sizeof(err)), 0);
		assert_int_equal(cli_config_check_images(&cfg, err, sizeof(err)), 0);
		assert_int_equal(cfg.nr_warnings, 1);
		cli_config_free(&cfg);
		free(t2);
	}
	free(text);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(cli_emu_type_name(SHYPER_EMU_GICD), "EMU_DEVICE_T_GICD");
	assert_string_equal(cli_emu_type_name(SHYPER_EMU_ICCSRE), "EMU_DEVICE_T_ICCSRE");
	assert_string_equal(cli_emu_type_name(SHYPER_EMU_META), "EMU_DEVICE_T_META");
	assert_null(cli_emu_type_name(99));
	assert_string_equal(cli_dtb_type_name(SHYPER_DTB_GICR), "DTB_DEVICE_T_GICR");
	assert_string_equal(cli_dtb_type_name(SHYPER_DTB_PCIE), "DTB_DEVICE_T_PCIE");
	assert_null(cli_dtb_type_name(5));
}

/* ------------------------------------------------------------------------ */
/* The daemon's mediated-disk file                                           */

static void test_mediated(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} c[] = {
		{ "{\"mediated\": \"x\"}", "mediated: expected an array, got a string" },
		{ "{\"mediated\": [\"\"]}", "mediated[0]: must not be empty" },
		{ "{\"mediated\": [\"a\", 1]}", "mediated[1]: expected a string, got a number" },
		{ "{\"x\": 1}", "x: unknown field" },
		{ "{}", "mediated: required field is missing" },
		{ "[]", "expected a JSON object at the top level, got an array" },
		{ "", "file is empty" },
	};
	struct cli_mediated_config m;
	char err[CLI_ERR_MAX], path[800], want[800];
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	(void)state;
	setenv("HOME", "/home/tester", 1);
	snprintf(path, sizeof(path), "%s/mediated.json", data_dir);
	assert_int_equal(cli_mediated_load(&m, path, err, sizeof(err)), 0);
	assert_int_equal(m.nr_paths, 3);
	assert_string_equal(m.paths[0], "/home/tester/vm0.img");
	snprintf(want, sizeof(want), "%s/disks/vm1.img", data_dir);
	assert_string_equal(m.paths[1], want);
	assert_string_equal(m.paths[2], "/dev/nvme0n1p2");
	cli_mediated_free(&m);

	assert_int_equal(cli_mediated_parse(&m, "{\"mediated\": []}", 16, NULL, err, sizeof(err)), 0);
	assert_int_equal(m.nr_paths, 0);
	cli_mediated_free(&m);

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(cli_mediated_parse(&m, c[i].text, strlen(c[i].text), NULL, err,
						    sizeof(err)), -1);
		assert_string_equal(err, c[i].want);
	}
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_accepted),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_accepted_variants),
		cmocka_unit_test(test_memory_errors),
		cmocka_unit_test(test_cpu_errors),
		cmocka_unit_test(test_device_errors),
		cmocka_unit_test(test_top_level_errors),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_paths_relative),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_image_errors),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_mediated),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
