#!/bin/sh
# Network rules on the host: cgroup programs work on this kernel even when
# BPF LSM does not, so `run --allow-partial` enforces them here for real.
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
W=${WARDEN_OUT:-build}/warden
WN=$PWD/${WARDEN_OUT:-build}/tests/wnet
NET_WHERE=host
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
ALLOW_OBJ=$PWD/${WARDEN_OUT:-build}/tests/allow_all.bpf.o
command -v bpftool >/dev/null || ALLOW_OBJ=

if echo "$($W doctor --json 2>/dev/null)" | grep -q '"name":"bpf_lsm","ok":false'; then
	RUNFLAGS=--allow-partial
	S=$(mktemp -d)
	printf '{"version": 1, "name": "t", "network": {"default": "deny"}}\n' >$S/net.json
	printf '{"version": 1, "name": "t", "file": {"rules": [{"path": "/x/", "deny": ["read"]}]}}\n' >$S/file.json
	out=$($W run --policy $S/net.json -- touch $S/ran 2>&1)
	expect "[host] without BPF LSM, run refuses a network policy unless --allow-partial" 125 "$?"
	expect_match "[host] and says --allow-partial would run it with the network rules" 'allow-partial' "$out"
	expect "[host] the command never ran" no "$([ -e $S/ran ] && echo yes || echo no)"
	out=$($W run --allow-partial --policy $S/file.json -- touch $S/ran 2>&1)
	expect "[host] --allow-partial with nothing enforceable still refuses" 125 "$?"
	expect_match "[host] and says why" 'nothing of this policy can be enforced' "$out"
	out=$($W run --allow-partial --policy $S/net.json -- true 2>&1)
	expect_match "[host] --allow-partial lists what is not enforced" 'NOT enforced: file and exec rules' "$out"
	rm -rf $S
fi
. tests/net/cases.sh
. tests/net/dns.sh
. tests/net/veth.sh
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
