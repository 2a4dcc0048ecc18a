/*
 * The "ivc" section of a VM configuration:
 *   "ivc": { "channel": [ { "name": "rt-link", "peer": 0,
 *            "ipa_start": "0x70000000", "length": "0x10000", "irq_id": 60 } ] }
 * Each entry becomes one SHYPER_IVC_ADD_CHANNEL call (docs/CONFIG.md).
 * Errors name the JSON path, like the rest of the parser.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config_priv.h"
#include "util.h"

#define IVC_IRQ_FIRST 32U

static bool __attribute__((format(printf, 4, 5)))
ivc_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", path);

	if (n < 0 || (size_t)n >= errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return false;
}

static bool ivc_u64(json_object *v, const char *path, uint64_t *out, char *err,
		    size_t errlen)
{
	const char *s;

	switch (json_object_get_type(v)) {
	case json_type_int:
		if (json_object_get_int64(v) < 0)
			return ivc_fail(err, errlen, path, "must not be negative");
		*out = json_object_get_uint64(v);
		return true;
	case json_type_string:
		s = json_object_get_string(v);
		if (strlen(s) == (size_t)json_object_get_string_len(v) &&
		    cli_parse_u64(s, out) == CLI_NUM_OK)
			return true;
		return ivc_fail(err, errlen, path,
				"\"%.40s\" is not a number (use decimal, 0x hex or 0b binary)", s);
	default:
		return ivc_fail(err, errlen, path, "expected a number");
	}
}

static bool ivc_name(json_object *v, const char *path, char out[SHYPER_NAME_MAX],
		     char *err, size_t errlen)
{
	const char *s;
	size_t n;

	if (json_object_get_type(v) != json_type_string)
		return ivc_fail(err, errlen, path, "expected a string");
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (!n || n > SHYPER_NAME_MAX - 1)
		return ivc_fail(err, errlen, path, "must be 1 to %d characters",
				SHYPER_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
			    s[i]) || !s[i])
			return ivc_fail(err, errlen, path,
					"only letters, digits, '-', '_' and '.' are allowed");
	memcpy(out, s, n + 1);
	return true;
}

static bool only_keys(json_object *obj, const char *path, const char *const *keys,
		      char *err, size_t errlen)
{
	char p[128];

	json_object_object_foreach(obj, key, val) {
		size_t i;

		(void)val;
		for (i = 0; keys[i] && strcmp(keys[i], key); i++)
			;
		if (!keys[i]) {
			snprintf(p, sizeof(p), "%s.%.40s", path, key);
			return ivc_fail(err, errlen, p, "unknown field");
		}
	}
	return true;
}

static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* Not on memory, devices or another channel of this configuration. */
static bool ivc_ipa_free(const struct cli_vm_config *cfg, size_t n, const char *path,
			 char *err, size_t errlen)
{
	const struct shyper_ivc_channel_desc *d = &cfg->ivc[n];

	for (size_t i = 0; i < cfg->nr_mem; i++)
		if (overlaps(d->ipa, d->length, cfg->mem[i].ipa, cfg->mem[i].length))
			return ivc_fail(err, errlen, path, "overlaps memory.region[%zu]", i);
	for (size_t i = 0; i < cfg->nr_emu; i++)
		if (overlaps(d->ipa, d->length, cfg->emu[i].base_ipa, cfg->emu[i].length))
			return ivc_fail(err, errlen, path,
					"overlaps emulated_device.emulated_device_list[%zu]", i);
	for (size_t i = 0; i < cfg->nr_pt; i++)
		if (overlaps(d->ipa, d->length, cfg->pt[i].base_ipa, cfg->pt[i].length))
			return ivc_fail(err, errlen, path,
					"overlaps passthrough_device.passthrough_device_list[%zu]",
					i);
	for (size_t i = 0; i < n; i++)
		if (overlaps(d->ipa, d->length, cfg->ivc[i].ipa, cfg->ivc[i].length))
			return ivc_fail(err, errlen, path, "overlaps ivc.channel[%zu]", i);
	return true;
}

