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
# ... and bind mounts of subdirectories of denied directories: the walk from
# one never meets the denied directory by name (its hidden ancestor).
echo key >$F/secret/sub/key
echo data >$F/noread/sub/f
mkdir -p $F/alias-sub $F/alias-noread
mount --bind $F/secret/sub $F/alias-sub
mount --bind $F/noread/sub $F/alias-noread
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
trunc_open_ro_denied=EACCES mknod_denied=EACCES symlink_denied=EACCES link_denied=EACCES mkdir_allowed=ok
unlink_denied=EACCES rmdir_denied=EACCES unlink_allowed=ok
rename_source_denied=EACCES rename_target_denied=EACCES rename_replace_denied=EACCES
rename_within_allowed=ok rename_widening_exdev=EXDEV link_widening_exdev=EXDEV
rename_ruled_dir_exdev=EXDEV rename_exact_rule_exdev=EXDEV
exec_allowed=ok exec_denied=EACCES exec_script_denied=EACCES exec_interpreter_denied=EACCES
mmap_exec_denied=EACCES mmap_exec_allowed=ok mprotect_exec_denied=EACCES
memfd_exec_denied=EACCES
bind_alias_denied=EACCES bind_sub_alias_denied=EACCES bind_sub_alias_read_denied=EACCES
bind_sub_alias_write_allowed=ok hardlink_alias_denied=EACCES secret_read_denied=EACCES
proc_root_denied=EACCES
symlink_alias_create=ok symlink_alias_denied=EACCES relative_dirfd_denied=EACCES
relative_dirfd_allowed=ok by_handle_denied=EACCES by_handle_allowed=ok
uring_open_denied=EACCES uring_open_allowed=ok
truncate_allowed=ok chmod_allowed=ok chown_allowed=ok setxattr_allowed=ok removexattr_allowed=ok
removexattr_denied=EACCES mknod_allowed=ok symlink_allowed=ok link_allowed=ok rmdir_allowed=ok
mprotect_exec_allowed=ok deleted_exec_denied=EACCES
setacl_denied=EACCES removeacl_denied=EACCES setacl_allowed=ok removeacl_allowed=ok
inotify_denied=EACCES inotify_allowed=ok"
# An fd the invoker hands the agent is its business; reopening it by
# /proc/self/fd is an open like any other.
expect "files: reopening an inherited fd through /proc/self/fd is judged by the path" EACCES \
	"$($W run --policy $P -- $WT open /proc/self/fd/3 3<$F/noread/f 2>/dev/null)"
expect "files: nothing changed where it was denied" "data|data|yes|no|no" \
	"$(cat $F/ro/f)|$(cat $F/nodel/f)|$([ -d $F/tree/protected ] && echo yes)|$([ -e $F/rw/leak ] && echo yes || echo no)|$([ -e $F/nocreate/new ] && echo yes || echo no)"
expect "files: outside the agent the same actions work" "ok|ok|ok" \
	"$($WT do read $F/noread/f)|$($WT do write $F/ro/f)|$($WT do inotify $F/noread)"
# An ACL changes who may write (and the group mode bits): since 6.2 it
# passes inode_set_acl, not inode_setxattr.
expect "files: without Warden, an ACL set on a file gives its group write, and is removed" \
	"ok|-rw-rwxr--|ok" "$($WT do setacl $F/ro/f)|$(ls -l $F/ro/f | cut -c1-10)|$($WT do removeacl $F/ro/f)"
expect "files: an exec denial is an exec event" "exec|exec|$F/nox/prog|deny|file.rules[4]" \
	"$(grep "\"path\":\"$F/nox/prog\"" $EV | grep '"event":"exec"' | head -1 | $JF event action path decision rule)"
expect "files: a fileless exec denial names file.fileless_exec" "exec|file.fileless_exec|true" \
	"$(grep fileless_exec $EV | head -1 | $JF event rule fileless)"
expect "files: a widening rename is reported with its reason" "create|$F/rw/leak|deny|rename or link would widen access" \
	"$(grep "\"path\":\"$F/rw/leak\"" $EV | head -1 | $JF action path decision reason)"
