/*
 * The shyper CLI's commands against a fake hypervisor: hvc_open, hvc_call and
 * hvc_close are wrapped (ld --wrap) so that every hypercall is recorded and
 * answered here. Checks the order and arguments of the config hypercalls,
 * chunked uploads, removal of a half-built VM, and the output of list, info,
 * system info/version and the daemon.
 *
 * unit-sources: tests/unit/cli_capture.h mvm/cli/cmd_vm.c mvm/cli/cmd_update.c mvm/cli/cmd_snapshot.c mvm/cli/cmd_migrate.c mvm/cli/migrate_net.c mvm/cli/migrate_recv.c mvm/cli/migrate_proto.h mvm/cli/stream_out.c mvm/cli/stream_out.h mvm/cli/stream_images.c mvm/cli/vm_import.c mvm/cli/vm_import.h mvm/cli/daemon_ctl.c mvm/cli/daemon_ctl.h mvm/cli/mediated_live.c mvm/cli/migrate_disk.c mvm/cli/migrate_disk.h mvm/cli/vm_cmds.h hv/lib/crc32.c hv/lib/fmt.c hv/lib/mstream_check.c hv/lib/mstream_inc.c hv/lib/mstream_payload.c hv/lib/mstream_reader.c hv/lib/mstream_writer.c mvm/cli/cmd_console.c mvm/cli/cmd_system.c mvm/cli/cli.c mvm/cli/config.c mvm/cli/config_devices.c mvm/cli/config_text.c mvm/cli/config_mediated.c mvm/cli/config_images.c mvm/cli/config_ivc.c mvm/cli/jsoncheck.c mvm/cli/util.c mvm/cli/hvc.c mvm/cli/mediated.c mvm/cli/mediated.h mvm/cli/cli.h mvm/cli/config.h mvm/cli/hvc.h mvm/cli/jsoncheck.h mvm/cli/util.h mvm/cli/mediated_copies.c mvm/cli/mediated_copies.h
 * unit-libs: -ljson-c -Wl,--wrap=hvc_open,--wrap=hvc_call,--wrap=hvc_close
 * unit-cflags: -Imvm/cli
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/ioctl.h>
#include <shyper/version.h>
#include <shyper/mediated.h>

#include <lib/mstream.h>
#include <shyper/migrate.h>

#include "cli.h"
#include "cli_capture.h"
#include "hvc.h"
#include "migrate_proto.h"

/* ------------------------------------------------------------------------ */
/* The fake hypervisor                                                       */

#define MAX_CALLS 64
#define FAKE_FD 1000
#define NEW_VM_ID 5

struct call {
	uint32_t fid;
	uint64_t x[6];
	unsigned buf_arg;
	size_t len;
	unsigned dir;
	_Alignas(uint64_t) unsigned char buf[sizeof(struct shyper_vm_desc)]; /* IN buffers up to this size */
};

static struct call calls[MAX_CALLS];
static size_t nr_calls;
static unsigned char *uploaded[3]; /* by enum shyper_image_kind */
static size_t uploaded_len[3];
static int open_result;
static uint64_t abi_reply;
static uint32_t fail_fid;
static int fail_after; /* calls of fail_fid that succeed first */
static int fail_code;
static int remove_code;

static void fake_reset(void)
{
	nr_calls = 0;
	for (int i = 0; i < 3; i++) {
		free(uploaded[i]);
		uploaded[i] = NULL;
		uploaded_len[i] = 0;
	}
	open_result = FAKE_FD;
	abi_reply = SHYPER_ABI_VERSION;
	fail_fid = 0;
	fail_after = 0;
	fail_code = 0;
	remove_code = 0;
}

int __wrap_hvc_open(void);
void __wrap_hvc_close(int fd);
int __wrap_hvc_call(int fd, uint32_t fid, const uint64_t x[6], unsigned buf_arg, void *buf,
		    size_t len, unsigned dir, uint64_t ret[4]);

int __wrap_hvc_open(void)
{
	return open_result;
}

void __wrap_hvc_close(int fd)
{
	(void)fd;
}

static void fake_vms(struct shyper_vm_info *v, size_t n)
{
	static const struct shyper_vm_info vms[2] = {
		{ .id = 0, .type = SHYPER_VM_T_LINUX, .state = SHYPER_VM_S_RUNNING, .nr_vcpus = 1,
		  .cpu_bitmap = 0x1, .mem_bytes = 1ULL << 30, .name = "mvm", .exits = 123456 },
		{ .id = 5, .type = SHYPER_VM_T_BARE_METAL, .state = SHYPER_VM_S_READY,
		  .nr_vcpus = 2, .cpu_bitmap = 0xc, .mem_bytes = 64ULL << 20,
		  .name = "guest-os-1", .exits = 0 },
	};

	memcpy(v, vms, n * sizeof(*v));
}

