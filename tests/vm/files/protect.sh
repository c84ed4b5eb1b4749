# Runs inside an agent: protections against the outside (OUTSIDER, warden),
# and what the agent may still do to its own processes.
sleep 1000 &
own=$!
sh /warden/tests/vm/files/batch.sh protect.actions
echo "kill_own_child=$($WT do kill $own 0)"
echo "ptrace_own_child=$($WT do ptrace $own)"
echo "procmem_own_child=$($WT do procmem $own)"
echo "kill_outsider=$($WT do kill $OUTSIDER 15)"
echo "kill_warden=$($WT do kill $PPID 15)"
echo "ptrace_outsider=$($WT do ptrace $OUTSIDER)"
echo "vmread_outsider=$($WT do vmread $OUTSIDER)"
echo "procmem_outsider=$($WT do procmem $OUTSIDER)"
echo "pidfd_getfd_outsider=$($WT do pidfd_getfd $OUTSIDER)"
echo "perf_outsider=$($WT do perf-open $OUTSIDER)"
echo "perf_own_child=$($WT do perf-open $own)"
echo "rlimit_outsider=$($WT do rlimit-cpu $OUTSIDER)"
echo "rlimit_warden=$($WT do rlimit-cpu $PPID)"
echo "rlimit_own_child=$($WT do rlimit-cpu $own)"
echo "nice_warden=$($WT do nice $PPID)"
echo "sched_warden=$($WT do sched $PPID)"
echo "oom_warden=$($WT do write-str /proc/$PPID/oom_score_adj 900)"
echo "nice_own_child=$($WT do nice $own)"
echo "ioprio_own_child=$($WT do ioprio $own)"
echo "sched_own_child=$($WT do sched $own)"
echo "oom_own_child=$($WT do write-str /proc/$own/oom_score_adj 100)"
echo "oom_self=$($WT do write-str /proc/self/oom_score_adj 100)"
kill $own
