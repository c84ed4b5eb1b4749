# tests/bench/vm.sh: every scenario of `make bench` in one VM boot, side by
# side (busybox sh, root, cwd /warden). tests/bench/run starts it and turns
# its RESULT lines into the table and results.json.
#
# Scenarios, each one opbench process over the same files and operations:
#   none         no enforcement
#   warden-N     `warden run` with N file rules (genpolicy files N)
#   landlock     landlock-run with the same 10 base rules
#   warden-net   the 10,000 CIDR rule policy: connect and sendto only
#   floor-*      (INSN=1 only) a bare BPF LSM program on file_open
#   warden-net, landlock-net  (INSN=1 only) connect and sendto under
#                the 10,000 CIDR rule policy, and under Landlock's TCP
#                rules where the kernel's Landlock has them (ABI >= 4)
# then the event drain (flood, evrate), attach time (attachbench) and
# policy install (loadbench).
# ITERS and REPS (environment) size each measurement, ROUNDS repeats them;
# ATTACH_RUNS is the number of timed attaches per tree size.
# INSN=1: count instructions instead (a 1-vCPU boot with the insncount
# plugin, see tests/bench/insncount.c): every scenario once, opbench with
# --mark, nothing else (the counts do not depend on the host's load, so one
# round is enough).
B=/warden/build/bench
P=$B/policies
W=/warden/build/warden
ITERS=${ITERS:-100}
REPS=${REPS:-5}
ROUNDS=${ROUNDS:-2}
ATTACH_RUNS=${ATTACH_RUNS:-5}
PORT=8443

echo "INFO vm_kernel=$(uname -r)"
echo "INFO vm_lsm=$(cat /sys/kernel/security/lsm)"
echo "INFO vm_landlock_abi=$($B/landlock-run --abi)"
echo "INFO vm_cpus=$(nproc)"

# Files at path depths 2 to 30 (components, the file included), all under
# /tmp, which every scenario allows.
echo x >/tmp/f
opens="--open /tmp/f"
for d in 4 8 16 30; do
	p=/tmp/wb i=3
	while [ $i -lt $d ]; do p=$p/d$i; i=$((i + 1)); done
	mkdir -p $p && echo x >$p/f
	opens="$opens --open $p/f"
done
# coldopen's files: PATH.0 .. PATH.(ITERS - 1) beside each of them;
# walkopen's: DIR.w0/NAME .. for each PATH = DIR/NAME but /tmp/f.
for f in $(echo $opens | sed 's/--open//g'); do
	i=0
	while [ $i -lt "$ITERS" ]; do echo x >$f.$i; i=$((i + 1)); done
	[ $f = /tmp/f ] && continue
	i=0
	while [ $i -lt "$ITERS" ]; do
		mkdir -p ${f%/*}.w$i && echo x >${f%/*}.w$i/${f##*/}
		i=$((i + 1))
	done
done
# Denied in every scenario (no rule covers it, the default denies).
echo secret >/home/agent/secret

# bench LABEL ROUND [WRAPPER...]: opbench, all operations, under WRAPPER.
bench() {
	label=$1 round=$2
	shift 2
	"$@" $B/opbench --label "$label" --reps "$REPS" --iters "$ITERS" $opens $MARK \
		--exec $B/nop --deny /home/agent/secret --port $PORT >/tmp/op.out
	rc=$?
	sed "s/^[A-Z]* /&round=$round /" /tmp/op.out
	[ $rc -eq 0 ] || echo "FAILED label=$label status=$rc"
}

# bench_net LABEL ROUND [WRAPPER...]: connect and sendto only (the same
# denied file proves the wrapper confines).
bench_net() {
	label=$1 round=$2
	shift 2
	"$@" $B/opbench --label "$label" --reps "$REPS" --iters "$ITERS" $MARK --ops connect,sendto \
		--deny /home/agent/secret --port $PORT >/tmp/op.out
	rc=$?
	sed "s/^[A-Z]* /&round=$round /" /tmp/op.out
	[ $rc -eq 0 ] || echo "FAILED label=$label status=$rc"
}

# scenario NAME ROUND
scenario() {
	case $1 in
	none) bench none "$2" ;;
	landlock) bench landlock "$2" $B/landlock-run --rules $P/landlock.rules -- ;;
	# The floor: a BPF LSM program on file_open that does nothing, then one
	# that only looks up the task's storage (tests/bench/floor.bpf.c).
	floor-empty) bench floor-empty "$2" $B/floor-run -- ;;
	floor-task) bench floor-task "$2" $B/floor-run --task-lookup -- ;;
	warden-net) bench_net warden-net "$2" $W run --policy $P/net-10000.json -- ;;
	landlock-net)
		if [ "$($B/landlock-run --abi)" -ge 4 ]; then
			printf 'connect %s\nbind %s\n' $PORT $PORT | cat $P/landlock.rules - >/tmp/ll-net.rules
			bench_net landlock-net "$2" $B/landlock-run --rules /tmp/ll-net.rules --
		else
			echo "NETWORK landlock: TCP rules need Landlock ABI 4, this kernel has ABI $($B/landlock-run --abi)"
		fi ;;
	# The whole walk on every open: the verdict caches off (the instruction
	# count's worst case: a first open with no entry of a directory to serve it).
	# The same, the path walk reading with bpf_probe_read_kernel (as on 6.1)
	# where the kernel has bpf_rdonly_cast: the walk's two ways side by side.
	nocache-probe-*) bench "$1" "$2" env WARDEN_VERDICT_CACHE=off WARDEN_PATH_WALK=probe-read \
		$W run --events /tmp/events-$1.jsonl --policy $P/files-${1#nocache-probe-}.json -- ;;
	nocache-*) bench "$1" "$2" env WARDEN_VERDICT_CACHE=off $W run --events /tmp/events-$1.jsonl \
		--policy $P/files-${1#nocache-}.json -- ;;
	warden-*)
		t0=$(date +%s)
		bench "$1" "$2" $W run --events /tmp/events-$1.jsonl --policy $P/files-${1#warden-}.json --
		echo "INFO ${1}_run_s_round$2=$(($(date +%s) - t0))" ;;
	esac
}

