/*
 * The shyper CLI's helpers: number and VM id parsing, core lists, enum names
 * (mvm/cli/util.c) and the error names of the /dev/shyper wrapper (mvm/cli/hvc.c).
 *
 * unit-sources: mvm/cli/util.c mvm/cli/hvc.c mvm/cli/util.h mvm/cli/hvc.h
 * unit-cflags: -Imvm/cli
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>

#include "hvc.h"
#include "util.h"

static void test_parse_u64(void **state)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t v;
	} c[] = {
		{ "0", CLI_NUM_OK, 0 },
		{ "123", CLI_NUM_OK, 123 },
		{ "007", CLI_NUM_OK, 7 }, /* decimal, not octal */
		{ "0x0", CLI_NUM_OK, 0 },
		{ "0x80080000", CLI_NUM_OK, 0x80080000 },
		{ "0XaBcD", CLI_NUM_OK, 0xabcd },
		{ "0b0100", CLI_NUM_OK, 4 },
		{ "0B1", CLI_NUM_OK, 1 },
		{ "18446744073709551615", CLI_NUM_OK, UINT64_MAX },
		{ "0xffffffffffffffff", CLI_NUM_OK, UINT64_MAX },
		{ "0x0000000000000000000001", CLI_NUM_OK, 1 },
		{ "18446744073709551616", CLI_NUM_OVERFLOW, 0 },
		{ "0x10000000000000000", CLI_NUM_OVERFLOW, 0 },
		{ "0x1ffffffffffffffffz", CLI_NUM_INVALID, 0 }, /* invalid beats too big */
		{ "", CLI_NUM_INVALID, 0 },
		{ "0x", CLI_NUM_INVALID, 0 },
		{ "0b", CLI_NUM_INVALID, 0 },
		{ "0b2", CLI_NUM_INVALID, 0 },
		{ "0xg", CLI_NUM_INVALID, 0 },
		{ "12a", CLI_NUM_INVALID, 0 },
		{ "-1", CLI_NUM_INVALID, 0 },
		{ "+1", CLI_NUM_INVALID, 0 },
		{ " 1", CLI_NUM_INVALID, 0 },
		{ "1 ", CLI_NUM_INVALID, 0 },
		{ "1.0", CLI_NUM_INVALID, 0 },
		{ "1e3", CLI_NUM_INVALID, 0 },
		{ "0o17", CLI_NUM_INVALID, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t v = 0xdead;
		int ret = cli_parse_u64(c[i].s, &v);

		if (ret != c[i].ret)
			print_error("\"%s\"\n", c[i].s);
		assert_int_equal(ret, c[i].ret);
		if (ret == CLI_NUM_OK)
			assert_int_equal(v, c[i].v);
		else
			assert_int_equal(v, 0xdead); /* untouched on error */
	}
}

static void test_parse_vm_id(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", "0x1", "1a", " 1", "1 ", "4294967296", "99999999999", "1.0",
	};
	uint32_t id;

	(void)state;
	assert_int_equal(cli_parse_vm_id("0", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(cli_parse_vm_id("17", &id), 0);
	assert_int_equal(id, 17);
	assert_int_equal(cli_parse_vm_id("007", &id), 0);
	assert_int_equal(id, 7);
	assert_int_equal(cli_parse_vm_id("4294967295", &id), 0);
	assert_int_equal(id, UINT32_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_parse_vm_id(bad[i], &id) != -1)
			print_error("\"%s\"\n", bad[i]);
		assert_int_equal(cli_parse_vm_id(bad[i], &id), -1);
	}
}

