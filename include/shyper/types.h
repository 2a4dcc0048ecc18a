/* Fixed-width types for the ABI headers, in the hypervisor, Linux and user space. */
#ifndef SHYPER_TYPES_H
#define SHYPER_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#endif
