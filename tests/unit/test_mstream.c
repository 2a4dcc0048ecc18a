/*
 * Migration stream codec (hv/lib/mstream_*.c): a stream with every section
 * type and repeated instances written and read back, section by section
 * and through the typed parsers; the same stream fed to the incremental
 * reader in chunks of every size; and every way of breaking it: bad magic,
 * versions, CRCs, flags, every truncation, one flipped bit in every byte
 * (every bit of every byte of a small stream), wrong lengths, counts that
 * overflow their payload, unknown types, sections out of order or after
 * END, a missing END. Each payload parser gets every shorter length in a
 * heap block of exactly that size, so ASan catches a read past it. The
 * writer must never write past its capacity.
 *
 * unit-sources: hv/lib/crc32.c hv/lib/fmt.c hv/lib/mstream_check.c hv/lib/mstream_inc.c hv/lib/mstream_payload.c hv/lib/mstream_reader.c hv/lib/mstream_writer.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lib/crc32.h>
#include <lib/mstream.h>
#include <shyper/errno.h>
#include <shyper/migrate.h>
#include <shyper/virtio.h>

#define HDR_SIZE	sizeof(struct shyper_mig_header)
#define SEC_SIZE	sizeof(struct shyper_mig_section)
#define BIG_CAP		(64 * 1024)
#define MAX_SECS	32
#define MAX_PAYLOAD	(3 * SHYPER_MIG_PAGE_SIZE + 64)
#define CANARY		0x5a
#define CANARY_LEN	64

static const struct mstream_info info = {
	.board = "qemu-virt", .arch = SHYPER_MIG_ARCH_AARCH64, .gic_version = 3,
};

/* A stream as the test wrote it: where each section starts, what it is. */
struct stream {
	uint8_t *buf;
	size_t len;
	uint32_t nr;
	size_t off[MAX_SECS];
	uint16_t type[MAX_SECS];
	uint32_t inst[MAX_SECS];
};

static uint16_t version_of(uint16_t type)
{
	static const uint16_t v[SHYPER_MIG_SEC_NR] = {
		[SHYPER_MIG_SEC_VM_CONFIG] = SHYPER_MIG_VM_CONFIG_VERSION,
		[SHYPER_MIG_SEC_MEM] = SHYPER_MIG_MEM_VERSION,
		[SHYPER_MIG_SEC_VCPU] = SHYPER_MIG_VCPU_VERSION,
		[SHYPER_MIG_SEC_VGIC_DIST] = SHYPER_MIG_VGIC_DIST_VERSION,
		[SHYPER_MIG_SEC_VGIC_CPU] = SHYPER_MIG_VGIC_CPU_VERSION,
		[SHYPER_MIG_SEC_VDEV] = SHYPER_MIG_VDEV_VERSION,
		[SHYPER_MIG_SEC_CONSOLE_HISTORY] = SHYPER_MIG_CONSOLE_HISTORY_VERSION,
		[SHYPER_MIG_SEC_DISK_BLOCKS] = SHYPER_MIG_DISK_BLOCKS_VERSION,
		[SHYPER_MIG_SEC_END] = SHYPER_MIG_END_VERSION,
		[SHYPER_MIG_SEC_VCPU_PTIMER] = SHYPER_MIG_VCPU_PTIMER_VERSION,
	};

	return type < SHYPER_MIG_SEC_NR ? v[type] : 1;
}

static void put_section_v(struct mstream_writer *w, struct stream *s,
			  uint16_t type, uint16_t version, uint32_t inst,
			  const void *p, size_t len)
{
	assert_true(s->nr < MAX_SECS);
	s->off[s->nr] = w->pos;
	s->type[s->nr] = type;
	s->inst[s->nr] = inst;
	s->nr++;
	assert_int_equal(mstream_begin_section(w, type, version, inst), 0);
	assert_int_equal(mstream_append(w, p, len), 0);
	assert_int_equal(mstream_end_section(w), 0);
}

static void put_section(struct mstream_writer *w, struct stream *s,
			uint16_t type, uint32_t inst, const void *p, size_t len)
{
	put_section_v(w, s, type, version_of(type), inst, p, len);
}

/* ---- Payloads, built into a caller's buffer; each returns its length. */

static size_t vm_config_payload(uint8_t *p, uint32_t nr_vcpus, bool arrays)
{
	struct shyper_mig_vm_config cfg = { 0 };
	struct shyper_mig_mem_region mem = { 0x80000000ULL, 0x10000000ULL };
	struct shyper_emu_dev emu = { .name = "virtio-blk", .base_ipa = 0xa000000,
				      .length = 0x200, .irq_id = 48,
				      .type = SHYPER_EMU_VIRTIO_BLK, .cfg_num = 2,
				      .cfg_list = { 0, 8192 } };
	struct shyper_mig_pt_region pt = { 0x9000000, 0x9000000, 0x1000 };
	struct shyper_dtb_dev dtb = { .name = "gicd", .type = SHYPER_DTB_GICD,
				      .addr_ipa = 0x8000000, .length = 0x10000 };
	uint32_t irqs[2] = { 33, 79 };
	size_t n = 0;

	strcpy(cfg.desc.name, "guest-linux");
	strcpy(cfg.desc.cmdline, "console=hvc0 earlycon");
	cfg.desc.type = SHYPER_VM_T_LINUX;
	cfg.image.kernel_load_ipa = 0x80080000;
	cfg.cpu_bitmap = 0x6;
	cfg.nr_vcpus = nr_vcpus;
	cfg.slice_us = SHYPER_SLICE_DEFAULT_US;
	if (arrays) {
		cfg.nr_mem_regions = 1;
		cfg.nr_emu_devs = 1;
		cfg.nr_pt_regions = 1;
		cfg.nr_dtb_devs = 1;
		cfg.nr_pt_irqs = 2;
	}
	memcpy(p, &cfg, sizeof(cfg));
	n += sizeof(cfg);
	if (arrays) {
		memcpy(p + n, &mem, sizeof(mem));
		n += sizeof(mem);
		memcpy(p + n, &emu, sizeof(emu));
		n += sizeof(emu);
		memcpy(p + n, &pt, sizeof(pt));
		n += sizeof(pt);
		memcpy(p + n, &dtb, sizeof(dtb));
		n += sizeof(dtb);
		memcpy(p + n, irqs, sizeof(irqs));
		n += sizeof(irqs);
	}
	return n;
}

static size_t mem_payload(uint8_t *p, uint64_t ipa, uint64_t pages, uint8_t seed)
{
	struct shyper_mig_mem m = { ipa, pages };

	memcpy(p, &m, sizeof(m));
	for (size_t i = 0; i < pages * SHYPER_MIG_PAGE_SIZE; i++)
		p[sizeof(m) + i] = (uint8_t)(seed + i * 7);
	return sizeof(m) + pages * SHYPER_MIG_PAGE_SIZE;
}

static size_t vcpu_payload(uint8_t *p, uint32_t inst)
{
	struct shyper_mig_vcpu v;

	memset(&v, 0, sizeof(v));
	for (unsigned i = 0; i < SHYPER_MIG_NR_GPRS; i++)
		v.x[i] = 0x1000 * inst + i;
	for (unsigned i = 0; i < SHYPER_MIG_NR_VREGS; i++) {
		v.q[i][0] = ~(uint64_t)i;
		v.q[i][1] = (uint64_t)i << 32;
	}
	v.pc = 0xffff800010000000ULL + inst;
	v.pstate = 0x3c5;
	v.sctlr_el1 = 0x30d5198d;
	v.vmpidr_el2 = 0x80000000ULL | inst;
	v.cntv_ctl = 1;
	v.cntv_cval = 123456789;
	v.cntvct = 123400000;
	v.fpcr = 0x3000000;
	v.psci_state = inst ? SHYPER_MIG_PSCI_OFF : SHYPER_MIG_PSCI_ON;
	memcpy(p, &v, sizeof(v));
	return sizeof(v);
}

static struct shyper_mig_irq irq_for(uint32_t intid)
{
	struct shyper_mig_irq irq = {
		.flags = (uint8_t)(intid & SHYPER_MIG_IRQ_KNOWN),
		.priority = (uint8_t)(intid * 8),
		.target = intid % 2 ? 0x80000001ULL : 1,
	};

	return irq;
}

