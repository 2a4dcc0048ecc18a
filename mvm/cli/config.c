/*
 * The VM configuration file: JSON (json-c) to struct cli_vm_config, with
 * validation. Every check fails with "<json path>: <problem>"; the first
 * error wins and the walk stops there.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config_priv.h"
#include "jsoncheck.h"
#include "util.h"

#define PATH_LEN 128 /* JSON paths: schema keys and indices only */
#define FILE_PATH_MAX 4096

/* ------------------------------------------------------------------------ */
/* Errors and JSON paths                                                     */

struct ctx {
	char *err;
	size_t errlen;
	const char *base_dir;
	struct cli_vm_config *cfg;
};

static bool __attribute__((format(printf, 3, 4)))
fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "%s: ", path);

	if (n < 0 || (size_t)n >= c->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	/* Keys and values come from the file: keep the message on one line. */
	for (char *p = c->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return false;
}

void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void add_warning(struct cli_vm_config *cfg, const char *fmt, ...)
{
	char line[CLI_ERR_MAX];
	va_list ap;

	if (cfg->nr_warnings == CLI_WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cfg->warnings[cfg->nr_warnings] = strdup(line);
	if (cfg->warnings[cfg->nr_warnings])
		cfg->nr_warnings++;
}

/* A path too long for out (only possible with absurd nesting) ends in "...". */
static const char *mark_truncated(char *out, int n)
{
	if (n < 0 || n >= PATH_LEN)
		memcpy(out + PATH_LEN - 4, "...", 4);
	return out;
}

/* "path.key" (or "key" at the top level). */
static const char *sub(char *out, const char *path, const char *key)
{
	return mark_truncated(out, snprintf(out, PATH_LEN, "%s%s%s", path,
					    path[0] ? "." : "", key));
}

/* "path[i]". */
static const char *idx(char *out, const char *path, size_t i)
{
	return mark_truncated(out, snprintf(out, PATH_LEN, "%s[%zu]", path, i));
}

static const char *kind(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* ------------------------------------------------------------------------ */
/* Fields and values                                                         */

#define REQ 1U	 /* must be present */
#define UNSUP 2U /* a Rust-Shyper field cshyper does not implement */

struct field {
	const char *key;
	unsigned flags;
};

/* Unknown and unsupported keys first (a typo is reported as such, not as a
 * missing field), then required ones. */
static bool check_keys(struct ctx *c, json_object *obj, const char *path,
		       const struct field *fields)
{
	char p[PATH_LEN];

	json_object_object_foreach(obj, key, val) {
		const struct field *f = fields;

		(void)val;
		while (f->key && strcmp(f->key, key))
			f++;
		if (!f->key) {
			char shown[48];

			snprintf(shown, sizeof(shown), "%s", key);
			return fail(c, sub(p, path, shown), "unknown field");
		}
		if (f->flags & UNSUP)
			return fail(c, sub(p, path, key), "not supported by cshyper");
	}
	for (const struct field *f = fields; f->key; f++)
		if ((f->flags & REQ) && !json_object_object_get_ex(obj, f->key, NULL))
			return fail(c, sub(p, path, f->key), "required field is missing");
	return true;
}

/* The value of key, or NULL when absent (a JSON null is present: *present). */
static json_object *get(json_object *obj, const char *key, bool *present)
{
	json_object *v = NULL;

	*present = json_object_object_get_ex(obj, key, &v);
	return v;
}

static bool want_type(struct ctx *c, json_object *v, const char *path, enum json_type t,
		      const char *what)
{
	if (v && json_object_get_type(v) == t)
		return true;
	return fail(c, path, "expected %s, got %s", what, kind(v));
}

static bool get_u64(struct ctx *c, json_object *v, const char *path, uint64_t *out)
{
	const char *s;

	switch (json_object_get_type(v)) {
	case json_type_int:
		/* A value above INT64_MAX reads as INT64_MAX here, never negative. */
		if (json_object_get_int64(v) < 0)
			return fail(c, path, "must not be negative");
		/* Literals beyond 64 bits were rejected by cli_json_check(). */
		*out = json_object_get_uint64(v);
		return true;
	case json_type_double:
		return fail(c, path, "not an integer (%.40s)", json_object_to_json_string(v));
	case json_type_string:
		s = json_object_get_string(v);
		if (strlen(s) != (size_t)json_object_get_string_len(v))
			return fail(c, path, "contains a NUL character");
		switch (cli_parse_u64(s, out)) {
		case CLI_NUM_OK:
			return true;
		case CLI_NUM_OVERFLOW:
			return fail(c, path, "\"%.40s\" does not fit in 64 bits", s);
		default:
			return fail(c, path,
				    "\"%.40s\" is not a number (use decimal, 0x hex or 0b binary)",
				    s);
		}
	default:
		return fail(c, path, "expected a number, got %s", kind(v));
	}
}

static bool get_u32(struct ctx *c, json_object *v, const char *path, uint32_t *out)
{
	uint64_t x;

	if (!get_u64(c, v, path, &x))
		return false;
	if (x > UINT32_MAX)
		return fail(c, path, "%llu does not fit in 32 bits", (unsigned long long)x);
	*out = (uint32_t)x;
	return true;
}

/* A string without NUL characters. */
static bool get_str(struct ctx *c, json_object *v, const char *path, const char **out)
{
	if (!want_type(c, v, path, json_type_string, "a string"))
		return false;
	*out = json_object_get_string(v);
	if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return fail(c, path, "contains a NUL character");
	return true;
}

/* A name that fits the ABI's NUL-terminated char[SHYPER_NAME_MAX]. */
static bool get_name(struct ctx *c, json_object *v, const char *path, char out[SHYPER_NAME_MAX])
{
	const char *s;

	if (!get_str(c, v, path, &s))
		return false;
	if (!*s)
		return fail(c, path, "must not be empty");
	if (strlen(s) > SHYPER_NAME_MAX - 1)
		return fail(c, path, "longer than %d characters", SHYPER_NAME_MAX - 1);
	memcpy(out, s, strlen(s) + 1);
	return true;
}

char *join_path(const char *base_dir, const char *name)
{
	size_t n;
	char *p;

	if (name[0] == '/' || !base_dir || !*base_dir || !strcmp(base_dir, "."))
		return strdup(name);
	n = strlen(base_dir) + 1 + strlen(name) + 1;
	p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", base_dir,
			 base_dir[strlen(base_dir) - 1] == '/' ? "" : "/", name);
	return p;
}

/* A file name resolved against the config's directory. "" stays NULL. */
static bool get_file(struct ctx *c, json_object *v, const char *path, char **out)
{
	const char *s;

	*out = NULL;
	if (!get_str(c, v, path, &s))
		return false;
	if (!*s)
		return true;
	*out = join_path(c->base_dir, s);
	if (!*out)
		return fail(c, path, "out of memory");
	if (strlen(*out) >= FILE_PATH_MAX) {
		free(*out);
		*out = NULL;
		return fail(c, path, "path too long");
	}
	return true;
}

static bool get_array(struct ctx *c, json_object *v, const char *path, size_t *n)
{
	if (!want_type(c, v, path, json_type_array, "an array"))
		return false;
	*n = json_object_array_length(v);
	return true;
}

/* An optional list of interrupt ids with its count: "irq_num" / "irq_list". */
static bool get_irqs(struct ctx *c, json_object *obj, const char *path, size_t max,
		     uint32_t *num, uint32_t **irqs, uint32_t *fixed)
{
	char p[PATH_LEN], q[PATH_LEN];
	bool has_num, has_list;
	json_object *vn = get(obj, "irq_num", &has_num);
	json_object *vl = get(obj, "irq_list", &has_list);
	size_t n = 0;

	*num = 0;
	if (has_list) {
		if (!get_array(c, vl, sub(p, path, "irq_list"), &n))
			return false;
		if (max && n > max)
			return fail(c, p, "%zu entries, at most %zu", n, max);
		if (!fixed && n) {
			*irqs = calloc(n, sizeof(**irqs));
			if (!*irqs)
				return fail(c, p, "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			uint32_t irq = 0;

			if (!get_u32(c, json_object_array_get_idx(vl, i), idx(q, p, i), &irq))
				return false;
			if (irq > CLI_IRQ_MAX)
				return fail(c, q, "%u is not a valid interrupt id (at most %u)",
					    irq, CLI_IRQ_MAX);
			(fixed ? fixed : *irqs)[i] = irq;
		}
	}
	*num = (uint32_t)n;
	if (has_num) {
		uint32_t want = 0;

		if (!get_u32(c, vn, sub(p, path, "irq_num"), &want))
			return false;
		if (want != n)
			return fail(c, path, "irq_num %u but irq_list has %zu %s", want, n,
				    plural(n, "entry", "entries"));
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* Address ranges: memory, emulated devices, passthrough (IPA side)          */

struct range {
	char path[PATH_LEN];
	uint64_t start, len;
	size_t order; /* position in the file */
};

static bool range_end(struct ctx *c, const char *path, const char *what, uint64_t start,
		      uint64_t len)
{
	if (len > UINT64_MAX - start)
		return fail(c, path, "%s overflows 64 bits", what);
	return true;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* No two ranges of the guest physical address space may overlap. */
static bool check_overlaps(struct ctx *c, struct range *r, size_t n)
{
	size_t far = 0; /* the range reaching furthest so far */

	qsort(r, n, sizeof(*r), cmp_range);
	for (size_t i = 1; i < n; i++) {
		if (r[i].start < r[far].start + r[far].len) {
			const struct range *later = r[i].order > r[far].order ? &r[i] : &r[far];
			const struct range *earlier = later == &r[i] ? &r[far] : &r[i];

			return fail(c, later->path, "overlaps %s", earlier->path);
		}
		if (r[i].start + r[i].len > r[far].start + r[far].len)
			far = i;
	}
	return true;
}

static bool check_aligned(struct ctx *c, const char *path, uint64_t v)
{
	if (v % CLI_PAGE_SIZE)
		return fail(c, path, "must be a multiple of %u", CLI_PAGE_SIZE);
	return true;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */

struct name_type {
	const char *name;
	uint32_t type;
};

static const struct name_type vm_types[] = {
	{ "VM_T_LINUX", SHYPER_VM_T_LINUX },
	{ "VM_T_BARE_METAL", SHYPER_VM_T_BARE_METAL },
	{ "VM_T_BARE_MATEL_APP", SHYPER_VM_T_BARE_METAL }, /* Rust-Shyper's spelling */
};

static const struct name_type emu_types[] = {
	{ "EMU_DEVICE_T_CONSOLE", SHYPER_EMU_CONSOLE },
	{ "EMU_DEVICE_T_GICD", SHYPER_EMU_GICD },
	{ "EMU_DEVICE_T_GPPT", SHYPER_EMU_GPPT },
	{ "EMU_DEVICE_T_VIRTIO_BLK", SHYPER_EMU_VIRTIO_BLK },
	{ "EMU_DEVICE_T_VIRTIO_NET", SHYPER_EMU_VIRTIO_NET },
	{ "EMU_DEVICE_T_VIRTIO_CONSOLE", SHYPER_EMU_VIRTIO_CONSOLE },
	{ "EMU_DEVICE_T_SHYPER", SHYPER_EMU_SHYPER },
	{ "EMU_DEVICE_T_VIRTIO_BLK_MEDIATED", SHYPER_EMU_VIRTIO_BLK_MEDIATED },
	{ "EMU_DEVICE_T_IOMMU", SHYPER_EMU_IOMMU },
	{ "EMU_DEVICE_T_ICCSRE", SHYPER_EMU_ICCSRE },
	{ "EMU_DEVICE_T_SRE", SHYPER_EMU_ICCSRE }, /* Rust-Shyper's name */
	{ "EMU_DEVICE_T_SGIR", SHYPER_EMU_SGIR },
	{ "EMU_DEVICE_T_GICR", SHYPER_EMU_GICR },
	{ "EMU_DEVICE_T_META", SHYPER_EMU_META },
};

static const struct name_type dtb_types[] = {
	{ "DTB_DEVICE_T_CONSOLE", SHYPER_DTB_CONSOLE },
	{ "DTB_DEVICE_T_GICD", SHYPER_DTB_GICD },
	{ "DTB_DEVICE_T_GICC", SHYPER_DTB_GICC },
	{ "DTB_DEVICE_T_GICR", SHYPER_DTB_GICR },
};

#define LOOKUP(table, s, out) lookup(table, sizeof(table) / sizeof(table[0]), s, out)

static bool lookup(const struct name_type *t, size_t n, const char *s, uint32_t *out)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, s)) {
			*out = t[i].type;
			return true;
		}
	return false;
}

const char *cli_emu_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(emu_types) / sizeof(emu_types[0]); i++)
		if (emu_types[i].type == type)
			return emu_types[i].name;
	return NULL;
}

const char *cli_dtb_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(dtb_types) / sizeof(dtb_types[0]); i++)
		if (dtb_types[i].type == type)
			return dtb_types[i].name;
	return NULL;
}

