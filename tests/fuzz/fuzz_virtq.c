/*
 * libFuzzer harness for the split virtqueue parser (hv/dev/virtq.c): the
 * input is a guest's RAM (descriptor tables, driver and device areas,
 * indirect tables, buffers) plus the queue parameters a driver programs.
 * The harness enables the queue, then pops chains until the queue is empty
 * or broken, reading every readable segment and filling every writable one
 * as a device would, pushing used elements and asking whether to notify.
 * The RAM is its own heap block of exactly its size, so ASan reports any
 * access outside it; the loop bound fails the run if the parser ever hands
 * out more chains than the driver made available.
 *
 * Input layout (little endian):
 *   0      log2 of the queue size (mod 9: 1 .. 256)
 *   1      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bits 2-7: segment array - 1
 *   2-3    descriptor table offset in RAM   (IPA = RAM_IPA + offset)
 *   4-5    driver area offset
 *   6-7    device area offset
 *   8-     RAM contents (the rest is zero); offsets may point past RAM
 *
 * Seeds: run with FUZZ_VIRTQ_WRITE_SEEDS=<dir>, the harness writes a few
 * well-formed queues there (plain, mixed, indirect, EVENT_IDX, a full
 * ring of 256) and exits; fuzz.mk does that before the smoke run.
 *
 * fuzz-sources: hv/dev/virtq.c
 */
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dev/virtq.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

#define RAM_IPA 0x10000ULL
#define RAM_SIZE 0x4000u
#define HDR 8
#define MAX_SEGS 64

struct ram {
	uint8_t *base;
	size_t size;
};

static void *ram_ptr(void *ctx, uint64_t ipa, uint64_t len)
{
	struct ram *r = ctx;

	if (len == 0)
		abort(); /* the contract: never asked for nothing */
	if (ipa < RAM_IPA || len > r->size || ipa - RAM_IPA > r->size - len)
		return NULL;
	return r->base + (ipa - RAM_IPA);
}

static volatile uint32_t sink;

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq_seg segs[MAX_SEGS];
	struct virtq_chain c;
	struct virtq vq;
	struct ram r;
	struct guest_mem gm = { .ptr = ram_ptr, .ctx = &r };
	uint8_t scratch[512];
	unsigned max_segs, pops = 0;
	uint32_t sum = 0;
	int ret;

	if (size < HDR)
		return 0;
	r.size = RAM_SIZE;
	r.base = malloc(r.size);
	if (!r.base)
		return 0;
	memset(r.base, 0, r.size);
	memcpy(r.base, data + HDR, size - HDR < r.size ? size - HDR : r.size);

	virtq_reset(&vq);
	vq.num = (uint16_t)(1u << (data[0] % 9));
	max_segs = 1 + (data[1] >> 2);
	vq.desc_ipa = RAM_IPA + le16(data + 2);
	vq.avail_ipa = RAM_IPA + le16(data + 4);
	vq.used_ipa = RAM_IPA + le16(data + 6);
	if (virtq_enable(&vq, &gm, VIRTQ_MAX_SIZE, data[1] & 1, data[1] & 2)) {
		free(r.base);
		return 0;
	}
	/* Writable buffers may alias the rings, so the "driver" can keep
	 * adding chains: bound the work like a device bounds one kick. */
	for (;;) {
		if (pops & 1) {
			ret = virtq_peek(&vq, segs, max_segs, &c);
			if (ret < 0)
				break;
		}
		ret = virtq_pop(&vq, segs, max_segs, &c);
		if (ret != 1)
			break;
		if (++pops > 4u * vq.num + 4)
			break;
		if (c.nr_segs > max_segs || c.nr_read > c.nr_segs)
			abort();
		uint64_t rl = 0, wl = 0;
		for (unsigned i = 0; i < c.nr_segs; i++) {
			const uint8_t *p = segs[i].host_ptr;

			if (segs[i].device_writable != (i >= c.nr_read) || !segs[i].len)
				abort();
			/* Touch both ends: ASan checks them against RAM. */
			sum += p[0] + p[segs[i].len - 1];
			if (segs[i].device_writable) {
				memset(segs[i].host_ptr, 0xee, segs[i].len);
				wl += segs[i].len;
			} else {
				rl += segs[i].len;
			}
		}
		if (rl != c.read_len || wl != c.write_len ||
		    rl + wl > VIRTQ_MAX_CHAIN_BYTES)
			abort();
		size_t off = c.read_len ? (sum % c.read_len) : 0;
		(void)virtq_read_chain(segs, &c, off, scratch, sizeof(scratch));
		off = c.write_len ? (sum % c.write_len) : 0;
		(void)virtq_write_chain(segs, &c, off, scratch, sizeof(scratch));
		if (virtq_push(&vq, &c, sum) != 0)
			abort();
		if (pops % 3 == 0)
			(void)virtq_should_notify(&vq);
	}
	if (ret < 0) {
		if (!vq.broken || vq.error != ret)
			abort();
		/* Broken stays broken. */
		if (virtq_pop(&vq, segs, max_segs, &c) != ret)
			abort();
	} else if (vq.broken) {
		abort();
	}
	(void)virtq_should_notify(&vq);
	free(r.base);
	sink = sum;
	return 0;
}

