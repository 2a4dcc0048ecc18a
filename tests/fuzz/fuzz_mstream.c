/*
 * libFuzzer harness for the migration stream codec (hv/lib/mstream_*.c).
 * The stream is read twice, by the whole-buffer reader and by the
 * incremental reader in chunks of a size the input picks, and the two must
 * agree: both accept with the same sections or both refuse. Every section
 * accepted is parsed again with its typed parser and every array element
 * is copied out; the payload bytes also go through every typed parser
 * directly. The stream is its own heap block of exactly its size, so ASan
 * reports any read past it.
 *
 * Input layout:
 *   0      bit 0: repair the header and section CRCs first (so mutations
 *          reach the checks behind them)
 *   1      incremental chunk size - 1
 *   2-     the stream
 *
 * Seeds: run with FUZZ_MSTREAM_WRITE_SEEDS=<dir>, the harness writes a few
 * streams with the codec's own writer there and exits; fuzz.mk does that
 * before the smoke run.
 *
 * fuzz-sources: hv/lib/crc32.c hv/lib/fmt.c hv/lib/mstream_check.c hv/lib/mstream_inc.c hv/lib/mstream_payload.c hv/lib/mstream_reader.c hv/lib/mstream_writer.c
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/crc32.h>
#include <lib/mstream.h>
#include <shyper/errno.h>
#include <shyper/migrate.h>
#include <shyper/virtio.h>

#define HDR		2
#define MODE_REPAIR	1u
#define SEC_SIZE	sizeof(struct shyper_mig_section)
#define MAX_SECTIONS	4096
#define ELEM_MAX	sizeof(struct shyper_emu_dev)	/* the largest element */

struct seen {
	uint32_t nr;
	uint16_t type[MAX_SECTIONS];
	uint32_t instance[MAX_SECTIONS];
	uint64_t length[MAX_SECTIONS];
	uint32_t crc[MAX_SECTIONS];
};

static volatile uint32_t sink;

/* Recompute the CRCs a mutation broke, walking the declared lengths. */
static void repair(uint8_t *s, size_t len)
{
	struct shyper_mig_header h;
	struct shyper_mig_section sec;
	size_t off = sizeof(h);

	if (len < sizeof(h))
		return;
	memcpy(&h, s, sizeof(h));
	h.crc = crc32(&h, offsetof(struct shyper_mig_header, crc));
	memcpy(s, &h, sizeof(h));
	while (len - off >= SEC_SIZE) {
		memcpy(&sec, s + off, SEC_SIZE);
		if (sec.length > len - off - SEC_SIZE)
			return;
		sec.crc = crc32_update(crc32(&sec, offsetof(struct shyper_mig_section, crc)),
				       s + off + SEC_SIZE, sec.length);
		memcpy(s + off, &sec, SEC_SIZE);
		off += SEC_SIZE + sec.length;
	}
}

static void touch_array(const struct mstream_array *a)
{
	uint8_t elem[ELEM_MAX];

	if (a->elem_size > sizeof(elem))
		abort();
	for (uint32_t i = 0; i < a->count; i++) {
		if (mstream_array_get(a, i, elem, a->elem_size))
			abort();
		sink += elem[0] + elem[a->elem_size - 1];
	}
	if (a->count < UINT32_MAX &&
	    mstream_array_get(a, a->count, elem, a->elem_size) != -SHYPER_ERANGE)
		abort();
}

static void touch_bytes(const uint8_t *p, uint64_t len)
{
	if (len)
		sink += p[0] + p[len - 1];
}

