/* shyper system info|version|daemon */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shyper/hypercall.h>
#include <shyper/ioctl.h>
#include <shyper/version.h>

#include "cli.h"
#include "config.h"
#include "hvc.h"
#include "daemon_ctl.h"
#include "mediated.h"
#include "mediated_copies.h"
#include "migrate_proto.h"
#include "util.h"

#define MIB (1024ULL * 1024)

static int open_device(int *fd)
{
	char msg[256];

	*fd = hvc_open();
	if (*fd < 0)
		return cli_err("%s", hvc_open_error(*fd, msg, sizeof(msg)));
	return CLI_EXIT_OK;
}

static void version_string(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
}

/* ------------------------------------------------------------------------ */
/* version                                                                   */

static int sys_version(int argc, char **argv)
{
	char e[160], v[32];
	uint64_t ret[4];
	int fd, code;

	(void)argc;
	(void)argv;
	printf("shyper CLI %s (ABI %d)\n", SHYPER_VERSION_STRING, SHYPER_ABI_VERSION);
	if (open_device(&fd))
		return CLI_EXIT_ERR;
	code = hvc_call(fd, SHYPER_SYS_VERSION, NULL, 0, NULL, 0, 0, ret);
	hvc_close(fd);
	if (code)
		return cli_err("hypervisor version: %s", hvc_strerror(code, NULL, e, sizeof(e)));
	version_string((uint32_t)ret[1], v, sizeof(v));
	printf("hypervisor %s (ABI %llu)\n", v, (unsigned long long)ret[2]);
	if (ret[2] != SHYPER_ABI_VERSION)
		cli_warn("ABI mismatch: the hypervisor speaks ABI %llu, this CLI ABI %d; "
			 "use a CLI built with the hypervisor's include/shyper",
			 (unsigned long long)ret[2], SHYPER_ABI_VERSION);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* info                                                                      */

/* The names of the VMs, by id; NULL (and no error) if the list is unavailable. */
static struct shyper_vm_info *vm_names(int fd, size_t *count)
{
	size_t cap = 64, len = cap * sizeof(struct shyper_vm_info);
	struct shyper_vm_info *v = calloc(cap, sizeof(*v));
	uint64_t ret[4];

	if (!v || hvc_call(fd, SHYPER_VMM_LIST, (uint64_t[6]){ 0, len }, 1, v, len,
			   SHYPER_BUF_OUT, ret)) {
		free(v);
		return NULL;
	}
	*count = ret[1] < cap ? (size_t)ret[1] : cap;
	return v;
}

static int sys_info(int argc, char **argv)
{
	struct shyper_sys_info si;
	struct shyper_vm_info *vms;
	size_t nr_vms = 0;
	char e[160], v[32];
	int fd, code;

	(void)argc;
	(void)argv;
	if (open_device(&fd))
		return CLI_EXIT_ERR;
	memset(&si, 0, sizeof(si));
	code = hvc_call(fd, SHYPER_SYS_INFO, (uint64_t[6]){ 0, sizeof(si) }, 1, &si, sizeof(si),
			SHYPER_BUF_OUT, NULL);
	if (code) {
		hvc_close(fd);
		return cli_err("%s", hvc_strerror(code, NULL, e, sizeof(e)));
	}
	vms = vm_names(fd, &nr_vms);
	hvc_close(fd);

	si.board[sizeof(si.board) - 1] = '\0';
	version_string(si.version, v, sizeof(v));
	printf("hypervisor version: %s\nABI version: %u%s\nboard: %s\nGIC version: %u\n"
	       "cores: %u\n",
	       v, si.abi, si.abi == SHYPER_ABI_VERSION ? "" : " (differs from the CLI's)",
	       si.board, si.gic_version, si.nr_cpus);
	for (uint32_t c = 0; c < si.nr_cpus && c < SHYPER_MAX_CPUS; c++) {
		uint32_t owner = si.cpu_owner[c];
		const char *name = NULL;

		if (!owner) {
			printf("core %u: free\n", c);
			continue;
		}
		for (size_t i = 0; vms && i < nr_vms; i++)
			if (vms[i].id == owner - 1) {
				vms[i].name[SHYPER_NAME_MAX - 1] = '\0';
				name = vms[i].name;
			}
		if (name)
			printf("core %u: vm%u (%s)\n", c, owner - 1, name);
		else
			printf("core %u: vm%u\n", c, owner - 1);
	}
	printf("memory total: %llu MiB\nmemory free: %llu MiB\n",
	       (unsigned long long)(si.total_ram / MIB), (unsigned long long)(si.free_ram / MIB));
	si.version_string[sizeof(si.version_string) - 1] = '\0';
	printf("hypervisor heap free: %llu KiB\n", (unsigned long long)(si.heap_free >> 10));
	printf("interrupts passed through: %u\n", si.irqs_owned);
	printf("hypervisor image: %s, state layout %u, %u live update%s since boot\n",
	       si.version_string, si.state_version, si.updates, si.updates == 1 ? "" : "s");
	free(vms);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* daemon                                                                    */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_event(const struct shyper_event *ev)
{
	char s[24];

	if (ev->type == SHYPER_EVENT_VM_STATE)
		printf("vm%u: %s\n", ev->vm_id,
		       ev->state == SHYPER_VM_S_FREE ? "removed"
						     : cli_vm_state_name(ev->state, s, sizeof(s)));
	else
		printf("event %u: vm%u, value %u\n", ev->type, ev->vm_id, ev->state);
	fflush(stdout);
}

/*
 * The events waiting, printed; a removed VM's disk copies go. -1 after a
 * read error (said), 0 otherwise. polled: the device said it had some, so
 * none means it cannot poll and a pause keeps the loop from spinning.
 */
static int take_events(int fd, struct med_daemon *med, bool polled, const sigset_t *mask)
{
	struct shyper_event ev[16];
	bool vm_state = false;
	ssize_t n;

	do {
		n = read(fd, ev, sizeof(ev));
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct timespec t = { 0, 100 * 1000 * 1000 };

			if (polled)
				ppoll(NULL, 0, &t, mask);
			break;
		}
		if (n <= 0 || (size_t)n % sizeof(ev[0])) {
			if (n < 0)
				cli_err("read %s: %s", SHYPER_DEVICE, strerror(errno));
			else if (!n)
				cli_err("%s: end of events", SHYPER_DEVICE);
			else
				cli_err("%s: short event record (%zd bytes)", SHYPER_DEVICE, n);
			return -1;
		}
		polled = false;
		for (size_t i = 0; i < (size_t)n / sizeof(ev[0]); i++) {
			if (ev[i].type == SHYPER_EVENT_MEDIATED)
				continue;
			print_event(&ev[i]);
			if (ev[i].type != SHYPER_EVENT_VM_STATE)
				continue;
			vm_state = true;
			if (ev[i].state == SHYPER_VM_S_FREE)
				med_copies_vm_removed(med, fd, ev[i].vm_id);
		}
	} while ((size_t)n == sizeof(ev));
	/* Events can be lost (a full queue, another reader): look again. */
	if (vm_state)
		med_copies_check(med, fd);
	if (med->nr)
		med_daemon_serve(med, fd);
	return 0;
}

/* Finished migration receivers; how many. */
static int reap_children(void)
{
	int n = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		n++;
	return n;
}

/* One incoming migration, received by a child with its own /dev/shyper
 * file, so that mediated disks are served meanwhile and a receiver that
 * dies takes only its own VM with it. 1 if a child was started. */
static int accept_migration(int lsock, int dev_fd, double timeout_s, struct daemon_ctl *ctl,
			    const char *disk_dir)
{
	struct sockaddr_storage a;
	socklen_t alen = sizeof(a);
	char peer[INET6_ADDRSTRLEN + 8] = "?";
	int c = accept4(lsock, (struct sockaddr *)&a, &alen, SOCK_CLOEXEC);
	pid_t pid;

	if (c < 0)
		return 0;
	if (a.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&a)->sin_addr, peer, sizeof(peer));
	else if (a.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a)->sin6_addr, peer, sizeof(peer));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(lsock);
		ctl_close_child(ctl);
		hvc_close(dev_fd);
		_exit(mig_receive(c, peer, timeout_s, disk_dir));
	}
	close(c);
	if (pid < 0) {
		cli_warn("migration from %s refused: fork: %s", peer, strerror(errno));
		return 0;
	}
	return 1;
}

