# Every right on every hook, the aliasing counters, the protections every
# agent has, audit mode. Runs are slow under emulation, so each run executes
# a whole batch of actions ("NAME ACTION ARGS...") and prints NAME=RESULT.
scratch
F=$S
mkdir -p $F/ro $F/noread $F/nocreate $F/nodel $F/nox $F/secret $F/exact $F/rw $F/tree/protected \
	$F/mnt $F/alias
for d in ro noread nocreate nodel nox secret rw tree/protected; do
	echo data >$F/$d/f
	echo data >$F/$d/g
	mkdir -p $F/$d/sub
done
echo data >$F/exact/file
echo data >$F/exact/other
echo key >$F/secret/key
cp $WT $F/nox/prog
cp /bin/busybox $F/nox/sh
cp $WT $F/rw/prog
printf '#!%s\necho ran\n' $F/nox/sh >$F/rw/script-nox-interp
printf '#!/bin/sh\necho ran\n' >$F/nox/script
chmod 755 $F/nox/prog $F/nox/sh $F/rw/prog $F/rw/script-nox-interp $F/nox/script
# Aliases made before the agent starts: a bind mount of the secret directory,
# and a hard link to a file with an exact rule.
mount --bind $F/secret $F/alias
ln $F/exact/file $F/hardlink
chmod -R a+rwX $F

export F WT
B=/warden/tests/vm/files/batch.sh
P=$F/files.json
cat >$P <<J
{"version": 1, "name": "files", "file": {"default": "allow", "rules": [
 {"path": "$F/ro/", "deny": ["write", "create", "delete"]},
 {"path": "$F/noread/", "deny": ["read"]},
 {"path": "$F/nocreate/", "deny": ["create"]},
 {"path": "$F/nodel/", "deny": ["delete"]},
 {"path": "$F/nox/", "deny": ["exec"]},
 {"path": "$F/secret/", "deny": ["all"]},
 {"path": "$F/exact/file", "deny": ["write"]},
 {"path": "$F/rw/", "allow": ["all"]},
 {"path": "$F/tree/protected/", "deny": ["read"]}
]}}
J

expect_results() {
	# expect_results LABEL OUTPUT "NAME=RESULT ..."
	for pair in $3; do
		name=${pair%%=*}
		expect "$1: $name" "$pair" "$(echo "$2" | grep "^$name=")"
	done
}

EV=$F/events.jsonl
OUT=$(cd $F/rw && WT=$WT $W run --policy $P --events $EV -- sh $B files.actions)
expect_results "files" "$OUT" "
read_allowed=ok read_denied=EACCES list_denied=EACCES
write_allowed=ok write_denied=EACCES write_exact_denied=EACCES write_exact_sibling=ok
truncate_denied=EACCES chmod_denied=EACCES chown_denied=EACCES utimes_denied=EACCES
utimes_allowed=ok setxattr_denied=EACCES
create_allowed=ok create_denied=EACCES create_in_ro_denied=EACCES mkdir_denied=EACCES
mknod_denied=EACCES symlink_denied=EACCES link_denied=EACCES mkdir_allowed=ok
unlink_denied=EACCES rmdir_denied=EACCES unlink_allowed=ok
rename_source_denied=EACCES rename_target_denied=EACCES rename_replace_denied=EACCES
rename_within_allowed=ok rename_widening_exdev=EXDEV link_widening_exdev=EXDEV
rename_ruled_dir_exdev=EXDEV rename_exact_rule_exdev=EXDEV
exec_allowed=ok exec_denied=EACCES exec_script_denied=EACCES exec_interpreter_denied=EACCES
mmap_exec_denied=EACCES mmap_exec_allowed=ok mprotect_exec_denied=EACCES
memfd_exec_denied=EACCES
bind_alias_denied=EACCES hardlink_alias_denied=EACCES secret_read_denied=EACCES
proc_root_denied=EACCES
symlink_alias_create=ok symlink_alias_denied=EACCES relative_dirfd_denied=EACCES
relative_dirfd_allowed=ok by_handle_denied=EACCES by_handle_allowed=ok
uring_open_denied=EACCES uring_open_allowed=ok
truncate_allowed=ok chmod_allowed=ok chown_allowed=ok setxattr_allowed=ok removexattr_allowed=ok
removexattr_denied=EACCES mknod_allowed=ok symlink_allowed=ok link_allowed=ok rmdir_allowed=ok
mprotect_exec_allowed=ok deleted_exec_denied=EACCES"
# An fd the invoker hands the agent is its business; reopening it by
# /proc/self/fd is an open like any other.
expect "files: reopening an inherited fd through /proc/self/fd is judged by the path" EACCES \
	"$($W run --policy $P -- $WT open /proc/self/fd/3 3<$F/noread/f 2>/dev/null)"
