# warden daemon (issue 5): binding at exec by exe, uid and cgroup; hot
# reload under load; a bad file changes nothing; kill -9 keeps enforcement
# and the next daemon adopts the state, drains, and counts what was lost;
# the control socket; metrics; --reset ends it all.
scratch
D=$S/policies
mkdir -p $D $S/secret $S/other $S/bin
echo key >$S/secret/key
echo x >$S/other/x
chmod -R a+rX $S
EV=$S/events.jsonl

# The agent: tries both files forever, one line per try. `read` is a shell
# builtin: the opens are the script's own. A pause per try keeps the
# events file small enough to grep under TCG.
cat >$S/bin/agent <<EOF
#!/bin/sh
if [ "\$1" = many ]; then	# read each file of $S/many once
	for f in $S/many/*; do read x <\$f; done
	exit 0
fi
if [ "\$1" = deep ]; then	# read $S/deep/a/b/dN/f once each, N = 0 .. 19
	n=0; while [ \$n -lt 20 ]; do read x <$S/deep/a/b/d\$n/f; n=\$((n + 1)); done
	exit 0
fi
if [ "\$1" = own ]; then	# read $S/deep/a/b/d0/gN once each, N = 0 .. 19
	n=0; while [ \$n -lt 20 ]; do read x <$S/deep/a/b/d0/g\$n; n=\$((n + 1)); done
	exit 0
fi
while :; do
	if read x <$S/secret/key 2>/dev/null; then echo "S ok"; else echo "S no"; fi
	if read x <$S/other/x 2>/dev/null; then echo "O ok"; else echo "O no"; fi
	sleep 0.02
done
EOF
chmod 755 $S/bin/agent
cp $S/bin/agent $S/bin/tree	# the same, not matched: attached later

# v1 denies both directories, v2 only the secret.
v1() {
	cat <<EOF
{"version": 1, "name": "daemon-agent", "identity": "spiffe://warden.test/daemon",
 "match": {"exe": ["$S/bin/agent"]},
 "file": {"rules": [{"path": "$S/secret/", "deny": ["read"]},
                    {"path": "$S/other/", "deny": ["read"]}]}}
EOF
}
v2() {
	cat <<EOF
{"version": 1, "name": "daemon-agent", "identity": "spiffe://warden.test/daemon",
 "match": {"exe": ["$S/bin/agent"]},
 "file": {"rules": [{"path": "$S/secret/", "deny": ["read"]}]}}
EOF
}
# put NAME: stdin becomes DIR/NAME atomically (write, then rename)
put() { cat >$D/.$1.tmp && mv $D/.$1.tmp $D/$1; }
# policy_events: how many policy events the daemon wrote (0 before any)
policy_events() {
	_pe=$(grep -c '"event":"policy"' $EV 2>/dev/null)
	echo $((${_pe:-0} + 0))
}
# wait_policy_events N: until there are more than N (the policy event is
# written once the new version is in force)
more_policy_events() { [ "$(policy_events)" -gt "$1" ]; }
wait_policy_events() { wait_until 60 more_policy_events "$1"; }
daemon_start() {
	_log=$1
	shift
	$W daemon --policy-dir $D --events $EV "$@" 2>$_log &
	DP=$!
	_i=0
	while [ $_i -lt 900 ]; do
		grep -qs 'daemon: enforcing' $_log && return 0
		kill -0 $DP 2>/dev/null || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# st: status --json without white space
st() { $W status --json | tr -d ' \t\n'; }
# ev_last TEXT: the last line of the events file with TEXT in it
ev_last() { grep -sF -- "$1" $EV | tail -1; }
json_sha() { sha256sum "$1" | cut -d' ' -f1; }

$W daemon --reset >/dev/null 2>&1
v1 | put agent.json
SHA1=$(json_sha $D/agent.json)
if daemon_start $S/d1.log --ringbuf-size 16384 --metrics 127.0.0.1:9464; then
	ok "daemon: starts with a policy directory"
else
	fail "daemon: starts: $(cat $S/d1.log)"
fi
expect "daemon: loaded the policy (log)" 1 "$(grep -c 'loaded agent.json' $S/d1.log)"
expect "daemon: a second daemon is refused" 1 "$(status $W daemon --policy-dir $D --control $S/other.sock)"
$W daemon --policy-dir $D --control $S/other.sock 2>$S/d-second.log
expect_match "daemon: the refusal says why" 'another warden daemon runs \(pid [0-9]+' "$(cat $S/d-second.log)"

# Binding at exec, by path: the first open of the new program is judged.
# (loop.log is made first: the background shell may not have made it yet
# when the wait below looks.)
: >$S/loop.log
$S/bin/agent >$S/loop.log 2>/dev/null &
AGP=$!
wait_lines $S/loop.log 20
expect "daemon: bound at exec: the agent's very first open is denied" "S no" "$(head -1 $S/loop.log)"
expect "daemon: v1 denies the secret" "S no all" "$(only 'S no' "$(grep '^S' $S/loop.log)")"
expect "daemon: v1 denies the other directory" "O no all" "$(only 'O no' "$(grep '^O' $S/loop.log)")"
expect "daemon: the same script, not matched, reads" "ok" "$(sh -c "read x <$S/secret/key && echo ok")"
# The daemon writes the kernel's events as it drains them: wait for these.
agent_bound() { grep -s '"action":"bind"' $EV | grep -q "\"pid\":$AGP,"; }
wait_until 60 agent_bound
BIND=$(grep '"action":"bind"' $EV | grep "\"pid\":$AGP," | head -1)
expect_match "daemon: a bind event for the agent" '"agent":"daemon-agent".*"event":"process"' "$BIND"
wait_until 60 matches "$S/secret/key" grep '"decision":"deny"' $EV
DENY=$(grep '"decision":"deny"' $EV | grep "$S/secret/key" | head -1)
expect_match "daemon: deny events carry the policy version" "\"policy_sha256\":\"$SHA1\"" "$DENY"
expect_match "daemon: deny events carry the identity" '"identity":"spiffe://warden.test/daemon"' "$DENY"
expect_match "daemon: deny events carry the process's cgroup" '"cgroup":"/[^"]*"}$' "$DENY"
ST=$(st)
expect_match "daemon: status --json shows the agent and its version" "\"policy_sha256\":\"$SHA1\"" "$ST"
expect_match "daemon: status counts the bind" '"bound":[1-9]' "$ST"
expect_match "daemon: status (text) lists the agent" 'daemon-agent' "$($W status)"

# Hot reload under load: 100 switches, v2 and v1 in turn (v1 last), then v2.
L0=$(lines $S/loop.log)
N0=$(policy_events)
i=1
while [ $i -le 100 ]; do
	if [ $((i % 2)) -eq 1 ]; then v2 | put agent.json; else v1 | put agent.json; fi
	wait_policy_events $((N0 + i - 1))
	i=$((i + 1))
done
expect "daemon: 100 reloads, 100 policy events" 100 "$(($(policy_events) - N0))"
# v1 is in force from its event on. The line of a read already under way
# then may follow; the 10 after it are v1's (the tail below). And the loop
# has run 100 lines since L0 (natively within the 1 s once slept here).
LR=$(lines $S/loop.log)
wait_lines $S/loop.log $((LR + 12))
wait_lines $S/loop.log $((L0 + 100))
L1=$(lines $S/loop.log)
expect "daemon: no read of the secret succeeded during 100 reloads" 0 "$(since $S/loop.log $L0 | grep -c 'S ok')"
expect_match "daemon: the loop ran during the reloads" '^[1-9][0-9]{2,}$' "$((L1 - L0))"
expect "daemon: v1 in force again: the other directory is denied" "O no all" "$(only 'O no' "$(tail -10 $S/loop.log | grep '^O')")"
v2 | put agent.json
wait_policy_events $((N0 + 100))
wait_until 60 matches 'O ok' tail -20 $S/loop.log
expect_match "daemon: what the new policy allows starts succeeding" 'O ok' "$(tail -20 $S/loop.log)"
SHA2=$(json_sha $D/agent.json)
expect_match "daemon: status shows v2 in force" "\"policy_sha256\":\"$SHA2\"" "$(st)"
expect_match "daemon: reload events say reloaded" '"event":"policy","action":"reloaded","file":"agent.json"' "$(tail -200 $EV | grep '"event":"policy"' | tail -1)"

# The open verdict cache: the agent reads the other file again and again
# (allowed under v2, no event); the walk is done once, then the verdict is
# kept (status counts each verdict put in the cache). Nothing in the VM
# renames or mounts meanwhile, which would make every entry judge again.
fills() { st | sed -n 's/.*"vcache_filled":\([0-9]*\).*/\1/p'; }
C0=$(fills) R0=$(grep -c '^O ok' $S/loop.log)
# At least the 2 s this always slept, and at least 40 reads.
o_reads() { [ $(($(grep -c '^O ok' $S/loop.log) - R0)) -ge "$1" ]; }
sleep 2
wait_until 60 o_reads 40
C1=$(fills) R1=$(grep -c '^O ok' $S/loop.log)
if [ -n "$C0" ] && [ $((R1 - R0)) -ge 10 ] && [ $((C1 - C0)) -lt $(((R1 - R0) / 4)) ]; then
	ok "daemon: allowed reads of the same file are judged once, then served from the verdict cache"