static bool parse_image(struct ctx *c, json_object *obj)
{
	static const struct field fields[] = {
		{ "kernel_filename", REQ },	 { "kernel_load_ipa", REQ },
		{ "kernel_entry_point", REQ },	 { "device_tree_filename", 0 },
		{ "device_tree_load_ipa", REQ }, { "ramdisk_filename", 0 },
		{ "ramdisk_load_ipa", 0 },	 { NULL, 0 },
	};
	struct cli_image *im = &c->cfg->image;
	char p[PATH_LEN];
	bool has;
	json_object *v;
	const char *s;

	if (!want_type(c, obj, "image", json_type_object, "an object") ||
	    !check_keys(c, obj, "image", fields))
		return false;

	if (!get_file(c, get(obj, "kernel_filename", &has), "image.kernel_filename",
		      &im->kernel_path))
		return false;
	if (!im->kernel_path)
		return fail(c, "image.kernel_filename", "must not be empty");
	if (!get_u64(c, get(obj, "kernel_load_ipa", &has), "image.kernel_load_ipa",
		     &im->kernel_load_ipa) ||
	    !get_u64(c, get(obj, "kernel_entry_point", &has), "image.kernel_entry_point",
		     &im->kernel_entry))
		return false;

	/* "-", "" or absent: the hypervisor generates the device tree. */
	v = get(obj, "device_tree_filename", &has);
	if (has) {
		if (!get_str(c, v, "image.device_tree_filename", &s))
			return false;
		if (strcmp(s, "-") &&
		    !get_file(c, v, "image.device_tree_filename", &im->dtb_path))
			return false;
	}
	if (!get_u64(c, get(obj, "device_tree_load_ipa", &has), "image.device_tree_load_ipa",
		     &im->dtb_load_ipa))
		return false;

	v = get(obj, "ramdisk_load_ipa", &has);
	if (has && !get_u64(c, v, "image.ramdisk_load_ipa", &im->ramdisk_load_ipa))
		return false;
	v = get(obj, "ramdisk_filename", &has);
	if (has && !get_file(c, v, sub(p, "image", "ramdisk_filename"), &im->ramdisk_path))
		return false;
	/* As in Rust-Shyper, a ramdisk_load_ipa of 0 means no ramdisk. */
	if (im->ramdisk_path && !im->ramdisk_load_ipa) {
		add_warning(c->cfg, "image.ramdisk_filename: ignored because "
				    "ramdisk_load_ipa is 0 (no ramdisk is loaded)");
		free(im->ramdisk_path);
		im->ramdisk_path = NULL;
	} else if (!im->ramdisk_path && im->ramdisk_load_ipa) {
		add_warning(c->cfg, "image.ramdisk_load_ipa: ignored because "
				    "ramdisk_filename is empty");
		im->ramdisk_load_ipa = 0;
	}
	return true;
}

