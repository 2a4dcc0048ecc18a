/*
 * shyper-hvc: makes one raw hypercall through /dev/shyper and prints x0..x3.
 * A test and bring-up tool: it lets the system tests hand the hypervisor
 * arguments the shyper CLI would never send.
 *
 *   shyper-hvc <fid> [x1 .. x6]         numbers in C syntax (0x..., decimal)
 *   shyper-hvc -b <arg> <len> <fid> ... x<arg> gets a zeroed buffer of len bytes
 *   shyper-hvc -f <arg> <file> <fid> ... x<arg> gets a buffer holding the file
 *   SHYPER_HVC_OUT=<file>               with -b or -f: the buffer after a call
 *                                       that succeeded goes to the file
 *   SHYPER_HVC_HOLD=<s> keeps /dev/shyper open that long after the call
 *   (what shyper.ko tracks per open file, e.g. an upload, lasts as long)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <shyper/ioctl.h>

static int parse(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || !*s || *end ? -1 : 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: shyper-hvc [-b <arg 1-6> <bytes> | -f <arg 1-6> <file>] <fid> [x1 .. x6]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct shyper_ioc_hvc h = { 0 };
	static unsigned char buf[SHYPER_IOC_BUF_MAX];
	uint64_t v;
	int i = 1, fd;

	if (argc > 3 && (!strcmp(argv[1], "-b") || !strcmp(argv[1], "-f"))) {
		if (parse(argv[2], &v) || v < 1 || v > 6)
			return usage();
		h.buf_arg = (uint32_t)v;
		if (argv[1][1] == 'f') {
			FILE *f = fopen(argv[3], "rb");

			if (!f) {
				perror(argv[3]);
				return 1;
			}
			v = fread(buf, 1, sizeof(buf), f);
			fclose(f);
		} else if (parse(argv[3], &v) || v > sizeof(buf)) {
			return usage();
		}
		h.buf_len = v;
		h.buf = (uintptr_t)buf;
		h.buf_dir = SHYPER_BUF_IN | SHYPER_BUF_OUT;
		i = 4;
	}
	if (i >= argc || argc - i > 7 || parse(argv[i], &v))
		return usage();
	h.fid = (uint32_t)v;
	for (int n = 1; i + n < argc; n++)
		if (parse(argv[i + n], &h.args[n]))
			return usage();
	fd = open(SHYPER_DEVICE, O_RDWR);
	if (fd < 0) {
		perror(SHYPER_DEVICE);
		return 1;
	}
	if (ioctl(fd, SHYPER_IOC_HVC, &h)) {
		perror("SHYPER_IOC_HVC");
		return 1;
	}
	if (h.buf_arg && getenv("SHYPER_HVC_OUT") && !h.ret[0] &&
	    write_file(getenv("SHYPER_HVC_OUT"), buf, h.buf_len))
		return 1;
	printf("x0=%lld x1=0x%llx x2=0x%llx x3=0x%llx\n", (long long)h.ret[0],
	       (unsigned long long)h.ret[1], (unsigned long long)h.ret[2],
	       (unsigned long long)h.ret[3]);
	fflush(stdout);
	if (getenv("SHYPER_HVC_HOLD"))
		sleep((unsigned)atoi(getenv("SHYPER_HVC_HOLD")));
	close(fd);
	return 0;
}
