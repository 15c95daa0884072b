#!/bin/bash
# Runs every test of the suite and ends with the line "N passed, N failed".
#
# A test is a program: regress/unit/t_* (C unit tests) and regress/t-*
# (scripts driving the real programs).  Each prints TAP-like lines:
#	ok - what was checked
#	not ok - what was checked: why
#	skip - what was not checked: why
# A test program that exits non-zero without printing "not ok" counts as
# one failure, so a crash is never silent.  Each has a time bound.
#
#	regress/run.sh [name-filter]
#
# REGRESS_TESTS, if set, names the test programs to run instead
# (regress/deb/run: the package tests).
cd "$(dirname "$0")/.." || exit 1
filter=${1:-}
out=regress/out
mkdir -p "$out"
pass=0 fail=0 skip=0
failed=()

run_one() {
	local t=$1 name log rc p f s
	name=$(basename "$t")
	log=$out/$name.log
	printf '== %s\n' "$name"
	timeout -k 10 "${TEST_TIMEOUT:-900}" "$t" >"$log" 2>&1
	rc=$?
	grep -E '^(ok|not ok|skip)( |$)' "$log" | sed 's/^/   /'
	p=$(grep -cE '^ok( |$)' "$log")
	f=$(grep -cE '^not ok( |$)' "$log")
	s=$(grep -cE '^skip( |$)' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		printf '   not ok - %s exited with status %d (log: %s)\n' \
		    "$name" "$rc" "$log"
		tail -n 5 "$log" | sed 's/^/      /'
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		f=1
		printf '   not ok - %s checked nothing (log: %s)\n' "$name" "$log"
	fi
	[ "$f" -gt 0 ] && failed+=("$name")
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

for t in ${REGRESS_TESTS:-regress/unit/t_* regress/t-*}; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	case $t in *.c|*.o|*.d|*.log) continue ;; esac
	[ -n "$filter" ] && case $t in *"$filter"*) ;; *) continue ;; esac
	run_one "$t"
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
[ "$skip" -gt 0 ] && echo "$skip skipped (see the skip lines above for why)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
