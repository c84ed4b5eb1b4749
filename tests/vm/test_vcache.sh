# The open verdict cache (bpf/lsm.bpf.c, "the open verdict cache"): an
# allowed open, exec or executable mapping is remembered in the inode, and
# whatever changes the path of an object it was judged on must make the
# next one judge again. Each case uses a file until its verdict is cached,
# changes its path, and uses it again under the new path, which the policy
# denies.
scratch
mkdir -p $S/open/d $S/open/xd $S/open/md $S/closed $S/bind
for f in d/f g k m w; do echo data >$S/open/$f; done
cp $WT $S/open/xd/prog
cp $WT $S/open/md/lib
chmod -R a+rwX $S
P=$S/vcache.json
cat >$P <<J
{"version": 1, "name": "vcache", "file": {"default": "allow", "rules": [
 {"path": "$S/closed/", "deny": ["read", "write", "exec"]},
 {"path": "$S/bind/", "deny": ["read"]}]}}
J

# rd NAME PATH: one open for reading, as NAME=RESULT (wr: for writing; ex
# NAME ACTION ARGS: wtest's exec or mmap-exec)
cat >$S/agent.sh <<EOF
rd() { echo "\$1=\$($WT do read \$2 2>/dev/null)"; }
rd dir_first $S/open/d/f; rd dir_cached $S/open/d/f
$WT do rename $S/open/d $S/closed/d >/dev/null
rd dir_renamed $S/closed/d/f
wr() { echo "\$1=\$($WT do write \$2 2>/dev/null)"; }
wr write_first $S/open/w; wr write_cached $S/open/w
$WT do rename $S/open/w $S/closed/w >/dev/null
wr write_renamed $S/closed/w
ex() { n=\$1; shift; echo "\$n=\$($WT do "\$@" 2>/dev/null)"; }
ex exec_first exec $S/open/xd/prog ids; ex exec_cached exec $S/open/xd/prog ids
$WT do rename $S/open/xd $S/closed/xd >/dev/null
ex exec_renamed exec $S/closed/xd/prog ids
ex map_first mmap-exec $S/open/md/lib; ex map_cached mmap-exec $S/open/md/lib
$WT do rename $S/open/md $S/closed/md >/dev/null
ex map_renamed mmap-exec $S/closed/md/lib
rd file_first $S/open/g; rd file_cached $S/open/g
$WT do rename $S/open/g $S/closed/g >/dev/null
rd file_renamed $S/closed/g
rd link_first $S/open/k; rd link_cached $S/open/k
$WT do link $S/open/k $S/closed/k >/dev/null
rd link_new_name $S/closed/k; rd link_old_name $S/open/k
rd mount_first $S/open/m; rd mount_cached $S/open/m
: >$S/ready
i=0; while [ ! -e $S/go ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done
rd mount_bound $S/bind/m; rd mount_old_name $S/open/m
EOF
# The bind mount is made from outside (an agent may not mount), while the
# agent waits with the verdict of open/m cached. (Each side waits for the
# other's file: the watcher as long as warden run and the agent take to get
# there, the agent 120 s at most; the watcher ends with the run.)
( wait_until 300 [ -e $S/ready ] && mount --bind $S/open $S/bind && : >$S/go ) &
WP=$!
OUT=$($W run --policy $P --events $S/events.jsonl -- sh $S/agent.sh)
kill $WP 2>/dev/null
wait $WP
umount $S/bind 2>/dev/null
for pair in dir_first=ok dir_cached=ok dir_renamed=EACCES write_first=ok write_cached=ok \
	write_renamed=EACCES exec_first=ok exec_cached=ok exec_renamed=EACCES map_first=ok \
	map_cached=ok map_renamed=EACCES file_first=ok file_cached=ok \
	file_renamed=EACCES link_first=ok link_cached=ok link_new_name=EACCES link_old_name=ok \
	mount_first=ok mount_cached=ok mount_bound=EACCES mount_old_name=ok; do
	expect "vcache: ${pair%%=*}" "$pair" "$(echo "$OUT" | grep "^${pair%%=*}=")"
done
# Every denial above is reported, as without the cache.
for p in closed/d/f closed/w closed/xd/prog closed/md/lib closed/g closed/k bind/m; do
	expect "vcache: the denial of $p is an event" 1 \
		"$(grep '"decision":"deny"' $S/events.jsonl | grep -c "\"path\":\"$S/$p\"")"
done

