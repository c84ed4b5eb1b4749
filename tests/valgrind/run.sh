#!/bin/sh
# make valgrind: the unit tests, and the CLI on every policy we have, under
# valgrind --leak-check=full. A run passes when it exits as it should and
# valgrind reports no error and no leak (ERROR SUMMARY: 0, and nothing lost).
#   run.sh UNIT_BIN...   (WARDEN_OUT: the build directory, default build)
# Ends with "valgrind: N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
W=${WARDEN_OUT:-build}/warden
export WARDEN_TIME_SCALE=40
logdir=${WARDEN_OUT:-build}/valgrind
rm -rf "$logdir"
mkdir -p "$logdir"
pass=0
fail=0
n=0

# vg WANT_STATUS NAME CMD...: run CMD under valgrind, output to a log.
vg() {
	want=$1 name=$2
	shift 2
	n=$((n + 1))
	log=$logdir/$n.log
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
		--suppressions=tests/valgrind/libbpf.supp --log-file="$log.vg" "$@" >"$log" 2>&1
	rc=$?
	# valgrind's notice that it cannot check a bpf() command it does not
	# know (newer than valgrind) is not a finding about our code.
	grep -v 'WARNING: unhandled eBPF command' "$log.vg" >"$log.vgf"
	mv "$log.vgf" "$log.vg"
	if [ "$rc" -eq "$want" ] && ! [ -s "$log.vg" ]; then
		pass=$((pass + 1))
		echo "ok - $name"
	else
		fail=$((fail + 1))
		echo "not ok - $name: exit $rc (want $want); valgrind said:"
		head -40 "$log.vg" | sed 's/^/#   /'
	fi
}

for bin in "$@"; do
	case $bin in
	*/test_dns)
		# Its flood test asserts how many queries a fast resolver forwards:
		# timing, which valgrind's 20x slowdown changes. It runs under SAN.
		echo "# $(basename "$bin"): not run under valgrind (timing-bound flood test; run under SAN=1)"
		continue ;;
	esac
	vg 0 "$(basename "$bin")" "$bin"
done
for p in policies/*.json tests/fuzz/corpus/policy/*.json; do
	if $W policy check "$p" >/dev/null 2>&1; then ok=0; else ok=1; fi
	vg $ok "policy check $p" $W policy check "$p"
	[ $ok -eq 0 ] || continue
	vg 0 "policy explain $p --path /etc/passwd --access read" \
		$W policy explain "$p" --path /etc/passwd --access read
	vg 0 "policy explain $p --path \$HOME/.ssh/id_ed25519 --access write --json" \
		$W policy explain "$p" --path "$HOME/.ssh/id_ed25519" --access write --json
	vg 0 "policy explain $p --connect 10.20.1.1 443" $W policy explain "$p" --connect 10.20.1.1 443
done
vg 1 "policy check of a missing file" $W policy check /nonexistent/policy.json
vg 2 "policy explain with a bad address" $W policy explain policies/strict.json --connect 300.1.1.1 80
if $W doctor >/dev/null 2>&1; then ok=0; else ok=1; fi
vg $ok "doctor" $W doctor
vg $ok "doctor --json" $W doctor --json
vg 0 "version" $W version
vg 0 "--help" $W --help
vg 2 "unknown command" $W frobnicate
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