int __wrap_hvc_call(int fd, uint32_t fid, const uint64_t x[6], unsigned buf_arg, void *buf,
		    size_t len, unsigned dir, uint64_t ret[4])
{
	struct call *c = &calls[nr_calls];
	uint64_t r[4] = { 0 };

	assert_true(fd == FAKE_FD || fd == open_result); /* the daemon polls a pipe */
	assert_true(nr_calls < MAX_CALLS);
	nr_calls++;
	memset(c, 0, sizeof(*c));
	c->fid = fid;
	if (x)
		memcpy(c->x, x, sizeof(c->x));
	c->buf_arg = buf_arg;
	c->len = len;
	c->dir = dir;
	if (buf_arg) {
		assert_true(buf_arg <= 6);
		assert_non_null(buf);
		assert_true(len <= SHYPER_IOC_BUF_MAX);
		if ((dir & SHYPER_BUF_IN) && len <= sizeof(c->buf))
			memcpy(c->buf, buf, len);
	}

	if (fid == fail_fid && fail_after-- == 0)
		return fail_code;
	switch (fid) {
	case SHYPER_SYS_VERSION:
		r[1] = 0x000100; /* 0.1.0 */
		r[2] = abi_reply;
		break;
	case SHYPER_CFG_ADD_VM:
		r[1] = NEW_VM_ID;
		break;
	case SHYPER_VMM_UPTIME:
		r[1] = 12500; /* ticks of a 1 kHz counter: 12.5 s */
		r[2] = 1000;
		break;
	case SHYPER_CFG_UPLOAD: {
		uint64_t kind = x[1], off = x[2];

		assert_true(kind < 3);
		assert_int_equal(buf_arg, 4);
		assert_int_equal(dir, SHYPER_BUF_IN);
		assert_int_equal(x[4], len);
		assert_true(len <= SHYPER_UPLOAD_CHUNK_MAX);
		assert_int_equal(off, uploaded_len[kind]); /* in order, no gaps */
		uploaded[kind] = realloc(uploaded[kind], off + len);
		memcpy(uploaded[kind] + off, buf, len);
		uploaded_len[kind] += len;
		break;
	}
	case SHYPER_VMM_REMOVE:
		if (remove_code)
			return remove_code;
		break;
	case SHYPER_VMM_LIST:
		assert_int_equal(buf_arg, 1);
		assert_int_equal(x[1], len);
		r[1] = 2;
		if (len >= 2 * sizeof(struct shyper_vm_info))
			fake_vms(buf, 2);
		break;
	case SHYPER_VMM_INFO:
		assert_int_equal(buf_arg, 2);
		if (x[0] == 3) { /* a running guest, for vm migrate */
			*(struct shyper_vm_info *)buf = (struct shyper_vm_info){
				.id = 3, .type = SHYPER_VM_T_LINUX, .state = SHYPER_VM_S_RUNNING,
				.nr_vcpus = 1, .cpu_bitmap = 0x2, .name = "running" };
			break;
		}
		if (x[0] != 5)
			return -SHYPER_ENOENT;
		fake_vms(buf, 1);
		{
			struct shyper_vm_info v[2];

			fake_vms(v, 2);
			memcpy(buf, &v[1], sizeof(v[1]));
		}
		break;
	case SHYPER_VMM_VCPU_INFO: {
		struct shyper_vcpu_info vi = {
			.vm_id = (uint32_t)x[0], .vcpu_id = (uint32_t)x[1], .pcpu = 2 + (uint32_t)x[1],
			.state = 2, .run_ns = 1500000000ULL, .switches = 3,
			.exits = { 1, 0, 20, 2, 0, 300, 0, 0 },
		};

		assert_int_equal(buf_arg, 3);
		assert_int_equal(len, sizeof(vi));
		memcpy(buf, &vi, sizeof(vi));
		break;
	}
	case SHYPER_VMM_NET_INFO: {
		struct shyper_net_info ni = {
			.tx_packets = 3, .tx_bytes = 300, .rx_packets = 4, .rx_bytes = 400,
			.rx_drops = 1, .mac = { 0x02, 0x53, 0x48, 0x59, 0x50, 0x0a }, .link_up = 1,
		};

		assert_int_equal(buf_arg, 2);
		assert_int_equal(len, sizeof(ni));
		if (x[0] != 5 || x[3] > 1)
			return -SHYPER_ENODEV; /* VM 5 has two */
		memcpy(buf, &ni, sizeof(ni));
		break;
	}
	case SHYPER_VMM_CONSOLE:
		if (x[1] != SHYPER_CONSOLE_STATS)
			break;
		assert_int_equal(buf_arg, 0);
		if (x[0] != 5)
			return -SHYPER_ENODEV;
		r[1] = 4096;
		r[2] = 70000;
		r[3] = 0;
		break;
	case SHYPER_SYS_INFO: {
		struct shyper_sys_info si = {
			.version = 0x000100, .abi = SHYPER_ABI_VERSION, .board = "qemu-virt",
			.nr_cpus = 4, .gic_version = 3, .total_ram = 4ULL << 30,
			.free_ram = 2ULL << 30, .cpu_owner = { 1, 0, 6, 6 },
			.version_string = "0.1.0-s1", .state_version = 1, .updates = 3,
			.heap_free = 4000 << 10, .irqs_owned = 2,
		};

		assert_int_equal(buf_arg, 1);
		assert_int_equal(len, sizeof(si));
		memcpy(buf, &si, sizeof(si));
		break;
	}
	}
	if (ret)
		memcpy(ret, r, sizeof(r));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Running a command with its output captured                                */

static char out[1 << 16], err[1 << 16];
static char data_dir[512];

static int run(const struct cli_cmd *table, const char *group, const char *name, int argc,
	       char **argv)
{
	static char path[64];
	const struct cli_cmd *c = table;

	while (c->name && strcmp(c->name, name))
		c++;
	assert_non_null(c->name);
	snprintf(path, sizeof(path), "%s %s", group, name);
	cli_cmd_path = path;
	cli_current = c;
	return capture_run(c->run, argc, argv, out, sizeof(out), err, sizeof(err));
}

static int run_vm(const char *name, const char *arg)
{
	char *argv[1] = { (char *)arg };

	return run(cli_vm_cmds, "vm", name, arg ? 1 : 0, argv);
}

static int setup(void **state)
{
	const char *env = getenv("CLI_TEST_DATA");
	const char *slash = strrchr(__FILE__, '/');

	(void)state;
	if (env && *env)
		snprintf(data_dir, sizeof(data_dir), "%s", env);
	else
		snprintf(data_dir, sizeof(data_dir), "%.*s/cli",
			 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	return 0;
}

static int reset(void **state)
{
	(void)state;
	fake_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_reset();
	return 0;
}

static char *file_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len ? *len : 1);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* vm config                                                                 */

static const char ramdisk_warning[] =
	"vm config: warning: %s: image.ramdisk_filename: ignored because ramdisk_load_ipa is 0 "
	"(no ramdisk is loaded)\n";

/* passthrough_device.streams_ids: one ADD_PT_STREAM per id, after the
 * passthrough regions and interrupts, before the device-tree devices. */
static void test_config_streams(void **state)
{
	char path[700], want[1200], warning[900];
	size_t first = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/template/guest-streams.json", data_dir);
	snprintf(warning, sizeof(warning), ramdisk_warning, path);
	assert_int_equal(run_vm("config", path), 0);
	for (size_t i = 0; i < nr_calls && !first; i++)
		if (calls[i].fid == SHYPER_CFG_ADD_PT_STREAM)
			first = i;
	assert_true(first > 0);
	assert_int_equal(calls[first - 1].fid, SHYPER_CFG_ADD_PT_IRQ);
	assert_int_equal(calls[first].x[0], NEW_VM_ID);
	assert_int_equal(calls[first].x[1], 8);
	assert_int_equal(calls[first + 1].fid, SHYPER_CFG_ADD_PT_STREAM);
	assert_int_equal(calls[first + 1].x[1], 0x10);
	assert_int_equal(calls[first + 2].fid, SHYPER_CFG_ADD_DTB_DEV);

	/* Refused: the one line says why, and the half-made VM goes. */
	fake_reset();
	fail_fid = SHYPER_CFG_ADD_PT_STREAM;
	fail_after = 1;
	fail_code = -SHYPER_EBUSY;
	assert_int_equal(run_vm("config", path), 1);
	snprintf(want, sizeof(want), "%svm config: DMA stream 0x10 (passthrough_device."
				     "streams_ids[1]): EBUSY (another VM has this stream)\n", warning);
	assert_string_equal(err, want);
	assert_int_equal(calls[nr_calls - 1].fid, SHYPER_VMM_REMOVE);
	fake_reset();
	fail_fid = SHYPER_CFG_ADD_PT_STREAM;
	fail_code = -SHYPER_ENODEV;
	assert_int_equal(run_vm("config", path), 1);
	snprintf(want, sizeof(want), "%svm config: DMA stream 0x8 (passthrough_device."
				     "streams_ids[0]): ENODEV (the hypervisor has no SMMU on this "
				     "board)\n", warning);
	assert_string_equal(err, want);
}

static void test_config_template(void **state)
{
	static const uint32_t order[] = {
		SHYPER_SYS_VERSION,	  SHYPER_CFG_ADD_VM,	  SHYPER_CFG_SET_CPU,
		SHYPER_CFG_ADD_MEM,	  SHYPER_CFG_ADD_EMU_DEV, SHYPER_CFG_ADD_EMU_DEV,
		SHYPER_CFG_ADD_EMU_DEV,	  SHYPER_CFG_ADD_EMU_DEV, SHYPER_CFG_ADD_PT_REGION,
		SHYPER_CFG_ADD_PT_IRQ,	  SHYPER_CFG_ADD_DTB_DEV, SHYPER_CFG_ADD_DTB_DEV,
		SHYPER_CFG_SET_IMAGE,	  SHYPER_CFG_UPLOAD,	  SHYPER_CFG_FINISH,
	};
	char path[700], want[900], image[700];
	const struct shyper_vm_desc *desc;
	const struct shyper_emu_dev *emu;
	const struct shyper_dtb_dev *dtb;
	const struct shyper_image_desc *im;
	size_t len;
	char *bytes;

	(void)state;
	snprintf(path, sizeof(path), "%s/template/guest.json", data_dir);
	assert_int_equal(run_vm("config", path), 0);
	assert_string_equal(out, "VM 5 configured\n");
	snprintf(want, sizeof(want), ramdisk_warning, path);
	assert_string_equal(err, want);

	assert_int_equal(nr_calls, sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < nr_calls; i++)
		assert_int_equal(calls[i].fid, order[i]);

	/* ADD_VM: x1 buffer, x2 its length */
	assert_int_equal(calls[1].buf_arg, 1);
	assert_int_equal(calls[1].dir, SHYPER_BUF_IN);
	assert_int_equal(calls[1].x[1], sizeof(struct shyper_vm_desc));
	desc = (const void *)calls[1].buf;
	assert_string_equal(desc->name, "guest-os-1");
	assert_int_equal(desc->type, SHYPER_VM_T_LINUX);
	assert_int_equal(desc->flags, 0);
	assert_string_equal(desc->cmdline,
			    "earlycon console=hvc0,115200n8 root=/dev/vda rw audit=0");

	/* SET_CPU id, num, bitmap, master */
	assert_int_equal(calls[2].buf_arg, 0);
	assert_int_equal(calls[2].x[0], NEW_VM_ID);
	assert_int_equal(calls[2].x[1], 1);
	assert_int_equal(calls[2].x[2], 0x4);
	assert_int_equal(calls[2].x[3], 2);
	/* ADD_MEM id, ipa, length */
	assert_int_equal(calls[3].x[0], NEW_VM_ID);
	assert_int_equal(calls[3].x[1], 0x80000000);
	assert_int_equal(calls[3].x[2], 0x40000000);
	/* ADD_EMU_DEV id, buffer in x2, length in x3 */
	assert_int_equal(calls[5].buf_arg, 2);
	assert_int_equal(calls[5].x[0], NEW_VM_ID);
	assert_int_equal(calls[5].x[2], sizeof(struct shyper_emu_dev));
	emu = (const void *)calls[5].buf;
	assert_string_equal(emu->name, "virtio_blk@a000000");
	assert_int_equal(emu->base_ipa, 0xa000000);
	assert_int_equal(emu->length, 0x1000);
	assert_int_equal(emu->irq_id, 48);
	assert_int_equal(emu->type, SHYPER_EMU_VIRTIO_BLK_MEDIATED);
	assert_int_equal(emu->cfg_num, 2);
	assert_int_equal(emu->cfg_list[1], 209715200);
	/* ADD_PT_REGION id, pa, ipa, length; ADD_PT_IRQ id, irq */
	assert_int_equal(calls[8].x[0], NEW_VM_ID);
	assert_int_equal(calls[8].x[1], 0x8040000);
	assert_int_equal(calls[8].x[2], 0x8010000);
	assert_int_equal(calls[8].x[3], 0x2000);
	assert_int_equal(calls[9].x[0], NEW_VM_ID);
	assert_int_equal(calls[9].x[1], 27);
	/* ADD_DTB_DEV */
	assert_int_equal(calls[11].buf_arg, 2);
	assert_int_equal(calls[11].x[2], sizeof(struct shyper_dtb_dev));
	dtb = (const void *)calls[11].buf;
	assert_string_equal(dtb->name, "gicc");
	assert_int_equal(dtb->type, SHYPER_DTB_GICC);
	assert_int_equal(dtb->addr_ipa, 0x8010000);
	assert_int_equal(dtb->length, 0x2000);
	/* SET_IMAGE with the sizes */
	assert_int_equal(calls[12].buf_arg, 2);
	assert_int_equal(calls[12].x[2], sizeof(struct shyper_image_desc));
	im = (const void *)calls[12].buf;
	assert_int_equal(im->kernel_load_ipa, 0x80080000);
	assert_int_equal(im->kernel_entry, 0x80080000);
	assert_int_equal(im->kernel_size, 134);
	assert_int_equal(im->dtb_load_ipa, 0x80000000);
	assert_int_equal(im->dtb_size, 0);
	assert_int_equal(im->ramdisk_load_ipa, 0);
	assert_int_equal(im->ramdisk_size, 0);
	/* UPLOAD: the kernel, whole; FINISH */
	snprintf(image, sizeof(image), "%s/template/Image", data_dir);
	bytes = file_bytes(image, &len);
	assert_int_equal(uploaded_len[SHYPER_IMAGE_KERNEL], len);
	assert_memory_equal(uploaded[SHYPER_IMAGE_KERNEL], bytes, len);
	assert_int_equal(uploaded_len[SHYPER_IMAGE_INITRD], 0);
	assert_int_equal(uploaded_len[SHYPER_IMAGE_DTB], 0);
	assert_int_equal(calls[14].x[0], NEW_VM_ID);
	free(bytes);
}

/* A kernel over SHYPER_UPLOAD_CHUNK_MAX goes in chunks; ramdisk and device tree follow. */
/* cpu.pmu asks for the PMU in ADD_VM's flags. */
static void test_config_pmu_flag(void **state)
{
	char dir[] = "/tmp/cli-pmu-XXXXXX", src[700], path[600], json[8192], *abs_data;
	const struct shyper_vm_desc *desc;
	char *at;
	size_t n;
	FILE *f;

	(void)state;
	abs_data = realpath(data_dir, NULL);
	assert_non_null(abs_data);
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/template/guest.json", abs_data);
	f = fopen(src, "r");
	assert_non_null(f);
	n = fread(json, 1, sizeof(json) - 1, f);
	fclose(f);
	json[n] = 0;
	/* The images where they are; the cores with the PMU. */
	at = strstr(json, "\"master\": 2");
	assert_non_null(at);
	{
		static const char with_pmu[] = "\"master\": 2, \"pmu\": true";
		size_t grow = sizeof(with_pmu) - 1 - 11;

		memmove(at + 11 + grow, at + 11, strlen(at + 11) + 1);
		memcpy(at, with_pmu, sizeof(with_pmu) - 1);
	}
	snprintf(path, sizeof(path), "%s/guest.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	snprintf(src, sizeof(src), "%s/template/Image", abs_data);
	snprintf(json, sizeof(json), "%s/Image", dir);
	assert_int_equal(symlink(src, json), 0);
	snprintf(src, sizeof(src), "%s/template/initrd.gz", abs_data);
	snprintf(json, sizeof(json), "%s/initrd.gz", dir);
	assert_int_equal(symlink(src, json), 0);

	assert_int_equal(run_vm("config", path), 0);
	assert_string_equal(out, "VM 5 configured\n");
	assert_int_equal(calls[1].fid, SHYPER_CFG_ADD_VM);
	desc = (const void *)calls[1].buf;
	assert_int_equal(desc->flags, SHYPER_VM_F_PMU);

	unlink(json);
	snprintf(json, sizeof(json), "%s/Image", dir);
	unlink(json);
	unlink(path);
	rmdir(dir);
	free(abs_data);
}

static void test_config_chunks(void **state)
{
	char dir[] = "/tmp/cli-cfg-XXXXXX", path[600], kernel[600], json[4096];
	char *ramdisk_bytes, *dtb_bytes, *abs_data = realpath(data_dir, NULL);
	size_t rlen, dlen, klen = 2 * SHYPER_UPLOAD_CHUNK_MAX + 12345;
	unsigned char *k = malloc(klen);
	size_t nr_up = 0;
	FILE *f;

	(void)state;
	assert_non_null(abs_data); /* the JSON names files outside its own directory */
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < klen; i++)
		k[i] = (unsigned char)(i * 7 + i / 4096);
	memset(k, 0, 64); /* an arm64 Image header: image_size 0, the file is all */
	memcpy(k + 0x38, "ARM\x64", 4);
	snprintf(kernel, sizeof(kernel), "%s/Image", dir);
	f = fopen(kernel, "wb");
	assert_int_equal(fwrite(k, 1, klen, f), klen);
	fclose(f);

	snprintf(json, sizeof(json),
		 "{\"name\": \"big\", \"type\": \"VM_T_LINUX\","
		 " \"image\": {\"kernel_filename\": \"Image\", \"kernel_load_ipa\": \"0x80080000\","
		 "  \"kernel_entry_point\": \"0x80080000\","
		 "  \"device_tree_filename\": \"%s/full/dtb/guest.dtb\","
		 "  \"device_tree_load_ipa\": \"0x80000000\","
		 "  \"ramdisk_filename\": \"%s/template/initrd.gz\","
		 "  \"ramdisk_load_ipa\": \"0x88000000\"},"
		 " \"memory\": {\"region\": [{\"ipa_start\": \"0x80000000\", \"length\": \"0x10000000\"}]},"
		 " \"cpu\": {\"num\": 2, \"allocate_bitmap\": \"0b1100\", \"master\": 3}}",
		 abs_data, abs_data);
	free(abs_data);
	snprintf(path, sizeof(path), "%s/vm.json", dir);
	f = fopen(path, "w");
	fputs(json, f);
	fclose(f);

	assert_int_equal(run_vm("config", path), 0);
	assert_string_equal(out, "VM 5 configured\n");
	assert_string_equal(err, "");

	for (size_t i = 0; i < nr_calls; i++) {
		if (calls[i].fid != SHYPER_CFG_UPLOAD)
			continue;
		/* kernel 1 MiB, 1 MiB, the rest; then the ramdisk; then the device tree */
		static const uint64_t kind[] = { 0, 0, 0, 1, 2 };
		static const uint64_t off[] = { 0, SHYPER_UPLOAD_CHUNK_MAX,
						2 * SHYPER_UPLOAD_CHUNK_MAX, 0, 0 };

		assert_true(nr_up < 5);
		assert_int_equal(calls[i].x[0], NEW_VM_ID);
		assert_int_equal(calls[i].x[1], kind[nr_up]);
		assert_int_equal(calls[i].x[2], off[nr_up]);
		nr_up++;
	}
	assert_int_equal(nr_up, 5);
	assert_int_equal(calls[nr_calls - 1].fid, SHYPER_CFG_FINISH);
	assert_int_equal(calls[2].x[1], 2);   /* num */
	assert_int_equal(calls[2].x[2], 0xc); /* bitmap */
	assert_int_equal(calls[2].x[3], 3);   /* master */

	assert_int_equal(uploaded_len[0], klen);
	assert_memory_equal(uploaded[0], k, klen);
	snprintf(path, sizeof(path), "%s/template/initrd.gz", data_dir);
	ramdisk_bytes = file_bytes(path, &rlen);
	assert_int_equal(uploaded_len[1], rlen);
	assert_memory_equal(uploaded[1], ramdisk_bytes, rlen);
	snprintf(path, sizeof(path), "%s/full/dtb/guest.dtb", data_dir);
	dtb_bytes = file_bytes(path, &dlen);
	assert_int_equal(uploaded_len[2], dlen);
	assert_memory_equal(uploaded[2], dtb_bytes, dlen);
	{
		const struct shyper_image_desc *im = NULL;

		for (size_t i = 0; i < nr_calls; i++)
			if (calls[i].fid == SHYPER_CFG_SET_IMAGE)
				im = (const void *)calls[i].buf;
		assert_non_null(im);
		assert_int_equal(im->kernel_size, klen);
		assert_int_equal(im->ramdisk_load_ipa, 0x88000000);
		assert_int_equal(im->ramdisk_size, rlen);
		assert_int_equal(im->dtb_size, dlen);
	}

	free(ramdisk_bytes);
	free(dtb_bytes);
	free(k);
	unlink(kernel);
	snprintf(path, sizeof(path), "%s/vm.json", dir);
	unlink(path);
	rmdir(dir);
}

/* A failed step names itself and its error, and the half-built VM is removed. */
static void test_config_failures(void **state)
{
	static const struct {
		uint32_t fid;
		int after, code;
		const char *line;
	} c[] = {
		{ SHYPER_CFG_ADD_MEM, 0, -SHYPER_EBUSY,
		  "vm config: memory region 0x80000000+0x40000000: EBUSY (overlaps memory owned by "
		  "another VM or the hypervisor)\n" },
		{ SHYPER_CFG_SET_CPU, 0, -SHYPER_EBUSY,
		  "vm config: cpus 0b0100 (num 1, master 2): EBUSY (a core is already used by "
		  "another VM)\n" },
		{ SHYPER_CFG_ADD_EMU_DEV, 2, -SHYPER_ENOSPC,
		  "vm config: emulated device virtio_net@a001000 (EMU_DEVICE_T_VIRTIO_NET at "
		  "0xa001000): ENOSPC (no room left)\n" },
		{ SHYPER_CFG_ADD_PT_REGION, 0, -SHYPER_EBUSY,
		  "vm config: passthrough region gicv 0x8040000 -> 0x8010000+0x2000: EBUSY (the "
		  "physical range belongs to the hypervisor or another VM)\n" },
		{ SHYPER_CFG_ADD_PT_IRQ, 0, -SHYPER_EINVAL,
		  "vm config: passthrough interrupt 27 (gicv): EINVAL (not an interrupt of this "
		  "board that can be passed through)\n" },
		{ SHYPER_CFG_ADD_DTB_DEV, 1, -SHYPER_ENOSYS,
		  "vm config: device tree device gicc (DTB_DEVICE_T_GICC): ENOSYS (the hypervisor "
		  "does not implement this call)\n" },
		{ SHYPER_CFG_SET_IMAGE, 0, -SHYPER_E2BIG,
		  "vm config: image layout: E2BIG (argument list or image too long)\n" },
		{ SHYPER_CFG_UPLOAD, 0, -SHYPER_EFAULT,
		  "vm config: upload kernel Image at offset 0x0: EFAULT (bad address)\n" },
		{ SHYPER_CFG_FINISH, 0, -SHYPER_ERANGE,
		  "vm config: finish: ERANGE (an image or the entry point lies outside the VM's "
		  "memory)\n" },
		{ SHYPER_CFG_ADD_EMU_DEV, 1, -SHYPER_ENOTSUP,
		  "vm config: emulated device virtio_blk@a000000 (EMU_DEVICE_T_VIRTIO_BLK_MEDIATED "
		  "at 0xa000000): ENOTSUP (the hypervisor does not emulate this device type yet)\n" },
		{ SHYPER_CFG_ADD_MEM, 0, -ENOTTY, /* the ioctl itself failed */
		  "vm config: memory region 0x80000000+0x40000000: ENOTTY (/dev/shyper does not "
		  "know this ioctl (shyper.ko too old?))\n" },
	};
	char path[700], want[1200], warning[900];

	(void)state;
	snprintf(path, sizeof(path), "%s/template/guest.json", data_dir);
	snprintf(warning, sizeof(warning), ramdisk_warning, path);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		fake_reset();
		fail_fid = c[i].fid;
		fail_after = c[i].after;
		fail_code = c[i].code;
		assert_int_equal(run_vm("config", path), 1);
		assert_string_equal(out, "");
		snprintf(want, sizeof(want), "%s%s", warning, c[i].line);
		assert_string_equal(err, want);
		assert_int_equal(calls[nr_calls - 1].fid, SHYPER_VMM_REMOVE);
		assert_int_equal(calls[nr_calls - 1].x[0], NEW_VM_ID);
	}

	/* ADD_VM itself failing leaves nothing to remove. */
	fake_reset();
	fail_fid = SHYPER_CFG_ADD_VM;
	fail_code = -SHYPER_EPERM;
	assert_int_equal(run_vm("config", path), 1);
	snprintf(want, sizeof(want), "%svm config: add VM \"guest-os-1\": EPERM (only the "
				     "management VM may do this)\n", warning);
	assert_string_equal(err, want);
	assert_int_equal(calls[nr_calls - 1].fid, SHYPER_CFG_ADD_VM);

	/* The removal failing too is told. */
	fake_reset();
	fail_fid = SHYPER_CFG_FINISH;
	fail_code = -SHYPER_EINVAL;
	remove_code = -SHYPER_EBUSY;
	assert_int_equal(run_vm("config", path), 1);
	snprintf(want, sizeof(want), "%svm config: finish: EINVAL (the configuration is "
				     "incomplete)\n"
				     "vm config: could not remove the half-configured VM 5: EBUSY "
				     "(the VM is running: shut it down first)\n", warning);
	assert_string_equal(err, want);
}

