/*
 * Constants of the virtio 1.x specification (OASIS virtio v1.2) that the
 * hypervisor's virtio-mmio devices and their tests share: feature bits,
 * device status bits, split-virtqueue flags and the virtio-mmio (version 2)
 * register map. Names follow the specification's own.
 */
#ifndef SHYPER_VIRTIO_H
#define SHYPER_VIRTIO_H

/* Device types (spec 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3

/* Device status field (spec 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Reserved (transport) feature bits (spec 6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_F_ORDER_PLATFORM 36
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_F_RING_RESET 40
#define VIRTIO_BIT(n) (1ULL << (n))

/* Split virtqueue descriptor flags (spec 2.7.5). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
/* Driver area flags (spec 2.7.6) and device area flags (spec 2.7.8). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Split virtqueue layout (spec 2.7): sizes and required alignments. */
#define VIRTQ_DESC_SIZE 16
#define VIRTQ_DESC_ALIGN 16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN 4
#define VIRTQ_DESC_TABLE_BYTES(n) ((uint64_t)(n) * VIRTQ_DESC_SIZE)
/* flags, idx, ring[n], used_event */
#define VIRTQ_AVAIL_BYTES(n) (6 + 2 * (uint64_t)(n))
/* flags, idx, ring[n] of { id, len }, avail_event */
#define VIRTQ_USED_BYTES(n) (6 + 8 * (uint64_t)(n))

/* virtio-mmio registers, version 2 (spec 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100
#define VIRTIO_MMIO_SIZE 0x200 /* registers and up to 256 bytes of config */

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt", little endian */
#define VIRTIO_MMIO_VERSION_MODERN 2
#define VIRTIO_MMIO_INT_VRING 0x1  /* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG 0x2 /* configuration change notification */

/* virtio-console (spec 5.3). */
#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2
#define VIRTIO_CONSOLE_RECEIVEQ 0
#define VIRTIO_CONSOLE_TRANSMITQ 1
#define VIRTIO_CONSOLE_CONFIG_SIZE 12 /* cols, rows, max_nr_ports, emerg_wr */

#endif
