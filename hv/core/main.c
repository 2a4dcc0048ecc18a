/*
 * Boot flow of the boot core (hv_main) and of every other core
 * (hv_secondary_main). See docs/ARCHITECTURE.md, "Boot flow".
 */
#include <arch/cpu.h>
#include <arch/exception.h>
#include <arch/gic.h>
#include <arch/mmu.h>
#include <arch/psci.h>
#include <arch/sysreg.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/entropy.h>
#include <core/stack_guard.h>
#include <core/irq.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/mvm.h>
#include <core/iommu.h>
#include <core/selftest.h>
#include <core/shell.h>
#include <core/smp.h>
#include <core/update.h>
#include <core/state.h>
#include <dev/vgic.h>
#include <lib/dt.h>
#include <lib/fmt.h>
#include <lib/string.h>
#include <plat/platform.h>
#include <drivers/uart.h>
#include <shyper/version.h>

/* Largest board device tree accepted (QEMU's is about 1 MiB with padding). */
#define DTB_MAX_SIZE (2UL << 20)

struct hv_state *hv_state_root;

extern uint8_t _image_start[], _image_end[];

const char *cpu_state_name(enum cpu_state state)
{
	switch (state) {
	case CPU_ABSENT: return "absent";
	case CPU_OFF: return "off";
	case CPU_STARTING: return "starting";
	case CPU_ONLINE: return "online";
	case CPU_HALTED: return "halted";
	}
	return "?";
}

/* A boot input we cannot work with: say why, then power off. */
static void __attribute__((noreturn)) boot_fatal(const char *what)
{
	log_err("%s", what);
	log_err("cshyper cannot start on this board; powering off");
	psci_system_off();
}

static void read_board(uint64_t dtb_pa, struct dt *dt)
{
	static char msg[160];
	int ret = dt_open(dt, (const void *)dtb_pa, DTB_MAX_SIZE);

	if (ret) {
		fmt_snprintf(msg, sizeof(msg),
			     "the board device tree at 0x%lx is not valid (error %d)",
			     dtb_pa, ret);
		boot_fatal(msg);
	}
	ret = board_parse(dt, &hv.board);
	if (ret) {
		fmt_snprintf(msg, sizeof(msg), "board device tree: %s",
			     hv.board.error ? hv.board.error : "unreadable");
		boot_fatal(msg);
	}
}

static void check_board(void)
{
	static char msg[200];
	const struct board_info *b = &hv.board;

	if (b->total_ram < PLAT_MIN_RAM) {
		fmt_snprintf(msg, sizeof(msg),
			     "the board has %lu MiB of RAM; cshyper needs at least %lu MiB (hypervisor and management VM)",
			     b->total_ram >> 20, PLAT_MIN_RAM >> 20);
		boot_fatal(msg);
	}
	if (b->nr_cpus < PLAT_MIN_CPUS) {
		fmt_snprintf(msg, sizeof(msg),
			     "the board has %zu core(s); cshyper needs at least %u (core 0 runs the management VM, guests need the others)",
			     b->nr_cpus, PLAT_MIN_CPUS);
		boot_fatal(msg);
	}
	if (b->nr_cpus_found > b->nr_cpus)
		log_warn("the board has %zu cores; this build uses the first %zu",
			 b->nr_cpus_found, b->nr_cpus);
	if (!b->timer.present || !b->timer.hyp_phys_intid)
		boot_fatal("the board device tree has no architected timer with an EL2 interrupt");
	if (b->psci.method != BOARD_PSCI_SMC)
		boot_fatal("PSCI must use the SMC conduit when cshyper runs at EL2");
}

static void init_cpus(void)
{
	uint64_t boot_mpidr = arch_mpidr();

	hv.nr_cpus = (unsigned)hv.board.nr_cpus;
	for (unsigned i = 0; i < hv.nr_cpus; i++) {
		hv.cpus[i].id = i;
		hv.cpus[i].mpidr = hv.board.cpus[i].mpidr;
		hv.cpus[i].state = CPU_OFF;
	}
	/* boot.S gave the boot core the stack of core 0. */
	if (hv.cpus[0].mpidr != boot_mpidr)
		boot_fatal("the boot core is not the first cpu of the device tree");
	hv.cpus[0].state = CPU_ONLINE;
}

static void init_interrupts(void)
{
	struct gic_desc desc;

	irq_board_gic(&desc);

	if (gic_init(&desc) || gic_cpu_init(0, hv.cpus[0].mpidr))
		boot_fatal("the interrupt controller did not initialise");
	smp_register_ipis();
	smp_enable_ipis();
	selftest_register_timer();
	selftest_enable_timer();
	if (vgic_cpu_init())
		boot_fatal("the GIC has no usable virtualisation interface");
	console_register_irq();
}

