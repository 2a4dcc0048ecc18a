/*
 * The rules of the migration stream, applied one item at a time so that
 * the whole-buffer reader and the incremental reader judge a stream the
 * same way. Ordering rules:
 *   - the first section is VM_CONFIG, and there is only one;
 *   - VCPU and VGIC_CPU instances are vCPU numbers below VM_CONFIG's
 *     nr_vcpus, VDEV instances device numbers; within each of these types
 *     instances strictly increase, so none repeats;
 *   - VGIC_DIST appears at most once; sections without instances have 0;
 *   - IMAGE instances name a boot image VM_CONFIG gives a size; its chunks
 *     follow each other in order, within that size, and if any IMAGE
 *     section came, END finds every sized image whole;
 *   - END comes last, after a VCPU section for every vCPU; nothing follows.
 */
#include <stdarg.h>
#include <lib/crc32.h>
#include <lib/fmt.h>
#include <lib/mstream.h>
#include <lib/mstream_check.h>
#include <lib/string.h>
#include <shyper/errno.h>

/* The header's CRC covers every byte before its crc field. */
#define HDR_CRC_SPAN	offsetof(struct shyper_mig_header, crc)
/* A section's CRC covers its header up to the crc field, then the payload. */
#define SEC_CRC_SPAN	offsetof(struct shyper_mig_section, crc)

/* The smallest stream: header, the VM_CONFIG and END sections. */
#define MIN_STREAM_LEN	(sizeof(struct shyper_mig_header) + \
			 2 * sizeof(struct shyper_mig_section) + \
			 sizeof(struct shyper_mig_vm_config) + \
			 sizeof(struct shyper_mig_end))
#define MIN_SECTIONS	2

#define WHY_MAX		(MSTREAM_REASON_MAX - 40)

struct section_rule {
	const char *name;
	uint16_t version;
	bool has_instance;   /* the instance field numbers something */
	bool increasing;     /* instances strictly increase within the type */
	bool per_vcpu;	     /* the instance is a vCPU number */
	bool once;	     /* at most one in a stream */
};

static const struct section_rule rules[SHYPER_MIG_SEC_NR] = {
	[SHYPER_MIG_SEC_VM_CONFIG] = { "VM_CONFIG", SHYPER_MIG_VM_CONFIG_VERSION,
				       false, false, false, true },
	[SHYPER_MIG_SEC_MEM] = { "MEM", SHYPER_MIG_MEM_VERSION,
				 false, false, false, false },
	[SHYPER_MIG_SEC_VCPU] = { "VCPU", SHYPER_MIG_VCPU_VERSION,
				  true, true, true, false },
	[SHYPER_MIG_SEC_VGIC_DIST] = { "VGIC_DIST", SHYPER_MIG_VGIC_DIST_VERSION,
				       false, false, false, true },
	[SHYPER_MIG_SEC_VGIC_CPU] = { "VGIC_CPU", SHYPER_MIG_VGIC_CPU_VERSION,
				      true, true, true, false },
	[SHYPER_MIG_SEC_VDEV] = { "VDEV", SHYPER_MIG_VDEV_VERSION,
				  true, true, false, false },
	[SHYPER_MIG_SEC_CONSOLE_HISTORY] = { "CONSOLE_HISTORY",
					     SHYPER_MIG_CONSOLE_HISTORY_VERSION,
					     false, false, false, false },
	[SHYPER_MIG_SEC_DISK_BLOCKS] = { "DISK_BLOCKS", SHYPER_MIG_DISK_BLOCKS_VERSION,
					 true, false, false, false },
	[SHYPER_MIG_SEC_END] = { "END", SHYPER_MIG_END_VERSION,
				 false, false, false, true },
	[SHYPER_MIG_SEC_IMAGE] = { "IMAGE", SHYPER_MIG_IMAGE_VERSION,
				   true, false, false, false },
	[SHYPER_MIG_SEC_VCPU_PTIMER] = { "VCPU_PTIMER", SHYPER_MIG_VCPU_PTIMER_VERSION,
					 true, true, true, false },
};