# A mount moved from outside (mount --move: an agent may not) carries the
# files under it to a path the policy denies, as the same (mount, dentry):
# only the mount namespace's event count tells that the entry is void.
mkdir -p $S/mvsrc $S/open/mp $S/closed/mp
echo data >$S/mvsrc/f
chmod -R a+rwX $S
mount --bind $S/mvsrc $S/open/mp
cat >$S/agent4.sh <<EOF
rd() { echo "\$1=\$($WT do read \$2 2>/dev/null)"; }
rd moved_mount_first $S/open/mp/f; rd moved_mount_cached $S/open/mp/f
: >$S/ready4
i=0; while [ ! -e $S/go4 ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done
rd moved_mount $S/closed/mp/f
EOF
( wait_until 300 [ -e $S/ready4 ] && mount --move $S/open/mp $S/closed/mp && : >$S/go4 ) &
WP=$!
OUT=$($W run --policy $P --events $S/events4.jsonl -- sh $S/agent4.sh)
kill $WP 2>/dev/null
wait $WP
umount $S/closed/mp 2>/dev/null || umount $S/open/mp 2>/dev/null
for pair in moved_mount_first=ok moved_mount_cached=ok moved_mount=EACCES; do
	expect "vcache, mount moved: ${pair%%=*}" "$pair" "$(echo "$OUT" | grep "^${pair%%=*}=")"
done
expect "vcache, mount moved: the denial is an event" 1 \
	"$(grep '"decision":"deny"' $S/events4.jsonl | grep -c "\"path\":\"$S/closed/mp/f\"")"

