/*
 * The device sections of a VM configuration: emulated_device,
 * passthrough_device and dtb_device (docs/CONFIG.md), each checked entry by
 * entry with errors naming the JSON path.
 */
#include <stdlib.h>

#include <json-c/json.h>

#include "config_priv.h"

/* "section": { "section_list": [ ... ] } -> the list and its length. */
static bool get_list(struct ctx *c, json_object *obj, const char *section, const char *list_key,
		     json_object **list, size_t *n)
{
	const struct field fields[] = { { list_key, REQ }, { NULL, 0 } };
	char p[PATH_LEN];
	bool has;

	if (!cfg_want_type(c, obj, section, json_type_object, "an object") ||
	    !cfg_check_keys(c, obj, section, fields))
		return false;
	*list = cfg_get(obj, list_key, &has);
	return cfg_get_array(c, *list, cfg_sub(p, section, list_key), n);
}

bool cfg_parse_emu(struct ctx *c, json_object *obj)
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
		return cfg_fail(c, lpath, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i), *v;
		struct shyper_emu_dev *e = &cfg->emu[i];
		char p[PATH_LEN], q[PATH_LEN], r[PATH_LEN];
		const char *type;
		size_t cfgs = 0;
		bool has;

		cfg_idx(p, lpath, i);
		if (!cfg_want_type(c, d, p, json_type_object, "an object") ||
		    !cfg_check_keys(c, d, p, fields) ||
		    !cfg_get_name(c, cfg_get(d, "name", &has), cfg_sub(q, p, "name"), e->name) ||
		    !cfg_get_u64(c, cfg_get(d, "base_ipa", &has), cfg_sub(q, p, "base_ipa"), &e->base_ipa) ||
		    !cfg_get_u64(c, cfg_get(d, "length", &has), cfg_sub(q, p, "length"), &e->length))
			return false;
		if (!e->length)
			return cfg_fail(c, q, "must not be zero");
		if (!cfg_range_end(c, p, "base_ipa + length", e->base_ipa, e->length) ||
		    !cfg_get_u32(c, cfg_get(d, "irq_id", &has), cfg_sub(q, p, "irq_id"), &e->irq_id))
			return false;
		if (e->irq_id > CLI_IRQ_MAX)
			return cfg_fail(c, q, "%u is not a valid interrupt id (at most %u)", e->irq_id,
				    CLI_IRQ_MAX);

		v = cfg_get(d, "cfg_list", &has);
		if (has) {
			if (!cfg_get_array(c, v, cfg_sub(q, p, "cfg_list"), &cfgs))
				return false;
			if (cfgs > SHYPER_CFG_LIST_MAX)
				return cfg_fail(c, q, "%zu entries, at most %d", cfgs,
					    SHYPER_CFG_LIST_MAX);
			for (size_t j = 0; j < cfgs; j++)
				if (!cfg_get_u64(c, json_object_array_get_idx(v, j), cfg_idx(r, q, j),
					     &e->cfg_list[j]))
					return false;
		}
		e->cfg_num = (uint32_t)cfgs;
		v = cfg_get(d, "cfg_num", &has);
		if (has) {
			uint32_t want = 0;

			if (!cfg_get_u32(c, v, cfg_sub(q, p, "cfg_num"), &want))
				return false;
			if (want != cfgs)
				return cfg_fail(c, p, "cfg_num %u but cfg_list has %zu %s", want, cfgs,
					    cfg_plural(cfgs, "entry", "entries"));
		}

		if (!cfg_get_str(c, cfg_get(d, "type", &has), cfg_sub(q, p, "type"), &type))
			return false;
		if (!cfg_emu_type(type, &e->type))
			return cfg_fail(c, q, "unknown device type \"%.48s\"", type);
		cfg->nr_emu++;
	}
	return true;
}

/* passthrough_device.streams_ids: the SMMU stream ids of the VM's DMA-capable
 * devices (a PCIe device's requester id, bus << 8 | device << 3 | function). */
static bool parse_streams(struct ctx *c, json_object *obj)
{
	static const char spath[] = "passthrough_device.streams_ids";
	struct cli_vm_config *cfg = c->cfg;
	bool has;
	json_object *v = cfg_get(obj, "streams_ids", &has);
	size_t n;

	if (!has)
		return true;
	if (!cfg_get_array(c, v, spath, &n))
		return false;
	if (n > CLI_STREAMS_MAX)
		return cfg_fail(c, spath, "%zu entries, at most %d", n, CLI_STREAMS_MAX);
	cfg->streams = calloc(n ? n : 1, sizeof(*cfg->streams));
	if (!cfg->streams)
		return cfg_fail(c, spath, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char q[PATH_LEN];
		uint32_t sid;

		if (!cfg_get_u32(c, json_object_array_get_idx(v, i), cfg_idx(q, spath, i), &sid))
			return false;
		for (size_t j = 0; j < i; j++)
			if (cfg->streams[j] == sid)
				return cfg_fail(c, q, "stream 0x%x is listed twice", sid);
		cfg->streams[cfg->nr_streams++] = sid;
	}
	return true;
}

