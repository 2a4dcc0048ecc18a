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

#define FILE_PATH_MAX 4096

/* ------------------------------------------------------------------------ */
/* Errors and JSON paths                                                     */


bool __attribute__((format(printf, 3, 4)))
cfg_fail(struct ctx *c, const char *path, const char *fmt, ...)
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
const char *cfg_sub(char *out, const char *path, const char *key)
{
	return mark_truncated(out, snprintf(out, PATH_LEN, "%s%s%s", path,
					    path[0] ? "." : "", key));
}

/* "path[i]". */
const char *cfg_idx(char *out, const char *path, size_t i)
{
	return mark_truncated(out, snprintf(out, PATH_LEN, "%s[%zu]", path, i));
}

const char *cfg_kind(json_object *v)
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

const char *cfg_plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* ------------------------------------------------------------------------ */
/* Fields and values                                                         */


/* Unknown and unsupported keys first (a typo is reported as such, not as a
 * missing field), then required ones. */
bool cfg_check_keys(struct ctx *c, json_object *obj, const char *path,
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
			return cfg_fail(c, cfg_sub(p, path, shown), "unknown field");
		}
		if (f->flags & UNSUP)
			return cfg_fail(c, cfg_sub(p, path, key), "not supported by cshyper");
	}
	for (const struct field *f = fields; f->key; f++)
		if ((f->flags & REQ) && !json_object_object_get_ex(obj, f->key, NULL))
			return cfg_fail(c, cfg_sub(p, path, f->key), "required field is missing");
	return true;
}

/* The value of key, or NULL when absent (a JSON null is present: *present). */
json_object *cfg_get(json_object *obj, const char *key, bool *present)
{
	json_object *v = NULL;

	*present = json_object_object_get_ex(obj, key, &v);
	return v;
}

bool cfg_want_type(struct ctx *c, json_object *v, const char *path, enum json_type t,
		   const char *what)
{
	if (v && json_object_get_type(v) == t)
		return true;
	return cfg_fail(c, path, "expected %s, got %s", what, cfg_kind(v));
}

bool cfg_get_u64(struct ctx *c, json_object *v, const char *path, uint64_t *out)
{
	const char *s;

	switch (json_object_get_type(v)) {
	case json_type_int:
		/* A value above INT64_MAX reads as INT64_MAX here, never negative. */
		if (json_object_get_int64(v) < 0)
			return cfg_fail(c, path, "must not be negative");
		/* Literals beyond 64 bits were rejected by cli_json_check(). */
		*out = json_object_get_uint64(v);
		return true;
	case json_type_double:
		return cfg_fail(c, path, "not an integer (%.40s)", json_object_to_json_string(v));
	case json_type_string:
		s = json_object_get_string(v);
		if (strlen(s) != (size_t)json_object_get_string_len(v))
			return cfg_fail(c, path, "contains a NUL character");
		switch (cli_parse_u64(s, out)) {
		case CLI_NUM_OK:
			return true;
		case CLI_NUM_OVERFLOW:
			return cfg_fail(c, path, "\"%.40s\" does not fit in 64 bits", s);
		default:
			return cfg_fail(c, path,
				    "\"%.40s\" is not a number (use decimal, 0x hex or 0b binary)",
				    s);
		}
	default:
		return cfg_fail(c, path, "expected a number, got %s", cfg_kind(v));
	}
}

bool cfg_get_u32(struct ctx *c, json_object *v, const char *path, uint32_t *out)
{
	uint64_t x;

	if (!cfg_get_u64(c, v, path, &x))
		return false;
	if (x > UINT32_MAX)
		return cfg_fail(c, path, "%llu does not fit in 32 bits", (unsigned long long)x);
	*out = (uint32_t)x;
	return true;
}

/* A string without NUL characters. */
bool cfg_get_str(struct ctx *c, json_object *v, const char *path, const char **out)
{
	if (!cfg_want_type(c, v, path, json_type_string, "a string"))
		return false;
	*out = json_object_get_string(v);
	if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return cfg_fail(c, path, "contains a NUL character");
	return true;
}

