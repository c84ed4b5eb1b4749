#!/bin/sh
# Booted with an lsm= list without "bpf": a real kernel where BPF LSM is
# compiled in but not active. warden must refuse, never run the command.
cd /warden || exit 1
. tests/vm/lib.sh
S=$(mktemp -d)
expect "the guest's LSM list lacks bpf" 0 "$(grep -c bpf /sys/kernel/security/lsm)"
echo secret >$S/key
printf '{"version": 1, "name": "t", "file": {"rules": [{"path": "%s/", "deny": ["read"]}]}}\n' "$S" >$S/p.json
out=$($W run --policy $S/p.json -- touch $S/ran 2>&1)
expect "run refuses with 125" 125 "$?"
expect "run never starts the command" no "$([ -e $S/ran ] && echo yes || echo no)"
expect_match "run says BPF LSM is not active" 'BPF LSM is not active' "$out"
expect_match "run names the fix" 'add "bpf" to the kernel.s lsm= boot parameter' "$out"
expect "doctor exits 1" 1 "$(status $W doctor)"
expect_match "doctor marks bpf_lsm missing" 'MISSING +bpf_lsm' "$($W doctor)"
# The exact fix: the active list in its order, capability left out (always
# first, never named), then bpf; where it goes; and how it takes effect.
want=$(tr ',' '\n' </sys/kernel/security/lsm | grep -vx capability | tr '\n' ',')bpf
doc=$($W doctor)
expect_match "doctor says BPF LSM is built in" 'has BPF LSM built in \(CONFIG_BPF_LSM\)' "$doc"
expect_match "doctor names the exact lsm= value ($want)" "boot it with lsm=$want:" "$doc"
expect_match "doctor names the GRUB line and update-grub" \
	'in /etc/default/grub add it to GRUB_CMDLINE_LINUX_DEFAULT .*then run update-grub and reboot' "$doc"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