expect "files: a denial through a bind mount is flagged as an alias" "$F/alias/key|deny|true" \
	"$(grep "\"path\":\"$F/alias/key\"" $EV | head -1 | $JF path decision alias)"
expect "files: through a bind mount of a denied directory's subdirectory, the denial names its rule" \
	"$F/alias-sub/key|deny|true|file.rules[5]" \
	"$(grep "\"path\":\"$F/alias-sub/key\"" $EV | head -1 | $JF path decision alias rule)"
expect "files: without Warden, those bind mounts give the denied files" "key|ok" \
	"$(cat $F/alias-sub/key)|$($WT do read $F/alias-noread/f)"
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
sleep 1000 &
victim=$!
expect "protect: without Warden, another process's nice, I/O priority, CPUs and OOM score are set" \
	"ok|ok|ok|ok|500" "$($WT do nice $victim)|$($WT do ioprio $victim)|$($WT do sched $victim)|$($WT do write-str /proc/$victim/oom_score_adj 500)|$(cat /proc/$victim/oom_score_adj)"
kill $victim
expect "protect: without Warden, root maps page 0 (below vm.mmap_min_addr, $(cat /proc/sys/vm/mmap_min_addr))" \
	ok "$($WT do mmap-zero)"
expect "protect: without Warden, fanotify marks a whole mount, and asks for permission events" "ok|ok" \
	"$($WT do fanotify-mount $F/rw)|$($WT do fanotify-perm $F/rw)"
# request_key(2): the kernel starts /sbin/request-key (keyutils; a stand-in
# here) as root from a kernel thread, outside any instance.
[ -e /sbin/request-key ] && mv /sbin/request-key /sbin/request-key.wd-orig
mkdir -p /sbin
printf '#!/bin/sh\necho "$@" >/tmp/wd-upcall\nexit 1\n' >/sbin/request-key
chmod 755 /sbin/request-key
rm -f /tmp/wd-upcall
$WT do request-key wd:out >/dev/null
expect "protect: without Warden, request_key makes the kernel run /sbin/request-key as root" "yes|0" \
	"$([ -s /tmp/wd-upcall ] && echo yes)|$(stat -c %u /tmp/wd-upcall 2>/dev/null)"
rm -f /tmp/wd-upcall
expect "protect: without Warden, a key another process put in the uid's keyring is read" "ok|ok" \
	"$($WT do key-add wd:secret s3cret)|$($WT do key-read wd:secret user)"
# A synthetic uevent (netlink, CAP_SYS_ADMIN) reaches udevd as if the kernel
# had sent it; udevd acts on it as root (a MODALIAS makes it load a module).
$WT uevent-listen 60 >$F/ue.out &
ue=$!
wait_match $F/ue.out ready
expect "protect: without Warden, a synthetic uevent reaches a listener as the kernel's (udevd would act on it)" \
	"ok|seen" "$($WT do uevent-send)|$(wait_match $F/ue.out seen 30 && echo seen)"
kill $ue 2>/dev/null
expect "protect: without Warden, another process's POSIX message queue is opened, sent to and removed" \
	"ok|ok|ok" "$($WT do mq-make /wd-out)|$($WT do mq-send /wd-out)|$($WT do mq-unlink /wd-out)"
$WT do mq-make /wd-out >/dev/null
sleep 1000 &
victim=$!
expect "protect: without Warden, another process's CPU limit can be set (too low, the kernel kills it)" "ok|3600" \
	"$($WT do rlimit-cpu $victim)|$(awk '/^Max cpu time/ { print $4 }' /proc/$victim/limits)"
