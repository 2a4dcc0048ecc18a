/*
 * Error codes returned (negated) by hypercalls and by the hypervisor's internal
 * functions. Values follow Linux's errno numbering so shyper.ko can pass them to
 * user space unchanged.
 */
#ifndef SHYPER_ERRNO_H
#define SHYPER_ERRNO_H

#define SHYPER_EPERM     1   /* caller may not make this call */
#define SHYPER_ENOENT    2   /* no such VM, device or object */
#define SHYPER_EIO       5   /* backend I/O failed */
#define SHYPER_E2BIG     7   /* argument list or image too long */
#define SHYPER_ENOEXEC   8   /* no image to boot from */
#define SHYPER_EAGAIN   11   /* try again later */
#define SHYPER_ENOMEM   12   /* out of memory or frames */
#define SHYPER_EFAULT   14   /* bad address */
#define SHYPER_EBUSY    16   /* resource owned by someone else */
#define SHYPER_EEXIST   17   /* already exists */
#define SHYPER_ENODEV   19   /* no such device */
#define SHYPER_EINVAL   22   /* invalid argument */
#define SHYPER_ENOSPC   28   /* no room left */
#define SHYPER_ERANGE   34   /* value out of range */
#define SHYPER_ENOSYS   38   /* unknown call */
#define SHYPER_EPROTO   71   /* malformed stream or protocol violation */
#define SHYPER_EOVERFLOW 75  /* value does not fit */
#define SHYPER_EBADMSG  74   /* checksum or header mismatch */
#define SHYPER_ENOTSUP  95   /* valid but not supported here */
#define SHYPER_ETIMEDOUT 110 /* the hardware did not answer in time */
#define SHYPER_EALREADY 114  /* that operation is already in progress */

#endif