static const char *const image_names[3] = { "kernel", "initrd", "DTB" };

const char *mstream_section_name(uint32_t type)
{
	if (type >= SHYPER_MIG_SEC_NR)
		return NULL;
	return rules[type].name;
}

void mstream_check_init(struct mstream_check *c)
{
	memset(c, 0, sizeof(*c));
}

/* Where the error is: "header", "section 5", "section 5 (MEM)", "... (VCPU #1)". */
static int where(const struct mstream_check *c, char *buf, size_t size)
{
	const char *name;

	if (!c->have_header)
		return fmt_snprintf(buf, size, "header");
	if (!c->have_cur)
		return fmt_snprintf(buf, size, "section %u", c->index);
	name = mstream_section_name(c->cur.type);
	if (!name)
		return fmt_snprintf(buf, size, "section %u (type %u)", c->index,
				    c->cur.type);
	if (rules[c->cur.type].has_instance)
		return fmt_snprintf(buf, size, "section %u (%s #%u)", c->index,
				    name, c->cur.instance);
	return fmt_snprintf(buf, size, "section %u (%s)", c->index, name);
}

int mstream_check_fail(struct mstream_check *c, int code, const char *fmt, ...)
{
	struct mstream_error *e = &c->err;
	va_list ap;
	int n;

	if (e->code)
		return e->code; /* the first error is the one to report */
	e->code = code;
	e->section = c->have_header ? (int32_t)c->index : MSTREAM_AT_HEADER;
	e->type = c->have_cur ? c->cur.type : 0;
	e->instance = c->have_cur ? c->cur.instance : 0;
	n = where(c, e->reason, sizeof(e->reason));
	if (n >= 0 && (size_t)n + 2 < sizeof(e->reason)) {
		e->reason[n++] = ':';
		e->reason[n++] = ' ';
		va_start(ap, fmt);
		fmt_vsnprintf(e->reason + n, sizeof(e->reason) - n, fmt, ap);
		va_end(ap);
	}
	return code;
}

int mstream_check_truncated(struct mstream_check *c, uint64_t have, uint64_t need)
{
	if (!c->have_header)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "stream truncated: %llu of %llu header bytes",
					  (unsigned long long)have,
					  (unsigned long long)need);
	if (!c->have_cur && have == 0)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "stream truncated before END");
	if (!c->have_cur)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "stream truncated: %llu of %llu section header bytes",
					  (unsigned long long)have,
					  (unsigned long long)need);
	return mstream_check_fail(c, -SHYPER_EPROTO,
				  "stream truncated: %llu of %llu payload bytes",
				  (unsigned long long)have, (unsigned long long)need);
}

static bool streamed(const struct mstream_check *c)
{
	return c->hdr.flags & SHYPER_MIG_F_STREAMED;
}

static int check_header_counts(struct mstream_check *c)
{
	const struct shyper_mig_header *h = &c->hdr;

	if (streamed(c)) {
		if (h->nr_sections || h->total_length)
			return mstream_check_fail(c, -SHYPER_EPROTO,
						  "streamed, yet declares %u sections of %llu bytes",
						  h->nr_sections,
						  (unsigned long long)h->total_length);
		return 0;
	}
	if (h->nr_sections < MIN_SECTIONS)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "%u sections, a stream has at least %u",
					  h->nr_sections, MIN_SECTIONS);
	if (h->total_length < MIN_STREAM_LEN)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "total length %llu, a stream has at least %zu bytes",
					  (unsigned long long)h->total_length,
					  MIN_STREAM_LEN);
	return 0;
}