kill $victim
expect "protect: without Warden, TIOCSTI through int 0x80 works" ok "$($WT do tiocsti-int80 pty)"
# Raw storage and memory (tools/vmtest gives every VM a small NVMe disk with
# a marker; only the cloud kernels have the driver built in, and the guest
# loads no modules: elsewhere the agent opens a block node made here, which
# Warden refuses before any driver is asked).
# The same disk is reachable through character devices that pass storage
# commands (the namespace's generic node, by NVMe passthrough ioctl).
RAWDISK=$(nvme_ns 1)
[ -z "$RAWDISK" ] && [ -e /dev/nvme0 ] && fail "files: the VM's NVMe disk is there, but no namespace with id 1"
if [ -n "$RAWDISK" ]; then
	expect "protect: without Warden, a raw disk's bytes can be read" WARDEN-RAW-DISK-MARKER "$(head -c 22 $RAWDISK)"
	RAWCHAR=/dev/ng${RAWDISK#/dev/nvme}	# the same namespace's generic node
	expect "protect: without Warden, the same bytes come by NVMe passthrough on its char node" \
		WARDEN-RAW-DISK-MARKER "$($WT nvme-read $RAWCHAR)"
else
	RAWDISK=/dev/wd-blk	# devtmpfs: the scratch tmpfs is nodev (EACCES before any LSM)
	mknod $RAWDISK b 259 0
	RAWCHAR=/dev/wd-sg	# SCSI generic's major (21): refused before any driver is asked
	mknod $RAWCHAR c 21 0
	echo "# no built-in block driver on $(uname -r): the raw read is shown on the cloud kernels"
fi
export RAWDISK RAWCHAR
# RDMA verbs (char 231:192, InfiniBand and RoCE): traffic from user memory to
# the wire past every socket hook. The matrix has no RDMA device: without
# Warden the open reaches the (absent) driver; under Warden it never does.
mknod /dev/wd-ib c 231 192
expect "protect: without Warden, an RDMA verbs node's open reaches its driver (none here: ENXIO)" ENXIO \
	"$($WT do read /dev/wd-ib)"
expect "protect: without Warden, /dev/mem and /dev/snapshot open, a device node is made" "ok|ok|ok" \
	"$($WT do read /dev/mem)|$($WT do read /dev/snapshot)|$($WT do mknod-dev $F/rw/nvme b 259 0)"
expect "protect: without Warden, the kernel log is cleared, a serial port's settings are set" "ok|ok" \
	"$($WT do syslog-clear)|$($WT do tiocsserial /dev/ttyS0)"
rm -f $F/rw/nvme
# System V IPC: an outsider's shared memory and message queue (key 0x5744).
expect "protect: without Warden, another process attaches a segment and sends to a queue it did not make" \
	"ok|ok|ok" "$($WT do sysv-make 5744)|$(sh -c "$WT do shm-attach 5744")|$(sh -c "$WT do msg-send 5744")"
mkdir -p $F/msa1 $F/msa2
mount -t tmpfs none $F/msa1
mount -t tmpfs none $F/msa2
mount_opts() { awk -v m="$1" '$2 == m { split($4, o, ","); print o[1] }' /proc/mounts; }
expect "protect: without Warden, mount_setattr makes a mount read-only" "ok|ro" \
	"$($WT do mount-setattr $F/msa1)|$(mount_opts $F/msa1)"
expect "protect: without Warden, fspick, open_tree(OPEN_TREE_CLONE) and fsopen work" "ok ok ok" \
	"$($WT do fspick $F/msa2) $($WT do open-tree-clone $F/msa2) $($WT do fsopen tmpfs)"
for how in setown setown_ex fiosetown; do
	sleep 1000 &
	victim=$!
	expect "protect: without Warden, SIGIO by $how kills another process" "ok|dead" \
		"$($WT do sigio $victim 15 $how)|$(wait_until 30 dead $victim && echo dead)"
	wait $victim 2>/dev/null
done
sleep 1000 &
victim=$!
expect "protect: without Warden, F_SETSIG on a file another owns sends that owner any signal" "ok|dead" \
	"$($WT owned-pipe $victim $WT do setsig-write 3 4 15)|$(wait_until 30 dead $victim && echo dead)"
wait $victim 2>/dev/null
: >$EV
$WT uevent-listen 600 >$F/ue.out &
ue=$!
wait_match $F/ue.out ready
OUT=$(WT=$WT OUTSIDER=$OUTSIDER $W run --policy $P --events $EV -- sh /warden/tests/vm/files/protect.sh)
expect_results "protect" "$OUT" "
bpf=EPERM mount=EPERM umount=EPERM chroot=EPERM unshare_then_mount=EPERM finit_module=EPERM
tiocsti=EPERM tiocsti_int80=EPERM sigio_setown_outsider=EPERM sigio_setown_pgrp=EPERM
sigio_setown_ex_outsider=EPERM sigio_fiosetown_outsider=EPERM sigio_self=ok leave_cgroup=EPERM
mount_setattr=EPERM fspick=EPERM open_tree_clone=EPERM fsopen=EPERM
raw_disk=EPERM raw_char=EPERM dev_mem=EPERM mknod_blk=EPERM mknod_chr=EPERM mknod_fifo=ok
shm_outsider=EACCES msg_outsider=EACCES sysv_remove_outsider=EACCES shm_rmid_outsider=EPERM shm_own=ok userns_then_mount=EPERM clone_into_cgroup=EPERM kill_own_child=ok ptrace_own_child=ok procmem_own_child=ok
kill_outsider=EPERM kill_warden=EPERM ptrace_outsider=EPERM vmread_outsider=EPERM
procmem_outsider=EACCES pidfd_getfd_outsider=EPERM perf_outsider=EPERM perf_own_child=EPERM
rlimit_outsider=EPERM rlimit_warden=EPERM rlimit_own_child=ok
nice_outsider=EPERM ioprio_outsider=EPERM sched_outsider=EPERM oom_outsider=EPERM mmap_zero=EPERM
mq_outsider_send=EPERM mq_outsider_unlink=EACCES mq_own=ok
fanotify_mount=EPERM fanotify_perm=EPERM request_key=EPERM
key_read_outsider=EPERM key_revoke_outsider=EPERM key_own=ok snapshot=EPERM syslog_clear=EPERM tiocsserial=EPERM rdma_verbs=EPERM uevent=EPERM
nice_warden=EPERM sched_warden=EPERM oom_warden=EPERM
nice_own_child=ok ioprio_own_child=ok sched_own_child=ok oom_own_child=ok oom_self=ok"
expect "protect: the outsider's key is still there, unrevoked" ok "$($WT do key-read wd:secret user)"
expect "protect: a key denial names what was asked" "tamper|key|read|deny" \
	"$(grep '"action":"key"' $EV | grep '"perm":"read"' | head -1 | $JF event action perm decision)"
expect "protect: the agent's uevent reached no listener" ready "$(cat $F/ue.out)"
kill $ue 2>/dev/null
expect "protect: under Warden the kernel started no /sbin/request-key" no "$([ -e /tmp/wd-upcall ] && echo yes || echo no)"
rm -f /sbin/request-key
[ -e /sbin/request-key.wd-orig ] && mv /sbin/request-key.wd-orig /sbin/request-key
# Disk quotas: tools/vmtest makes the VM's second NVMe namespace an ext4
# file system with the quota feature (the driver is built into the cloud
# kernels only; elsewhere there is no such disk).
QUOTADISK=$(nvme_ns 2)
[ -z "$QUOTADISK" ] && [ -e /dev/nvme0 ] && fail "quota: the VM's NVMe disk is there, but no namespace with id 2"
if [ -n "$QUOTADISK" ]; then
	expect "quota: the quota format modules load" "ok|ok" "$(load_module quota_tree)|$(load_module quota_v2)"
	mkdir -p $F/q
	mount -t ext4 $QUOTADISK $F/q
	expect "quota: without Warden, a user's disk limit is set, and read" "ok|ok" \
		"$($WT do quota-set $F/q)|$($WT do quota-get $F/q)"
	: >$F/quota.jsonl
	expect "quota: an agent may read a limit, not set one" "ok|EPERM" \
		"$($W run --policy $P --events $F/quota.jsonl -- sh -c "$WT do quota-get $F/q; $WT do quota-set $F/q" 2>/dev/null | tr '\n' '|' | sed 's/|$//')"
	expect "quota: the refusal is a kernel_config protection" 1 "$(grep -c '"action":"kernel_config"' $F/quota.jsonl)"
	umount $F/q
else
	echo "# no NVMe driver built into $(uname -r): the quota file system is tested on the cloud kernels"
fi
# Binder: a module of the standard kernels (not built in the cloud ones).
binder=$(load_module binder_linux)
if [ "$binder" = absent ]; then
	expect "binder: $(uname -r) has no binder, built in or as a module: no route" "absent|no" \
		"$binder|$([ -e /dev/binder ] && echo yes || echo no)"
else
	expect "binder: the module loads, /dev/binder is there" "ok|yes" "$binder|$([ -e /dev/binder ] && echo yes)"
	: >$F/binder.jsonl
	expect "binder: an agent may not become the context manager" EPERM \
		"$($W run --policy $P --events $F/binder.jsonl -- $WT do binder-set-mgr 2>/dev/null)"
	$WT binder-mgr 600 >$F/bm.out &
	bm=$!
	wait_match $F/bm.out 'ready|E[A-Z]+'
	expect "binder: without Warden, a process becomes the context manager and another sends it a transaction" \
		"ready|ok" "$(cat $F/bm.out)|$($WT do binder-send)"
	expect "binder: an agent's transaction to the outsider's context manager is refused" EPERM \
		"$($W run --policy $P --events $F/binder.jsonl -- $WT do binder-send 2>/dev/null)"
	expect "binder: each refusal is an ipc protection" 2 "$(grep -c '"action":"ipc"' $F/binder.jsonl)"
	kill $bm
fi
expect "protect: the outsider's nice value and OOM score are unchanged" "0|0" \
	"$(cut -d' ' -f19 /proc/$OUTSIDER/stat)|$(cat /proc/$OUTSIDER/oom_score_adj)"
# (glibc's mq_unlink() reports the kernel's EPERM as EACCES, as POSIX asks.)
expect "protect: the outsider's POSIX message queue is still there" ok "$($WT do mq-unlink /wd-out)"
expect "protect: a sched denial names the process and the change" "tamper|sched|$OUTSIDER|nice|deny|protection" \
	"$(grep '"action":"sched"' $EV | grep '"change":"nice"' | head -1 | $JF event action target_pid change decision rule)"
expect "protect: a write to an outsider's /proc file names the process" "tamper|proc_file|$OUTSIDER|deny" \
	"$(grep '"action":"proc_file"' $EV | head -1 | $JF event action target_pid decision)"
expect "protect: a page-0 mapping is refused as the capability it needs" "tamper|capability|CAP_SYS_RAWIO|deny" \
	"$(grep '"capability":"CAP_SYS_RAWIO"' $EV | head -1 | $JF event action capability decision)"
expect "protect: F_SETSIG on a file an outsider owns is refused" "EPERM|alive" \
	"$($WT owned-pipe $OUTSIDER $W run --policy $P -- $WT do setsig-write 3 4 15 2>/dev/null)|$(dead $OUTSIDER || echo alive)"
expect "protect: the outsider survived" alive "$(dead $OUTSIDER || echo alive)"
expect "protect: the outsider's CPU limit is unchanged" unlimited \
	"$(awk '/^Max cpu time/ { print $4 }' /proc/$OUTSIDER/limits)"
expect "protect: an rlimit denial names the process and the resource (RLIMIT_CPU, 0)" "tamper|rlimit|$OUTSIDER|0|deny|protection" \
	"$(grep '"action":"rlimit"' $EV | head -1 | $JF event action target_pid resource decision rule)"
expect "protect: the bind mount is still there" yes "$(grep -q " $F/alias " /proc/mounts && echo yes)"
expect "protect: the mount mount_setattr was refused on is still read-write" rw "$(mount_opts $F/msa2)"
umount $F/msa1 $F/msa2
rm -f /dev/wd-blk /dev/wd-sg /dev/wd-ib
expect "protect: a signal denial is a tamper event" "tamper|signal|$OUTSIDER|15|deny|protection" \
	"$(grep '"action":"signal"' $EV | grep '"signal":15' | head -1 | $JF event action target_pid signal decision rule)"
expect "protect: an F_SETOWN denial names the pid asked for, and SIGIO" "tamper|signal|$OUTSIDER|29|deny|protection" \
	"$(grep '"action":"signal"' $EV | grep '"signal":29' | head -1 | $JF event action target_pid signal decision rule)"
expect "protect: the outsider's segment and queue are still there" ok "$($WT do sysv-remove 5744)"
for a in bpf mount module cgroup ptrace tty perf device ipc sched proc_file notify upcall key; do
	expect "protect: $a denial reported" 1 "$(grep -c "\"action\":\"$a\"" $EV | awk '{print ($1 > 0)}')"