bool cfg_parse_pt(struct ctx *c, json_object *obj)
{
	static const struct field fields[] = {
		{ "name", REQ },     { "base_pa", REQ },  { "base_ipa", REQ },
		{ "length", REQ },   { "irq_num", 0 },	  { "irq_list", 0 },
		{ "smmu_id", UNSUP }, { NULL, 0 },
	};
	static const struct field section[] = {
		{ "passthrough_device_list", REQ }, { "streams_ids", 0 }, { NULL, 0 },
	};
	static const char lpath[] = "passthrough_device.passthrough_device_list";
	struct cli_vm_config *cfg = c->cfg;
	json_object *list;
	size_t n;
	bool has_list;

	if (!cfg_want_type(c, obj, "passthrough_device", json_type_object, "an object") ||
	    !cfg_check_keys(c, obj, "passthrough_device", section) ||
	    !parse_streams(c, obj))
		return false;
	list = cfg_get(obj, "passthrough_device_list", &has_list);
	if (!cfg_get_array(c, list, lpath, &n))
		return false;
	cfg->pt = calloc(n ? n : 1, sizeof(*cfg->pt));
	if (!cfg->pt)
		return cfg_fail(c, lpath, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		struct cli_pt_dev *t = &cfg->pt[i];
		char p[PATH_LEN], q[PATH_LEN];
		bool has;

		cfg_idx(p, lpath, i);
		cfg->nr_pt++; /* so that cli_config_free() frees its irqs */
		if (!cfg_want_type(c, d, p, json_type_object, "an object") ||
		    !cfg_check_keys(c, d, p, fields) ||
		    !cfg_get_name(c, cfg_get(d, "name", &has), cfg_sub(q, p, "name"), t->name) ||
		    !cfg_get_u64(c, cfg_get(d, "base_pa", &has), cfg_sub(q, p, "base_pa"), &t->base_pa) ||
		    !cfg_check_aligned(c, q, t->base_pa) ||
		    !cfg_get_u64(c, cfg_get(d, "base_ipa", &has), cfg_sub(q, p, "base_ipa"), &t->base_ipa) ||
		    !cfg_check_aligned(c, q, t->base_ipa) ||
		    !cfg_get_u64(c, cfg_get(d, "length", &has), cfg_sub(q, p, "length"), &t->length))
			return false;
		if (!t->length)
			return cfg_fail(c, q, "must not be zero");
		if (!cfg_check_aligned(c, q, t->length) ||
		    !cfg_range_end(c, p, "base_pa + length", t->base_pa, t->length) ||
		    !cfg_range_end(c, p, "base_ipa + length", t->base_ipa, t->length) ||
		    !cfg_get_irqs(c, d, p, 0, &t->irq_num, &t->irqs, NULL))
			return false;
	}
	return true;
}

bool cfg_parse_dtb(struct ctx *c, json_object *obj)
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
		return cfg_fail(c, lpath, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		struct shyper_dtb_dev *t = &cfg->dtb[i];
		char p[PATH_LEN], q[PATH_LEN];
		const char *type;
		bool has;

		cfg_idx(p, lpath, i);
		if (!cfg_want_type(c, d, p, json_type_object, "an object") ||
		    !cfg_check_keys(c, d, p, fields) ||
		    !cfg_get_name(c, cfg_get(d, "name", &has), cfg_sub(q, p, "name"), t->name) ||
		    !cfg_get_str(c, cfg_get(d, "type", &has), cfg_sub(q, p, "type"), &type))
			return false;
		if (!cfg_dtb_type(type, &t->type))
			return cfg_fail(c, q, "unknown device type \"%.48s\"", type);
		if (!cfg_get_irqs(c, d, p, SHYPER_CFG_LIST_MAX, &t->irq_num, NULL, t->irqs) ||
		    !cfg_get_u64(c, cfg_get(d, "addr_region_ipa", &has), cfg_sub(q, p, "addr_region_ipa"),
			     &t->addr_ipa) ||
		    !cfg_get_u64(c, cfg_get(d, "addr_region_length", &has),
			     cfg_sub(q, p, "addr_region_length"), &t->length))
			return false;
		if (!t->length)
			return cfg_fail(c, q, "must not be zero");
		if (!cfg_range_end(c, p, "addr_region_ipa + addr_region_length", t->addr_ipa,
			       t->length))
			return false;
		cfg->nr_dtb++;
	}
	return true;
}
