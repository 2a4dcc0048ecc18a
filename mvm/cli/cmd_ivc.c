/*
 * shyper ivc ...: inter-VM communication from user space of any VM (the MVM
 * or a guest with channels) through /dev/shyper-ivc (shyper.ko).
 *
 * `ivc agent` / `ivc exec` drive a Linux guest's shell from the MVM over a
 * channel (guests have an output-only console): the last AGENT_AREA bytes of
 * the channel hold one request and its answer, the request rings the
 * doorbell. The agent only runs what the MVM asks (the MVM writes the area).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/ivc.h>
#include <shyper/ivc_ioctl.h>

#include "cli.h"
#include "hvc.h"
#include "util.h"

#define AGENT_AREA 16384U
#define AGENT_MAGIC 0x69766361U /* "acvi" */
#define AGENT_CMD_MAX 1024U
#define AGENT_OUT_MAX (AGENT_AREA - 32U - AGENT_CMD_MAX)

struct agent_area {
	volatile uint32_t magic;
	volatile uint32_t req_seq;  /* the MVM: a new command */
	volatile uint32_t done_seq; /* the agent: answered req_seq */
	volatile int32_t rc;
	volatile uint32_t out_len;
	uint32_t pad[3];
	char cmd[AGENT_CMD_MAX];
	char out[AGENT_OUT_MAX];
};

static int ivc_open(void)
{
	int fd = open(SHYPER_IVC_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return cli_err("%s: %s (is shyper.ko loaded, and does this VM have IVC "
			       "channels?)", SHYPER_IVC_DEVICE, strerror(errno)),
		       -1;
	return fd;
}

/* One IVC call; 0 or a negative SHYPER_E* / errno code. */
static int ivc_call(int fd, uint32_t fid, uint64_t a1, uint64_t a2, void *buf, size_t len,
		    uint64_t ret[4])
{
	struct shyper_ioc_ivc io = { .fid = fid, .args = { a1, a2, 0 },
				     .buf = (uint64_t)(uintptr_t)buf, .buf_len = len };
	int r = ioctl(fd, SHYPER_IOC_IVC, &io);

	if (ret)
		memcpy(ret, io.ret, sizeof(io.ret));
	return r < 0 ? -errno : 0;
}

static int fail_code(const char *what, int code)
{
	char e[160];

	return cli_err("%s: %s", what, hvc_strerror(code, NULL, e, sizeof(e)));
}

static int parse_u64_arg(const char *s, const char *what, uint64_t *out)
{
	if (cli_parse_u64(s, out) != CLI_NUM_OK)
		return cli_usage_err("invalid %s \"%.32s\"", what, s);
	return CLI_EXIT_OK;
}

/* The caller's channel named by id or name. */
static int find_channel(int fd, const char *arg, struct shyper_ivc_channel *out)
{
	uint64_t want = UINT64_MAX, ret[4];

	if (cli_parse_u64(arg, &want) != CLI_NUM_OK)
		want = UINT64_MAX;
	for (uint64_t i = 0; i < SHYPER_IVC_MAX_CHANNEL_ID; i++) {
		if (ivc_call(fd, SHYPER_IVC_CHANNEL_INFO, i, 0, out, sizeof(*out), ret))
			break;
		if (out->id == want || !strncmp(out->name, arg, SHYPER_NAME_MAX))
			return 0;
	}
	return cli_err("no channel \"%.32s\" (see shyper ivc channels)", arg), -1;
}

static void *map_channel(int fd, const struct shyper_ivc_channel *ch)
{
	void *p = mmap(NULL, ch->length, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)ch->id * sysconf(_SC_PAGESIZE));

	if (p == MAP_FAILED) {
		cli_err("mmap of channel %s: %s", ch->name, strerror(errno));
		return NULL;
	}
	return p;
}

/* Waits up to timeout_ms (negative: for ever) for a doorbell or message. */
static bool wait_doorbell(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	return read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n);
}

static int ivc_channels(int argc, char **argv)
{
	struct shyper_ivc_channel ch;
	uint64_t ret[4];
	int fd = ivc_open();

	(void)argc;
	(void)argv;
	if (fd < 0)
		return CLI_EXIT_ERR;
	printf("%-3s %-20s %-6s %-5s %-12s %-10s %s\n", "ID", "NAME", "OWNER", "PEER", "IPA",
	       "LENGTH", "IRQ");
	for (uint64_t i = 0; !ivc_call(fd, SHYPER_IVC_CHANNEL_INFO, i, 0, &ch, sizeof(ch), ret);
	     i++)
		printf("%-3u %-20.31s vm%-4u vm%-3u 0x%-10llx 0x%-8llx %u\n", ch.id, ch.name,
		       ch.owner, ch.peer, (unsigned long long)ch.ipa,
		       (unsigned long long)ch.length, ch.irq_id);
	close(fd);
	return CLI_EXIT_OK;
}

