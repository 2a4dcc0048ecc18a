#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <lib/crc32.h>
#include <shyper/migrate.h>

#include "stream_out.h"

#define PAGE SHYPER_MIG_PAGE_SIZE

void sout_put(struct stream_out *o, const void *data, size_t len)
{
	if (!o->err && len && o->write(o->ctx, data, len))
		o->err = errno ? errno : EIO;
	o->pos += len;
}

void sout_section(struct stream_out *o, uint16_t type, uint16_t version, uint32_t instance,
		  const void *a, size_t alen, const void *b, size_t blen)
{
	struct shyper_mig_section s = { .type = type, .version = version, .instance = instance,
					.length = alen + blen };

	s.crc = crc32_update(crc32_update(crc32(&s, offsetof(struct shyper_mig_section, crc)),
					  a, alen), b, blen);
	sout_put(o, &s, sizeof(s));
	sout_put(o, a, alen);
	sout_put(o, b, blen);
	o->nr_sections++;
}

void sout_copy(struct stream_out *o, const struct mstream_section *s)
{
	sout_section(o, s->type, s->version, s->instance, s->payload, s->length, NULL, 0);
}

static bool zero_page(const uint8_t *p)
{
	static const uint8_t zero[PAGE];

	return !memcmp(p, zero, PAGE);
}

uint64_t sout_pages(struct stream_out *o, uint64_t ipa, const uint8_t *buf, size_t len,
		    bool skip_zero)
{
	uint64_t put = 0;

	for (size_t p = 0; p < len;) {
		size_t end;

		if (skip_zero && zero_page(buf + p)) {
			p += PAGE;
			continue;
		}
		for (end = p + PAGE; end < len && !(skip_zero && zero_page(buf + end)); end += PAGE)
			;
		struct shyper_mig_mem m = { .ipa = ipa + p, .nr_pages = (end - p) / PAGE };

		sout_section(o, SHYPER_MIG_SEC_MEM, SHYPER_MIG_MEM_VERSION, 0, &m, sizeof(m),
			     buf + p, end - p);
		put += m.nr_pages;
		p = end;
	}
	return put;
}

void sout_end(struct stream_out *o)
{
	struct shyper_mig_end end = {
		.total_length = o->pos + sizeof(struct shyper_mig_section) + sizeof(end),
		.nr_sections = o->nr_sections + 1,
	};

	sout_section(o, SHYPER_MIG_SEC_END, SHYPER_MIG_END_VERSION, 0, &end, sizeof(end), NULL, 0);
}
