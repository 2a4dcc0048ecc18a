/*
 * The VM configuration file (the JSON template of the Rust-Shyper README) as
 * plain C data, validated. No ioctls here: the parser is host-tested.
 *
 * Numbers may be JSON integers or strings in decimal, 0x hex or 0b binary.
 * Every error is one line naming the JSON path and the problem, e.g.
 *   memory.region[0].length: must be a multiple of 4096
 * File names are relative to the directory of the configuration file.
 */
#ifndef CLI_CONFIG_H
#define CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <shyper/hypercall.h>
#include <shyper/ivc.h>

#define CLI_PAGE_SIZE 4096U
#define CLI_IRQ_MAX 1019U	     /* highest GIC SPI interrupt id */
#define CLI_CONFIG_FILE_MAX (1U << 20) /* bytes of JSON we read at most */
#define CLI_ERR_MAX 512		     /* enough for any error line */
#define CLI_WARN_MAX 8
#define CLI_GENERATED_DTB_SIZE 0x10000U /* the hypervisor's generated device tree (HYPERCALLS.md) */

struct cli_mem_region {
	uint64_t ipa;
	uint64_t length;
};

#define CLI_STREAMS_MAX 8 /* the hypervisor's IOMMU_MAX_STREAMS */

struct cli_pt_dev {
	char name[SHYPER_NAME_MAX];
	uint64_t base_pa;
	uint64_t base_ipa;
	uint64_t length;
	uint32_t irq_num;
	uint32_t *irqs; /* irq_num entries */
};

struct cli_image {
	char *kernel_path;  /* resolved against the config's directory */
	uint64_t kernel_load_ipa;
	uint64_t kernel_entry;
	char *dtb_path;	    /* NULL: the hypervisor generates the device tree */
	uint64_t dtb_load_ipa;
	char *ramdisk_path; /* NULL: none (also when ramdisk_load_ipa is 0) */
	uint64_t ramdisk_load_ipa;
	/* Filled in by cli_config_check_images(). */
	uint64_t kernel_size;	/* the file */
	uint64_t kernel_extent; /* what it occupies: an arm64 Image's image_size (bss included) if larger */
	uint64_t dtb_size;
	uint64_t ramdisk_size;
};

struct cli_vm_config {
	char name[SHYPER_NAME_MAX];
	uint32_t type; /* enum shyper_vm_type */
	char cmdline[SHYPER_CMDLINE_MAX];
	struct cli_image image;

	struct cli_mem_region *mem;
	size_t nr_mem;

	uint32_t cpu_num;
	uint64_t cpu_bitmap;
	uint32_t cpu_master; /* absent in the file: the lowest core of the bitmap */
	uint32_t cpu_slice_us; /* a turn on a shared core; 0 (absent): the default */
	bool cpu_pmu; /* cpu.pmu: the PMU untrapped on its own cores */

	struct shyper_emu_dev *emu; /* ready for SHYPER_CFG_ADD_EMU_DEV */
	size_t nr_emu;
	struct cli_pt_dev *pt;
	size_t nr_pt;
	uint32_t *streams; /* passthrough_device.streams_ids: SMMU stream ids */
	size_t nr_streams;
	struct shyper_dtb_dev *dtb; /* ready for SHYPER_CFG_ADD_DTB_DEV */
	size_t nr_dtb;
	struct shyper_ivc_channel_desc *ivc; /* "ivc.channel": SHYPER_IVC_ADD_CHANNEL */
	size_t nr_ivc;

	/* Accepted but worth telling the user, one line each (e.g. an ignored ramdisk). */
	char *warnings[CLI_WARN_MAX];
	size_t nr_warnings;
};

/*
 * Parses and validates text (len bytes, need not be NUL-terminated). base_dir
 * is the directory file names are relative to (NULL: leave them as written).
 * 0, or -1 with one line in err and *cfg empty (nothing to free).
 */
int cli_config_parse(struct cli_vm_config *cfg, const char *text, size_t len,
		     const char *base_dir, char *err, size_t errlen);

/* Reads and parses a configuration file; errors as cli_config_parse. */
int cli_config_load(struct cli_vm_config *cfg, const char *path, char *err, size_t errlen);

/*
 * Looks at the image files: each must be a non-empty regular file; fills in
 * the sizes and checks kernel (with its bss, from the arm64 Image header),
 * device tree (64 KiB when generated) and ramdisk each lie inside one memory
 * region and do not overlap, as SHYPER_CFG_FINISH will. May add a warning (a
 * Linux kernel that is not an arm64 Image). 0, or -1 with one line in err
 * (cfg stays valid).
 */
int cli_config_check_images(struct cli_vm_config *cfg, char *err, size_t errlen);

void cli_config_free(struct cli_vm_config *cfg);

/* "EMU_DEVICE_T_GICD" for SHYPER_EMU_GICD etc.; NULL for unknown values. */
const char *cli_emu_type_name(uint32_t type);
const char *cli_dtb_type_name(uint32_t type);

/* The daemon's mediated-disk file: {"mediated": ["/path/vm0.img", ...]}. */
struct cli_mediated_config {
	char **paths; /* resolved: "~/" against $HOME, relative against the file's directory */
	size_t nr_paths;
};

int cli_mediated_parse(struct cli_mediated_config *m, const char *text, size_t len,
		       const char *base_dir, char *err, size_t errlen);
int cli_mediated_load(struct cli_mediated_config *m, const char *path, char *err,
		      size_t errlen);
void cli_mediated_free(struct cli_mediated_config *m);

#endif