else
	fail "daemon: verdict cache: $((R1 - R0)) reads of the other file, $((C1 - C0)) verdicts put in the cache (status: '$C0' '$C1')"
fi
# Its directory's entry: of 40 files read once each in a directory that no
# rule names, the first is walked, the others are served from the entry.
# The loop agent is stopped meanwhile: its own reads would count as well.
kill -STOP $AGP
stopped() { grep -Eqs '^State:[[:space:]]+T' /proc/$1/status; }
wait_until 30 stopped $AGP
mkdir $S/many
_i=0
while [ $_i -lt 40 ]; do echo x >$S/many/f$_i; _i=$((_i + 1)); done
served() { st | sed -n 's/.*"dircache_served":\([0-9]*\).*/\1/p'; }
D0=$(served)
$S/bin/agent many
D1=$(served)
if [ -n "$D0" ] && [ $((D1 - D0)) -ge 30 ]; then
	ok "daemon: first reads in a directory no rule names are served from its entry ($((D1 - D0)) of 40)"
else
	fail "daemon: directory entry: $((D1 - D0)) of 40 first reads served (status: '$D0' '$D1')"
fi
# Read again, each is served again and gets an entry of its own; read a
# third time, each is a hit. (These are served with a lookup among the
# children of a policy node above; the files of a directory's own entry,
# served with none, are below.)
F1=$(fills)
$S/bin/agent many
D2=$(served)
F2=$(fills)
$S/bin/agent many
D3=$(served)
if [ -n "$F1" ] && [ $((D2 - D1)) -ge 30 ] && [ $((F2 - F1)) -ge 30 ] && [ $((D3 - D2)) -le 5 ]; then
	ok "daemon: a file served from its directory's entry twice gets its own (served $((D2 - D1)), filled $((F2 - F1)), then served $((D3 - D2)) of 40)"
