#!/usr/bin/env bash
# Event sinks against real receivers, on the host (pure userspace): rsyslog
# (started here with its own config on loopback UDP, TCP and a unix socket),
# a loopback HTTP collector that goes down and comes back, OTLP, OCSF, and
# file rotation. build/tests/sinkfeed drives user/sink.c from stdin.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
SF=$PWD/build/tests/sinkfeed
COL=$PWD/build/tests/collector
JF=$PWD/build/tests/jfield
S=$(mktemp -d /tmp/wsinks.XXXXXX)
PORT=$((20000 + $$ % 20000))
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	exec 3>&- 2>/dev/null
	rm -rf "$S"
}
trap cleanup EXIT
trap '' PIPE	# a sink that dies must fail checks, not kill this script

T='"time":"2026-11-26T20:11:03.123456789Z","agent":"a","identity":null,"instance":"i1"'
P='"pid":4242,"tid":4242,"ppid":1,"uid":1000,"gid":1000,"comm":"cat","exe":"/usr/bin/cat"'
DENY="{$T,$P,\"event\":\"file\",\"action\":\"read\",\"path\":\"/home/u/.ssh/id ed25519\",\"decision\":\"deny\",\"rule\":\"file.rules[2]\"}"
ALLOW="{$T,$P,\"event\":\"exec\",\"action\":\"exec\",\"path\":\"/usr/bin/git\",\"decision\":\"allow\",\"rule\":\"file.rules[0]\"}"
LOST="{$T,\"event\":\"lost\",\"count\":3,\"reason\":\"ringbuf_full\"}"
NET="{$T,$P,\"event\":\"network\",\"action\":\"connect\",\"protocol\":\"tcp\",\"address\":\"192.0.2.1\",\"port\":443,\"decision\":\"deny\",\"rule\":\"network.default\"}"
printf '%s\n' "$DENY" "$ALLOW" "$LOST" >"$S/three"
# numbered lines: order and completeness are checked with cmp
numbered() { for i in $(seq "$1" "$2"); do echo "{$T,\"event\":\"file\",\"action\":\"read\",\"decision\":\"deny\",\"n\":$i}"; done; }

