// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lsm.h"
#include "net.h"
#include "net.skel.h"

static int reuse(struct bpf_map *map, int fd, const char *what, struct sbuf *why)
{
	int err;

	if (fd < 0)
		return 0;
	err = bpf_map__reuse_fd(map, fd);
	if (err)
		sb_printf(why, "cannot share the %s with the network programs: %s", what,
			  strerror(-err));
	return err;
}

static int put_rules(struct net_bpf *skel, const struct net_compiled *c)
{
	int fd = bpf_map__fd(skel->maps.net_rules);

	for (size_t i = 0; i < c->n; i++)
		if (bpf_map_update_elem(fd, &c->keys[i], &c->nodes[i], BPF_NOEXIST))
			return -errno;
	return 0;
}

int net_load(struct net_bpf **out, const struct net_compiled *c, const struct net_opts *o,
	     struct sbuf *why)
{
	struct net_bpf *skel;
	int err;

	skel = net_bpf__open();
	if (!skel) {
		err = -errno;
		sb_printf(why, "cannot open the network BPF object: %s", strerror(-err));
		return err;
	}
	skel->rodata->agent_id = o->agent;
	skel->rodata->agent_mode = o->mode;
	skel->rodata->raw_allowed = o->raw;
	skel->rodata->dns_port = o->dns_port;
	/* Without the resolver there is no asker to record: spare every packet the egress hook. */
	bpf_program__set_autoload(skel->progs.wd_dns_egress, o->dns_port != 0);
	bpf_program__set_autoload(skel->progs.wd_dns_release, o->dns_port != 0);
	rate_per_cpu(o->rate, (uint64_t *)&skel->rodata->rate_per_cpu,
		     (uint64_t *)&skel->rodata->rate_burst);
	if (o->ringbuf_bytes && o->events_fd < 0)
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
	err = bpf_map__set_max_entries(skel->maps.net_rules, c->n ? c->n : 1);
	if (err) {
		sb_printf(why, "cannot size the network rule map: %s", strerror(-err));
		goto err_destroy;
	}
	err = reuse(skel->maps.events, o->events_fd, "event ring buffer", why);
	if (!err)
		err = reuse(skel->maps.counters, o->counters_fd, "counters", why);
	if (err)
		goto err_destroy;
	err = net_bpf__load(skel);
	if (err) {
		sb_printf(why, "cannot load the network programs (%s); the kernel needs cgroup BPF (CONFIG_CGROUP_BPF) with socket address hooks, and warden must run as root",
			  strerror(-err));
		goto err_destroy;
	}
	err = put_rules(skel, c);
	if (err) {
		sb_printf(why, "cannot install the network rules: %s", strerror(-err));
		goto err_destroy;
	}
	*out = skel;
	return 0;

err_destroy:
	net_bpf__destroy(skel);
	return err;
}

int net_attach(struct net_bpf *skel, const char *cgroup, struct sbuf *why)
{
	const struct bpf_object_skeleton *sk = skel->skeleton;
	int cg, err = 0;

	cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		err = -errno;
		sb_printf(why, "cannot open the agent's cgroup %s: %s", cgroup, strerror(-err));
		return err;
	}
	for (int i = 0; i < sk->prog_cnt; i++) {
		struct bpf_link *link;

		if (!bpf_program__autoload(*sk->progs[i].prog))
			continue;	/* not loaded: not wanted for this policy */
		link = bpf_program__attach_cgroup(*sk->progs[i].prog, cg);
		if (!link) {
			err = -errno;
			sb_printf(why, "cannot attach %s to %s: %s", sk->progs[i].name, cgroup,
				  strerror(-err));
			break;
		}
		*sk->progs[i].link = link;
	}
	close(cg);
	return err;
}

void net_unload(struct net_bpf *skel)
{
	net_bpf__destroy(skel);
}

static struct wd_net_addr_key addr_key(uint32_t agent, int family, const uint8_t *addr)
{
	struct wd_net_addr_key k;

	memset(&k, 0, sizeof(k));
	k.agent = agent;
	k.family = family;
	memcpy(k.addr, addr, family == AF_INET6 ? 16 : 4);
	return k;
}

int net_learn(struct net_bpf *skel, uint32_t agent, int family, const uint8_t *addr,
	      const struct wd_net_learned *v)
{
	struct wd_net_addr_key k = addr_key(agent, family, addr);

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.net_learned), &k, v, BPF_ANY))
		return -errno;
	return 0;
}

int net_learned_get(struct net_bpf *skel, uint32_t agent, int family, const uint8_t *addr,
		    struct wd_net_learned *v)
{
	struct wd_net_addr_key k = addr_key(agent, family, addr);

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.net_learned), &k, v))
		return -errno;
	return 0;
}

int net_dns_asker(struct net_bpf *skel, const struct wd_dns_asker_key *k,
		  struct wd_dns_asker *who)
{
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.dns_askers), k, who))
		return -errno;
	return 0;
}

int net_events_fd(struct net_bpf *skel)
{
	return bpf_map__fd(skel->maps.events);
}

uint64_t net_counter(struct net_bpf *skel, uint32_t which)
{
	return map_counter(bpf_map__fd(skel->maps.counters), which);
}

int net_pin(struct net_bpf *skel, const char *dir)
{
	return pin_skeleton_links(skel->skeleton, dir);
}

void net_unpin(struct net_bpf *skel)
{
	unpin_skeleton_links(skel->skeleton);
}

int net_probe(struct sbuf *why)
{
	struct net_compiled c = {0};
	struct net_opts o = { .events_fd = -1, .counters_fd = -1 };
	struct net_bpf *skel;
	int err;

	err = net_load(&skel, &c, &o, why);
	if (!err)
		net_unload(skel);
	return err;
}