else
	fail "daemon: directory entry: second reads served $((D2 - D1)) and filled $((F2 - F1)), third reads served $((D3 - D2)) of 40 (status: '$D1' '$D2' '$D3' '$F1' '$F2')"
fi
# And the entry of a directory above: 20 files, each in a directory of its
# own, $S/deep/a/b/dN, under $S/deep, which no rule names; the first is
# walked, and its walk keeps the verdict for all of $S/deep, 3 levels above
# its directory (where a first open looks: up to 4 levels above the file,
# so never as high as $S, whose entry could serve these as well).
_i=0
while [ $_i -lt 20 ]; do mkdir -p $S/deep/a/b/d$_i && echo x >$S/deep/a/b/d$_i/f; _i=$((_i + 1)); done
D0=$(served)
F0=$(fills)
$S/bin/agent deep
D1=$(served)
F1=$(fills)
if [ -n "$D0" ] && [ $((D1 - D0)) -ge 15 ]; then
	ok "daemon: first reads in new directories under a judged one are served from its entry ($((D1 - D0)) of 20)"
else
	fail "daemon: entry above: $((D1 - D0)) of 20 first reads served (status: '$D0' '$D1')"
fi
# Read once, a file served from above gets no entry of its own (the
# agent's start may fill a few).
if [ -n "$F0" ] && [ $((F1 - F0)) -le 5 ]; then
	ok "daemon: a file served from above once gets no entry of its own ($((F1 - F0)) filled for 20)"
else
	fail "daemon: entry above: $((F1 - F0)) entries filled for 20 first reads (status: '$F0' '$F1')"
fi
# Served from above, a file keeps its own verdict once it is read again:
# the second reads are served again (and fill), the third are hits, not
# served (the agent's own start, its script read from $S/bin's entry, is
# served each time: 2 or 3).
$S/bin/agent deep
D2=$(served)
F2=$(fills)
if [ -n "$D2" ] && [ $((D2 - D1)) -ge 15 ] && [ $((F2 - F1)) -ge 15 ]; then
	ok "daemon: a file served from above once is served again at its second read, and filled ($((D2 - D1)) and $((F2 - F1)) of 20)"
