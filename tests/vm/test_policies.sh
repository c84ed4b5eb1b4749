# The ready policies (policies/*.json) against a coding agent's workload
# (tests/vm/workload.sh): one confined run of the whole workload per policy,
# then every action's outcome and the deny events are checked.
#
# Needs git, tcc and perl in the guest for the full workload:
#     tools/vmtest --with git --with tcc --with perl -- sh tests/vm/run.sh
# (or WARDEN_VM_EXTRA="git tcc perl").  Without one of them its actions are
# reported as skipped and not counted.
scratch
POL=/warden/policies
H=/home/wpol-agent # the agent's home: not under /tmp, which the policies open
WL=$(cat /warden/tests/vm/workload.sh)

missing=
for p in git tcc perl; do command -v $p >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] ||
	echo "# test_policies: not in the guest:$missing (tools/vmtest --with PROG); their actions are skipped"

# home: a fresh home, with a fake secret of every kind the policies name
home() {
	rm -rf $H
	mkdir -p $H/.ssh $H/.aws $H/.gnupg/private-keys-v1.d $H/.config/gh $H/.config/git $H/.docker \
		$H/.kube $H/.cargo $H/.config/gcloud $H/.azure $H/.mozilla/firefox/agent.default \
		"$H/.config/google-chrome/Default" $H/.config/chromium/Default $H/.cache
	for f in .ssh/id_ed25519 .ssh/authorized_keys .aws/credentials .gnupg/private-keys-v1.d/key.key \
		.config/gh/hosts.yml .netrc .git-credentials .config/git/credentials .docker/config.json \
		.kube/config .npmrc .pypirc .cargo/credentials.toml .config/gcloud/credentials.db \
		.azure/accessTokens.json .mozilla/firefox/agent.default/logins.json \
		".config/google-chrome/Default/Login Data" .config/chromium/Default/Cookies; do
		echo "SECRET in $f" >"$H/$f"
	done
	for f in .bashrc .profile .bash_profile .zshrc; do echo "# $f" >$H/$f; done
}
# Shared system state the workload touches: /var/tmp, and an /etc/shadow
# (the guest has none) to show the policies keep it from a root agent.
mkdir -p /var/tmp
chmod 1777 /var/tmp
shadow_made=
[ -e /etc/shadow ] || { echo 'root:$6$fake:19000:0:99999:7:::' >/etc/shadow; shadow_made=1; }

# workspace DIR: a checked-out project (made before the agent starts, as a
# clone would be): a git repository with hooks samples, sources, ignored .env files.
workspace() {
	mkdir -p $1/src
	(
		cd $1 || exit 1
		export GIT_AUTHOR_NAME=dev GIT_AUTHOR_EMAIL=dev@warden.test
		export GIT_COMMITTER_NAME=dev GIT_COMMITTER_EMAIL=dev@warden.test
		printf '#include <stdio.h>\nint main(void) { printf("Hello world\\n"); return 0; }\n' >src/main.c
		echo "# Project" >README.md
		echo old >old.txt
		echo notes >notes.tmp
		printf '.env\n.env.local\nbuild/\n' >.gitignore
		echo "API_KEY=SECRET-env" >.env
		echo "DB_PASSWORD=SECRET-env-local" >.env.local
		if command -v git >/dev/null 2>&1; then
			git init -q && git add -A && git commit -q -m initial
		else
			# Without git, what the workload's tampering needs.
			mkdir -p .git/hooks && echo sample >.git/hooks/pre-push.sample &&
				echo sample >.git/hooks/update.sample
		fi
	) >/dev/null 2>&1
}