static int sys_daemon(int argc, char **argv)
{
	/* With mediated disks: also look for requests now and then, in case
	 * another reader of /dev/shyper took the event. */
	struct timespec med_tick = { 0, 200 * 1000 * 1000 };
	struct med_daemon med = { 0 };
	char err[CLI_ERR_MAX];
	struct sigaction sa, old_int, old_term;
	sigset_t block, orig, saved;
	struct daemon_ctl ctl = { .lsock = -1 };
	const char *disk_dir = cli_option("--disk-dir") ? cli_option("--disk-dir") : "/tmp";
	int fd, status = CLI_EXIT_OK, lsock = -1, children = 0;
	double port, timeout_s;

	if (cli_option_number("--port", MIG_PORT, 1, 65535, &port) ||
	    cli_option_number("--timeout", MIG_TIMEOUT_S, 1, 3600, &timeout_s))
		return CLI_EXIT_USAGE;
	if (argc == 1 && med_config_load(&med, argv[0], err, sizeof(err)))
		return cli_err("%s: %s", argv[0], err);
	if (!cli_option("--no-migrations")) {
		lsock = mig_listen((uint16_t)port, err, sizeof(err));
		if (lsock < 0)
			cli_warn("migrations are not accepted: %s", err);
		else if (ctl_open(&ctl, err, sizeof(err)))
			cli_warn("VMs with mediated disks cannot migrate: %s", err);
	}
	if (open_device(&fd))
		return CLI_EXIT_ERR;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		hvc_close(fd);
		med_daemon_stop(&med, -1);
		return cli_err("%s: %s", SHYPER_DEVICE, strerror(errno));
	}
	if (argc == 1 && med_daemon_start(&med, fd, argv[0])) {
		med_daemon_stop(&med, fd);
		hvc_close(fd);
		return cli_err("%s: out of memory", argv[0]);
	}
	med.copies_path = MED_COPIES_PATH;
	med_copies_restore(&med, fd);

	/* The signals are only let in while waiting, so none is lost between checks. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	saved = orig;
	sigdelset(&orig, SIGINT);
	sigdelset(&orig, SIGTERM);

	while (!stop) {
		struct pollfd p[3 + DAEMON_CTL_MAX_CONNS] = {
			{ .fd = fd, .events = POLLIN }, { .fd = lsock, .events = POLLIN } };
		int nctl = ctl_pollfds(&ctl, p + 2);
		bool ctl_ready = false;
		int ready = ppoll(p, 2 + (nfds_t)nctl, med.nr || children ? &med_tick : NULL,
				  &orig);

		if (ready < 0) {
			if (errno == EINTR)
				continue;
			status = cli_err("poll %s: %s", SHYPER_DEVICE, strerror(errno));
			break;
		}
		children -= reap_children();
		if (med.nr)
			med_daemon_serve(&med, fd);
		if (lsock >= 0 && (p[1].revents & POLLIN))
			children += accept_migration(lsock, fd, timeout_s, &ctl, disk_dir);
		for (int i = 0; i < nctl; i++)
			ctl_ready |= p[2 + i].revents != 0;
		/* Events before requests: a VM removed before a receiver names
		 * its new VM, which may have the same id, is seen first. */
		if ((p[0].revents || ctl_ready) &&
		    take_events(fd, &med, p[0].revents != 0, &orig)) {
			status = CLI_EXIT_ERR;
			break;
		}
		ctl_handle(&ctl, p + 2, nctl, &med, fd);
	}
	med_daemon_stop(&med, fd);
	hvc_close(fd);
	if (lsock >= 0)
		close(lsock);
	ctl_close(&ctl);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return status;
}