static bool parse_memory(struct ctx *c, json_object *obj)
{
	static const struct field fields[] = {
		{ "region", REQ }, { "colors", UNSUP }, { "budget", UNSUP }, { NULL, 0 },
	};
	static const struct field region_fields[] = {
		{ "ipa_start", REQ }, { "length", REQ }, { NULL, 0 },
	};
	struct cli_vm_config *cfg = c->cfg;
	json_object *list;
	char p[PATH_LEN], q[PATH_LEN];
	size_t n;
	bool has;

	if (!want_type(c, obj, "memory", json_type_object, "an object") ||
	    !check_keys(c, obj, "memory", fields))
		return false;
	list = get(obj, "region", &has);
	if (!get_array(c, list, "memory.region", &n))
		return false;
	if (!n)
		return fail(c, "memory.region", "must list at least one region");
	cfg->mem = calloc(n, sizeof(*cfg->mem));
	if (!cfg->mem)
		return fail(c, "memory.region", "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(list, i);
		struct cli_mem_region *m = &cfg->mem[i];

		idx(p, "memory.region", i);
		if (!want_type(c, r, p, json_type_object, "an object") ||
		    !check_keys(c, r, p, region_fields) ||
		    !get_u64(c, get(r, "ipa_start", &has), sub(q, p, "ipa_start"), &m->ipa) ||
		    !check_aligned(c, q, m->ipa) ||
		    !get_u64(c, get(r, "length", &has), sub(q, p, "length"), &m->length))
			return false;
		if (!m->length)
			return fail(c, q, "must not be zero");
		if (!check_aligned(c, q, m->length) ||
		    !range_end(c, p, "ipa_start + length", m->ipa, m->length))
			return false;
		cfg->nr_mem++;
	}
	return true;
}

