/*
 * Split virtqueues, device side (virtio 1.2, 2.7). Written from the
 * specification; see dev/virtq.h for the contract.
 *
 * Layout of the three areas for a queue of size n:
 *   descriptor table  n x { le64 addr; le32 len; le16 flags; le16 next; }
 *   driver area       le16 flags; le16 idx; le16 ring[n]; le16 used_event;
 *   device area       le16 flags; le16 idx; { le32 id; le32 len; } ring[n];
 *                     le16 avail_event;
 */
#include <dev/virtq.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>
#include <string.h>

#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4
#define USED_ELEM_SIZE 8

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

_Static_assert(sizeof(struct vdesc) == VIRTQ_DESC_SIZE, "descriptor layout");

/* Guest-shared fields: single-copy atomic accesses, so that the compiler
 * neither tears nor repeats them. */
static inline uint16_t ld16(const void *p, size_t off)
{
	return __atomic_load_n((const uint16_t *)((const uint8_t *)p + off),
			       __ATOMIC_RELAXED);
}

static inline uint16_t ld16_acquire(const void *p, size_t off)
{
	return __atomic_load_n((const uint16_t *)((const uint8_t *)p + off),
			       __ATOMIC_ACQUIRE);
}

static inline void st16(void *p, size_t off, uint16_t v)
{
	__atomic_store_n((uint16_t *)((uint8_t *)p + off), v, __ATOMIC_RELAXED);
}

static inline void st16_release(void *p, size_t off, uint16_t v)
{
	__atomic_store_n((uint16_t *)((uint8_t *)p + off), v, __ATOMIC_RELEASE);
}

static inline void st32(void *p, size_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)((uint8_t *)p + off), v, __ATOMIC_RELAXED);
}

/* [ipa, ipa + len) of guest RAM, or NULL (also when the range wraps). */
static void *map(const struct guest_mem *mem, uint64_t ipa, uint64_t len)
{
	if (!mem || !mem->ptr || len == 0 || ipa + len < ipa)
		return NULL;
	return mem->ptr(mem->ctx, ipa, len);
}

/* The device wrote [ipa, ipa + len) of guest RAM: after the write. */
static void mark(const struct guest_mem *mem, uint64_t ipa, uint64_t len)
{
	if (mem && mem->dirty)
		mem->dirty(mem->ctx, ipa, len);
}

/* Reads descriptor i of a table once; only the copy is looked at after. */
static void read_desc(const void *table, uint32_t i, struct vdesc *d)
{
	memcpy(d, (const uint8_t *)table + (size_t)i * VIRTQ_DESC_SIZE, sizeof(*d));
	/* The copy is the value: no reloading from guest memory past here. */
	__asm__ volatile("" ::: "memory");
}

