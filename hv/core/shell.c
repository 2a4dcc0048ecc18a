/*
 * A line-oriented shell on the hypervisor console. It is how a user (and the
 * system tests) check a board before any VM exists: which cores are up, do
 * IPIs and timers work, how much memory is free, does a fault stay contained.
 */
#include <arch/cache.h>
#include <arch/psci.h>
#include <arch/sysreg.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/selftest.h>
#include <core/shell.h>
#include <core/smp.h>
#include <core/state.h>
#include <lib/string.h>
#include <plat/platform.h>
#include <shyper/version.h>

#define SHELL_LINE_MAX 128
#define SHELL_MAX_ARGS 4
#define PROMPT "cshyper> "
/* Faults are provoked here: above the 39-bit VA space the EL2 tables cover. */
#define UNMAPPED_VA 0x0000800000000000UL

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv);
};

static const struct command commands[];

static int parse_uint(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000UL)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (const struct command *c = commands; c->name; c++)
		con_printf("  %-9s %-10s %s\n", c->name, c->args, c->help);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	const struct board_info *b = &hv.board;
	(void)argc;
	(void)argv;
	con_printf("cshyper %s (ABI %u) on %s\n", SHYPER_VERSION_STRING,
		   SHYPER_ABI_VERSION, PLAT_NAME);
	con_printf("cores: %u, GICv%u, RAM: %lu MiB\n", hv.nr_cpus,
		   b->gic.version, b->total_ram >> 20);
	return 0;
}

static int cmd_cpus(int argc, char **argv)
{
	unsigned online = 0;
	(void)argc;
	(void)argv;
	for (unsigned i = 0; i < hv.nr_cpus; i++) {
		struct cpu *c = &hv.cpus[i];

		online += c->state == CPU_ONLINE;
		con_printf("cpu%u mpidr 0x%lx %-8s irqs %lu timer %lu\n", i, c->mpidr,
			   cpu_state_name(c->state), c->irqs, c->timer_irqs);
	}
	con_printf("%u/%u cores online\n", online, hv.nr_cpus);
	return 0;
}

static int cmd_ipi(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return selftest_ipi(true) ? -1 : 0;
}

static int cmd_timer(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return selftest_timer(true) ? -1 : 0;
}

static int cmd_mem(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	con_printf("frames: %lu free of %lu (%lu MiB free)\n", mem_free_frame_count(),
		   mem_usable_frame_count(), (mem_free_frame_count() * FRAME_SIZE) >> 20);
	con_printf("heap: %lu of %lu bytes free\n", hv_heap_free(), hv.heap_size);
	con_printf("hypervisor reserved: 0x%lx-0x%lx\n", hv.reserved_base,
		   hv.reserved_end);
	return 0;
}

/* What `fault` makes a core do; each must end in a panic on that core. */
enum fault_kind {
	FAULT_UNMAPPED,	  /* read an address no table maps */
	FAULT_WRITE_TEXT, /* write the hypervisor's own code (W^X) */
	FAULT_EXEC_DATA,  /* run an instruction stored on the stack (W^X) */
	FAULT_STACK,	  /* overrun a local array (stack protector) */
	FAULT_UBSAN,	  /* a signed overflow (UBSan, build/hv-ubsan only) */
	FAULT_OVERFLOW,	  /* recurse until the stack runs into its guard page */
};

static const char *const fault_names[] = { "unmapped", "write-text", "exec-data", "stack",
					   "ubsan", "overflow" };

/* Half a KiB of stack per level, never a tail call. */
static unsigned __attribute__((noinline)) recurse(unsigned n)
{
	volatile char pad[512];

	pad[0] = (char)n;
	if (!n)
		return 0;
	return recurse(n - 1) + (unsigned)pad[0];
}

/* Writes @n bytes into a 16-byte array: past its end when n > 16. */
static void __attribute__((noinline)) overrun_local(volatile size_t n)
{
	volatile char buf[16];

	for (size_t i = 0; i < n; i++)
		buf[i] = 0x5a;
	__asm__ volatile("" : : "r"(buf) : "memory"); /* the array is used */
}

static void fault_here(void *arg)
{
	enum fault_kind kind = (enum fault_kind)(uintptr_t)arg;
	volatile uint32_t *text = (volatile uint32_t *)(uintptr_t)&fault_here;
	/* A `ret` on the stack: returns if W^X does not hold. */
	uint32_t data_insn[1] __attribute__((aligned(16)));

	if (kind == FAULT_WRITE_TEXT) {
		log_info("writing the hypervisor's code at 0x%lx", (uint64_t)text);
		*text = *text; /* the same word: harmless if it ever succeeds */
		log_err("fault: the write to code went through: W^X does not hold");
		return;
	}
	if (kind == FAULT_EXEC_DATA) {
		data_insn[0] = 0xd65f03c0; /* ret */
		cache_sync_code((uint64_t)data_insn, sizeof(data_insn));
		log_info("running an instruction from data at 0x%lx", (uint64_t)data_insn);
		((void (*)(void))(uintptr_t)data_insn)();
		log_err("fault: the instruction in data ran: W^X does not hold");
		return;
	}
	if (kind == FAULT_STACK) {
		log_info("overrunning a 16-byte local array by 8 bytes");
		overrun_local(24);
		log_err("fault: the overrun went unnoticed: no stack protector");
		return;
	}
	if (kind == FAULT_UBSAN) {
		volatile int big = 0x7fffffff;
		volatile int sum;

		log_info("adding 1 to INT_MAX");
		sum = big + 1;
		log_err("fault: the overflow to %d went unnoticed: not a UBSan build", sum);
		return;
	}
	if (kind == FAULT_OVERFLOW) {
		log_info("recursing 1000 levels of 512 bytes: more than the stack holds");
		log_err("fault: the recursion returned %u: no stack guard", recurse(1000));
		return;
	}
	log_info("provoking a data abort at 0x%lx", UNMAPPED_VA);
	(void)*(volatile uint64_t *)UNMAPPED_VA;
}