static bool parse_cpu(struct ctx *c, json_object *obj)
{
	static const struct field fields[] = {
		{ "num", REQ }, { "allocate_bitmap", REQ }, { "master", 0 }, { "slice_us", 0 },
		{ NULL, 0 },
	};
	struct cli_vm_config *cfg = c->cfg;
	char bits[80];
	unsigned count = 0, top = 0;
	json_object *v;
	bool has;

	if (!want_type(c, obj, "cpu", json_type_object, "an object") ||
	    !check_keys(c, obj, "cpu", fields) ||
	    !get_u32(c, get(obj, "num", &has), "cpu.num", &cfg->cpu_num) ||
	    !get_u64(c, get(obj, "allocate_bitmap", &has), "cpu.allocate_bitmap",
		     &cfg->cpu_bitmap))
		return false;

	for (unsigned i = 0; i < 64; i++)
		if (cfg->cpu_bitmap >> i & 1) {
			count++;
			top = i;
		}
	cli_format_bitmap(cfg->cpu_bitmap, bits, sizeof(bits));
	if (!count)
		return fail(c, "cpu.allocate_bitmap", "no cores selected");
	if (top >= SHYPER_MAX_CPUS)
		return fail(c, "cpu.allocate_bitmap", "core %u does not exist (at most %u cores)",
			    top, SHYPER_MAX_CPUS);
	if (cfg->cpu_bitmap & 1)
		return fail(c, "cpu.allocate_bitmap", "core 0 belongs to the management VM");
	if (!cfg->cpu_num)
		return fail(c, "cpu.num", "must be at least 1");
	if (cfg->cpu_num > count)
		return fail(c, "cpu.num", "%u but allocate_bitmap %s selects only %u %s",
			    cfg->cpu_num, bits, count, plural(count, "core", "cores"));

	v = get(obj, "slice_us", &has);
	if (has) {
		if (!get_u32(c, v, "cpu.slice_us", &cfg->cpu_slice_us))
			return false;
		if (cfg->cpu_slice_us < SHYPER_SLICE_MIN_US || cfg->cpu_slice_us > SHYPER_SLICE_MAX_US)
			return fail(c, "cpu.slice_us", "%u: must be %u to %u (1 ms to 1 s)",
				    cfg->cpu_slice_us, SHYPER_SLICE_MIN_US, SHYPER_SLICE_MAX_US);
	}
	v = get(obj, "master", &has);
	/* Absent or -1 (Rust-Shyper's "none"): the lowest core of the bitmap. */
	if (!has || (json_object_get_type(v) == json_type_int && json_object_get_int64(v) == -1)) {
		cfg->cpu_master = (uint32_t)__builtin_ctzll(cfg->cpu_bitmap);
		return true;
	}
	if (!get_u32(c, v, "cpu.master", &cfg->cpu_master))
		return false;
	if (cfg->cpu_master >= 64 || !(cfg->cpu_bitmap >> cfg->cpu_master & 1))
		return fail(c, "cpu.master", "core %u is not in allocate_bitmap %s",
			    cfg->cpu_master, bits);
	return true;
}

