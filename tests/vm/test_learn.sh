# warden learn against a coding agent's workload (tests/vm/workload.sh):
# learn with --base policies/coding-agent.json from the whole workload (which
# also reads the secrets and tampers with rc files and hooks: nothing is
# denied while learning), then
#  - policy check accepts the learned policy;
#  - the workload's ordinary part, rerun under it in a fresh home and
#    workspace, succeeds with no denial at all;
#  - the whole workload rerun under it: every secret read and every tampering
#    is really refused, and every denial is one the base policy makes;
#  - a connect and a bind are learned as such, and nothing else is allowed;
#  - learn exits with CMD's status and never overwrites the base.
#
# Needs git, tcc and perl in the guest for the full workload:
#     tools/vmtest --with git --with tcc --with perl -- sh tests/vm/run.sh
scratch
POL=/warden/policies
LH=/home/wlearn-agent # not under /tmp, which the base opens
LWS=$LH/work
LWL=$(cat /warden/tests/vm/workload.sh)
# The ordinary part: everything before the secrets section.
LWL_PLAIN="$(printf '%s\n' "$LWL" | sed '/^# -* secrets/,$d')
exit 0"

# learn_home: a fresh home with a fake secret of each kind the base names,
# and a fresh workspace: a git repository, as a clone would be.
learn_home() {
	rm -rf $LH
	mkdir -p $LH/.ssh $LH/.aws $LH/.gnupg/private-keys-v1.d $LH/.config/gh $LH/.config/git \
		$LH/.docker $LH/.kube $LH/.cargo $LH/.config/gcloud $LH/.azure \
		$LH/.mozilla/firefox/agent.default "$LH/.config/google-chrome/Default" \
		$LH/.config/chromium/Default $LH/.cache $LWS/src
	for f in .ssh/id_ed25519 .ssh/authorized_keys .aws/credentials .gnupg/private-keys-v1.d/key.key \
		.config/gh/hosts.yml .netrc .git-credentials .config/git/credentials .docker/config.json \
		.kube/config .npmrc .pypirc .cargo/credentials.toml .config/gcloud/credentials.db \
		.azure/accessTokens.json .mozilla/firefox/agent.default/logins.json \
		".config/google-chrome/Default/Login Data" .config/chromium/Default/Cookies; do
		echo "SECRET in $f" >"$LH/$f"
	done
	for f in .bashrc .profile .bash_profile .zshrc; do echo "# $f" >$LH/$f; done
	(
		cd $LWS || exit 1
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
			mkdir -p .git/hooks && echo sample >.git/hooks/pre-push.sample &&
				echo sample >.git/hooks/update.sample
		fi
	) >/dev/null 2>&1
}
mkdir -p /var/tmp
chmod 1777 /var/tmp
lshadow_made=
[ -e /etc/shadow ] || { echo 'root:$6$fake:19000:0:99999:7:::' >/etc/shadow; lshadow_made=1; }

# --- learn from the whole workload
learn_home
NEW=$S/learned.json
rc=$(cd $LWS && HOME=$LH $W learn --base $POL/coding-agent.json --output $NEW -- \
	sh -c "$LWL" workload >$S/learn.out 2>$S/learn.err; echo $?)
expect "learn: exits with the workload's status (0)" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   stderr: /' $S/learn.err | head -n 20
expect "learn: nothing was denied while learning (secrets read)" "secret-ssh-key ok" \
	"$(grep '^secret-ssh-key ' $S/learn.out)"
expect_match "learn: prints a summary" "^warden: learn: [0-9]+ events, [0-9]+ paths: [0-9]+ file rules" \
	"$(head -n 1 $S/learn.err)"
expect "learn: the summary names a refused secret" 1 \
	"$(grep -cxF "  read $LH/.aws/credentials" $S/learn.err)"
echo "# learned policy: $(grep -c '"path"' $NEW 2>/dev/null) file rules, $(grep -c '"path".*"allow"' $NEW 2>/dev/null) allowing"
sed 's/^/#   /' $NEW
expect "learn: policy check accepts the learned policy" 0 "$(status $W policy check $NEW)"
expect "learn: the base's secret rules are kept" 1 \
	"$(grep -cF '{"path": "${HOME}/.ssh/", "deny": ["read", "write", "create", "delete", "exec"]}' $NEW)"