static int fail(struct virtq *vq, int err)
{
	if (!vq->broken) {
		vq->broken = true;
		vq->error = err;
	}
	return vq->error;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static int map_rings(struct virtq *vq, const struct guest_mem *mem)
{
	uint16_t n = vq->num;
	void *desc, *avail, *used;

	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -SHYPER_EINVAL;
	if ((vq->desc_ipa % VIRTQ_DESC_ALIGN) || (vq->avail_ipa % VIRTQ_AVAIL_ALIGN) ||
	    (vq->used_ipa % VIRTQ_USED_ALIGN))
		return -SHYPER_EINVAL;
	desc = map(mem, vq->desc_ipa, VIRTQ_DESC_TABLE_BYTES(n));
	avail = map(mem, vq->avail_ipa, VIRTQ_AVAIL_BYTES(n));
	used = map(mem, vq->used_ipa, VIRTQ_USED_BYTES(n));
	if (!desc || !avail || !used)
		return -SHYPER_EFAULT;
	/* The host mapping keeps the guest's alignment (or atomics could trap). */
	if (((uintptr_t)desc % 8) || ((uintptr_t)avail % 2) || ((uintptr_t)used % 4))
		return -SHYPER_EFAULT;
	vq->mem = mem;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	return 0;
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem, uint16_t max,
		 bool event_idx, bool indirect)
{
	int ret;

	vq->ready = false;
	if (max > VIRTQ_MAX_SIZE)
		max = VIRTQ_MAX_SIZE;
	if (vq->num > max)
		return -SHYPER_EINVAL;
	ret = map_rings(vq, mem);
	if (ret)
		return ret;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->broken = false;
	vq->error = 0;
	st16(vq->used, USED_FLAGS, 0);
	st16_release(vq->used, USED_IDX, 0);
	mark(mem, vq->used_ipa + USED_FLAGS, USED_RING);
	vq->ready = true;
	return 0;
}

int virtq_remap(struct virtq *vq, const struct guest_mem *mem)
{
	int ret;

	if (!vq->ready)
		return 0;
	ret = map_rings(vq, mem);
	if (ret) {
		vq->ready = false;
		return ret;
	}
	return 0;
}

/* Chains the driver made available that we have not taken, or an error. */
static int avail_count(struct virtq *vq)
{
	uint16_t idx = ld16_acquire(vq->avail, AVAIL_IDX);
	uint16_t n = (uint16_t)(idx - vq->last_avail);

	if (n > vq->num)
		return fail(vq, -SHYPER_EPROTO); /* more than a full ring */
	return n;
}

bool virtq_has_avail(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	return avail_count(vq) > 0;
}

/* Follows the chain from `head` into segs[]; 1 or a negative code. */
static int walk_chain(struct virtq *vq, uint16_t head, struct virtq_seg *segs,
		      unsigned max_segs, struct virtq_chain *chain)
{
	const void *table = vq->desc;
	uint32_t table_n = vq->num;
	uint32_t budget = vq->num; /* descriptors left before it must be a loop */
	uint32_t i = head;
	bool in_indirect = false, seen_write = false;
	uint64_t rlen = 0, wlen = 0;
	unsigned nseg = 0, nread = 0;
	struct vdesc d;

	if (head >= vq->num)
		return fail(vq, -SHYPER_EINVAL);
	for (;;) {
		if (budget == 0)
			return fail(vq, -SHYPER_EPROTO); /* loop or too long */
		budget--;
		read_desc(table, i, &d);

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* Its own WRITE flag is ignored (spec 2.7.5.3.2). */
			if (!vq->indirect || in_indirect || (d.flags & VIRTQ_DESC_F_NEXT))
				return fail(vq, -SHYPER_EPROTO);
			if (d.len == 0 || d.len % VIRTQ_DESC_SIZE ||
			    d.len / VIRTQ_DESC_SIZE > VIRTQ_MAX_INDIRECT)
				return fail(vq, -SHYPER_EINVAL);
			table = map(vq->mem, d.addr, d.len);
			if (!table)
				return fail(vq, -SHYPER_EFAULT);
			table_n = d.len / VIRTQ_DESC_SIZE;
			budget = table_n;
			in_indirect = true;
			i = 0;
			continue;
		}

		bool w = d.flags & VIRTQ_DESC_F_WRITE;

		if (!w && seen_write)
			return fail(vq, -SHYPER_EPROTO); /* readable after writable */
		seen_write |= w;
		/* Empty buffers carry nothing: skipped, their address unused. */
		if (d.len) {
			void *p;

			if (rlen + wlen + d.len > VIRTQ_MAX_CHAIN_BYTES)
				return fail(vq, -SHYPER_E2BIG);
			if (nseg >= max_segs)
				return fail(vq, -SHYPER_E2BIG);
			p = map(vq->mem, d.addr, d.len);
			if (!p)
				return fail(vq, -SHYPER_EFAULT);
			segs[nseg].host_ptr = p;
			segs[nseg].ipa = d.addr;
			segs[nseg].len = d.len;
			segs[nseg].device_writable = w;
			nseg++;
			if (w) {
				wlen += d.len;
			} else {
				rlen += d.len;
				nread++;
			}
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= table_n)
			return fail(vq, -SHYPER_EINVAL);
		i = d.next;
	}
	chain->head = head;
	chain->nr_segs = (uint16_t)nseg;
	chain->nr_read = (uint16_t)nread;
	chain->read_len = (uint32_t)rlen;
	chain->write_len = (uint32_t)wlen;
	chain->mem = vq->mem;
	return 1;
}

int virtq_peek(struct virtq *vq, struct virtq_seg *segs, unsigned max_segs,
	       struct virtq_chain *chain)
{
	int n;