static int cmd_fault(int argc, char **argv)
{
	unsigned long id;
	unsigned kind = FAULT_UNMAPPED;
	int ret;

	if (argc == 3) {
		for (kind = 0; kind < sizeof(fault_names) / sizeof(fault_names[0]); kind++)
			if (!strcmp(argv[2], fault_names[kind]))
				break;
	}
	if (argc < 2 || argc > 3 || parse_uint(argv[1], &id) || id >= hv.nr_cpus ||
	    kind == sizeof(fault_names) / sizeof(fault_names[0])) {
		con_printf("usage: fault <cpu> [unmapped|write-text|exec-data|stack|ubsan|overflow], cpu from 1 to %u\n",
			   hv.nr_cpus - 1);
		return -1;
	}
	if (id == this_cpu_id()) {
		con_printf("fault: cpu%lu runs this shell; pick another core\n", id);
		return -1;
	}
	ret = smp_call((unsigned)id, fault_here, (void *)(uintptr_t)kind, 200000);
	con_printf("fault: cpu%lu is now %s (call returned %d)\n", id,
		   cpu_state_name(hv.cpus[id].state), ret);
	return 0;
}

static int cmd_loglevel(int argc, char **argv)
{
	unsigned long level;

	if (argc == 1) {
		con_printf("log level %d (0 error, 1 warning, 2 info, 3 debug)\n",
			   log_get_level());
		return 0;
	}
	if (argc != 2 || parse_uint(argv[1], &level) || level > LOG_DEBUG) {
		con_printf("usage: loglevel [0-3]\n");
		return -1;
	}
	log_set_level((enum log_level)level);
	return 0;
}

static int cmd_poweroff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_info("powering off (PSCI SYSTEM_OFF)");
	psci_system_off();
}

static int cmd_reset(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_info("resetting the board (PSCI SYSTEM_RESET)");
	psci_system_reset();
}

static const struct command commands[] = {
	{ "help", "", "this list", cmd_help },
	{ "info", "", "version, board, cores, memory", cmd_info },
	{ "cpus", "", "state and interrupt counts of every core", cmd_cpus },
	{ "ipi", "", "IPI round trip between every pair of cores", cmd_ipi },
	{ "timer", "", "EL2 timer interrupt on every core", cmd_timer },
	{ "mem", "", "free frames and heap", cmd_mem },
	{ "fault", "<cpu> [kind]", "make a core fault (panic path; kinds: unmapped, write-text, exec-data, stack, ubsan, overflow)",
	  cmd_fault },
	{ "loglevel", "[0-3]", "show or set the console log level", cmd_loglevel },
	{ "poweroff", "", "power the board off", cmd_poweroff },
	{ "reset", "", "reset the board", cmd_reset },
	{ 0, 0, 0, 0 },
};

int shell_exec(char *line)
{
	char *argv[SHELL_MAX_ARGS + 1];
	int argc = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		if (argc == SHELL_MAX_ARGS) {
			con_printf("too many arguments\n");
			return -1;
		}
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (!argc)
		return 0;
	argv[argc] = 0;
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			return c->run(argc, argv);
	con_printf("unknown command '%s'; 'help' lists them\n", argv[0]);
	return -1;
}

/* Waits for a byte; the UART interrupt ends the WFI. */
static int read_char(void)
{
	int c;

	for (;;) {
		irq_disable();
		c = console_getc();
		if (c < 0)
			wfi();
		irq_enable();
		if (c >= 0)
			return c;
	}
}

void shell_run(void)
{
	char line[SHELL_LINE_MAX];
	size_t len = 0;

	con_printf("%s", PROMPT);
	for (;;) {
		int c = read_char();

		if (c == '\r' || c == '\n') {
			con_printf("\n");
			line[len] = 0;
			shell_exec(line);
			len = 0;
			con_printf("%s", PROMPT);
		} else if (c == 0x7f || c == '\b') {
			if (len) {
				len--;
				con_printf("\b \b");
			}
		} else if (c == 0x03) { /* ^C drops the line */
			len = 0;
			con_printf("^C\n%s", PROMPT);
		} else if (c >= ' ' && c < 0x7f && len < SHELL_LINE_MAX - 1) {
			char ch = (char)c;

			line[len++] = ch;
			console_write(&ch, 1);
		}
	}
}
