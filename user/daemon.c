// SPDX-License-Identifier: GPL-2.0
/*
 * warden daemon: the policies of a directory, bound to processes in the
 * kernel when they exec (the policies' "match"), reloaded atomically on
 * change, and kept in force when the daemon dies.
 *
 * One set of LSM programs holds every policy: each is an agent slot (its
 * tasks carry the slot's id), its file rules a node tree like warden run's.
 * A reload compiles the new version into fresh node ids, then switches the
 * slot's root in one map update: a decision sees the old tree or the new
 * one, never neither, and the old nodes go only after a grace period (a
 * walk in progress may still be in them). A file that does not compile, or
 * claims what another policy claims, leaves its previous version in force.
 *
 * Maps and links are pinned under /sys/fs/bpf/warden/daemon: when the
 * daemon dies the programs keep enforcing and the ring buffer keeps
 * filling; the next daemon reuses the maps, attaches its own programs
 * before it drops the old ones, drains what was left, and reports what
 * could not be kept as a "lost" event. /run/warden/daemon.json says which
 * slot is which file. One daemon at a time: /run/warden/daemon.lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>

#include "agentcommon.h"
#include "cgroup.h"
#include "commands.h"
#include "daemon.h"
#include "event.h"
#include "lsm.h"
#include "lsm.skel.h"
#include "metrics.h"
#include "net.h"
#include "policy.h"
#include "sink.h"

#define DAEMON_NODES (1u << 17)	/* node map size: every policy twice (old and new) */
#define GRACE_NS 2000000000LL	/* old nodes are deleted this long after a switch */
#define TICK_MS 250
#define FLUSH_AT (1u << 20)	/* bytes of formatted events written at once */
#define FOLLOWERS_MAX 16
#define FOLLOWER_BACKLOG (8u << 20)	/* bytes a slow `events --follow` may lag */

/* One network object of a slot, attached to one cgroup. */
struct slot_net {
	struct net_bpf *skel;
	char pins[PATH_MAX];
	uint64_t cgid;		/* the cgroup it is attached to */
};

struct slot {
	bool used;
	bool removed;		/* its file is gone: no new binds; bound tasks keep its policy */
	bool orphan;		/* found in the pinned maps, unknown to the state file */
	char file[NAME_MAX + 1];	/* in the policy directory */
	char instance[AGENT_INSTANCE_LEN];
	struct policy policy;	/* in force */
	struct compiled compiled;
	uint64_t cgids[64];	/* match.cgroups resolved (0: does not exist yet) */
	char cgroup[PATH_MAX];	/* network policies: the instance cgroup bound processes move to */
	struct slot_net *nets;	/* network policies: one per cgroup (instance, matched ones) */
	size_t nnets;
	struct agent_info ai;
	int64_t loaded_ns;	/* realtime of the version in force */
	uint64_t decisions[WD_EV_PROC + 1][3];	/* events by type and decision, for metrics */
	uint64_t reloads, rejects;
};

/* An attach handed over by `warden attach` (its own programs, pinned in dir). */
struct attached {
	bool used;
	char instance[AGENT_INSTANCE_LEN];
	char dir[PATH_MAX];	/* its pins: links, map_events, map_counters */
	char agent[64], identity[256], sha256[65], policy_file[PATH_MAX];
	bool tree;		/* --pid (else --cgroup) */
	int pid;
	char cgroup[PATH_MAX];	/* tree: its instance cgroup; else the cgroup confined */
	char home[PATH_MAX];	/* tree: where the processes go back on detach */
	bool own_cgroup;
	int events_fd, counters_fd;
	uint64_t lost_reported;
	uint64_t events;
	struct agent_info ai;
};

#define ATTACHED_MAX 64

struct retired {
	uint32_t root;		/* a tree no longer in force (policy or match tree): its ids */
	uint32_t n;		/* are root .. root + n - 1 */
	int64_t at;		/* monotonic ns when it was replaced */
};

struct follower {
	int fd;
	struct sbuf pending;
};

struct daemon {
	struct lsm_own own;	/* warden's binary, protected */
	int dir_fd;		/* the policy directory, held protected (its entries too) */
	const char *dir;
	const char *control;
	const char *metrics_addr;
	struct agent_output output;	/* --ringbuf-size: a pinned ring buffer keeps its own */
	const char *pins;
	const char *state_file;
	bool reset;

	struct lsm_bpf *skel;
	bool adopted;
	struct slot *slots;	/* WD_AGENTS_MAX */
	uint32_t next_node;
	struct compiled match_tree;	/* the exe tree in force */
	struct wd_match_key *keys;	/* the match map's keys in force */
	size_t nkeys;
	struct retired retired[256];
	size_t nretired;

	struct attached *attached;	/* ATTACHED_MAX */
	struct ring_buffer *rb;
	int rb_epoll_fd;	/* the ring buffer manager's, as registered with ep_fd */
	struct sink *sinks;
	struct sbuf out;
	int64_t boot_offset;
	struct agent_info daemon_ai;	/* for events about no slot */

	int lock_fd, ino_fd, ctl_fd, sig_fd, ep_fd;
	struct follower followers[FOLLOWERS_MAX];
	struct metrics *metrics;
	pthread_mutex_t lock;	/* slots' counters: the metrics thread reads them */
	uint64_t reloads, reload_failures, lost_total;
	bool sweep_due;		/* a bound process may be outside its network cgroup */
	int64_t adopt_gc_at;	/* when a dead daemon's unused trees may go */
	bool stop;
};

static const char daemon_usage[] =
	"Usage: warden daemon --policy-dir DIR [--control PATH] [--metrics ADDR:PORT]\n"
	"                     [--events FILE] [--sink SPEC]... [--format json|ocsf]\n"
	"       warden daemon --reset\n"
	"\n"
	"Enforce every policy DIR/*.json holds. A policy's \"match\" (exe paths,\n"
	"cgroups, uids) says which processes are its agents: a process that execs a\n"
	"matching program is bound in the kernel before the program runs, with its\n"
	"descendants. Files are reloaded when they change (and on SIGHUP),\n"
	"atomically; a file that does not compile keeps its previous version in\n"
	"force and is reported (a \"policy\" event and a log line).\n"
	"\n"
	"Enforcement outlives the daemon: programs and maps stay pinned under\n"
	"/sys/fs/bpf/warden/daemon, and the next daemon adopts them. SIGTERM stops\n"
	"the daemon, not the enforcement; --reset (no daemon running) ends it.\n"
	"\n"
	"  -d, --policy-dir DIR  the policies (*.json; other names are ignored)\n"
	"  -c, --control PATH    control socket (default " WARDEN_CONTROL "), root only:\n"
	"                        warden status, warden events --follow, warden reload\n"
	"  -m, --metrics ADDR:PORT  serve Prometheus metrics on a loopback address\n"
	"                        (e.g. 127.0.0.1:9464); off by default\n"
	"  -e, --events FILE     append events as JSON lines to FILE (default: stderr)\n"
	"  -s, --sink SPEC       also deliver events to SPEC (as warden run --sink)\n"
	"  -f, --format FMT      json (the default) or ocsf\n"
	"      --ringbuf-size BYTES  event ring buffer (power of 2; default 16 MiB); a\n"
	"                        ring buffer adopted from a previous daemon keeps its size\n"
	"      --reset           remove the pinned state: every daemon agent runs free\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit status: 0 after SIGTERM or SIGINT; 1 if the daemon cannot start (another\n"
	"one runs, BPF LSM is not active, the directory cannot be read); 2 usage.\n"
	"\n"
	"Examples:\n"
	"  warden daemon --policy-dir /etc/warden/policies --events /var/log/warden.jsonl\n"
	"  warden daemon -d /etc/warden/policies --metrics 127.0.0.1:9464 &\n"
	"  warden status --json\n";

/* ---- small helpers --------------------------------------------------------- */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * The cgroup of @pid, "/a/b" as /proc/PID/cgroup says (cgroup v2). Events
 * come in bursts from few processes: a small cache, one second fresh.
 */
static const char *cgroup_of_pid(uint32_t pid, char *buf, size_t size)
{
	static struct { uint32_t pid; int64_t at; char path[256]; } cache[64];
	char file[32], *text = NULL, *p, *nl;
	int64_t now = mono_ns();
	unsigned slot = pid % 64;

	if (cache[slot].pid == pid && now - cache[slot].at < 1000000000LL) {
		snprintf(buf, size, "%s", cache[slot].path);
		return buf;
	}
	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	if (read_file(file, &text, NULL))
		return NULL;
	p = strstr(text, "0::");
	if (!p) {
		free(text);
		return NULL;
	}
	p += 3;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	snprintf(buf, size, "%s", p);
	free(text);
	if (strlen(buf) < sizeof(cache[slot].path)) {
		cache[slot].pid = pid;
		cache[slot].at = now;
		snprintf(cache[slot].path, sizeof(cache[slot].path), "%s", buf);
	}
	return buf;
}

static bool policy_file_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

static void slot_ai(struct slot *s)
{
	s->ai = (struct agent_info){ .name = s->policy.name ? s->policy.name : "unknown",
				     .identity = s->policy.identity, .instance = s->instance,
				     .exe_lookup = agent_exe_of_pid, .policy = &s->policy,
				     .policy_sha256 = s->policy.sha256[0] ? s->policy.sha256 : NULL,
				     .cgroup_lookup = cgroup_of_pid };
}

/* ---- output ------------------------------------------------------------------ */

static void follower_drop(struct daemon *d, struct follower *f)
{
	epoll_ctl(d->ep_fd, EPOLL_CTL_DEL, f->fd, NULL);
	close(f->fd);
	sb_free(&f->pending);
	f->fd = -1;
}

static void follower_flush(struct daemon *d, struct follower *f)
{
	ssize_t n;

	while (f->pending.len) {
		n = send(f->fd, f->pending.buf, f->pending.len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			follower_drop(d, f);
			return;
		}
		memmove(f->pending.buf, f->pending.buf + n, f->pending.len - n);
		f->pending.len -= n;
	}
}

