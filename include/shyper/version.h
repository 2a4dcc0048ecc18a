/* cshyper version and ABI version, shared by the hypervisor, shyper.ko and the CLI. */
#ifndef SHYPER_VERSION_H
#define SHYPER_VERSION_H

#define SHYPER_VERSION_MAJOR 0
#define SHYPER_VERSION_MINOR 2
#define SHYPER_VERSION_PATCH 0
#define SHYPER_VERSION_STRING "0.2.0"

/* Bumped on any incompatible change to hypercall numbers, structs or stream formats. */
#define SHYPER_ABI_VERSION 1

#endif