expect "learn: no rule allows anything under a secret directory" "" \
	"$(grep -E '"\$\{HOME\}/\.(ssh|aws|gnupg|kube|azure|mozilla)[/"].*"allow"' $NEW)"
expect "learn: the workspace is one rule, not a list of files" 0 \
	"$(grep -c '"\${CWD}/src' $NEW)"
expect "learn: no rule on / itself" 0 "$(grep -c '"path": "/"' $NEW)"
# (The base's deny rules are all kept; the learned part is the allow rules.)
nrules=$(grep -c '"allow"' $NEW)
expect "learn: a reasonable number of allow rules (<= 40, got $nrules)" yes \
	"$([ "$nrules" -gt 0 ] && [ "$nrules" -le 40 ] && echo yes)"

# --- the ordinary part, rerun under the learned policy: no denial
learn_home
EV=$S/plain.events
: >$EV
rc=$(cd $LWS && HOME=$LH $W run --policy $NEW --events $EV -- sh -c "$LWL_PLAIN" workload \
	>$S/plain.out 2>$S/plain.err; echo $?)
expect "rerun (ordinary part): the workload runs to its end (exit 0)" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   stderr: /' $S/plain.err | head -n 5
expect "rerun (ordinary part): every action succeeds" "" "$(grep -vE ' (ok|skipped)$' $S/plain.out)"
expect "rerun (ordinary part): at least 30 actions ran" yes \
	"$([ "$(grep -c ' ok$' $S/plain.out)" -ge 30 ] && echo yes)"
expect "rerun (ordinary part): zero denial events" "" "$($JF event action path decision <$EV | grep -v '|allow$')"
if command -v git >/dev/null 2>&1; then
	expect "rerun (ordinary part): the agent's commit is in the repository" \
		"agent: add util.c, edit main.c" "$(git -C $LWS log -1 --format=%s agent/feature 2>&1)"
fi

# --- the whole workload, rerun: secrets and tampering refused, and only those
learn_home
EV=$S/full.events
: >$EV
rc=$(cd $LWS && HOME=$LH $W run --policy $NEW --events $EV -- sh -c "$LWL" workload \
	>$S/full.out 2>$S/full.err; echo $?)
expect "rerun (whole): the workload runs to its end (exit 0)" 0 "$rc"
expect "rerun (whole): every ordinary action succeeds" "" \
	"$(grep -vE '^(secret|tamper)-' $S/full.out | grep -v '^#' | grep -vE ' (ok|skipped)$')"
expect "rerun (whole): every secret read and tampering is refused" "" \
	"$(grep -E '^(secret|tamper)-' $S/full.out | grep -vE ' (denied|skipped)$')"
expect "rerun (whole): the SSH key was really not read" "" "$(grep -F 'SECRET in .ssh/id_ed25519' $S/full.out)"
expect "rerun (whole): the read of the SSH key is a deny event" 1 \
	"$($JF action path decision <$EV | sort -u | grep -cxF "read|$LH/.ssh/id_ed25519|deny")"
expect "rerun (whole): .bashrc untouched" "# .bashrc" "$(cat $LH/.bashrc)"
# Every denial is one the base makes too: the base denies the path, or it
# is a link refused as such (a hard link to a secret), as under the base.
$JF action path decision reason <$EV | grep '|deny|' | sort -u >$S/full.denials
while IFS='|' read -r a p d reason; do
	if [ "$reason" != "<none>" ]; then
		echo "$p" | grep -qxF "$LWS/key-hard" && echo "ok" || echo "link refusal on $p"
		continue
	fi
	got=$(cd $LWS && HOME=$LH $W policy explain $POL/coding-agent.json --path "$p" --access "$a" | head -n 1)
	case "$got" in deny*) echo ok ;; *) echo "$a on $p: denied, but the base allows it ($got)" ;; esac
done <$S/full.denials >$S/full.why
expect "rerun (whole): every denial is the base's (no false denial)" "" "$(grep -v '^ok$' $S/full.why)"
expect "rerun (whole): denials were seen" yes "$([ -s $S/full.denials ] && echo yes)"

# --- a secret read directly under the learned policy
learn_home
rc=$(cd $LWS && HOME=$LH $W run --policy $NEW --events $S/cat.events -- cat $LH/.aws/credentials \
	>$S/cat.out 2>&1; echo $?)
expect "learned policy: cat ~/.aws/credentials fails" 1 "$rc"
expect "learned policy: and is a deny event" "read|$LH/.aws/credentials|deny" \
	"$($JF action path decision <$S/cat.events | grep aws)"

# --- network: the connect and bind seen, nothing else
WN=/warden/build/tests/wnet
$WN serve tcp 127.0.0.1 7301 >$S/serve.out 2>&1 &
srv=$!
wait_match $S/serve.out ready
NETCMD="$WN connect tcp 127.0.0.1 7301 && $WN bind udp 127.0.0.1 7302"
rc=$(cd $S && $W learn --output $S/net.json -- sh -c "$NETCMD" >/dev/null 2>$S/net.err; echo $?)
expect "learn (network): exit 0" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   stderr: /' $S/net.err | head -n 5
expect "learn (network): the connect became a /32 rule with its port" 1 \
	"$(grep -cF '{"cidr": "127.0.0.1/32", "ports": ["7301"], "protocol": "tcp", "allow": ["connect"]}' $S/net.json)"
expect "learn (network): the bind too" 1 \
	"$(grep -cF '{"cidr": "127.0.0.1/32", "ports": ["7302"], "protocol": "udp", "allow": ["bind"]}' $S/net.json)"
: >$S/net.events
rc=$(cd $S && $W run --policy $S/net.json --events $S/net.events -- sh -c "$NETCMD" >/dev/null 2>&1; echo $?)
expect "rerun (network): succeeds" 0 "$rc"
expect "rerun (network): zero denial events" "" "$($JF event action decision <$S/net.events | grep -v '|allow$')"
expect "learned (network): another port is refused (EPERM)" "EPERM" \
	"$(cd $S && $W run --policy $S/net.json -- $WN connect tcp 127.0.0.1 7303 2>/dev/null)"
kill $srv 2>/dev/null
wait $srv 2>/dev/null

# --- exit status, and the base is never the output
rc=$(cd $S && $W learn --output $S/exit.json -- sh -c 'exit 7' >/dev/null 2>$S/exit.err; echo $?)
expect "learn: exits with CMD's status (7)" 7 "$rc"
expect "learn: and still writes the policy" 0 "$(status $W policy check $S/exit.json)"
cp $POL/coding-agent.json $S/base.json
rc=$(cd $S && $W learn --base base.json --output ./base.json -- true 2>$S/same.err; echo $?)
expect "learn: refuses to overwrite the base (125)" 125 "$rc"
expect "learn: the base is unchanged" "" "$(cmp $POL/coding-agent.json $S/base.json)"
expect_match "learn: says why" "is the base policy" "$(cat $S/same.err)"
expect "learn: no --output is a usage error (2)" 2 "$(status $W learn -- true)"

[ -z "$lshadow_made" ] || rm -f /etc/shadow
rm -rf $LH
