/* Number and id parsing, enum names, core lists (see util.h). */
#include "util.h"

#include <stdio.h>
#include <string.h>

#include <shyper/hypercall.h>

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	}
	if (!*s)
		return CLI_NUM_INVALID;
	for (; *s; s++) {
		int d = digit_value(*s);

		if (d >= (int)base)
			return CLI_NUM_INVALID;
		if (v > (UINT64_MAX - (uint64_t)d) / base) {
			/* keep scanning: "0x1zz..." is invalid rather than too big */
			for (s++; *s; s++)
				if (digit_value(*s) >= (int)base)
					return CLI_NUM_INVALID;
			return CLI_NUM_OVERFLOW;
		}
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return CLI_NUM_OK;
}

int cli_parse_vm_id(const char *s, uint32_t *id)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 10)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

const char *cli_vm_type_name(uint32_t type, char *buf, size_t len)
{
	switch (type) {
	case SHYPER_VM_T_LINUX:
		return "linux";
	case SHYPER_VM_T_BARE_METAL:
		return "bare-metal";
	}
	snprintf(buf, len, "type %u", type);
	return buf;
}

const char *cli_vm_state_name(uint32_t state, char *buf, size_t len)
{
	switch (state) {
	case SHYPER_VM_S_FREE:
		return "free";
	case SHYPER_VM_S_CONFIGURING:
		return "configuring";
	case SHYPER_VM_S_READY:
		return "ready";
	case SHYPER_VM_S_RUNNING:
		return "running";
	case SHYPER_VM_S_STOPPED:
		return "stopped";
	case SHYPER_VM_S_STOPPING:
		return "stopping";
	}
	snprintf(buf, len, "state %u", state);
	return buf;
}

void cli_format_cores(uint64_t bitmap, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i = 0;

	if (len)
		buf[0] = '\0';
	if (!bitmap) {
		snprintf(buf, len, "-");
		return;
	}
	while (i < 64) {
		unsigned start, end;
		int n;

		if (!(bitmap >> i & 1)) {
			i++;
			continue;
		}
		start = i;
		while (i + 1 < 64 && (bitmap >> (i + 1) & 1))
			i++;
		end = i++;
		if (start == end)
			n = snprintf(buf + used, len - used, "%s%u", used ? "," : "", start);
		else
			n = snprintf(buf + used, len - used, "%s%u-%u", used ? "," : "",
				     start, end);
		if (n < 0 || (size_t)n >= len - used)
			return; /* truncated, still NUL-terminated */
		used += (size_t)n;
	}
}

void cli_format_bitmap(uint64_t bitmap, char *buf, size_t len)
{
	int top = 63;
	size_t used;

	while (top > 0 && !(bitmap >> top & 1))
		top--;
	/* at least four digits, like the template's 0b0100 */
	if (top < 3)
		top = 3;
	used = (size_t)snprintf(buf, len, "0b");
	for (; top >= 0 && used + 1 < len; top--)
		buf[used++] = (bitmap >> top & 1) ? '1' : '0';
	if (used < len)
		buf[used] = '\0';
}
