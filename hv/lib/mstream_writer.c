/*
 * Migration stream writer into one caller-owned buffer. Every write checks
 * the room left first and fails whole: the writer never touches a byte at
 * or past cap, and after its first error it refuses all further work.
 */
#include <stdint.h>
#include <lib/crc32.h>
#include <lib/mstream.h>
#include <lib/string.h>
#include <shyper/errno.h>

#define HDR_CRC_SPAN	offsetof(struct shyper_mig_header, crc)
#define SEC_CRC_SPAN	offsetof(struct shyper_mig_section, crc)

static int fail(struct mstream_writer *w, int code)
{
	if (!w->error)
		w->error = code;
	return w->error;
}

static int put(struct mstream_writer *w, const void *data, size_t len)
{
	if (len > w->cap - w->pos)
		return fail(w, -SHYPER_ENOSPC);
	if (w->buf)
		memcpy(w->buf + w->pos, data, len);
	w->pos += len;
	return 0;
}

static void write_header(struct mstream_writer *w)
{
	if (!w->buf)
		return;
	w->hdr.crc = crc32(&w->hdr, HDR_CRC_SPAN);
	memcpy(w->buf, &w->hdr, sizeof(w->hdr));
}

/* buf NULL: count only. */
static int init(struct mstream_writer *w, void *buf, size_t cap,
		const struct mstream_info *info)
{
	size_t board_len;

	memset(w, 0, sizeof(*w));
	if (!info || !info->board)
		return fail(w, -SHYPER_EINVAL);
	board_len = strnlen(info->board, SHYPER_MIG_BOARD_MAX);
	if (board_len == SHYPER_MIG_BOARD_MAX)
		return fail(w, -SHYPER_EINVAL);
	w->buf = buf;
	w->cap = cap;
	memcpy(w->hdr.magic, SHYPER_MIG_MAGIC, SHYPER_MIG_MAGIC_LEN);
	w->hdr.version = SHYPER_MIG_FORMAT_VERSION;
	w->hdr.header_size = sizeof(w->hdr);
	w->hdr.arch = info->arch;
	w->hdr.gic_version = info->gic_version;
	w->hdr.flags = info->flags;
	memcpy(w->hdr.board, info->board, board_len);
	if (cap < sizeof(w->hdr))
		return fail(w, -SHYPER_ENOSPC);
	/* Streamed: the header is final now. Otherwise finish() rewrites it. */
	write_header(w);
	w->pos = sizeof(w->hdr);
	return 0;
}

int mstream_writer_init_count(struct mstream_writer *w, const struct mstream_info *info)
{
	return init(w, 0, SIZE_MAX, info);
}

int mstream_begin_section(struct mstream_writer *w, uint16_t type,
			  uint16_t version, uint32_t instance)
{
	struct shyper_mig_section s = {
		.type = type, .version = version, .instance = instance,
	};
	size_t off = w->pos;

	if (w->error)
		return w->error;
	if (w->in_section || w->finished)
		return fail(w, -SHYPER_EINVAL);
	if (put(w, &s, sizeof(s)))
		return w->error;
	w->sec_off = off;
	w->in_section = true;
	return 0;
}

int mstream_append(struct mstream_writer *w, const void *data, size_t len)
{
	if (w->error)
		return w->error;
	if (!w->in_section)
		return fail(w, -SHYPER_EINVAL);
	return put(w, data, len);
}

int mstream_end_section(struct mstream_writer *w)
{
	struct shyper_mig_section s;
	const uint8_t *payload;

	if (w->error)
		return w->error;
	if (!w->in_section)
		return fail(w, -SHYPER_EINVAL);
	if (!w->buf) {
		w->in_section = false;
		w->nr_sections++;
		return 0;
	}
	memcpy(&s, w->buf + w->sec_off, sizeof(s));
	payload = w->buf + w->sec_off + sizeof(s);
	s.length = w->pos - w->sec_off - sizeof(s);
	s.crc = crc32_update(crc32(&s, SEC_CRC_SPAN), payload, s.length);
	memcpy(w->buf + w->sec_off, &s, sizeof(s));
	w->in_section = false;
	w->nr_sections++;
	return 0;
}

int mstream_finish(struct mstream_writer *w, size_t *total)
{
	struct shyper_mig_end end = { 0 };

	if (w->error)
		return w->error;
	if (w->in_section || w->finished)
		return fail(w, -SHYPER_EINVAL);
	end.total_length = w->pos + sizeof(struct shyper_mig_section) + sizeof(end);
	end.nr_sections = w->nr_sections + 1;
	if (mstream_begin_section(w, SHYPER_MIG_SEC_END, SHYPER_MIG_END_VERSION, 0) ||
	    mstream_append(w, &end, sizeof(end)) || mstream_end_section(w))
		return w->error;
	if (!(w->hdr.flags & SHYPER_MIG_F_STREAMED)) {
		w->hdr.nr_sections = w->nr_sections;
		w->hdr.total_length = w->pos;
		write_header(w);
	}
	w->finished = true;
	if (total)
		*total = w->pos;
	return 0;
}

int mstream_writer_init(struct mstream_writer *w, void *buf, size_t cap,
			const struct mstream_info *info)
{
	if (!buf) {
		memset(w, 0, sizeof(*w));
		return fail(w, -SHYPER_EINVAL);
	}
	return init(w, buf, cap, info);
}
