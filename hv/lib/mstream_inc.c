/*
 * Incremental migration stream reader: bytes arrive in pieces of any size
 * (a TCP stream, hypercall-sized chunks) and are gathered in the caller's
 * buffer one item at a time: the header, then each section's header and
 * payload. An item is judged (mstream_check.c) as soon as it is complete,
 * so a bad section header is refused before its payload is waited for.
 */
#include <lib/mstream.h>
#include <lib/mstream_check.h>
#include <lib/string.h>
#include <shyper/errno.h>

#define SEC_HDR_SIZE	sizeof(struct shyper_mig_section)

enum phase {
	PHASE_HEADER,
	PHASE_SEC_HEAD,
	PHASE_PAYLOAD,
	PHASE_DONE,
};

static void expect(struct mstream_inc *r, enum phase phase, size_t want)
{
	r->phase = phase;
	r->want = want;
}

int mstream_inc_init(struct mstream_inc *r, void *buf, size_t cap)
{
	memset(r, 0, sizeof(*r));
	mstream_check_init(&r->chk);
	r->buf = buf;
	r->cap = cap;
	expect(r, PHASE_HEADER, sizeof(struct shyper_mig_header));
	if (!buf || cap < sizeof(struct shyper_mig_header))
		return mstream_check_fail(&r->chk, -SHYPER_EINVAL,
					  "reader buffer of %zu bytes, needs at least %zu",
					  cap, sizeof(struct shyper_mig_header));
	return 0;
}

/* A whole section is in buf: judge its payload. */
static int section_done(struct mstream_inc *r, struct mstream_section *sec)
{
	struct mstream_check *c = &r->chk;

	r->fill = 0;
	if (mstream_check_section_body(c, r->buf + SEC_HDR_SIZE, sec))
		return c->err.code;
	if (c->ended) {
		expect(r, PHASE_DONE, 0);
		return MSTREAM_END;
	}
	expect(r, PHASE_SEC_HEAD, SEC_HDR_SIZE);
	return MSTREAM_SECTION;
}

/* A section header is in buf: judge it, then wait for its payload. */
static int section_head_done(struct mstream_inc *r, struct mstream_section *sec)
{
	struct mstream_check *c = &r->chk;
	uint64_t length;

	if (mstream_check_section_head(c, r->buf))
		return c->err.code;
	length = c->cur.length;
	if (length > r->cap - SEC_HDR_SIZE)
		return mstream_check_fail(c, -SHYPER_E2BIG,
					  "%llu-byte payload, the reader holds at most %zu",
					  (unsigned long long)length, r->cap - SEC_HDR_SIZE);
	if (length == 0)
		return section_done(r, sec);
	/* The header stays in buf, the payload is gathered after it. */
	expect(r, PHASE_PAYLOAD, SEC_HDR_SIZE + length);
	return MSTREAM_MORE;
}

/* The item gathered in buf is complete: judge it and set up the next. */
static int item_done(struct mstream_inc *r, struct mstream_section *sec)
{
	struct mstream_check *c = &r->chk;

	switch (r->phase) {
	case PHASE_HEADER:
		r->fill = 0;
		if (mstream_check_header(c, r->buf, UINT64_MAX))
			return c->err.code;
		expect(r, PHASE_SEC_HEAD, SEC_HDR_SIZE);
		return MSTREAM_MORE;
	case PHASE_SEC_HEAD:
		return section_head_done(r, sec);
	case PHASE_PAYLOAD:
		return section_done(r, sec);
	default:
		return mstream_check_fail(c, -SHYPER_EINVAL, "reader state %d", r->phase);
	}
}

int mstream_inc_feed(struct mstream_inc *r, const void *data, size_t len,
		     size_t *used, struct mstream_section *sec)
{
	const uint8_t *p = data;
	size_t taken = 0;
	int ret = MSTREAM_MORE;

	*used = 0;
	if (r->chk.err.code)
		return r->chk.err.code;
	if (r->phase == PHASE_DONE)
		return len ? mstream_check_fail(&r->chk, -SHYPER_EPROTO,
						"data after END") : MSTREAM_END;
	while (taken < len) {
		size_t n = r->want - r->fill;

		if (n > len - taken)
			n = len - taken;
		memcpy(r->buf + r->fill, p + taken, n);
		r->fill += n;
		taken += n;
		*used = taken;
		if (r->fill < r->want)
			break;
		ret = item_done(r, sec);
		if (ret != MSTREAM_MORE)
			break;
	}
	if (ret == MSTREAM_END && taken < len)
		return mstream_check_fail(&r->chk, -SHYPER_EPROTO, "data after END");
	return ret;
}

int mstream_inc_finish(struct mstream_inc *r)
{
	struct mstream_check *c = &r->chk;

	if (c->err.code)
		return c->err.code;
	if (r->phase == PHASE_DONE)
		return 0;
	if (r->phase == PHASE_PAYLOAD)
		return mstream_check_truncated(c, r->fill - SEC_HDR_SIZE,
					       r->want - SEC_HDR_SIZE);
	return mstream_check_truncated(c, r->fill, r->want);
}