int mstream_check_header(struct mstream_check *c, const void *bytes,
			 uint64_t given)
{
	struct shyper_mig_header *h = &c->hdr;
	uint32_t crc;

	if (c->err.code)
		return c->err.code;
	memcpy(h, bytes, sizeof(*h));
	/* Identity first: a file that is no stream should say so, not "bad CRC". */
	if (memcmp(h->magic, SHYPER_MIG_MAGIC, SHYPER_MIG_MAGIC_LEN))
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "bad magic: not a migration stream");
	crc = crc32(h, HDR_CRC_SPAN);
	if (crc != h->crc)
		return mstream_check_fail(c, -SHYPER_EBADMSG,
					  "CRC mismatch (stored 0x%08x, computed 0x%08x)",
					  h->crc, crc);
	if (h->version != SHYPER_MIG_FORMAT_VERSION)
		return mstream_check_fail(c, -SHYPER_ENOTSUP,
					  "unknown format version %u (this reader knows %u)",
					  h->version, SHYPER_MIG_FORMAT_VERSION);
	if (h->header_size != sizeof(*h))
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "header size %u, version %u has %zu",
					  h->header_size, h->version, sizeof(*h));
	if (h->arch != SHYPER_MIG_ARCH_AARCH64)
		return mstream_check_fail(c, -SHYPER_ENOTSUP,
					  "unknown architecture %u", h->arch);
	if (h->gic_version != SHYPER_MIG_GIC_V2 && h->gic_version != SHYPER_MIG_GIC_V3)
		return mstream_check_fail(c, -SHYPER_ENOTSUP, "unknown GIC version %u",
					  h->gic_version);
	if (h->flags & ~SHYPER_MIG_F_KNOWN)
		return mstream_check_fail(c, -SHYPER_ENOTSUP, "unknown flags 0x%x",
					  h->flags & ~SHYPER_MIG_F_KNOWN);
	if (!memchr(h->board, '\0', sizeof(h->board)) || h->reserved)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "board name not terminated or reserved field not 0");
	if (check_header_counts(c))
		return c->err.code;
	/* A shorter buffer is found truncated in the section it cuts. */
	if (!streamed(c) && given != UINT64_MAX && given > h->total_length)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "%llu bytes given, the stream declares %llu",
					  (unsigned long long)given,
					  (unsigned long long)h->total_length);
	c->have_header = true;
	c->pos = sizeof(*h);
	return 0;
}

static int check_instance(struct mstream_check *c, const struct section_rule *r)
{
	const struct shyper_mig_section *s = &c->cur;

	if (!r->has_instance && s->instance)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "instance %u, this type has none", s->instance);
	if (r->per_vcpu && s->instance >= c->nr_vcpus)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "vCPU %u, the VM has %u", s->instance,
					  c->nr_vcpus);
	if (r->increasing && c->count[s->type] &&
	    s->instance <= c->last_instance[s->type])
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "instance %u after %u: instances must increase",
					  s->instance, c->last_instance[s->type]);
	if (r->once && c->count[s->type])
		return mstream_check_fail(c, -SHYPER_EPROTO, "a second %s section",
					  r->name);
	if (s->type == SHYPER_MIG_SEC_IMAGE &&
	    (s->instance > SHYPER_IMAGE_DTB || !c->image_size[s->instance]))
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "image %u: VM_CONFIG has no such image", s->instance);
	return 0;
}

/* Boot images come whole or not at all: a VM booted from half a kernel
 * would fail long after the import said it was fine. */
static int check_images_whole(struct mstream_check *c)
{
	bool any = false;

	for (unsigned k = 0; k < 3; k++)
		any |= c->image_got[k] != 0;
	for (unsigned k = 0; any && k < 3; k++)
		if (c->image_got[k] != c->image_size[k])
			return mstream_check_fail(c, -SHYPER_EPROTO,
						  "END after %llu of the %llu bytes of the %s image",
						  (unsigned long long)c->image_got[k],
						  (unsigned long long)c->image_size[k],
						  image_names[k]);
	return 0;
}

/* Where the section sits: first, last, and (unless streamed) within the
 * header's declared section count and length. */
