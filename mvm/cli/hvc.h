/*
 * /dev/shyper: one SHYPER_IOC_HVC ioctl per hypercall (include/shyper/ioctl.h),
 * and names for the error codes that come back.
 */
#ifndef CLI_HVC_H
#define CLI_HVC_H

#include <stddef.h>
#include <stdint.h>

#include <shyper/ioctl.h>

/* The device's file descriptor, or -errno. */
int hvc_open(void);
void hvc_close(int fd);

/*
 * One hypercall. x holds x1..x6 (NULL: all zero). With buf_arg 1..6 the
 * module copies buf (len bytes; dir SHYPER_BUF_IN and/or SHYPER_BUF_OUT)
 * to a kernel bounce buffer and puts its address in x<buf_arg>. ret (may be
 * NULL) receives x0..x3. Returns 0, or a negative code: the hypervisor's
 * status (-SHYPER_E*) or the ioctl's -errno (same numbering).
 */
int hvc_call(int fd, uint32_t fid, const uint64_t x[6], unsigned buf_arg, void *buf,
	     size_t len, unsigned dir, uint64_t ret[4]);

/* "EBUSY" for -16 (or 16); "error 123" style text for unknown codes. */
const char *hvc_err_name(int code, char *buf, size_t len);
/* "resource owned by someone else": what the ABI says the code means. */
const char *hvc_err_desc(int code);
/* "EBUSY (resource owned by someone else)", with hint (if not NULL) instead of the description. */
const char *hvc_strerror(int code, const char *hint, char *buf, size_t len);

/* What opening the device failed with, with the likely cause: one line. */
const char *hvc_open_error(int code, char *buf, size_t len);

#endif