else
	fail "daemon: entry above: $((D2 - D1)) of 20 second reads served, $((F2 - F1)) filled (status: '$D1' '$D2' '$F1' '$F2')"
fi
$S/bin/agent deep
D3=$(served)
if [ -n "$D3" ] && [ $((D3 - D2)) -le 5 ]; then
	ok "daemon: a file served from above twice is a hit when read again ($((D3 - D2)) of 20 served again)"
else
	fail "daemon: entry above: $((D3 - D2)) of 20 third reads served again (status: '$D2' '$D3')"
fi
# A directory's own entry, which needs no lookup: $S/deep/a/b/d0 got one
# when d0/f was walked. Its other files, read once, are served by it and
# get no entry of their own; read again, they do (a program run again, a
# file read again); read a third time, they are hits.
_i=0
while [ $_i -lt 20 ]; do echo x >$S/deep/a/b/d0/g$_i; _i=$((_i + 1)); done
D0=$(served) F0=$(fills)
$S/bin/agent own
D1=$(served) F1=$(fills)
$S/bin/agent own
D2=$(served) F2=$(fills)
$S/bin/agent own
D3=$(served)
if [ -n "$F0" ] && [ $((D1 - D0)) -ge 15 ] && [ $((F1 - F0)) -le 5 ] && [ $((D2 - D1)) -ge 15 ] &&
	[ $((F2 - F1)) -ge 15 ] && [ $((D3 - D2)) -le 5 ]; then
	ok "daemon: files served by their directory's own entry get their own at the second read (served $((D1 - D0)), $((D2 - D1)), $((D3 - D2)); filled $((F1 - F0)), $((F2 - F1)) of 20)"
else
	fail "daemon: own entry: served $((D1 - D0)), $((D2 - D1)), $((D3 - D2)); filled $((F1 - F0)), $((F2 - F1)) of 20 (status: '$D0' '$D1' '$D2' '$D3' '$F0' '$F1' '$F2')"
fi
kill -CONT $AGP

# A bad file keeps v2 in force.
N0=$(policy_events)
L0=$(lines $S/loop.log)
printf '{"version": 1, "name": "daemon-agent",\n "file": {"rules": [{"path": "relative"}]}}\n' | put agent.json
wait_policy_events $N0
REJ=$(grep '"event":"policy"' $EV | tail -1)
expect_match "daemon: a bad file is rejected (event)" '"action":"rejected","file":"agent.json","error":".*agent.json:2:30: path' "$REJ"
expect_match "daemon: and logged" 'agent.json rejected, its previous version stays in force' "$(cat $S/d1.log)"
expect_match "daemon: status still shows v2" "\"policy_sha256\":\"$SHA2\"" "$(st)"
# The agent (running again) tries past the rejection; the fixed sleep
# stays: the secret must stay denied for a while, not only for these lines.
LJ=$(lines $S/loop.log)
wait_lines $S/loop.log $((LJ + 20))
sleep 1
expect "daemon: after the bad file, the secret stays denied" 0 "$(since $S/loop.log $L0 | grep -c 'S ok')"
expect_match "daemon: after the bad file, v2 still allows the other" 'O ok' "$(tail -10 $S/loop.log)"
echo '{"version": 1, "name": "x", "match": {"exe": ["/bin/nothing"]}, "version": 2}' | put dup.json
wait_policy_events $((N0 + 1))
expect_match "daemon: a duplicate key is rejected with its place" '"file":"dup.json","error":".*dup.json:1:[0-9]+: duplicate key' "$(grep '"event":"policy"' $EV | tail -1)"
rm -f $D/dup.json
v2 | put agent.json

