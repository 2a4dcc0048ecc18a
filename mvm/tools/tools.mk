# shyper-hvc-fuzz (mvm/tools/hvc-fuzz*.c): random hypercalls of the MVM-only
# groups from several threads, for tests/system/test_hvc_fuzz.py and
# `make fuzz-long`. Built like shyper-hvc (mvm/cli/cli.mk): static, arm64.

HVC_FUZZ_BIN	:= $(CLI_OUT)/shyper-hvc-fuzz
HVC_FUZZ_SRCS	:= mvm/tools/hvc-fuzz.c mvm/tools/hvc-fuzz-calls.c mvm/tools/hvc-fuzz-args.c

cli: $(HVC_FUZZ_BIN)

$(HVC_FUZZ_BIN): $(HVC_FUZZ_SRCS) mvm/tools/hvc-fuzz.h $(wildcard include/shyper/*.h)
	@mkdir -p $(@D)
	$(CLI_CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude -static -pthread \
		-o $@ $(HVC_FUZZ_SRCS)
