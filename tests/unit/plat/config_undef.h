/* Forget one board's hv/config/<board>.c macros before the next (no guard). */
#undef mvm_config
#undef MVM_RAM_BASE
#undef MVM_RAM_SIZE
#undef GIC_BASE
#undef GIC_END
#undef SPI
#undef MVM_NET_BASE
#undef MVM_NET_INTID