/* To the sinks, and to every `events --follow` (one too slow is cut off, and told). */
static void flush_out(struct daemon *d)
{
	if (!d->out.len)
		return;
	sink_write(d->sinks, d->out.buf, d->out.len);
	for (int i = 0; i < FOLLOWERS_MAX; i++) {
		struct follower *f = &d->followers[i];

		if (f->fd < 0)
			continue;
		if (f->pending.len + d->out.len > FOLLOWER_BACKLOG) {
			static const char cut[] = "{\"event\":\"lost\",\"reason\":\"follower_too_slow\",\"message\":\"this reader fell more than 8 MiB behind and was disconnected; the daemon's sinks have every event\"}\n";

			f->pending.len = 0;
			sb_put(&f->pending, cut, sizeof(cut) - 1);
			follower_flush(d, f);
			if (f->fd >= 0)
				follower_drop(d, f);
			continue;
		}
		sb_put(&f->pending, d->out.buf, d->out.len);
		follower_flush(d, f);
	}
	d->out.len = 0;
}

static void policy_event(struct daemon *d, struct slot *s, const char *action, const char *file,
			 const char *error)
{
	struct agent_info *ai = s ? &s->ai : &d->daemon_ai;

	event_format_policy(&d->out, ai, action, file, error, NULL, realtime_ns());
	flush_out(d);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	const struct wd_event *ev = data;
	struct agent_info *ai = &d->daemon_ai;

	if (size >= sizeof(*ev) && ev->agent < WD_AGENTS_MAX && d->slots[ev->agent].used) {
		struct slot *s = &d->slots[ev->agent];

		ai = &s->ai;
		if (ev->type == WD_EV_PROC && ev->right == WD_PROC_BIND && s->policy.has_network)
			d->sweep_due = true;
		if (ev->type <= WD_EV_PROC && ev->decision <= WD_DEC_AUDIT) {
			pthread_mutex_lock(&d->lock);
			s->decisions[ev->type][ev->decision]++;
			pthread_mutex_unlock(&d->lock);
		}
	}
	if (event_format(&d->out, data, size, ai, d->boot_offset))
		pr_warn("daemon: dropped a malformed event record (%zu bytes)\n", size);
	/* A flood keeps consume() going: write as we go, not all at its end. */
	if (d->out.len >= FLUSH_AT)
		flush_out(d);
	return 0;
}

/* Losses since the last report, even those of a daemon that died: the count is pinned. */
static void report_lost(struct daemon *d)
{
	uint64_t lost = lsm_counter(d->skel, WD_CNT_LOST_RINGBUF);
	uint64_t limited = lsm_counter(d->skel, WD_CNT_RATE_LIMITED);
	volatile __u64 *lost_rep = &d->skel->bss->daemon_lost_reported;
	volatile __u64 *lim_rep = &d->skel->bss->daemon_limited_reported;

	if (lost > *lost_rep) {
		event_format_lost(&d->out, &d->daemon_ai, lost - *lost_rep, "ringbuf_full",
				  realtime_ns());
		d->lost_total += lost - *lost_rep;
		*lost_rep = lost;
	}
	if (limited > *lim_rep) {
		event_format_lost(&d->out, &d->daemon_ai, limited - *lim_rep, "rate_limit",
				  realtime_ns());
		*lim_rep = limited;
	}
}

static void drain(struct daemon *d)
{
	ring_buffer__consume(d->rb);
	report_lost(d);
	flush_out(d);
}

/* ---- attaches handed over by warden attach ------------------------------------- */

static struct daemon *the_daemon;
static void save_state(struct daemon *d);	/* for the attaches' ring buffer callbacks */

static void attached_ai(struct attached *t)
{
	t->ai = (struct agent_info){ .name = t->agent, .identity = t->identity[0] ? t->identity : NULL,
				     .instance = t->instance, .exe_lookup = agent_exe_of_pid,
				     .policy_sha256 = t->sha256[0] ? t->sha256 : NULL,
				     .cgroup_lookup = cgroup_of_pid };
}

static int on_attached_event(void *ctx, void *data, size_t size)
{
	struct attached *t = ctx;
	struct daemon *d = the_daemon;

	t->events++;
	if (event_format(&d->out, data, size, &t->ai, d->boot_offset))
		pr_warn("daemon: dropped a malformed event record (%zu bytes)\n", size);
	if (d->out.len >= FLUSH_AT)
		flush_out(d);
	return 0;
}

/* One ring buffer manager for the daemon's ring and every attach's. */
static int rebuild_rings(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ring_buffer *rb;
	int ret = 0;

	if (d->rb) {
		ring_buffer__consume(d->rb);
		flush_out(d);
	}
	rb = ring_buffer__new(bpf_map__fd(d->skel->maps.events), on_event, d, NULL);
	if (!rb)
		return -errno;
	for (int i = 0; i < ATTACHED_MAX; i++) {
		struct attached *t = &d->attached[i];

		if (t->used && t->events_fd >= 0 &&
		    ring_buffer__add(rb, t->events_fd, on_attached_event, t)) {
			ret = -errno;
			pr_warn("daemon: cannot read the events of attach %s: %s\n", t->instance,
				strerror(-ret));
		}
	}
	if (d->rb)
		ring_buffer__free(d->rb);	/* its epoll fd leaves ep_fd as it closes */
	d->rb = rb;
	d->rb_epoll_fd = ring_buffer__epoll_fd(rb);
	if (d->ep_fd >= 0) {
		ev.data.u64 = d->rb_epoll_fd;
		epoll_ctl(d->ep_fd, EPOLL_CTL_ADD, d->rb_epoll_fd, &ev);
	}
	return ret;
}

static void attached_lost(struct daemon *d, struct attached *t)
{
	uint64_t lost = t->counters_fd >= 0 ? map_counter(t->counters_fd, WD_CNT_LOST_RINGBUF) : 0;

	if (lost > t->lost_reported) {
		event_format_lost(&d->out, &t->ai, lost - t->lost_reported, "ringbuf_full",
				  realtime_ns());
		t->lost_reported = lost;
	}
}

static int open_attached(struct attached *t)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/map_events", t->dir);
	t->events_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/map_counters", t->dir);
	t->counters_fd = bpf_obj_get(path);
	return t->events_fd < 0 ? -ENOENT : 0;
}

static void close_attached(struct attached *t)
{
	if (t->events_fd >= 0)
		close(t->events_fd);
	if (t->counters_fd >= 0)
		close(t->counters_fd);
	t->events_fd = t->counters_fd = -1;
}

/* End attach @t: its programs go with their pins, and every mark with its maps. */
static void end_attached(struct daemon *d, struct attached *t, const char *why)
{
	ring_buffer__consume(d->rb);
	attached_lost(d, t);
	if (t->tree && t->own_cgroup)
		agent_move_home(t->cgroup, t->home);
	close_attached(t);
	remove_pin_dir(t->dir);
	if (t->own_cgroup && rmdir(t->cgroup) && errno != ENOENT)
		pr_warn("daemon: cannot remove %s: %s\n", t->cgroup, strerror(errno));
	pr_warn("daemon: attach %s (agent \"%s\") ended: %s\n", t->instance, t->agent, why);
	event_format_policy(&d->out, &t->ai, "detached", t->policy_file, NULL, why, realtime_ns());
	flush_out(d);
	t->used = false;
	rebuild_rings(d);
	save_state(d);
}

/* Run the attach's pinned task iterator: marks the threads of processes moved into its cgroup. */
static void sweep_attached(struct attached *t)
{
	char path[PATH_MAX * 2], buf[4096];
	int lfd, fd;

	snprintf(path, sizeof(path), "%s/wd_attach_iter", t->dir);
	lfd = bpf_obj_get(path);
	if (lfd < 0)
		return;
	fd = bpf_iter_create(lfd);
	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	if (fd >= 0)
		close(fd);
	close(lfd);
}

static void tick_attached(struct daemon *d)
{
	for (int i = 0; i < ATTACHED_MAX; i++) {
		struct attached *t = &d->attached[i];

		if (!t->used)
			continue;
		attached_lost(d, t);
		if (t->tree && cgroup_populated(t->cgroup) <= 0)
			end_attached(d, t, "every process of the tree has exited");
		else if (!t->tree && access(t->cgroup, F_OK))
			end_attached(d, t, "the cgroup is gone");
		else if (!t->tree)
			sweep_attached(t);
	}
}

