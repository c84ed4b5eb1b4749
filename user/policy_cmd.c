// SPDX-License-Identifier: GPL-2.0
/* warden policy check | explain: the compiler's own decisions, offline. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "mxc.h"
#include "policy.h"

static const char policy_usage[] =
	"Usage: warden policy check FILE...\n"
	"       warden policy explain FILE --path PATH --access RIGHT [--json]\n"
	"       warden policy explain FILE --connect ADDR PORT [--protocol tcp|udp] [--json]\n"
	"\n"
	"check     validate each FILE; errors as FILE:LINE:COL: message; exit 0 if\n"
	"          all are valid, else 1\n"
	"explain   the decision the kernel makes for RIGHT (read, write, create,\n"
	"          delete, exec) on PATH, and the rule that decides it; computed by\n"
	"          the same compiled tree the kernel walks. Exit 0 whatever it is.\n"
	"          ${CWD} and ${HOME} take this shell's values. --connect judges a\n"
	"          connection to ADDR (IPv4 or IPv6) and PORT by the network rules\n"
	"          (default protocol tcp; host rules only match addresses learned from\n"
	"          DNS, so they do not decide here).\n"
	"\n"
	"Examples:\n"
	"  warden policy check policies/*.json\n"
	"  warden policy explain policies/coding-agent.json --path ~/.ssh/id_ed25519 --access read\n"
	"  warden policy explain agent.json --connect 10.20.0.5 443 --json\n";

static void policy_env(struct policy_env *env, char *cwd, size_t size)
{
	if (policy_env_of_process(env, cwd, size))
		snprintf(cwd, size, "/");
}

static int check(int argc, char **argv)
{
	char cwd[PATH_MAX];
	struct policy_env env;
	int status = EXIT_OK;

	if (argc < 1) {
		fputs(policy_usage, stderr);
		return EXIT_USAGE;
	}
	policy_env(&env, cwd, sizeof(cwd));
	for (int i = 0; i < argc; i++) {
		struct sbuf err = {0};
		struct policy p;
		struct compiled c;
		int ret = policy_load(argv[i], &env, &p, &err);

		if (!ret) {
			ret = policy_compile(&p, 1, &c, &err);
			if (!ret)
				compiled_free(&c);
		}
		if (ret) {
			fwrite(err.buf, 1, err.len, stderr);
			status = EXIT_FAIL;
		} else {
			policy_print_notes(&p, stderr);
			printf("%s: ok (%s, %zu file rules)\n", argv[i], p.name, p.nrules);
		}
		sb_free(&err);
		policy_free(&p);
	}
	return status;
}

static int explain_connect(int argc, char **argv, const char *addr, const char *port_s,
			   const char *proto_s, bool json)
{
	char cwd[PATH_MAX], rule[64];
	struct policy_env env;
	struct sbuf err = {0};
	struct policy p;
	uint8_t a[16], action;
	int family, proto;
	long port, idx;

	if (optind != argc - 1) {
		fputs(policy_usage, stderr);
		return EXIT_USAGE;
	}
	if (inet_pton(AF_INET, addr, a) == 1) {
		family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, a) == 1) {
		family = AF_INET6;
	} else {
		pr_warn("policy explain: \"%s\" is not an IPv4 or IPv6 address\n", addr);
		return EXIT_USAGE;
	}
	if (parse_long(port_s, 0, 65535, &port)) {
		pr_warn("policy explain: port \"%s\" is not a number from 0 to 65535\n", port_s);
		return EXIT_USAGE;
	}
	if (!strcmp(proto_s, "tcp")) {
		proto = NET_PROTO_TCP;
	} else if (!strcmp(proto_s, "udp")) {
		proto = NET_PROTO_UDP;
	} else {
		pr_warn("policy explain: --protocol is tcp or udp, not \"%s\"\n", proto_s);
		return EXIT_USAGE;
	}
	policy_env(&env, cwd, sizeof(cwd));
	if (policy_load(argv[optind], &env, &p, &err)) {
		fwrite(err.buf, 1, err.len, stderr);
		sb_free(&err);
		policy_free(&p);
		return EXIT_FAIL;
	}
	action = policy_net_decide(&p, family, a, port, proto, NET_CONNECT, &idx);
	if (idx < 0)
		snprintf(rule, sizeof(rule), "network.default");
	else
		snprintf(rule, sizeof(rule), "network.rules[%ld]", idx);
	if (json)
		printf("{\"decision\":\"%s\",\"rule\":\"%s\"}\n",
		       action == WD_ACT_ALLOW ? "allow" : "deny", rule);
	else
		printf("%s connect to %s port %ld/%s, by %s\n", action == WD_ACT_ALLOW ? "allow" : "deny",
		       addr, port, proto_s, rule);
	policy_free(&p);
	return EXIT_OK;
}

static int explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "access", required_argument, NULL, 'a' },
		{ "connect", required_argument, NULL, 'c' },
		{ "protocol", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *file, *path = NULL, *access = NULL, *addr = NULL, *port = NULL, *proto = "tcp";
	bool json = false;
	char cwd[PATH_MAX], rule[64];
	struct policy_env env;
	struct sbuf err = {0};
	struct wd_verdict v;
	struct policy p;
	struct compiled c;
	int right, ret, opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:a:c:P:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': path = optarg; break;
		case 'a': access = optarg; break;
		case 'c':
			addr = optarg;
			if (optind >= argc) {
				pr_warn("policy explain: --connect needs ADDR and PORT\n");
				return EXIT_USAGE;
			}
			port = argv[optind++];
			break;
		case 'P': proto = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(policy_usage, stdout); return EXIT_OK;
		default: fputs(policy_usage, stderr); return EXIT_USAGE;
		}
	}
	if (addr)
		return explain_connect(argc, argv, addr, port, proto, json);
	if (optind != argc - 1 || !path || !access) {
		fputs(policy_usage, stderr);
		return EXIT_USAGE;
	}
	file = argv[optind];
	right = right_parse(access);
	if (right < 0) {
		pr_warn("policy explain: unknown right \"%s\" (read, write, create, delete, exec)\n",
			access);
		return EXIT_USAGE;
	}
	if (path[0] != '/') {
		pr_warn("policy explain: --path must be absolute\n");
		return EXIT_USAGE;
	}
	policy_env(&env, cwd, sizeof(cwd));
	ret = policy_load(file, &env, &p, &err);
	if (!ret)
		ret = policy_compile(&p, 1, &c, &err);
	if (ret) {
		fwrite(err.buf, 1, err.len, stderr);
		sb_free(&err);
		policy_free(&p);
		return EXIT_FAIL;
	}
	compiled_decide(&c, path, right, &v);
	if (v.rule == WD_RULE_DEFAULT)
		snprintf(rule, sizeof(rule), "file.default");
	else if (v.rule < p.nrules && p.rules[v.rule].preset)
		snprintf(rule, sizeof(rule), "presets.%s", p.rules[v.rule].preset);
	else
		snprintf(rule, sizeof(rule), "file.rules[%u]", v.rule);
	if (json)
		printf("{\"decision\":\"%s\",\"rule\":\"%s\",\"audit\":%s}\n",
		       v.action == WD_ACT_ALLOW ? "allow" : "deny", rule, v.audit ? "true" : "false");
	else
		printf("%s %s on %s, by %s%s\n", v.action == WD_ACT_ALLOW ? "allow" : "deny", access,
		       path, rule, v.audit ? " (audited)" : "");
	compiled_free(&c);
	policy_free(&p);
	return EXIT_OK;
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(policy_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "check"))
		return check(argc - 2, argv + 2);
	if (!strcmp(argv[1], "explain"))
		return explain(argc - 1, argv + 1);
	pr_warn("policy: unknown subcommand \"%s\"\n", argv[1]);
	fputs(policy_usage, stderr);
	return EXIT_USAGE;
}
