/*
 * Inter-VM communication (IVC), hypercall group SHYPER_GRP_IVC (3): shared
 * memory channels set up by configuration, doorbells, bounded message queues
 * in hypervisor memory, keep-alive and a common time base. docs/HYPERCALLS.md
 * describes every call; any VM may make them except IVC_ADD_CHANNEL.
 */
#ifndef SHYPER_IVC_H
#define SHYPER_IVC_H

#include <shyper/hypercall.h>
#include <shyper/types.h>

#define SHYPER_IVC_SEND SHYPER_HVC(SHYPER_GRP_IVC, 0)	   /* x1 vm, x2 buf, x3 len */
#define SHYPER_IVC_BROADCAST SHYPER_HVC(SHYPER_GRP_IVC, 1) /* x1 buf, x2 len -> x1 delivered */
#define SHYPER_IVC_RECV SHYPER_HVC(SHYPER_GRP_IVC, 2)	   /* x1 buf, x2 len -> x1 sender, x2 len */
#define SHYPER_IVC_ACK SHYPER_HVC(SHYPER_GRP_IVC, 3)	   /* drops the head message */
#define SHYPER_IVC_NOTIFY SHYPER_HVC(SHYPER_GRP_IVC, 4)	   /* x1 channel id */
#define SHYPER_IVC_KEEPALIVE SHYPER_HVC(SHYPER_GRP_IVC, 5) /* x1 period ms (0: off), x2 restart */
#define SHYPER_IVC_HEARTBEAT SHYPER_HVC(SHYPER_GRP_IVC, 6)
#define SHYPER_IVC_TIME SHYPER_HVC(SHYPER_GRP_IVC, 7)	   /* -> x1 counter, x2 frequency (Hz) */
#define SHYPER_IVC_CHANNEL_INFO SHYPER_HVC(SHYPER_GRP_IVC, 8) /* x1 index, x2 buf, x3 len -> x1 count */
#define SHYPER_IVC_ADD_CHANNEL SHYPER_HVC(SHYPER_GRP_IVC, 9) /* MVM: x1 vm, x2 buf, x3 len */
#define SHYPER_IVC_LAST_FN 9

#define SHYPER_IVC_MSG_MAX 256	      /* bytes in one message */
#define SHYPER_IVC_QUEUE_LEN 16	      /* messages queued for one VM */
#define SHYPER_IVC_CHANNELS_PER_VM 4  /* channels a VM's configuration declares */
#define SHYPER_IVC_SHM_MAX (16UL << 20)
#define SHYPER_IVC_PERIOD_MIN_MS 10
#define SHYPER_IVC_PERIOD_MAX_MS 60000
/* Channel ids: owner VM id * SHYPER_IVC_CHANNELS_PER_VM + index. */
#define SHYPER_IVC_MAX_CHANNEL_ID 32

/* SHYPER_EVENT_IVC's value when a message (not a doorbell) arrived. */
#define SHYPER_IVC_EVENT_MSG 0xffffffffU

/* SHYPER_IVC_ADD_CHANNEL: one "ivc.channel[]" entry of the configuration. */
struct shyper_ivc_channel_desc {
	char name[SHYPER_NAME_MAX]; /* 1..31 of [A-Za-z0-9_.-] */
	uint32_t peer;		    /* VM id; 0 is the MVM */
	uint32_t irq_id;	    /* the doorbell SPI of both guests */
	uint64_t ipa;		    /* where the configured VM sees it */
	uint64_t length;	    /* 4 KiB multiple, <= SHYPER_IVC_SHM_MAX */
};

/* SHYPER_IVC_CHANNEL_INFO: one channel of the caller, as it sees it. */
struct shyper_ivc_channel {
	uint32_t id;
	uint32_t owner;	  /* the VM whose configuration declared it */
	uint32_t peer;
	uint32_t irq_id;  /* 0 for the MVM's side: it gets SHYPER_EVENT_IVC */
	uint64_t ipa;	  /* in the caller's address space */
	uint64_t length;
	char name[SHYPER_NAME_MAX];
};

#endif