static int send_common(uint32_t fid, uint64_t target, const char *text)
{
	size_t len = strlen(text);
	uint64_t ret[4];
	int fd, code;

	if (!len || len > SHYPER_IVC_MSG_MAX)
		return cli_usage_err("a message is 1 to %d bytes", SHYPER_IVC_MSG_MAX);
	fd = ivc_open();
	if (fd < 0)
		return CLI_EXIT_ERR;
	code = ivc_call(fd, fid, target, 0, (void *)text, len, ret);
	close(fd);
	if (code)
		return fail_code(fid == SHYPER_IVC_SEND ? "send" : "broadcast", code);
	if (fid == SHYPER_IVC_BROADCAST)
		printf("delivered to %llu VM(s)\n", (unsigned long long)ret[1]);
	return CLI_EXIT_OK;
}

static int ivc_send(int argc, char **argv)
{
	uint32_t vm;
	int r = cli_vm_id_arg(argv[0], &vm);

	(void)argc;
	return r ? r : send_common(SHYPER_IVC_SEND, vm, argv[1]);
}

static int ivc_broadcast(int argc, char **argv)
{
	(void)argc;
	return send_common(SHYPER_IVC_BROADCAST, 0, argv[0]);
}

static void print_message(uint64_t sender, const uint8_t *m, size_t len)
{
	printf("from vm%llu: ", (unsigned long long)sender);
	for (size_t i = 0; i < len; i++)
		putchar(m[i] >= 0x20 && m[i] < 0x7f ? m[i] : '.');
	putchar('\n');
}

/* The head message, printed, then acknowledged. */
static int ivc_recv(int argc, char **argv)
{
	uint8_t msg[SHYPER_IVC_MSG_MAX];
	uint64_t timeout = 0, ret[4], end;
	struct timespec ts;
	int fd, code;

	if (argc && parse_u64_arg(argv[0], "timeout", &timeout))
		return CLI_EXIT_USAGE;
	fd = ivc_open();
	if (fd < 0)
		return CLI_EXIT_ERR;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + timeout;
	for (;;) {
		uint64_t now;

		code = ivc_call(fd, SHYPER_IVC_RECV, 0, 0, msg, sizeof(msg), ret);
		if (code != -SHYPER_EAGAIN)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		if (now >= end)
			break;
		wait_doorbell(fd, (int)(end - now < 200 ? end - now : 200));
	}
	if (!code) {
		print_message(ret[1], msg, ret[2]);
		code = ivc_call(fd, SHYPER_IVC_ACK, 0, 0, NULL, 0, NULL);
	}
	close(fd);
	if (code == -SHYPER_EAGAIN)
		return cli_err("no message");
	return code ? fail_code("recv", code) : CLI_EXIT_OK;
}

static int ivc_notify(int argc, char **argv)
{
	struct shyper_ivc_channel ch;
	int fd = ivc_open(), code;

	(void)argc;
	if (fd < 0)
		return CLI_EXIT_ERR;
	if (find_channel(fd, argv[0], &ch)) {
		close(fd);
		return CLI_EXIT_ERR;
	}
	code = ivc_call(fd, SHYPER_IVC_NOTIFY, ch.id, 0, NULL, 0, NULL);
	close(fd);
	return code ? fail_code("notify", code) : CLI_EXIT_OK;
}

static int ivc_wait(int argc, char **argv)
{
	uint64_t timeout = 10000;
	int fd;
	bool got;

	if (argc && parse_u64_arg(argv[0], "timeout", &timeout))
		return CLI_EXIT_USAGE;
	fd = ivc_open();
	if (fd < 0)
		return CLI_EXIT_ERR;
	got = wait_doorbell(fd, timeout > 600000 ? 600000 : (int)timeout);
	close(fd);
	if (!got)
		return cli_err("no doorbell within %llu ms", (unsigned long long)timeout);
	printf("doorbell\n");
	return CLI_EXIT_OK;
}

static uint32_t fnv1a(const volatile uint8_t *p, size_t len)
{
	uint32_t h = 2166136261U;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619U;
	return h;
}

