// SPDX-License-Identifier: GPL-2.0
/*
 * The "network" section's CIDR rules as the kernel sees them: one LPM trie
 * node per distinct (family, right, prefix), holding every rule whose
 * prefix contains it, in precedence order (see struct wd_net_node). The
 * kernel's longest-prefix lookup finds the node; its first matching entry
 * decides. Folding ancestors into each node is what makes "longest prefix
 * wins" hold even when a longer rule does not match the port or protocol.
 *
 * Nodes are built shortest prefix first, each from its nearest stored
 * ancestor's entries plus its own rules, so compiling is linear in rules
 * times address length, not quadratic in rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netcompile.h"

/* Distinct prefixes, found by (kind, prefix, masked address). */
struct prefix_set {
	size_t *slot;		/* node index + 1; 0 = empty */
	size_t cap;
};

static uint64_t key_hash(const struct wd_net_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint64_t h = WD_FNV_OFFSET;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * WD_FNV_PRIME;
	return h;
}

static size_t *set_find(struct prefix_set *s, const struct net_compiled *c, const struct wd_net_key *k)
{
	size_t i = key_hash(k) & (s->cap - 1);

	while (s->slot[i] && memcmp(&c->keys[s->slot[i] - 1], k, sizeof(*k)))
		i = (i + 1) & (s->cap - 1);
	return &s->slot[i];
}

