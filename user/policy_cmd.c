// SPDX-License-Identifier: GPL-2.0
/* warden policy check | explain: the compiler's own decisions, offline. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "policy.h"

static const char policy_usage[] =
	"Usage: warden policy check FILE...\n"
	"       warden policy explain FILE --path PATH --access RIGHT [--json]\n"
	"\n"
	"check     validate each FILE; errors as FILE:LINE:COL: message; exit 0 if\n"
	"          all are valid, else 1\n"
	"explain   the decision the kernel makes for RIGHT (read, write, create,\n"
	"          delete, exec) on PATH, and the rule that decides it; computed by\n"
	"          the same compiled tree the kernel walks. Exit 0 whatever it is.\n"
	"          ${CWD} and ${HOME} take this shell's values.\n"
	"\n"
	"Examples:\n"
	"  warden policy check policies/*.json\n"
	"  warden policy explain policies/coding-agent.json --path ~/.ssh/id_ed25519 --access read\n";

static void policy_env(struct policy_env *env, char *cwd, size_t size)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (!getcwd(cwd, size))
		snprintf(cwd, size, "/");
	if (!home || home[0] != '/') {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	env->cwd = cwd;
	env->home = home;
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
			printf("%s: ok (%s, %zu file rules)\n", argv[i], p.name, p.nrules);
		}
		sb_free(&err);
		policy_free(&p);
	}
	return status;
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
	const char *file, *path = NULL, *access = NULL;
	bool json = false, connect = false;
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
		case 'c': case 'P': connect = true; break;
		case 'j': json = true; break;
		case 'h': fputs(policy_usage, stdout); return EXIT_OK;
		default: fputs(policy_usage, stderr); return EXIT_USAGE;
		}
	}
	if (connect) {
		pr_warn("policy explain: --connect needs network rules, which this build does not support yet\n");
		return EXIT_FAIL;
	}
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