/* "section": { "section_list": [ ... ] } -> the list and its length. */
static bool get_list(struct ctx *c, json_object *obj, const char *section, const char *list_key,
		     json_object **list, size_t *n)
{
	const struct field fields[] = { { list_key, REQ }, { NULL, 0 } };
	char p[PATH_LEN];
	bool has;

	if (!want_type(c, obj, section, json_type_object, "an object") ||
	    !check_keys(c, obj, section, fields))
		return false;
	*list = get(obj, list_key, &has);
	return get_array(c, *list, sub(p, section, list_key), n);
}

static bool parse_emu(struct ctx *c, json_object *obj)
{
	static const struct field fields[] = {
		{ "name", REQ },    { "base_ipa", REQ }, { "length", REQ }, { "irq_id", REQ },
		{ "cfg_num", 0 },   { "cfg_list", 0 },	 { "type", REQ },   { NULL, 0 },
	};
	static const char lpath[] = "emulated_device.emulated_device_list";
	struct cli_vm_config *cfg = c->cfg;
	json_object *list;
	size_t n;

	if (!get_list(c, obj, "emulated_device", "emulated_device_list", &list, &n))
		return false;
	cfg->emu = calloc(n ? n : 1, sizeof(*cfg->emu));
	if (!cfg->emu)
		return fail(c, lpath, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i), *v;
		struct shyper_emu_dev *e = &cfg->emu[i];
		char p[PATH_LEN], q[PATH_LEN], r[PATH_LEN];
		const char *type;
		size_t cfgs = 0;
		bool has;

		idx(p, lpath, i);
		if (!want_type(c, d, p, json_type_object, "an object") ||
		    !check_keys(c, d, p, fields) ||
		    !get_name(c, get(d, "name", &has), sub(q, p, "name"), e->name) ||
		    !get_u64(c, get(d, "base_ipa", &has), sub(q, p, "base_ipa"), &e->base_ipa) ||
		    !get_u64(c, get(d, "length", &has), sub(q, p, "length"), &e->length))
			return false;
		if (!e->length)
			return fail(c, q, "must not be zero");
		if (!range_end(c, p, "base_ipa + length", e->base_ipa, e->length) ||
		    !get_u32(c, get(d, "irq_id", &has), sub(q, p, "irq_id"), &e->irq_id))
			return false;
		if (e->irq_id > CLI_IRQ_MAX)
			return fail(c, q, "%u is not a valid interrupt id (at most %u)", e->irq_id,
				    CLI_IRQ_MAX);

		v = get(d, "cfg_list", &has);
		if (has) {
			if (!get_array(c, v, sub(q, p, "cfg_list"), &cfgs))
				return false;
			if (cfgs > SHYPER_CFG_LIST_MAX)
				return fail(c, q, "%zu entries, at most %d", cfgs,
					    SHYPER_CFG_LIST_MAX);
			for (size_t j = 0; j < cfgs; j++)
				if (!get_u64(c, json_object_array_get_idx(v, j), idx(r, q, j),
					     &e->cfg_list[j]))
					return false;
		}
		e->cfg_num = (uint32_t)cfgs;
		v = get(d, "cfg_num", &has);
		if (has) {
			uint32_t want = 0;

			if (!get_u32(c, v, sub(q, p, "cfg_num"), &want))
				return false;
			if (want != cfgs)
				return fail(c, p, "cfg_num %u but cfg_list has %zu %s", want, cfgs,
					    plural(cfgs, "entry", "entries"));
		}

		if (!get_str(c, get(d, "type", &has), sub(q, p, "type"), &type))
			return false;
		if (!LOOKUP(emu_types, type, &e->type))
			return fail(c, q, "unknown device type \"%.48s\"", type);
		cfg->nr_emu++;
	}
	return true;
}

