# warden run --sink / --format (issue 6, sinks): the kernel's events reach
# the sinks; the sink code itself is tested on the host (tests/sinks/run.sh).
scratch
echo key > $S/key
chmod -R a+rX $S
P=$S/policy.json
policy $P "{\"path\": \"$S/key\", \"deny\": [\"read\"]}"

# --format ocsf to a rotating file sink, and --events FILE as before.
expect "run with --sink file: and --format ocsf confines" EACCES \
	"$($W run --policy $P --format ocsf --events $S/ev.jsonl \
		--sink "file:$S/sink.jsonl,max-size=1M,keep=2" -- $WT open $S/key)"
expect "--sink gets the denial as OCSF File System Activity, Read, Blocked" "1001|2|Blocked" \
	"$(grep '"class_uid":1001' $S/sink.jsonl | $JF class_uid activity_id disposition | head -1)"
expect "and the denied file as file.path" 1 "$(grep -c "\"file\":{\"path\":\"$S/key\"" $S/sink.jsonl)"
expect "--events FILE gets the same events in the same format" "$(cat $S/sink.jsonl)" "$(cat $S/ev.jsonl)"

# With --sink only, nothing goes to stderr; a sink that cannot open stops the run.
out=$($W run --policy $P --sink "file:$S/only.jsonl" -- $WT open $S/key 2>&1)
expect "--sink alone: stderr carries no event" EACCES "$out"
expect "--sink alone: the file has the denial" "file|read|deny" "$($JF event action decision <$S/only.jsonl | head -1)"
out=$($W run --policy $P --sink "syslog:tcp:127.0.0.1:1" -- touch $S/ran 2>&1)
expect "a sink that cannot open: run refuses with 125" 125 "$?"
expect "and never starts the command" no "$([ -e $S/ran ] && echo yes || echo no)"
expect_match "and names the sink" 'syslog:tcp:127.0.0.1:1: cannot connect' "$out"

# SIGHUP (logrotate): warden reopens its files and the agent is not signalled.
$W run --policy $P --sink "file:$S/h.jsonl" -- \
	sh -c "$WT open $S/key; touch $S/first; while [ ! -e $S/go ]; do sleep 0.1; done; $WT open $S/key; exit 7" \
	>/dev/null 2>&1 &
wpid=$!
wait_until 60 [ -e $S/first ]
wait_match $S/h.jsonl '"decision":"deny"'	# the drain writes within its next wakeup
mv $S/h.jsonl $S/h.jsonl.1
kill -HUP $wpid
wait_until 60 [ -e $S/h.jsonl ]	# reopened (made again) by its name
touch $S/go
wait $wpid
expect "SIGHUP: the agent is not signalled (its own status 7, not 129)" 7 "$?"
expect "SIGHUP: the event before it is in the rotated file" "file|deny" "$($JF event decision <$S/h.jsonl.1)"
expect "SIGHUP: the event after it is in a new file by the name" "file|deny" "$($JF event decision <$S/h.jsonl)"