/* shm <channel> write <offset> <text> | read <offset> <len> | sum <offset> <len> */
static int ivc_shm(int argc, char **argv)
{
	struct shyper_ivc_channel ch;
	uint64_t off, n = 0;
	volatile uint8_t *p;
	int fd, ret = CLI_EXIT_OK;

	if (parse_u64_arg(argv[2], "offset", &off))
		return CLI_EXIT_USAGE;
	if (strcmp(argv[1], "write") && parse_u64_arg(argv[3], "length", &n))
		return CLI_EXIT_USAGE;
	if (strcmp(argv[1], "write") && strcmp(argv[1], "read") && strcmp(argv[1], "sum"))
		return cli_usage_err("unknown action \"%.16s\"", argv[1]);
	if (argc < 4)
		return cli_usage_err("missing operand");
	fd = ivc_open();
	if (fd < 0)
		return CLI_EXIT_ERR;
	if (find_channel(fd, argv[0], &ch) || !(p = map_channel(fd, &ch))) {
		close(fd);
		return CLI_EXIT_ERR;
	}
	if (!strcmp(argv[1], "write"))
		n = strlen(argv[3]);
	if (off > ch.length || n > ch.length - off) {
		ret = cli_err("offset %llu + %llu is beyond the channel (%llu bytes)",
			      (unsigned long long)off, (unsigned long long)n,
			      (unsigned long long)ch.length);
	} else if (!strcmp(argv[1], "write")) {
		for (uint64_t i = 0; i < n; i++)
			p[off + i] = (uint8_t)argv[3][i];
		__sync_synchronize();
	} else if (!strcmp(argv[1], "read")) {
		for (uint64_t i = 0; i < n; i++)
			putchar(p[off + i] >= 0x20 && p[off + i] < 0x7f ? p[off + i] : '.');
		putchar('\n');
	} else {
		printf("%08x\n", fnv1a(p + off, n));
	}
	munmap((void *)p, ch.length);
	close(fd);
	return ret;
}

static int ivc_keepalive(int argc, char **argv)
{
	uint64_t period;
	int fd, code;
	bool restart = argc > 1 && !strcmp(argv[1], "restart");

	if (parse_u64_arg(argv[0], "period", &period))
		return CLI_EXIT_USAGE;
	if (argc > 1 && !restart)
		return cli_usage_err("unknown option \"%.16s\"", argv[1]);
	fd = ivc_open();
	if (fd < 0)
		return CLI_EXIT_ERR;
	code = ivc_call(fd, SHYPER_IVC_KEEPALIVE, period, restart, NULL, 0, NULL);
	close(fd);
	return code ? fail_code("keepalive", code) : CLI_EXIT_OK;
}

static int ivc_heartbeat(int argc, char **argv)
{
	int fd = ivc_open(), code;

	(void)argc;
	(void)argv;
	if (fd < 0)
		return CLI_EXIT_ERR;
	code = ivc_call(fd, SHYPER_IVC_HEARTBEAT, 0, 0, NULL, 0, NULL);
	close(fd);
	return code ? fail_code("heartbeat", code) : CLI_EXIT_OK;
}

static int ivc_time(int argc, char **argv)
{
	uint64_t ret[4];
	int fd = ivc_open(), code;

	(void)argc;
	(void)argv;
	if (fd < 0)
		return CLI_EXIT_ERR;
	code = ivc_call(fd, SHYPER_IVC_TIME, 0, 0, NULL, 0, ret);
	close(fd);
	if (code)
		return fail_code("time", code);
	printf("counter %llu frequency %llu Hz\n", (unsigned long long)ret[1],
	       (unsigned long long)ret[2]);
	return CLI_EXIT_OK;
}

static struct agent_area *agent_map(int fd, const char *name, struct shyper_ivc_channel *ch)
{
	uint8_t *p;

	if (find_channel(fd, name, ch))
		return NULL;
	if (ch->length < 2 * AGENT_AREA)
		return cli_err("channel %s is too small for the agent", ch->name), NULL;
	p = map_channel(fd, ch);
	return p ? (struct agent_area *)(p + ch->length - AGENT_AREA) : NULL;
}

