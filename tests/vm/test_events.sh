# Events: attribution (policy version, cgroup), process lifecycle, rate
# limiting, ring buffer size.
scratch
mkdir -p $S/secret
echo key >$S/secret/key
policy $S/ev.json "{\"path\": \"$S/secret/\", \"deny\": [\"read\"]}"
SHA=$(sha256sum $S/ev.json | cut -d' ' -f1)

# --- lifecycle: start, exec, exit (status and signal), tied to the decisions
cat >$S/tree.sh <<J
$WT open $S/secret/key r
sh -c 'exit 3'
sh -c 'kill -9 \$\$'
exit 0
J
$W run --process-events --policy $S/ev.json --events $S/ev.jsonl -- sh $S/tree.sh >/dev/null 2>&1
rc=$?
expect "process events: run exits with CMD's status" 0 "$rc"
deny=$(grep '"decision":"deny"' $S/ev.jsonl | head -1)
dpid=$(echo "$deny" | $JF pid)
root=$(grep '"action":"exec"' $S/ev.jsonl | head -1 | $JF pid)
expect_match "process events: the denial's process has a start event, child of the agent's shell" \
	"\"pid\":$dpid,\"tid\":$dpid,\"ppid\":$root,.*\"event\":\"process\",\"action\":\"start\"" "$(grep '"action":"start"' $S/ev.jsonl | grep "\"pid\":$dpid,")"
expect_match "process events: and an exec event naming the program" '"exe":"/warden/build/tests/wtest","event":"process","action":"exec"' "$(grep '"action":"exec"' $S/ev.jsonl | grep "\"pid\":$dpid,")"
expect_match "process events: and an exit event with its status (1: denied)" '"event":"process","action":"exit","exit_status":1' "$(grep '"action":"exit"' $S/ev.jsonl | grep "\"pid\":$dpid,")"
expect "process events: exit status 3 reported" 1 "$(grep -c '"action":"exit","exit_status":3' $S/ev.jsonl)"
expect "process events: death by SIGKILL reported as signal 9" 1 "$(grep -c '"action":"exit","signal":9' $S/ev.jsonl)"
expect_match "process events: the agent's first process exits 0" '"action":"exit","exit_status":0' "$(grep '"action":"exit"' $S/ev.jsonl | grep "\"pid\":$root,")"
: >$S/plain.jsonl
$W run --policy $S/ev.json --events $S/plain.jsonl -- sh $S/tree.sh >/dev/null 2>&1
expect "process events: none without --process-events" 0 "$(grep -c '"event":"process"' $S/plain.jsonl)"

# --- attribution: every event carries the policy's version and the cgroup
expect "every event names the policy's sha256" 0 "$(grep -vc "\"policy_sha256\":\"$SHA\"" $S/ev.jsonl)"
inst=$(echo "$deny" | $JF instance)
expect "every event names the instance's cgroup" 0 "$(grep -vc "\"cgroup\":\"/warden/test-agent.$inst\"" $S/ev.jsonl)"

# --- rate limiting: a flood of denials from one process (shell redirections, no fork)
cat >$S/flood.sh <<J
i=0
while [ \$i -lt 300 ]; do read x <$S/secret/key; i=\$((i + 1)); done 2>/dev/null
exit 0
J
$W run --rate-limit 10 --policy $S/ev.json --events $S/flood.jsonl -- sh $S/flood.sh >/dev/null 2>&1
n=$(grep -c '"decision":"deny"' $S/flood.jsonl)
lost=$(grep '"event":"lost"' $S/flood.jsonl | grep '"reason":"rate_limit"' | $JF count | awk '{s += $1} END {print s + 0}')
expect "rate limit: fewer events than denials" yes "$([ "$n" -lt 300 ] && [ "$n" -gt 0 ] && echo yes)"
expect "rate limit: every suppressed event is counted in lost events" 300 "$((n + lost))"
$W run --policy $S/ev.json --events $S/flood2.jsonl -- sh $S/flood.sh >/dev/null 2>&1
expect "without a rate limit every denial is reported" 300 "$(grep -c '"decision":"deny"' $S/flood2.jsonl)"

# --- ring buffer size
expect "--ringbuf-size must be a power of 2" 2 "$(status $W run --ringbuf-size 5000 -- true)"
expect "--ringbuf-size 65536 runs" 0 "$(status $W run --ringbuf-size 65536 --policy $S/ev.json -- true)"