static void print_banner(void)
{
	const struct board_info *b = &hv.board;

	log_info("cshyper %s (ABI %u) on %s, EL2", SHYPER_VERSION_STRING,
		 SHYPER_ABI_VERSION, PLAT_NAME);
	char banks[24] = "";

	if (b->nr_ram > 1)
		fmt_snprintf(banks, sizeof(banks), " in %zu banks", b->nr_ram);
	log_info("board: %zu cores, %lu MiB RAM at 0x%lx%s, GICv%u, PSCI %u.%u",
		 b->nr_cpus, b->total_ram >> 20, b->ram[0].base, banks, b->gic.version,
		 psci_version() >> 16, psci_version() & 0xffff);
}

/* The FDT header's totalsize (big-endian), before anything checks the tree. */
static uint64_t raw_fdt_size(uint64_t dtb_pa)
{
	const uint8_t *p = (const uint8_t *)dtb_pa + 4;

	return (uint64_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * The state root goes right after the cold-boot image's slot, where every
 * later image finds it (core/update.h). Nothing may be there: the console
 * lives in the root, so an overlap is reported on the UART by hand.
 */
static void place_state_root(uint64_t dtb_pa)
{
	uint64_t lo = (uint64_t)_image_start, hi = lo + HV_SLOT_SIZE + HV_STATE_AREA;
	static const char msg[] = "cshyper: fatal: the board device tree lies in the 3 MiB "
				  "from the image's load address (image slot and state root)\r\n";

	if (dtb_pa < hi && dtb_pa + raw_fdt_size(dtb_pa) > lo) {
		for (const char *c = msg; *c; c++)
			uart_putc(PLAT_EARLY_UART_BASE, *c);
		psci_system_off();
	}
	hv_state_root = (struct hv_state *)(lo + HV_SLOT_SIZE);
	memset(hv_state_root, 0, sizeof(*hv_state_root));
}

void NO_STACK_PROTECTOR hv_main(uint64_t dtb_pa)
{
	struct dt dt;
	unsigned online;
	uint64_t rd_start, rd_end;

	place_state_root(dtb_pa);
	hv.magic = HV_STATE_MAGIC;
	hv.version = HV_STATE_VERSION;
	hv.log_level = LOG_INFO;
	hv.cpus[0].id = 0;
	arch_set_this_cpu(&hv.cpus[0]);
	console_init(PLAT_EARLY_UART_BASE);
	hv.dtb_pa = dtb_pa;

	read_board(dtb_pa, &dt);
	entropy_init(&dt);
	stack_guard_init(); /* the functions above returned with the old one */
	print_banner();
	check_board();
	init_cpus();
	if (mem_init((uint64_t)_image_start,
		     (uint64_t)_image_start + HV_SLOT_SIZE + HV_STATE_AREA, dtb_pa,
		     dt.totalsize))
		boot_fatal("could not set up hypervisor memory");
	if (update_init((uint64_t)_image_start))
		boot_fatal("could not reserve the live-update slot");
	if (mvm_boot_initrd(&dt, &rd_start, &rd_end)) {
		if (rd_start < hv.reserved_end && rd_end > (uint64_t)_image_start)
			boot_fatal("the initramfs overlaps the hypervisor's image slot and state root");
		mem_reserve_boot_initrd(rd_start, rd_end);
	}
	log_info("memory: hypervisor 0x%lx-0x%lx, heap %lu KiB, %lu MiB free",
		 hv.reserved_base, hv.reserved_end, hv.heap_size >> 10,
		 (mem_free_frame_count() * FRAME_SIZE) >> 20);
	init_interrupts();

	online = smp_start_secondaries();
	log_info("cpus: %u of %u cores online", online, hv.nr_cpus);

	selftest_ipi(false);
	selftest_timer(false);
	ivc_init();
	iommu_init(&dt);

	irq_enable();
	mvm_boot(&dt); /* returns only if the MVM cannot start */
	irq_disable();

	if (hv.board.uart.base == hv.console.uart_base && hv.board.uart.intid)
		console_enable_rx_irq(hv.board.uart.intid, 0);
	log_info("console ready; type 'help'");
	irq_enable();
	shell_run();
}

void hv_secondary_main(unsigned id)
{
	struct cpu *cpu = &hv.cpus[id];

	arch_set_this_cpu(cpu);
	if (arch_mpidr() != cpu->mpidr) {
		log_err("cpu%u started with mpidr 0x%lx, expected 0x%lx", id,
			arch_mpidr(), cpu->mpidr);
		halt();
	}
	if (gic_cpu_init(id, cpu->mpidr)) {
		log_err("cpu%u: no GIC redistributor/CPU interface found", id);
		halt();
	}
	smp_enable_ipis();
	selftest_enable_timer();
	if (vgic_cpu_init()) {
		log_err("cpu%u: no GIC virtualisation interface", id);
		halt();
	}
	log_info("online (mpidr 0x%lx)", cpu->mpidr);
	dsb(sy);
	cpu->state = CPU_ONLINE;
	smp_idle_loop();
}