static void test_format_cores(void **state)
{
	char buf[200];

	(void)state;
	cli_format_cores(0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	cli_format_cores(0x1, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	cli_format_cores(0xc, buf, sizeof(buf));
	assert_string_equal(buf, "2-3");
	cli_format_cores(0x2e, buf, sizeof(buf));
	assert_string_equal(buf, "1-3,5");
	cli_format_cores(0x5, buf, sizeof(buf));
	assert_string_equal(buf, "0,2");
	cli_format_cores(UINT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "0-63");
	cli_format_cores(0x8000000000000001ULL, buf, sizeof(buf));
	assert_string_equal(buf, "0,63");
	cli_format_cores(0x5555, buf, 6); /* truncated, still terminated */
	assert_string_equal(buf, "0,2,4");

	cli_format_bitmap(0x4, buf, sizeof(buf));
	assert_string_equal(buf, "0b0100");
	cli_format_bitmap(0, buf, sizeof(buf));
	assert_string_equal(buf, "0b0000");
	cli_format_bitmap(0x1c, buf, sizeof(buf));
	assert_string_equal(buf, "0b11100");
}

static void test_names(void **state)
{
	char buf[24];

	(void)state;
	assert_string_equal(cli_vm_type_name(SHYPER_VM_T_LINUX, buf, sizeof(buf)), "linux");
	assert_string_equal(cli_vm_type_name(SHYPER_VM_T_BARE_METAL, buf, sizeof(buf)),
			    "bare-metal");
	assert_string_equal(cli_vm_type_name(7, buf, sizeof(buf)), "type 7");
	assert_string_equal(cli_vm_state_name(SHYPER_VM_S_FREE, buf, sizeof(buf)), "free");
	assert_string_equal(cli_vm_state_name(SHYPER_VM_S_CONFIGURING, buf, sizeof(buf)),
			    "configuring");
	assert_string_equal(cli_vm_state_name(SHYPER_VM_S_READY, buf, sizeof(buf)), "ready");
	assert_string_equal(cli_vm_state_name(SHYPER_VM_S_RUNNING, buf, sizeof(buf)), "running");
	assert_string_equal(cli_vm_state_name(SHYPER_VM_S_STOPPED, buf, sizeof(buf)), "stopped");
	assert_string_equal(cli_vm_state_name(9, buf, sizeof(buf)), "state 9");
}

static void test_hvc_errors(void **state)
{
	char buf[160];

	(void)state;
	assert_string_equal(hvc_err_name(-SHYPER_EBUSY, buf, sizeof(buf)), "EBUSY");
	assert_string_equal(hvc_err_name(SHYPER_EBUSY, buf, sizeof(buf)), "EBUSY");
	assert_string_equal(hvc_err_name(-SHYPER_EOVERFLOW, buf, sizeof(buf)), "EOVERFLOW");
	assert_string_equal(hvc_err_name(-SHYPER_ENOTSUP, buf, sizeof(buf)), "ENOTSUP");
	assert_string_equal(hvc_err_name(-ENOTTY, buf, sizeof(buf)), "ENOTTY");
	assert_string_equal(hvc_err_name(-200, buf, sizeof(buf)), "error 200");
	assert_string_equal(hvc_err_desc(-SHYPER_EBUSY), "resource owned by someone else");
	assert_string_equal(hvc_strerror(-SHYPER_EBUSY, NULL, buf, sizeof(buf)),
			    "EBUSY (resource owned by someone else)");
	assert_string_equal(hvc_strerror(-SHYPER_EBUSY, "overlaps memory owned by another VM "
							"or the hypervisor", buf, sizeof(buf)),
			    "EBUSY (overlaps memory owned by another VM or the hypervisor)");
	assert_string_equal(hvc_open_error(-ENOENT, buf, sizeof(buf)),
			    "cannot open /dev/shyper: No such file or directory "
			    "(is shyper.ko loaded? insmod shyper.ko)");
	assert_string_equal(hvc_open_error(-EACCES, buf, sizeof(buf)),
			    "cannot open /dev/shyper: Permission denied (run as root)");
}

/* The ioctl reaching something that is not /dev/shyper: its errno comes back. */
static void test_hvc_call_not_a_device(void **state)
{
	uint64_t ret[4] = { 1, 2, 3, 4 };
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(hvc_call(fd, SHYPER_SYS_VERSION, NULL, 0, NULL, 0, 0, ret), -ENOTTY);
	assert_int_equal(ret[0], 1); /* untouched */
	close(fd);
	assert_int_equal(hvc_call(-1, SHYPER_SYS_VERSION, NULL, 0, NULL, 0, 0, NULL), -EBADF);
	if (access(SHYPER_DEVICE, F_OK) != 0)
		assert_int_equal(hvc_open(), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),   cmocka_unit_test(test_parse_vm_id),
		cmocka_unit_test(test_format_cores), cmocka_unit_test(test_names),
		cmocka_unit_test(test_hvc_errors),  cmocka_unit_test(test_hvc_call_not_a_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