static void copy_str(char *dst, size_t size, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	snprintf(dst, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int attached_from_json(struct attached *t, const cJSON *req)
{
	const cJSON *v;

	memset(t, 0, sizeof(*t));
	t->events_fd = t->counters_fd = -1;
	copy_str(t->instance, sizeof(t->instance), req, "instance");
	copy_str(t->dir, sizeof(t->dir), req, "dir");
	copy_str(t->agent, sizeof(t->agent), req, "agent");
	copy_str(t->identity, sizeof(t->identity), req, "identity");
	copy_str(t->sha256, sizeof(t->sha256), req, "policy_sha256");
	copy_str(t->policy_file, sizeof(t->policy_file), req, "policy_file");
	copy_str(t->cgroup, sizeof(t->cgroup), req, "cgroup");
	copy_str(t->home, sizeof(t->home), req, "home");
	v = cJSON_GetObjectItem(req, "mode");
	t->tree = cJSON_IsString(v) && !strcmp(v->valuestring, "pid");
	v = cJSON_GetObjectItem(req, "pid");
	t->pid = cJSON_IsNumber(v) ? v->valueint : 0;
	t->own_cgroup = cJSON_IsTrue(cJSON_GetObjectItem(req, "own_cgroup"));
	v = cJSON_GetObjectItem(req, "lost_reported");
	t->lost_reported = cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
	/* Only pins warden attach makes: never an arbitrary path. */
	if (!t->instance[0] || strncmp(t->dir, WARDEN_BPFFS "/attach-", strlen(WARDEN_BPFFS "/attach-")) ||
	    strstr(t->dir, "..") || !t->agent[0] || !t->cgroup[0])
		return -EINVAL;
	attached_ai(t);
	return 0;
}

static void attached_to_json(const struct attached *t, cJSON *o)
{
	cJSON_AddStringToObject(o, "instance", t->instance);
	cJSON_AddStringToObject(o, "dir", t->dir);
	cJSON_AddStringToObject(o, "agent", t->agent);
	cJSON_AddStringToObject(o, "identity", t->identity);
	cJSON_AddStringToObject(o, "policy_sha256", t->sha256);
	cJSON_AddStringToObject(o, "policy_file", t->policy_file);
	cJSON_AddStringToObject(o, "mode", t->tree ? "pid" : "cgroup");
	cJSON_AddNumberToObject(o, "pid", t->pid);
	cJSON_AddStringToObject(o, "cgroup", t->cgroup);
	cJSON_AddStringToObject(o, "home", t->home);
	cJSON_AddBoolToObject(o, "own_cgroup", t->own_cgroup);
	cJSON_AddNumberToObject(o, "lost_reported", (double)t->lost_reported);
}

/* {"cmd":"adopt",...} from warden attach: the attach is ours from now on. */
static void adopt_attach(struct daemon *d, const cJSON *req, cJSON *resp)
{
	struct attached *t = NULL;

	for (int i = 0; i < ATTACHED_MAX && !t; i++)
		if (!d->attached[i].used)
			t = &d->attached[i];
	if (!t) {
		cJSON_AddStringToObject(resp, "error", "the daemon holds too many attaches");
		return;
	}
	if (attached_from_json(t, req) || open_attached(t)) {
		close_attached(t);
		cJSON_AddStringToObject(resp, "error", "malformed attach, or its pins cannot be opened");
		return;
	}
	t->used = true;
	rebuild_rings(d);
	save_state(d);
	pr_warn("daemon: took over attach %s (agent \"%s\", %s %s)\n", t->instance, t->agent,
		t->tree ? "tree of" : "cgroup", t->tree ? "" : t->cgroup);
	event_format_policy(&d->out, &t->ai, "attached", t->policy_file, NULL, NULL, realtime_ns());
	flush_out(d);
	cJSON_AddBoolToObject(resp, "ok", true);
}

static void detach(struct daemon *d, const cJSON *req, cJSON *resp)
{
	const cJSON *inst = cJSON_GetObjectItem(req, "instance");

	for (int i = 0; i < ATTACHED_MAX && cJSON_IsString(inst); i++) {
		struct attached *t = &d->attached[i];

		if (t->used && !strcmp(t->instance, inst->valuestring)) {
			end_attached(d, t, "warden detach");
			cJSON_AddBoolToObject(resp, "ok", true);
			return;
		}
	}
	for (int i = 0; i < WD_AGENTS_MAX && cJSON_IsString(inst); i++)
		if (d->slots[i].used && !strcmp(d->slots[i].instance, inst->valuestring)) {
			cJSON_AddStringToObject(resp, "error", "that instance is a policy of the daemon's directory: remove its file to stop binding new processes");
			return;
		}
	cJSON_AddStringToObject(resp, "error", "no attach has that instance");
}

/* ---- state: which slot is which file ---------------------------------------- */

static void save_state(struct daemon *d)
{
	char tmp[PATH_MAX];
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "slots");
	char *text;
	FILE *f;

	cJSON_AddNumberToObject(root, "next_node", d->next_node);
	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		struct slot *s = &d->slots[i];
		cJSON *o;

		if (!s->used || s->orphan)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "slot", i);
		cJSON_AddStringToObject(o, "file", s->file);
		cJSON_AddStringToObject(o, "instance", s->instance);
		cJSON_AddBoolToObject(o, "removed", s->removed);
		if (s->cgroup[0])
			cJSON_AddStringToObject(o, "cgroup", s->cgroup);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(root, "attached");
	for (int i = 0; i < ATTACHED_MAX; i++) {
		cJSON *o;

		if (!d->attached[i].used)
			continue;
		o = cJSON_CreateObject();
		attached_to_json(&d->attached[i], o);
		cJSON_AddItemToArray(arr, o);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->state_file);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) || rename(tmp, d->state_file))
		pr_warn("daemon: cannot write %s: %s; a daemon started after this one would not know which agent is which file (they would stay confined, as unknown agents)\n",
			d->state_file, strerror(errno));
	free(text);
}

/* What the last daemon left: slots by file; agents it does not name stay enforced as orphans. */
static void load_state(struct daemon *d)
{
	char *text = NULL;
	cJSON *root, *it;
	struct wd_agent a;

	if (!read_file(d->state_file, &text, NULL)) {
		root = cJSON_Parse(text);
		it = root ? cJSON_GetObjectItem(root, "next_node") : NULL;
		if (cJSON_IsNumber(it))
			d->next_node = (uint32_t)it->valuedouble;
		cJSON *slots = root ? cJSON_GetObjectItem(root, "slots") : NULL;

		cJSON_ArrayForEach(it, slots) {
			cJSON *sl = cJSON_GetObjectItem(it, "slot"), *f = cJSON_GetObjectItem(it, "file");
			cJSON *in = cJSON_GetObjectItem(it, "instance");
			struct slot *s;

			if (!cJSON_IsNumber(sl) || !cJSON_IsString(f) || !cJSON_IsString(in) ||
			    sl->valuedouble < 0 || sl->valuedouble >= WD_AGENTS_MAX)
				continue;
			s = &d->slots[(int)sl->valuedouble];
			s->used = true;
			s->removed = true;	/* until its file is loaded again */
			snprintf(s->file, sizeof(s->file), "%s", f->valuestring);
			snprintf(s->instance, sizeof(s->instance), "%s", in->valuestring);
			f = cJSON_GetObjectItem(it, "cgroup");
			if (cJSON_IsString(f))
				snprintf(s->cgroup, sizeof(s->cgroup), "%s", f->valuestring);
			slot_ai(s);
		}
		slots = root ? cJSON_GetObjectItem(root, "attached") : NULL;
		int k = 0;

		cJSON_ArrayForEach(it, slots) {
			struct attached *t = &d->attached[k];

			if (k == ATTACHED_MAX)
				break;
			if (attached_from_json(t, it) || open_attached(t)) {
				pr_warn("daemon: the attach %s of the last daemon cannot be taken over (its pins are gone?)\n",
					t->instance);
				close_attached(t);
				continue;
			}
			t->used = true;
			k++;
		}
		cJSON_Delete(root);
		free(text);
	}
	for (uint32_t i = 0; i < WD_AGENTS_MAX; i++) {
		if (d->slots[i].used)
			continue;
		if (bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.agents), &i, &a) || !a.root_node)
			continue;
		d->slots[i].used = d->slots[i].orphan = d->slots[i].removed = true;
		snprintf(d->slots[i].instance, sizeof(d->slots[i].instance), "unknown%u", i);
		slot_ai(&d->slots[i]);
		pr_warn("daemon: agent slot %u is enforced by the pinned state but no state file names it; it stays in force as it is\n",
			i);
	}
	if (d->adopted && !d->next_node)
		d->next_node = 1u << 30;	/* above anything a lost state could have used */
	if (!d->next_node)
		d->next_node = 1;
}

/* ---- garbage: trees no longer in force -------------------------------------- */

/* Is node @id in a tree in force, or replaced less than GRACE_NS ago? */
static int node_fate(struct daemon *d, uint32_t id, int64_t now)
{
	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		struct compiled *c = &d->slots[i].compiled;

		if (d->slots[i].used && c->n && id >= c->root_id && id < c->root_id + c->n)
			return 1;
	}
	if (d->match_tree.n && id >= d->match_tree.root_id &&
	    id < d->match_tree.root_id + d->match_tree.n)
		return 1;
	for (size_t i = 0; i < d->nretired; i++)
		if (id >= d->retired[i].root && id < d->retired[i].root + d->retired[i].n)
			return now - d->retired[i].at < GRACE_NS ? 1 : 0;
	return -1;	/* not ours: a dead daemon's */
}

/*
 * Can nodes no tree of ours holds be deleted? Only when every slot's tree
 * is ours: a slot a dead daemon filled, that we did not reload, has a tree
 * whose extent we do not know (it stays, leaked, rather than cut short).
 */
static bool all_trees_known(struct daemon *d)
{
	for (int i = 0; i < WD_AGENTS_MAX; i++)
		if (d->slots[i].used && !d->slots[i].compiled.n)
			return false;
	return true;
}

/*
 * Delete the nodes and identities of trees replaced more than GRACE_NS ago,
 * and with @unknown_too (once, a grace after an adoption) those of trees a
 * dead daemon left that nothing uses now.
 */
static void collect_garbage(struct daemon *d, bool unknown_too)
{
	int nodes_fd = bpf_map__fd(d->skel->maps.nodes), inodes_fd = bpf_map__fd(d->skel->maps.inodes);
	int64_t now = mono_ns();
	struct wd_node_key key, next, *dead = NULL;
	struct wd_inode_key ikey, inext, *idead = NULL;
	size_t ndead = 0, nidead = 0;
	struct wd_node node;
	bool more;
	int fate;

	unknown_too = unknown_too && all_trees_known(d);
	for (more = !bpf_map_get_next_key(nodes_fd, NULL, &next); more;
	     more = !bpf_map_get_next_key(nodes_fd, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(nodes_fd, &key, &node))
			continue;
		fate = node_fate(d, node.id, now);
		if (fate == 1 || (fate < 0 && !unknown_too))
			continue;
		dead = xrealloc(dead, (ndead + 1) * sizeof(*dead));
		dead[ndead++] = key;
	}
	for (size_t i = 0; i < ndead; i++)
		bpf_map_delete_elem(nodes_fd, &dead[i]);
	for (more = !bpf_map_get_next_key(inodes_fd, NULL, &inext); more;
	     more = !bpf_map_get_next_key(inodes_fd, &ikey, &inext)) {
		ikey = inext;
		fate = node_fate(d, ikey.root, now);
		if (fate == 1 || (fate < 0 && !unknown_too))
			continue;
		idead = xrealloc(idead, (nidead + 1) * sizeof(*idead));
		idead[nidead++] = ikey;
	}
	for (size_t i = 0; i < nidead; i++)
		bpf_map_delete_elem(inodes_fd, &idead[i]);
	if (ndead || nidead)
		pr_debug("daemon: deleted %zu nodes and %zu identities no policy uses\n", ndead,
			 nidead);
	free(dead);
	free(idead);
	for (size_t i = 0; i < d->nretired;) {
		if (now - d->retired[i].at >= GRACE_NS)
			d->retired[i] = d->retired[--d->nretired];
		else
			i++;
	}
}