static size_t vgic_dist_payload(uint8_t *p, uint32_t first, uint32_t nr)
{
	struct shyper_mig_vgic_dist d = { .ctlr = 0x13, .first_intid = first,
					  .nr_irqs = nr };
	size_t n = sizeof(d);

	memcpy(p, &d, sizeof(d));
	for (uint32_t i = 0; i < nr; i++) {
		struct shyper_mig_irq irq = irq_for(first + i);

		memcpy(p + n, &irq, sizeof(irq));
		n += sizeof(irq);
	}
	return n;
}

static size_t vgic_cpu_payload(uint8_t *p, uint32_t nr_private, uint32_t nr_lrs,
			       uint32_t nr_aprs)
{
	struct shyper_mig_vgic_cpu c = { .vmcr = 0xf0000001, .nr_private = nr_private,
					 .nr_lrs = nr_lrs, .nr_aprs = nr_aprs };
	size_t n = sizeof(c);

	memcpy(p, &c, sizeof(c));
	for (uint32_t i = 0; i < nr_private; i++) {
		struct shyper_mig_irq irq = irq_for(i);

		memcpy(p + n, &irq, sizeof(irq));
		n += sizeof(irq);
	}
	for (uint32_t i = 0; i < nr_lrs; i++) {
		uint64_t lr = 0x9000000000000000ULL | (27 + i);

		memcpy(p + n, &lr, sizeof(lr));
		n += sizeof(lr);
	}
	for (uint32_t i = 0; i < nr_aprs; i++) {
		uint32_t apr = 1u << i;

		memcpy(p + n, &apr, sizeof(apr));
		n += sizeof(apr);
	}
	return n;
}

static size_t vdev_payload(uint8_t *p, uint32_t nr_queues, uint64_t blob_len)
{
	struct shyper_mig_vdev d = {
		.device_id = VIRTIO_ID_BLOCK, .nr_queues = nr_queues,
		.mmio_base = 0xa000000,
		.device_features = VIRTIO_BIT(VIRTIO_F_VERSION_1),
		.driver_features = VIRTIO_BIT(VIRTIO_F_VERSION_1),
		.status = VIRTIO_STATUS_DRIVER_OK,
	};
	size_t n = sizeof(d);

	memcpy(p, &d, sizeof(d));
	for (uint32_t i = 0; i < nr_queues; i++) {
		struct shyper_mig_vq q = {
			.size = 256, .ready = 1, .last_avail_idx = (uint16_t)(7 + i),
			.used_idx = (uint16_t)(7 + i), .desc_ipa = 0x80100000ULL + i * 0x4000,
			.avail_ipa = 0x80101000ULL + i * 0x4000,
			.used_ipa = 0x80102000ULL + i * 0x4000,
		};

		memcpy(p + n, &q, sizeof(q));
		n += sizeof(q);
	}
	memcpy(p + n, &blob_len, sizeof(blob_len));
	n += sizeof(blob_len);
	for (uint64_t i = 0; i < blob_len; i++)
		p[n++] = (uint8_t)(0xb0 + i);
	return n;
}

static size_t disk_payload(uint8_t *p, uint64_t offset, uint32_t sectors)
{
	struct shyper_mig_disk_blocks d = { offset };

	memcpy(p, &d, sizeof(d));
	memset(p + sizeof(d), 0xd1, (size_t)sectors * SHYPER_MIG_SECTOR_SIZE);
	return sizeof(d) + (size_t)sectors * SHYPER_MIG_SECTOR_SIZE;
}

/* ---- Whole streams. */

static void start(struct mstream_writer *w, struct stream *s, size_t cap,
		  uint32_t flags)
{
	struct mstream_info i = info;

	memset(s, 0, sizeof(*s));
	s->buf = malloc(cap);
	assert_non_null(s->buf);
	i.flags = flags;
	assert_int_equal(mstream_writer_init(w, s->buf, cap, &i), 0);
}

static void finish(struct mstream_writer *w, struct stream *s)
{
	s->off[s->nr] = w->pos;
	s->type[s->nr] = SHYPER_MIG_SEC_END;
	s->inst[s->nr] = 0;
	s->nr++;
	assert_int_equal(mstream_finish(w, &s->len), 0);
	assert_int_equal(s->len, w->pos);
}

static size_t ptimer_payload(uint8_t *p, unsigned v)
{
	struct shyper_mig_ptimer pt = { .ctl = 1, .cval = 5000 + v, .cntpct = 4000 };

	memcpy(p, &pt, sizeof(pt));
	return sizeof(pt);
}

/* Every section type, per-vCPU and per-device instances, repeats. */
static void write_full(struct mstream_writer *w, struct stream *s, size_t cap,
		       uint32_t flags)
{
	static uint8_t p[MAX_PAYLOAD];

	start(w, s, cap, flags);
	put_section(w, s, SHYPER_MIG_SEC_VM_CONFIG, 0, p, vm_config_payload(p, 2, true));
	put_section(w, s, SHYPER_MIG_SEC_MEM, 0, p, mem_payload(p, 0x80000000ULL, 1, 1));
	put_section(w, s, SHYPER_MIG_SEC_MEM, 0, p, mem_payload(p, 0x80004000ULL, 2, 2));
	put_section(w, s, SHYPER_MIG_SEC_VCPU, 0, p, vcpu_payload(p, 0));
	put_section(w, s, SHYPER_MIG_SEC_VCPU, 1, p, vcpu_payload(p, 1));
	put_section(w, s, SHYPER_MIG_SEC_VGIC_DIST, 0, p, vgic_dist_payload(p, 32, 64));
	put_section(w, s, SHYPER_MIG_SEC_VGIC_CPU, 0, p, vgic_cpu_payload(p, 32, 4, 2));
	put_section(w, s, SHYPER_MIG_SEC_VGIC_CPU, 1, p, vgic_cpu_payload(p, 32, 0, 8));
	put_section(w, s, SHYPER_MIG_SEC_VDEV, 0, p, vdev_payload(p, 2, 5));
	put_section(w, s, SHYPER_MIG_SEC_VDEV, 3, p, vdev_payload(p, 1, 0));
	put_section(w, s, SHYPER_MIG_SEC_CONSOLE_HISTORY, 0, "login: ", 7);
	put_section(w, s, SHYPER_MIG_SEC_CONSOLE_HISTORY, 0, "", 0);
	put_section(w, s, SHYPER_MIG_SEC_DISK_BLOCKS, 0, p, disk_payload(p, 4096, 2));
	put_section(w, s, SHYPER_MIG_SEC_DISK_BLOCKS, 0, p, disk_payload(p, 0, 1));
	put_section(w, s, SHYPER_MIG_SEC_MEM, 0, p, mem_payload(p, 0x80000000ULL, 1, 3));
	put_section(w, s, SHYPER_MIG_SEC_VCPU_PTIMER, 1, p, ptimer_payload(p, 1));
	finish(w, s);
}

/* VM_CONFIG with one vCPU and no arrays, its VCPU, END. */
#define SMALL_LEN	(HDR_SIZE + 3 * SEC_SIZE + sizeof(struct shyper_mig_vm_config) + \
			 sizeof(struct shyper_mig_vcpu) + sizeof(struct shyper_mig_end))
static void write_small(struct mstream_writer *w, struct stream *s)
{
	static uint8_t p[MAX_PAYLOAD];

	start(w, s, BIG_CAP, 0);
	put_section(w, s, SHYPER_MIG_SEC_VM_CONFIG, 0, p, vm_config_payload(p, 1, false));
	put_section(w, s, SHYPER_MIG_SEC_VCPU, 0, p, vcpu_payload(p, 0));
	finish(w, s);
}

/* Store a field of a payload struct at its (unaligned) place in @p. */
#define SET(p, type, field, value) do {					\
	__typeof__(((type *)0)->field) v_ = (value);			\
	memcpy((p) + offsetof(type, field), &v_, sizeof(v_));		\
} while (0)

static void fix_header_crc(uint8_t *buf)
{
	struct shyper_mig_header h;

	memcpy(&h, buf, sizeof(h));
	h.crc = crc32(&h, offsetof(struct shyper_mig_header, crc));
	memcpy(buf, &h, sizeof(h));
}

static struct shyper_mig_header get_header(const uint8_t *buf)
{
	struct shyper_mig_header h;

	memcpy(&h, buf, sizeof(h));
	return h;
}