# ROUNDS rounds, the order rotated each round, so that a slow spell of the
# host (the VM is emulated on a shared machine) does not land on one
# scenario only; the report takes the median over rounds.
order=${ORDER:-"none warden-10 warden-1000 warden-100000 landlock"}
MARK=
if [ "${INSN:-0}" = 1 ]; then
	MARK=--mark
	[ -n "${ORDER:-}" ] || order="$order nocache-1000 nocache-probe-1000 floor-empty floor-task warden-net landlock-net"
	for s in $order; do
		scenario $s 1
		# One vCPU counts everything it runs: let the freeing of the
		# last run's maps (a kworker's, after warden exits) finish first.
		sync; sleep 3
	done
	exit 0
fi
r=1
while [ $r -le "$ROUNDS" ]; do
	for s in $order; do scenario $s $r; done
	order="${order#* } ${order%% *}"
	r=$((r + 1))
done

# Network: the policy is refused (exit 125) by a build without kernel
# network enforcement; say so instead of failing.
out=$($W run --events /tmp/events-net.jsonl --policy $P/net-10000.json -- $B/opbench --label warden-net --reps "$REPS" \
	--iters "$ITERS" --ops connect,sendto --port $PORT 2>/tmp/net.err)
rc=$?
if [ $rc -eq 125 ] && grep -q network /tmp/net.err; then
	echo "NETWORK not enforced by this build: $(head -n 1 /tmp/net.err)"
else
	echo "$out"
	[ $rc -eq 0 ] || { echo "FAILED label=warden-net status=$rc"; cat /tmp/net.err; }
fi
abi=$($B/landlock-run --abi)
if [ "$abi" -ge 4 ]; then
	printf 'connect %s\nbind %s\n' $PORT $PORT | cat $P/landlock.rules - >/tmp/ll-net.rules
	$B/landlock-run --rules /tmp/ll-net.rules -- $B/opbench --label landlock-net \
		--reps "$REPS" --iters "$ITERS" --ops connect,sendto --port $PORT
else
	echo "NETWORK landlock: TCP rules need Landlock ABI 4, this kernel has ABI $abi"
fi

# Event drain: one thread opening a denied file as fast as it can for 5 s;
# every attempt is an event. Delivered + lost must equal the attempts, and
# lost should be 0 (emulation limits the rate this can reach).
echo '{"version": 1, "name": "flood", "file": {"rules": [{"path": "/home/agent/secret", "deny": ["read"]}]}}' >/tmp/flood.json
fl=$($W run --events /tmp/flood.jsonl --policy /tmp/flood.json -- $B/flood /home/agent/secret 5 2>/tmp/flood.err)
att=$(echo "$fl" | sed -n 's/^FLOOD attempts=\([0-9]*\).*/\1/p')
secs=$(echo "$fl" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
del=$(grep -c '"decision":"deny"' /tmp/flood.jsonl)
lost=$(grep '"event":"lost"' /tmp/flood.jsonl | sed -n 's/.*"count":\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
echo "DRAIN attempts=${att:-0} seconds=${secs:-0} delivered=$del lost=$lost"

# Event drain at a set rate: evrate feeds the ring buffer from a bench-only
# BPF program (denials are far slower than 200,000/s under emulation) and
# drains it with warden's loop. 200,000/s first; if that loses events, lower
# rates until one loses none (the highest rate with 0 lost).
for rate in 200000 150000 100000 75000 50000 25000 10000; do
	out=$($B/evrate --rate $rate --seconds 5 2>/tmp/evrate.err)
	[ $? -eq 0 ] || { echo "FAILED label=evrate rate=$rate"; cat /tmp/evrate.err; break; }
	echo "$out" | sed 's/^EVRATE /EVRATE where=vm /'
	case $out in *" lost=0 "*) break ;; esac
done
# The same drain into a real file: every decoded record is a line of it.
out=$($B/evrate --rate 20000 --seconds 2 --events /tmp/evrate.jsonl 2>/tmp/evrate.err) ||
	{ echo "FAILED label=evrate-file"; cat /tmp/evrate.err; }
echo "$out" | sed 's/^EVRATE /EVRATE where=vm-file /'
echo "EVFILE lines=$(grep -c '"event":"file"' /tmp/evrate.jsonl) lost_lines=$(grep -c '"event":"lost"' /tmp/evrate.jsonl)"
rm -f /tmp/evrate.jsonl

# Attach: warden attach --pid on a running tree of 1 process, then of 1,111
# (fanout 10, depth 3), timed until it reports the tree confined; every
# member's read of the denied file must fail while attached (attachbench
# prints FAILED otherwise, which fails the bench).
echo '{"version": 1, "name": "attach-bench", "file": {"rules": [{"path": "/home/agent/secret", "deny": ["read"]}]}}' >/tmp/attach.json
for depth in 0 3; do
	$B/attachbench --warden $W --policy /tmp/attach.json --secret /home/agent/secret \
		--fanout 10 --depth $depth --runs "$ATTACH_RUNS" --events /tmp/attach-events.jsonl ||
		echo "FAILED label=attach depth=$depth"
done

# Policy install, phase by phase, for 10,000 rules.
$B/loadbench --policy $P/files-10000.json 2>/tmp/load.err || {
	echo "FAILED label=load"
	cat /tmp/load.err
}