static bool parse_pt(struct ctx *c, json_object *obj)
{
	static const struct field fields[] = {
		{ "name", REQ },     { "base_pa", REQ },  { "base_ipa", REQ },
		{ "length", REQ },   { "irq_num", 0 },	  { "irq_list", 0 },
		{ "smmu_id", UNSUP }, { NULL, 0 },
	};
	static const char lpath[] = "passthrough_device.passthrough_device_list";
	struct cli_vm_config *cfg = c->cfg;
	json_object *list;
	size_t n;

	if (!get_list(c, obj, "passthrough_device", "passthrough_device_list", &list, &n))
		return false;
	cfg->pt = calloc(n ? n : 1, sizeof(*cfg->pt));
	if (!cfg->pt)
		return fail(c, lpath, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		struct cli_pt_dev *t = &cfg->pt[i];
		char p[PATH_LEN], q[PATH_LEN];
		bool has;

		idx(p, lpath, i);
		cfg->nr_pt++; /* so that cli_config_free() frees its irqs */
		if (!want_type(c, d, p, json_type_object, "an object") ||
		    !check_keys(c, d, p, fields) ||
		    !get_name(c, get(d, "name", &has), sub(q, p, "name"), t->name) ||
		    !get_u64(c, get(d, "base_pa", &has), sub(q, p, "base_pa"), &t->base_pa) ||
		    !check_aligned(c, q, t->base_pa) ||
		    !get_u64(c, get(d, "base_ipa", &has), sub(q, p, "base_ipa"), &t->base_ipa) ||
		    !check_aligned(c, q, t->base_ipa) ||
		    !get_u64(c, get(d, "length", &has), sub(q, p, "length"), &t->length))
			return false;
		if (!t->length)
			return fail(c, q, "must not be zero");
		if (!check_aligned(c, q, t->length) ||
		    !range_end(c, p, "base_pa + length", t->base_pa, t->length) ||
		    !range_end(c, p, "base_ipa + length", t->base_ipa, t->length) ||
		    !get_irqs(c, d, p, 0, &t->irq_num, &t->irqs, NULL))
			return false;
	}
	return true;
}

static bool parse_dtb(struct ctx *c, json_object *obj)
{
	static const struct field fields[] = {
		{ "name", REQ },	    { "type", REQ },		   { "irq_num", 0 },
		{ "irq_list", 0 },	    { "addr_region_ipa", REQ },
		{ "addr_region_length", REQ }, { NULL, 0 },
	};
	static const char lpath[] = "dtb_device.dtb_device_list";
	struct cli_vm_config *cfg = c->cfg;
	json_object *list;
	size_t n;

	if (!get_list(c, obj, "dtb_device", "dtb_device_list", &list, &n))
		return false;
	cfg->dtb = calloc(n ? n : 1, sizeof(*cfg->dtb));
	if (!cfg->dtb)
		return fail(c, lpath, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		struct shyper_dtb_dev *t = &cfg->dtb[i];
		char p[PATH_LEN], q[PATH_LEN];
		const char *type;
		bool has;

		idx(p, lpath, i);
		if (!want_type(c, d, p, json_type_object, "an object") ||
		    !check_keys(c, d, p, fields) ||
		    !get_name(c, get(d, "name", &has), sub(q, p, "name"), t->name) ||
		    !get_str(c, get(d, "type", &has), sub(q, p, "type"), &type))
			return false;
		if (!LOOKUP(dtb_types, type, &t->type))
			return fail(c, q, "unknown device type \"%.48s\"", type);
		if (!get_irqs(c, d, p, SHYPER_CFG_LIST_MAX, &t->irq_num, NULL, t->irqs) ||
		    !get_u64(c, get(d, "addr_region_ipa", &has), sub(q, p, "addr_region_ipa"),
			     &t->addr_ipa) ||
		    !get_u64(c, get(d, "addr_region_length", &has),
			     sub(q, p, "addr_region_length"), &t->length))
			return false;
		if (!t->length)
			return fail(c, q, "must not be zero");
		if (!range_end(c, p, "addr_region_ipa + addr_region_length", t->addr_ipa,
			       t->length))
			return false;
		cfg->nr_dtb++;
	}
	return true;
}

/* Memory, emulated devices and passthrough regions share the IPA space. */
static bool check_ipa_space(struct ctx *c)
{
	struct cli_vm_config *cfg = c->cfg;
	size_t n = cfg->nr_mem + cfg->nr_emu + cfg->nr_pt, k = 0;
	struct range *r = calloc(n, sizeof(*r));
	bool ok;

	if (!r)
		return fail(c, "memory", "out of memory");
	for (size_t i = 0; i < cfg->nr_mem; i++, k++) {
		idx(r[k].path, "memory.region", i);
		r[k].start = cfg->mem[i].ipa;
		r[k].len = cfg->mem[i].length;
		r[k].order = k;
	}
	for (size_t i = 0; i < cfg->nr_emu; i++, k++) {
		idx(r[k].path, "emulated_device.emulated_device_list", i);
		r[k].start = cfg->emu[i].base_ipa;
		r[k].len = cfg->emu[i].length;
		r[k].order = k;
	}
	for (size_t i = 0; i < cfg->nr_pt; i++, k++) {
		idx(r[k].path, "passthrough_device.passthrough_device_list", i);
		r[k].start = cfg->pt[i].base_ipa;
		r[k].len = cfg->pt[i].length;
		r[k].order = k;
	}
	ok = check_overlaps(c, r, n);
	free(r);
	return ok;
}

