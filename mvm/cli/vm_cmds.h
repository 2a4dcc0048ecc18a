/* What the vm commands share (cmd_vm.c) with save and restore (cmd_snapshot.c). */
#ifndef CLI_VM_CMDS_H
#define CLI_VM_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cli_vm_config;

/* /dev/shyper, or CLI_EXIT_ERR after printing why not. */
int cli_open_device(int *fd);
/* One hypercall (hvc_call); on failure "<what>: EBUSY (hint)" into err. */
int cli_vm_call(int fd, const char *what, uint32_t fid, const uint64_t x[6], unsigned buf_arg,
		void *buf, size_t len, unsigned dir, uint64_t ret[4], char *err, size_t errlen);
/* Every config step after ADD_VM, up to FINISH; with images false none
 * are set or uploaded (a VM added with SHYPER_VM_F_RESTORE). On failure
 * the caller removes VM id. */
int cli_vm_configure(int fd, const struct cli_vm_config *cfg, uint32_t id, bool images,
		     char *err, size_t errlen);

/* shyper vm save / restore (cmd_snapshot.c). */
int cli_vm_save(int argc, char **argv);
int cli_vm_restore(int argc, char **argv);
/* shyper vm migrate (cmd_migrate.c). */
int cli_vm_migrate(int argc, char **argv);

#endif