done
kill $OUTSIDER

# --- capabilities an agent loses over the host (WD_CAPS_REMOVED), unless
# its policy gives one back by name; in namespaces it made, it keeps them.
cat >$F/caps.sh <<'EOF'
for c in SYS_RAWIO SYS_TIME SYS_BOOT SYS_PACCT SYS_MODULE SYS_TTY_CONFIG WAKE_ALARM NET_ADMIN AUDIT_CONTROL NET_ADMIN-userns; do
	printf '%s=%s ' $c "$($WT do cap $c)"
done
EOF
# Without Warden each works (SYS_MODULE: unloading a module that is not there).
expect "caps: without Warden, a root process uses each" \
	"SYS_RAWIO=ok SYS_TIME=ok SYS_BOOT=ok SYS_PACCT=ok SYS_MODULE=ENOENT SYS_TTY_CONFIG=ok WAKE_ALARM=ok NET_ADMIN=ok AUDIT_CONTROL=ok NET_ADMIN-userns=ok " \
	"$(WT=$WT sh $F/caps.sh)"
: >$EV
expect "caps: an agent has lost each over the host, and keeps NET_ADMIN in its own namespaces" \
	"SYS_RAWIO=EPERM SYS_TIME=EPERM SYS_BOOT=EPERM SYS_PACCT=EPERM SYS_MODULE=EPERM SYS_TTY_CONFIG=EPERM WAKE_ALARM=EPERM NET_ADMIN=EPERM AUDIT_CONTROL=EPERM NET_ADMIN-userns=ok " \
	"$(WT=$WT $W run --policy $P --events $EV -- sh $F/caps.sh)"