static bool parse_root(struct ctx *c, json_object *root)
{
	static const struct field fields[] = {
		{ "name", REQ },	    { "type", REQ },		  { "cmdline", 0 },
		{ "image", REQ },	    { "memory", REQ },		  { "cpu", REQ },
		{ "emulated_device", 0 }, { "passthrough_device", 0 }, { "dtb_device", 0 },
		{ "ivc", 0 },		    { NULL, 0 },
	};
	struct cli_vm_config *cfg = c->cfg;
	const char *s;
	json_object *v;
	bool has;

	if (!check_keys(c, root, "", fields) ||
	    !get_name(c, get(root, "name", &has), "name", cfg->name))
		return false;
	for (const char *n = cfg->name; *n; n++)
		if (*n < 0x20 || *n > 0x7e)
			return fail(c, "name", "only printable ASCII characters are allowed");
	if (!get_str(c, get(root, "type", &has), "type", &s))
		return false;
	if (!LOOKUP(vm_types, s, &cfg->type))
		return fail(c, "type", "unknown VM type \"%.48s\" (expected VM_T_LINUX or "
				       "VM_T_BARE_METAL)", s);

	v = get(root, "cmdline", &has);
	if (has) {
		if (!get_str(c, v, "cmdline", &s))
			return false;
		if (strlen(s) > SHYPER_CMDLINE_MAX - 1)
			return fail(c, "cmdline", "longer than %d characters",
				    SHYPER_CMDLINE_MAX - 1);
		memcpy(cfg->cmdline, s, strlen(s) + 1);
	}

	if (!parse_image(c, get(root, "image", &has)) ||
	    !parse_memory(c, get(root, "memory", &has)) ||
	    !parse_cpu(c, get(root, "cpu", &has)))
		return false;
	v = get(root, "emulated_device", &has);
	if (has && !parse_emu(c, v))
		return false;
	v = get(root, "passthrough_device", &has);
	if (has && !parse_pt(c, v))
		return false;
	v = get(root, "dtb_device", &has);
	if (has && !parse_dtb(c, v))
		return false;
	if (!check_ipa_space(c))
		return false;
	v = get(root, "ivc", &has);
	return !has || cli_config_parse_ivc(cfg, v, c->err, c->errlen);
}

/* ------------------------------------------------------------------------ */
/* JSON text                                                                 */

static void line_col(const char *text, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++, (*col)++)
		if (text[i] == '\n') {
			(*line)++;
			*col = 0;
		}
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* The top-level object of text, or NULL with the error in err. */
static json_object *parse_json(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *root;
	const char *nul;
	size_t i, line, col, end;
	char *buf;

	for (i = 0; i < len && is_space(text[i]); i++)
		;
	if (i == len) {
		errf(err, errlen, "file is empty");
		return NULL;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		line_col(text, (size_t)(nul - text), &line, &col);
		errf(err, errlen, "line %zu, column %zu: invalid JSON: NUL byte", line, col);
		return NULL;
	}
	if (len > CLI_CONFIG_FILE_MAX) {
		errf(err, errlen, "larger than %u bytes", CLI_CONFIG_FILE_MAX);
		return NULL;
	}
	buf = malloc(len + 1);
	tok = json_tokener_new();
	if (!buf || !tok) {
		free(buf);
		if (tok)
			json_tokener_free(tok);
		errf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* Passing the terminating NUL tells json-c the input ends there. */
	root = json_tokener_parse_ex(tok, buf, (int)len + 1);
	end = json_tokener_get_parse_end(tok);
	if (!root && json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		line_col(buf, end < len ? end : len, &line, &col);
		errf(err, errlen, "line %zu, column %zu: invalid JSON: %s", line, col,
		     e == json_tokener_continue ? "unexpected end of data"
						: json_tokener_error_desc(e));
	} else {
		for (i = end; i < len && is_space(buf[i]); i++)
			;
		if (i < len) {
			line_col(buf, i, &line, &col);
			errf(err, errlen, "line %zu, column %zu: invalid JSON: unexpected text "
					  "after the top-level object", line, col);
		} else if (json_object_get_type(root) != json_type_object) {
			errf(err, errlen, "expected a JSON object at the top level, got %s",
			     kind(root));
		} else if (cli_json_check(buf, len, err, errlen) == 0) {
			json_tokener_free(tok);
			free(buf);
			return root;
		}
	}
	json_object_put(root);
	json_tokener_free(tok);
	free(buf);
	return NULL;
}

/* The whole of a regular file, NUL-terminated; NULL with the error in err. */
char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		errf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		errf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errf(err, errlen, "%s", strerror(EISDIR));
		goto out;
	}
	buf = malloc(CLI_CONFIG_FILE_MAX + 1);
	if (!buf) {
		errf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, CLI_CONFIG_FILE_MAX + 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > CLI_CONFIG_FILE_MAX) {
			errf(err, errlen, "larger than %u bytes", CLI_CONFIG_FILE_MAX);
			goto fail;
		}
	}
	if (!used) {
		errf(err, errlen, "file is empty");
		goto fail;
	}
	buf[used] = '\0';
	*len = used;
	close(fd);
	return buf;
