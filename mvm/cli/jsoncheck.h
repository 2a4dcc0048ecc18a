/*
 * Checks json-c cannot make, run on text json-c has already accepted:
 * duplicate keys in an object (json-c keeps the last silently), integer
 * literals beyond 64 bits (json-c clamps them to the largest value) and
 * single-quoted strings (json-c takes them even in strict mode).
 * This is not a parser: it only tracks enough structure to name the JSON path.
 */
#ifndef CLI_JSONCHECK_H
#define CLI_JSONCHECK_H

#include <stddef.h>

/* 0, or -1 with one line in err: "memory.region[0].length: 1e99... does not fit in 64 bits". */
int cli_json_check(const char *text, size_t len, char *err, size_t errlen);

#endif