static int check_place(struct mstream_check *c)
{
	const struct shyper_mig_section *s = &c->cur;
	const struct shyper_mig_header *h = &c->hdr;
	uint64_t room;

	if (c->index == 0 && s->type != SHYPER_MIG_SEC_VM_CONFIG)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "the first section must be VM_CONFIG");
	if (s->type == SHYPER_MIG_SEC_END &&
	    c->count[SHYPER_MIG_SEC_VCPU] != c->nr_vcpus)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "END after %u of %u VCPU sections",
					  c->count[SHYPER_MIG_SEC_VCPU], c->nr_vcpus);
	if (s->type == SHYPER_MIG_SEC_END && check_images_whole(c))
		return c->err.code;
	if (streamed(c))
		return 0;
	if (c->index >= h->nr_sections - 1 && s->type != SHYPER_MIG_SEC_END)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "the header declares %u sections, the last must be END",
					  h->nr_sections);
	if (s->type == SHYPER_MIG_SEC_END && c->index != h->nr_sections - 1)
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "END, but the header declares %u sections",
					  h->nr_sections);
	/* pos <= total_length: every accepted section fit. Not at the end
	 * yet either: the previous section was not the last. */
	room = h->total_length - c->pos;
	if (room < sizeof(*s) || s->length > room - sizeof(*s))
		return mstream_check_fail(c, -SHYPER_EPROTO,
					  "%llu-byte payload runs past the declared %llu-byte stream",
					  (unsigned long long)s->length,
					  (unsigned long long)h->total_length);
	return 0;
}

int mstream_check_section_head(struct mstream_check *c, const void *bytes)
{
	struct shyper_mig_section *s = &c->cur;
	const struct section_rule *r;

	if (c->err.code)
		return c->err.code;
	if (!c->have_header)
		return mstream_check_fail(c, -SHYPER_EINVAL, "no header yet");
	if (c->ended)
		return mstream_check_fail(c, -SHYPER_EPROTO, "data after END");
	memcpy(s, bytes, sizeof(*s));
	c->have_cur = true;
	if (s->type == 0 || s->type >= SHYPER_MIG_SEC_NR)
		return mstream_check_fail(c, -SHYPER_ENOTSUP, "unknown section type");
	r = &rules[s->type];
	if (s->version != r->version)
		return mstream_check_fail(c, -SHYPER_ENOTSUP,
					  "unknown section version %u (this reader knows %u)",
					  s->version, r->version);
	if (s->reserved)
		return mstream_check_fail(c, -SHYPER_EPROTO, "reserved field not 0");
	if (check_place(c) || check_instance(c, r))
		return c->err.code;
	return 0;
}

/* END's totals against what was read, and against the header's. */
static int check_end(const struct mstream_check *c, const struct shyper_mig_end *end,
		     size_t len, char *why, size_t why_size)
{
	/* The section's own bytes count too: the stream ends here. */
	uint64_t total = c->pos + sizeof(c->cur) + len;

	if (end->total_length != total || end->nr_sections != c->index + 1) {
		fmt_snprintf(why, why_size,
			     "END declares %u sections of %llu bytes, the stream has %u of %llu",
			     end->nr_sections, (unsigned long long)end->total_length,
			     c->index + 1, (unsigned long long)total);
		return -SHYPER_EPROTO;
	}
	if (!streamed(c) && total != c->hdr.total_length) {
		fmt_snprintf(why, why_size,
			     "the stream ends at %llu bytes, the header declares %llu",
			     (unsigned long long)total,
			     (unsigned long long)c->hdr.total_length);
		return -SHYPER_EPROTO;
	}
	return 0;
}

/* The next chunk of the image the instance names, and no more than it has. */
static int check_image_chunk(struct mstream_check *c, const uint8_t *p, size_t len,
			     char *why, size_t why_size)
{
	unsigned k = c->cur.instance;
	struct mstream_image_view v;
	int ret = mstream_parse_image(p, len, &v, why, why_size);

	if (ret)
		return ret;
	if (v.offset != c->image_got[k]) {
		fmt_snprintf(why, why_size, "%s image chunk at %llu, expected %llu",
			     image_names[k], (unsigned long long)v.offset,
			     (unsigned long long)c->image_got[k]);
		return -SHYPER_EPROTO;
	}
	if (v.len > c->image_size[k] - v.offset) {
		fmt_snprintf(why, why_size, "%s image chunk runs to %llu, the image has %llu bytes",
			     image_names[k], (unsigned long long)(v.offset + v.len),
			     (unsigned long long)c->image_size[k]);
		return -SHYPER_EPROTO;
	}
	c->image_got[k] += v.len;
	return 0;
}