fail:
	free(buf);
	buf = NULL;
out:
	close(fd);
	return NULL;
}

/* The directory part of path: "dir/x.json" -> "dir", "x.json" -> ".", "/x" -> "/". */
char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */

int cli_config_parse(struct cli_vm_config *cfg, const char *text, size_t len,
		     const char *base_dir, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen, .base_dir = base_dir, .cfg = cfg };
	json_object *root;
	bool ok;

	memset(cfg, 0, sizeof(*cfg));
	err[0] = '\0';
	root = parse_json(text, len, err, errlen);
	if (!root)
		return -1;
	ok = parse_root(&c, root);
	json_object_put(root);
	if (!ok) {
		cli_config_free(cfg);
		return -1;
	}
	return 0;
}

int cli_config_load(struct cli_vm_config *cfg, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text, *dir;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	text = read_file(path, &len, err, errlen);
	if (!text)
		return -1;
	dir = dir_of(path);
	if (!dir) {
		free(text);
		errf(err, errlen, "out of memory");
		return -1;
	}
	ret = cli_config_parse(cfg, text, len, dir, err, errlen);
	free(dir);
	free(text);
	return ret;
}

void cli_config_free(struct cli_vm_config *cfg)
{
	free(cfg->image.kernel_path);
	free(cfg->image.dtb_path);
	free(cfg->image.ramdisk_path);
	free(cfg->mem);
	free(cfg->emu);
	for (size_t i = 0; i < cfg->nr_pt; i++)
		free(cfg->pt[i].irqs);
	free(cfg->pt);
	free(cfg->dtb);
	free(cfg->ivc);
	for (size_t i = 0; i < cfg->nr_warnings; i++)
		free(cfg->warnings[i]);
	memset(cfg, 0, sizeof(*cfg));
}

/* ------------------------------------------------------------------------ */
/* Mediated-disk configuration of the daemon                                 */

/* "~/x" against $HOME, anything else relative to the file's directory. */
static char *resolve_home(const char *s, const char *base_dir)
{
	const char *home = getenv("HOME");

	if (s[0] == '~' && (s[1] == '/' || !s[1]) && home && *home) {
		size_t n = strlen(home) + strlen(s); /* '~' out, NUL in */
		char *p = malloc(n);

		if (p)
			snprintf(p, n, "%s%s", home, s + 1);
		return p;
	}
	return join_path(base_dir, s);
}

int cli_mediated_parse(struct cli_mediated_config *m, const char *text, size_t len,
		       const char *base_dir, char *err, size_t errlen)
{
	static const struct field fields[] = { { "mediated", REQ }, { NULL, 0 } };
	struct cli_vm_config dummy;
	struct ctx c = { .err = err, .errlen = errlen, .base_dir = base_dir, .cfg = &dummy };
	json_object *root, *list;
	size_t n = 0;
	bool has, ok;

	memset(m, 0, sizeof(*m));
	err[0] = '\0';
	root = parse_json(text, len, err, errlen);
	if (!root)
		return -1;
	ok = check_keys(&c, root, "", fields) &&
	     get_array(&c, list = get(root, "mediated", &has), "mediated", &n);
	if (ok && n) {
		m->paths = calloc(n, sizeof(*m->paths));
		ok = m->paths || fail(&c, "mediated", "out of memory");
	}
	for (size_t i = 0; ok && i < n; i++) {
		char p[PATH_LEN];
		const char *s;

		idx(p, "mediated", i);
		ok = get_str(&c, json_object_array_get_idx(list, i), p, &s);
		if (ok && !*s)
			ok = fail(&c, p, "must not be empty");
		if (ok) {
			m->paths[i] = resolve_home(s, base_dir);
			ok = m->paths[i] || fail(&c, p, "out of memory");
			m->nr_paths += ok;
		}
	}
	json_object_put(root);
	if (!ok) {
		cli_mediated_free(m);
		return -1;
	}
	return 0;
}

int cli_mediated_load(struct cli_mediated_config *m, const char *path, char *err,
		      size_t errlen)
{
	size_t len;
	char *text, *dir;
	int ret;

	memset(m, 0, sizeof(*m));
	text = read_file(path, &len, err, errlen);
	if (!text)
		return -1;
	dir = dir_of(path);
	ret = dir ? cli_mediated_parse(m, text, len, dir, err, errlen) : -1;
	if (!dir)
		errf(err, errlen, "out of memory");
	free(dir);
	free(text);
	return ret;
}

void cli_mediated_free(struct cli_mediated_config *m)
{
	for (size_t i = 0; i < m->nr_paths; i++)
		free(m->paths[i]);
	free(m->paths);
	memset(m, 0, sizeof(*m));
}