/* A name that fits the ABI's NUL-terminated char[SHYPER_NAME_MAX]. */
bool cfg_get_name(struct ctx *c, json_object *v, const char *path, char out[SHYPER_NAME_MAX])
{
	const char *s;

	if (!cfg_get_str(c, v, path, &s))
		return false;
	if (!*s)
		return cfg_fail(c, path, "must not be empty");
	if (strlen(s) > SHYPER_NAME_MAX - 1)
		return cfg_fail(c, path, "longer than %d characters", SHYPER_NAME_MAX - 1);
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
	if (!cfg_get_str(c, v, path, &s))
		return false;
	if (!*s)
		return true;
	*out = join_path(c->base_dir, s);
	if (!*out)
		return cfg_fail(c, path, "out of memory");
	if (strlen(*out) >= FILE_PATH_MAX) {
		free(*out);
		*out = NULL;
		return cfg_fail(c, path, "path too long");
	}
	return true;
}

bool cfg_get_array(struct ctx *c, json_object *v, const char *path, size_t *n)
{
	if (!cfg_want_type(c, v, path, json_type_array, "an array"))
		return false;
	*n = json_object_array_length(v);
	return true;
}

/* An optional list of interrupt ids with its count: "irq_num" / "irq_list". */
bool cfg_get_irqs(struct ctx *c, json_object *obj, const char *path, size_t max,
		  uint32_t *num, uint32_t **irqs, uint32_t *fixed)
{
	char p[PATH_LEN], q[PATH_LEN];
	bool has_num, has_list;
	json_object *vn = cfg_get(obj, "irq_num", &has_num);
	json_object *vl = cfg_get(obj, "irq_list", &has_list);
	size_t n = 0;

	*num = 0;
	if (has_list) {
		if (!cfg_get_array(c, vl, cfg_sub(p, path, "irq_list"), &n))
			return false;
		if (max && n > max)
			return cfg_fail(c, p, "%zu entries, at most %zu", n, max);
		if (!fixed && n) {
			*irqs = calloc(n, sizeof(**irqs));
			if (!*irqs)
				return cfg_fail(c, p, "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			uint32_t irq = 0;

			if (!cfg_get_u32(c, json_object_array_get_idx(vl, i), cfg_idx(q, p, i), &irq))
				return false;
			if (irq > CLI_IRQ_MAX)
				return cfg_fail(c, q, "%u is not a valid interrupt id (at most %u)",
					    irq, CLI_IRQ_MAX);
			(fixed ? fixed : *irqs)[i] = irq;
		}
	}
	*num = (uint32_t)n;
	if (has_num) {
		uint32_t want = 0;

		if (!cfg_get_u32(c, vn, cfg_sub(p, path, "irq_num"), &want))
			return false;
		if (want != n)
			return cfg_fail(c, path, "irq_num %u but irq_list has %zu %s", want, n,
				    cfg_plural(n, "entry", "entries"));
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

bool cfg_range_end(struct ctx *c, const char *path, const char *what, uint64_t start,
		   uint64_t len)
{
	if (len > UINT64_MAX - start)
		return cfg_fail(c, path, "%s overflows 64 bits", what);
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

			return cfg_fail(c, later->path, "overlaps %s", earlier->path);
		}
		if (r[i].start + r[i].len > r[far].start + r[far].len)
			far = i;
	}
	return true;
}

bool cfg_check_aligned(struct ctx *c, const char *path, uint64_t v)
{
	if (v % CLI_PAGE_SIZE)
		return cfg_fail(c, path, "must be a multiple of %u", CLI_PAGE_SIZE);
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
	{ "DTB_DEVICE_T_PCIE", SHYPER_DTB_PCIE },
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

bool cfg_emu_type(const char *name, uint32_t *out)
{
	return LOOKUP(emu_types, name, out);
}

bool cfg_dtb_type(const char *name, uint32_t *out)
{
	return LOOKUP(dtb_types, name, out);
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

	if (!cfg_want_type(c, obj, "image", json_type_object, "an object") ||
	    !cfg_check_keys(c, obj, "image", fields))
		return false;

	if (!get_file(c, cfg_get(obj, "kernel_filename", &has), "image.kernel_filename",
		      &im->kernel_path))
		return false;
	if (!im->kernel_path)
		return cfg_fail(c, "image.kernel_filename", "must not be empty");
	if (!cfg_get_u64(c, cfg_get(obj, "kernel_load_ipa", &has), "image.kernel_load_ipa",
		     &im->kernel_load_ipa) ||
	    !cfg_get_u64(c, cfg_get(obj, "kernel_entry_point", &has), "image.kernel_entry_point",
		     &im->kernel_entry))
		return false;

	/* "-", "" or absent: the hypervisor generates the device tree. */
	v = cfg_get(obj, "device_tree_filename", &has);
	if (has) {
		if (!cfg_get_str(c, v, "image.device_tree_filename", &s))
			return false;
		if (strcmp(s, "-") &&
		    !get_file(c, v, "image.device_tree_filename", &im->dtb_path))
			return false;
	}
	if (!cfg_get_u64(c, cfg_get(obj, "device_tree_load_ipa", &has), "image.device_tree_load_ipa",
		     &im->dtb_load_ipa))
		return false;

	v = cfg_get(obj, "ramdisk_load_ipa", &has);
	if (has && !cfg_get_u64(c, v, "image.ramdisk_load_ipa", &im->ramdisk_load_ipa))
		return false;
	v = cfg_get(obj, "ramdisk_filename", &has);
	if (has && !get_file(c, v, cfg_sub(p, "image", "ramdisk_filename"), &im->ramdisk_path))
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

	if (!cfg_want_type(c, obj, "memory", json_type_object, "an object") ||
	    !cfg_check_keys(c, obj, "memory", fields))
		return false;
	list = cfg_get(obj, "region", &has);
	if (!cfg_get_array(c, list, "memory.region", &n))
		return false;
	if (!n)
		return cfg_fail(c, "memory.region", "must list at least one region");
	cfg->mem = calloc(n, sizeof(*cfg->mem));
	if (!cfg->mem)
		return cfg_fail(c, "memory.region", "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(list, i);
		struct cli_mem_region *m = &cfg->mem[i];

		cfg_idx(p, "memory.region", i);
		if (!cfg_want_type(c, r, p, json_type_object, "an object") ||
		    !cfg_check_keys(c, r, p, region_fields) ||
		    !cfg_get_u64(c, cfg_get(r, "ipa_start", &has), cfg_sub(q, p, "ipa_start"), &m->ipa) ||
		    !cfg_check_aligned(c, q, m->ipa) ||
		    !cfg_get_u64(c, cfg_get(r, "length", &has), cfg_sub(q, p, "length"), &m->length))
			return false;
		if (!m->length)
			return cfg_fail(c, q, "must not be zero");
		if (!cfg_check_aligned(c, q, m->length) ||
		    !cfg_range_end(c, p, "ipa_start + length", m->ipa, m->length))
			return false;
		cfg->nr_mem++;
	}
	return true;
}

static bool parse_cpu(struct ctx *c, json_object *obj)
{
	static const struct field fields[] = {
		{ "num", REQ }, { "allocate_bitmap", REQ }, { "master", 0 }, { "slice_us", 0 },
		{ "pmu", 0 }, { NULL, 0 },
	};
	struct cli_vm_config *cfg = c->cfg;
	char bits[80];
	unsigned count = 0, top = 0;
	json_object *v;
	bool has;

	if (!cfg_want_type(c, obj, "cpu", json_type_object, "an object") ||
	    !cfg_check_keys(c, obj, "cpu", fields) ||
	    !cfg_get_u32(c, cfg_get(obj, "num", &has), "cpu.num", &cfg->cpu_num) ||
	    !cfg_get_u64(c, cfg_get(obj, "allocate_bitmap", &has), "cpu.allocate_bitmap",
		     &cfg->cpu_bitmap))
		return false;

	for (unsigned i = 0; i < 64; i++)
		if (cfg->cpu_bitmap >> i & 1) {
			count++;
			top = i;
		}
	cli_format_bitmap(cfg->cpu_bitmap, bits, sizeof(bits));
	if (!count)
		return cfg_fail(c, "cpu.allocate_bitmap", "no cores selected");
	if (top >= SHYPER_MAX_CPUS)
		return cfg_fail(c, "cpu.allocate_bitmap", "core %u does not exist (at most %u cores)",
			    top, SHYPER_MAX_CPUS);
	if (cfg->cpu_bitmap & 1)
		return cfg_fail(c, "cpu.allocate_bitmap", "core 0 belongs to the management VM");
	if (!cfg->cpu_num)
		return cfg_fail(c, "cpu.num", "must be at least 1");
	if (cfg->cpu_num > count)
		return cfg_fail(c, "cpu.num", "%u but allocate_bitmap %s selects only %u %s",
			    cfg->cpu_num, bits, count, cfg_plural(count, "core", "cores"));

	v = cfg_get(obj, "slice_us", &has);
	if (has) {
		if (!cfg_get_u32(c, v, "cpu.slice_us", &cfg->cpu_slice_us))
			return false;
		if (cfg->cpu_slice_us < SHYPER_SLICE_MIN_US || cfg->cpu_slice_us > SHYPER_SLICE_MAX_US)
			return cfg_fail(c, "cpu.slice_us", "%u: must be %u to %u (1 ms to 1 s)",
				    cfg->cpu_slice_us, SHYPER_SLICE_MIN_US, SHYPER_SLICE_MAX_US);
	}
	v = cfg_get(obj, "pmu", &has);
	if (has) {
		if (!json_object_is_type(v, json_type_boolean))
			return cfg_fail(c, "cpu.pmu", "must be true or false");
		cfg->cpu_pmu = json_object_get_boolean(v);
	}
	v = cfg_get(obj, "master", &has);
	/* Absent or -1 (Rust-Shyper's "none"): the lowest core of the bitmap. */
	if (!has || (json_object_get_type(v) == json_type_int && json_object_get_int64(v) == -1)) {
		cfg->cpu_master = (uint32_t)__builtin_ctzll(cfg->cpu_bitmap);
		return true;
	}
	if (!cfg_get_u32(c, v, "cpu.master", &cfg->cpu_master))
		return false;
	if (cfg->cpu_master >= 64 || !(cfg->cpu_bitmap >> cfg->cpu_master & 1))
		return cfg_fail(c, "cpu.master", "core %u is not in allocate_bitmap %s",
			    cfg->cpu_master, bits);
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
		return cfg_fail(c, "memory", "out of memory");
	for (size_t i = 0; i < cfg->nr_mem; i++, k++) {
		cfg_idx(r[k].path, "memory.region", i);
		r[k].start = cfg->mem[i].ipa;
		r[k].len = cfg->mem[i].length;
		r[k].order = k;
	}
	for (size_t i = 0; i < cfg->nr_emu; i++, k++) {
		cfg_idx(r[k].path, "emulated_device.emulated_device_list", i);
		r[k].start = cfg->emu[i].base_ipa;
		r[k].len = cfg->emu[i].length;
		r[k].order = k;
	}
	for (size_t i = 0; i < cfg->nr_pt; i++, k++) {
		cfg_idx(r[k].path, "passthrough_device.passthrough_device_list", i);
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

	if (!cfg_check_keys(c, root, "", fields) ||
	    !cfg_get_name(c, cfg_get(root, "name", &has), "name", cfg->name))
		return false;
	for (const char *n = cfg->name; *n; n++)
		if (*n < 0x20 || *n > 0x7e)
			return cfg_fail(c, "name", "only printable ASCII characters are allowed");
	if (!cfg_get_str(c, cfg_get(root, "type", &has), "type", &s))
		return false;
	if (!LOOKUP(vm_types, s, &cfg->type))
		return cfg_fail(c, "type", "unknown VM type \"%.48s\" (expected VM_T_LINUX or "
				       "VM_T_BARE_METAL)", s);

	v = cfg_get(root, "cmdline", &has);
	if (has) {
		if (!cfg_get_str(c, v, "cmdline", &s))
			return false;
		if (strlen(s) > SHYPER_CMDLINE_MAX - 1)
			return cfg_fail(c, "cmdline", "longer than %d characters",
				    SHYPER_CMDLINE_MAX - 1);
		memcpy(cfg->cmdline, s, strlen(s) + 1);
	}

	if (!parse_image(c, cfg_get(root, "image", &has)) ||
	    !parse_memory(c, cfg_get(root, "memory", &has)) ||
	    !parse_cpu(c, cfg_get(root, "cpu", &has)))
		return false;
	v = cfg_get(root, "emulated_device", &has);
	if (has && !cfg_parse_emu(c, v))
		return false;
	v = cfg_get(root, "passthrough_device", &has);
	if (has && !cfg_parse_pt(c, v))
		return false;
	v = cfg_get(root, "dtb_device", &has);
	if (has && !cfg_parse_dtb(c, v))
		return false;
	if (!check_ipa_space(c))
		return false;
	v = cfg_get(root, "ivc", &has);
	return !has || cli_config_parse_ivc(cfg, v, c->err, c->errlen);
}

int cli_config_parse(struct cli_vm_config *cfg, const char *text, size_t len,
		     const char *base_dir, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen, .base_dir = base_dir, .cfg = cfg };
	json_object *root;
	bool ok;

	memset(cfg, 0, sizeof(*cfg));
	err[0] = '\0';
	root = cfg_parse_json(text, len, err, errlen);
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
	free(cfg->streams);
	free(cfg->dtb);
	free(cfg->ivc);
	for (size_t i = 0; i < cfg->nr_warnings; i++)
		free(cfg->warnings[i]);
	memset(cfg, 0, sizeof(*cfg));
}