# warden events --follow, warden reload, two files claiming one program, and
# a ConfigMap-like directory whose "..data" symlink is swapped in one rename.
$W events --follow >$S/follow.log 2>&1 &
FP=$!
# It streams only what comes after the daemon took it: the agent's
# denials, one per try, tell when that is.
wait_match $S/follow.log '"decision":"deny"'
N0=$(policy_events)
echo "{\"version\": 1, \"name\": \"twin\", \"match\": {\"exe\": [\"$S/bin/agent\"]}}" >$D/zz-twin.json
wait_policy_events $N0
expect_match "daemon: a second file claiming the same program is rejected" '"file":"zz-twin.json","error":".*zz-twin.json:1:[0-9]+: match.exe\[0\] .* is already matched by' "$(grep '"event":"policy"' $EV | tail -1)"
wait_match $S/follow.log '"action":"rejected","file":"zz-twin.json"'
expect_match "daemon: events --follow streams the daemon's events" '"action":"rejected","file":"zz-twin.json"' "$(cat $S/follow.log)"
kill $FP 2>/dev/null
wait $FP 2>/dev/null
rm $D/zz-twin.json
expect "daemon: warden reload exits 0 when every file loads" 0 "$(status $W reload)"
N0=$(policy_events)
mkdir $D/..v1 $D/..v2
echo "{\"version\": 1, \"name\": \"cm-agent\", \"match\": {\"uids\": [4400]}, \"file\": {\"rules\": [{\"path\": \"$S/secret/\", \"deny\": [\"read\"]}]}}" >$D/..v1/cm.json
echo "{\"version\": 1, \"name\": \"cm-agent\", \"match\": {\"uids\": [4400]}, \"file\": {\"rules\": [{\"path\": \"$S/other/\", \"deny\": [\"read\"]}]}}" >$D/..v2/cm.json
ln -s ..data/cm.json $D/cm.json
ln -s ..v1 $D/..data_tmp
$WT do rename $D/..data_tmp $D/..data >/dev/null
wait_policy_events $N0
expect_match "daemon: a ..data swap loads the ConfigMap's files" '"action":"loaded","file":"cm.json"' "$(grep '"event":"policy"' $EV | tail -1)"
expect "daemon: ... and they hold" EACCES "$($WT as 4400 4400 $WT open $S/secret/key)"
ln -s ..v2 $D/..data_tmp
$WT do rename $D/..data_tmp $D/..data >/dev/null
wait_policy_events $((N0 + 1))
expect_match "daemon: the next ..data swap reloads them" '"action":"reloaded","file":"cm.json"' "$(grep '"event":"policy"' $EV | tail -1)"
expect "daemon: ... with the new version in force" ok "$($WT as 4400 4400 $WT open $S/secret/key)"
expect "daemon: ... new version denies" EACCES "$($WT as 4400 4400 $WT open $S/other/x)"
# The policy directory is warden's: no agent may make, change or remove a
# policy in it, even where the file system would let it (mode 777 here).
chmod 777 $D
expect "daemon: an agent may not create a policy, nor remove one; a process that is no agent may" \
	"EPERM|EPERM|ok" \
	"$($WT as 4400 4400 $WT do create $D/evil.json)|$($WT as 4400 4400 $WT do unlink $D/cm.json)|$($WT as 4401 4401 $WT do create $D/fine.txt)"
expect_match "daemon: the refusal is a warden_file protection" '"event":"tamper","action":"warden_file","decision":"deny","rule":"protection"' \
	"$(grep '"action":"warden_file"' $EV | head -1)"
rm -f $D/fine.txt
chmod 755 $D
rm -rf $D/cm.json $D/..data $D/..v1 $D/..v2

kill -HUP $DP
wait_match $S/d1.log 'SIGHUP: reloading'
expect_match "daemon: SIGHUP reloads the directory" 'SIGHUP: reloading' "$(cat $S/d1.log)"
expect "daemon: ... and the daemon goes on" 0 "$(status $W status)"

# Binding by uid and by cgroup; the control socket is root's.
echo "{\"version\": 1, \"name\": \"uid-agent\", \"match\": {\"uids\": [4321]}, \"file\": {\"rules\": [{\"path\": \"$S/secret/\", \"deny\": [\"read\"]}]}}" | put uid.json
mkdir -p /sys/fs/cgroup/wtest-daemon
echo "{\"version\": 1, \"name\": \"cg-agent\", \"match\": {\"cgroups\": [\"wtest-daemon\"]}, \"file\": {\"rules\": [{\"path\": \"$S/secret/\", \"deny\": [\"read\"]}]}}" | put cg.json
# Each is in force once its event is written.
wait_match $EV '"action":"loaded","file":"uid.json"'
wait_match $EV '"action":"loaded","file":"cg.json"'
expect "daemon: uid match: uid 4321 is bound at exec" EACCES "$($WT as 4321 4321 $WT open $S/secret/key)"
expect "daemon: uid match: uid 4322 is not" ok "$($WT as 4322 4322 $WT open $S/secret/key)"
expect "daemon: cgroup match: a process of the cgroup is bound at exec" EACCES \
	"$(sh -c "echo \$\$ >/sys/fs/cgroup/wtest-daemon/cgroup.procs && exec $WT open $S/secret/key")"