# wait_lines FILE N: until FILE has at least N lines (10 s)
wait_lines() {
	for _ in $(seq 100); do
		[ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (5 s)
wait_port() {
	for _ in $(seq 50); do
		(exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- syslog: rsyslog on loopback -----------------------------------------
start_rsyslog() {
	mkdir -p "$S/rs"
	cat >"$S/rs/rsyslog.conf" <<EOF
global(workDirectory="$S/rs" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp" maxSessions="20")
module(load="imuxsock" SysSock.Use="off")
input(type="imudp" address="127.0.0.1" port="$PORT" ruleset="t")
input(type="imtcp" address="127.0.0.1" port="$PORT" ruleset="t")
input(type="imuxsock" Socket="$S/rs/log" UseSpecialParser="off" ParseHostname="on" IgnoreTimestamp="off" ruleset="t")
template(name="t" type="string" string="%inputname%|%syslogseverity-text%|%syslogfacility-text%|%app-name%|%procid%|%msgid%|%hostname%|%timereported:::date-rfc3339%|%msg%\n")
ruleset(name="t") { action(type="omfile" file="$S/rs/out" template="t") }
EOF
	rsyslogd -n -f "$S/rs/rsyslog.conf" -i "$S/rs/pid" >"$S/rs/log.txt" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$PORT" && for _ in $(seq 50); do [ -S "$S/rs/log" ] && return 0; sleep 0.1; done
	return 1
}

# check_syslog INPUT: the three messages arrived through INPUT, fields right
check_syslog() {
	local in=$1 got host
	host=$(hostname)
	got=$(grep "^$in|" "$S/rs/out" | cut -d'|' -f2-4,6-8)
	expect "syslog $in: severity, facility, APP-NAME, MSGID, HOSTNAME, TIMESTAMP" \
		"warning|auth|warden|file|$host|2026-11-26T20:11:03.123456Z
info|auth|warden|exec|$host|2026-11-26T20:11:03.123456Z
warning|auth|warden|lost|$host|2026-11-26T20:11:03.123456Z" "$got"
	expect "syslog $in: MSG is the JSON line, unchanged" "$(cat "$S/three")" \
		"$(grep "^$in|" "$S/rs/out" | cut -d'|' -f9-)"
	expect_match "syslog $in: PROCID is warden's pid" '^[0-9]+$' \
		"$(grep "^$in|" "$S/rs/out" | head -1 | cut -d'|' -f5)"
}

if ! command -v rsyslogd >/dev/null; then
	fail "rsyslogd is not installed (tools/deps installs rsyslog)"
elif ! start_rsyslog; then
	fail "rsyslogd did not start: $(cat "$S/rs/log.txt")"
else
	expect "syslog:udp delivers" 0 "$(status $SF syslog:udp:127.0.0.1:$PORT <"$S/three")"
	expect "syslog:tcp delivers" 0 "$(status $SF syslog:tcp:127.0.0.1:$PORT <"$S/three")"
	expect "syslog:unix delivers" 0 "$(status $SF syslog:unix:$S/rs/log <"$S/three")"
	wait_lines "$S/rs/out" 9
	check_syslog imudp
	check_syslog imtcp
	check_syslog imuxsock
	# octet counting: a 20 kB message and its neighbours stay whole on TCP
	big=$(printf '%s' "{$T,\"event\":\"file\",\"action\":\"read\",\"decision\":\"deny\",\"path\":\"/$(head -c 20000 /dev/zero | tr '\0' x)\"}")
	printf '%s\n' "$ALLOW" "$big" "$ALLOW" | $SF syslog:tcp:127.0.0.1:$PORT,facility=local3
	wait_lines "$S/rs/out" 12
	expect "syslog:tcp octet counting keeps a 20 kB message whole" "$big" \
		"$(grep '|local3|' "$S/rs/out" | sed -n 2p | cut -d'|' -f9-)"
	expect "syslog facility= is honoured" 3 "$(grep -c '^imtcp|[a-z]*|local3|warden|' "$S/rs/out")"
fi
expect_match "syslog: a receiver that is not there is an error at open" \
	"^sinkfeed: --sink syslog:tcp:127.0.0.1:1: cannot connect: Connection refused" \
	"$($SF syslog:tcp:127.0.0.1:1 </dev/null 2>&1)"
expect "syslog: bad port is precise" \
	'sinkfeed: --sink syslog:udp:127.0.0.1:x: bad port "x" (1 to 65535)' \
	"$($SF syslog:udp:127.0.0.1:x </dev/null 2>&1)"

# ---- http: a collector that goes down and comes back ----------------------
HP=$((PORT + 1))
start_collector() {
	$COL "$HP" "$S/col.out" "$@" 2>>"$S/col.log" 3>&- &
	CPID=$!
	PIDS="$PIDS $CPID"
	wait_port "$HP"
}
stop_collector() {
	kill "$CPID"
	wait "$CPID" 2>/dev/null
}

numbered 1 200 >"$S/in200"
start_collector
expect "http: 200 lines delivered" 0 "$(status $SF http://127.0.0.1:$HP/ingest,interval=50 <"$S/in200")"
expect "http: every line arrived, once, in order" same "$(cmp -s "$S/in200" "$S/col.out" && echo same)"

# An outage while events flow: batches A, then B during the outage, then C.
rm -f "$S/col.out"
mkfifo "$S/fifo"
$SF "http://127.0.0.1:$HP/ingest,spool=$S/spool,interval=50" <"$S/fifo" 2>"$S/sf.err" &
SFPID=$!
exec 3>"$S/fifo"
numbered 1 100 >&3
wait_lines "$S/col.out" 100 || fail "http: batch A not delivered before the outage"
stop_collector
numbered 101 250 >&3
sleep 1.5	# retried and backed off meanwhile
expect_match "http: the outage is reported, events kept in the spool" 'cannot deliver events.*kept in the spool' "$(cat "$S/sf.err")"
start_collector
numbered 251 300 >&3
exec 3>&-
wait "$SFPID"
expect "http: sinkfeed delivered everything after the outage" 0 "$?"
numbered 1 300 >"$S/want"
expect "http: outage lost nothing and kept order" same "$(cmp -s "$S/want" "$S/col.out" && echo same)"
expect "http: delivered batches leave the spool" "lock" "$(ls "$S/spool")"

# warden itself restarts during the outage: the spool is sent first next time.
stop_collector
rm -f "$S/col.out"
numbered 1 40 | $SF "http://127.0.0.1:$HP/ingest,spool=$S/spool,interval=50" --flush 300 2>/dev/null
expect "http: undelivered at exit is reported (exit 3)" 3 "$?"
expect_match "http: and left in the spool as batches" '[0-9]{20}\.batch' "$(ls "$S/spool")"
start_collector
numbered 41 60 | $SF "http://127.0.0.1:$HP/ingest,spool=$S/spool,interval=50" 2>/dev/null
expect "http: the next run delivers" 0 "$?"
numbered 1 60 >"$S/want"
expect "http: spool from the earlier run first, then the new lines, all in order" same \
	"$(cmp -s "$S/want" "$S/col.out" && echo same)"

# A full spool drops lines, counts them and says so in a lost event.
stop_collector
rm -f "$S/col.out" "$S/fifo"
mkfifo "$S/fifo"
$SF "http://127.0.0.1:$HP/ingest,max-spool=2k,interval=50" <"$S/fifo" 2>/dev/null &
SFPID=$!
exec 3>"$S/fifo"
numbered 1 50 >&3
sleep 0.3
start_collector
exec 3>&-
wait "$SFPID"
expect "http: a sink that dropped lines exits 1" 1 "$?"
n=$(($(wc -l <"$S/col.out") - 1))
lostline=$(tail -1 "$S/col.out")
expect "http: the lost event counts what the full spool dropped" "lost|sink_full|$((50 - n))|sinkfeed" \
	"$(echo "$lostline" | $JF event reason count agent)"
expect_match "http: the spool held what fit (2 kB, about 24 lines)" '^(1[0-9]|2[0-9])$' "$n"
numbered 1 "$n" >"$S/want"
expect "http: what fit arrived in order" same "$(head -n "$n" "$S/col.out" | cmp -s "$S/want" - && echo same)"
stop_collector

# A collector refusing requests (503) is retried with backoff.
rm -f "$S/col.out"
start_collector --fail 2
expect "http: retried after 503s" 0 "$(status $SF http://127.0.0.1:$HP/x,interval=50 <"$S/three")"
expect "http: then delivered" same "$(cmp -s "$S/three" "$S/col.out" && echo same)"
stop_collector

expect "http: bad URL is precise" \
	'sinkfeed: --sink http:ftp://x: bad URL "ftp://x" (http://HOST[:PORT]/PATH or https://...)' \
	"$($SF http:ftp://x </dev/null 2>&1)"
expect "http: unknown option is precise" \
	'sinkfeed: --sink http://h/,spol=/x: unknown option "spol=/x" (known: spool= max-spool= batch= interval= timeout=)' \
	"$($SF http://h/,spol=/x </dev/null 2>&1)"

# ---- otlp ----------------------------------------------------------------
rm -f "$S/col.out"
start_collector --otlp
printf '%s\n' "$DENY" "$ALLOW" "$NET" >"$S/otin"
expect "otlp: delivered to /v1/logs" 0 "$(status $SF otlp:http://127.0.0.1:$HP,interval=50 <"$S/otin")"
expect "otlp: body is the event, severity WARN for denials, INFO otherwise, time in ns" \
	"file|read|/home/u/.ssh/id ed25519|<none>|<none>|4242|13|1795723863123456789|file
exec|exec|/usr/bin/git|<none>|<none>|4242|9|1795723863123456789|exec
network|connect|<none>|192.0.2.1|443|4242|13|1795723863123456789|network" \
	"$($JF event action path address port pid _severity _time _event <"$S/col.out")"
stop_collector

# ---- ocsf ----------------------------------------------------------------
printf '%s\n' "$DENY" "$ALLOW" "$NET" | $SF --format ocsf "file:$S/ocsf.jsonl"
expect "ocsf: file, exec, network become classes 1001, 1007, 4001" \
	"1001|2|Blocked|3
1007|1|Allowed|1
4001|1|Blocked|3" "$($JF class_uid activity_id disposition severity_id <"$S/ocsf.jsonl")"

# ---- file: rotation, SIGHUP, plain append ----------------------------------
numbered 1 50 >"$S/in50"	# 92 or 93 bytes a line
$SF "file:$S/ev,max-size=1k,keep=3" <"$S/in50"
expect "rotation: keep=3 keeps PATH and PATH.1 .. PATH.3" "ev ev.1 ev.2 ev.3" \
	"$(cd "$S" && echo ev ev.*)"
big=$(for f in "$S"/ev "$S"/ev.*; do [ "$(stat -c %s "$f")" -gt 1024 ] && echo "$f"; done)
expect "rotation: no file is larger than max-size" "" "$big"
expect "rotation: the files hold the newest lines, whole, in order" same \
	"$(cat "$S/ev.3" "$S/ev.2" "$S/ev.1" "$S/ev" | cmp -s - <(tail -n "$(cat "$S"/ev "$S"/ev.* | wc -l)" "$S/in50") && echo same)"

rm -f "$S/fifo"
mkfifo "$S/fifo"
$SF "file:$S/hup.jsonl" <"$S/fifo" &
SFPID=$!
exec 3>"$S/fifo"
numbered 1 5 >&3
wait_lines "$S/hup.jsonl" 5
mv "$S/hup.jsonl" "$S/hup.jsonl.old"	# what logrotate does
kill -HUP "$SFPID"
sleep 0.2
numbered 6 8 >&3
exec 3>&-
wait "$SFPID"
expect "SIGHUP: lines before it stay in the moved file" "$(numbered 1 5)" "$(cat "$S/hup.jsonl.old")"
expect "SIGHUP: lines after it go to a new file by the name" "$(numbered 6 8)" "$(cat "$S/hup.jsonl")"

echo "existing line" >"$S/plain"
numbered 1 3 | $SF "file:$S/plain"
expect "file: without options appends, as --events does" "existing line
$(numbered 1 3)" "$(cat "$S/plain")"
expect "file: keep= without max-size= is refused" 2 "$(status $SF "file:$S/x,keep=2")"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
