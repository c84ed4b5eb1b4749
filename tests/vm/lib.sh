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
