/*
 * The stream rules both readers share (hv/lib/mstream_check.c). A reader
 * gets the bytes; these functions judge them and keep the state that the
 * ordering rules need in struct mstream_check. Not for importers: they use
 * the readers of lib/mstream.h.
 */
#ifndef LIB_MSTREAM_CHECK_H
#define LIB_MSTREAM_CHECK_H

#include <stdarg.h>
#include <lib/mstream.h>

void mstream_check_init(struct mstream_check *c);

/* @bytes: sizeof(struct shyper_mig_header) bytes of a stream's start;
 * @given: the stream's length if known (a buffer), else UINT64_MAX. */
int mstream_check_header(struct mstream_check *c, const void *bytes,
			 uint64_t given);

/* A section header, before its payload is read: type, version, order,
 * instance, length against the header's total. */
int mstream_check_section_head(struct mstream_check *c, const void *bytes);

/* The payload of the section mstream_check_section_head() accepted: CRC,
 * typed contents, END's totals. Fills *sec and moves on to the next. */
int mstream_check_section_body(struct mstream_check *c, const uint8_t *payload,
			       struct mstream_section *sec);

/*
 * Record an error @code with a reason about the header (no section read
 * yet) or the current section, and return @code. "in section" gives
 * "section 5 (MEM): <reason>".
 */
int mstream_check_fail(struct mstream_check *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The stream stopped at position c->pos with @have of @need bytes of the
 * next item (header, section header or payload) present. */
int mstream_check_truncated(struct mstream_check *c, uint64_t have,
			    uint64_t need);

#endif
