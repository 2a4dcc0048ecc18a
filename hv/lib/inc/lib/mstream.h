/*
 * Codec of the migration / snapshot stream (shyper/migrate.h,
 * docs/MIGRATION.md): a writer into one buffer, a reader over a whole
 * stream in memory, an incremental reader fed in chunks of any size, and
 * parsers that check a section's variable-length payload before anyone
 * indexes into it. No allocation, no globals: built into the hypervisor,
 * the CLI and the host tests alike.
 *
 * Errors are negative SHYPER_E* codes:
 *   -SHYPER_EPROTO     not a stream, malformed, truncated, out of order;
 *   -SHYPER_EBADMSG    a header or section CRC does not match;
 *   -SHYPER_ENOTSUP    a format or section version, type, architecture or
 *                      flag this reader does not know;
 *   -SHYPER_E2BIG      a section larger than the incremental reader's buffer;
 *   -SHYPER_ENOSPC     the writer's buffer is full;
 *   -SHYPER_EINVAL     a bad argument or call order.
 * Readers also leave a sentence naming the header or the section and what
 * is wrong with it in their struct mstream_error. Errors are sticky: once a
 * reader or writer failed, every later call returns the same error.
 */
#ifndef LIB_MSTREAM_H
#define LIB_MSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <shyper/migrate.h>

/* What the readers return besides errors. */
enum mstream_status {
	MSTREAM_MORE = 0,    /* incremental reader: feed more bytes */
	MSTREAM_SECTION = 1, /* a validated section is in *sec */
	MSTREAM_END = 2,     /* END was valid: the stream is complete */
};

/* The name of a section type ("VCPU"), NULL for a type not known. */
const char *mstream_section_name(uint32_t type);

/* ---- Typed payload parsers ------------------------------------------- */

/*
 * An array inside a payload, already checked to lie within it. Elements
 * are not aligned: mstream_array_get() copies one out.
 */
struct mstream_array {
	const uint8_t *base;
	uint32_t count;
	uint32_t elem_size;
};

/* Copy element @i into @out, whose size must be the element's:
 * -SHYPER_ERANGE past the end, -SHYPER_EINVAL for a wrong @out_size. */
int mstream_array_get(const struct mstream_array *a, uint32_t i, void *out,
		      size_t out_size);

struct mstream_vm_config_view {
	struct shyper_mig_vm_config cfg;
	struct mstream_array mem_regions; /* shyper_mig_mem_region */
	struct mstream_array emu_devs;	  /* shyper_emu_dev */
	struct mstream_array pt_regions;  /* shyper_mig_pt_region */
	struct mstream_array dtb_devs;	  /* shyper_dtb_dev */
	struct mstream_array pt_irqs;	  /* uint32_t */
};

struct mstream_mem_view {
	uint64_t ipa;
	uint64_t nr_pages;
	const uint8_t *data; /* nr_pages * SHYPER_MIG_PAGE_SIZE bytes */
};

struct mstream_vgic_dist_view {
	struct shyper_mig_vgic_dist dist;
	struct mstream_array irqs; /* shyper_mig_irq, from dist.first_intid */
};

struct mstream_vgic_cpu_view {
	struct shyper_mig_vgic_cpu cpu;
	struct mstream_array irqs; /* shyper_mig_irq, INTID 0 up */
	struct mstream_array lrs;  /* uint64_t */
	struct mstream_array aprs; /* uint32_t */
};

struct mstream_vdev_view {
	struct shyper_mig_vdev dev;
	struct mstream_array queues; /* shyper_mig_vq */
	const uint8_t *blob;	     /* device-specific state */
	uint64_t blob_len;
};

struct mstream_disk_view {
	uint64_t offset;
	const uint8_t *data;
	uint64_t len; /* a whole number of sectors */
};

struct mstream_image_view {
	uint64_t offset;
	const uint8_t *data;
	uint64_t len; /* at least 1 */
};

/* Room for what any one typed parser below fills in. */
union mstream_any_view {
	struct mstream_vm_config_view cfg;
	struct mstream_mem_view mem;
	struct shyper_mig_vcpu vcpu;
	struct shyper_mig_ptimer ptimer;
	struct mstream_vgic_dist_view dist;
	struct mstream_vgic_cpu_view cpu;
	struct mstream_vdev_view vdev;
	struct mstream_disk_view disk;
	struct mstream_image_view image;
	struct shyper_mig_end end;
};

/*
 * Each parser checks a payload of @len bytes: declared counts against the
 * length (which must match exactly), reserved fields zero, flags and enum
 * values known, architectural limits (GIC, virtio). On success it fills
 * @view with copies of the fixed parts and bounds-checked arrays pointing
 * into @payload. On failure it returns -SHYPER_EPROTO and, if @why is not
 * NULL, writes what was wrong into it (at most @why_size bytes, with NUL).
 */
int mstream_parse_vm_config(const void *payload, size_t len,
			    struct mstream_vm_config_view *view,
			    char *why, size_t why_size);
int mstream_parse_mem(const void *payload, size_t len,
		      struct mstream_mem_view *view, char *why, size_t why_size);
int mstream_parse_vcpu(const void *payload, size_t len,
		       struct shyper_mig_vcpu *vcpu, char *why, size_t why_size);
int mstream_parse_ptimer(const void *payload, size_t len,
			 struct shyper_mig_ptimer *pt, char *why, size_t why_size);
int mstream_parse_vgic_dist(const void *payload, size_t len,
			    struct mstream_vgic_dist_view *view,
			    char *why, size_t why_size);
int mstream_parse_vgic_cpu(const void *payload, size_t len,
			   struct mstream_vgic_cpu_view *view,
			   char *why, size_t why_size);