static void test_config_before_any_call(void **state)
{
	char path[700], want[900];

	(void)state;
	/* An invalid file: not a single hypercall. */
	snprintf(path, sizeof(path), "%s/no-such.json", data_dir);
	assert_int_equal(run_vm("config", path), 1);
	snprintf(want, sizeof(want), "vm config: %s: No such file or directory\n", path);
	assert_string_equal(err, want);
	assert_int_equal(nr_calls, 0);

	/* Not a VM configuration: rejected before the hypervisor is asked. */
	snprintf(path, sizeof(path), "%s/mediated.json", data_dir);
	assert_int_equal(run_vm("config", path), 1);
	snprintf(want, sizeof(want), "vm config: %s: mediated: unknown field\n", path);
	assert_string_equal(err, want);
	assert_int_equal(nr_calls, 0);

	/* No device. */
	open_result = -ENOENT;
	snprintf(path, sizeof(path), "%s/template/guest.json", data_dir);
	assert_int_equal(run_vm("config", path), 1);
	assert_non_null(strstr(err, "vm config: cannot open /dev/shyper: No such file or "
				    "directory (is shyper.ko loaded? insmod shyper.ko)\n"));
	assert_int_equal(nr_calls, 0);

	/* Another ABI: nothing is configured. */
	open_result = FAKE_FD;
	abi_reply = SHYPER_ABI_VERSION + 1;
	assert_int_equal(run_vm("config", path), 1);
	snprintf(want, sizeof(want), "vm config: the hypervisor's ABI version is %d, this CLI's "
				     "is %d (see shyper system version)\n",
		 SHYPER_ABI_VERSION + 1, SHYPER_ABI_VERSION);
	assert_non_null(strstr(err, want));
	assert_int_equal(nr_calls, 1);
}