static void retire(struct daemon *d, const struct compiled *c)
{
	if (!c->n)
		return;
	if (d->nretired == sizeof(d->retired) / sizeof(d->retired[0]))
		collect_garbage(d, false);
	if (d->nretired < sizeof(d->retired) / sizeof(d->retired[0]))
		d->retired[d->nretired++] = (struct retired){ .root = c->root_id, .n = c->n,
							      .at = mono_ns() };
}

/* ---- match: claims and the exe tree --------------------------------------------- */

static uint32_t kinds_of(const struct policy *p)
{
	return (p->nmatch_exe ? WD_MATCH_EXE : 0) | (p->nmatch_cgroups ? WD_MATCH_CGROUP : 0) |
	       (p->nmatch_uids ? WD_MATCH_UID : 0);
}

/* The kind a policy is found by: exe, else cgroup, else uid. */
static uint32_t primary_kind(const struct policy *p)
{
	uint32_t k = kinds_of(p);

	return k & WD_MATCH_EXE ? WD_MATCH_EXE : k & WD_MATCH_CGROUP ? WD_MATCH_CGROUP : k;
}

static bool active(const struct slot *s)
{
	return s->used && !s->removed && !s->orphan && s->policy.has_match;
}

static void resolve_cgroups(struct slot *s)
{
	char root[PATH_MAX], path[PATH_MAX * 2];
	struct stat st;

	if (cgroup2_mount(root, sizeof(root)))
		return;
	for (size_t i = 0; i < s->policy.nmatch_cgroups && i < 64; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, s->policy.match_cgroups[i].path);
		s->cgids[i] = stat(path, &st) ? 0 : st.st_ino;
	}
}

static void add_key(struct wd_match_key **keys, uint32_t **vals, size_t *n, uint32_t kind,
		    uint32_t agent, uint64_t value, uint32_t val)
{
	*keys = xrealloc(*keys, (*n + 1) * sizeof(**keys));
	*vals = xrealloc(*vals, (*n + 1) * sizeof(**vals));
	(*keys)[*n] = (struct wd_match_key){ .kind = kind, .agent = agent, .value = value };
	(*vals)[(*n)++] = val;
}

/* Every key the match map should hold for the slots as they are now. */
static void wanted_keys(struct daemon *d, struct wd_match_key **keys, uint32_t **vals, size_t *n)
{
	*keys = NULL;
	*vals = NULL;
	*n = 0;
	for (uint32_t i = 0; i < WD_AGENTS_MAX; i++) {
		struct slot *s = &d->slots[i];
		uint32_t prim;

		if (!active(s)) {
			/* Removed: binds no one, but those bound keep their network. */
			for (size_t k = 0; s->used && k < s->nnets; k++)
				add_key(keys, vals, n, WD_MATCH_NETCG, i, s->nets[k].cgid, 1);
			continue;
		}
		prim = primary_kind(&s->policy);
		resolve_cgroups(s);
		for (size_t j = 0; j < s->policy.nmatch_cgroups && j < 64; j++) {
			if (!s->cgids[j])
				continue;
			add_key(keys, vals, n, WD_MATCH_CGROUP,
				prim == WD_MATCH_CGROUP ? WD_MATCH_CLAIM : i, s->cgids[j],
				prim == WD_MATCH_CGROUP ? i : 1);
		}
		for (size_t j = 0; j < s->policy.nmatch_uids; j++)
			add_key(keys, vals, n, WD_MATCH_UID, prim == WD_MATCH_UID ? WD_MATCH_CLAIM : i,
				s->policy.match_uids[j].uid, prim == WD_MATCH_UID ? i : 1);
		if (!s->policy.has_network)
			continue;
		/* Where the agent's network programs hang: its processes may use IP there only. */
		for (size_t k = 0; k < s->nnets; k++)
			add_key(keys, vals, n, WD_MATCH_NETCG, i, s->nets[k].cgid, 1);
	}
}

/* Build the exe tree: one allow-exec rule per listed path, its verdict's rule = agent id. */
static int build_match_tree(struct daemon *d, struct compiled *out, struct sbuf *err)
{
	struct policy p = { .file = "(match)", .name = "match", .file_default = WD_ACT_DENY };
	uint32_t *agent_of = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < WD_AGENTS_MAX; i++) {
		struct slot *s = &d->slots[i];

		if (!active(s))
			continue;
		for (size_t j = 0; j < s->policy.nmatch_exe; j++) {
			p.rules = xrealloc(p.rules, (p.nrules + 1) * sizeof(*p.rules));
			agent_of = xrealloc(agent_of, (p.nrules + 1) * sizeof(*agent_of));
			p.rules[p.nrules] = (struct file_rule){
				.path = s->policy.match_exe[j].path,
				.subtree = s->policy.match_exe[j].subtree,
				.allow = 1u << WD_RIGHT_EXEC,
			};
			agent_of[p.nrules++] = i;
		}
	}
	if (!p.nrules) {
		free(agent_of);
		return 0;
	}
	ret = policy_compile(&p, d->next_node, out, err);
	if (!ret) {
		d->next_node += out->n;
		for (size_t i = 0; i < out->n; i++) {
			struct wd_verdict *v[2] = { &out->nodes[i].exact[WD_RIGHT_EXEC],
						    &out->nodes[i].subtree[WD_RIGHT_EXEC] };

			for (int k = 0; k < 2; k++)
				if (v[k]->action == WD_ACT_ALLOW && v[k]->rule < p.nrules)
					v[k]->rule = agent_of[v[k]->rule];
		}
	}
	free(p.rules);
	free(agent_of);
	return ret;
}

static int put_tree_nodes(struct daemon *d, const struct compiled *c)
{
	int fd = bpf_map__fd(d->skel->maps.nodes);

	for (size_t i = 0; i < c->n; i++)
		if (bpf_map_update_elem(fd, &c->keys[i], &c->nodes[i], BPF_NOEXIST))
			return -errno;
	return 0;
}

static bool key_in(const struct wd_match_key *k, const struct wd_match_key *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(k, &set[i], sizeof(*k)))
			return true;
	return false;
}

/*
 * Bring the kernel's match state to the slots': new keys first, then the
 * exe tree (one switch of match_root), then stale keys go. A process that
 * execs meanwhile is bound by the old claims or the new ones.
 */
static int sync_match(struct daemon *d, struct sbuf *err)
{
	int fd = bpf_map__fd(d->skel->maps.matches), ret = 0;
	struct wd_match_key *keys;
	struct compiled tree;
	uint32_t *vals, kinds = 0;
	size_t n;

	wanted_keys(d, &keys, &vals, &n);
	for (size_t i = 0; i < n && !ret; i++)
		if (bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY))
			ret = -errno;
	if (!ret)
		ret = build_match_tree(d, &tree, err);
	if (!ret && tree.n)
		ret = put_tree_nodes(d, &tree);
	if (ret) {
		if (!err->len)
			sb_printf(err, "cannot update the match map: %s", strerror(-ret));
		free(keys);
		free(vals);
		return ret;
	}
	for (uint32_t i = 0; i < WD_AGENTS_MAX; i++)
		if (active(&d->slots[i]))
			kinds |= kinds_of(&d->slots[i].policy);
	if (!tree.n)
		kinds &= ~WD_MATCH_EXE;
	d->skel->bss->match_root = tree.n ? tree.root_id : 0;
	d->skel->bss->match_kinds = kinds;
	retire(d, &d->match_tree);
	compiled_free(&d->match_tree);
	d->match_tree = tree;
	for (size_t i = 0; i < d->nkeys; i++)
		if (!key_in(&d->keys[i], keys, n))
			bpf_map_delete_elem(fd, &d->keys[i]);
	free(d->keys);
	free(vals);
	d->keys = keys;
	d->nkeys = n;
	return 0;
}

/* After a restart: forget the keys a dead daemon left that no policy wants now. */
static void drop_unknown_keys(struct daemon *d)
{
	int fd = bpf_map__fd(d->skel->maps.matches);
	struct wd_match_key key, next, *dead = NULL;
	size_t ndead = 0;
	bool more;

	for (more = !bpf_map_get_next_key(fd, NULL, &next); more;
	     more = !bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (!key_in(&key, d->keys, d->nkeys)) {
			dead = xrealloc(dead, (ndead + 1) * sizeof(*dead));
			dead[ndead++] = key;
		}
	}
	for (size_t i = 0; i < ndead; i++)
		bpf_map_delete_elem(fd, &dead[i]);
	free(dead);
}

/* ---- network policies: cgroup programs per slot ---------------------------------- */

static void drop_nets(struct slot_net *nets, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (nets[k].pins[0])
			remove_pin_dir(nets[k].pins);
		if (nets[k].skel)
			net_unload(nets[k].skel);
	}
	free(nets);
}

/* The cgroups a network policy's programs hang on: the instance's, then the matched ones. */
static size_t net_targets(struct slot *s, const struct policy *p, char (*out)[PATH_MAX], size_t max)
{
	char root[PATH_MAX];
	struct stat st;
	size_t n = 0;

	if (s->cgroup[0] && n < max)
		snprintf(out[n++], PATH_MAX, "%s", s->cgroup);
	if (cgroup2_mount(root, sizeof(root)))
		return n;
	for (size_t j = 0; j < p->nmatch_cgroups && n < max; j++) {
		if (snprintf(out[n], PATH_MAX, "%.*s/%s", (int)(PATH_MAX / 2), root,
			     p->match_cgroups[j].path) >= PATH_MAX)
			continue;
		if (!stat(out[n], &st))
			n++;
	}
	return n;
}

/*
 * Load @p's network rules for slot @i and attach them to each of its
 * cgroups, pinned: the caller then switches the slot and drops the old
 * objects (meanwhile both judge: the stricter holds).
 */