/* Runs one command with sh, its output (stdout and stderr) into the area. */
static void agent_run(struct agent_area *a)
{
	char cmd[AGENT_CMD_MAX + 16];
	size_t n = 0;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "( %.*s ) 2>&1", (int)AGENT_CMD_MAX - 1, a->cmd);
	f = popen(cmd, "r");
	if (!f) {
		a->rc = 127;
		a->out_len = 0;
		return;
	}
	for (int ch; (ch = fgetc(f)) != EOF;)
		if (n < AGENT_OUT_MAX)
			a->out[n++] = (char)ch;
	st = pclose(f);
	a->out_len = (uint32_t)n;
	a->rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int ivc_agent(int argc, char **argv)
{
	struct shyper_ivc_channel ch;
	struct agent_area *a;
	int fd = ivc_open();

	(void)argc;
	if (fd < 0)
		return CLI_EXIT_ERR;
	a = agent_map(fd, argv[0], &ch);
	if (!a)
		return CLI_EXIT_ERR;
	for (;;) {
		wait_doorbell(fd, 200); /* and a look now and then */
		__sync_synchronize();
		if (a->magic != AGENT_MAGIC || a->req_seq == a->done_seq)
			continue;
		agent_run(a);
		__sync_synchronize();
		a->done_seq = a->req_seq;
		__sync_synchronize();
		ivc_call(fd, SHYPER_IVC_NOTIFY, ch.id, 0, NULL, 0, NULL);
	}
}

/* exec <channel> <command>: prints its output, exits with its status. */
static int ivc_exec(int argc, char **argv)
{
	struct shyper_ivc_channel ch;
	struct agent_area *a;
	uint32_t seq;
	int fd = ivc_open();

	(void)argc;
	if (fd < 0)
		return CLI_EXIT_ERR;
	if (strlen(argv[1]) >= AGENT_CMD_MAX)
		return cli_usage_err("the command is longer than %u bytes", AGENT_CMD_MAX - 1);
	a = agent_map(fd, argv[0], &ch);
	if (!a)
		return CLI_EXIT_ERR;
	if (a->req_seq != a->done_seq && a->magic == AGENT_MAGIC)
		return cli_err("the agent is busy with an earlier command");
	memset(a->cmd, 0, sizeof(a->cmd));
	memcpy(a->cmd, argv[1], strlen(argv[1]));
	a->magic = AGENT_MAGIC;
	seq = a->req_seq + 1;
	__sync_synchronize();
	a->req_seq = seq;
	__sync_synchronize();
	ivc_call(fd, SHYPER_IVC_NOTIFY, ch.id, 0, NULL, 0, NULL);
	for (int ms = 0; a->done_seq != seq; ms += 20) {
		if (ms > 60000)
			return cli_err("no answer from the agent on %s within 60 s", ch.name);
		usleep(20000);
		__sync_synchronize();
	}
	fwrite(a->out, 1, a->out_len < AGENT_OUT_MAX ? a->out_len : AGENT_OUT_MAX, stdout);
	return a->rc;
}

const struct cli_cmd cli_ivc_cmds[] = {
	{ "channels", "", "list this VM's IVC channels", NULL, 0, 0, ivc_channels },
	{ "send", "<vm> <text>", "queue a message for a VM this one has a channel with",
	  NULL, 2, 2, ivc_send },
	{ "broadcast", "<text>", "queue a message for every VM this one has a channel with",
	  NULL, 1, 1, ivc_broadcast },
	{ "recv", "[timeout_ms]", "print and acknowledge the oldest message",
	  "Waits up to timeout_ms (default 0) for one; exit status 1 when none came.\n",
	  0, 1, ivc_recv },
	{ "notify", "<channel>", "ring the doorbell of a channel (id or name)", NULL, 1, 1,
	  ivc_notify },
	{ "wait", "[timeout_ms]", "wait for a doorbell or message (default 10000 ms)", NULL,
	  0, 1, ivc_wait },
	{ "shm", "<channel> write|read|sum <offset> [text|length]",
	  "write text into a channel's shared memory, read it, or print its FNV-1a sum",
	  NULL, 4, 4, ivc_shm },
	{ "keepalive", "<period_ms> [restart]",
	  "register keep-alive (10-60000 ms; 0 unregisters); restart: reboot on a miss",
	  NULL, 1, 2, ivc_keepalive },
	{ "heartbeat", "", "tell the hypervisor this VM is alive", NULL, 0, 0, ivc_heartbeat },
	{ "time", "", "the hypervisor's counter and its frequency", NULL, 0, 0, ivc_time },
	{ "agent", "<channel>", "run the MVM's `ivc exec` commands (in a guest)", NULL, 1, 1,
	  ivc_agent },
	{ "exec", "<channel> <command>", "run a command in the guest's agent on a channel",
	  NULL, 2, 2, ivc_exec },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL },
};