	if (vq->broken)
		return vq->error;
	if (!vq->ready)
		return 0;
	n = avail_count(vq);
	if (n < 0)
		return n;
	if (n == 0) {
		if (!vq->event_idx)
			return 0;
		/* Ask for a notification when the next chain comes, then look
		 * again: the driver may have added one before seeing our wish. */
		st16(vq->used, USED_RING + USED_ELEM_SIZE * (size_t)vq->num,
		     vq->last_avail);
		mark(vq->mem, vq->used_ipa + USED_RING + USED_ELEM_SIZE * (uint64_t)vq->num,
		     sizeof(uint16_t));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		n = avail_count(vq);
		if (n <= 0)
			return n;
	}
	uint16_t head = ld16(vq->avail,
			     AVAIL_RING + 2 * (size_t)(vq->last_avail & (vq->num - 1)));
	return walk_chain(vq, head, segs, max_segs, chain);
}

int virtq_pop(struct virtq *vq, struct virtq_seg *segs, unsigned max_segs,
	      struct virtq_chain *chain)
{
	int ret = virtq_peek(vq, segs, max_segs, chain);

	if (ret == 1)
		vq->last_avail++;
	return ret;
}

void virtq_advance(struct virtq *vq)
{
	/* Never past what the driver made available, whatever the caller. */
	if (vq->ready && !vq->broken && avail_count(vq) > 0)
		vq->last_avail++;
}

int virtq_push(struct virtq *vq, const struct virtq_chain *chain,
	       uint32_t written)
{
	size_t elem;

	if (vq->broken)
		return vq->error;
	if (!vq->ready || chain->head >= vq->num)
		return -SHYPER_EINVAL;
	if (written > chain->write_len)
		written = chain->write_len;
	elem = USED_RING + USED_ELEM_SIZE * (size_t)(vq->used_idx & (vq->num - 1));
	st32(vq->used, elem, chain->head);
	st32(vq->used, elem + 4, written);
	vq->used_idx++;
	/* The element is visible before the index that covers it. */
	st16_release(vq->used, USED_IDX, vq->used_idx);
	mark(vq->mem, vq->used_ipa + elem, USED_ELEM_SIZE);
	mark(vq->mem, vq->used_ipa + USED_IDX, sizeof(uint16_t));
	return 0;
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, cur = vq->used_idx;
	bool valid = vq->signalled_valid;

	if (!vq->ready || vq->broken)
		return false;
	if (old == cur)
		return false; /* nothing pushed since the last decision */
	/* Our used idx store is visible before we read the driver's wish;
	 * pairs with the driver's barrier between its own two accesses. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = cur;
	vq->signalled_valid = true;
	if (vq->event_idx) {
		uint16_t ev = ld16(vq->avail, AVAIL_RING + 2 * (size_t)vq->num);

		if (!valid)
			return true;
		/* Notify if used_event lies in [old, cur) (spec 2.7.10). */
		return (uint16_t)(cur - ev - 1) < (uint16_t)(cur - old);
	}
	return !(ld16(vq->avail, AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* mem: told what was written when to_chain, else NULL. */
static size_t copy_chain(const struct virtq_seg *segs, unsigned first,
			 unsigned end, size_t offset, void *buf, size_t len,
			 const struct guest_mem *mem, bool to_chain)
{
	size_t done = 0;

	for (unsigned s = first; s < end && done < len; s++) {
		size_t seg_len = segs[s].len, n;

		if (offset >= seg_len) {
			offset -= seg_len;
			continue;
		}
		n = seg_len - offset;
		if (n > len - done)
			n = len - done;
		if (to_chain) {
			memcpy((uint8_t *)segs[s].host_ptr + offset,
			       (const uint8_t *)buf + done, n);
			mark(mem, segs[s].ipa + offset, n);
		} else {
			memcpy((uint8_t *)buf + done,
			       (const uint8_t *)segs[s].host_ptr + offset, n);
		}
		done += n;
		offset = 0;
	}
	return done;
}

size_t virtq_read_chain(const struct virtq_seg *segs,
			const struct virtq_chain *chain, size_t offset,
			void *buf, size_t len)
{
	return copy_chain(segs, 0, chain->nr_read, offset, buf, len, 0, false);
}

size_t virtq_write_chain(const struct virtq_seg *segs,
			 const struct virtq_chain *chain, size_t offset,
			 const void *buf, size_t len)
{
	return copy_chain(segs, chain->nr_read, chain->nr_segs, offset,
			  (void *)buf, len, chain->mem, true);
}