static int load_nets(struct daemon *d, int i, const struct policy *p, struct slot_net **out,
		     size_t *nout, struct sbuf *err)
{
	struct slot *s = &d->slots[i];
	struct net_compiled nc = {0};
	char (*targets)[PATH_MAX] = xcalloc(65, PATH_MAX);
	struct slot_net *nets;
	size_t n;
	int ret;

	*out = NULL;
	*nout = 0;
	if (!s->cgroup[0]) {
		char name[128];

		snprintf(name, sizeof(name), "%s.%s", p->name, s->instance);
		ret = cgroup_create(name, s->cgroup, sizeof(s->cgroup));
		if (ret && ret != -EEXIST) {
			s->cgroup[0] = '\0';
			sb_printf(err, "%s:1:1: cannot create the agent's network cgroup: %s\n", p->file,
				  strerror(-ret));
			free(targets);
			return ret;
		}
	}
	ret = net_compile(p, i, &nc, err);
	if (ret) {
		free(targets);
		return ret;
	}
	n = net_targets(s, p, targets, 65);
	nets = xcalloc(n, sizeof(*nets));
	for (size_t k = 0; k < n && !ret; k++) {
		struct net_opts o = {
			.agent = i, .mode = p->mode, .raw = p->net_raw,
			.events_fd = bpf_map__fd(d->skel->maps.events),
			.counters_fd = bpf_map__fd(d->skel->maps.counters),
		};
		struct sbuf why = {0};

		struct stat st;

		ret = stat(targets[k], &st) ? -errno : 0;
		nets[k].cgid = st.st_ino;
		if (!ret)
			ret = net_load(&nets[k].skel, &nc, &o, &why);
		if (!ret)
			ret = net_attach(nets[k].skel, targets[k], &why);
		if (!ret) {
			snprintf(nets[k].pins, sizeof(nets[k].pins), "%s/net-%d-%lld-%zu", d->pins, i,
				 (long long)mono_ns(), k);
			ret = net_pin(nets[k].skel, nets[k].pins);
			if (ret)
				sb_printf(&why, "cannot pin in %s: %s", nets[k].pins, strerror(-ret));
		}
		if (ret) {
			sb_putc(&why, '\0');
			sb_printf(err, "%s:1:1: network rules on %s: %s\n", p->file, targets[k], why.buf);
		}
		sb_free(&why);
	}
	net_compiled_free(&nc);
	free(targets);
	if (ret) {
		drop_nets(nets, n);
		return ret;
	}
	*out = nets;
	*nout = n;
	return 0;
}

/* Pins of slot @i's network objects other than the ones in force: a dead daemon's. */
static void drop_stale_net_pins(struct daemon *d, int i)
{
	char prefix[32], path[PATH_MAX * 2];
	struct slot *s = &d->slots[i];
	struct dirent *e;
	DIR *dir = opendir(d->pins);

	snprintf(prefix, sizeof(prefix), "net-%d-", i);
	while (dir && (e = readdir(dir))) {
		bool current = false;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->pins, e->d_name);
		for (size_t k = 0; k < s->nnets; k++)
			current |= !strcmp(path, s->nets[k].pins);
		if (!current)
			remove_pin_dir(path);
	}
	if (dir)
		closedir(dir);
}

/* Move bound processes that are outside their agent's network cgroups into its instance cgroup. */
static void sweep_net(struct daemon *d)
{
	char buf[4096], *line, *save;
	struct sbuf out = {0};
	ssize_t n;
	int fd;

	if (!d->skel->links.wd_daemon_iter) {
		d->skel->links.wd_daemon_iter = bpf_program__attach_iter(d->skel->progs.wd_daemon_iter,
									 NULL);
		if (!d->skel->links.wd_daemon_iter)
			return;
	}
	fd = bpf_iter_create(bpf_link__fd(d->skel->links.wd_daemon_iter));
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		sb_put(&out, buf, n);
	if (fd >= 0)
		close(fd);
	sb_putc(&out, '\0');
	for (line = strtok_r(out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned agent, tgid;
		int ret;

		if (sscanf(line, "%u %u", &agent, &tgid) != 2 || agent >= WD_AGENTS_MAX ||
		    !d->slots[agent].cgroup[0])
			continue;
		ret = cgroup_enter(d->slots[agent].cgroup, tgid);
		if (ret && ret != -ESRCH)
			pr_warn("daemon: cannot move process %u into %s (%s): it stays without IP until it can be\n",
				tgid, d->slots[agent].cgroup, strerror(-ret));
	}
	sb_free(&out);
}

/* ---- loading one file ------------------------------------------------------------- */

/* Does @p claim what another active slot claims? One program, cgroup or uid: one policy. */
static int check_claims(struct daemon *d, int self, const struct policy *p, struct sbuf *err)
{
	uint32_t prim = primary_kind(p);
	int bad = 0;

	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		const struct policy *o = &d->slots[i].policy;

		if (i == self || !active(&d->slots[i]) || primary_kind(o) != prim)
			continue;
		for (size_t a = 0; prim == WD_MATCH_EXE && a < p->nmatch_exe; a++)
			for (size_t b = 0; b < o->nmatch_exe; b++)
				if (!strcmp(p->match_exe[a].path, o->match_exe[b].path) &&
				    p->match_exe[a].subtree == o->match_exe[b].subtree) {
					sb_printf(err, "%s:%d:%d: match.exe[%zu] \"%s\" is already matched by %s (agent \"%s\"): a program binds to one policy\n",
						  p->file, p->match_exe[a].line, p->match_exe[a].col, a,
						  p->match_exe[a].path, o->file, o->name);
					bad++;
				}
		for (size_t a = 0; prim == WD_MATCH_CGROUP && a < p->nmatch_cgroups; a++)
			for (size_t b = 0; b < o->nmatch_cgroups; b++)
				if (!strcmp(p->match_cgroups[a].path, o->match_cgroups[b].path)) {
					sb_printf(err, "%s:%d:%d: match.cgroups[%zu] \"%s\" is already matched by %s (agent \"%s\"): a cgroup binds to one policy\n",
						  p->file, p->match_cgroups[a].line,
						  p->match_cgroups[a].col, a, p->match_cgroups[a].path,
						  o->file, o->name);
					bad++;
				}
		for (size_t a = 0; prim == WD_MATCH_UID && a < p->nmatch_uids; a++)
			for (size_t b = 0; b < o->nmatch_uids; b++)
				if (p->match_uids[a].uid == o->match_uids[b].uid) {
					sb_printf(err, "%s:%d:%d: match.uids[%zu] %u is already matched by %s (agent \"%s\"): a uid binds to one policy\n",
						  p->file, p->match_uids[a].line, p->match_uids[a].col,
						  a, p->match_uids[a].uid, o->file, o->name);
					bad++;
				}
	}
	return bad ? -EEXIST : 0;
}

/* What the daemon cannot enforce yet is refused, never silently dropped. */
static int check_daemon_support(const struct policy *p, struct sbuf *err)
{
	if (p->unenforceable) {
		sb_printf(err, "%s:1:1: %s\n", p->file, p->unenforceable);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < p->nnet; i++) {
		if (p->net_rules[i].is_host) {
			sb_printf(err, "%s:%d:%d: network.rules[%zu]: host rules need warden's DNS resolver, which the daemon does not run yet (warden run does); refusing rather than binding agents without them\n",
				  p->file, p->net_rules[i].line, p->net_rules[i].col, i);
			return -EOPNOTSUPP;
		}
	}
	if (p->nmatch_cgroups > 64) {
		sb_printf(err, "%s:%d:%d: match.cgroups has %zu entries; the limit is 64\n", p->file,
			  p->match_cgroups[64].line, p->match_cgroups[64].col, p->nmatch_cgroups);
		return -E2BIG;
	}
	return 0;
}

static int find_slot(struct daemon *d, const char *file)
{
	int free_slot = -1;

	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		if (d->slots[i].used && !d->slots[i].orphan && !strcmp(d->slots[i].file, file))
			return i;
		if (!d->slots[i].used && free_slot < 0)
			free_slot = i;
	}
	return free_slot;
}

static int parse_file(struct daemon *d, const char *name, struct policy *p, struct sbuf *err)
{
	char path[PATH_MAX], cwd[PATH_MAX];
	struct policy_env env;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	ret = policy_env_of_process(&env, cwd, sizeof(cwd));
	if (ret) {
		sb_printf(err, "%s:1:1: cannot get the daemon's directory: %s\n", path, strerror(-ret));
		return ret;
	}
	return policy_load(path, &env, p, err);
}

/* Warden's binary and the policy directory (every policy in it): no agent may change them. */
static int protect_own_files(struct daemon *d)
{
	struct sbuf why = {0};
	int ret = lsm_protect_own(d->skel, NULL, &d->own, &why);

	if (!ret)
		ret = lsm_protect_path(d->skel, d->dir, WD_TAMPER_WARDEN | WD_PROTECT_CHILDREN,
				       &d->dir_fd, &why);
	if (ret)
		pr_warn("daemon: %.*s\n", (int)why.len, why.buf);
	sb_free(&why);
	return ret;
}

/* Put @p in force in slot @i (new or not): fresh nodes, then one switch. */
static int install(struct daemon *d, int i, struct policy *p, struct compiled *c, struct sbuf *err)
{
	struct slot *s = &d->slots[i];
	struct wd_agent a = {
		.root_node = c->root_id,
		.mode = p->mode,
		.flags = lsm_agent_flags(p) | (p->has_network ? WD_AGENT_NETGATE : 0),
		.match = kinds_of(p),
		.caps_granted = p->caps_granted,
	};
	struct policy old_p = s->policy;
	struct compiled old_c = s->compiled;
	struct slot_net *old_nets = s->nets, *nets = NULL;
	size_t old_nnets = s->nnets, nnets = 0;
	bool was_active = active(s);
	int ret;

	if (!s->instance[0])
		agent_new_instance(s->instance);
	if (p->has_network) {
		ret = load_nets(d, i, p, &nets, &nnets, err);
		if (ret)
			return ret;
	}
	ret = put_tree_nodes(d, c);
	if (ret)
		drop_nets(nets, nnets);
	if (ret) {
		sb_printf(err, "%s:1:1: cannot put the policy in the kernel: %s (map full? %u nodes)\n",
			  p->file, strerror(-ret), DAEMON_NODES);
		return ret;
	}
	/* Identities: as warden run does, keyed by this tree's root. */
	ret = lsm_put_identities(d->skel, c);
	if (ret) {
		sb_printf(err, "%s:1:1: cannot put the policy's rule objects in the kernel: %s\n",
			  p->file, strerror(-ret));
		drop_nets(nets, nnets);
		return ret;
	}
	if (bpf_map_update_elem(bpf_map__fd(d->skel->maps.agents), &i, &a, BPF_ANY)) {
		ret = -errno;
		sb_printf(err, "%s:1:1: cannot switch the agent to the new policy: %s\n", p->file,
			  strerror(-ret));
		drop_nets(nets, nnets);
		return ret;
	}
	lsm_policy_changed(d->skel);
	s->nets = nets;
	s->nnets = nnets;
	drop_nets(old_nets, old_nnets);
	s->policy = *p;
	s->compiled = *c;
	s->used = true;
	s->removed = false;
	s->loaded_ns = realtime_ns();
	slot_ai(s);
	ret = sync_match(d, err);
	if (ret && was_active)
		pr_warn("daemon: %s: the match state could not be updated: %s\n", p->file,
			strerror(-ret));
	retire(d, &old_c);
	compiled_free(&old_c);
	policy_free(&old_p);
	drop_stale_net_pins(d, i);
	d->sweep_due = true;
	memset(p, 0, sizeof(*p));
	memset(c, 0, sizeof(*c));
	return 0;
}

