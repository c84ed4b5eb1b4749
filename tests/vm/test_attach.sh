# warden attach (issue 5): confining process trees and cgroups that already run.
# Every target records its own attempts to read the denied file; the checks
# look only at attempts made after warden said the attach was complete (plus
# a margin for attempts already under way), and at the events.
WN=/warden/build/tests/wnet
scratch
mkdir -p $S/secret
echo key >$S/secret/key
chmod -R a+rX $S
P=$S/policy.json
policy $P "{\"path\": \"$S/secret/\", \"deny\": [\"read\"]}"

# attach_start LOG ARGS...: warden attach in the background, until it says it holds
attach_start() {
	_log=$1
	shift
	$W attach "$@" 2>$_log &
	AP=$!
	_i=0
	while [ $_i -lt 900 ]; do
		grep -qs 'is confined' $_log && return 0
		kill -0 $AP 2>/dev/null || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# attach_stop: SIGTERM warden attach, wait for it; its exit status in AST
attach_stop() {
	kill -TERM $AP
	wait $AP
	AST=$?
}
killtree() { for p in "$@"; do pkill -P $p 2>/dev/null; kill $p 2>/dev/null; done; }
# fresh FILE: until FILE has 2 more lines. For a target that writes one
# line per round and starts a round when the last one is over: the round
# of the first of them may have begun before now; the second's began after
# it, and every line after the second is of a round begun after now. (Used
# to leave out what was under way as an attach or detach completed.)
fresh() { _fr=$(lines $1); wait_lines $1 $((_fr + 2)); }
# thread_lines FILE FROM N K [RESULT]: each of threads T0 .. T(N-1) (wtest
# threads-loop) printed K lines (with RESULT) after line FROM of FILE
thread_lines() {
	_th=0
	while [ $_th -lt $3 ]; do
		[ "$(since $1 $2 | grep -c "^T$_th $5")" -ge $4 ] || return 1
		_th=$((_th + 1))
	done
}
# fresh_threads FILE N: as fresh, for N threads: each printed 2 more lines
fresh_threads() { _fr=$(lines $1); wait_until 60 thread_lines $1 $_fr $2 2; }

# --- a tree that forks in a tight loop, with double forks, and reads itself
cat >$S/loop.sh <<EOF
while :; do
	$WT open $S/secret/key >>$S/forks.log 2>&1 &
	$WT double-fork-open $S/secret/key >>$S/dfork.log 2>&1 &
	if read x <$S/secret/key; then echo ok; else echo denied; fi >>$S/self.log 2>/dev/null
	wait
done
EOF
sh $S/loop.sh &
LOOP=$!
wait_lines $S/self.log 3
wait_lines $S/forks.log 1
home=$(cat /proc/$LOOP/cgroup)
expect "before attach the tree reads the file" ok "$(tail -1 $S/forks.log)"
if attach_start $S/a1.log --policy $P --pid $LOOP --events $S/ev1.jsonl; then
	ok "attach --pid completes on a tree that forks in a tight loop"
else
	fail "attach --pid: $(cat $S/a1.log)"
fi
# Attempts under way at the end of the attach are over 2 rounds later
# (self.log has one line a round; a round waits for its children).
fresh $S/self.log
f=$(lines $S/forks.log)
d=$(lines $S/dfork.log)
s=$(lines $S/self.log)
expect "an outside process still reads the file" key "$(cat $S/secret/key)"
# Rounds, then a while (kept fixed: nothing may get through for a while).
wait_lines $S/forks.log $((f + 3))
wait_lines $S/dfork.log $((d + 3))
wait_lines $S/self.log $((s + 3))
sleep 4
expect "every new child of the tree is denied" "EACCES all" "$(only EACCES "$(since $S/forks.log $f)")"
expect "every orphaned grandchild (double fork) is denied" "EACCES all" "$(only EACCES "$(since $S/dfork.log $d)")"
expect "the old process itself is denied" "denied all" "$(only denied "$(since $S/self.log $s)")"
expect_match "the tree was moved into an instance cgroup" "^0::/warden/test-agent\.[0-9a-f]{12}$" "$(cat /proc/$LOOP/cgroup)"
# (warden attach writes the events as it drains them.)
wait_match $S/ev1.jsonl '"comm":"wtest"'
wait_match $S/ev1.jsonl '"comm":"sh"'
expect_match "denials are events of the agent" "\"agent\":\"test-agent\".*\"instance\":\"[0-9a-f]{12}\".*\"comm\":\"wtest\".*\"event\":\"file\",\"action\":\"read\",\"path\":\"$S/secret/key\",\"decision\":\"deny\"" \
	"$(grep '"comm":"wtest"' $S/ev1.jsonl | head -1)"
expect_match "the old shell's own denial is an event" "\"comm\":\"sh\".*\"path\":\"$S/secret/key\",\"decision\":\"deny\"" \
	"$(grep '"comm":"sh"' $S/ev1.jsonl | head -1)"
# detach
attach_stop
expect "SIGTERM detaches with status 0" 0 "$AST"
fresh $S/self.log
f=$(lines $S/forks.log)
s=$(lines $S/self.log)
wait_lines $S/forks.log $((f + 1))
wait_lines $S/self.log $((s + 1))
expect_match "after the detach the tree reads the file again" "ok" "$(since $S/forks.log $f | tail -1)"
expect_match "and so does the old process" "ok" "$(since $S/self.log $s | tail -1)"
expect "after the detach the tree is back in its cgroup" "$home" "$(cat /proc/$LOOP/cgroup)"
expect "the instance cgroup is removed" "" "$(find /sys/fs/cgroup/warden -mindepth 1 -type d -name 'test-agent.*' 2>/dev/null)"
killtree $LOOP
wait $LOOP 2>/dev/null

# --- a multi-threaded process: threads that existed before the attach
$WT threads-loop $S/secret/key 3 >>$S/thr.log &
TP=$!
wait_until 60 thread_lines $S/thr.log 0 3 1	# its threads exist before the attach
attach_start $S/a2.log --policy $P --pid $TP || fail "attach to a threaded process: $(cat $S/a2.log)"
fresh_threads $S/thr.log 3
t=$(lines $S/thr.log)
wait_until 60 thread_lines $S/thr.log $t 3 2
sleep 2	# kept fixed: no thread may get through for a while
got=$(since $S/thr.log $t)
expect "every thread of a running process is denied" "EACCES all" "$(only EACCES "$(echo "$got" | cut -d' ' -f2)")"
expect "all three threads tried" "T0 T1 T2" "$(echo "$got" | cut -d' ' -f1 | sort -u | tr '\n' ' ' | sed 's/ $//')"
kill $TP
wait $TP 2>/dev/null
i=0
while kill -0 $AP 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
wait $AP
expect "attach ends by itself, status 0, when the tree has exited" 0 "$?"
expect_match "and says why" "every process of the tree has exited" "$(cat $S/a2.log)"

# --- a cgroup: processes in it now, forked into it, and moved into it later
CG=/sys/fs/cgroup/wt-attach
mkdir -p $CG
cat >$S/cgloop.sh <<EOF
while :; do $WT open $S/secret/key >>\$1 2>&1; sleep 0.2; done
EOF
sh -c "echo \$\$ >$CG/cgroup.procs; exec sh $S/cgloop.sh $S/cg1.log" &
C1=$!
sh $S/cgloop.sh $S/cg2.log &
C2=$!
$WT threads-loop $S/secret/key 2 >>$S/cg3.log &
C3=$!
# All run before the attach (C1 in the cgroup: it joins before its first line).
wait_lines $S/cg1.log 1
wait_lines $S/cg2.log 1
wait_until 60 thread_lines $S/cg3.log 0 2 1
attach_start $S/a3.log --policy $P --cgroup $CG --events $S/ev3.jsonl ||
	fail "attach --cgroup: $(cat $S/a3.log)"
fresh $S/cg1.log
n1=$(lines $S/cg1.log)
wait_lines $S/cg1.log $((n1 + 3))
sleep 2	# kept fixed: nothing may get through for a while
expect "cgroup: its running process is denied" "EACCES all" "$(only EACCES "$(since $S/cg1.log $n1)")"
n2=$(lines $S/cg2.log)
wait_lines $S/cg2.log $((n2 + 3))
sleep 1	# kept fixed: it must stay unaffected for a while
expect_match "cgroup: a process outside it is not affected" "^ok" "$(since $S/cg2.log $n2 | sort -u | tr '\n' ' ')"
m3=$(lines $S/cg3.log)
echo $C2 >$CG/cgroup.procs
echo $C3 >$CG/cgroup.procs
# C2 is marked as it moves (a try under way then is over 2 lines later);
# C3's other threads at warden attach's next sweep of the cgroup: each
# thread's first denial tells it was reached.
fresh $S/cg2.log
wait_until 60 thread_lines $S/cg3.log $m3 2 1 EACCES
n2=$(lines $S/cg2.log)
n3=$(lines $S/cg3.log)
wait_lines $S/cg2.log $((n2 + 3))
wait_until 60 thread_lines $S/cg3.log $n3 2 2
sleep 2	# kept fixed: nothing may get through for a while
expect "cgroup: a process moved in later is denied" "EACCES all" "$(only EACCES "$(since $S/cg2.log $n2)")"
expect "cgroup: every thread of a threaded process moved in later is denied" "EACCES all" \
	"$(only EACCES "$(since $S/cg3.log $n3 | cut -d' ' -f2)")"
expect "cgroup: a process started in it later is denied" EACCES \
	"$(sh -c "echo \$\$ >$CG/cgroup.procs; exec $WT open $S/secret/key" 2>&1)"
wait_until 60 matches "\"path\":\"$S/secret/key\",\"decision\":\"deny\"" tail -1 $S/ev3.jsonl
expect_match "cgroup: denials are events" "\"path\":\"$S/secret/key\",\"decision\":\"deny\"" "$(tail -1 $S/ev3.jsonl)"
attach_stop
expect "cgroup: SIGTERM detaches with status 0" 0 "$AST"
fresh $S/cg1.log
n1=$(lines $S/cg1.log)
wait_lines $S/cg1.log $((n1 + 1))
expect_match "cgroup: after the detach its processes read the file again" "ok" "$(since $S/cg1.log $n1 | tail -1)"
killtree $C1 $C2 $C3
wait $C1 $C2 $C3 2>/dev/null
cg_empty() { grep -qs '^populated 0' $1/cgroup.events; }
wait_until 30 cg_empty $CG	# their last children, killed, are gone
rmdir $CG

# --- network rules are applied by attach
policy $S/net.json "" ', "network": {"default": "deny", "rules": [{"cidr": "127.0.0.1/32", "ports": ["7172"], "allow": ["connect"]}]}'
$WN serve tcp 127.0.0.1 7171 >$S/serve1.out 2>&1 &
N1=$!
$WN serve tcp 127.0.0.1 7172 >$S/serve2.out 2>&1 &
N2=$!
wait_match $S/serve1.out ready
wait_match $S/serve2.out ready
cat >$S/netloop.sh <<EOF
while :; do
	echo "\$($WN connect tcp 127.0.0.1 7171 2>&1 | tail -1) \$($WN connect tcp 127.0.0.1 7172 2>&1 | tail -1)" >>$S/net.log
	sleep 0.2
done
EOF
sh $S/netloop.sh &
NL=$!
wait_lines $S/net.log 1
expect "network: before attach both ports connect" "ok ok" "$(tail -1 $S/net.log)"
attach_start $S/a4.log --policy $S/net.json --pid $NL --events $S/ev4.jsonl ||
	fail "attach with network rules: $(cat $S/a4.log)"
fresh $S/net.log
n=$(lines $S/net.log)
wait_lines $S/net.log $((n + 3))
sleep 2	# kept fixed: the denied port must stay refused for a while
expect "network: after attach the denied port is refused, the allowed one connects" "EPERM ok all" \
	"$(only "EPERM ok" "$(since $S/net.log $n)")"
wait_match $S/ev4.jsonl '"port":7171'
expect_match "network: the refusal is an event" '"event":"network","action":"connect","protocol":"tcp","address":"127.0.0.1","port":7171,"decision":"deny"' \
	"$(grep '"port":7171' $S/ev4.jsonl | head -1)"
attach_stop
expect "network: SIGTERM detaches with status 0" 0 "$AST"
fresh $S/net.log
n=$(lines $S/net.log)
wait_lines $S/net.log $((n + 1))
expect "network: after the detach both connect again" "ok ok" "$(since $S/net.log $n | tail -1)"
killtree $NL $N1 $N2
wait $NL $N1 $N2 2>/dev/null

# --- errors: precise, and nothing stays attached
expect "usage: no target is 2" 2 "$(status $W attach --policy $P)"
expect "usage: both targets is 2" 2 "$(status $W attach --policy $P --pid 1 --cgroup /sys/fs/cgroup)"
expect "usage: no policy is 2" 2 "$(status $W attach --pid 1)"
expect "a missing process is 1" 1 "$(status $W attach --policy $P --pid 999999)"
expect "and says so" "warden: attach: --pid 999999: no such process" "$($W attach --policy $P --pid 999999 2>&1 | head -1)"
expect "--pid 1 is refused" 1 "$(status $W attach --policy $P --pid 1)"
expect "the root cgroup is refused" 1 "$(status $W attach --policy $P --cgroup /sys/fs/cgroup)"
expect_match "a path that is no cgroup is refused precisely" "attach: [-]-cgroup /tmp: not a cgroup v2 directory" \
	"$($W attach --policy $P --cgroup /tmp 2>&1)"
sleep 1 &
SP=$!
echo '{"version": 1, "name": "bad", "file": {"rules": [{"path": "relative", "deny": ["read"]}]}}' >$S/bad.json
expect "a bad policy is 1, nothing attached" 1 "$(status $W attach --policy $S/bad.json --pid $SP)"
wait $SP
$W run --policy $P -- sh -c "echo \$\$ >$S/runpid; exec sleep 60" 2>/dev/null &
RP=$!
wait_until 60 [ -s $S/runpid ]
expect_match "an agent of warden run is refused (its network rules hang on run's cgroup)" \
	"process [0-9]+ is already an agent of warden run" "$($W attach --policy $P --pid $(cat $S/runpid) 2>&1)"
kill $RP
wait $RP 2>/dev/null
