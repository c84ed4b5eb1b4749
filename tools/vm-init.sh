#!/bin/sh
# /init of the Warden test VM (see tools/vmtest, which packs this file into
# the initramfs).  Runs as PID 1 under busybox sh.
#
# Mounts the pseudo file systems that BPF LSM enforcement tests need, runs
# the command stored in /warden/.vmcmd (a shell-quoted string written by the
# host) as root with cwd /warden, prints
#     WARDEN-VMTEST-STATUS=<rc>
# on the serial console and powers the machine off.
#
# Deliberately no `set -e`: PID 1 exiting panics the kernel, and a failed
# optional mount must not stop the run.

# Symlinks for all busybox applets in /bin, /sbin, /usr/bin, /usr/sbin;
# existing files are left alone.
/bin/busybox --install -s

export PATH=/warden/build:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
export TERM=dumb
umask 022

warn() { echo "vm-init: $*" >&2; }

# mnt TYPE DIR [OPTIONS]: mount, complaining on failure.  Every mount point
# exists already (in the initramfs or in the file system above it): forks
# are slow under TCG, so no mkdir or grep here.
mnt() {
	mount -t "$1" -o "${3:-defaults}" "$1" "$2" || warn "cannot mount $1 on $2"
}

mnt proc /proc
mnt devtmpfs /dev mode=0755
# The kernel gives PID 1 the /dev/console of its built-in initramfs; reopen
# it from devtmpfs anyway so that stdio is right even if that was missing.
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mnt devpts /dev/pts gid=5,mode=0620,ptmxmode=0666
mnt tmpfs /dev/shm mode=1777,nosuid,nodev
mnt tmpfs /tmp mode=1777,nosuid,nodev
mnt tmpfs /run mode=0755,nosuid,nodev
mnt sysfs /sys
mnt cgroup2 /sys/fs/cgroup nsdelegate
mnt bpf /sys/fs/bpf mode=0700
mnt securityfs /sys/kernel/security
# Optional, for bpf_printk and friends: only if the kernel has them.
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

ip link set lo up || warn "cannot bring up lo"
echo warden-vm >/proc/sys/kernel/hostname
# The initramfs is packed with every file owned by root.
chown 1000:1000 /home/agent

# Tell the host when the guest is ready, for boot-time measurement.
read -r up _ </proc/uptime
echo "WARDEN-VMTEST-BOOTED uptime=$up"

cd /warden || warn "no /warden"
if [ -r /warden/.vmcmd ]; then
	sh -c "$(cat /warden/.vmcmd)" </dev/null
	rc=$?
else
	warn "no /warden/.vmcmd"
	rc=125
fi

# Leading newline: the command's last line may lack one.
printf '\nWARDEN-VMTEST-STATUS=%s\n' "$rc"
# A write to the console returns as soon as the data is in the tty buffer,
# and poweroff would cut off whatever is not sent yet (the status line!).
# stty applies settings with tcsetattr(TCSADRAIN), which waits until all
# output has gone out: use it as tcdrain.
stty -F /dev/console -echo 2>/dev/null
poweroff -f
# Not reached if poweroff works; if it does not, reboot (qemu runs with
# -no-reboot, so a reboot ends it) and, failing that, let PID 1 exit, which
# panics and, with panic=-1, reboots too.
sleep 2
reboot -f
exit "$rc"