static void reject(struct daemon *d, int i, const char *name, const char *why)
{
	struct slot *s = i >= 0 && d->slots[i].used && !d->slots[i].orphan ? &d->slots[i] : NULL;

	d->reload_failures++;
	if (s)
		s->rejects++;
	pr_warn("daemon: %s/%s rejected, %s:\n%s", d->dir, name,
		s && !s->removed ? "its previous version stays in force" : "nothing of it is in force",
		why);
	policy_event(d, s, "rejected", name, why);
}

/* (Re)load DIR/@name. A file that fails changes nothing in force. */
static void load_file(struct daemon *d, const char *name)
{
	struct sbuf err = {0};
	struct policy p;
	struct compiled c = {0};
	int i = find_slot(d, name), ret;
	bool fresh;

	ret = parse_file(d, name, &p, &err);
	if (!ret && i >= 0 && d->slots[i].used && !d->slots[i].removed &&
	    !strcmp(p.sha256, d->slots[i].policy.sha256)) {
		policy_free(&p);	/* unchanged */
		return;
	}
	if (!ret)
		ret = check_daemon_support(&p, &err);
	if (!ret)
		ret = check_claims(d, i, &p, &err);
	if (!ret && i < 0) {
		sb_printf(&err, "%s:1:1: no free agent slot (%d in use)\n", p.file, WD_AGENTS_MAX);
		ret = -ENOSPC;
	}
	if (!ret) {
		ret = policy_compile(&p, d->next_node, &c, &err);
		if (!ret)
			d->next_node += c.n;
	}
	fresh = i >= 0 && (!d->slots[i].used || d->slots[i].removed);
	if (!ret)
		ret = install(d, i, &p, &c, &err);
	if (ret) {
		sb_putc(&err, '\0');
		reject(d, i, name, err.buf);
		compiled_free(&c);
		policy_free(&p);
	} else {
		struct slot *s = &d->slots[i];

		snprintf(s->file, sizeof(s->file), "%s", name);
		d->reloads++;
		s->reloads++;
		pr_warn("daemon: %s %s: agent \"%s\" (slot %d, instance %s, sha256 %.12s)\n",
			fresh ? "loaded" : "reloaded", name, s->policy.name, i, s->instance,
			s->policy.sha256);
		if (!s->policy.has_match)
			pr_warn("daemon: %s has no \"match\": it binds no process at exec (processes already running can be confined with warden attach)\n",
				name);
		policy_event(d, s, fresh ? "loaded" : "reloaded", name, NULL);
		save_state(d);
	}
	sb_free(&err);
}

/* A removed network policy's instance cgroup, once empty: its programs and it go. */
static void release_cgroup(struct daemon *d, struct slot *s)
{
	struct sbuf err = {0};

	if (!s->removed || !s->cgroup[0] || cgroup_populated(s->cgroup) != 0)
		return;
	drop_nets(s->nets, s->nnets);
	s->nets = NULL;
	s->nnets = 0;
	if (rmdir(s->cgroup) && errno != ENOENT)
		pr_warn("daemon: cannot remove %s: %s\n", s->cgroup, strerror(errno));
	s->cgroup[0] = '\0';
	if (sync_match(d, &err))
		pr_warn("daemon: cannot update the match map\n");
	sb_free(&err);
	save_state(d);
}

/* DIR/@name is gone: no new process binds to it; those bound keep its policy. */
static void remove_file(struct daemon *d, const char *name)
{
	int i = find_slot(d, name);
	struct sbuf err = {0};
	struct slot *s;

	if (i < 0 || !d->slots[i].used || d->slots[i].removed)
		return;
	s = &d->slots[i];
	s->removed = true;
	if (sync_match(d, &err)) {
		sb_putc(&err, '\0');
		pr_warn("daemon: %s: %s\n", name, err.buf);
	}
	sb_free(&err);
	pr_warn("daemon: %s removed: no new process binds to agent \"%s\"; those bound stay confined by its last version\n",
		name, s->policy.name);
	policy_event(d, s, "removed", name, NULL);
	save_state(d);
	release_cgroup(d, s);
}

/* Every file of DIR, and the slots whose file is gone. */
static int scan_dir(struct daemon *d)
{
	struct dirent **names;
	char path[PATH_MAX];
	int n;

	/* In name order: when two files claim the same program, the later name is rejected. */
	n = scandir(d->dir, &names, NULL, alphasort);
	if (n < 0) {
		pr_warn("daemon: cannot read the policy directory %s: %s\n", d->dir, strerror(errno));
		return -errno;
	}
	for (int k = 0; k < n; k++) {
		if (policy_file_name(names[k]->d_name))
			load_file(d, names[k]->d_name);
		free(names[k]);
	}
	free(names);
	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		struct slot *s = &d->slots[i];

		if (!s->used || s->orphan || s->removed)
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->dir, s->file);
		if (access(path, F_OK))
			remove_file(d, s->file);
	}
	return 0;
}

/* Cgroups that did not exist at load may exist now: keep the match map current. */
static void refresh_cgroups(struct daemon *d)
{
	struct sbuf err = {0};

	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		struct slot *s = &d->slots[i];
		uint64_t before[64];

		if (!active(s) || !s->policy.nmatch_cgroups)
			continue;
		memcpy(before, s->cgids, sizeof(before));
		resolve_cgroups(s);
		if (memcmp(before, s->cgids, sizeof(before))) {
			if (sync_match(d, &err))
				pr_warn("daemon: cannot update the cgroup matches\n");
			break;
		}
	}
	sb_free(&err);
}

/* ---- control socket ---------------------------------------------------------------- */

static void status_json(struct daemon *d, cJSON *root)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "agents"), *c;

	cJSON_AddStringToObject(root, "policy_dir", d->dir);
	cJSON_AddNumberToObject(root, "pid", getpid());
	cJSON_AddBoolToObject(root, "adopted", d->adopted);
	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		struct slot *s = &d->slots[i];
		cJSON *o, *m, *dec;
		char t[40];
		struct sbuf ts = {0};

		if (!s->used)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "slot", i);
		cJSON_AddStringToObject(o, "agent", s->ai.name);
		if (s->policy.identity)
			cJSON_AddStringToObject(o, "identity", s->policy.identity);
		cJSON_AddStringToObject(o, "instance", s->instance);
		cJSON_AddStringToObject(o, "file", s->file);
		cJSON_AddStringToObject(o, "state", s->orphan ? "unknown" : s->removed ? "removed"
										: "active");
		if (s->policy.sha256[0])
			cJSON_AddStringToObject(o, "policy_sha256", s->policy.sha256);
		cJSON_AddStringToObject(o, "mode", s->policy.mode == WD_MODE_AUDIT ? "audit"
										   : "enforce");
		if (s->loaded_ns) {
			format_time(&ts, s->loaded_ns);
			sb_putc(&ts, '\0');
			snprintf(t, sizeof(t), "%s", ts.buf);
			cJSON_AddStringToObject(o, "loaded", t);
		}
		sb_free(&ts);
		m = cJSON_AddObjectToObject(o, "match");
		c = cJSON_AddArrayToObject(m, "exe");
		for (size_t j = 0; j < s->policy.nmatch_exe; j++)
			cJSON_AddItemToArray(c, cJSON_CreateString(s->policy.match_exe[j].path));
		c = cJSON_AddArrayToObject(m, "cgroups");
		for (size_t j = 0; j < s->policy.nmatch_cgroups; j++)
			cJSON_AddItemToArray(c, cJSON_CreateString(s->policy.match_cgroups[j].path));
		c = cJSON_AddArrayToObject(m, "uids");
		for (size_t j = 0; j < s->policy.nmatch_uids; j++)
			cJSON_AddItemToArray(c, cJSON_CreateNumber(s->policy.match_uids[j].uid));
		cJSON_AddNumberToObject(o, "nodes", s->compiled.n);
		cJSON_AddNumberToObject(o, "reloads", s->reloads);
		cJSON_AddNumberToObject(o, "rejected", s->rejects);
		dec = cJSON_AddObjectToObject(o, "events");
		pthread_mutex_lock(&d->lock);
		cJSON_AddNumberToObject(dec, "deny", s->decisions[WD_EV_FILE][WD_DEC_DENY] +
						     s->decisions[WD_EV_EXEC][WD_DEC_DENY] +
						     s->decisions[WD_EV_TAMPER][WD_DEC_DENY]);
		cJSON_AddNumberToObject(dec, "audit", s->decisions[WD_EV_FILE][WD_DEC_AUDIT] +
						      s->decisions[WD_EV_EXEC][WD_DEC_AUDIT] +
						      s->decisions[WD_EV_TAMPER][WD_DEC_AUDIT]);
		cJSON_AddNumberToObject(dec, "process", s->decisions[WD_EV_PROC][WD_DEC_ALLOW]);
		pthread_mutex_unlock(&d->lock);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(root, "attached");
	for (int i = 0; i < ATTACHED_MAX; i++) {
		struct attached *t = &d->attached[i];
		cJSON *o;

		if (!t->used)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "agent", t->agent);
		if (t->identity[0])
			cJSON_AddStringToObject(o, "identity", t->identity);
		cJSON_AddStringToObject(o, "instance", t->instance);
		cJSON_AddStringToObject(o, "policy_sha256", t->sha256);
		cJSON_AddStringToObject(o, "policy_file", t->policy_file);
		cJSON_AddStringToObject(o, "mode", t->tree ? "pid" : "cgroup");
		if (t->tree)
			cJSON_AddNumberToObject(o, "pid", t->pid);
		cJSON_AddStringToObject(o, "cgroup", t->cgroup);
		cJSON_AddNumberToObject(o, "events", (double)t->events);
		cJSON_AddItemToArray(arr, o);
	}
	c = cJSON_AddObjectToObject(root, "counters");
	cJSON_AddNumberToObject(c, "bound", d->skel->bss->bound);
	cJSON_AddNumberToObject(c, "lost_ringbuf", lsm_counter(d->skel, WD_CNT_LOST_RINGBUF));
	cJSON_AddNumberToObject(c, "rate_limited", lsm_counter(d->skel, WD_CNT_RATE_LIMITED));
	cJSON_AddNumberToObject(c, "walk_failed", lsm_counter(d->skel, WD_CNT_WALK_FAIL));
	cJSON_AddNumberToObject(c, "track_failed", lsm_counter(d->skel, WD_CNT_TRACK_FAIL));
	cJSON_AddNumberToObject(c, "vcache_filled", lsm_counter(d->skel, WD_CNT_VCACHE_FILL));
	cJSON_AddNumberToObject(c, "dircache_served", lsm_counter(d->skel, WD_CNT_DCACHE_SERVED));
	cJSON_AddNumberToObject(c, "judgements_interleaved", lsm_counter(d->skel, WD_CNT_INTERLEAVED));
	cJSON_AddNumberToObject(c, "reloads", d->reloads);
	cJSON_AddNumberToObject(c, "reload_failures", d->reload_failures);
}

