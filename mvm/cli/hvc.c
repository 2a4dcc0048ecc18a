/* /dev/shyper calls and error names (see hvc.h). */
#include "hvc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <shyper/errno.h>

int hvc_open(void)
{
	int fd = open(SHYPER_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

void hvc_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int hvc_call(int fd, uint32_t fid, const uint64_t x[6], unsigned buf_arg, void *buf,
	     size_t len, unsigned dir, uint64_t ret[4])
{
	struct shyper_ioc_hvc ioc;
	int64_t status;

	memset(&ioc, 0, sizeof(ioc));
	ioc.fid = fid;
	ioc.buf_arg = buf_arg;
	if (x)
		memcpy(&ioc.args[1], x, 6 * sizeof(uint64_t));
	if (buf_arg) {
		ioc.buf = (uint64_t)(uintptr_t)buf;
		ioc.buf_len = len;
		ioc.buf_dir = dir;
	}
	while (ioctl(fd, SHYPER_IOC_HVC, &ioc) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (ret)
		memcpy(ret, ioc.ret, sizeof(ioc.ret));
	status = (int64_t)ioc.ret[0];
	if (status < 0)
		return status < -4095 ? -SHYPER_EINVAL : (int)status;
	return 0;
}

static const struct {
	int code;
	const char *name;
	const char *desc;
} codes[] = {
	/* include/shyper/errno.h */
	{ SHYPER_EPERM, "EPERM", "caller may not make this call" },
	{ SHYPER_ENOENT, "ENOENT", "no such VM, device or object" },
	{ SHYPER_EIO, "EIO", "backend I/O failed" },
	{ SHYPER_E2BIG, "E2BIG", "argument list or image too long" },
	{ SHYPER_ENOEXEC, "ENOEXEC", "no image to boot from" },
	{ SHYPER_EAGAIN, "EAGAIN", "try again later" },
	{ SHYPER_ENOMEM, "ENOMEM", "out of memory or frames" },
	{ SHYPER_EFAULT, "EFAULT", "bad address" },
	{ SHYPER_EBUSY, "EBUSY", "resource owned by someone else" },
	{ SHYPER_EEXIST, "EEXIST", "already exists" },
	{ SHYPER_ENODEV, "ENODEV", "no such device" },
	{ SHYPER_EINVAL, "EINVAL", "invalid argument" },
	{ SHYPER_ENOSPC, "ENOSPC", "no room left" },
	{ SHYPER_ERANGE, "ERANGE", "value out of range" },
	{ SHYPER_ENOSYS, "ENOSYS", "unknown call" },
	{ SHYPER_EPROTO, "EPROTO", "malformed stream or protocol violation" },
	{ SHYPER_EOVERFLOW, "EOVERFLOW", "value does not fit" },
	{ SHYPER_EBADMSG, "EBADMSG", "checksum or header mismatch" },
	{ SHYPER_ENOTSUP, "ENOTSUP", "valid but not supported here" },
	{ SHYPER_ETIMEDOUT, "ETIMEDOUT", "the hardware did not answer in time" },
	{ SHYPER_EALREADY, "EALREADY", "that operation is already in progress" },
	/* what the ioctl itself may fail with */
	{ ENOTTY, "ENOTTY", "/dev/shyper does not know this ioctl (shyper.ko too old?)" },
	{ EACCES, "EACCES", "permission denied" },
	{ EINTR, "EINTR", "interrupted" },
	{ ENXIO, "ENXIO", "no such device or address" },
};

static int find(int code)
{
	if (code < 0)
		code = -code;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return (int)i;
	return -1;
}

const char *hvc_err_name(int code, char *buf, size_t len)
{
	int i = find(code);

	if (i >= 0)
		return codes[i].name;
	snprintf(buf, len, "error %d", code < 0 ? -code : code);
	return buf;
}

const char *hvc_err_desc(int code)
{
	int i = find(code);

	return i >= 0 ? codes[i].desc : strerror(code < 0 ? -code : code);
}

const char *hvc_strerror(int code, const char *hint, char *buf, size_t len)
{
	char name[32];

	snprintf(buf, len, "%s (%s)", hvc_err_name(code, name, sizeof(name)),
		 hint ? hint : hvc_err_desc(code));
	return buf;
}

const char *hvc_open_error(int code, char *buf, size_t len)
{
	const char *why = "";

	if (code == -ENOENT)
		why = " (is shyper.ko loaded? insmod shyper.ko)";
	else if (code == -EACCES || code == -EPERM)
		why = " (run as root)";
	else if (code == -ENODEV || code == -ENXIO)
		why = " (not running under the cshyper hypervisor?)";
	snprintf(buf, len, "cannot open %s: %s%s", SHYPER_DEVICE, strerror(-code), why);
	return buf;
}
