# Shared by the VM tests (busybox sh, as root in the guest). Each check
# prints "ok - NAME" or "not ok - NAME: why"; run.sh prints the totals.
PASS=${PASS:-0}
FAIL=${FAIL:-0}
W=/warden/build/warden
WT=/warden/build/tests/wtest
JF=/warden/build/tests/jfield

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
fail() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# expect NAME WANT GOT
expect() {
	if [ "$3" = "$2" ]; then ok "$1"; else fail "$1: want '$2', got '$3'"; fi
}

# expect_match NAME REGEX GOT
expect_match() {
	if echo "$3" | grep -Eq "$2"; then ok "$1"; else fail "$1: '$3' does not match /$2/"; fi
}

# status CMD...: the exit status, output discarded
status() { "$@" >/dev/null 2>&1; echo $?; }

# A fresh scratch directory per test file.
scratch() {
	S=$(mktemp -d /tmp/wt.XXXXXX)
	chmod 755 "$S"
}

# policy FILE RULES_JSON [EXTRA_TOP_LEVEL]: a version-1 policy with these file rules
policy() {
	cat >"$1" <<J
{"version": 1, "name": "test-agent", "identity": "spiffe://warden.test/agent"$3,
 "file": {"rules": [$2]}}
J
}

# since FILE LINE: the lines of FILE after line LINE
since() { tail -n +$(($2 + 1)) $1; }
# only WANT TEXT: "WANT xN" when every line of TEXT is WANT, else the odd lines
only() {
	_n=$(echo "$2" | grep -c .)
	_odd=$(echo "$2" | grep -v "$1" | sort | uniq -c | head -3 | tr -s ' \n' ' ')
	if [ "$_n" -gt 0 ] && [ -z "$_odd" ]; then echo "$1 all"; else echo "n=$_n odd:$_odd"; fi
}

# --- waiting. The guest is slow and uneven (TCG: 10-50x slower than native,
# stalls of seconds), so a check on what another process must have done by
# now (a line written, an event drained, a policy loaded) first polls for
# it, with a generous bound, instead of sleeping a fixed time. A bound
# counts 0.1 s sleeps, not the clock: slowness stretches it, never cuts it
# short. (A fixed sleep stays only where a check shows that something does
# NOT happen during a while, after polling for what must happen.)

# lines FILE: how many lines FILE has; 0 if it does not exist (yet)
lines() {
	_ln=$(cat "$1" 2>/dev/null | wc -l)
	echo $((${_ln:-0} + 0))
}

# wait_until SECONDS CMD...: run CMD (quiet: a test, grep -q, a function)
# every 0.1 s until it succeeds, about SECONDS at most; CMD's last status.
# One that runs out says so ("# gave up ..."); after 3 of them (the run is
# failing already) each waits 10 s at most, so that a broken guest still
# ends within vmtest's --timeout. Not to be nested: CMD must not call it.
WAIT_MISSED=${WAIT_MISSED:-0}
# dead PID: the process is gone or a zombie (kill -0 succeeds on a zombie
# its parent has not reaped yet).
dead() {
	! [ -e /proc/$1/stat ] || [ "$(sed 's/.*) \(.\).*/\1/' /proc/$1/stat 2>/dev/null)" = Z ]
}

wait_until() {
	_wu_n=$(($1 * 10))
	[ "$WAIT_MISSED" -lt 3 ] || [ "$_wu_n" -le 100 ] || _wu_n=100
	shift
	while :; do
		"$@" && return 0
		_wu_st=$?
		if [ "$_wu_n" -le 0 ]; then
			WAIT_MISSED=$((WAIT_MISSED + 1))
			echo "# gave up waiting for: $*"
			return $_wu_st
		fi
		_wu_n=$((_wu_n - 1))
		sleep 0.1
	done
}

# has_lines FILE N: whether FILE has at least N lines
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
# wait_lines FILE N [SECONDS]: until FILE has at least N lines (60 s)
wait_lines() { wait_until "${3:-60}" has_lines "$1" "$2"; }
# wait_match FILE REGEX [SECONDS]: until a line of FILE matches REGEX (grep -E; 60 s)
wait_match() { wait_until "${3:-60}" grep -Eqs -- "$2" "$1"; }
# matches REGEX CMD...: whether a line CMD prints matches REGEX (as expect_match
# sees it); with wait_until, polls for what a following expect_match needs
matches() {
	_mre=$1
	shift
	"$@" 2>/dev/null | grep -Eq -- "$_mre"
}

# load_module NAME: load kernel module NAME, which tools/vmtest copies from
# the kernel's package into /warden/modules: "ok", "EEXIST" (loaded
# already), "absent" (this kernel has none), or why not.
load_module() {
	[ -f /warden/modules/$1.ko ] || { echo absent; return; }
	/warden/build/tests/wtest do finit_module /warden/modules/$1.ko
}

# nvme_ns NSID: the block device of namespace NSID of the VM's NVMe disk
# (tools/vmtest: 1 the raw marker disk, 2 the quota file system), or
# nothing. By the namespace's id: kernels that scan namespaces in parallel
# (6.12) may name them in another order than their ids.
nvme_ns() {
	for _b in /sys/block/nvme0n*; do
		[ "$(cat $_b/nsid 2>/dev/null)" = "$1" ] && { echo /dev/${_b##*/}; return; }
	done
}