static void reply(int fd, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);
	size_t len = strlen(text), off = 0;
	ssize_t n;

	while (off < len && (n = send(fd, text + off, len - off, MSG_NOSIGNAL)) > 0)
		off += n;
	send(fd, "\n", 1, MSG_NOSIGNAL);
	free(text);
}

static void add_follower(struct daemon *d, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = 1ull << 32 | fd };

	for (int i = 0; i < FOLLOWERS_MAX; i++) {
		if (d->followers[i].fd >= 0)
			continue;
		d->followers[i].fd = fd;
		epoll_ctl(d->ep_fd, EPOLL_CTL_ADD, fd, &ev);
		return;
	}
	send(fd, "{\"error\":\"too many followers\"}\n", 31, MSG_NOSIGNAL);
	close(fd);
}

/* One request per connection: a JSON object with "cmd". */
static void handle_client(struct daemon *d, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct timeval tv = { .tv_sec = 2 };
	char buf[4096];
	ssize_t n;
	cJSON *req, *cmd, *resp = cJSON_CreateObject();

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		cJSON_AddStringToObject(resp, "error", "the control socket is for root only");
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	req = cJSON_Parse(buf);
	cmd = req ? cJSON_GetObjectItem(req, "cmd") : NULL;
	if (!cJSON_IsString(cmd)) {
		cJSON_AddStringToObject(resp, "error", "expected {\"cmd\": \"status\"|\"events\"|\"reload\"|\"detach\"|\"adopt\"}");
	} else if (!strcmp(cmd->valuestring, "status")) {
		drain(d);
		status_json(d, resp);
	} else if (!strcmp(cmd->valuestring, "reload")) {
		uint64_t fails = d->reload_failures;

		scan_dir(d);
		cJSON_AddNumberToObject(resp, "rejected", (double)(d->reload_failures - fails));
		status_json(d, resp);
	} else if (!strcmp(cmd->valuestring, "adopt")) {
		adopt_attach(d, req, resp);
	} else if (!strcmp(cmd->valuestring, "detach")) {
		detach(d, req, resp);
	} else if (!strcmp(cmd->valuestring, "events")) {
		cJSON_Delete(req);
		cJSON_Delete(resp);
		add_follower(d, fd);
		return;
	} else {
		cJSON_AddStringToObject(resp, "error", "unknown command");
	}
	cJSON_Delete(req);
out:
	reply(fd, resp);
	cJSON_Delete(resp);
	close(fd);
}

static int open_control(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], *slash;
	int fd;

	if (strlen(d->control) >= sizeof(sa.sun_path)) {
		pr_warn("daemon: control socket path too long: %s\n", d->control);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", d->control);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	strcpy(sa.sun_path, d->control);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(d->control);	/* we hold the lock: no other daemon owns it */
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		int ret = -errno;

		pr_warn("daemon: cannot listen on %s: %s\n", d->control, strerror(-ret));
		close(fd);
		return ret;
	}
	chmod(d->control, 0600);
	d->ctl_fd = fd;
	return 0;
}

/* ---- metrics ------------------------------------------------------------------------ */

static void render_metrics(void *ctx, struct sbuf *out)
{
	static const char *const types[] = { "", "file", "exec", "tamper", "network", "process" };
	static const char *const decs[] = { "allow", "deny", "audit" };
	struct daemon *d = ctx;
	char labels[512];
	uint64_t nodes = 0;
	int agents = 0;

	pthread_mutex_lock(&d->lock);
	prom_header(out, "warden_events_total", "counter",
		    "Events reported, by agent, event type and decision.");
	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		struct slot *s = &d->slots[i];

		if (!s->used)
			continue;
		agents++;
		nodes += s->compiled.n;
		for (int t = WD_EV_FILE; t <= WD_EV_PROC; t++)
			for (int k = 0; k < 3; k++)
				if (s->decisions[t][k])
					prom_sample(out, "warden_events_total",
						    prom_labels(labels, sizeof(labels), "agent",
								s->ai.name, "instance", s->instance,
								"type", types[t], "decision", decs[k],
								NULL),
						    (double)s->decisions[t][k]);
	}
	prom_header(out, "warden_policy_info", "gauge",
		    "The policy version in force for each agent (value 1).");
	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		struct slot *s = &d->slots[i];

		if (s->used)
			prom_sample(out, "warden_policy_info",
				    prom_labels(labels, sizeof(labels), "agent", s->ai.name, "file",
						s->file, "policy_sha256",
						s->policy.sha256[0] ? s->policy.sha256 : "unknown",
						"state", s->orphan ? "unknown" : s->removed ? "removed"
											 : "active",
						NULL),
				    1);
	}
	prom_header(out, "warden_events_lost_total", "counter",
		    "Events that could not be delivered (ring buffer full), reported as lost.");
	prom_sample(out, "warden_events_lost_total", NULL, (double)d->lost_total);
	prom_header(out, "warden_reloads_total", "counter", "Policy files loaded or reloaded.");
	prom_sample(out, "warden_reloads_total", NULL, (double)d->reloads);
	prom_header(out, "warden_reload_failures_total", "counter",
		    "Policy files rejected (the previous version stayed in force).");
	prom_sample(out, "warden_reload_failures_total", NULL, (double)d->reload_failures);
	prom_header(out, "warden_bound_total", "counter", "Processes bound to an agent at exec.");
	prom_sample(out, "warden_bound_total", NULL, (double)d->skel->bss->bound);
	prom_header(out, "warden_map_entries", "gauge", "Entries in use in the policy maps.");
	prom_sample(out, "warden_map_entries", "map=\"agents\"", agents);
	prom_sample(out, "warden_map_entries", "map=\"nodes\"", (double)(nodes + d->match_tree.n));
	prom_sample(out, "warden_map_entries", "map=\"matches\"", (double)d->nkeys);
	prom_header(out, "warden_map_capacity", "gauge", "Capacity of the policy maps.");
	prom_sample(out, "warden_map_capacity", "map=\"agents\"", WD_AGENTS_MAX);
	prom_sample(out, "warden_map_capacity", "map=\"nodes\"", DAEMON_NODES);
	prom_sample(out, "warden_map_capacity", "map=\"matches\"", WD_MATCH_MAX);
	pthread_mutex_unlock(&d->lock);
}

/* ---- setup and the loop ---------------------------------------------------------------- */

static int take_lock(struct daemon *d)
{
	char pid[32];
	ssize_t n;

	mkdir(WARDEN_RUNDIR, 0700);
	d->lock_fd = open(WARDEN_RUNDIR "/daemon.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0) {
		pr_warn("daemon: cannot open %s/daemon.lock: %s\n", WARDEN_RUNDIR, strerror(errno));
		return -errno;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB)) {
		n = pread(d->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pr_warn("daemon: another warden daemon runs (pid %s, holding %s/daemon.lock); one at a time\n",
			n > 0 ? strtok(pid, "\n") : "?", WARDEN_RUNDIR);
		return -EBUSY;
	}
	if (ftruncate(d->lock_fd, 0) == 0) {
		n = snprintf(pid, sizeof(pid), "%d\n", getpid());
		if (pwrite(d->lock_fd, pid, n, 0) != n)
			pr_debug("daemon: cannot write the pid into the lock file\n");
	}
	return 0;
}

static int load_programs(struct daemon *d)
{
	struct lsm_opts o = { .ringbuf_bytes = d->output.ringbuf_bytes };
	struct sbuf why = {0};
	int ret;

	ret = lsm_active(&why);
	if (!ret)
		ret = lsm_load_pinned(&d->skel, d->pins, DAEMON_NODES, &o, &d->adopted, &why);
	if (ret) {
		sb_putc(&why, '\0');
		pr_warn("daemon: %s; not started (nothing changed in the kernel)\n", why.buf);
	}
	sb_free(&why);
	return ret;
}

static int watch(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ino_fd < 0 ||
	    inotify_add_watch(d->ino_fd, d->dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
						       IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		pr_warn("daemon: cannot watch %s: %s\n", d->dir, strerror(errno));
		return -errno;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sig_fd < 0 || d->ep_fd < 0)
		return -errno;
	ev.data.u64 = d->ino_fd;
	epoll_ctl(d->ep_fd, EPOLL_CTL_ADD, d->ino_fd, &ev);
	ev.data.u64 = d->sig_fd;
	epoll_ctl(d->ep_fd, EPOLL_CTL_ADD, d->sig_fd, &ev);
	ev.data.u64 = d->ctl_fd;
	epoll_ctl(d->ep_fd, EPOLL_CTL_ADD, d->ctl_fd, &ev);
	return 0;
}