expect "daemon: the control socket refuses non-root" 1 "$(status $WT as 4322 4322 $W status)"
rm $D/uid.json
wait_match $EV '"action":"removed","file":"uid.json"'
expect "daemon: a removed policy binds no new process" ok "$($WT as 4321 4321 $WT open $S/secret/key)"
expect_match "daemon: removal is an event" '"action":"removed","file":"uid.json"' "$(grep '"event":"policy"' $EV | tail -3)"

# Metrics on loopback.
M=$(wget -q -O - http://127.0.0.1:9464/metrics 2>&1)
expect_match "daemon: metrics count denials by agent" 'warden_events_total\{agent="daemon-agent",instance="[0-9a-f]+",type="file",decision="deny"\} [1-9]' "$M"
expect_match "daemon: metrics count reloads" 'warden_reloads_total [1-9][0-9][0-9]' "$M"
expect_match "daemon: metrics count failures" 'warden_reload_failures_total [1-9]' "$M"
expect_match "daemon: metrics show map usage" 'warden_map_entries\{map="nodes"\} [1-9]' "$M"
INST=$(st | grep -o '"agent":"daemon-agent","identity":"[^"]*","instance":"[0-9a-f]*"' | grep -o '"instance":"[0-9a-f]*"')

# Network rules: a process bound at exec is moved into the agent's network
# cgroup (until then it has no IP at all), where the rules judge it.
WN=/warden/build/tests/wnet
$WN serve tcp 127.0.0.1 17100 >$S/sv1.out 2>&1 &
SV1=$!
$WN serve tcp 127.0.0.1 17101 >$S/sv2.out 2>&1 &
SV2=$!
wait_match $S/sv1.out ready
wait_match $S/sv2.out ready
# The daemon moves a bound process into the agent's cgroup once it has
# drained its bind event: the agent waits for that (it once slept 1 s).
cat >$S/bin/netagent <<EOF
#!/bin/sh
i=0
while ! grep -q '^0::/warden/net-agent\.' /proc/\$\$/cgroup && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
echo "allowed=\$($WN connect tcp 127.0.0.1 17100 2>&1 | tail -1)"
echo "denied=\$($WN connect tcp 127.0.0.1 17101 2>&1 | tail -1)"
echo "cgroup=\$(cat /proc/self/cgroup)"
EOF
chmod 755 $S/bin/netagent
N0=$(policy_events)
echo "{\"version\": 1, \"name\": \"net-agent\", \"match\": {\"exe\": [\"$S/bin/netagent\"]}, \"network\": {\"default\": \"deny\", \"rules\": [{\"cidr\": \"127.0.0.1/32\", \"ports\": [\"17100\"], \"protocol\": \"tcp\", \"allow\": [\"connect\"]}]}}" | put net.json
wait_policy_events $N0
expect_match "daemon network: the policy is loaded" '"action":"loaded","file":"net.json"' "$(grep '"event":"policy"' $EV | tail -1)"
NO=$($S/bin/netagent 2>&1)
expect "daemon network: a rule allows" "allowed=ok" "$(echo "$NO" | grep allowed)"
expect_match "daemon network: the default denies" '^denied=(EACCES|EPERM)$' "$(echo "$NO" | grep denied)"
expect_match "daemon network: the bound process was moved into the agent's cgroup" 'cgroup=0::/warden/net-agent\.[0-9a-f]{12}$' "$(echo "$NO" | grep cgroup)"
wait_until 60 matches '"agent":"net-agent".*"event":"network".*"port":17101.*"decision":"deny"' ev_last '"port":17101'
expect_match "daemon network: the denial is an event of the agent" '"agent":"net-agent".*"event":"network".*"port":17101.*"decision":"deny"' "$(grep '"port":17101' $EV | tail -1)"
expect "daemon network: an unbound process connects anywhere" ok "$($WN connect tcp 127.0.0.1 17101 2>&1 | tail -1)"
echo '{"version": 1, "name": "h", "match": {"exe": ["/bin/nothing"]}, "network": {"rules": [{"host": "example.org", "allow": ["connect"]}]}}' | put host.json
wait_policy_events $((N0 + 1))
expect_match "daemon network: host rules are refused (no resolver in the daemon yet)" '"file":"host.json","error":".*host rules' "$(grep '"event":"policy"' $EV | tail -1)"
NCG=$(echo "$NO" | grep cgroup= | sed 's/cgroup=0:://')
rm -f $D/host.json $D/net.json
# (The daemon removes it once it is empty: at the removal, or at a tick.)
cgroup_gone() { [ -z "$(ls -d "$1" 2>/dev/null)" ]; }
[ -z "$NCG" ] || wait_until 60 cgroup_gone /sys/fs/cgroup$NCG
expect "daemon network: a removed network policy's empty cgroup goes" "" "$(ls -d /sys/fs/cgroup$NCG 2>/dev/null)"
kill $SV1 $SV2 2>/dev/null

# warden attach hands the attach to the daemon, which keeps it until warden detach.
PA=$S/attach.json
policy $PA "{\"path\": \"$S/secret/\", \"deny\": [\"read\"]}"
: >$S/tree.log
$S/bin/tree >$S/tree.log 2>/dev/null &
TP=$!
wait_lines $S/tree.log 4
expect_match "attach via daemon: before, the tree reads the secret" 'S ok' "$(tail -4 $S/tree.log)"
$W attach --policy $PA --pid $TP 2>$S/att.log
expect "attach via daemon: warden attach exits 0 once the daemon has it" 0 "$?"
ATI=$(grep -o 'instance [0-9a-f]* stays confined' $S/att.log | cut -d' ' -f2)
expect_match "attach via daemon: it says so, with the instance" '^[0-9a-f]{12}$' "$ATI"
# The line of a read already under way as warden attach exited may follow:
# it is left out. Then lines of the tree's, and a while (kept fixed: the
# secret must stay denied for a while, not only for these lines).
T0=$(($(lines $S/tree.log) + 1))
wait_lines $S/tree.log $((T0 + 4))
sleep 2
expect "attach via daemon: the tree is confined after warden attach exited" "S no all" "$(only 'S no' "$(since $S/tree.log $T0 | grep '^S')")"
expect_match "attach via daemon: status lists the attach" "\"instance\":\"$ATI\"" "$(st)"
wait_until 60 matches "\"instance\":\"$ATI\".*\"decision\":\"deny\"" ev_last "\"instance\":\"$ATI\""
expect_match "attach via daemon: the daemon reports its events" "\"instance\":\"$ATI\".*\"decision\":\"deny\"" "$(grep "\"instance\":\"$ATI\"" $EV | tail -1)"
mkdir -p /sys/fs/cgroup/wtest-att
$W attach --policy $PA --cgroup wtest-att 2>$S/att2.log
CGI=$(grep -o 'instance [0-9a-f]* stays confined' $S/att2.log | cut -d' ' -f2)
expect_match "attach via daemon: a cgroup attach is handed over too" '^[0-9a-f]{12}$' "$CGI"
expect "attach via daemon: a process moved into the cgroup later is confined" EACCES \
	"$(sh -c "echo \$\$ >/sys/fs/cgroup/wtest-att/cgroup.procs && exec $WT open $S/secret/key")"

