# Two agents on one CPU, each opening its own file as fast as it can, with
# the verdict caches off so that every open walks its path. Where BPF
# programs are preemptible (PREEMPT_RT; any kernel booted with
# preempt=full), a program runs with only migration disabled: one agent's
# walk can be interrupted on that CPU by the other's, and per-CPU scratch
# space shared by both would hand one the other's answer. Each must get
# exactly its own policy's answer, every time.
scratch
mkdir -p $S/secret/a/b/c/d $S/open/a/b/c/d/e/f/g
echo k >$S/secret/a/b/c/d/key
echo x >$S/open/a/b/c/d/e/f/g/file
policy $S/deny.json "{\"path\": \"$S/secret/\", \"deny\": [\"read\"]}"
policy $S/allow.json "{\"path\": \"$S/open/\", \"allow\": [\"read\"]}"
# doctor says whether programs can be preempted here, and why.
if [ "$(cat /sys/kernel/realtime 2>/dev/null)" = 1 ]; then
	why='PREEMPT_RT'
elif grep -Eq '(^| )preempt=(full|lazy)( |$)' /proc/cmdline; then
	why="$(grep -Eo 'preempt=(full|lazy)' /proc/cmdline)"
else
	why=
fi
doc=$($W doctor 2>&1 | grep '^  preemption')
echo "# $doc"
if [ -n "$why" ]; then
	expect_match "preempt: doctor says programs can be preempted ($why)" \
		"programs can be preempted \\($why\\)" "$doc"
else
	expect_match "preempt: doctor says programs run to their end" 'programs run to their end' "$doc"
fi
# Without Warden both files open (what the agents would get unconfined).
expect "preempt: unconfined, the secret opens" ok "$($WT open $S/secret/a/b/c/d/key)"
SECS=${WARDEN_PREEMPT_SECONDS:-20}
# The denying agent runs flat out; the allowing one runs SCHED_FIFO and
# sleeps 200 us after each open, so that each of its wake-ups preempts the
# other on the spot (PREEMPT_RT defers a normal task's preemption to its
# return to user space, never a real-time task's), mostly in mid-walk.
WARDEN_VERDICT_CACHE=off taskset -c 0 $W run --policy $S/deny.json --events $S/a.ev -- \
	$WT open-loop $S/secret/a/b/c/d/key $SECS >$S/a.out 2>$S/a.err &
A=$!
WARDEN_VERDICT_CACHE=off taskset -c 0 $W run --policy $S/allow.json --events $S/b.ev -- \
	$WT fifo 10 $WT open-loop $S/open/a/b/c/d/e/f/g/file $SECS 200 >$S/b.out 2>$S/b.err &
B=$!
wait $A
wait $B
echo "# preempt: denied agent: $(cat $S/a.out) $(cat $S/a.err); allowed agent: $(cat $S/b.out) $(cat $S/b.err)"
expect_match "preempt: the denying agent's opens were all denied" '^ok=0 denied=[1-9][0-9]* other=0$' "$(cat $S/a.out)"
expect_match "preempt: the allowing agent's opens were all allowed" '^ok=[1-9][0-9]* denied=0 other=0$' "$(cat $S/b.out)"
expect "preempt: every denial is an event with the secret's path" \
	"$(sed -n 's/.*denied=\([0-9]*\).*/\1/p' $S/a.out)" \
	"$(grep -c "\"path\":\"$S/secret/a/b/c/d/key\",\"decision\":\"deny\"" $S/a.ev)"
expect "preempt: the allowing agent had no event" 0 "$(grep -c . $S/b.ev)"
