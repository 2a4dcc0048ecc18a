/* The MVM's notification interrupt (its /hypervisor node): an SPI no board
 * device uses. Alone here so tools/mvm-dtb can name it too. */
#ifndef CORE_MVM_NOTIFY_H
#define CORE_MVM_NOTIFY_H

#define MVM_NOTIFY_INTID 255

#endif