static void set_header(uint8_t *buf, const struct shyper_mig_header *h)
{
	memcpy(buf, h, sizeof(*h));
	fix_header_crc(buf);
}

/* Validate a copy of exactly @len bytes (ASan sees any read past it). */
static int validate_exact(const uint8_t *buf, size_t len, struct mstream_error *err)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	ret = mstream_validate(copy, len, err);
	free(copy);
	return ret;
}

/* The incremental reader over @buf in @chunk-byte pieces, then finish. */
static int inc_read(const uint8_t *buf, size_t len, size_t chunk, size_t cap,
		    struct mstream_section *secs, uint8_t **payloads,
		    uint32_t *nr, struct mstream_error *err)
{
	uint8_t *rbuf = malloc(cap);
	struct mstream_inc r;
	struct mstream_section sec;
	size_t off = 0;
	int ret;

	assert_non_null(rbuf);
	if (nr)
		*nr = 0;
	ret = mstream_inc_init(&r, rbuf, cap);
	while (ret >= 0 && off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		size_t used = 0;

		ret = mstream_inc_feed(&r, buf + off, n, &used, &sec);
		assert_true(used <= n);
		off += used;
		if (ret == MSTREAM_SECTION && secs) {
			secs[*nr] = sec;
			payloads[*nr] = malloc(sec.length + 1);
			memcpy(payloads[*nr], sec.payload, sec.length);
			secs[*nr].payload = payloads[*nr];
			(*nr)++;
		}
		if (ret == MSTREAM_SECTION)
			assert_true(used > 0);
		else if (ret == MSTREAM_MORE)
			assert_int_equal(used, n);
	}
	/* Bytes left after END were fed too, and refused. */
	if (ret >= 0)
		ret = mstream_inc_finish(&r);
	if (err)
		*err = r.chk.err;
	free(rbuf);
	return ret;
}

static void free_payloads(uint8_t **payloads, uint32_t nr)
{
	for (uint32_t i = 0; i < nr; i++)
		free(payloads[i]);
}

static void assert_reason(const struct mstream_error *e, const char *prefix)
{
	if (strncmp(e->reason, prefix, strlen(prefix))) {
		print_error("reason \"%s\"\n  wanted \"%s...\"\n", e->reason, prefix);
		fail();
	}
}

/* ---- Round trips. */

static void check_typed(const struct mstream_section *sec)
{
	char why[128] = "";
	union mstream_any_view v;
	struct shyper_mig_irq irq;
	struct shyper_mig_vq q;
	struct shyper_emu_dev emu;
	uint64_t lr;
	uint32_t u32;

	switch (sec->type) {
	case SHYPER_MIG_SEC_VM_CONFIG:
		assert_int_equal(mstream_parse_vm_config(sec->payload, sec->length,
							 &v.cfg, why, sizeof(why)), 0);
		assert_string_equal(v.cfg.cfg.desc.name, "guest-linux");
		assert_int_equal(v.cfg.cfg.nr_vcpus, 2);
		assert_int_equal(v.cfg.pt_irqs.count, 2);
		assert_int_equal(mstream_array_get(&v.cfg.pt_irqs, 1, &u32, sizeof(u32)), 0);
		assert_int_equal(u32, 79);
		assert_int_equal(mstream_array_get(&v.cfg.emu_devs, 0, &emu, sizeof(emu)), 0);
		assert_string_equal(emu.name, "virtio-blk");
		assert_int_equal(emu.cfg_list[1], 8192);
		assert_int_equal(mstream_array_get(&v.cfg.pt_irqs, 2, &u32, sizeof(u32)),
				 -SHYPER_ERANGE);
		assert_int_equal(mstream_array_get(&v.cfg.pt_irqs, 0, &lr, sizeof(lr)),
				 -SHYPER_EINVAL);
		break;
	case SHYPER_MIG_SEC_MEM:
		assert_int_equal(mstream_parse_mem(sec->payload, sec->length, &v.mem,
						   why, sizeof(why)), 0);
		assert_int_equal(v.mem.ipa % SHYPER_MIG_PAGE_SIZE, 0);
		assert_ptr_equal(v.mem.data, sec->payload + sizeof(struct shyper_mig_mem));
		break;
	case SHYPER_MIG_SEC_VCPU:
		assert_int_equal(mstream_parse_vcpu(sec->payload, sec->length, &v.vcpu,
						    why, sizeof(why)), 0);
		assert_int_equal(v.vcpu.x[30], 0x1000 * sec->instance + 30);
		assert_int_equal(v.vcpu.q[31][0], ~(uint64_t)31);
		assert_int_equal(v.vcpu.vmpidr_el2, 0x80000000ULL | sec->instance);
		assert_int_equal(v.vcpu.cntvct, 123400000);
		break;
	case SHYPER_MIG_SEC_VGIC_DIST:
		assert_int_equal(mstream_parse_vgic_dist(sec->payload, sec->length,
							 &v.dist, why, sizeof(why)), 0);
		assert_int_equal(v.dist.irqs.count, 64);
		assert_int_equal(mstream_array_get(&v.dist.irqs, 63, &irq, sizeof(irq)), 0);
		assert_int_equal(irq.priority, (uint8_t)(95 * 8));
		assert_int_equal(irq.target, 0x80000001ULL);
		break;
	case SHYPER_MIG_SEC_VGIC_CPU:
		assert_int_equal(mstream_parse_vgic_cpu(sec->payload, sec->length,
							&v.cpu, why, sizeof(why)), 0);
		assert_int_equal(v.cpu.irqs.count, 32);
		assert_int_equal(v.cpu.aprs.count, sec->instance ? 8 : 2);
		if (v.cpu.lrs.count) {
			assert_int_equal(mstream_array_get(&v.cpu.lrs, 3, &lr, sizeof(lr)), 0);
			assert_int_equal(lr, 0x9000000000000000ULL | 30);
		}
		break;
	case SHYPER_MIG_SEC_VDEV:
		assert_int_equal(mstream_parse_vdev(sec->payload, sec->length, &v.vdev,
						    why, sizeof(why)), 0);
		assert_int_equal(v.vdev.dev.device_id, VIRTIO_ID_BLOCK);
		assert_int_equal(v.vdev.queues.count, sec->instance ? 1 : 2);
		assert_int_equal(v.vdev.blob_len, sec->instance ? 0 : 5);
		assert_int_equal(mstream_array_get(&v.vdev.queues, 0, &q, sizeof(q)), 0);
		assert_int_equal(q.size, 256);
		assert_int_equal(q.used_ipa, 0x80102000ULL);
		if (v.vdev.blob_len)
			assert_int_equal(v.vdev.blob[4], 0xb4);
		break;
	case SHYPER_MIG_SEC_DISK_BLOCKS:
		assert_int_equal(mstream_parse_disk_blocks(sec->payload, sec->length,
							   &v.disk, why, sizeof(why)), 0);
		assert_int_equal(v.disk.len % SHYPER_MIG_SECTOR_SIZE, 0);
		break;
	default:
		break;
	}
}

static void check_sections_match(const struct stream *s,
				 const struct mstream_section *secs, uint32_t nr)
{
	/* END is not handed out as a section. */
	assert_int_equal(nr, s->nr - 1);
	for (uint32_t i = 0; i < nr; i++) {
		assert_int_equal(secs[i].index, i);
		assert_int_equal(secs[i].type, s->type[i]);
		assert_int_equal(secs[i].instance, s->inst[i]);
		assert_int_equal(secs[i].version, version_of(s->type[i]));
		assert_int_equal(s->off[i] + SEC_SIZE + secs[i].length, s->off[i + 1]);
		assert_memory_equal(secs[i].payload, s->buf + s->off[i] + SEC_SIZE,
				    secs[i].length);
		check_typed(&secs[i]);
	}
}

static void read_all(const struct stream *s)
{
	struct mstream_section secs[MAX_SECS];
	struct mstream_reader r;
	uint32_t nr = 0;
	int ret;

	assert_int_equal(mstream_reader_open(&r, s->buf, s->len), 0);
	assert_string_equal(r.chk.hdr.board, "qemu-virt");
	assert_int_equal(r.chk.hdr.gic_version, 3);
	while ((ret = mstream_reader_next(&r, &secs[nr])) == MSTREAM_SECTION)
		nr++;
	assert_int_equal(ret, MSTREAM_END);
	assert_int_equal(r.chk.err.code, 0);
	/* END stays the answer. */
	assert_int_equal(mstream_reader_next(&r, &secs[nr]), MSTREAM_END);
	check_sections_match(s, secs, nr);
}