# kill -9 under load: enforcement holds, the next daemon adopts and reports losses.
L0=$(lines $S/loop.log)
DENIES0=$(grep -c "$S/secret/key" $EV)
kill -9 $DP
wait $DP 2>/dev/null
# With no daemon to drain it, the 16 KiB ring must overflow for the lost
# event below: 300 lines are 150 denials of about 140 bytes each (natively,
# within the 3 s slept here; not always under TCG). The fixed sleep stays:
# the secret must stay denied for a while, not only for these lines.
wait_lines $S/loop.log $((L0 + 300)) 120
sleep 3
L1=$(lines $S/loop.log)
expect "daemon: killed: no read of the secret succeeded" 0 "$(since $S/loop.log $L0 | grep -c 'S ok')"
expect_match "daemon: killed: the agent kept running" '^[1-9][0-9]+$' "$((L1 - L0))"
if daemon_start $S/d2.log; then ok "daemon: a new daemon starts"; else fail "daemon: restart: $(cat $S/d2.log)"; fi
expect_match "daemon: it adopts the pinned state" 'adopted the pinned state' "$(cat $S/d2.log)"
denies_resumed() { [ "$(grep -c "$S/secret/key" $EV)" -gt "$DENIES0" ]; }
wait_until 60 matches '"count":[1-9][0-9]*,"reason":"ringbuf_full"' ev_last '"event":"lost"'
wait_until 60 denies_resumed
LOST=$(grep '"event":"lost"' $EV | tail -1)
expect_match "daemon: what could not be kept is counted in a lost event" '"count":[1-9][0-9]*,"reason":"ringbuf_full"' "$LOST"
expect_match "daemon: events resume" '^[1-9]' "$(($(grep -c "$S/secret/key" $EV) - DENIES0))"
expect_match "daemon: the agent keeps its instance across daemons" "$INST" "$(st)"
expect_match "daemon: status says adopted" '"adopted":true' "$(st)"
# (Lines first, then a fixed while: the secret must stay denied.)
L0=$(lines $S/loop.log)
wait_lines $S/loop.log $((L0 + 20))
sleep 1
expect "daemon: after adoption, the secret stays denied" 0 "$(since $S/loop.log $L0 | grep -c 'S ok')"

