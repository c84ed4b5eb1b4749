#!/bin/sh
# Runs tests/vm/test_*.sh inside the guest; the last line is the total.
#   sh tests/vm/run.sh                 every test file
#   sh tests/vm/run.sh files network   test_files.sh and test_network.sh only
# A name with no test file is a failure, never a silent skip. Each file's
# guest time follows it ("# tests/vm/test_files.sh: 42 s").
cd /warden || exit 1
. tests/vm/lib.sh
if [ $# -eq 0 ]; then
	set -- tests/vm/test_*.sh
else
	_names=$*
	set --
	for _n in $_names; do
		if [ -f "tests/vm/test_$_n.sh" ]; then
			set -- "$@" "tests/vm/test_$_n.sh"
		else
			fail "no VM test file named '$_n' (tests/vm/test_$_n.sh)"
		fi
	done
fi
for _file; do	# a name no test file uses: they are sourced into this shell
	echo "# $_file"
	_t0=$(date +%s)
	. "$_file"
	echo "# $_file: $(($(date +%s) - _t0)) s"
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