expect "caps: a refused capability is a tamper event naming it" "tamper|capability|CAP_SYS_TIME|deny|protection" \
	"$(grep '"capability":"CAP_SYS_TIME"' $EV | head -1 | $JF event action capability decision rule)"
expect "caps: CAP_SYS_MODULE's refusal is a module event" "tamper|module|deny" \
	"$(grep '"action":"module"' $EV | head -1 | $JF event action decision)"
expect "caps: each other refused capability is reported" 8 \
	"$(grep '"action":"capability"' $EV | $JF capability | sort -u | wc -l)"
sed 's/"name": "files",/"name": "files", "capabilities": ["CAP_SYS_TIME", "CAP_NET_ADMIN"],/' $P >$F/caps.json
expect "caps: a policy gives back the ones it names, and only those" \
	"SYS_RAWIO=EPERM SYS_TIME=ok SYS_BOOT=EPERM SYS_PACCT=EPERM SYS_MODULE=EPERM SYS_TTY_CONFIG=EPERM WAKE_ALARM=EPERM NET_ADMIN=ok AUDIT_CONTROL=EPERM NET_ADMIN-userns=ok " \
	"$(WT=$WT $W run --policy $F/caps.json -- sh $F/caps.sh 2>/dev/null)"
echo '{"version": 1, "name": "c", "capabilities": ["CAP_SYS_RAWIO"]}' >$F/rawio.json
OUT=$($W policy check $F/rawio.json 2>&1)
expect "caps: a capability that only serves an escape cannot be given back" \
	"1|$F/rawio.json:1:46: CAP_SYS_RAWIO serves only an escape" "$?|$(echo "$OUT" | cut -d' ' -f1-6)"