static void test_round_trip(void **state)
{
	struct mstream_writer w;
	struct stream s;
	struct shyper_mig_header h;

	(void)state;
	write_full(&w, &s, BIG_CAP, 0);
	h = get_header(s.buf);
	assert_memory_equal(h.magic, "SHYM", 4);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.arch, SHYPER_MIG_ARCH_AARCH64);
	assert_int_equal(h.nr_sections, s.nr);
	assert_int_equal(h.total_length, s.len);
	read_all(&s);
	assert_int_equal(validate_exact(s.buf, s.len, NULL), 0);
	free(s.buf);
}

static void test_round_trip_streamed(void **state)
{
	struct mstream_writer w;
	struct stream s;
	struct shyper_mig_header h;
	uint8_t early[HDR_SIZE];

	(void)state;
	start(&w, &s, BIG_CAP, SHYPER_MIG_F_STREAMED | SHYPER_MIG_F_LIVE);
	/* Final before anything else is written. */
	memcpy(early, s.buf, HDR_SIZE);
	free(s.buf);
	write_full(&w, &s, BIG_CAP, SHYPER_MIG_F_STREAMED | SHYPER_MIG_F_LIVE);
	assert_memory_equal(early, s.buf, HDR_SIZE);
	h = get_header(s.buf);
	assert_int_equal(h.nr_sections, 0);
	assert_int_equal(h.total_length, 0);
	read_all(&s);
	free(s.buf);
}

/* ---- The incremental reader. */

static void test_incremental_every_chunk_size(void **state)
{
	struct mstream_section secs[MAX_SECS];
	uint8_t *payloads[MAX_SECS];
	struct mstream_writer w;
	struct stream s;
	uint32_t nr;

	(void)state;
	write_full(&w, &s, BIG_CAP, 0);
	for (size_t chunk = 1; chunk <= s.len; chunk++) {
		assert_int_equal(inc_read(s.buf, s.len, chunk, MAX_PAYLOAD + SEC_SIZE,
					  secs, payloads, &nr, NULL), 0);
		check_sections_match(&s, secs, nr);
		free_payloads(payloads, nr);
	}
	free(s.buf);
}

static void test_incremental_limits(void **state)
{
	struct mstream_writer w;
	struct stream s;
	struct mstream_error err;
	struct mstream_inc r;
	struct mstream_section sec;
	uint8_t small[HDR_SIZE - 1];
	uint8_t *extra;
	size_t used;
	int ret;

	(void)state;
	assert_int_equal(mstream_inc_init(&r, small, sizeof(small)), -SHYPER_EINVAL);
	/* A feed after the error keeps the error. */
	assert_int_equal(mstream_inc_feed(&r, "x", 1, &used, &sec), -SHYPER_EINVAL);

	write_full(&w, &s, BIG_CAP, 0);
	/* The largest payload is MEM with 2 pages: one byte less does not do. */
	ret = inc_read(s.buf, s.len, 4096, SEC_SIZE + sizeof(struct shyper_mig_mem) +
		       2 * SHYPER_MIG_PAGE_SIZE - 1, NULL, NULL, NULL, &err);
	assert_int_equal(ret, -SHYPER_E2BIG);
	assert_reason(&err, "section 2 (MEM): 8208-byte payload");
	assert_int_equal(inc_read(s.buf, s.len, 4096, SEC_SIZE + sizeof(struct shyper_mig_mem) +
				  2 * SHYPER_MIG_PAGE_SIZE, NULL, NULL, NULL, &err), 0);

	/* Bytes after END, in the same chunk or a later one. */
	extra = malloc(s.len + 1);
	memcpy(extra, s.buf, s.len);
	extra[s.len] = 0;
	for (size_t chunk = 1; chunk <= s.len + 1; chunk += 997) {
		ret = inc_read(extra, s.len + 1, chunk, BIG_CAP, NULL, NULL, NULL, &err);
		assert_int_equal(ret, -SHYPER_EPROTO);
		assert_non_null(strstr(err.reason, "data after END"));
	}
	/* In one feed: refused by that very call, the END taken first. */
	{
		uint8_t *rbuf = malloc(BIG_CAP);

		assert_int_equal(mstream_inc_init(&r, rbuf, BIG_CAP), 0);
		do {
			ret = mstream_inc_feed(&r, extra, s.len + 1, &used, &sec);
			if (ret == MSTREAM_SECTION) {
				memmove(extra, extra + used, s.len + 1 - used);
				s.len -= used;
			}
		} while (ret == MSTREAM_SECTION);
		assert_int_equal(ret, -SHYPER_EPROTO);
		assert_int_equal(used, s.len);
		assert_int_equal(mstream_inc_feed(&r, "", 0, &used, &sec), -SHYPER_EPROTO);
		assert_int_equal(mstream_inc_finish(&r), -SHYPER_EPROTO);
		free(rbuf);
	}
	free(extra);
	free(s.buf);

	/* The whole-buffer reader refuses a buffer longer than the stream. */
	write_full(&w, &s, BIG_CAP, 0);
	extra = malloc(s.len + 1);
	memcpy(extra, s.buf, s.len);
	assert_int_equal(validate_exact(extra, s.len + 1, &err), -SHYPER_EPROTO);
	assert_reason(&err, "header: ");
	free(extra);
	free(s.buf);
}

/* ---- Corruption. */

static void expect_invalid(const uint8_t *buf, size_t len, int code,
			   const char *reason_prefix)
{
	struct mstream_error err, ierr;
	int ret;

	ret = validate_exact(buf, len, &err);
	if (ret != code)
		print_error("validate: %d (%s), wanted %d\n", ret, err.reason, code);
	assert_int_equal(ret, code);
	assert_int_equal(err.code, code);
	if (reason_prefix)
		assert_reason(&err, reason_prefix);
	/* The incremental reader agrees, whatever the chunking. */
	ret = inc_read(buf, len, 1, BIG_CAP, NULL, NULL, NULL, &ierr);
	assert_int_equal(ret, code);
	assert_string_equal(ierr.reason, err.reason);
	ret = inc_read(buf, len, 333, BIG_CAP, NULL, NULL, NULL, &ierr);
	assert_int_equal(ret, code);
	assert_string_equal(ierr.reason, err.reason);
}

static void test_header_errors(void **state)
{
	struct mstream_writer w;
	struct stream s;
	struct shyper_mig_header h, good;
	char reason[MSTREAM_REASON_MAX];
	uint8_t *copy;

	(void)state;
	write_small(&w, &s);
	copy = malloc(s.len);
	good = get_header(s.buf);

#define RESET() memcpy(copy, s.buf, s.len)
	RESET();
	copy[0] = 'X';
	expect_invalid(copy, s.len, -SHYPER_EPROTO, "header: bad magic");

	RESET();
	copy[offsetof(struct shyper_mig_header, board)] ^= 1;
	expect_invalid(copy, s.len, -SHYPER_EBADMSG, "header: CRC mismatch");

	RESET();
	h = good;
	h.version = 7;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_ENOTSUP,
		       "header: unknown format version 7 (this reader knows 1)");

	RESET();
	h = good;
	h.header_size = 80;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_EPROTO, "header: header size 80");

	RESET();
	h = good;
	h.arch = 2;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_ENOTSUP, "header: unknown architecture 2");

	RESET();
	h = good;
	h.gic_version = 4;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_ENOTSUP, "header: unknown GIC version 4");

	RESET();
	h = good;
	h.flags = 1u << 7;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_ENOTSUP, "header: unknown flags 0x80");

	RESET();
	h = good;
	memset(h.board, 'b', sizeof(h.board));
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_EPROTO, "header: board name");

	RESET();
	h = good;
	h.reserved = 1;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_EPROTO, "header: board name");

	RESET();
	h = good;
	h.flags = SHYPER_MIG_F_STREAMED;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_EPROTO, "header: streamed, yet declares");

	RESET();
	h = good;
	h.nr_sections = 1;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_EPROTO, "header: 1 sections");

	RESET();
	h = good;
	h.total_length = 100;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_EPROTO, "header: total length 100");

	/* More sections declared than present: END comes too early. */
	RESET();
	h = good;
	h.nr_sections = 4;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_EPROTO,
		       "section 2 (END): END, but the header declares 4 sections");

	/* Fewer: the last declared one is not END. */
	RESET();
	h = good;
	h.nr_sections = 2;
	set_header(copy, &h);
	expect_invalid(copy, s.len, -SHYPER_EPROTO,
		       "section 1 (VCPU #0): the header declares 2 sections, the last must be END");

	/* Longer than the bytes present: truncated where the bytes end. */
	RESET();
	h = good;
	h.total_length = s.len + 8;
	set_header(copy, &h);
	snprintf(reason, sizeof(reason),
		 "section 2 (END): the stream ends at %zu bytes, the header declares %zu",
		 s.len, s.len + 8);
	expect_invalid(copy, s.len, -SHYPER_EPROTO, reason);