expect "files: nothing changed where it was denied" "data|data|yes|no|no" \
	"$(cat $F/ro/f)|$(cat $F/nodel/f)|$([ -d $F/tree/protected ] && echo yes)|$([ -e $F/rw/leak ] && echo yes || echo no)|$([ -e $F/nocreate/new ] && echo yes || echo no)"
expect "files: outside the agent the same actions work" "ok|ok" \
	"$($WT do read $F/noread/f)|$($WT do write $F/ro/f)"
expect "files: an exec denial is an exec event" "exec|exec|$F/nox/prog|deny|file.rules[4]" \
	"$(grep "\"path\":\"$F/nox/prog\"" $EV | grep '"event":"exec"' | head -1 | $JF event action path decision rule)"
expect "files: a fileless exec denial names file.fileless_exec" "exec|file.fileless_exec|true" \
	"$(grep fileless_exec $EV | head -1 | $JF event rule fileless)"
expect "files: a widening rename is reported with its reason" "create|$F/rw/leak|deny|rename or link would widen access" \
	"$(grep "\"path\":\"$F/rw/leak\"" $EV | head -1 | $JF action path decision reason)"
expect "files: a denial through a bind mount is flagged as an alias" "$F/alias/key|deny|true" \
	"$(grep "\"path\":\"$F/alias/key\"" $EV | head -1 | $JF path decision alias)"
expect "files: every event line is valid JSON" 0 "$($JF event <$EV >/dev/null; echo $?)"

# --- fileless exec allowed by the policy
sed 's/"default": "allow"/"default": "allow", "fileless_exec": "allow"/' $P >$F/fileless.json
OUT=$(WT=$WT $W run --policy $F/fileless.json -- sh $B fileless.actions 2>/dev/null)
expect "fileless_exec allow lets a memfd run" "memfd_exec_allowed=ok" "$OUT"

# --- protections every agent has, and what an agent may still do to its own
sleep 1000 &
OUTSIDER=$!
# Routes that are open without Warden (root here, as the agent is).
expect "protect: without Warden, perf_event_open on another process works" ok "$($WT do perf-open $OUTSIDER)"
: >$EV
OUT=$(WT=$WT OUTSIDER=$OUTSIDER $W run --policy $P --events $EV -- sh /warden/tests/vm/files/protect.sh)
expect_results "protect" "$OUT" "
bpf=EPERM mount=EPERM umount=EPERM chroot=EPERM unshare_then_mount=EPERM finit_module=EPERM
tiocsti=EPERM leave_cgroup=EPERM userns_then_mount=EPERM clone_into_cgroup=EPERM kill_own_child=ok ptrace_own_child=ok procmem_own_child=ok
kill_outsider=EPERM kill_warden=EPERM ptrace_outsider=EPERM vmread_outsider=EPERM
procmem_outsider=EACCES pidfd_getfd_outsider=EPERM perf_outsider=EPERM perf_own_child=EPERM"
expect "protect: the outsider survived" alive "$(kill -0 $OUTSIDER 2>/dev/null && echo alive)"
expect "protect: the bind mount is still there" yes "$(grep -q " $F/alias " /proc/mounts && echo yes)"
expect "protect: a signal denial is a tamper event" "tamper|signal|$OUTSIDER|15|deny|protection" \
	"$(grep '"action":"signal"' $EV | head -1 | $JF event action target_pid signal decision rule)"
for a in bpf mount module cgroup ptrace tty perf; do
	expect "protect: $a denial reported" 1 "$(grep -c "\"action\":\"$a\"" $EV | awk '{print ($1 > 0)}')"
done
kill $OUTSIDER

# --- audit mode: the same actions all succeed, and are reported as audit
: >$EV
OUT=$(WT=$WT $W run --audit --policy $P --events $EV -- sh $B audit.actions)
expect_results "audit" "$OUT" "read_noread=ok write_ro=ok exec_nox=ok"
for path in noread/f ro/f nox/prog; do
	expect "audit: $path reported as audit" audit \
		"$(grep "\"path\":\"$F/$path\"" $EV | head -1 | $JF decision)"
done
umount $F/alias