# chattr (FS_IOC_SETFLAGS) changes a file opened read-only, with no setattr
# hook on the way: judged as a write.
expect "files: without Warden, chattr makes a file immutable (and back)" "ok ok" \
	"$($WT do chattr $F/ro/g i) $($WT do chattr $F/ro/g -)"

# --- Warden's events file: no agent may write, truncate, delete or replace
# it, whatever its policy (the rules allow everything in $F/rw/).
echo '{"before":1}' >$F/rw/events.jsonl
echo keep >$F/rw/other
OUT=$(WT=$WT $W run --policy $P --events $F/rw/events.jsonl -- sh $B events.actions)
expect_results "events file" "$OUT" "
ev_write=EPERM ev_truncate=EPERM ev_open_trunc=EPERM ev_utimes=EPERM ev_chmod=EPERM ev_unlink=EPERM ev_rename_away=EPERM ev_replace=EPERM
ev_chattr=EPERM ro_chattr=EACCES other_chattr=ok other_chattr_clear=ok
other_write=ok other_truncate=ok other_utimes=ok other_rename=ok other_unlink=ok"
expect "events file: kept whole, and the refusals are in it" "{\"before\":1}|9" \
	"$(head -1 $F/rw/events.jsonl)|$(grep -c '"action":"events_file","decision":"deny","rule":"protection"' $F/rw/events.jsonl)"