T0=$(lines $S/tree.log)
wait_lines $S/tree.log $((T0 + 4))
sleep 1
expect "attach via daemon: the new daemon kept the attach" "S no all" "$(only 'S no' "$(since $S/tree.log $T0 | grep '^S')")"
expect_match "attach via daemon: ... and lists it" "\"instance\":\"$ATI\"" "$(st)"
expect "attach via daemon: warden detach exits 0" 0 "$(status $W detach $ATI)"
T0=$(lines $S/tree.log)
wait_until 60 matches 'S ok' since $S/tree.log $T0
expect_match "attach via daemon: after detach, the tree reads again" 'S ok' "$(since $S/tree.log $T0)"
expect "attach via daemon: the tree is back in its cgroup" "$(cat /proc/$$/cgroup)" "$(cat /proc/$TP/cgroup)"
wait_until 60 matches "\"instance\":\"$ATI\".*\"action\":\"detached\"" ev_last '"action":"detached"'
expect_match "attach via daemon: detach is an event" "\"instance\":\"$ATI\".*\"action\":\"detached\"" "$(grep '"action":"detached"' $EV | tail -1)"
expect "attach via daemon: detaching an unknown instance fails" 1 "$(status $W detach 000000000000)"
expect "attach via daemon: cgroup detach" 0 "$(status $W detach $CGI)"
expect "attach via daemon: after it, the cgroup's new processes are free" ok \
	"$(sh -c "echo \$\$ >/sys/fs/cgroup/wtest-att/cgroup.procs && exec $WT open $S/secret/key")"
kill $TP 2>/dev/null
wait $TP 2>/dev/null

# SIGTERM stops the daemon, not the enforcement; --reset ends it.
kill -TERM $DP
wait $DP
expect "daemon: SIGTERM exits 0" 0 "$?"
L0=$(lines $S/loop.log)
wait_lines $S/loop.log $((L0 + 20))
sleep 1
expect "daemon: stopped: the secret stays denied" 0 "$(since $S/loop.log $L0 | grep -c 'S ok')"
$W daemon --reset 2>/dev/null
no_warden_cgroups() { [ -z "$(find /sys/fs/cgroup/warden -mindepth 1 -type d 2>/dev/null)" ]; }
wait_until 60 matches 'S ok' tail -10 $S/loop.log
wait_until 60 no_warden_cgroups
expect_match "daemon: --reset ends the confinement" 'S ok' "$(tail -10 $S/loop.log)"
expect "daemon: nothing of the daemon is left in the warden cgroup" "" "$(find /sys/fs/cgroup/warden -mindepth 1 -type d 2>/dev/null)"
kill $AGP 2>/dev/null
wait $AGP 2>/dev/null
rmdir /sys/fs/cgroup/wtest-daemon /sys/fs/cgroup/wtest-att 2>/dev/null

# WARDEN_VERDICT_CACHE=off: the same decisions, and no verdict kept, of a
# file or of a directory.
v2 | put agent.json
export WARDEN_VERDICT_CACHE=off
if daemon_start $S/d3.log; then ok "daemon: starts with the verdict caches off"; else fail "daemon: caches off: $(cat $S/d3.log)"; fi
unset WARDEN_VERDICT_CACHE
expect "daemon: says the caches are off" 1 "$(grep -c 'WARDEN_VERDICT_CACHE=off: the open verdict caches are not used' $S/d3.log)"
: >$S/loop3.log
$S/bin/agent >$S/loop3.log 2>/dev/null &
AGP=$!
$S/bin/agent many
wait_lines $S/loop3.log 20
kill $AGP 2>/dev/null
wait $AGP 2>/dev/null
expect "daemon, caches off: the secret is denied" "S no all" "$(only 'S no' "$(grep '^S' $S/loop3.log)")"
expect "daemon, caches off: the other file is read" "O ok all" "$(only 'O ok' "$(grep '^O' $S/loop3.log)")"
ST=$(st)
expect_match "daemon, caches off: no verdict kept" '"vcache_filled":0,"dircache_served":0' "$ST"
kill -TERM $DP
wait $DP
$W daemon --reset 2>/dev/null
