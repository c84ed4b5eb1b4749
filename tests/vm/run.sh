#!/bin/sh
# Runs every tests/vm/test_*.sh inside the guest; the last line is the total.
cd /warden || exit 1
. tests/vm/lib.sh
for t in tests/vm/test_*.sh; do
	echo "# $t"
	. "$t"
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