#undef RESET
	free(copy);
	free(s.buf);
}

static void test_every_truncation(void **state)
{
	struct mstream_writer w;
	struct stream s;
	struct mstream_error err;
	uint32_t flags[] = { 0, SHYPER_MIG_F_STREAMED };

	(void)state;
	for (unsigned f = 0; f < 2; f++) {
		write_full(&w, &s, BIG_CAP, flags[f]);
		for (size_t len = 0; len < s.len; len++) {
			int32_t want = MSTREAM_AT_HEADER;

			for (uint32_t i = 0; i < s.nr; i++)
				if (len >= s.off[i])
					want = (int32_t)i;
			assert_int_equal(validate_exact(s.buf, len, &err), -SHYPER_EPROTO);
			assert_int_equal(err.section, want);
			assert_non_null(strstr(err.reason, "stream truncated"));
			if (len % 61 == 0 || len < HDR_SIZE + 2 * SEC_SIZE) {
				struct mstream_error ierr;

				assert_int_equal(inc_read(s.buf, len, 512, BIG_CAP, NULL,
							  NULL, NULL, &ierr),
						 -SHYPER_EPROTO);
				assert_string_equal(ierr.reason, err.reason);
			}
		}
		free(s.buf);
	}
}

static void test_truncation_reasons(void **state)
{
	struct mstream_writer w;
	struct stream s;
	struct mstream_error err;

	(void)state;
	write_full(&w, &s, BIG_CAP, SHYPER_MIG_F_STREAMED);
	validate_exact(s.buf, 10, &err);
	assert_string_equal(err.reason, "header: stream truncated: 10 of 72 header bytes");
	validate_exact(s.buf, s.off[5] + SEC_SIZE + 100, &err);
	assert_string_equal(err.reason,
			    "section 5 (VGIC_DIST): stream truncated: 100 of 1040 payload bytes");
	validate_exact(s.buf, s.off[4] + 3, &err);
	assert_string_equal(err.reason,
			    "section 4: stream truncated: 3 of 24 section header bytes");
	/* Missing END: the stream stops cleanly after a section. */
	validate_exact(s.buf, s.off[s.nr - 1], &err);
	assert_string_equal(err.reason, "section 16: stream truncated before END");
	free(s.buf);
}

/* Every bit of every byte of the small stream, one bit per byte of the full one. */
static void test_flipped_bits(void **state)
{
	struct mstream_writer w;
	struct stream s;
	struct mstream_error err, ierr;
	uint8_t *copy;

	(void)state;
	write_small(&w, &s);
	assert_int_equal(s.len, SMALL_LEN);
	copy = malloc(s.len);
	memcpy(copy, s.buf, s.len);
	for (size_t i = 0; i < s.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			copy[i] ^= (uint8_t)(1u << bit);
			assert_true(mstream_validate(copy, s.len, &err) < 0);
			/* Some flips are caught on the spot, not by a CRC. */
			if (bit == 0) {
				assert_true(inc_read(copy, s.len, 7, BIG_CAP, NULL, NULL,
						     NULL, &ierr) < 0);
				assert_int_equal(ierr.code, err.code);
			}
			copy[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(mstream_validate(copy, s.len, NULL), 0);
	free(copy);
	free(s.buf);

	write_full(&w, &s, BIG_CAP, 0);
	copy = malloc(s.len);
	memcpy(copy, s.buf, s.len);
	for (size_t i = 0; i < s.len; i++) {
		copy[i] ^= (uint8_t)(1u << (i % 8));
		assert_true(mstream_validate(copy, s.len, NULL) < 0);
		copy[i] ^= (uint8_t)(1u << (i % 8));
	}
	free(copy);
	free(s.buf);
}

static void test_section_crc(void **state)
{
	struct mstream_writer w;
	struct stream s;

	(void)state;
	write_full(&w, &s, BIG_CAP, 0);
	s.buf[s.off[4] + SEC_SIZE + 100] ^= 0x40;
	expect_invalid(s.buf, s.len, -SHYPER_EBADMSG,
		       "section 4 (VCPU #1): CRC mismatch (stored 0x");
	s.buf[s.off[4] + SEC_SIZE + 100] ^= 0x40;
	/* The CRC covers the section header too: instance 1 -> 0. */
	s.buf[s.off[4] + offsetof(struct shyper_mig_section, instance)] = 0;
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 4 (VCPU #0): instance 0 after 0");
	s.buf[s.off[4] + offsetof(struct shyper_mig_section, instance)] = 1;
	s.buf[s.off[2] + offsetof(struct shyper_mig_section, length)] ^= 8;
	expect_invalid(s.buf, s.len, -SHYPER_EBADMSG, "section 2 (MEM): CRC mismatch");
	free(s.buf);
}

/* A one-vCPU stream whose section @at is (type, version, instance, payload). */
static void build_with(struct stream *s, uint32_t flags, uint16_t type,
		       uint16_t version, uint32_t inst, const void *p, size_t len,
		       bool before_vcpu)
{
	static uint8_t q[MAX_PAYLOAD];
	struct mstream_writer w;

	start(&w, s, BIG_CAP, flags);
	put_section(&w, s, SHYPER_MIG_SEC_VM_CONFIG, 0, q, vm_config_payload(q, 1, false));
	if (before_vcpu)
		put_section_v(&w, s, type, version, inst, p, len);
	put_section(&w, s, SHYPER_MIG_SEC_VCPU, 0, q, vcpu_payload(q, 0));
	if (!before_vcpu)
		put_section_v(&w, s, type, version, inst, p, len);
	finish(&w, s);
}

static void expect_section_invalid(uint16_t type, uint32_t inst, const void *p,
				   size_t len, int code, const char *reason)
{
	struct stream s;

	build_with(&s, 0, type, version_of(type), inst, p, len, false);
	expect_invalid(s.buf, s.len, code, reason);
	free(s.buf);
}

static void test_unknown_type_and_version(void **state)
{
	struct stream s;

	(void)state;
	build_with(&s, 0, 77, 1, 0, "x", 1, false);
	expect_invalid(s.buf, s.len, -SHYPER_ENOTSUP,
		       "section 2 (type 77): unknown section type");
	free(s.buf);
	build_with(&s, 0, 0, 1, 0, "x", 1, false);
	expect_invalid(s.buf, s.len, -SHYPER_ENOTSUP, "section 2 (type 0): unknown");
	free(s.buf);
	build_with(&s, 0, SHYPER_MIG_SEC_CONSOLE_HISTORY, 2, 0, "x", 1, false);
	expect_invalid(s.buf, s.len, -SHYPER_ENOTSUP,
		       "section 2 (CONSOLE_HISTORY): unknown section version 2 (this reader knows 1)");
	free(s.buf);
}

static void test_ordering(void **state)
{
	static uint8_t p[MAX_PAYLOAD];
	struct mstream_writer w;
	struct stream s;
	struct shyper_mig_end end = { 0 };

	(void)state;
	/* VM_CONFIG must come first. */
	start(&w, &s, BIG_CAP, 0);
	put_section(&w, &s, SHYPER_MIG_SEC_MEM, 0, p, mem_payload(p, 0, 1, 0));
	finish(&w, &s);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 0 (MEM): the first section must be VM_CONFIG");
	free(s.buf);

	build_with(&s, 0, SHYPER_MIG_SEC_VM_CONFIG, 1, 0, p,
		   vm_config_payload(p, 1, false), false);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 2 (VM_CONFIG): a second VM_CONFIG section");
	free(s.buf);

	/* vCPU numbers below nr_vcpus, increasing, and all present. */
	build_with(&s, 0, SHYPER_MIG_SEC_VCPU, 1, 1, p, vcpu_payload(p, 1), false);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO, "section 2 (VCPU #1): vCPU 1, the VM has 1");
	free(s.buf);
	build_with(&s, 0, SHYPER_MIG_SEC_VCPU, 1, 0, p, vcpu_payload(p, 0), false);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 2 (VCPU #0): instance 0 after 0: instances must increase");
	free(s.buf);
	build_with(&s, 0, SHYPER_MIG_SEC_VGIC_CPU, 1, 5, p, vgic_cpu_payload(p, 32, 0, 0), false);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO, "section 2 (VGIC_CPU #5): vCPU 5, the VM has 1");
	free(s.buf);
	start(&w, &s, BIG_CAP, 0);
	put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p, vm_config_payload(p, 2, false));
	put_section(&w, &s, SHYPER_MIG_SEC_VCPU, 1, p, vcpu_payload(p, 1));
	finish(&w, &s);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO, "section 2 (END): END after 1 of 2 VCPU sections");
	free(s.buf);

	/* VDEV instances increase; one VGIC_DIST; no instance where none belongs. */
	start(&w, &s, BIG_CAP, 0);
	put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p, vm_config_payload(p, 1, false));
	put_section(&w, &s, SHYPER_MIG_SEC_VCPU, 0, p, vcpu_payload(p, 0));
	put_section(&w, &s, SHYPER_MIG_SEC_VDEV, 4, p, vdev_payload(p, 1, 0));
	put_section(&w, &s, SHYPER_MIG_SEC_VDEV, 2, p, vdev_payload(p, 1, 0));
	finish(&w, &s);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO, "section 3 (VDEV #2): instance 2 after 4");
	free(s.buf);
	start(&w, &s, BIG_CAP, 0);
	put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p, vm_config_payload(p, 1, false));
	put_section(&w, &s, SHYPER_MIG_SEC_VGIC_DIST, 0, p, vgic_dist_payload(p, 32, 1));
	put_section(&w, &s, SHYPER_MIG_SEC_VGIC_DIST, 0, p, vgic_dist_payload(p, 32, 1));
	finish(&w, &s);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 2 (VGIC_DIST): a second VGIC_DIST section");
	free(s.buf);
	build_with(&s, 0, SHYPER_MIG_SEC_MEM, 1, 3, p, mem_payload(p, 0, 1, 0), false);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 2 (MEM): instance 3, this type has none");
	free(s.buf);

	/* A section after END: streamed, and with declared counts. */
	end.total_length = SMALL_LEN;
	end.nr_sections = 3;
	build_with(&s, SHYPER_MIG_F_STREAMED, SHYPER_MIG_SEC_END, 1, 0, &end,
		   sizeof(end), false);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO, "section 3: data after END");
	free(s.buf);
	build_with(&s, 0, SHYPER_MIG_SEC_END, 1, 0, &end, sizeof(end), false);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 2 (END): END, but the header declares 4 sections");
	free(s.buf);
	/* END whose totals are wrong. */
	end.nr_sections = 2;
	build_with(&s, SHYPER_MIG_F_STREAMED, SHYPER_MIG_SEC_END, 1, 0, &end,
		   sizeof(end), false);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 2 (END): END declares 2 sections");
	free(s.buf);
}