/* ------------------------------------------------------------------------ */
/* The other vm commands                                                     */

static void test_vm_simple(void **state)
{
	(void)state;
	assert_int_equal(run_vm("boot", "3"), 0);
	assert_string_equal(out, "VM 3 booted\n");
	assert_int_equal(calls[0].fid, SHYPER_VMM_BOOT);
	assert_int_equal(calls[0].x[0], 3);

	assert_int_equal(run_vm("shutdown", "3"), 0);
	assert_string_equal(out, "VM 3 shut down\n");
	assert_int_equal(calls[1].fid, SHYPER_VMM_SHUTDOWN);
	assert_int_equal(run_vm("reboot", "0"), 0);
	assert_int_equal(calls[2].fid, SHYPER_VMM_REBOOT);
	assert_int_equal(calls[2].x[0], 0);

	fail_fid = SHYPER_VMM_REMOVE;
	fail_code = -SHYPER_EBUSY;
	assert_int_equal(run_vm("remove", "3"), 1);
	assert_string_equal(out, "");
	assert_string_equal(err, "vm remove: VM 3: EBUSY (the VM is running: shut it down first)\n");

	fail_fid = SHYPER_VMM_BOOT;
	fail_after = 0;
	fail_code = -SHYPER_ENOENT;
	assert_int_equal(run_vm("boot", "9"), 1);
	assert_string_equal(err, "vm boot: VM 9: ENOENT (no such VM)\n");
	fail_after = 0;
	fail_code = -SHYPER_EPERM;
	assert_int_equal(run_vm("boot", "0"), 1);
	assert_string_equal(err, "vm boot: VM 0: EPERM (not allowed on the management VM)\n");

	nr_calls = 0;
	assert_int_equal(run_vm("boot", "0x3"), 2);
	assert_string_equal(err, "shyper vm boot: invalid VM id \"0x3\": expected a decimal number "
				 "from 0 to 4294967295 (usage: shyper vm boot <id>)\n");
	assert_int_equal(run_vm("info", "-1"), 2);
	assert_int_equal(nr_calls, 0);
}