/* Every typed parser over @p; @must_pass: the reader accepted it as @type. */
static void parse_all(const uint8_t *p, size_t len, uint32_t type, bool must_pass)
{
	struct mstream_vm_config_view cfg;
	struct mstream_mem_view mem;
	struct shyper_mig_vcpu vcpu;
	struct mstream_vgic_dist_view dist;
	struct mstream_vgic_cpu_view cpu;
	struct mstream_vdev_view vdev;
	struct mstream_disk_view disk;
	struct shyper_mig_end end;
	struct shyper_mig_ptimer ptimer;
	char why[64];
	int ret;

	ret = mstream_parse_vm_config(p, len, &cfg, why, sizeof(why));
	if (!ret) {
		touch_array(&cfg.mem_regions);
		touch_array(&cfg.emu_devs);
		touch_array(&cfg.pt_regions);
		touch_array(&cfg.dtb_devs);
		touch_array(&cfg.pt_irqs);
	}
	if (must_pass && type == SHYPER_MIG_SEC_VM_CONFIG && ret)
		abort();
	ret = mstream_parse_mem(p, len, &mem, why, sizeof(why));
	if (!ret)
		touch_bytes(mem.data, mem.nr_pages * SHYPER_MIG_PAGE_SIZE);
	if (must_pass && type == SHYPER_MIG_SEC_MEM && ret)
		abort();
	ret = mstream_parse_vcpu(p, len, &vcpu, NULL, 0);
	if (must_pass && type == SHYPER_MIG_SEC_VCPU && ret)
		abort();
	ret = mstream_parse_ptimer(p, len, &ptimer, why, sizeof(why));
	if (must_pass && type == SHYPER_MIG_SEC_VCPU_PTIMER && ret)
		abort();
	ret = mstream_parse_vgic_dist(p, len, &dist, why, sizeof(why));
	if (!ret)
		touch_array(&dist.irqs);
	if (must_pass && type == SHYPER_MIG_SEC_VGIC_DIST && ret)
		abort();
	ret = mstream_parse_vgic_cpu(p, len, &cpu, why, sizeof(why));
	if (!ret) {
		touch_array(&cpu.irqs);
		touch_array(&cpu.lrs);
		touch_array(&cpu.aprs);
	}
	if (must_pass && type == SHYPER_MIG_SEC_VGIC_CPU && ret)
		abort();
	ret = mstream_parse_vdev(p, len, &vdev, why, sizeof(why));
	if (!ret) {
		touch_array(&vdev.queues);
		touch_bytes(vdev.blob, vdev.blob_len);
	}
	if (must_pass && type == SHYPER_MIG_SEC_VDEV && ret)
		abort();
	ret = mstream_parse_disk_blocks(p, len, &disk, why, 1);
	if (!ret)
		touch_bytes(disk.data, disk.len);
	if (must_pass && type == SHYPER_MIG_SEC_DISK_BLOCKS && ret)
		abort();
	ret = mstream_parse_end(p, len, &end, why, sizeof(why));
	if (must_pass && type == SHYPER_MIG_SEC_END && ret)
		abort();
}

static void record(struct seen *seen, const struct mstream_section *sec)
{
	uint32_t i = seen->nr++;

	if (i >= MAX_SECTIONS || sec->index != i)
		abort();
	seen->type[i] = sec->type;
	seen->instance[i] = sec->instance;
	seen->length[i] = sec->length;
	seen->crc[i] = crc32(sec->payload, sec->length);
}

static int read_whole(const uint8_t *s, size_t len, struct seen *seen,
		      struct mstream_error *err)
{
	struct mstream_reader r;
	struct mstream_section sec;
	int ret = mstream_reader_open(&r, s, len);

	while (ret >= 0 && ret != MSTREAM_END) {
		ret = mstream_reader_next(&r, &sec);
		if (ret != MSTREAM_SECTION)
			continue;
		if (sec.payload < s || sec.length > len ||
		    (size_t)(sec.payload - s) > len - sec.length)
			abort();
		record(seen, &sec);
		parse_all(sec.payload, sec.length, sec.type, true);
	}
	*err = r.chk.err;
	return ret < 0 ? ret : 0;
}

static int read_chunks(const uint8_t *s, size_t len, size_t chunk,
		       struct seen *seen, struct mstream_error *err)
{
	/* Room for any section the whole-buffer reader could accept. */
	size_t cap = len + SEC_SIZE + sizeof(struct shyper_mig_header);
	uint8_t *buf = malloc(cap);
	struct mstream_inc r;
	struct mstream_section sec;
	size_t off = 0;
	int ret;

	if (!buf)
		abort();
	ret = mstream_inc_init(&r, buf, cap);
	while (ret >= 0 && off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		size_t used;

		ret = mstream_inc_feed(&r, s + off, n, &used, &sec);
		if (used > n || (ret == MSTREAM_MORE && used != n))
			abort();
		off += used;
		if (ret == MSTREAM_SECTION)
			record(seen, &sec);
	}
	if (ret >= 0)
		ret = mstream_inc_finish(&r);
	*err = r.chk.err;
	free(buf);
	return ret < 0 ? ret : 0;
}

