// SPDX-License-Identifier: GPL-2.0
/* warden: confine AI agents with policies enforced in the kernel. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "util.h"

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("warden %s (libbpf %s)\n", WARDEN_VERSION, libbpf_version_string());
	return EXIT_OK;
}

static int cmd_help(int argc, char **argv);

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{ "run", cmd_run, "run a command as a confined agent" },
	{ "attach", cmd_attach, "confine a running process tree or cgroup" },
	{ "learn", cmd_learn, "run a command unconfined and write the policy it needs" },
	{ "daemon", cmd_daemon, "enforce a directory of policies, binding agents at exec" },
	{ "status", cmd_status, "what the daemon enforces" },
	{ "events", cmd_events, "follow the daemon's events" },
	{ "detach", cmd_detach, "end an attach the daemon holds" },
	{ "reload", cmd_reload, "have the daemon reload its policies now" },
	{ "policy", cmd_policy, "check a policy, or explain its decision for a path" },
	{ "doctor", cmd_doctor, "tell what this kernel can enforce" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "this text" },
};

static void usage(FILE *f)
{
	fputs("Usage: warden [-v] COMMAND [ARGS...]\n\nCommands:\n", f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fputs("\n  -v, --verbose   libbpf and debug messages on stderr\n"
	      "\n'warden COMMAND --help' tells more.\n"
	      "\nExamples:\n"
	      "  sudo warden doctor\n"
	      "  sudo warden run --policy policies/coding-agent.json --events ev.jsonl -- bash\n"
	      "  warden policy check policies/*.json\n", f);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return EXIT_OK;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose++;
		} else if (!strcmp(argv[i], "-vv")) {
			verbose += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			return cmd_version(0, NULL);
		} else {
			pr_warn("unknown option \"%s\"\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* Errors are reported by warden itself; libbpf's own lines only with -v. */
	libbpf_set_print(verbose ? libbpf_print : libbpf_quiet);
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (!strcmp(argv[i], cmds[c].name))
			return cmds[c].fn(argc - i, argv + i);
	pr_warn("unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
