/*
 * Typed payload parsers of the migration stream. Each one walks its payload
 * with a cursor that hands out fixed parts and arrays only after checking
 * they fit in what is left, then demands that nothing is left over: a
 * count that disagrees with the length is an error either way.
 */
#include <stdarg.h>
#include <lib/fmt.h>
#include <lib/mstream.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

struct cursor {
	const uint8_t *p;
	uint64_t left;
	char *why;
	size_t why_size;
};

static int bad(struct cursor *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct cursor *c, const char *fmt, ...)
{
	va_list ap;

	if (c->why && c->why_size) {
		va_start(ap, fmt);
		fmt_vsnprintf(c->why, c->why_size, fmt, ap);
		va_end(ap);
	}
	return -SHYPER_EPROTO;
}

static void cursor_init(struct cursor *c, const void *payload, size_t len,
			char *why, size_t why_size)
{
	c->p = payload;
	c->left = len;
	c->why = why;
	c->why_size = why_size;
}

/* Copy the fixed part @what of @size bytes that starts the payload. */
static int take_fixed(struct cursor *c, void *out, size_t size, const char *what)
{
	if (c->left < size)
		return bad(c, "%llu bytes cannot hold the %zu-byte %s",
			   (unsigned long long)c->left, size, what);
	memcpy(out, c->p, size);
	c->p += size;
	c->left -= size;
	return 0;
}

static int take_array(struct cursor *c, struct mstream_array *a, uint32_t count,
		      uint32_t elem_size, const char *what)
{
	/* count < 2^32 and elem_size < 2^32: the product fits in 64 bits. */
	uint64_t bytes = (uint64_t)count * elem_size;

	if (bytes > c->left)
		return bad(c, "%u %s need %llu bytes, %llu left in the payload",
			   count, what, (unsigned long long)bytes,
			   (unsigned long long)c->left);
	a->base = c->p;
	a->count = count;
	a->elem_size = elem_size;
	c->p += bytes;
	c->left -= bytes;
	return 0;
}

static int take_rest(struct cursor *c, const uint8_t **p, uint64_t *len)
{
	*p = c->p;
	*len = c->left;
	c->p += c->left;
	c->left = 0;
	return 0;
}

static int expect_end(struct cursor *c)
{
	if (c->left)
		return bad(c, "%llu bytes after the declared contents",
			   (unsigned long long)c->left);
	return 0;
}

static bool nul_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

int mstream_array_get(const struct mstream_array *a, uint32_t i, void *out,
		      size_t out_size)
{
	if (out_size != a->elem_size)
		return -SHYPER_EINVAL;
	if (i >= a->count)
		return -SHYPER_ERANGE;
	memcpy(out, a->base + (uint64_t)i * a->elem_size, out_size);
	return 0;
}

static int check_emu_devs(struct cursor *c, const struct mstream_array *a)
{
	struct shyper_emu_dev d;

	for (uint32_t i = 0; i < a->count; i++) {
		mstream_array_get(a, i, &d, sizeof(d));
		if (!nul_terminated(d.name, sizeof(d.name)))
			return bad(c, "emulated device %u: name not terminated", i);
		if (d.cfg_num > SHYPER_CFG_LIST_MAX)
			return bad(c, "emulated device %u: %u cfg_list entries, at most %u",
				   i, d.cfg_num, SHYPER_CFG_LIST_MAX);
	}
	return 0;
}

static int check_dtb_devs(struct cursor *c, const struct mstream_array *a)
{
	struct shyper_dtb_dev d;

	for (uint32_t i = 0; i < a->count; i++) {
		mstream_array_get(a, i, &d, sizeof(d));
		if (!nul_terminated(d.name, sizeof(d.name)))
			return bad(c, "device-tree device %u: name not terminated", i);
		if (d.irq_num > SHYPER_CFG_LIST_MAX)
			return bad(c, "device-tree device %u: %u interrupts, at most %u",
				   i, d.irq_num, SHYPER_CFG_LIST_MAX);
	}
	return 0;
}