expect "events file: without --events, the same file is the agent's to write, and to truncate by O_RDONLY|O_TRUNC" \
	"ok|ok|0" "$($W run --policy $P -- sh -c "$WT do write $F/rw/events.jsonl; $WT do open-trunc-ro $F/rw/events.jsonl" 2>/dev/null | tr '\n' '|')$(stat -c %s $F/rw/events.jsonl)"

# --- Warden's binary and its policy file: what the next run loads. No agent
# may change them, even where its policy allows it ($F/rw/ allows all;
# another file there is the control). A copy of warden runs the agent.
cp $W $F/rw/warden-copy
cp $P $F/rw/policy.json
echo x >$F/rw/plain
OUT=$($F/rw/warden-copy run --events $S/own.jsonl --policy $F/rw/policy.json -- sh -c "
	echo write_policy=\$($WT do write $F/rw/policy.json) unlink_policy=\$($WT do unlink $F/rw/policy.json)
	echo replace_binary=\$($WT do rename $F/rw/plain $F/rw/warden-copy) unlink_binary=\$($WT do unlink $F/rw/warden-copy)
	echo write_plain=\$($WT do write $F/rw/plain) unlink_plain=\$($WT do unlink $F/rw/plain)" 2>/dev/null)
expect "own files: the policy file and warden's binary are refused; another file is not" \
	"write_policy=EPERM unlink_policy=EPERM replace_binary=EPERM unlink_binary=EPERM write_plain=ok unlink_plain=ok" \
	"$(echo $OUT)"
expect "own files: each refusal is a warden_file protection" 4 \
	"$(grep -c '"action":"warden_file","decision":"deny","rule":"protection"' $S/own.jsonl)"
rm -f $F/rw/warden-copy $F/rw/policy.json

# --- A file system mounted many times (the root file system bind-mounted
# into a container is): chmod, utimes and setxattr judge a dentry under
# every mount of it in the agent's namespace, each must allow.
mkdir -p $F/many
mount -t tmpfs none $F/many
mkdir $F/many/denied
echo x >$F/many/f
echo x >$F/many/denied/f
for i in 1 2 3 4 5 6 7 8 9 10; do mkdir -p $F/m$i && mount --bind $F/many $F/m$i; done
cat >$F/many.json <<J
{"version": 1, "name": "many", "file": {"default": "allow", "rules": [
 {"path": "$F/many/denied/", "deny": ["write"]}]}}
J
OUT=$($W run --policy $F/many.json -- sh -c "
	echo chmod=\$($WT do chmod $F/many/f) utimes=\$($WT do utimes $F/m7/f)
	echo chmod_denied=\$($WT do chmod $F/many/denied/f) chmod_denied_alias=\$($WT do chmod $F/m9/denied/f)" 2>/dev/null)
expect "many mounts: 11 mounts of one file system, chmod and utimes work, a denied directory stays denied under each" \
	"chmod=ok utimes=ok chmod_denied=EACCES chmod_denied_alias=EACCES" "$(echo $OUT)"
for i in 1 2 3 4 5 6 7 8 9 10; do umount $F/m$i; done
umount $F/many

# --- audit mode: the same actions all succeed, and are reported as audit
: >$EV
OUT=$(WT=$WT $W run --audit --policy $P --events $EV -- sh $B audit.actions)
expect_results "audit" "$OUT" "read_noread=ok write_ro=ok exec_nox=ok"
for path in noread/f ro/f nox/prog; do
	expect "audit: $path reported as audit" audit \
		"$(grep "\"path\":\"$F/$path\"" $EV | head -1 | $JF decision)"
done
umount $F/alias $F/alias-sub $F/alias-noread
