/*
 * Translation tables for a VM's DMA: VMSAv8-64 stage-1 format, 4 KiB granule,
 * 48-bit input (I/O virtual address = the VM's IPA) and output addresses,
 * walked by an SMMU from level 0. A device sees the VM's RAM where the VM
 * sees it, read-write, never executable, and nothing else.
 *
 * Why stage 1 and not the VM's own stage-2 tables: the SMMUv3 QEMU 7.2
 * emulates implements stage 1 only (SMMU_IDR0.S2P = 0). The tables are built
 * once when the VM is started and torn down when it is removed; a VM's RAM
 * does not move in between.
 *
 * Pure code, like arch/stage2.h: tables come from frames the caller's ops
 * hand out, so the host tests run it on simulated memory.
 */
#ifndef CORE_IO_PT_H
#define CORE_IO_PT_H

#include <stddef.h>
#include <stdint.h>

#define IO_PT_VA_BITS 48
#define IO_PT_NO_FRAME ((uint64_t)-1)

/* Stage-1 leaf attributes (Arm ARM D8.3): AttrIndx 0 (MAIR attribute 0,
 * Normal write-back, io_pt_mair()), AP[2:1] = 0b01 (read-write), Inner
 * Shareable, AF set, PXN and UXN (a device never fetches instructions). */
#define IO_PT_ATTR_AP_RW	(1ULL << 6)
#define IO_PT_ATTR_SH_INNER	(3ULL << 8)
#define IO_PT_ATTR_AF		(1ULL << 10)
#define IO_PT_ATTR_PXN		(1ULL << 53)
#define IO_PT_ATTR_UXN		(1ULL << 54)
#define IO_PT_LEAF_ATTRS                                                                   \
	(IO_PT_ATTR_AP_RW | IO_PT_ATTR_SH_INNER | IO_PT_ATTR_AF | IO_PT_ATTR_PXN |          \
	 IO_PT_ATTR_UXN)

struct io_pt_ops {
	uint64_t (*alloc_table)(void *ctx); /* a zeroed frame, or IO_PT_NO_FRAME */
	void (*free_table)(void *ctx, uint64_t pa);
	void *(*to_virt)(void *ctx, uint64_t pa);
	/* Optional: after each descriptor write, for a walker that does not
	 * snoop the CPU's caches. */
	void (*written)(void *ctx, const void *p, size_t size);
	void *ctx;
};

struct io_pt {
	uint64_t root_pa;  /* level-0 table, 0 before the first map */
	size_t nr_tables;  /* root included */
};

/*
 * Map [iova, iova + size) to [pa, pa + size), all 4 KiB aligned, with 2 MiB
 * and 1 GiB blocks where both addresses allow. Only into unmapped space:
 * -SHYPER_EEXIST if part of it is mapped, -SHYPER_EINVAL for bad arguments,
 * -SHYPER_ENOMEM if a table cannot be had (what was mapped of the range
 * stays; the caller destroys the whole).
 */
int io_pt_map(struct io_pt *pt, const struct io_pt_ops *ops, uint64_t iova, uint64_t pa,
	      uint64_t size);

/* The output address of iova: 0, or -SHYPER_ENOENT if it is not mapped. */
int io_pt_translate(const struct io_pt *pt, const struct io_pt_ops *ops, uint64_t iova,
		    uint64_t *pa);

/* Frees every table; the SMMU must no longer walk them. */
void io_pt_destroy(struct io_pt *pt, const struct io_pt_ops *ops);

/* MAIR value for the context descriptor: attribute 0 Normal WB RW-allocate. */
static inline uint64_t io_pt_mair(void)
{
	return 0xffULL;
}

#endif