int mstream_parse_vm_config(const void *payload, size_t len,
			    struct mstream_vm_config_view *v,
			    char *why, size_t why_size)
{
	struct shyper_mig_vm_config *cfg = &v->cfg;
	struct cursor c;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, cfg, sizeof(*cfg), "VM configuration");
	if (ret)
		return ret;
	if (!nul_terminated(cfg->desc.name, sizeof(cfg->desc.name)))
		return bad(&c, "VM name not terminated");
	if (!nul_terminated(cfg->desc.cmdline, sizeof(cfg->desc.cmdline)))
		return bad(&c, "command line not terminated");
	if (cfg->desc.type != SHYPER_VM_T_LINUX &&
	    cfg->desc.type != SHYPER_VM_T_BARE_METAL)
		return bad(&c, "unknown VM type %u", cfg->desc.type);
	if (cfg->desc.flags || cfg->reserved)
		return bad(&c, "flags or reserved field not 0");
	if (cfg->nr_vcpus == 0)
		return bad(&c, "no vCPUs");
	ret = take_array(&c, &v->mem_regions, cfg->nr_mem_regions,
			 sizeof(struct shyper_mig_mem_region), "memory regions");
	if (!ret)
		ret = take_array(&c, &v->emu_devs, cfg->nr_emu_devs,
				 sizeof(struct shyper_emu_dev), "emulated devices");
	if (!ret)
		ret = take_array(&c, &v->pt_regions, cfg->nr_pt_regions,
				 sizeof(struct shyper_mig_pt_region), "passthrough regions");
	if (!ret)
		ret = take_array(&c, &v->dtb_devs, cfg->nr_dtb_devs,
				 sizeof(struct shyper_dtb_dev), "device-tree devices");
	if (!ret)
		ret = take_array(&c, &v->pt_irqs, cfg->nr_pt_irqs,
				 sizeof(uint32_t), "passthrough interrupts");
	if (!ret)
		ret = expect_end(&c);
	if (!ret)
		ret = check_emu_devs(&c, &v->emu_devs);
	if (!ret)
		ret = check_dtb_devs(&c, &v->dtb_devs);
	return ret;
}

int mstream_parse_mem(const void *payload, size_t len, struct mstream_mem_view *v,
		      char *why, size_t why_size)
{
	struct shyper_mig_mem m;
	struct cursor c;
	uint64_t bytes;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, &m, sizeof(m), "memory run header");
	if (ret)
		return ret;
	if (m.ipa % SHYPER_MIG_PAGE_SIZE)
		return bad(&c, "IPA 0x%llx not page aligned", (unsigned long long)m.ipa);
	if (m.nr_pages == 0)
		return bad(&c, "no pages");
	if (m.nr_pages > c.left / SHYPER_MIG_PAGE_SIZE)
		return bad(&c, "%llu pages need more than the %llu bytes left",
			   (unsigned long long)m.nr_pages, (unsigned long long)c.left);
	bytes = m.nr_pages * SHYPER_MIG_PAGE_SIZE;
	if (bytes != c.left)
		return bad(&c, "%llu pages are %llu bytes, the payload has %llu",
			   (unsigned long long)m.nr_pages, (unsigned long long)bytes,
			   (unsigned long long)c.left);
	if (m.ipa + bytes - 1 < m.ipa)
		return bad(&c, "run at 0x%llx wraps the address space",
			   (unsigned long long)m.ipa);
	v->ipa = m.ipa;
	v->nr_pages = m.nr_pages;
	v->data = c.p;
	return 0;
}

int mstream_parse_vcpu(const void *payload, size_t len,
		       struct shyper_mig_vcpu *vcpu, char *why, size_t why_size)
{
	struct cursor c;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, vcpu, sizeof(*vcpu), "vCPU state");
	if (!ret)
		ret = expect_end(&c);
	if (ret)
		return ret;
	if (vcpu->psci_state >= SHYPER_MIG_PSCI_NR)
		return bad(&c, "unknown PSCI state %u", vcpu->psci_state);
	if (vcpu->reserved)
		return bad(&c, "reserved field not 0");
	return 0;
}

