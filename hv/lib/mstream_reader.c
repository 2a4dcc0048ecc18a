/*
 * Reader of a whole migration stream held in memory (a snapshot file, an
 * upload). It only slices the buffer; mstream_check.c judges each slice.
 */
#include <lib/mstream.h>
#include <lib/mstream_check.h>
#include <shyper/errno.h>

int mstream_reader_open(struct mstream_reader *r, const void *buf, size_t len)
{
	struct mstream_check *c = &r->chk;

	r->buf = buf;
	r->len = len;
	mstream_check_init(c);
	if (!buf)
		return mstream_check_fail(c, -SHYPER_EINVAL, "no buffer");
	if (len < sizeof(struct shyper_mig_header))
		return mstream_check_truncated(c, len, sizeof(struct shyper_mig_header));
	return mstream_check_header(c, buf, len);
}

int mstream_reader_next(struct mstream_reader *r, struct mstream_section *sec)
{
	struct mstream_check *c = &r->chk;
	size_t left;

	if (c->err.code)
		return c->err.code;
	if (!c->have_header)
		return mstream_check_fail(c, -SHYPER_EINVAL, "not opened");
	if (c->ended)
		return MSTREAM_END;
	left = r->len - c->pos;
	if (left < sizeof(struct shyper_mig_section))
		return mstream_check_truncated(c, left, sizeof(struct shyper_mig_section));
	if (mstream_check_section_head(c, r->buf + c->pos))
		return c->err.code;
	left -= sizeof(struct shyper_mig_section);
	if (c->cur.length > left)
		return mstream_check_truncated(c, left, c->cur.length);
	if (mstream_check_section_body(c, r->buf + c->pos +
				       sizeof(struct shyper_mig_section), sec))
		return c->err.code;
	if (!c->ended)
		return MSTREAM_SECTION;
	if (c->pos != r->len)
		return mstream_check_fail(c, -SHYPER_EPROTO, "data after END");
	return MSTREAM_END;
}

int mstream_validate(const void *buf, size_t len, struct mstream_error *err)
{
	struct mstream_reader r;
	struct mstream_section sec;
	int ret = mstream_reader_open(&r, buf, len);

	while (ret >= 0 && ret != MSTREAM_END)
		ret = mstream_reader_next(&r, &sec);
	if (err)
		*err = r.chk.err;
	return ret < 0 ? ret : 0;
}
