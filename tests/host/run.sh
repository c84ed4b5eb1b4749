#!/bin/sh
# Host tests: what warden does on the machine it was built on. This
# machine's kernel may lack BPF LSM (then run must refuse, fail closed) or
# have it (then run must confine); each branch asserts real behaviour.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
W=${WARDEN_OUT:-build}/warden
WT=${WARDEN_OUT:-build}/tests/wtest
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT

doctor_json=$($W doctor --json 2>/dev/null)
expect_match "doctor --json is one JSON object with checks" '^\{"checks":\[.*\],"enforce":\{[^}]*\},"mechanisms":\{"renames":"[^"]+","mounts":"[^"]+","setattr":"[^"]+","ioctl":"[^"]+","acl":"[^"]+","path_walk":"[^"]+","preemption":"[^"]+"\},"ok":(true|false)\}$' "$doctor_json"
expect_match "doctor --json says the network rules are enforceable here (cgroup programs load)" '"network":true' "$doctor_json"
if echo "$doctor_json" | grep -q '"name":"bpf_lsm","ok":false'; then
	echo "# this kernel cannot enforce BPF LSM: run must refuse"
	expect "doctor exits 1 when BPF LSM is missing" 1 "$(status $W doctor)"
	expect_match "doctor names the missing capability" 'MISSING +bpf_lsm' "$($W doctor 2>&1)"
	expect_match "doctor says which parts a policy cannot get" 'file +NOT enforced' "$($W doctor 2>&1)"
	expect_match "doctor names the opt-in for partial enforcement" 'allow-partial' "$($W doctor 2>&1)"
	echo secret >$S/key
	printf '{"version": 1, "name": "t", "file": {"rules": [{"path": "%s/", "deny": ["read"]}]}}\n' "$S" >$S/p.json
	out=$($W run --policy $S/p.json -- touch $S/ran 2>&1)
	rc=$?
	expect "run refuses with 125" 125 "$rc"
	expect "run never starts the command" no "$([ -e $S/ran ] && echo yes || echo no)"
	expect_match "run names the cause" 'BPF LSM' "$out"
	expect_match "run names the fix (lsm= boot parameter)" 'lsm=' "$out"
	expect_match "run says the agent was not started" 'not started' "$out"
	expect "run without a policy refuses too" 125 "$(status $W run -- touch $S/ran)"
	expect "and never starts the command" no "$([ -e $S/ran ] && echo yes || echo no)"
else
	echo "# this kernel enforces BPF LSM: run must confine"
	expect "doctor exits 0" 0 "$(status $W doctor)"
	echo secret >$S/key
	printf '{"version": 1, "name": "t", "file": {"rules": [{"path": "%s/", "deny": ["read"]}]}}\n' "$S" >$S/p.json
	expect "run confines on this host" EACCES "$($W run --policy $S/p.json -- $WT open $S/key 2>/dev/null)"
fi
expect "version prints a version" 0 "$(status $W version)"
expect "--help exits 0" 0 "$(status $W --help)"
expect "run --help exits 0" 0 "$(status $W run --help)"
expect "doctor --help exits 0" 0 "$(status $W doctor --help)"
expect "policy --help exits 0" 0 "$(status $W policy --help)"
expect "unknown command is a usage error (2)" 2 "$(status $W frobnicate)"
expect_match "usage errors start with 'warden: '" '^warden: ' "$($W frobnicate 2>&1 | head -1)"
expect "policy check accepts every ready policy" 0 "$(status $W policy check policies/*.json)"
echo '{"version": 1, "name": "x", "bogus": 1}' >$S/bad.json
expect "policy check rejects a bad policy with 1" 1 "$(status $W policy check $S/bad.json)"
expect "policy check error is FILE:LINE:COL: message" "$S/bad.json:1:29: unknown key \"bogus\" in the policy (known: version, name, identity, mode, file, network, presets, match, capabilities)" "$($W policy check $S/bad.json 2>&1)"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