int mstream_parse_ptimer(const void *payload, size_t len,
			 struct shyper_mig_ptimer *pt, char *why, size_t why_size)
{
	struct cursor c;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, pt, sizeof(*pt), "physical timer state");
	if (!ret)
		ret = expect_end(&c);
	if (ret)
		return ret;
	if (pt->ctl & ~(uint64_t)SHYPER_MIG_PTIMER_CTL_KNOWN)
		return bad(&c, "unknown CNTP_CTL bits 0x%llx", (unsigned long long)pt->ctl);
	if (pt->reserved)
		return bad(&c, "reserved field not 0");
	return 0;
}

/* Interrupt entries: INTIDs first_intid + i. */
static int check_irqs(struct cursor *c, const struct mstream_array *a,
		      uint32_t first_intid)
{
	struct shyper_mig_irq irq;

	for (uint32_t i = 0; i < a->count; i++) {
		mstream_array_get(a, i, &irq, sizeof(irq));
		if (irq.flags & ~SHYPER_MIG_IRQ_KNOWN)
			return bad(c, "interrupt %u: unknown flags 0x%x",
				   first_intid + i, irq.flags & ~SHYPER_MIG_IRQ_KNOWN);
		if (irq.reserved || irq.reserved2)
			return bad(c, "interrupt %u: reserved field not 0",
				   first_intid + i);
	}
	return 0;
}

int mstream_parse_vgic_dist(const void *payload, size_t len,
			    struct mstream_vgic_dist_view *v,
			    char *why, size_t why_size)
{
	struct shyper_mig_vgic_dist *d = &v->dist;
	struct cursor c;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, d, sizeof(*d), "distributor header");
	if (ret)
		return ret;
	if (d->reserved)
		return bad(&c, "reserved field not 0");
	if (d->first_intid < SHYPER_MIG_GIC_FIRST_SPI ||
	    (uint64_t)d->first_intid + d->nr_irqs > SHYPER_MIG_GIC_SPI_END)
		return bad(&c, "INTIDs %u + %u outside the SPI range %u-%u",
			   d->first_intid, d->nr_irqs, SHYPER_MIG_GIC_FIRST_SPI,
			   SHYPER_MIG_GIC_SPI_END - 1);
	ret = take_array(&c, &v->irqs, d->nr_irqs, sizeof(struct shyper_mig_irq),
			 "interrupts");
	if (!ret)
		ret = expect_end(&c);
	if (!ret)
		ret = check_irqs(&c, &v->irqs, d->first_intid);
	return ret;
}

int mstream_parse_vgic_cpu(const void *payload, size_t len,
			   struct mstream_vgic_cpu_view *v,
			   char *why, size_t why_size)
{
	struct shyper_mig_vgic_cpu *cpu = &v->cpu;
	struct cursor c;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, cpu, sizeof(*cpu), "CPU interface header");
	if (ret)
		return ret;
	if (cpu->nr_private > SHYPER_MIG_GIC_NR_PRIVATE)
		return bad(&c, "%u private interrupts, a GIC has %u",
			   cpu->nr_private, SHYPER_MIG_GIC_NR_PRIVATE);
	if (cpu->nr_lrs > SHYPER_MIG_GIC_MAX_LRS)
		return bad(&c, "%u list registers, a GIC has at most %u",
			   cpu->nr_lrs, SHYPER_MIG_GIC_MAX_LRS);
	if (cpu->nr_aprs > SHYPER_MIG_GIC_MAX_APRS)
		return bad(&c, "%u active-priority registers, a GIC has at most %u",
			   cpu->nr_aprs, SHYPER_MIG_GIC_MAX_APRS);
	ret = take_array(&c, &v->irqs, cpu->nr_private,
			 sizeof(struct shyper_mig_irq), "private interrupts");
	if (!ret)
		ret = take_array(&c, &v->lrs, cpu->nr_lrs, sizeof(uint64_t),
				 "list registers");
	if (!ret)
		ret = take_array(&c, &v->aprs, cpu->nr_aprs, sizeof(uint32_t),
				 "active-priority registers");
	if (!ret)
		ret = expect_end(&c);
	if (!ret)
		ret = check_irqs(&c, &v->irqs, 0);
	return ret;
}