static void test_vm_list_info(void **state)
{
	(void)state;
	assert_int_equal(run_vm("list", NULL), 0);
	assert_string_equal(out,
			    "ID   NAME       TYPE       STATE       CORES    MEMORY\n"
			    "0    mvm        linux      running     0        1024 MiB\n"
			    "5    guest-os-1 bare-metal ready       2-3      64 MiB\n");
	assert_string_equal(err, "");

	assert_int_equal(run_vm("info", "5"), 0);
	assert_string_equal(out, "id: 5\nname: guest-os-1\ntype: bare-metal\nstate: ready\n"
				 "vcpus: 2\ncores: 2-3\nmemory: 64 MiB\nexits: 0\n"
				 "uptime: 12.5 s\n"
				 "vcpu0: core 2, running, run 1500 ms, switched in 3 times, exits 323 "
				 "(hvc 1, smc 0, mmio 20, sysreg 2, wfx 0, irq 300, abort 0, other 0)\n"
				 "vcpu1: core 3, running, run 1500 ms, switched in 3 times, exits 323 "
				 "(hvc 1, smc 0, mmio 20, sysreg 2, wfx 0, irq 300, abort 0, other 0)\n"
				 "net: mac 02:53:48:59:50:0a, link up, tx 3 packets 300 bytes 0 drops, "
				 "rx 4 packets 400 bytes 1 drops\n"
				 "net1: mac 02:53:48:59:50:0a, link up, tx 3 packets 300 bytes 0 drops, "
				 "rx 4 packets 400 bytes 1 drops\n"
				 "console: 4096 bytes kept, 70000 dropped while nobody was attached, "
				 "detached\n");
	assert_int_equal(calls[nr_calls - 8].x[0], 5);
	assert_int_equal(calls[nr_calls - 8].x[2], sizeof(struct shyper_vm_info));
	assert_int_equal(calls[nr_calls - 7].fid, SHYPER_VMM_UPTIME);
	assert_int_equal(calls[nr_calls - 7].x[0], 5);
	assert_int_equal(calls[nr_calls - 5].x[1], 1); /* the second vCPU */
	/* One call per virtio-net device, until ENODEV. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(calls[nr_calls - 4 + i].fid, SHYPER_VMM_NET_INFO);
		assert_int_equal(calls[nr_calls - 4 + i].x[3], i);
	}
	assert_int_equal(calls[nr_calls - 1].fid, SHYPER_VMM_CONSOLE);
	assert_int_equal(calls[nr_calls - 1].x[1], SHYPER_CONSOLE_STATS);

	assert_int_equal(run_vm("info", "4"), 1);
	assert_string_equal(err, "vm info: VM 4: ENOENT (no such VM)\n");
}

/* ------------------------------------------------------------------------ */
/* system                                                                    */

static void test_system(void **state)
{
	char want[200];

	(void)state;
	assert_int_equal(run(cli_system_cmds, "system", "info", 0, NULL), 0);
	assert_string_equal(out, "hypervisor version: 0.1.0\nABI version: 1\nboard: qemu-virt\n"
				 "GIC version: 3\ncores: 4\n"
				 "core 0: vm0 (mvm)\ncore 1: free\n"
				 "core 2: vm5 (guest-os-1)\ncore 3: vm5 (guest-os-1)\n"
				 "memory total: 4096 MiB\nmemory free: 2048 MiB\n"
				 "hypervisor heap free: 4000 KiB\n"
				 "interrupts passed through: 2\n"
				 "hypervisor image: 0.1.0-s1, state layout 1, 3 live updates since boot\n");

	assert_int_equal(run(cli_system_cmds, "system", "version", 0, NULL), 0);
	snprintf(want, sizeof(want), "shyper CLI %s (ABI %d)\nhypervisor 0.1.0 (ABI %d)\n",
		 SHYPER_VERSION_STRING, SHYPER_ABI_VERSION, SHYPER_ABI_VERSION);
	assert_string_equal(out, want);
	assert_string_equal(err, "");

	abi_reply = 7;
	assert_int_equal(run(cli_system_cmds, "system", "version", 0, NULL), 0);
	assert_non_null(strstr(out, "hypervisor 0.1.0 (ABI 7)\n"));
	assert_string_equal(err, "system version: warning: ABI mismatch: the hypervisor speaks ABI "
				 "7, this CLI ABI 1; use a CLI built with the hypervisor's "
				 "include/shyper\n");

	fail_fid = SHYPER_SYS_VERSION;
	fail_code = -SHYPER_ENOSYS;
	assert_int_equal(run(cli_system_cmds, "system", "version", 0, NULL), 1);
	assert_string_equal(err, "system version: hypervisor version: ENOSYS (unknown call)\n");
}

/* A VM the stream cannot carry is refused in the short pause that takes
 * its configuration: resumed at once, nothing sent. */
static void test_migrate_refused_before_anything_is_sent(void **state)
{
	char id[] = "3", dest[] = "10.0.3.2:7741", *argv[2] = { id, dest };

	(void)state;
	fail_fid = SHYPER_MIG_STATE_SAVE;
	fail_code = -SHYPER_ENOTSUP;
	assert_int_equal(run(cli_vm_cmds, "vm", "migrate", 2, argv), 1);
	assert_string_equal(err, "vm migrate: VM 3 cannot be migrated: it has passthrough "
				 "devices or interrupts or an IVC channel (the hypervisor's console "
				 "names which); VM 3 keeps running here\n");
	assert_int_equal(nr_calls, 4);
	assert_int_equal(calls[0].fid, SHYPER_VMM_INFO);
	assert_int_equal(calls[1].fid, SHYPER_MIG_PAUSE);
	assert_int_equal(calls[2].fid, SHYPER_MIG_STATE_SAVE);
	assert_int_equal(calls[3].fid, SHYPER_MIG_RESUME);
	assert_int_equal(calls[3].x[0], 3);
}

/* Only a running guest migrates: the others are told so as they are,
 * without a pause (and without "keeps running here"). */
static void test_migrate_refuses_what_is_not_running(void **state)
{
	char id[4], dest[] = "10.0.3.2", *argv[2] = { id, dest };
	static const struct {
		const char *id, *msg;
		unsigned calls;
	} cases[] = {
		{ "5", "vm migrate: VM 5 is ready: only a running VM migrates (`shyper vm boot 5` "
		       "first)\n", 1 },
		{ "9", "vm migrate: there is no VM 9 (see `shyper vm list`)\n", 1 },
		{ "0", "vm migrate: VM 0 is the management VM: it cannot migrate\n", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nr_calls = 0;
		snprintf(id, sizeof(id), "%s", cases[i].id);
		assert_int_equal(run(cli_vm_cmds, "vm", "migrate", 2, argv), 1);
		assert_string_equal(err, cases[i].msg);
		assert_int_equal(nr_calls, cases[i].calls);
		if (cases[i].calls)
			assert_int_equal(calls[0].fid, SHYPER_VMM_INFO);
	}
}

/* Bad addresses and options are usage errors, before any hypercall. */
static void test_migrate_usage(void **state)
{
	char id[] = "3", dest[] = "10.0.3.2", *argv[2] = { id, dest };
	const char *bad[] = { "board-b", "10.0.3.2:0", "10.0.3.2:70000", "10.0.3.2:x",
			      "[fe80::1", "", "1.2.3.4.5" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[1] = (char *)bad[i];
		assert_int_equal(run(cli_vm_cmds, "vm", "migrate", 2, argv), 2);
		assert_non_null(strstr(err, "expected an IP address"));
	}
	assert_int_equal(nr_calls, 0);
	argv[1] = dest;
	cli_add_option("--downtime=0");
	assert_int_equal(run(cli_vm_cmds, "vm", "migrate", 2, argv), 2);
	assert_non_null(strstr(err, "--downtime=0: expected a number from 1 to 60000"));
	assert_int_equal(nr_calls, 0);
}

/* The receiving end of a migration over a socketpair: what it answers to
 * input that is not a migration, or a broken one. */
static void receive(const void *data, size_t len, const char *why)
{
	struct mig_reply rep;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], data, len), (ssize_t)len);
	shutdown(sv[1], SHUT_WR); /* the sender stops here */
	fflush(stderr);
	assert_int_equal(mig_receive(sv[0], "test", 5, "/tmp"), 1);
	assert_int_equal(read(sv[1], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	assert_int_equal(rep.magic, MIG_REPLY_MAGIC);
	assert_int_equal(rep.kind, MIG_FAILED);
	rep.msg[sizeof(rep.msg) - 1] = 0;
	if (!strstr(rep.msg, why))
		fail_msg("reply \"%s\", expected \"%s\" in it", rep.msg, why);
	close(sv[0]);
	close(sv[1]);
}

static void test_migrate_receiver_refuses_bad_input(void **state)
{
	struct mig_cmd hello = { .magic = MIG_CMD_MAGIC, .cmd = MIG_HELLO };
	struct mstream_info info = { .board = "qemu-virt", .arch = SHYPER_MIG_ARCH_AARCH64,
				     .gic_version = 3,
				     .flags = SHYPER_MIG_F_STREAMED | SHYPER_MIG_F_LIVE };
	struct mstream_writer w;
	uint8_t in[256], stream[128];

	(void)state;
	receive("GET / HTTP/1.0\r\n", 16, "not shyper vm migrate");
	hello.flags = 0x80;
	receive(&hello, sizeof(hello), "not shyper vm migrate");
	hello.flags = 0;
	receive(&hello, 8, "no greeting");

	/* A header, then: nothing; a damaged copy; a section with a bad CRC. */
	assert_int_equal(mstream_writer_init(&w, stream, sizeof(stream), &info), 0);
	memcpy(in, &hello, sizeof(hello));
	memcpy(in + sizeof(hello), stream, sizeof(struct shyper_mig_header));
	receive(in, sizeof(hello) + sizeof(struct shyper_mig_header),
		"the stream stopped: connection closed");
	in[sizeof(hello) + 10] ^= 1;
	receive(in, sizeof(hello) + sizeof(struct shyper_mig_header), "header");
	in[sizeof(hello) + 10] ^= 1;
	memset(in + sizeof(hello) + sizeof(struct shyper_mig_header), 0x5a,
	       sizeof(struct shyper_mig_section));
	receive(in, sizeof(hello) + sizeof(struct shyper_mig_header) +
			    sizeof(struct shyper_mig_section), "section 0");
	/* Nothing was asked of the hypervisor but opening it. */
	for (size_t i = 0; i < nr_calls; i++)
		assert_true(calls[i].fid == SHYPER_SYS_INFO);
}

static void test_daemon(void **state)
{
	struct shyper_event ev[4] = {
		{ SHYPER_EVENT_VM_STATE, 1, SHYPER_VM_S_RUNNING, 0 },
		{ SHYPER_EVENT_VM_STATE, 1, SHYPER_VM_S_STOPPED, 0 },
		{ SHYPER_EVENT_VM_STATE, 1, SHYPER_VM_S_FREE, 0 },
		{ 9, 2, 5, 0 },
	};
	char mediated[700], *argv[1] = { mediated };
	int p[2];
	pid_t child;

	(void)state;
	/* No TCP listener here (the migration receiver is tested in QEMU). */
	cli_add_option("--no-migrations");
	/* Events, then the device goes away. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], ev, sizeof(ev)), sizeof(ev));
	close(p[1]);
	open_result = p[0];
	assert_int_equal(run(cli_system_cmds, "system", "daemon", 0, NULL), 1);
	assert_string_equal(out, "vm1: running\nvm1: stopped\nvm1: removed\nevent 9: vm2, value 5\n");
	assert_string_equal(err, "system daemon: /dev/shyper: end of events\n");
	close(p[0]);

	/* SIGTERM while waiting: a clean exit; the mediated file is checked first. */
	setenv("HOME", "/nonexistent-home", 1);
	snprintf(mediated, sizeof(mediated), "%s/mediated.json", data_dir);
	assert_int_equal(pipe(p), 0);
	open_result = p[0];
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		usleep(200 * 1000);
		kill(getppid(), SIGTERM);
		_exit(0);
	}
	assert_int_equal(run(cli_system_cmds, "system", "daemon", 1, argv), 0);
	waitpid(child, NULL, 0);
	assert_string_equal(out, "");
	/* Images that cannot be opened are registered as failing. */
	assert_non_null(strstr(err, "mediated[0]: /nonexistent-home/vm0.img: No such file or "
				    "directory (I/O of its guests fails)\n"));
	assert_int_equal(calls[0].fid, SHYPER_MED_REGISTER);
	assert_int_equal(calls[2].x[0], 2);
	assert_int_equal(calls[2].x[2], SHYPER_MED_F_FAILED);
	assert_int_equal(calls[nr_calls - 1].fid, SHYPER_MED_UNREGISTER);
	close(p[0]);
	close(p[1]);

	/* A bad mediated file stops it before the device is opened. */
	snprintf(mediated, sizeof(mediated), "%s/template/guest.json", data_dir);
	assert_int_equal(run(cli_system_cmds, "system", "daemon", 1, argv), 1);
	assert_non_null(strstr(err, ": name: unknown field\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_config_template, reset),
		cmocka_unit_test_setup(test_config_streams, reset),
		cmocka_unit_test_setup(test_migrate_refused_before_anything_is_sent, reset),
		cmocka_unit_test_setup(test_migrate_refuses_what_is_not_running, reset),
		cmocka_unit_test_setup(test_migrate_usage, reset),
		cmocka_unit_test_setup(test_migrate_receiver_refuses_bad_input, reset),
		cmocka_unit_test_setup(test_config_chunks, reset),
		cmocka_unit_test_setup(test_config_pmu_flag, reset),
		cmocka_unit_test_setup(test_config_failures, reset),
		cmocka_unit_test_setup(test_config_before_any_call, reset),
		cmocka_unit_test_setup(test_vm_simple, reset),
		cmocka_unit_test_setup(test_vm_list_info, reset),
		cmocka_unit_test_setup(test_system, reset),
		cmocka_unit_test_setup(test_daemon, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