int mstream_parse_vdev(const void *payload, size_t len,
		       struct mstream_vdev_view *view, char *why, size_t why_size);
int mstream_parse_disk_blocks(const void *payload, size_t len,
			      struct mstream_disk_view *view,
			      char *why, size_t why_size);
int mstream_parse_image(const void *payload, size_t len,
			struct mstream_image_view *view, char *why, size_t why_size);
int mstream_parse_end(const void *payload, size_t len,
		      struct shyper_mig_end *end, char *why, size_t why_size);

/* ---- Writer ------------------------------------------------------------ */

struct mstream_info {
	const char *board; /* shorter than SHYPER_MIG_BOARD_MAX */
	uint32_t arch;	   /* enum shyper_mig_arch */
	uint32_t gic_version;
	uint32_t flags;	   /* SHYPER_MIG_F_* */
};

struct mstream_writer {
	uint8_t *buf;
	size_t cap;
	size_t pos;	    /* bytes written so far */
	size_t sec_off;	    /* where the open section's header is */
	bool in_section;
	bool finished;
	uint32_t nr_sections;
	int error;	    /* sticky; 0 while all is well */
	struct shyper_mig_header hdr;
};

/*
 * Start a stream in @buf (@cap bytes) and write its header. With
 * SHYPER_MIG_F_STREAMED the header is final at once, so a sender may ship
 * it before the rest; otherwise mstream_finish() completes it.
 */
int mstream_writer_init(struct mstream_writer *w, void *buf, size_t cap,
			const struct mstream_info *info);
/*
 * A writer that writes nothing and only counts: after mstream_finish(),
 * *total is the size the same calls would need in a buffer.
 */
int mstream_writer_init_count(struct mstream_writer *w, const struct mstream_info *info);
/* The writer does not judge what it writes: any type, version, instance. */
int mstream_begin_section(struct mstream_writer *w, uint16_t type,
			  uint16_t version, uint32_t instance);
int mstream_append(struct mstream_writer *w, const void *data, size_t len);
/* Fill in the open section's length and CRC. */
int mstream_end_section(struct mstream_writer *w);
/* Append END, complete the header; *total gets the stream's length. */
int mstream_finish(struct mstream_writer *w, size_t *total);

/* ---- Readers ----------------------------------------------------------- */

#define MSTREAM_REASON_MAX 160
/* struct mstream_error.section when the header is at fault. */
#define MSTREAM_AT_HEADER (-1)

struct mstream_error {
	int code;	/* 0 or -SHYPER_E* */
	int32_t section; /* index of the section at fault, or MSTREAM_AT_HEADER */
	uint32_t type;	/* its type, 0 while its header was not read */
	uint32_t instance;
	char reason[MSTREAM_REASON_MAX]; /* "section 3 (VCPU #1): CRC mismatch ..." */
};

/* A section that passed every check; payload points into the reader's
 * input (mstream_reader) or buffer (mstream_inc). */
struct mstream_section {
	uint32_t index;
	uint16_t type;
	uint16_t version;
	uint32_t instance;
	uint64_t length;
	const uint8_t *payload;
};

/* The rules both readers apply, section by section (mstream_check.c). */
struct mstream_check {
	struct shyper_mig_header hdr;
	bool have_header;
	bool ended;
	bool have_cur;			/* cur holds the section being read */
	struct shyper_mig_section cur;
	uint64_t pos;			/* stream bytes accepted so far */
	uint32_t index;			/* the next section's index */
	uint32_t nr_vcpus;		/* from VM_CONFIG */
	uint64_t image_size[3];		/* from VM_CONFIG, by SHYPER_IMAGE_* */
	uint64_t image_got[3];		/* IMAGE bytes seen */
	uint32_t count[SHYPER_MIG_SEC_NR];
	uint32_t last_instance[SHYPER_MIG_SEC_NR];
	struct mstream_error err;
};

/* A whole stream in memory, which must be exactly @len bytes long. */
struct mstream_reader {
	const uint8_t *buf;
	size_t len;
	struct mstream_check chk;
};

/* Check the header; 0 or an error (also in r->chk.err). */
int mstream_reader_open(struct mstream_reader *r, const void *buf, size_t len);
/* MSTREAM_SECTION with *sec filled, MSTREAM_END, or an error. */
int mstream_reader_next(struct mstream_reader *r, struct mstream_section *sec);
/* Check a whole stream before importing any of it; @err may be NULL. */
int mstream_validate(const void *buf, size_t len, struct mstream_error *err);

/*
 * A stream arriving in pieces (from a socket, in hypercall-sized chunks).
 * Each section is gathered in the caller's @buf, which must hold a section
 * header and the largest payload the caller accepts; larger sections fail
 * with -SHYPER_E2BIG.
 */
struct mstream_inc {
	uint8_t *buf;
	size_t cap;
	size_t fill;	/* bytes of the current item gathered in buf */
	size_t want;	/* bytes the current item needs */
	int phase;	/* enum in mstream_inc.c */
	struct mstream_check chk;
};

/* -SHYPER_EINVAL if @cap cannot even hold the stream header. */
int mstream_inc_init(struct mstream_inc *r, void *buf, size_t cap);
/*
 * Take bytes from @data (@len of them) until a section is complete.
 * *used says how many were taken. Returns MSTREAM_MORE (all taken, no
 * section yet), MSTREAM_SECTION (*sec is valid until the next call; call
 * again with the bytes not used), MSTREAM_END, or an error; bytes after
 * END are an error.
 */
int mstream_inc_feed(struct mstream_inc *r, const void *data, size_t len,
		     size_t *used, struct mstream_section *sec);
/* The sender is done: 0 if END was seen, otherwise where it was cut off. */
int mstream_inc_finish(struct mstream_inc *r);

#endif