/* The typed contents, through the public parsers; the views are dropped. */
static int check_payload(struct mstream_check *c, const uint8_t *p, size_t len,
			 char *why, size_t why_size)
{
	union mstream_any_view v;
	int ret;

	switch (c->cur.type) {
	case SHYPER_MIG_SEC_VM_CONFIG:
		ret = mstream_parse_vm_config(p, len, &v.cfg, why, why_size);
		if (!ret) {
			c->nr_vcpus = v.cfg.cfg.nr_vcpus;
			c->image_size[SHYPER_IMAGE_KERNEL] = v.cfg.cfg.image.kernel_size;
			c->image_size[SHYPER_IMAGE_INITRD] = v.cfg.cfg.image.ramdisk_size;
			c->image_size[SHYPER_IMAGE_DTB] = v.cfg.cfg.image.dtb_size;
		}
		return ret;
	case SHYPER_MIG_SEC_MEM:
		return mstream_parse_mem(p, len, &v.mem, why, why_size);
	case SHYPER_MIG_SEC_VCPU:
		return mstream_parse_vcpu(p, len, &v.vcpu, why, why_size);
	case SHYPER_MIG_SEC_VCPU_PTIMER:
		return mstream_parse_ptimer(p, len, &v.ptimer, why, why_size);
	case SHYPER_MIG_SEC_VGIC_DIST:
		return mstream_parse_vgic_dist(p, len, &v.dist, why, why_size);
	case SHYPER_MIG_SEC_VGIC_CPU:
		return mstream_parse_vgic_cpu(p, len, &v.cpu, why, why_size);
	case SHYPER_MIG_SEC_VDEV:
		return mstream_parse_vdev(p, len, &v.vdev, why, why_size);
	case SHYPER_MIG_SEC_DISK_BLOCKS:
		return mstream_parse_disk_blocks(p, len, &v.disk, why, why_size);
	case SHYPER_MIG_SEC_IMAGE:
		return check_image_chunk(c, p, len, why, why_size);
	case SHYPER_MIG_SEC_END:
		ret = mstream_parse_end(p, len, &v.end, why, why_size);
		if (ret)
			return ret;
		return check_end(c, &v.end, len, why, why_size);
	default:
		return 0; /* CONSOLE_HISTORY: any bytes */
	}
}

int mstream_check_section_body(struct mstream_check *c, const uint8_t *payload,
			       struct mstream_section *sec)
{
	struct shyper_mig_section *s = &c->cur;
	char why[WHY_MAX];
	uint32_t crc;

	if (c->err.code)
		return c->err.code;
	if (!c->have_cur)
		return mstream_check_fail(c, -SHYPER_EINVAL, "no section header yet");
	crc = crc32_update(crc32(s, SEC_CRC_SPAN), payload, s->length);
	if (crc != s->crc)
		return mstream_check_fail(c, -SHYPER_EBADMSG,
					  "CRC mismatch (stored 0x%08x, computed 0x%08x)",
					  s->crc, crc);
	why[0] = '\0';
	if (check_payload(c, payload, s->length, why, sizeof(why)))
		return mstream_check_fail(c, -SHYPER_EPROTO, "%s", why);
	sec->index = c->index;
	sec->type = s->type;
	sec->version = s->version;
	sec->instance = s->instance;
	sec->length = s->length;
	sec->payload = payload;
	c->count[s->type]++;
	c->last_instance[s->type] = s->instance;
	c->pos += sizeof(*s) + s->length;
	c->index++;
	c->have_cur = false;
	if (s->type == SHYPER_MIG_SEC_END)
		c->ended = true;
	return 0;
}