static bool ivc_entry(struct cli_vm_config *cfg, json_object *e, size_t n, char *err,
		      size_t errlen)
{
	static const char *const keys[] = { "name", "peer", "ipa_start", "length", "irq_id",
					    NULL };
	struct shyper_ivc_channel_desc *d = &cfg->ivc[n];
	char path[64], p[96];
	json_object *v;
	uint64_t x;

	snprintf(path, sizeof(path), "ivc.channel[%zu]", n);
	if (json_object_get_type(e) != json_type_object)
		return ivc_fail(err, errlen, path, "expected an object");
	if (!only_keys(e, path, keys, err, errlen))
		return false;
	for (size_t k = 0; keys[k]; k++)
		if (!json_object_object_get_ex(e, keys[k], NULL)) {
			snprintf(p, sizeof(p), "%s.%s", path, keys[k]);
			return ivc_fail(err, errlen, p, "required field is missing");
		}
	memset(d, 0, sizeof(*d));
	snprintf(p, sizeof(p), "%s.name", path);
	json_object_object_get_ex(e, "name", &v);
	if (!ivc_name(v, p, d->name, err, errlen))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cfg->ivc[i].name, d->name))
			return ivc_fail(err, errlen, p, "\"%s\" is also ivc.channel[%zu]", d->name,
					i);
	snprintf(p, sizeof(p), "%s.peer", path);
	json_object_object_get_ex(e, "peer", &v);
	if (!ivc_u64(v, p, &x, err, errlen))
		return false;
	if (x > 255)
		return ivc_fail(err, errlen, p, "%llu is not a VM id", (unsigned long long)x);
	d->peer = (uint32_t)x;
	for (size_t i = 0; i < n; i++)
		if (cfg->ivc[i].peer == d->peer)
			return ivc_fail(err, errlen, p, "VM %u already has ivc.channel[%zu]",
					d->peer, i);
	snprintf(p, sizeof(p), "%s.ipa_start", path);
	json_object_object_get_ex(e, "ipa_start", &v);
	if (!ivc_u64(v, p, &d->ipa, err, errlen))
		return false;
	if (d->ipa % CLI_PAGE_SIZE)
		return ivc_fail(err, errlen, p, "must be a multiple of %u", CLI_PAGE_SIZE);
	snprintf(p, sizeof(p), "%s.length", path);
	json_object_object_get_ex(e, "length", &v);
	if (!ivc_u64(v, p, &d->length, err, errlen))
		return false;
	if (!d->length || d->length % CLI_PAGE_SIZE)
		return ivc_fail(err, errlen, p, "must be a non-zero multiple of %u",
				CLI_PAGE_SIZE);
	if (d->length > SHYPER_IVC_SHM_MAX)
		return ivc_fail(err, errlen, p, "more than %lu MiB", SHYPER_IVC_SHM_MAX >> 20);
	if (d->ipa + d->length < d->ipa)
		return ivc_fail(err, errlen, p, "the region wraps around");
	snprintf(p, sizeof(p), "%s.irq_id", path);
	json_object_object_get_ex(e, "irq_id", &v);
	if (!ivc_u64(v, p, &x, err, errlen))
		return false;
	if (x < IVC_IRQ_FIRST || x > CLI_IRQ_MAX)
		return ivc_fail(err, errlen, p, "%llu is not a shared peripheral interrupt "
				"(%u-%u)", (unsigned long long)x, IVC_IRQ_FIRST, CLI_IRQ_MAX);
	d->irq_id = (uint32_t)x;
	for (size_t i = 0; i < n; i++)
		if (cfg->ivc[i].irq_id == d->irq_id)
			return ivc_fail(err, errlen, p, "also the interrupt of ivc.channel[%zu]", i);
	for (size_t i = 0; i < cfg->nr_emu; i++)
		if (cfg->emu[i].type == SHYPER_EMU_CONSOLE && cfg->emu[i].irq_id == d->irq_id)
			return ivc_fail(err, errlen, p, "the console's interrupt");
	for (size_t i = 0; i < cfg->nr_pt; i++)
		for (uint32_t j = 0; j < cfg->pt[i].irq_num; j++)
			if (cfg->pt[i].irqs[j] == d->irq_id)
				return ivc_fail(err, errlen, p, "a passthrough interrupt");
	return ivc_ipa_free(cfg, n, path, err, errlen);
}

bool cli_config_parse_ivc(struct cli_vm_config *cfg, json_object *v, char *err, size_t errlen)
{
	static const char *const keys[] = { "channel", NULL };
	json_object *list;
	size_t n;

	if (json_object_get_type(v) != json_type_object)
		return ivc_fail(err, errlen, "ivc", "expected an object");
	if (!only_keys(v, "ivc", keys, err, errlen))
		return false;
	if (!json_object_object_get_ex(v, "channel", &list))
		return ivc_fail(err, errlen, "ivc.channel", "required field is missing");
	if (json_object_get_type(list) != json_type_array)
		return ivc_fail(err, errlen, "ivc.channel", "expected an array");
	n = json_object_array_length(list);
	if (n > SHYPER_IVC_CHANNELS_PER_VM)
		return ivc_fail(err, errlen, "ivc.channel", "at most %d channels",
				SHYPER_IVC_CHANNELS_PER_VM);
	cfg->ivc = calloc(n ? n : 1, sizeof(*cfg->ivc));
	if (!cfg->ivc)
		return ivc_fail(err, errlen, "ivc", "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!ivc_entry(cfg, json_object_array_get_idx(list, i), i, err, errlen))
			return false;
		cfg->nr_ivc = i + 1;
	}
	return true;
}
