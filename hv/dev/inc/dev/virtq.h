/*
 * Split virtqueues (virtio 1.x, "Split Virtqueues"), device side.
 *
 * Pure code over an abstract guest memory accessor, so that the same file
 * runs in the hypervisor (over vm_ram_ptr) and in host tests and fuzzers
 * (over a simulated guest RAM buffer). Everything the guest wrote is
 * validated before use: a broken or hostile driver can only fail its own
 * queue (vq->broken, the device then sets DEVICE_NEEDS_RESET), never make
 * the device touch memory outside its own RAM or loop.
 *
 * Concurrency: the guest updates the rings while we read them. The avail
 * index is loaded with acquire semantics before the ring entries and
 * descriptors it covers; each descriptor is copied once and only the copy
 * is checked and used; the used index is published with release semantics
 * after the used element. One virtq is driven by one caller at a time (the
 * transport's device lock).
 *
 * Virtio 1.x rings are little endian; so are aarch64 (as we run it) and the
 * test hosts.
 */
#ifndef DEV_VIRTQ_H
#define DEV_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtq.c assumes a little-endian machine (virtio 1.x rings are LE)"
#endif

#define VIRTQ_MAX_SIZE 256 /* largest queue size any device offers */
/* Bytes one chain may describe in total (readable + writable). */
#define VIRTQ_MAX_CHAIN_BYTES (64u << 20)
/* Descriptors an indirect table may hold. */
#define VIRTQ_MAX_INDIRECT VIRTQ_MAX_SIZE

/*
 * The guest's RAM as the device sees it: ptr returns where [ipa, ipa + len)
 * is in the caller's address space if all of it is RAM of that guest (and
 * lies in one contiguous piece), else NULL. len is never 0.
 */
struct guest_mem {
	void *(*ptr)(void *ctx, uint64_t ipa, uint64_t len);
	void *ctx;
	/* Optional: told after the device wrote [ipa, ipa + len), for dirty
	 * logging (the device's writes do not go through stage 2). */
	void (*dirty)(void *ctx, uint64_t ipa, uint64_t len);
};

/* One validated buffer of a chain: host_ptr..host_ptr+len is guest RAM. */
struct virtq_seg {
	void *host_ptr;
	uint64_t ipa;	/* where the guest sees host_ptr */
	uint32_t len;
	bool device_writable;
};

/* What virtq_pop found: segs[0, nr_read) are readable, the rest writable. */
struct virtq_chain {
	uint16_t head;	  /* descriptor index the used element names */
	uint16_t nr_segs;
	uint16_t nr_read;
	uint32_t read_len;  /* bytes in the readable segments */
	uint32_t write_len; /* bytes in the writable segments */
	const struct guest_mem *mem; /* the queue's, told what virtq_write_chain wrote */
};

struct virtq {
	/* Programmed by the driver through the transport. */
	uint16_t num;	  /* queue size */
	bool ready;
	bool event_idx;	  /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;	  /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc_ipa, avail_ipa, used_ipa;
	/* Device progress: what migration / live update must carry. */
	uint16_t last_avail;	 /* next avail ring entry to take */
	uint16_t used_idx;	 /* our copy of used->idx */
	uint16_t signalled_used; /* used idx at the last interrupt decision */
	bool signalled_valid;
	bool broken;		 /* the driver broke the rules: no more I/O */
	int error;		 /* first error that broke it */
	/* Derived at virtq_enable, recomputed by it after a restore. */
	const struct guest_mem *mem;
	void *desc, *avail, *used;
};

/* Clears the queue to its reset state (not ready, no addresses, num 0). */
void virtq_reset(struct virtq *vq);

/*
 * Validates the driver's size and ring addresses (power of two, <= max,
 * aligned, wholly in guest RAM), resolves them, starts the indices at 0 and
 * marks the queue ready. Returns 0 or a negative SHYPER_E* code (the queue
 * is then left not ready).
 */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem, uint16_t max,
		 bool event_idx, bool indirect);

/* Recomputes the host pointers of an enabled queue (after a restore). */
int virtq_remap(struct virtq *vq, const struct guest_mem *mem);

/*
 * Takes the next available chain: its segments go to segs[] (at most
 * max_segs), its summary to *chain. Returns 1 if a chain was taken, 0 if the
 * queue is empty, or a negative SHYPER_E* code if the driver broke the
 * rules (or the chain needs more than max_segs segments): the queue is then
 * broken and every later call fails with the same code.
 */
int virtq_pop(struct virtq *vq, struct virtq_seg *segs, unsigned max_segs,
	      struct virtq_chain *chain);
/* Same as virtq_pop, but leaves the chain in the queue. */
int virtq_peek(struct virtq *vq, struct virtq_seg *segs, unsigned max_segs,
	       struct virtq_chain *chain);
/* Takes the chain the last successful virtq_peek returned, unparsed. */
void virtq_advance(struct virtq *vq);
/* True if the driver has made chains available that we have not taken. */
bool virtq_has_avail(struct virtq *vq);

/*
 * Returns a chain to the driver, `written` bytes of its writable segments
 * filled (clamped to chain->write_len). 0 or a negative code.
 */
int virtq_push(struct virtq *vq, const struct virtq_chain *chain,
	       uint32_t written);

/*
 * After one or more virtq_push: true if the driver wants a used buffer
 * notification now (VIRTIO_F_EVENT_IDX's used_event, else the avail ring's
 * NO_INTERRUPT flag). Call once per batch; it records the decision.
 */
bool virtq_should_notify(struct virtq *vq);

/* Copies between a popped chain's segments and a flat buffer, starting
 * `offset` bytes into the readable (resp. writable) part. Return bytes. */
size_t virtq_read_chain(const struct virtq_seg *segs,
			const struct virtq_chain *chain, size_t offset,
			void *buf, size_t len);
size_t virtq_write_chain(const struct virtq_seg *segs,
			 const struct virtq_chain *chain, size_t offset,
			 const void *buf, size_t len);

#endif