static void mask_addr(uint8_t *addr, int prefix)
{
	for (int bit = prefix; bit < 128; bit++)
		addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

static struct wd_net_key make_key(uint32_t agent, bool v6, int right, const uint8_t *addr, int prefix)
{
	struct wd_net_key k;

	memset(&k, 0, sizeof(k));
	k.prefixlen = WD_NET_FIXED_BITS + prefix;
	k.agent = agent;
	k.kind = WD_NET_KIND(v6, right);
	memcpy(k.addr, addr, v6 ? 16 : 4);
	mask_addr(k.addr, prefix);
	return k;
}

static size_t add_node(struct net_compiled *c, struct prefix_set *s, const struct wd_net_key *k,
		       uint8_t dflt)
{
	size_t *slot = set_find(s, c, k);

	if (*slot)
		return *slot - 1;
	c->keys[c->n] = *k;
	memset(&c->nodes[c->n], 0, sizeof(c->nodes[c->n]));
	c->nodes[c->n].dflt = dflt;
	*slot = ++c->n;
	return c->n - 1;
}

/* Rule order within a node: longer prefix first, deny before allow, then file order. */
struct rule_ref {
	size_t idx;
	int prefix;
	bool deny;
};

static int cmp_rule_ref(const void *a, const void *b)
{
	const struct rule_ref *x = a, *y = b;

	if (x->prefix != y->prefix)
		return y->prefix - x->prefix;
	if (x->deny != y->deny)
		return y->deny - x->deny;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A full-range, any-protocol entry: nothing after it can ever decide. */
static bool entry_covers_all(const struct wd_net_entry *e)
{
	return !e->proto && e->lo == 0 && e->hi == 65535;
}

static bool node_closed(const struct wd_net_node *n)
{
	return n->count && entry_covers_all(&n->e[n->count - 1]);
}

static int push_rule(struct wd_net_node *n, const struct net_rule *r, size_t idx, int right,
		     struct sbuf *err, const char *file)
{
	size_t nranges = r->ports ? r->nports : 1;
	bool deny = r->deny & (1u << right);

	for (size_t i = 0; i < nranges && !node_closed(n); i++) {
		struct wd_net_entry *e;

		if (n->count >= WD_NET_ENTRIES) {
			sb_printf(err, "%s:%d:%d: network.rules[%zu]: more than %d rules (counting each port range) cover the same addresses; merge rules or their port ranges\n",
				  file, r->line, r->col, idx, WD_NET_ENTRIES);
			return -E2BIG;
		}
		e = &n->e[n->count++];
		e->lo = r->ports ? r->ports[i].lo : 0;
		e->hi = r->ports ? r->ports[i].hi : 65535;
		e->proto = r->protocol;
		e->action = deny ? WD_ACT_DENY : WD_ACT_ALLOW;
		e->audit = r->audit;
		e->prefix = r->prefix;
		e->rule = idx;
	}
	return 0;
}

/* The nearest shorter stored prefix that contains @k (the /0 node at worst). */
static size_t parent_of(struct prefix_set *s, const struct net_compiled *c, const struct wd_net_key *k)
{
	int prefix = k->prefixlen - WD_NET_FIXED_BITS;

	for (int p = prefix - 1; p >= 0; p--) {
		struct wd_net_key a = *k;
		size_t *slot;

		a.prefixlen = WD_NET_FIXED_BITS + p;
		mask_addr(a.addr, p);
		slot = set_find(s, c, &a);
		if (*slot)
			return *slot - 1;
	}
	return (size_t)-1;
}

static int compile_kind(const struct policy *p, uint32_t agent, bool v6, int right,
			struct net_compiled *c, struct prefix_set *s, struct sbuf *err)
{
	static const uint8_t zero[16];
	struct rule_ref *refs = xcalloc(p->nnet + 1, sizeof(*refs));
	size_t *node_of = xcalloc(p->nnet + 1, sizeof(*node_of));
	size_t nrefs = 0, first = c->n;
	int ret = 0;

	for (size_t i = 0; i < p->nnet; i++) {
		const struct net_rule *r = &p->net_rules[i];

		if (r->is_host || r->family != (v6 ? AF_INET6 : AF_INET) ||
		    !((r->allow | r->deny) & (1u << right)))
			continue;
		refs[nrefs++] = (struct rule_ref){ .idx = i, .prefix = r->prefix,
						   .deny = r->deny & (1u << right) };
	}
	/* Shortest prefix first: a node's ancestors are complete before it. */
	qsort(refs, nrefs, sizeof(*refs), cmp_rule_ref);
	{
		struct wd_net_key root = make_key(agent, v6, right, zero, 0);

		add_node(c, s, &root, p->net_default);
	}
	for (size_t j = nrefs; j-- > 0;) {
		const struct net_rule *r = &p->net_rules[refs[j].idx];
		struct wd_net_key k = make_key(agent, v6, right, r->addr, r->prefix);

		node_of[j] = add_node(c, s, &k, p->net_default);
	}
	/* Each node's own rules, in precedence order (refs is sorted that way). */
	for (size_t j = 0; j < nrefs && !ret; j++)
		ret = push_rule(&c->nodes[node_of[j]], &p->net_rules[refs[j].idx], refs[j].idx,
				right, err, p->file);
	/* Then its ancestors' entries; nodes were added shortest prefix first. */
	for (size_t n = first + 1; n < c->n && !ret; n++) {
		struct wd_net_node *node = &c->nodes[n];
		const struct wd_net_node *par = &c->nodes[parent_of(s, c, &c->keys[n])];

		for (uint32_t j = 0; j < par->count && !node_closed(node); j++) {
			if (node->count >= WD_NET_ENTRIES) {
				const struct net_rule *r = &p->net_rules[par->e[j].rule];

				sb_printf(err, "%s:%d:%d: network.rules[%u]: more than %d rules (counting each port range) cover the same addresses; merge rules or their port ranges\n",
					  p->file, r->line, r->col, par->e[j].rule, WD_NET_ENTRIES);
				ret = -E2BIG;
				break;
			}
			node->e[node->count++] = par->e[j];
		}
	}
	free(node_of);
	free(refs);
	return ret;
}

int net_compile(const struct policy *p, uint32_t agent, struct net_compiled *out, struct sbuf *err)
{
	struct prefix_set s;
	size_t max = 4 * (p->nnet + 1);
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->keys = xcalloc(max, sizeof(*out->keys));
	out->nodes = xcalloc(max, sizeof(*out->nodes));
	for (s.cap = 16; s.cap < 2 * max; s.cap *= 2)
		;
	s.slot = xcalloc(s.cap, sizeof(*s.slot));
	for (int v6 = 0; v6 < 2 && !ret; v6++)
		for (int right = 0; right < NET_RIGHT_COUNT && !ret; right++)
			ret = compile_kind(p, agent, v6, right, out, &s, err);
	free(s.slot);
	if (ret)
		net_compiled_free(out);
	return ret;
}

/* A lookup as the kernel's LPM trie does it: the longest stored prefix. */
static const struct wd_net_node *lpm_lookup(const struct net_compiled *c, bool v6, int right,
					    const uint8_t *addr)
{
	const struct wd_net_node *best = NULL;
	int best_len = -1;

	for (size_t i = 0; i < c->n; i++) {
		const struct wd_net_key *k = &c->keys[i];
		int prefix = k->prefixlen - WD_NET_FIXED_BITS;
		uint8_t a[16] = {0};

		if (k->kind != WD_NET_KIND(v6, right) || prefix <= best_len)
			continue;
		memcpy(a, addr, v6 ? 16 : 4);
		mask_addr(a, prefix);
		if (!memcmp(a, k->addr, 16)) {
			best = &c->nodes[i];
			best_len = prefix;
		}
	}
	return best;
}

uint8_t net_compiled_decide(const struct net_compiled *c, int family, const uint8_t *addr,
			    uint16_t port, uint8_t protocol, enum net_right right, long *rule)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct wd_net_node *n;

	if (family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		family = AF_INET;
		addr += 12;
	}
	*rule = -1;
	n = lpm_lookup(c, family == AF_INET6, right, addr);
	if (!n)
		return WD_ACT_DENY;
	for (uint32_t i = 0; i < n->count; i++) {
		const struct wd_net_entry *e = &n->e[i];

		if ((!e->proto || e->proto == protocol) && port >= e->lo && port <= e->hi) {
			*rule = e->rule;
			return e->action;
		}
	}
	return n->dflt;
}

void net_compiled_free(struct net_compiled *c)
{
	free(c->keys);
	free(c->nodes);
	memset(c, 0, sizeof(*c));
}