static int check_queues(struct cursor *c, const struct mstream_array *a)
{
	struct shyper_mig_vq q;

	for (uint32_t i = 0; i < a->count; i++) {
		mstream_array_get(a, i, &q, sizeof(q));
		if (q.size > SHYPER_MIG_VQ_MAX_SIZE)
			return bad(c, "queue %u: size %u, virtio allows at most %u",
				   i, q.size, SHYPER_MIG_VQ_MAX_SIZE);
		if (q.ready > 1 || q.reserved)
			return bad(c, "queue %u: ready %u or reserved %u not 0/1 and 0",
				   i, q.ready, q.reserved);
	}
	return 0;
}

int mstream_parse_vdev(const void *payload, size_t len, struct mstream_vdev_view *v,
		       char *why, size_t why_size)
{
	struct shyper_mig_vdev *dev = &v->dev;
	struct cursor c;
	uint64_t blob_len = 0;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, dev, sizeof(*dev), "device header");
	if (ret)
		return ret;
	if (dev->device_id == 0)
		return bad(&c, "device id 0 (no device)");
	ret = take_array(&c, &v->queues, dev->nr_queues, sizeof(struct shyper_mig_vq),
			 "queues");
	if (!ret)
		ret = take_fixed(&c, &blob_len, sizeof(blob_len), "device state length");
	if (ret)
		return ret;
	if (blob_len != c.left)
		return bad(&c, "device state of %llu bytes, the payload has %llu left",
			   (unsigned long long)blob_len, (unsigned long long)c.left);
	take_rest(&c, &v->blob, &v->blob_len);
	return check_queues(&c, &v->queues);
}

int mstream_parse_disk_blocks(const void *payload, size_t len,
			      struct mstream_disk_view *v, char *why, size_t why_size)
{
	struct shyper_mig_disk_blocks d = { 0 };
	struct cursor c;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, &d, sizeof(d), "disk blocks header");
	if (ret)
		return ret;
	if (d.offset % SHYPER_MIG_SECTOR_SIZE)
		return bad(&c, "offset 0x%llx not sector aligned",
			   (unsigned long long)d.offset);
	if (c.left == 0 || c.left % SHYPER_MIG_SECTOR_SIZE)
		return bad(&c, "%llu bytes of data: not a whole number of sectors",
			   (unsigned long long)c.left);
	if (d.offset + c.left < d.offset)
		return bad(&c, "offset 0x%llx + %llu bytes wraps",
			   (unsigned long long)d.offset, (unsigned long long)c.left);
	v->offset = d.offset;
	take_rest(&c, &v->data, &v->len);
	return 0;
}

int mstream_parse_image(const void *payload, size_t len, struct mstream_image_view *v,
			char *why, size_t why_size)
{
	struct shyper_mig_image im = { 0 };
	struct cursor c;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, &im, sizeof(im), "image chunk header");
	if (ret)
		return ret;
	if (c.left == 0)
		return bad(&c, "no image bytes");
	if (im.offset + c.left < im.offset)
		return bad(&c, "offset 0x%llx + %llu bytes wraps",
			   (unsigned long long)im.offset, (unsigned long long)c.left);
	v->offset = im.offset;
	take_rest(&c, &v->data, &v->len);
	return 0;
}

int mstream_parse_end(const void *payload, size_t len, struct shyper_mig_end *end,
		      char *why, size_t why_size)
{
	struct cursor c;
	int ret;

	cursor_init(&c, payload, len, why, why_size);
	ret = take_fixed(&c, end, sizeof(*end), "END totals");
	if (!ret)
		ret = expect_end(&c);
	if (!ret && end->reserved)
		ret = bad(&c, "reserved field not 0");
	return ret;
}
