/*
 * Small helpers shared by the config parser and the commands: number and VM id
 * parsing, names of ABI enums, core-list formatting. No I/O, host-testable.
 */
#ifndef CLI_UTIL_H
#define CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

enum cli_num_status {
	CLI_NUM_OK = 0,
	CLI_NUM_INVALID = -1,  /* not decimal, 0x hex or 0b binary */
	CLI_NUM_OVERFLOW = -2, /* does not fit in 64 bits */
};

/* "123", "0x7b" / "0X7B" or "0b1111011": no sign, no spaces, at least one digit. */
int cli_parse_u64(const char *s, uint64_t *out);

/* A VM id argument: decimal digits only, at most UINT32_MAX. 0 or -1. */
int cli_parse_vm_id(const char *s, uint32_t *id);

/* "linux", "bare-metal", "running", ...; "type 7" style text for unknown values. */
const char *cli_vm_type_name(uint32_t type, char *buf, size_t len);
const char *cli_vm_state_name(uint32_t state, char *buf, size_t len);

/* Cores of a bitmap as ranges, e.g. 0b101110 -> "1-3,5"; "-" when empty. */
void cli_format_cores(uint64_t bitmap, char *buf, size_t len);

/* Bitmap as the config writes it: 0b0100. */
void cli_format_bitmap(uint64_t bitmap, char *buf, size_t len);

#endif
