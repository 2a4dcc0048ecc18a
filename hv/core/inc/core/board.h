/*
 * What the hypervisor learns about the board from its device tree: RAM,
 * CPUs, PSCI conduit, GIC, console UART and architected timer. Checked
 * against the real trees of QEMU virt, the Raspberry Pi 4, the Jetson TX2
 * and an RK3588S board (tests/unit/test_board_real.c).
 */
#ifndef CORE_BOARD_H
#define CORE_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lib/dt.h>

#define BOARD_MAX_RAM	8
#define BOARD_MAX_CPUS	8

struct board_mem_region {
	uint64_t base;
	uint64_t size;
};

enum board_cpu_enable {
	BOARD_CPU_ENABLE_NONE,		/* no enable-method property */
	BOARD_CPU_ENABLE_PSCI,
	BOARD_CPU_ENABLE_SPIN_TABLE,
	BOARD_CPU_ENABLE_OTHER,
};

struct board_cpu {
	uint64_t mpidr;			/* reg: MPIDR_EL1 affinity fields */
	enum board_cpu_enable enable_method;
};

enum board_psci_method {
	BOARD_PSCI_SMC = 1,
	BOARD_PSCI_HVC,
};

/* The newest PSCI version the node's compatible promises. */
enum board_psci_version {
	BOARD_PSCI_0_1 = 1,		/* "arm,psci": ids from properties */
	BOARD_PSCI_0_2,
	BOARD_PSCI_1_0,
};

struct board_psci {
	enum board_psci_method method;
	enum board_psci_version version;
};

struct board_gic {
	unsigned int version;		/* 2 or 3 */
	uint64_t gicd_base, gicd_size;
	/* GICv2: CPU interface, hypervisor control, virtual CPU interface. */
	uint64_t gicc_base, gicc_size;
	uint64_t gich_base, gich_size;	/* 0 when absent */
	uint64_t gicv_base, gicv_size;	/* 0 when absent */
	/* GICv3: the first redistributor region. */
	uint64_t gicr_base, gicr_size;
	uint32_t nr_redist_regions;
	uint32_t maint_intid;		/* maintenance interrupt, 0 if none */
};

/* Register interfaces the hypervisor has console drivers for. */
enum board_uart_type {
	BOARD_UART_NONE,
	BOARD_UART_PL011,		/* arm,pl011 */
	BOARD_UART_NS16550,		/* 8250/16550 compatibles, see board.c */
};

struct board_uart {
	bool present;			/* a console UART was found */
	enum board_uart_type type;
	uint64_t base, size;
	uint32_t intid;			/* 0 if it has no interrupts */
	/* NS16550: register i is at base + (i << reg_shift), accessed
	 * reg_io_width bytes wide (1, 2 or 4). PL011: 0 and 4. */
	uint32_t reg_shift, reg_io_width;
};

struct board_timer {
	bool present;
	/* In device tree order (ARM architected timer binding). */
	uint32_t sec_phys_intid;
	uint32_t phys_intid;
	uint32_t virt_intid;
	uint32_t hyp_phys_intid;
};

struct board_info {
	struct board_mem_region ram[BOARD_MAX_RAM];	/* sorted by base */
	size_t nr_ram;
	uint64_t total_ram;

	struct board_cpu cpus[BOARD_MAX_CPUS];		/* in DT order */
	size_t nr_cpus;					/* recorded */
	size_t nr_cpus_found;				/* in the tree */

	struct board_psci psci;
	struct board_gic gic;
	struct board_uart uart;
	struct board_timer timer;

	/* On failure: what is missing or malformed (a static string). Boot
	 * only: NULL on every board the hypervisor runs on. */
	const char *error;
};

/*
 * Fill @out from @dt (opened with dt_open()). Returns 0, or a negative
 * code with out->error set: -SHYPER_ENODEV when an essential piece
 * (memory, cpus, GIC, PSCI) is missing, -SHYPER_EBADMSG when a property
 * is malformed, -SHYPER_E2BIG when RAM has more than BOARD_MAX_RAM
 * regions, -SHYPER_EINVAL for overlapping RAM or duplicate CPUs,
 * -SHYPER_ENOTSUP for a reg layout dt_read_reg() cannot decode.
 */
int board_parse(const struct dt *dt, struct board_info *out);

/* For the parsers of the rest of the tree (core/board_pcie.h, core/iommu.c):
 * interrupt @index of @node as a GIC INTID (-SHYPER_ENOENT if it has none,
 * -SHYPER_ENOTSUP if its parent is not the GIC), and reg entry @index as a
 * CPU physical address (@optional: an absent one reads as 0, 0). */
int board_read_intid(const struct dt *dt, int node, int index, uint32_t *intid);
int board_read_dev_reg(const struct dt *dt, int node, int index, bool optional,
		       uint64_t *base, uint64_t *size);

#endif
