# batch.sh LIST: run each "NAME ACTION ARGS..." line of tests/vm/files/LIST with
# wtest do, in this shell's agent, and print NAME=RESULT. $F in ARGS is the
# test's scratch directory (exported by the caller).
while read -r name action args; do
	case $name in ''|'#'*) continue ;; esac
	eval "set -- $args"
	echo "$name=$($WT do $action "$@" 2>/dev/null)"
done <"/warden/tests/vm/files/$1"