/* Seed corpus: a header and RAM images as a well-behaved driver makes them. */
struct seed {
	uint8_t b[HDR + 0x3000];
};

static void seed_hdr(struct seed *s, unsigned log2n, unsigned flags)
{
	memset(s, 0, sizeof(*s));
	s->b[0] = (uint8_t)log2n;
	s->b[1] = (uint8_t)(flags | (15 << 2)); /* 16 segments */
	/* desc 0x0000, avail 0x1000, used 0x2000 (offsets stay 0 for desc) */
	s->b[5] = 0x10;
	s->b[7] = 0x20;
}

static void seed_desc(struct seed *s, uint32_t table_off, unsigned i,
		      uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = s->b + HDR + table_off + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void seed_avail(struct seed *s, unsigned num, uint16_t head)
{
	uint8_t *a = s->b + HDR + 0x1000;
	uint16_t idx = le16(a + 2);

	memcpy(a + 4 + 2 * (idx % num), &head, 2);
	idx++;
	memcpy(a + 2, &idx, 2);
}

static void seed_write(const char *dir, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, sizeof(s->b), f) != sizeof(s->b) || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void write_seeds(const char *dir)
{
	static struct seed s;
	const uint64_t data = RAM_IPA + 0x2800;

	/* Size 8: readable; readable + 2 writable; writable. */
	seed_hdr(&s, 3, 0);
	seed_desc(&s, 0, 0, data, 16, 0, 0);
	seed_desc(&s, 0, 1, data + 0x10, 8, VIRTQ_DESC_F_NEXT, 4);
	seed_desc(&s, 0, 4, data + 0x20, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 5);
	seed_desc(&s, 0, 5, data + 0x30, 8, VIRTQ_DESC_F_WRITE, 0);
	seed_desc(&s, 0, 2, data + 0x40, 64, VIRTQ_DESC_F_WRITE, 0);
	seed_avail(&s, 8, 0);
	seed_avail(&s, 8, 1);
	seed_avail(&s, 8, 2);
	seed_write(dir, "plain", &s);

	/* Same with EVENT_IDX and an indirect table of 3 at 0x2400. */
	s.b[1] |= 3;
	seed_desc(&s, 0x2400, 0, data, 4, VIRTQ_DESC_F_NEXT, 1);
	seed_desc(&s, 0x2400, 1, data + 0x10, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	seed_desc(&s, 0x2400, 2, data + 0x20, 4, VIRTQ_DESC_F_WRITE, 0);
	seed_desc(&s, 0, 3, RAM_IPA + 0x2400, 48, VIRTQ_DESC_F_INDIRECT, 0);
	seed_avail(&s, 8, 3);
	seed_write(dir, "indirect-event-idx", &s);

	/* Size 256, a full ring of one-descriptor chains. */
	seed_hdr(&s, 8, 1);
	for (unsigned i = 0; i < 256; i++) {
		seed_desc(&s, 0, i, data + 8 * (i % 64), 8,
			  i & 1 ? VIRTQ_DESC_F_WRITE : 0, 0);
		seed_avail(&s, 256, (uint16_t)i);
	}
	seed_write(dir, "full-256", &s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_VIRTQ_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
