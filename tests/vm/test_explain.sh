# Differential test: `warden policy explain` against what the kernel really
# does. Random policies over a small tree whose names overlap (a, b, ab),
# random paths and rights; explain's answer must be the kernel's, for every
# query. Each policy costs one agent run (a batch of real system calls).
scratch
T=$S/t
for d1 in a b ab; do
	for d2 in a b ab; do
		mkdir -p $T/$d1/$d2
		echo data >$T/$d1/$d2/f
		cp $WT $T/$d1/$d2/x
	done
	echo data >$T/$d1/f
	cp $WT $T/$d1/x
done
chmod -R a+rwX $T
export F=$S WT

# Paths the rules and the queries draw from: directories and files.
find $T | sort >$S/paths
NPATHS=$(wc -l <$S/paths)

for seed in 11 22 33 44 55; do
	# 8 random rules: a path from the list (directories as subtree or exact),
	# random allow and deny sets over read, write, exec; a random default.
	awk -v seed=$seed -v n=$NPATHS -v T=$T '
	function pick(k,   i) { return int(rand() * k) }
	# Each right: allowed, denied or not named, never both in one rule.
	function rights(want,   r, out, i, x) {
		split("read write exec", r, " "); out = ""
		for (i = 1; i <= 3; i++) {
			x = rand()
			if ((want == "allow" && x < 0.35) || (want == "deny" && x >= 0.35 && x < 0.65))
				out = out (out == "" ? "" : ", ") "\"" r[i] "\""
		}
		return out
	}
	BEGIN { srand(seed) }
	{ path[NR] = $0 }
	END {
		printf "{\"version\": 1, \"name\": \"diff%d\", \"file\": {\"default\": \"%s\", \"rules\": [\n", seed, rand() < 0.5 ? "allow" : "deny"
		# What the agent itself needs: the shell, wtest, the batch runner, /dev, /proc.
		printf " {\"path\": \"/bin/\", \"allow\": [\"all\"]}, {\"path\": \"/lib/\", \"allow\": [\"all\"]},\n"
		printf " {\"path\": \"/lib64/\", \"allow\": [\"all\"]}, {\"path\": \"/usr/\", \"allow\": [\"all\"]},\n"
		printf " {\"path\": \"/warden/\", \"allow\": [\"all\"]}, {\"path\": \"/dev/\", \"allow\": [\"all\"]},\n"
		printf " {\"path\": \"/proc/\", \"allow\": [\"all\"]}, {\"path\": \"/etc/\", \"allow\": [\"all\"]}"
		for (k = 0; k < 8; k++) {
			p = path[pick(n) + 1]
			sub_ = (rand() < 0.6) ? "/" : ""
			srand(seed * 100 + k); a = rights("allow")
			srand(seed * 100 + k); d = rights("deny")
			srand(seed * 1000 + k)
			printf ",\n {\"path\": \"%s%s\"", p, sub_
			if (a != "") printf ", \"allow\": [%s]", a
			if (d != "") printf ", \"deny\": [%s]", d
			if (a == "" && d == "") printf ", \"deny\": [\"write\"]"
			printf "}"
		}
		printf "\n]}}\n"
	}' $S/paths >$S/p$seed.json
	if ! $W policy check $S/p$seed.json >/dev/null 2>$S/err; then
		# Two random rules on one path may contradict: that policy is skipped, and counted.
		echo "# seed $seed: generated policy rejected: $(head -1 $S/err)"
		continue
	fi
	# Queries: read every path, write every file, exec every x.
	: >$S/queries
	: >$S/want
	i=0
	while read -r p; do
		for r in read write exec; do
			[ $r = write ] && [ -d $p ] && continue
			[ $r = exec ] && [ "${p##*/}" != x ] && continue
			i=$((i + 1))
			dec=$($W policy explain $S/p$seed.json --path $p --access $r | cut -d' ' -f1)
			if [ $r = exec ]; then
				echo "q$i exec $p ids" >>$S/queries
			else
				echo "q$i $r $p" >>$S/queries
			fi
			[ $dec = allow ] && echo "q$i=ok" >>$S/want || echo "q$i=EACCES" >>$S/want
		done
	done <$S/paths
	cp $S/queries /warden/tests/vm/files/diff.actions
	$W run --policy $S/p$seed.json -- sh /warden/tests/vm/files/batch.sh diff.actions >$S/got 2>/dev/null
	rm -f /warden/tests/vm/files/diff.actions
	expect "explain agrees with the kernel on all $i queries (seed $seed)" "" \
		"$(diff $S/want $S/got | grep '^[<>]' | head -5)"
done