# The same in another mount namespace: an agent's task that made one of
# its own (unshare, keeping the copied mounts) holds it, and the agent reads
# through /proc/PID/root. A move there, made from outside, leaves the
# agent's own namespace's count where it was. The cache compares that
# count only because a file on another namespace's mount is never allowed
# (its path does not reach the agent's root: an unresolved path), so it
# is never kept: denied before the move and after it.
mkdir -p $S/nssrc $S/open/mq $S/closed/mq
echo data >$S/nssrc/f
chmod -R a+rwX $S
mount --bind $S/nssrc $S/open/mq
cat >$S/agent5.sh <<EOF
rd() { echo "\$1=\$($WT do read \$2 2>/dev/null)"; }
$WT do ns-hold $S/nspid.tmp $S/end5 >/dev/null &
i=0; while [ ! -s $S/nspid.tmp ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done
mv $S/nspid.tmp $S/nspid
i=0; while [ ! -s $S/nspid ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done
R=/proc/\$(cat $S/nspid)/root
rd other_ns_first \$R$S/open/mq/f; rd other_ns_again \$R$S/open/mq/f
: >$S/ready5
i=0; while [ ! -e $S/go5 ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done
rd other_ns_moved \$R$S/closed/mq/f
: >$S/end5; wait
EOF
( wait_until 300 [ -e $S/ready5 ] &&
  nsenter -m -t "$(cat $S/nspid)" mount --move $S/open/mq $S/closed/mq && : >$S/go5 ) &
WP=$!
OUT=$($W run --policy $P --events $S/events5.jsonl -- sh $S/agent5.sh)
kill $WP 2>/dev/null
wait $WP
umount $S/open/mq 2>/dev/null
for pair in other_ns_first=EACCES other_ns_again=EACCES other_ns_moved=EACCES; do
	expect "vcache, mount moved in another namespace: ${pair%%=*}" "$pair" \
		"$(echo "$OUT" | grep "^${pair%%=*}=")"
done
expect "vcache, mount moved in another namespace: each denial is of an unresolved path" 3 \
	"$(grep '"decision":"deny"' $S/events5.jsonl | grep -c '"path_unresolved":true')"

# The directory's entry: a first open in a directory whose verdict for any
# entry is known (no rule names anything in it) needs no walk. What must
# still be judged on its own: a rule object moved there (by identity), a
# name the policy has a rule for (n/later, made by the agent after the
# policy was loaded, has no identity: its name alone decides), an audited directory's every open, an audited right after
# a silent one, and a write on the cgroup file system (a protection,
# whatever the policy says).
mkdir -p $S/open/s $S/open/n $S/moved $S/aud/x $S/audx/y
for f in s/a s/b s/c n/a n/deny; do echo data >$S/open/$f; done
for f in a b c; do echo data >$S/aud/x/$f; done
echo data >$S/audx/y/a
cp $WT $S/audx/y/prog
echo secret >$S/moved/secret
chmod -R a+rwX $S
P2=$S/vcache-dir.json
cat >$P2 <<J
{"version": 1, "name": "vcache-dir", "file": {"default": "allow", "rules": [
 {"path": "$S/moved/secret", "deny": ["read"]},
 {"path": "$S/open/n/deny", "deny": ["read"]},
 {"path": "$S/open/n/later", "deny": ["read"]},
 {"path": "$S/aud/", "allow": ["read"], "audit": true},
 {"path": "$S/audx/", "allow": ["exec"], "audit": true}]}}
J
cat >$S/agent2.sh <<EOF
rd() { echo "\$1=\$($WT do read \$2 2>/dev/null)"; }
rd sib_a $S/open/s/a; rd sib_b $S/open/s/b; rd named_sibling_first $S/open/n/a
echo data >$S/open/n/later; rd named_later $S/open/n/later
: >$S/ready2
i=0; while [ ! -e $S/go2 ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done
rd sib_c $S/open/s/c; rd moved_rule_object $S/open/s/secret
rd named_sibling_rule $S/open/n/deny
rd audx_read $S/audx/y/a
echo "audx_exec=\$($WT do exec $S/audx/y/prog ids >/dev/null 2>&1 && echo ok)"
rd audited_a $S/aud/x/a; rd audited_b $S/aud/x/b; rd audited_c $S/aud/x/c
rd cgroup_read /sys/fs/cgroup/cgroup.controllers
echo "cgroup_write=\$($WT do cgroup-move /sys/fs/cgroup 2>/dev/null)"
EOF
# The secret is moved in from outside (the policy's identity of it was
# taken when warden run compiled it), while the agent waits with its
# directory's entry made.
( wait_until 300 [ -e $S/ready2 ] && mv $S/moved/secret $S/open/s/secret && : >$S/go2 ) &
WP=$!
OUT=$($W run --policy $P2 --events $S/events2.jsonl -- sh $S/agent2.sh)
kill $WP 2>/dev/null
wait $WP
for pair in sib_a=ok sib_b=ok sib_c=ok moved_rule_object=EACCES named_sibling_first=ok \
	named_sibling_rule=EACCES named_later=EACCES audx_read=ok audx_exec=ok audited_a=ok audited_b=ok audited_c=ok cgroup_read=ok \
	cgroup_write=EPERM; do
	expect "vcache, directory: ${pair%%=*}" "$pair" "$(echo "$OUT" | grep "^${pair%%=*}=")"
done
expect "vcache, directory: the moved rule object's denial is an event" 1 \
	"$(grep '"decision":"deny"' $S/events2.jsonl | grep -c "\"path\":\"$S/open/s/secret\"")"
expect "vcache, directory: each audited open is an event" 3 \
	"$(grep -c "\"path\":\"$S/aud/x/[abc]\"" $S/events2.jsonl)"
expect_match "vcache, directory: the audited exec after a silent read is an event" '^[1-9]' \
	"$(grep -c "\"path\":\"$S/audx/y/prog\"" $S/events2.jsonl)"
expect "vcache, directory: the cgroup write is a tamper event" 1 \
	"$(grep '"event":"tamper"' $S/events2.jsonl | grep -c '"action":"cgroup"')"

# Entries of directories above: a first open under a directory whose whole
# subtree has one verdict (no rule names anything under it) is served from
# that directory's entry, up to 4 levels above the file. What must still be
# judged: a directory of rules moved in below such a directory (a rule
# object by identity, between the file and the entry), and a name a rule
# has under a directory that is a node itself (up/t/named, made after the
# policy was loaded: its name alone decides).
mkdir -p $S/up/t $S/up/x/y $S/up/x/w $S/up/x/z $S/iddir
for f in up/t/a up/x/y/a up/x/w/b up/x/z/c iddir/f; do echo data >$S/$f; done
chmod -R a+rwX $S
P3=$S/vcache-up.json
cat >$P3 <<J
{"version": 1, "name": "vcache-up", "file": {"default": "allow", "rules": [
 {"path": "$S/iddir/", "deny": ["read"]},
 {"path": "$S/up/t/named/later", "deny": ["read"]}]}}
J
cat >$S/agent3.sh <<EOF
rd() { echo "\$1=\$($WT do read \$2 2>/dev/null)"; }
rd node_dir_first $S/up/t/a; rd up_first $S/up/x/y/a
mkdir -p $S/up/t/named && echo data >$S/up/t/named/later
rd named_below_node_dir $S/up/t/named/later
rd up_sibling $S/up/x/w/b; rd up_sibling_same_dir $S/up/x/z/c
: >$S/ready3
i=0; while [ ! -e $S/go3 ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done
rd up_after_move $S/up/x/y/a; rd moved_rule_dir $S/up/x/z/iddir/f
EOF
# The directory of rules is moved in from outside while the agent waits.
# The move (a rename) makes every entry judge again: up/x/y/a, read again,
# makes the entries of up/x/y and up/x anew, and iddir/f is then below the
# latter.
( wait_until 300 [ -e $S/ready3 ] && mv $S/iddir $S/up/x/z/iddir && : >$S/go3 ) &
WP=$!
OUT=$($W run --policy $P3 --events $S/events3.jsonl -- sh $S/agent3.sh)
kill $WP 2>/dev/null
wait $WP
for pair in node_dir_first=ok up_first=ok named_below_node_dir=EACCES up_sibling=ok \
	up_sibling_same_dir=ok up_after_move=ok moved_rule_dir=EACCES; do
	expect "vcache, directories above: ${pair%%=*}" "$pair" "$(echo "$OUT" | grep "^${pair%%=*}=")"
done
for p in up/t/named/later up/x/z/iddir/f; do
	expect "vcache, directories above: the denial of $p is an event" 1 \
		"$(grep '"decision":"deny"' $S/events3.jsonl | grep -c "\"path\":\"$S/$p\"")"
done

# The count of renames the cache compares is kept at __d_move on the
# kernels the tests run on (not rename_lock's sequence, read at each open):
# the rename cases above test that count.
expect "vcache: renames are counted at __d_move" 1 \
	"$($W -v run --policy $P -- true 2>&1 | grep -Ec '^  renames +counted at __d_move')"
