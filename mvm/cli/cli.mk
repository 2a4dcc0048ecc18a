# shyper, the management VM's command-line tool (mvm/cli): a static arm64
# binary linked against Debian's arm64 json-c, which mvm/cli/sysroot.sh
# downloads into $(BUILD)/cache/debs (never installs) and unpacks into
# $(BUILD)/cli/sysroot. Its parser is host-tested by tests/unit/test_cli_*.c.

CLI_OUT		:= $(BUILD)/cli
CLI_BIN		:= $(CLI_OUT)/shyper
CLI_SYSROOT	:= $(CLI_OUT)/sysroot
CLI_STAMP	:= $(CLI_SYSROOT)/.unpacked-from
CLI_DEB_CACHE	?= $(BUILD)/cache/debs
CLI_CC		?= $(CROSS)gcc
CLI_SRCS	:= $(wildcard mvm/cli/*.c)
# The migration stream codec, shared with the hypervisor (save / restore).
CLI_LIB_SRCS	:= hv/lib/crc32.c hv/lib/fmt.c hv/lib/mstream_check.c hv/lib/mstream_inc.c \
		   hv/lib/mstream_payload.c hv/lib/mstream_reader.c hv/lib/mstream_writer.c
CLI_OBJS	:= $(patsubst mvm/cli/%.c,$(CLI_OUT)/obj/%.o,$(CLI_SRCS)) \
		   $(patsubst hv/lib/%.c,$(CLI_OUT)/obj/lib/%.o,$(CLI_LIB_SRCS))
CLI_CFLAGS	:= -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -MMD -MP \
		   -Iinclude -Ihv/lib/inc -isystem $(CLI_SYSROOT)/usr/include
CLI_LDFLAGS	:= -static -L$(CLI_SYSROOT)/usr/lib/aarch64-linux-gnu
CLI_LDLIBS	:= -ljson-c

.PHONY: cli
cli: $(CLI_BIN)

$(CLI_STAMP): mvm/cli/sysroot.sh
	@mvm/cli/sysroot.sh $(CLI_SYSROOT) $(CLI_DEB_CACHE)

$(CLI_OUT)/obj/%.o: mvm/cli/%.c $(CLI_STAMP) mvm/cli/cli.mk
	@mkdir -p $(@D)
	$(CLI_CC) $(CLI_CFLAGS) -c -o $@ $<

$(CLI_OUT)/obj/lib/%.o: hv/lib/%.c $(CLI_STAMP) mvm/cli/cli.mk
	@mkdir -p $(@D)
	$(CLI_CC) $(CLI_CFLAGS) -c -o $@ $<

$(CLI_BIN): $(CLI_OBJS)
	$(CLI_CC) $(CLI_LDFLAGS) -o $@ $^ $(CLI_LDLIBS)

-include $(CLI_OBJS:.o=.d)

# shyper-hvc (mvm/tools/hvc-raw.c): one raw hypercall, for tests and bring-up.
HVC_RAW_BIN	:= $(CLI_OUT)/shyper-hvc

cli: $(HVC_RAW_BIN)

$(HVC_RAW_BIN): mvm/tools/hvc-raw.c $(wildcard include/shyper/*.h)
	@mkdir -p $(@D)
	$(CLI_CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude -static -o $@ $<

# shyper-tick (mvm/tools/tick.c): a line every millisecond, for bench/migrate.py.
TICK_BIN	:= $(CLI_OUT)/shyper-tick

cli: $(TICK_BIN)

$(TICK_BIN): mvm/tools/tick.c
	@mkdir -p $(@D)
	$(CLI_CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -o $@ $<

# shyper-memcheck (mvm/tools/memcheck.c): pages rewritten and checked
# forever, for the migration tests (a lost write shows as a bad page).
MEMCHECK_BIN	:= $(CLI_OUT)/shyper-memcheck

cli: $(MEMCHECK_BIN)

$(MEMCHECK_BIN): mvm/tools/memcheck.c
	@mkdir -p $(@D)
	$(CLI_CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -o $@ $<

# shyper-dma-target (mvm/tools/dma-target.c): a page of the MVM's memory a
# device must not reach, checked before and after (tests/system/test_smmu.py).
DMA_TARGET_BIN	:= $(CLI_OUT)/shyper-dma-target

cli: $(DMA_TARGET_BIN)

$(DMA_TARGET_BIN): mvm/tools/dma-target.c
	@mkdir -p $(@D)
	$(CLI_CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -o $@ $<