const struct cli_cmd cli_system_cmds[] = {
	{ "info", "", "hypervisor version, board, cores and their owners, memory", NULL, 0, 0,
	  sys_info },
	{ "version", "", "CLI, hypervisor and ABI versions; warns when the ABIs differ", NULL, 0,
	  0, sys_version },
	{ "daemon",
	  "[mediated-cfg.json] [--port=N] [--timeout=S] [--disk-dir=DIR] [--no-migrations]",
	  "print VM state changes; serve mediated disks; accept migrations",
	  "Reads the hypervisor's events from /dev/shyper and prints one line per VM\n"
	  "state change, e.g. \"vm1: running\". Stops cleanly on SIGINT or SIGTERM.\n"
	  "mediated-cfg.json lists the disk images of mediated virtio-blk devices\n"
	  "(a guest device's cfg_list[0] is an index into the list):\n"
	  "  { \"mediated\": [ \"~/vm0.img\", { \"path\": \"ro.img\", \"readonly\": true } ] }\n"
	  "The daemon serves their requests with ordinary file I/O. An image that\n"
	  "cannot be opened makes its guests' I/O fail; so does the daemon's end,\n"
	  "until it is started again.\n"
	  "It accepts VMs sent by `shyper vm migrate` on TCP port 7740 (--port=N;\n"
	  "--no-migrations: none) and prints one line for each; a source silent for\n"
	  "--timeout seconds (default 30) is given up and its VM removed. The disks\n"
	  "of migrated VMs are copied into --disk-dir (default /tmp) and served\n"
	  "until the VM is removed; then the copy is deleted. The copies are\n"
	  "recorded in /run/shyper-daemon-disks for a daemon started again.\n",
	  0, 1, sys_daemon },
	{ "update", "[image.bin] [--rollback] [--status] [--cancel] [--timeout=S]",
	  "replace the running hypervisor; every VM keeps running",
	  "Uploads image.bin (a cshyper.bin built for this board) into the image slot\n"
	  "the running hypervisor does not use; the hypervisor checks its header,\n"
	  "board, ABI, state layout and SHA-256 before anything stops, then parks\n"
	  "every core, hands its state to the new image and resumes every VM where\n"
	  "it was. The new image must pass its self-check (every core back, every\n"
	  "vCPU running, interrupts arriving) within 3 seconds, or the previous\n"
	  "image takes over again. --rollback returns to the previous image while\n"
	  "it is still kept; --status shows the running image and the last switch;\n"
	  "--cancel drops an upload; --timeout bounds the wait for the verdict.\n",
	  0, 1, cli_system_update },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL },
};
