#!/bin/sh
# make fuzz-run: run each libFuzzer harness for SECONDS on its seed corpus
# (tests/fuzz/corpus/NAME/, which also holds every input that once crashed:
# libFuzzer replays them all before it mutates). New inputs go to a scratch
# directory, never into the repository. A crash, leak, sanitizer report or
# timeout fails the harness; its input is kept as $OUT/fuzz/crash-NAME-*.
#   run.sh SECONDS FUZZER...
# Ends with "fuzz: N passed, N failed", one test per harness.
cd "$(dirname "$0")/../.." || exit 1
secs=$1
shift
pass=0
fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	corpus=tests/fuzz/corpus/$name
	dict=tests/fuzz/$name.dict
	work=$(mktemp -d)
	log=$(dirname "$bin")/$name.log
	set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-print_final_stats=1 -artifact_prefix="$(dirname "$bin")/crash-$name-"
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	echo "# fuzz $name: ${secs}s, corpus $corpus ($(ls "$corpus" | wc -l) files)"
	if "$bin" "$@" "$work" "$corpus" >"$log" 2>&1; then
		echo "ok - fuzz $name: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs, no crash"
		pass=$((pass + 1))
	else
		echo "not ok - fuzz $name: see $log; input:"
		grep -E 'ERROR|SUMMARY|runtime error|fuzz_|Test unit written' "$log" | head -20 | sed 's/^/#   /'
		fail=$((fail + 1))
	fi
	rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
