/*
 * The physical interrupt controller as the hypervisor uses it: one interface,
 * two drivers (gicv2.c, gicv3.c) chosen from the board device tree.
 */
#ifndef ARCH_GIC_H
#define ARCH_GIC_H

#include <stdbool.h>
#include <stdint.h>

/* GIC architecture (IHI 0069) interrupt id ranges. */
#define GIC_NR_SGIS 16
#define GIC_FIRST_PPI 16
#define GIC_FIRST_SPI 32
#define GIC_MAX_INTID 1019
#define GIC_SPURIOUS_FIRST 1020

/* Priority the hypervisor gives its own interrupts (lower is more urgent). */
#define GIC_PRIO_HV 0xa0
#define GIC_PRIO_MASK_ALL_OPEN 0xff

struct gic_desc {
	unsigned version; /* 2 or 3 */
	uint64_t gicd;
	uint64_t gicc; /* v2 CPU interface */
	uint64_t gich; /* v2 virtual interface control, 0 if absent */
	uint64_t gicv; /* v2 virtual CPU interface, 0 if absent */
	uint64_t gicr; /* v3 first redistributor region */
	uint64_t gicr_size;
};

struct gic_ops {
	/* attach: learn a GIC another image set up, changing nothing
	 * (a live update: interrupts pending meanwhile must survive). */
	int (*init)(const struct gic_desc *desc, bool attach);
	int (*cpu_init)(unsigned cpu, uint64_t mpidr, bool attach);
	void (*enable)(uint32_t intid, unsigned cpu);
	void (*disable)(uint32_t intid, unsigned cpu);
	void (*send_sgi)(unsigned cpu, uint32_t sgi);
	uint32_t (*ack)(void);
	void (*eoi)(uint32_t ack);
	void (*deactivate)(uint32_t ack);
	uint32_t (*nr_irqs)(void);
	bool (*private_active)(uint32_t intid);
	void (*set_private_active)(uint32_t intid, bool active);
	void (*set_edge)(uint32_t intid);
};

extern const struct gic_ops gicv2_ops;
extern const struct gic_ops gicv3_ops;

/* Distributor setup, boot core only. Returns 0 or a negative error. */
int gic_init(const struct gic_desc *desc);
/* This core's CPU interface (and redistributor on v3). */
int gic_cpu_init(unsigned cpu, uint64_t mpidr);
/* After a live update: the driver learns the running setup, unchanged. */
int gic_attach(const struct gic_desc *desc);
int gic_cpu_attach(unsigned cpu, uint64_t mpidr);
/* SPIs are routed to `cpu`; SGIs and PPIs are enabled on the calling core. */
void gic_enable(uint32_t intid, unsigned cpu);
void gic_disable(uint32_t intid, unsigned cpu);
/* An SPI the hypervisor takes is edge-triggered (its line pulses). */
void gic_set_edge(uint32_t intid);
void gic_send_sgi(unsigned cpu, uint32_t sgi);
/* Acknowledge: the raw value goes back to gic_eoi, gic_ack_intid() decodes it. */
uint32_t gic_ack(void);
/*
 * EOImode 1: gic_eoi() only drops the running priority; gic_deactivate()
 * ends the interrupt. An interrupt handed to a guest with the list register
 * HW bit is deactivated by the guest's own EOI instead.
 */
void gic_eoi(uint32_t ack);
void gic_deactivate(uint32_t ack);
/*
 * The active state of an SGI or PPI on the calling core. A PPI shared by
 * several vCPUs on one core (the virtual timer) keeps one active state per
 * vCPU: a switch saves it, clears it and restores the next vCPU's.
 */
bool gic_private_active(uint32_t intid);
void gic_set_private_active(uint32_t intid, bool active);
unsigned gic_version(void);
uint32_t gic_nr_irqs(void);

uint32_t gic_ack_intid(uint32_t ack);

#endif