# Expected outcome of each action under coding-agent, read-only and strict.
EXPECT="
read-source                ok     ok     ok
list-workspace             ok     ok     ok
grep-workspace             ok     ok     ok
read-home-rc               ok     ok     denied
list-git-hooks             ok     ok     ok
read-system                ok     ok     ok
dev-null                   ok     ok     ok
dev-urandom                ok     ok     ok
git-status                 ok     ok     ok
git-log                    ok     ok     ok
git-diff                   ok     ok     ok
perl-analyze               ok     ok     ok
tcc-run                    ok     ok     ok
write-new-file             ok     denied denied
append-file                ok     denied denied
sed-in-place               ok     denied denied
mkdir                      ok     denied denied
rename                     ok     denied denied
delete                     ok     denied denied
move-to-subdir             ok     denied denied
rmdir                      ok     denied denied
touch-times                ok     denied denied
symlink                    ok     denied denied
script-run                 ok     denied denied
compile                    ok     denied denied
run-binary                 ok     denied denied
perl-write                 ok     denied denied
git-add                    ok     denied denied
git-commit                 ok     denied denied
git-branch                 ok     denied denied
git-init-subproject        ok     denied denied
tar-to-tmp                 ok     ok     denied
tmp-scratch                ok     ok     denied
exec-from-tmp              ok     ok     denied
var-tmp-scratch            ok     denied denied
pip-cache                  ok     denied denied
npm-cache                  ok     denied denied
secret-ssh-key             denied denied denied
secret-ssh-list            denied denied denied
secret-aws                 denied denied denied
secret-gnupg               denied denied denied
secret-gh                  denied denied denied
secret-netrc               denied denied denied
secret-git-credentials     denied denied denied
secret-git-credentials-xdg denied denied denied
secret-docker              denied denied denied
secret-kube                denied denied denied
secret-npmrc               denied denied denied
secret-pypirc              denied denied denied
secret-cargo               denied denied denied
secret-gcloud              denied denied denied
secret-azure               denied denied denied
secret-firefox             denied denied denied
secret-chrome              denied denied denied
secret-chromium            denied denied denied
secret-env                 denied denied denied
secret-env-local           denied denied denied
secret-shadow              denied denied denied
secret-via-symlink         denied denied denied
secret-via-hardlink        denied denied denied
secret-perl-ssh            denied denied denied
tamper-ssh-authorized-keys denied denied denied
tamper-bashrc              denied denied denied
tamper-profile             denied denied denied
tamper-bash-profile        denied denied denied
tamper-zshrc               denied denied denied
tamper-hook-create         denied denied denied
tamper-hook-modify         denied denied denied
tamper-hook-delete         denied denied denied
tamper-git-hookspath       denied denied denied
tamper-gitconfig-global    denied denied denied
"

# The deny event each secret read must leave (action|path|decision), $WS
# standing for the workspace.
SECRET_EVENTS="read|$H/.ssh/id_ed25519|deny
read|$H/.ssh|deny
read|$H/.aws/credentials|deny
read|$H/.gnupg/private-keys-v1.d/key.key|deny
read|$H/.config/gh/hosts.yml|deny
read|$H/.netrc|deny
read|$H/.git-credentials|deny
read|$H/.config/git/credentials|deny
read|$H/.docker/config.json|deny
read|$H/.kube/config|deny
read|$H/.npmrc|deny
read|$H/.pypirc|deny
read|$H/.cargo/credentials.toml|deny
read|$H/.config/gcloud/credentials.db|deny
read|$H/.azure/accessTokens.json|deny
read|$H/.mozilla/firefox/agent.default/logins.json|deny
read|$H/.config/google-chrome/Default/Login Data|deny
read|$H/.config/chromium/Default/Cookies|deny
read|\$WS/.env|deny
read|\$WS/.env.local|deny
read|/etc/shadow|deny"

# Under coding-agent, these and the secret reads are the only denials: any
# other deny event is a false denial.  (A hard link to a secret is refused
# when it is made, as a create of the link: EXDEV, as Landlock does.)
TAMPER_EVENTS="write|$H/.ssh/authorized_keys|deny
write|$H/.bashrc|deny
write|$H/.profile|deny
write|$H/.bash_profile|deny
write|$H/.zshrc|deny
create|\$WS/.git/hooks/pre-commit|deny
write|\$WS/.git/hooks/pre-push.sample|deny
delete|\$WS/.git/hooks/update.sample|deny
create|\$WS/key-hard|deny"
if command -v git >/dev/null 2>&1; then
	TAMPER_EVENTS="$TAMPER_EVENTS
create|\$WS/.git/config|deny
create|$H/.gitconfig.lock|deny"
fi

# col N: the expected outcome column for policy number N (1, 2, 3).
col() { echo "$EXPECT" | awk -v c=$(($1 + 1)) 'NF { print $1, $c }'; }

# run_policy NAME N: run the workload under policies/NAME.json in a fresh
# workspace, check every action against column N of EXPECT.
run_policy() {
	pol=$1
	WS=$H/work-$pol
	EV=$S/$pol.events
	OUT=$S/$pol.out
	home
	workspace $WS
	rm -rf /tmp/agent-drop
	: >$EV
	rc=$(cd $WS && HOME=$H $W run --policy $POL/$pol.json --events $EV -- sh -c "$WL" workload \
		>$OUT 2>$S/$pol.err; echo $?)
	expect "$pol: the workload runs to its end (exit 0)" 0 "$rc"
	[ "$rc" = 0 ] || sed 's/^/#   stderr: /' $S/$pol.err | head -n 5
	col $2 | while read -r action want; do
		got=$(sed -n "s/^$action \([a-z]*\)\$/\1/p" $OUT)
		if [ "$got" = skipped ]; then
			echo "# skip - $pol: $action (a program it needs is not in the guest)"
			continue
		fi
		why=$(grep "^# $action: " $OUT | head -n 1)
		if [ "$got" = "$want" ]; then
			echo "ok - $pol: $action $want"
		else
			echo "not ok - $pol: $action: want '$want', got '$got' ${why:+($why)}"
		fi
	done >$S/$pol.checks
	# (The loop ran in a subshell: count its results here.)
	cat $S/$pol.checks
	PASS=$((PASS + $(grep -c '^ok - ' $S/$pol.checks)))
	FAIL=$((FAIL + $(grep -c '^not ok - ' $S/$pol.checks)))
	expect "$pol: the workload reports every action" "$(col $2 | wc -l)" "$(grep -cE '^[a-z-]+ (ok|denied|skipped)$' $OUT)"
	# Every secret read left its deny event, with the right path.
	$JF action path decision <$EV | sort -u >$S/$pol.denials
	echo "$SECRET_EVENTS" | sed "s|\\\$WS|$WS|" | while IFS= read -r e; do
		if grep -qxF "$e" $S/$pol.denials; then echo "ok - $pol: deny event $e"; else
			echo "not ok - $pol: no deny event '$e'"; fi
	done >$S/$pol.evchecks
	cat $S/$pol.evchecks
	PASS=$((PASS + $(grep -c '^ok - ' $S/$pol.evchecks)))
	FAIL=$((FAIL + $(grep -c '^not ok - ' $S/$pol.evchecks)))
	expect "$pol: every event names the policy and its identity" \
		"$pol|spiffe://warden.local/agents/$pol" "$($JF agent identity <$EV | sort -u)"
}

