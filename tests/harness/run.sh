#!/usr/bin/env bash
# tests/harness/run.sh: self-tests of the VM harness (tools/vmtest).
#
# Each test boots the VM once.  Prints "ok - NAME" / "not ok - NAME" per
# test and a last line "N passed, N failed"; exits non-zero if any failed.
# The kernel is vmtest's default, or $WARDEN_VM_KERNEL (so the self-tests
# can be run against each kernel of a matrix).  Console logs are kept in
# build/vm/selftest-*.log.

set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vmtest=$repo/tools/vmtest
logdir=$repo/build/vm
mkdir -p "$logdir"
out=$(mktemp -d "${TMPDIR:-/tmp}/vmtest-selftest.XXXXXX")
bg='' fg='' # vmtest runs in the background and in the foreground
cleanup() {
	# vmtest kills its qemu when terminated.
	for p in $fg $bg; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start=$SECONDS
passed=0 failed=0

# vm ID [VMTEST-ARGS...]: run vmtest (or $VMTEST) with its stdout in
# $out/ID.out, stderr in $out/ID.err, exit status in $out/ID.rc, console
# log in build/vm/selftest-ID.log.  (In the background and waited for, so
# that an interruption can stop it.)
vm() {
	local id=$1
	shift
	WARDEN_VM_LOG=$logdir/selftest-$id.log "${VMTEST:-$vmtest}" "$@" \
		>"$out/$id.out" 2>"$out/$id.err" </dev/null &
	fg=$!
	wait "$fg"
	echo $? >"$out/$id.rc"
	fg=
}
rc() { cat "$out/$1.rc"; }

# result NAME ID OK [WHY]: report; on failure show what vmtest printed.
result() {
	local name=$1 id=$2 ok=$3 why=${4-}
	if [[ $ok == 1 ]]; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name${why:+ ($why)}"
		failed=$((failed + 1))
		sed 's/^/#   stdout: /' "$out/$id.out" | tail -n 20
		sed 's/^/#   stderr: /' "$out/$id.err" | tail -n 20
		echo "#   console log: ${logdir#"$repo"/}/selftest-$id.log"
	fi
}

# expect NAME ID STATUS [STDERR-TEXT]: the run exited STATUS and, if given,
# printed STDERR-TEXT on stderr.
expect() {
	local name=$1 id=$2 want=$3 text=${4-} got
	got=$(rc "$id")
	if [[ $got != "$want" ]]; then
		result "$name" "$id" 0 "exit status $got, want $want"
	elif [[ -n $text ]] && ! grep -qF -- "$text" "$out/$id.err"; then
		result "$name" "$id" 0 "no '$text' on stderr"
	else
		result "$name" "$id" 1
	fi
}

# 1. Runs first and alone: it downloads the kernel if it is not cached yet.
vm true -- true
expect "true exits 0" true 0

# 4. The hang waits for its timeout while the guest idles: run it meanwhile.
# ($bg is vmtest itself, so that killing it on interruption stops qemu.)
WARDEN_VM_LOG=$logdir/selftest-hang.log "$vmtest" --timeout 30 -- sleep 100000 \
	>"$out/hang.out" 2>"$out/hang.err" </dev/null &
bg=$!

# 2.
vm exit7 -- sh -c 'exit 7'
expect "exit status 7 is passed through" exit7 7

# 3. Everything BPF LSM enforcement tests rely on.
# shellcheck disable=SC2016 # expanded in the guest
checks='
fail=0
check() { if eval "$2"; then echo "check $1: ok"; else echo "check $1: FAILED"; fail=1; fi; }
check lsm-bpf "grep -qw bpf /sys/kernel/security/lsm"
check cgroup2 "test -e /sys/fs/cgroup/cgroup.controllers"
check bpffs "grep -q \" /sys/fs/bpf bpf \" /proc/mounts"
check securityfs "grep -q \" /sys/kernel/security securityfs \" /proc/mounts"
check lo-up "ip addr show lo | grep -q \"<.*UP.*>\""
check btf "test -e /sys/kernel/btf/vmlinux"
check devpts "test -c /dev/pts/ptmx"
check tmp-1777 "test \"\$(stat -c %a /tmp)\" = 1777"
check root "test \"\$(id -u)\" = 0"
check cwd "test \"\$(pwd)\" = /warden"
check path "test \"\${PATH%%:*}\" = /warden/build"
check agent "test \"\$(id -u agent):\$(id -g agent)\" = 1000:1000"
check agent-home "test \"\$(stat -c %U /home/agent)\" = agent"
check agent-runs "test \"\$(su agent -c \"id -u\")\" = 1000"
check nobody "test \"\$(id -u nobody)\" = 65534"
check tests-copied "test -f /warden/tests/harness/run.sh"
exit $fail
'
vm env -- sh -c "$checks"
if [[ $(rc env) == 0 ]] && ! grep -q FAILED "$out/env.out"; then
	result "guest mounts, BPF LSM, loopback, BTF, users" env 1
else
	result "guest mounts, BPF LSM, loopback, BTF, users" env 0 \
		"$(grep FAILED "$out/env.out" | tr '\n' ' ')"
fi

# 5.
vm panic -- sh -c 'echo 1 >/proc/sys/kernel/sysrq; echo c >/proc/sysrq-trigger; sleep 60'
expect "guest kernel panic exits 125" panic 125 "vmtest: guest kernel panicked"

# 6. Output of the guest command reaches the host's stdout, exactly.
token=vmtest-token-$$-$RANDOM
vm stdout -- sh -c "echo $token; echo second line >&2"
if [[ $(rc stdout) == 0 ]] && [[ $(cat "$out/stdout.out") == "$token"$'\n'"second line" ]]; then
	result "guest output arrives on stdout" stdout 1
else
	result "guest output arrives on stdout" stdout 0 "rc $(rc stdout), output not exactly the token line"
fi

# 7. No status from the guest: qemu ends without the status line.
vm nostatus -- poweroff -f
expect "no status reported exits 125" nostatus 125 "vmtest: guest never reported a status"

# 8. A dynamically linked program under build/ runs in the guest: needs its
# shared libraries in the initramfs.  Uses a scratch copy of the repository
# so the real build/ is not touched.
scratch=$out/repo
mkdir -p "$scratch/tools" "$scratch/build/bin" "$scratch/tests"
cp "$repo/tools/vmtest" "$repo/tools/vm-init.sh" "$scratch/tools/"
cp "$repo/tests/kernels" "$scratch/tests/"	# vmtest's default kernel
dyn=$(command -v env)
if ldd "$dyn" >/dev/null 2>&1; then
	cp "$dyn" "$scratch/build/bin/dyn-env"
	# shellcheck disable=SC2016 # expanded in the guest
	VMTEST=$scratch/tools/vmtest vm dynlib -- \
		/warden/build/bin/dyn-env WARDEN_OK=yes sh -c 'echo "dyn: $WARDEN_OK"'
	if [[ $(rc dynlib) == 0 ]] && grep -qx 'dyn: yes' "$out/dynlib.out"; then
		result "dynamically linked program from build/ runs" dynlib 1
	else
		result "dynamically linked program from build/ runs" dynlib 0 "rc $(rc dynlib)"
	fi
else
	echo "ok - dynamically linked program from build/ runs # SKIP $dyn is not dynamic"
fi

# 9. Single-threaded TCG unless WARDEN_VM_TCG=multi (tools/vmtest says why),
# and a wrong value is refused before anything boots.
vm tcg -v -- true
if [[ $(rc tcg) == 0 ]] && grep -q 'running: .*-accel tcg.,thread=single ' "$out/tcg.err"; then
	result "qemu runs single-threaded TCG by default" tcg 1
else
	result "qemu runs single-threaded TCG by default" tcg 0 "rc $(rc tcg), no thread=single in qemu's command"
fi
WARDEN_VM_TCG=many vm badtcg -- true
expect "WARDEN_VM_TCG=many is refused" badtcg 125 "WARDEN_VM_TCG must be 'single' or 'multi'"

# 10. What cannot boot fails loudly, with 125 and a message, never silently:
# an image that is no kernel (qemu refuses it), a kernel whose init never
# starts (rdinit=/bin/sh waits on the console: the boot deadline), and a
# package the archive does not have.
head -c 65536 /dev/urandom >"$out/notakernel"
vm notakernel --kernel "$out/notakernel" -- true
expect "an image that is no kernel exits 125" notakernel 125 "vmtest: "
WARDEN_VM_APPEND=rdinit=/bin/sh WARDEN_VM_BOOT_TIMEOUT=20 vm noinit -- true
expect "a guest that does not boot exits 125 at the boot deadline" noinit 125 \
	"vmtest: the guest did not boot within 20 s"
vm nopkg --kernel linux-image-0.0.0-0-nosuch-amd64-unsigned -- true
expect "a kernel package that does not exist exits 125" nopkg 125 \
	"vmtest: cannot download kernel package 'linux-image-0.0.0-0-nosuch-amd64-unsigned'"

# 11. Every kernel of the matrix (tests/kernels) boots, and is the kernel
# asked for: each package's own uname -r.
while read -r kind pkg _; do
	[[ $kind == kernel ]] || continue
	id=boot-${pkg//[^a-z0-9]/-}
	vm "$id" --kernel "$pkg" -- uname -r
	want=${pkg#linux-image-}
	want=${want%-unsigned}
	if [[ $(rc "$id") == 0 && $(cat "$out/$id.out") == "$want" ]]; then
		result "the matrix kernel $pkg boots" "$id" 1
	else
		result "the matrix kernel $pkg boots" "$id" 0 "rc $(rc "$id"), uname -r '$(cat "$out/$id.out")'"
	fi
done <"$repo/tests/kernels"

# 4, collected.
wait "$bg"
echo $? >"$out/hang.rc"
bg=
expect "hang times out with 124" hang 124 "vmtest: timeout after 30 s"

echo "# self-tests took $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