static void test_missing_end(void **state)
{
	static uint8_t p[MAX_PAYLOAD];
	struct mstream_writer w;
	struct stream s;
	struct shyper_mig_header h;

	(void)state;
	/* Declared counts rewritten to leave END out. */
	write_small(&w, &s);
	h = get_header(s.buf);
	h.nr_sections--;
	h.total_length = s.off[s.nr - 1];
	set_header(s.buf, &h);
	expect_invalid(s.buf, s.off[s.nr - 1], -SHYPER_EPROTO,
		       "section 1 (VCPU #0): the header declares 2 sections, the last must be END");
	free(s.buf);

	/* A streamed writer that never finished. */
	start(&w, &s, BIG_CAP, SHYPER_MIG_F_STREAMED);
	put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p, vm_config_payload(p, 1, false));
	put_section(&w, &s, SHYPER_MIG_SEC_VCPU, 0, p, vcpu_payload(p, 0));
	expect_invalid(s.buf, w.pos, -SHYPER_EPROTO, "section 2: stream truncated before END");
	free(s.buf);
}

static void test_payload_lengths_and_counts(void **state)
{
	static uint8_t p[MAX_PAYLOAD];
	uint64_t huge = UINT64_MAX;
	size_t n;

	(void)state;
	expect_section_invalid(SHYPER_MIG_SEC_VGIC_DIST, 0, p, 10, -SHYPER_EPROTO,
			       "section 2 (VGIC_DIST): 10 bytes cannot hold the 16-byte");

	/* The VCPU section of build_with is fine; break one after it. */
	n = vgic_dist_payload(p, 32, 10);
	SET(p, struct shyper_mig_vgic_dist, nr_irqs, 100);
	expect_section_invalid(SHYPER_MIG_SEC_VGIC_DIST, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VGIC_DIST): 100 interrupts need 1600 bytes, 160 left");
	SET(p, struct shyper_mig_vgic_dist, nr_irqs, 0xffffffffu);
	expect_section_invalid(SHYPER_MIG_SEC_VGIC_DIST, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VGIC_DIST): INTIDs 32 + 4294967295 outside");
	SET(p, struct shyper_mig_vgic_dist, nr_irqs, 9);
	expect_section_invalid(SHYPER_MIG_SEC_VGIC_DIST, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VGIC_DIST): 16 bytes after the declared contents");
	SET(p, struct shyper_mig_vgic_dist, nr_irqs, 10);
	p[sizeof(struct shyper_mig_vgic_dist) + 16 * 3] = 0x80;
	expect_section_invalid(SHYPER_MIG_SEC_VGIC_DIST, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VGIC_DIST): interrupt 35: unknown flags 0x80");

	n = vgic_cpu_payload(p, 32, 17, 0);
	expect_section_invalid(SHYPER_MIG_SEC_VGIC_CPU, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VGIC_CPU #0): 17 list registers, a GIC has at most 16");
	n = vgic_cpu_payload(p, 33, 0, 0);
	expect_section_invalid(SHYPER_MIG_SEC_VGIC_CPU, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VGIC_CPU #0): 33 private interrupts");
	n = vgic_cpu_payload(p, 32, 4, 2);
	expect_section_invalid(SHYPER_MIG_SEC_VGIC_CPU, 0, p, n - 1, -SHYPER_EPROTO,
			       "section 2 (VGIC_CPU #0): 2 active-priority registers need 8 bytes, 7 left");

	n = vdev_payload(p, 2, 5);
	SET(p, struct shyper_mig_vdev, nr_queues, 0xffffffffu);
	expect_section_invalid(SHYPER_MIG_SEC_VDEV, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VDEV #0): 4294967295 queues need 137438953440 bytes");
	n = vdev_payload(p, 2, 5);
	memcpy(p + n - 5 - 8, &huge, 8);
	expect_section_invalid(SHYPER_MIG_SEC_VDEV, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VDEV #0): device state of 18446744073709551615 bytes");
	n = vdev_payload(p, 2, 5);
	p[sizeof(struct shyper_mig_vdev) + offsetof(struct shyper_mig_vq, ready)] = 2;
	expect_section_invalid(SHYPER_MIG_SEC_VDEV, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (VDEV #0): queue 0: ready 2");

	n = mem_payload(p, 0x1000, 1, 0);
	SET(p, struct shyper_mig_mem, nr_pages, 1ULL << 60);
	expect_section_invalid(SHYPER_MIG_SEC_MEM, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (MEM): 1152921504606846976 pages need more");
	SET(p, struct shyper_mig_mem, nr_pages, 1);
	SET(p, struct shyper_mig_mem, ipa, 0x1001);
	expect_section_invalid(SHYPER_MIG_SEC_MEM, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (MEM): IPA 0x1001 not page aligned");
	SET(p, struct shyper_mig_mem, ipa, 0xfffffffffffff000ULL);
	expect_section_invalid(SHYPER_MIG_SEC_MEM, 0, p, n, 0, NULL);
	SET(p, struct shyper_mig_mem, ipa, 0x1000);
	expect_section_invalid(SHYPER_MIG_SEC_MEM, 0, p, n + 1, -SHYPER_EPROTO,
			       "section 2 (MEM): 1 pages are 4096 bytes, the payload has 4097");
	SET(p, struct shyper_mig_mem, nr_pages, 0);
	expect_section_invalid(SHYPER_MIG_SEC_MEM, 0, p, 16, -SHYPER_EPROTO,
			       "section 2 (MEM): no pages");

	n = disk_payload(p, 100, 1);
	expect_section_invalid(SHYPER_MIG_SEC_DISK_BLOCKS, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (DISK_BLOCKS #0): offset 0x64 not sector aligned");
	n = disk_payload(p, 512, 1);
	expect_section_invalid(SHYPER_MIG_SEC_DISK_BLOCKS, 0, p, n - 1, -SHYPER_EPROTO,
			       "section 2 (DISK_BLOCKS #0): 511 bytes of data");
	n = disk_payload(p, 0xfffffffffffffe00ULL, 2);
	expect_section_invalid(SHYPER_MIG_SEC_DISK_BLOCKS, 0, p, n, -SHYPER_EPROTO,
			       "section 2 (DISK_BLOCKS #0): offset 0xfffffffffffffe00 + 1024 bytes wraps");
}

static void test_vm_config_and_vcpu_payloads(void **state)
{
	static uint8_t p[MAX_PAYLOAD];
	struct mstream_writer w;
	struct stream s;
	size_t n;

	(void)state;
	/* VCPU one byte short, one byte long, bad PSCI state. */
	n = vcpu_payload(p, 0);
	start(&w, &s, BIG_CAP, 0);
	put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p + 2048,
		    vm_config_payload(p + 2048, 1, false));
	put_section(&w, &s, SHYPER_MIG_SEC_VCPU, 0, p, n - 1);
	finish(&w, &s);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 1 (VCPU #0): 1023 bytes cannot hold the 1024-byte vCPU state");
	free(s.buf);
	start(&w, &s, BIG_CAP, 0);
	put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p + 2048,
		    vm_config_payload(p + 2048, 1, false));
	put_section(&w, &s, SHYPER_MIG_SEC_VCPU, 0, p, n + 1);
	finish(&w, &s);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO,
		       "section 1 (VCPU #0): 1 bytes after the declared contents");
	free(s.buf);
	SET(p, struct shyper_mig_vcpu, psci_state, SHYPER_MIG_PSCI_NR);
	start(&w, &s, BIG_CAP, 0);
	put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p + 2048,
		    vm_config_payload(p + 2048, 1, false));
	put_section(&w, &s, SHYPER_MIG_SEC_VCPU, 0, p, n);
	finish(&w, &s);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO, "section 1 (VCPU #0): unknown PSCI state 3");
	free(s.buf);

	/* VM_CONFIG: counts past the payload, unterminated strings, no vCPUs. */
	struct {
		size_t field;
		uint32_t value;
		const char *reason;
	} cases[] = {
		{ offsetof(struct shyper_mig_vm_config, nr_emu_devs), 0xffffffffu,
		  "section 0 (VM_CONFIG): 4294967295 emulated devices need" },
		{ offsetof(struct shyper_mig_vm_config, nr_pt_irqs), 3,
		  "section 0 (VM_CONFIG): 3 passthrough interrupts need 12 bytes, 8 left" },
		{ offsetof(struct shyper_mig_vm_config, nr_pt_irqs), 1,
		  "section 0 (VM_CONFIG): 4 bytes after the declared contents" },
		{ offsetof(struct shyper_mig_vm_config, nr_vcpus), 0,
		  "section 0 (VM_CONFIG): no vCPUs" },
		{ offsetof(struct shyper_mig_vm_config, reserved), 1,
		  "section 0 (VM_CONFIG): flags or reserved field not 0" },
		{ offsetof(struct shyper_mig_vm_config, desc.type), 9,
		  "section 0 (VM_CONFIG): unknown VM type 9" },
		{ sizeof(struct shyper_mig_vm_config) + sizeof(struct shyper_mig_mem_region) +
		  offsetof(struct shyper_emu_dev, cfg_num), 17,
		  "section 0 (VM_CONFIG): emulated device 0: 17 cfg_list entries" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = vm_config_payload(p, 1, true);
		memcpy(p + cases[i].field, &cases[i].value, sizeof(uint32_t));
		start(&w, &s, BIG_CAP, 0);
		put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p, n);
		finish(&w, &s);
		expect_invalid(s.buf, s.len, -SHYPER_EPROTO, cases[i].reason);
		free(s.buf);
	}
	n = vm_config_payload(p, 1, true);
	memset(p, 'n', SHYPER_NAME_MAX);
	start(&w, &s, BIG_CAP, 0);
	put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, p, n);
	finish(&w, &s);
	expect_invalid(s.buf, s.len, -SHYPER_EPROTO, "section 0 (VM_CONFIG): VM name not terminated");
	free(s.buf);
}

/* VCPU_PTIMER: its size, known CNTP_CTL bits, reserved 0, one per vCPU
 * of the VM, in order. */
static void test_ptimer_payload(void **state)
{
	static uint8_t p[MAX_PAYLOAD], cfg[MAX_PAYLOAD];
	struct shyper_mig_ptimer pt;
	struct mstream_writer w;
	struct stream s;
	size_t n = ptimer_payload(p, 0), c = vm_config_payload(cfg, 1, false);
	struct {
		unsigned inst;
		size_t len;
		uint64_t ctl, reserved;
		int code;
		const char *reason;
	} cases[] = {
		{ 0, sizeof(pt), 3, 0, 0, NULL },
		{ 0, sizeof(pt) - 1, 1, 0, -SHYPER_EPROTO,
		  "section 2 (VCPU_PTIMER #0): 31 bytes cannot hold the 32-byte physical timer state" },
		{ 0, sizeof(pt), 4, 0, -SHYPER_EPROTO,
		  "section 2 (VCPU_PTIMER #0): unknown CNTP_CTL bits 0x4" },
		{ 0, sizeof(pt), 1, 7, -SHYPER_EPROTO,
		  "section 2 (VCPU_PTIMER #0): reserved field not 0" },
		{ 1, sizeof(pt), 1, 0, -SHYPER_EPROTO, "section 2 (VCPU_PTIMER #1): " },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ptimer_payload(p, 0);
		SET(p, struct shyper_mig_ptimer, ctl, cases[i].ctl);
		SET(p, struct shyper_mig_ptimer, reserved, cases[i].reserved);
		start(&w, &s, BIG_CAP, 0);
		put_section(&w, &s, SHYPER_MIG_SEC_VM_CONFIG, 0, cfg, c);
		put_section(&w, &s, SHYPER_MIG_SEC_VCPU, 0, p + 1024, vcpu_payload(p + 1024, 0));
		put_section(&w, &s, SHYPER_MIG_SEC_VCPU_PTIMER, cases[i].inst, p, cases[i].len);
		finish(&w, &s);
		if (cases[i].code) {
			expect_invalid(s.buf, s.len, cases[i].code, cases[i].reason);
		} else {
			struct mstream_error err;

			assert_int_equal(validate_exact(s.buf, s.len, &err), 0);
			assert_int_equal(mstream_parse_ptimer(p, n, &pt, err.reason,
							      sizeof(err.reason)), 0);
			assert_int_equal(pt.ctl, 3);
			assert_int_equal(pt.cval, 5000);
		}
		free(s.buf);
	}
}

/* Every parser, every shorter length, in a block of exactly that size. */
static void test_parsers_never_read_past(void **state)
{
	static uint8_t p[MAX_PAYLOAD];
	union mstream_any_view v;
	struct shyper_mig_end end = { 100, 2, 0 };
	enum { CFG, MEM, VCPU, DIST, CPU, VDEV, DISK, END, NR };
	char why[MSTREAM_REASON_MAX];

	(void)state;
	for (int k = 0; k < NR; k++) {
		size_t n;

		switch (k) {
		case CFG: n = vm_config_payload(p, 2, true); break;
		case MEM: n = mem_payload(p, 0x4000, 2, 9); break;
		case VCPU: n = vcpu_payload(p, 1); break;
		case DIST: n = vgic_dist_payload(p, 40, 30); break;
		case CPU: n = vgic_cpu_payload(p, 32, 16, 8); break;
		case VDEV: n = vdev_payload(p, 3, 20); break;
		case DISK: n = disk_payload(p, 1024, 3); break;
		default: memcpy(p, &end, sizeof(end)); n = sizeof(end); break;
		}
		for (size_t len = 0; len <= n; len++) {
			uint8_t *copy = malloc(len ? len : 1);
			int ret;

			memcpy(copy, p, len);
			why[0] = '\0';
			switch (k) {
			case CFG: ret = mstream_parse_vm_config(copy, len, &v.cfg, why, sizeof(why)); break;
			case MEM: ret = mstream_parse_mem(copy, len, &v.mem, why, sizeof(why)); break;
			case VCPU: ret = mstream_parse_vcpu(copy, len, &v.vcpu, why, sizeof(why)); break;
			case DIST: ret = mstream_parse_vgic_dist(copy, len, &v.dist, why, sizeof(why)); break;
			case CPU: ret = mstream_parse_vgic_cpu(copy, len, &v.cpu, why, sizeof(why)); break;
			case VDEV: ret = mstream_parse_vdev(copy, len, &v.vdev, why, sizeof(why)); break;
			case DISK: ret = mstream_parse_disk_blocks(copy, len, &v.disk, NULL, 0); break;
			default: ret = mstream_parse_end(copy, len, &v.end, why, sizeof(why)); break;
			}
			/* Disk blocks: any whole number of sectors is a payload. */
			if (len == n || (k == DISK && len > 8 && (len - 8) % 512 == 0)) {
				assert_int_equal(ret, 0);
			} else {
				assert_int_equal(ret, -SHYPER_EPROTO);
				assert_true(k == DISK || why[0] != '\0');
			}
			free(copy);
		}
	}
}

/* ---- The writer. */

static void test_writer_never_writes_past_cap(void **state)
{
	struct mstream_writer w;
	struct stream s;
	size_t full;

	(void)state;
	write_full(&w, &s, BIG_CAP, 0);
	full = s.len;
	free(s.buf);
	for (size_t cap = 0; cap <= full + 1; cap += (cap < 200 || cap > full - 200) ? 1 : 37) {
		static uint8_t p[MAX_PAYLOAD];
		uint8_t *buf = malloc(cap + CANARY_LEN);
		struct mstream_info i = info;
		size_t total = 0;
		int ret;

		memset(buf, CANARY, cap + CANARY_LEN);
		ret = mstream_writer_init(&w, buf, cap, &i);
		/* The same sections as write_full, errors allowed. */
		if (!ret) {
			mstream_begin_section(&w, SHYPER_MIG_SEC_VM_CONFIG, 1, 0);
			mstream_append(&w, p, vm_config_payload(p, 2, true));
			mstream_end_section(&w);
			for (uint32_t v = 0; v < 2; v++) {
				mstream_begin_section(&w, SHYPER_MIG_SEC_VCPU, 1, v);
				mstream_append(&w, p, vcpu_payload(p, v));
				mstream_end_section(&w);
			}
			mstream_begin_section(&w, SHYPER_MIG_SEC_MEM, 1, 0);
			mstream_append(&w, p, mem_payload(p, 0, 2, 0));
			ret = mstream_end_section(&w);
			if (!ret)
				ret = mstream_finish(&w, &total);
		}
		if (ret == 0) {
			assert_true(total <= cap);
			assert_int_equal(mstream_validate(buf, total, NULL), 0);
		} else {
			assert_int_equal(ret, -SHYPER_ENOSPC);
			assert_true(w.pos <= cap);
			/* Sticky: nothing works any more. */
			assert_int_equal(mstream_begin_section(&w, 3, 1, 0), -SHYPER_ENOSPC);
			assert_int_equal(mstream_finish(&w, &total), -SHYPER_ENOSPC);
		}
		for (size_t j = 0; j < CANARY_LEN; j++)
			assert_int_equal(buf[cap + j], CANARY);
		free(buf);
	}
}

static void test_writer_misuse(void **state)
{
	uint8_t buf[4096];
	struct mstream_writer w;
	struct mstream_info i = info;
	size_t total;

	(void)state;
	i.board = "a board name that is far too long for the field";
	assert_int_equal(mstream_writer_init(&w, buf, sizeof(buf), &i), -SHYPER_EINVAL);
	i.board = NULL;
	assert_int_equal(mstream_writer_init(&w, buf, sizeof(buf), &i), -SHYPER_EINVAL);
	assert_int_equal(mstream_writer_init(&w, NULL, sizeof(buf), &info), -SHYPER_EINVAL);

	assert_int_equal(mstream_writer_init(&w, buf, sizeof(buf), &info), 0);
	assert_int_equal(mstream_append(&w, "x", 1), -SHYPER_EINVAL);
	assert_int_equal(mstream_writer_init(&w, buf, sizeof(buf), &info), 0);
	assert_int_equal(mstream_end_section(&w), -SHYPER_EINVAL);
	assert_int_equal(mstream_writer_init(&w, buf, sizeof(buf), &info), 0);
	assert_int_equal(mstream_begin_section(&w, SHYPER_MIG_SEC_MEM, 1, 0), 0);
	assert_int_equal(mstream_begin_section(&w, SHYPER_MIG_SEC_MEM, 1, 0), -SHYPER_EINVAL);
	assert_int_equal(mstream_writer_init(&w, buf, sizeof(buf), &info), 0);
	assert_int_equal(mstream_begin_section(&w, SHYPER_MIG_SEC_MEM, 1, 0), 0);
	assert_int_equal(mstream_finish(&w, &total), -SHYPER_EINVAL);
	assert_int_equal(mstream_writer_init(&w, buf, sizeof(buf), &info), 0);
	assert_int_equal(mstream_finish(&w, &total), 0);
	assert_int_equal(mstream_finish(&w, &total), -SHYPER_EINVAL);
}

static void test_reader_misuse(void **state)
{
	struct mstream_reader r;
	struct mstream_section sec;
	struct mstream_error err;

	(void)state;
	assert_int_equal(mstream_reader_open(&r, NULL, 100), -SHYPER_EINVAL);
	assert_int_equal(mstream_reader_next(&r, &sec), -SHYPER_EINVAL);
	assert_int_equal(mstream_validate("SHYM", 4, &err), -SHYPER_EPROTO);
	assert_int_equal(err.section, MSTREAM_AT_HEADER);
	assert_string_equal(mstream_section_name(SHYPER_MIG_SEC_VGIC_CPU), "VGIC_CPU");
	assert_null(mstream_section_name(SHYPER_MIG_SEC_NR));
	assert_null(mstream_section_name(0));
}

/* A counting writer needs no buffer and reports what a real one writes. */
static void test_counting_writer(void **state)
{
	static uint8_t buf[4096];
	const uint8_t payload[100] = { 1, 2, 3 };
	struct mstream_writer count, real;
	size_t counted = 0, written = 0;

	(void)state;
	assert_int_equal(mstream_writer_init_count(&count, &info), 0);
	assert_int_equal(mstream_writer_init(&real, buf, sizeof(buf), &info), 0);
	for (struct mstream_writer *w = &count; w; w = w == &count ? &real : NULL) {
		assert_int_equal(mstream_begin_section(w, SHYPER_MIG_SEC_CONSOLE_HISTORY,
						       SHYPER_MIG_CONSOLE_HISTORY_VERSION, 0), 0);
		assert_int_equal(mstream_append(w, payload, sizeof(payload)), 0);
		assert_int_equal(mstream_end_section(w), 0);
	}
	assert_int_equal(mstream_finish(&count, &counted), 0);
	assert_int_equal(mstream_finish(&real, &written), 0);
	assert_int_equal(counted, written);
	assert_int_equal(count.nr_sections, real.nr_sections);
	/* A real writer still needs a buffer. */
	assert_int_equal(mstream_writer_init(&real, NULL, 0, &info), -SHYPER_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counting_writer),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_streamed),
		cmocka_unit_test(test_incremental_every_chunk_size),
		cmocka_unit_test(test_incremental_limits),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_truncation_reasons),
		cmocka_unit_test(test_flipped_bits),
		cmocka_unit_test(test_section_crc),
		cmocka_unit_test(test_unknown_type_and_version),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_missing_end),
		cmocka_unit_test(test_payload_lengths_and_counts),
		cmocka_unit_test(test_vm_config_and_vcpu_payloads),
		cmocka_unit_test(test_ptimer_payload),
		cmocka_unit_test(test_parsers_never_read_past),
		cmocka_unit_test(test_writer_never_writes_past_cap),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_reader_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