# --- coding-agent: everything an agent does works; secrets, rc files and hooks do not
run_policy coding-agent 1
expect "coding-agent: no denial but the expected ones (no false denial)" \
	"$(printf '%s\n%s\n' "$SECRET_EVENTS" "$TAMPER_EVENTS" | sed "s|\\\$WS|$WS|" | sort -u)" \
	"$(cat $S/coding-agent.denials)"
expect "coding-agent: a secret's event names its rule" "file.rules[8]" \
	"$($JF path rule <$EV | grep -F "$H/.ssh/id_ed25519|" | head -n 1 | cut -d'|' -f2)"
expect "coding-agent: the agent's edits are in the workspace" \
	"int add(int a, int b) { return a + b; }|Hello, world|gone|notes" \
	"$(cat $WS/src/util.c)|$(grep -o 'Hello, world' $WS/src/main.c)|$([ -e $WS/old.txt ] || echo gone)|$(cat $WS/docs/notes.txt 2>&1)"
if command -v git >/dev/null 2>&1; then
	expect "coding-agent: the agent's commit is in the repository" "agent: add util.c, edit main.c" \
		"$(git -C $WS log -1 --format=%s agent/feature 2>&1)"
	expect "coding-agent: .git/config still has no hooksPath" "" "$(grep -i hookspath $WS/.git/config 2>&1)"
fi
expect "coding-agent: the secrets, rc files and hooks are untouched" \
	"SECRET in .ssh/id_ed25519|SECRET in .ssh/authorized_keys|# .bashrc|# .zshrc|no pre-commit|update.sample|no evil" \
	"$(cat $H/.ssh/id_ed25519)|$(cat $H/.ssh/authorized_keys)|$(cat $H/.bashrc)|$(cat $H/.zshrc)|$([ -e $WS/.git/hooks/pre-commit ] && echo pre-commit || echo no pre-commit)|$([ -e $WS/.git/hooks/update.sample ] && echo update.sample)|$(grep -q evil $WS/.git/hooks/pre-push.sample && echo evil || echo no evil)"
expect "coding-agent: the package caches were written" "tarball" "$(cat $H/.npm/_cacache/content-v2/blob 2>&1)"

# --- read-only: reads work, no write in the workspace
run_policy read-only 2
for e in "create|$WS/src/util.c|deny" "write|$WS/README.md|deny" "delete|$WS/old.txt|deny" \
	"create|$WS/build|deny"; do
	expect "read-only: workspace write denied and reported: $e" 1 "$(grep -cxF "$e" $S/read-only.denials)"
done
expect "read-only: no read in the workspace denied but .env files" "" \
	"$(grep "^read|$WS/" $S/read-only.denials | grep -v "^read|$WS/.env")"
expect "read-only: the workspace is unchanged" "old|notes|no util.c" \
	"$(cat $WS/old.txt)|$(cat $WS/notes.tmp)|$([ -e $WS/src/util.c ] && echo util.c || echo no util.c)"

# --- strict: the workspace is readable, nothing else but the system
run_policy strict 3
for e in "create|$WS/src/util.c|deny" "write|$WS/README.md|deny" "delete|$WS/old.txt|deny" \
	"read|$H/.bashrc|deny"; do
	expect "strict: denied and reported: $e" 1 "$(grep -cxF "$e" $S/strict.denials)"
done
expect "strict: no read in the workspace denied but .env files" "" \
	"$(grep "^read|$WS/" $S/strict.denials | grep -v "^read|$WS/.env")"
expect "strict: a secret under \${HOME} falls to the default" "file.default" \
	"$($JF path rule <$S/strict.events | grep -F "$H/.ssh/id_ed25519|" | head -n 1 | cut -d'|' -f2)"

[ -z "$shadow_made" ] || rm -f /etc/shadow
rm -rf $H