static void on_inotify(struct daemon *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *e;
	bool rescan = false;
	ssize_t n;

	while ((n = read(d->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n; p += sizeof(*e) + e->len) {
			char path[PATH_MAX];

			e = (const struct inotify_event *)p;
			if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
				pr_warn("daemon: the policy directory %s is gone; the policies in force stay in force\n",
					d->dir);
				continue;
			}
			if (!e->len)
				continue;
			if (!policy_file_name(e->name)) {
				/*
				 * Another name: a temporary file (ignored), or a
				 * directory of symlinks switched in one rename, as a
				 * Kubernetes ConfigMap's "..data": look at every file.
				 */
				if (e->mask & (IN_MOVED_TO | IN_MOVED_FROM) && e->name[0] == '.' &&
				    e->name[1] == '.')
					rescan = true;
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", d->dir, e->name);
			if (access(path, F_OK))
				remove_file(d, e->name);
			else
				load_file(d, e->name);
		}
	}
	if (rescan)
		scan_dir(d);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			pr_warn("daemon: SIGHUP: reloading %s and reopening the sinks\n", d->dir);
			sink_reopen(d->sinks);
			scan_dir(d);
		} else {
			pr_warn("daemon: %s: stopping; the policies stay in force (pinned in %s)\n",
				strsignal(si.ssi_signo), d->pins);
			d->stop = true;
		}
	}
}

static void loop(struct daemon *d)
{
	struct epoll_event got[16];
	int64_t last_tick = 0;
	int n;

	while (!d->stop) {
		n = epoll_wait(d->ep_fd, got, 16, TICK_MS);
		for (int i = 0; i < n; i++) {
			uint64_t tag = got[i].data.u64;
			int fd = (int)(uint32_t)tag;

			if (tag >> 32) {	/* a follower hung up, or sent something: done */
				for (int k = 0; k < FOLLOWERS_MAX; k++)
					if (d->followers[k].fd == fd)
						follower_drop(d, &d->followers[k]);
			} else if (fd == d->ino_fd) {
				on_inotify(d);
			} else if (fd == d->sig_fd) {
				on_signal(d);
			} else if (fd == d->ctl_fd) {
				int c;

				while ((c = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
					handle_client(d, c);
			}
		}
		drain(d);
		if (d->sweep_due) {
			d->sweep_due = false;
			sweep_net(d);
		}
		for (int k = 0; k < FOLLOWERS_MAX; k++)
			if (d->followers[k].fd >= 0 && d->followers[k].pending.len)
				follower_flush(d, &d->followers[k]);
		if (mono_ns() - last_tick > 1000000000LL) {
			refresh_cgroups(d);
			tick_attached(d);
			sweep_net(d);
			for (int i = 0; i < WD_AGENTS_MAX; i++)
				if (d->slots[i].used && d->slots[i].removed && d->slots[i].cgroup[0])
					release_cgroup(d, &d->slots[i]);
			collect_garbage(d, d->adopt_gc_at && mono_ns() > d->adopt_gc_at);
			if (d->adopt_gc_at && mono_ns() > d->adopt_gc_at)
				d->adopt_gc_at = 0;
			last_tick = mono_ns();
		}
	}
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy-dir", required_argument, NULL, 'd' },
		{ "control", required_argument, NULL, 'c' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "events", required_argument, NULL, AGENT_OPT_EVENTS },
		{ "sink", required_argument, NULL, AGENT_OPT_SINK },
		{ "format", required_argument, NULL, AGENT_OPT_FORMAT },
		{ "reset", no_argument, NULL, 'R' },
		{ "ringbuf-size", required_argument, NULL, AGENT_OPT_RINGBUF },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+d:c:m:e:s:f:h", opts, NULL)) != -1) {
		ret = agent_output_opt(&d->output, c, optarg, "daemon");
		if (ret < 0)
			return -1;
		if (!ret)
			continue;
		switch (c) {
		case 'd': d->dir = optarg; break;
		case 'c': d->control = optarg; break;
		case 'm': d->metrics_addr = optarg; break;
		case 'R': d->reset = true; break;
		case 'h': fputs(daemon_usage, stdout); exit(EXIT_OK);
		default: return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "warden daemon: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (!d->dir && !d->reset) {
		fprintf(stderr, "warden daemon: --policy-dir DIR is required\n");
		return -1;
	}
	return 0;
}

/* The attaches a daemon held end with its state: trees go home, programs go. */
static void reset_attaches(struct daemon *d)
{
	char *text = NULL;
	cJSON *root, *it, *arr;

	if (read_file(d->state_file, &text, NULL))
		return;
	root = cJSON_Parse(text);
	arr = root ? cJSON_GetObjectItem(root, "attached") : NULL;
	cJSON_ArrayForEach(it, arr) {
		struct attached t;

		if (attached_from_json(&t, it))
			continue;
		if (t.tree && t.own_cgroup)
			agent_move_home(t.cgroup, t.home);
		remove_pin_dir(t.dir);
		if (t.own_cgroup)
			rmdir(t.cgroup);
		pr_warn("daemon: attach %s (agent \"%s\") ended\n", t.instance, t.agent);
	}
	/* The network policies' instance cgroups: gone when empty (else their processes run free there). */
	arr = root ? cJSON_GetObjectItem(root, "slots") : NULL;
	cJSON_ArrayForEach(it, arr) {
		cJSON *cg = cJSON_GetObjectItem(it, "cgroup");

		if (cJSON_IsString(cg) && !strncmp(cg->valuestring, "/sys/fs/cgroup", 14) &&
		    rmdir(cg->valuestring) && errno != ENOENT)
			pr_warn("daemon: %s stays: %s\n", cg->valuestring, strerror(errno));
	}
	cJSON_Delete(root);
	free(text);
}

static int reset(struct daemon *d)
{
	int ret;

	if (take_lock(d))
		return EXIT_FAIL;
	reset_attaches(d);
	ret = lsm_remove_pinned(d->pins);
	if (ret) {
		pr_warn("daemon: cannot remove %s: %s\n", d->pins, strerror(-ret));
		return EXIT_FAIL;
	}
	unlink(d->state_file);
	pr_warn("daemon: removed %s: the daemon's agents are no longer confined\n", d->pins);
	return EXIT_OK;
}

static int start(struct daemon *d)
{
	struct sbuf err = {0};
	int ret;

	the_daemon = d;
	if (take_lock(d) || load_programs(d))
		return -1;
	d->daemon_ai = (struct agent_info){ .name = "warden-daemon", .instance = "daemon",
					    .exe_lookup = agent_exe_of_pid };
	load_state(d);
	ret = agent_open_sinks(&d->sinks, &d->output, &d->daemon_ai, "daemon", "");
	if (!ret)	/* no agent may write or delete the events files */
		sink_protect_files(d->sinks, lsm_protect_sink_file, d->skel);
	if (!ret)	/* nor warden itself, nor the policies (fail closed) */
		ret = protect_own_files(d);
	if (!ret)
		ret = open_control(d);
	if (!ret)
		ret = watch(d);
	if (!ret) {
		ret = rebuild_rings(d);
		if (ret && !d->rb)
			pr_warn("daemon: cannot open the event ring buffer: %s\n", strerror(-ret));
		ret = d->rb ? 0 : ret;
	}
	if (ret)
		return ret;
	/* What the kernel reported while no daemon ran, before anything new. */
	drain(d);
	if (scan_dir(d))
		return -1;
	if (d->adopted) {
		drop_unknown_keys(d);
		d->adopt_gc_at = mono_ns() + GRACE_NS;
		pr_warn("daemon: adopted the pinned state in %s\n", d->pins);
	}
	if (d->metrics_addr) {
		ret = metrics_start(&d->metrics, d->metrics_addr, render_metrics, d, &err);
		if (ret) {
			sb_putc(&err, '\0');
			pr_warn("daemon: --metrics %s: %s\n", d->metrics_addr, err.buf);
			sb_free(&err);
			return ret;
		}
	}
	pr_warn("daemon: enforcing %s (control socket %s)\n", d->dir, d->control);
	return 0;
}

static void stop(struct daemon *d)
{
	if (d->metrics)
		metrics_stop(d->metrics);
	if (d->rb) {
		drain(d);
		ring_buffer__free(d->rb);
	}
	for (int i = 0; i < FOLLOWERS_MAX; i++)
		if (d->followers[i].fd >= 0)
			follower_drop(d, &d->followers[i]);
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		unlink(d->control);
	}
	for (int i = 0; i < ATTACHED_MAX; i++)
		if (d->attached[i].used)
			close_attached(&d->attached[i]);
	lsm_own_release(&d->own);
	if (d->dir_fd > 0)
		close(d->dir_fd);
	/* The programs stay: their links are pinned. */
	if (d->skel)
		lsm_unload(d->skel);
	for (int i = 0; i < WD_AGENTS_MAX; i++) {
		for (size_t k = 0; k < d->slots[i].nnets; k++)
			net_unload(d->slots[i].nets[k].skel);	/* pinned: they stay */
		free(d->slots[i].nets);
		compiled_free(&d->slots[i].compiled);
		policy_free(&d->slots[i].policy);
	}
	compiled_free(&d->match_tree);
	free(d->keys);
	free(d->slots);
	free(d->attached);
	sb_free(&d->out);
	sink_flush(d->sinks, 5000);
	sink_close(d->sinks);
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon d = {
		.control = WARDEN_CONTROL, .pins = WARDEN_BPFFS "/daemon",
		.state_file = WARDEN_RUNDIR "/daemon.json", .lock_fd = -1, .ino_fd = -1,
		.ctl_fd = -1, .sig_fd = -1, .ep_fd = -1,
	};
	int status = EXIT_OK;

	if (parse_args(&d, argc, argv)) {
		fputs(daemon_usage, stderr);
		return EXIT_USAGE;
	}
	if (d.reset)
		return reset(&d);
	d.slots = xcalloc(WD_AGENTS_MAX, sizeof(*d.slots));
	for (int i = 0; i < FOLLOWERS_MAX; i++)
		d.followers[i].fd = -1;
	d.attached = xcalloc(ATTACHED_MAX, sizeof(*d.attached));
	for (int i = 0; i < ATTACHED_MAX; i++)
		d.attached[i].events_fd = d.attached[i].counters_fd = -1;
	pthread_mutex_init(&d.lock, NULL);
	d.boot_offset = boot_to_realtime_offset();
	if (start(&d))
		status = EXIT_FAIL;
	else
		loop(&d);
	stop(&d);
	return status;
}