static bool same(const struct seen *a, const struct seen *b)
{
	if (a->nr != b->nr)
		return false;
	for (uint32_t i = 0; i < a->nr; i++)
		if (a->type[i] != b->type[i] || a->instance[i] != b->instance[i] ||
		    a->length[i] != b->length[i] || a->crc[i] != b->crc[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen whole, chunks;
	struct mstream_error werr, cerr;
	size_t len, chunk;
	uint8_t *s;
	int wret, cret;

	if (size < HDR)
		return 0;
	len = size - HDR;
	chunk = (size_t)data[1] + 1;
	s = malloc(len ? len : 1);
	if (!s)
		return 0;
	memcpy(s, data + HDR, len);
	if (data[0] & MODE_REPAIR)
		repair(s, len);

	whole.nr = chunks.nr = 0;
	wret = read_whole(s, len, &whole, &werr);
	cret = read_chunks(s, len, chunk, &chunks, &cerr);
	if (wret != werr.code || cret != cerr.code)
		abort();
	if ((wret == 0) != (cret == 0))
		abort();
	if (wret == 0 && !same(&whole, &chunks))
		abort();
	/* Same reason too, except that the whole-buffer reader sees extra
	 * bytes at once, in the header, which the other meets after END; and
	 * a section longer than the input is too big for the incremental
	 * reader before it is truncated. */
	if (wret && werr.section != MSTREAM_AT_HEADER && cret != -SHYPER_E2BIG &&
	    strcmp(werr.reason, cerr.reason))
		abort();
	if (wret && (werr.reason[0] == '\0' || memchr(werr.reason, '\0',
						       sizeof(werr.reason)) == NULL))
		abort();

	parse_all(s, len, 0, false);
	free(s);
	return 0;
}

/* ---- Seed corpus: streams the codec's writer makes. */

static void seed_section(struct mstream_writer *w, uint16_t type, uint16_t version,
			 uint32_t instance, const void *p, size_t len)
{
	if (mstream_begin_section(w, type, version, instance) ||
	    mstream_append(w, p, len) || mstream_end_section(w))
		abort();
}

static void seed_vm(struct mstream_writer *w, uint32_t nr_vcpus)
{
	struct {
		struct shyper_mig_vm_config cfg;
		struct shyper_mig_mem_region mem;
		uint32_t irqs[2];
	} vm = { .mem = { 0x80000000ULL, 0x8000000ULL }, .irqs = { 40, 41 } };

	strcpy(vm.cfg.desc.name, "seed");
	strcpy(vm.cfg.desc.cmdline, "console=hvc0");
	vm.cfg.nr_vcpus = nr_vcpus;
	vm.cfg.nr_mem_regions = 1;
	vm.cfg.nr_pt_irqs = 2;
	seed_section(w, SHYPER_MIG_SEC_VM_CONFIG, SHYPER_MIG_VM_CONFIG_VERSION, 0,
		     &vm, sizeof(vm));
}

static void seed_vcpus(struct mstream_writer *w, uint32_t nr_vcpus)
{
	struct shyper_mig_vcpu vcpu;

	for (uint32_t i = 0; i < nr_vcpus; i++) {
		memset(&vcpu, 0, sizeof(vcpu));
		vcpu.pc = 0x80080000ULL + i;
		vcpu.vmpidr_el2 = i;
		vcpu.psci_state = i ? SHYPER_MIG_PSCI_OFF : SHYPER_MIG_PSCI_ON;
		seed_section(w, SHYPER_MIG_SEC_VCPU, SHYPER_MIG_VCPU_VERSION, i,
			     &vcpu, sizeof(vcpu));
		if (i == 0) {
			struct shyper_mig_ptimer pt = { .ctl = 1, .cval = 1000, .cntpct = 900 };

			seed_section(w, SHYPER_MIG_SEC_VCPU_PTIMER,
				     SHYPER_MIG_VCPU_PTIMER_VERSION, i, &pt, sizeof(pt));
		}
	}
}

static void seed_devices(struct mstream_writer *w, uint32_t nr_vcpus)
{
	struct {
		struct shyper_mig_vgic_dist d;
		struct shyper_mig_irq irq[4];
	} dist = { { .first_intid = 32, .nr_irqs = 4 },
		   { { .flags = SHYPER_MIG_IRQ_ENABLED, .priority = 0xa0 } } };
	struct {
		struct shyper_mig_vgic_cpu c;
		struct shyper_mig_irq irq[2];
		uint64_t lr[2];
		uint32_t apr[2];
	} cpu = { { .nr_private = 2, .nr_lrs = 2, .nr_aprs = 2 },
		  { { .flags = SHYPER_MIG_IRQ_PENDING } }, { 1, 2 }, { 0, 0 } };
	struct {
		struct shyper_mig_vdev d;
		struct shyper_mig_vq q[2];
		uint64_t blob_len;
		uint8_t blob[4];
	} vdev = { { .device_id = VIRTIO_ID_CONSOLE, .nr_queues = 2 },
		   { { .size = 64, .ready = 1 }, { .size = 64 } }, 4, "abc" };
	struct {
		struct shyper_mig_disk_blocks d;
		uint8_t sector[SHYPER_MIG_SECTOR_SIZE];
	} disk = { { 4096 }, { 0 } };
	struct {
		struct shyper_mig_mem m;
		uint8_t page[SHYPER_MIG_PAGE_SIZE];
	} mem = { { 0x80000000ULL, 1 }, { 0 } };

	seed_section(w, SHYPER_MIG_SEC_MEM, SHYPER_MIG_MEM_VERSION, 0, &mem, sizeof(mem));
	seed_section(w, SHYPER_MIG_SEC_VGIC_DIST, SHYPER_MIG_VGIC_DIST_VERSION, 0,
		     &dist, sizeof(dist));
	for (uint32_t i = 0; i < nr_vcpus; i++)
		seed_section(w, SHYPER_MIG_SEC_VGIC_CPU, SHYPER_MIG_VGIC_CPU_VERSION, i,
			     &cpu, sizeof(cpu));
	seed_section(w, SHYPER_MIG_SEC_VDEV, SHYPER_MIG_VDEV_VERSION, 0, &vdev, sizeof(vdev));
	seed_section(w, SHYPER_MIG_SEC_CONSOLE_HISTORY, SHYPER_MIG_CONSOLE_HISTORY_VERSION,
		     0, "$ ", 2);
	seed_section(w, SHYPER_MIG_SEC_DISK_BLOCKS, SHYPER_MIG_DISK_BLOCKS_VERSION, 1,
		     &disk, sizeof(disk));
}

static void seed_write(const char *dir, const char *name, uint8_t mode,
		       uint8_t chunk, const uint8_t *s, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(mode, f) == EOF || fputc(chunk, f) == EOF ||
	    fwrite(s, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void write_seeds(const char *dir)
{
	static uint8_t buf[16384];
	struct mstream_info info = { "qemu-virt", SHYPER_MIG_ARCH_AARCH64, 3, 0 };
	struct mstream_writer w;
	size_t len;

	/* One vCPU, nothing else. */
	if (mstream_writer_init(&w, buf, sizeof(buf), &info))
		abort();
	seed_vm(&w, 1);
	seed_vcpus(&w, 1);
	if (mstream_finish(&w, &len))
		abort();
	seed_write(dir, "minimal", 0, 63, buf, len);

	/* Every section type, two vCPUs; plain and with CRC repair. */
	if (mstream_writer_init(&w, buf, sizeof(buf), &info))
		abort();
	seed_vm(&w, 2);
	seed_vcpus(&w, 2);
	seed_devices(&w, 2);
	if (mstream_finish(&w, &len))
		abort();
	seed_write(dir, "full", 0, 255, buf, len);
	seed_write(dir, "full-repair", MODE_REPAIR, 6, buf, len);

	/* Streamed and live, GICv2. */
	info.flags = SHYPER_MIG_F_STREAMED | SHYPER_MIG_F_LIVE;
	info.gic_version = 2;
	if (mstream_writer_init(&w, buf, sizeof(buf), &info))
		abort();
	seed_vm(&w, 3);
	seed_devices(&w, 3);
	seed_vcpus(&w, 3);
	if (mstream_finish(&w, &len))
		abort();
	seed_write(dir, "streamed-repair", MODE_REPAIR, 0, buf, len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_MSTREAM_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
