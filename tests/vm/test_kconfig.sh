# The kernel's configuration is a protection every agent has, whatever its
# policy: a root agent under a policy that allows everything cannot write a
# sysctl (kernel.ftrace_enabled unhooks every BPF trampoline, and Warden with
# it; kernel.core_pattern and kernel.modprobe make the kernel start a program
# outside the agent), nor sysfs, tracefs or securityfs. Each route is shown
# open without Warden first. Opening a file for writing is where each attack
# starts, and changes nothing, so the guest is left as it was.
scratch
policy $S/p.json "{\"path\": \"/\", \"allow\": [\"all\"]}"
SYSFS=
for f in /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/ksm/run /sys/power/pm_async; do
	[ -e $f ] && { SYSFS=$f; break; }
done
TARGETS="/proc/sys/kernel/ftrace_enabled /proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe"
TARGETS="$TARGETS $SYSFS /sys/kernel/tracing/tracing_on /sys/kernel/security/apparmor/.load"
# procfs files that are neither sysctls nor a process's own: sysrq-trigger
# crashes, reboots or kills every process (warden too) at one byte.
TARGETS="$TARGETS /proc/sysrq-trigger"
expect_match "kconfig: a sysfs attribute to try exists" '^/sys/' "$SYSFS"
for f in $TARGETS; do
	expect "kconfig: without Warden, $f opens for writing" ok "$($WT do write $f)"
done
# The same, as an agent. /proc/self/oom_score_adj first and twice: a
# process's own procfs file stays writable, and its directory entries
# (filled at a second serve) must not serve a sysctl's write later.
cat >$S/agent.sh <<J
echo "oom1=\$($WT do write /proc/self/oom_score_adj)"
echo "oom2=\$($WT do write /proc/self/oom_score_adj)"
echo "read=\$($WT do read /proc/sys/kernel/core_pattern)"
for f in $TARGETS; do echo "w\$f=\$($WT do write \$f)"; done
J
OUT=$($W run --policy $S/p.json --events $S/ev -- sh $S/agent.sh 2>&1)
expect "kconfig: an agent may write its own /proc/self/oom_score_adj" "oom1=ok oom2=ok" \
	"$(echo "$OUT" | grep '^oom' | tr '\n' ' ' | sed 's/ $//')"
expect "kconfig: an agent may read a sysctl" "read=ok" "$(echo "$OUT" | grep '^read=')"
for f in $TARGETS; do
	expect "kconfig: an agent cannot open $f for writing" "w$f=EPERM" "$(echo "$OUT" | grep "^w$f=")"
	expect "kconfig: the refusal of $f is a kernel_config protection event with its path" \
		"tamper|kernel_config|$f|deny|protection" \
		"$(grep "\"path\":\"$f\"" $S/ev | head -1 | $JF event action path decision rule)"
done
