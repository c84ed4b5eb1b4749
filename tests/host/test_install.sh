#!/bin/sh
# make install and the fleet packaging in dist/: every installed file, the
# unit's substituted paths and sandbox keys (and systemd-analyze verify), the
# Kubernetes YAML parsed with PyYAML, and /etc/warden/policies left alone when
# it exists. Ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/lib.sh
OUT=${WARDEN_OUT:-build}
PY=/usr/bin/python3	# Debian's, which python3-yaml (tools/deps) installs into
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

mode() { stat -c %a "$1" 2>/dev/null || echo missing; }

# install_to DESTDIR PREFIX: make install's exit status, output kept in $T/log
install_to() {
	make --no-print-directory install OUT="$OUT" DESTDIR="$1" PREFIX="$2" >"$T/log" 2>&1
	echo $?
}

# ---- make install DESTDIR=... PREFIX=/usr -----------------------------------
D=$T/root
expect "make install DESTDIR PREFIX=/usr succeeds" 0 "$(install_to "$D" /usr)"
expect "warden installed 0755" 755 "$(mode "$D/usr/bin/warden")"
expect "installed warden runs" 0 "$(status "$D/usr/bin/warden" version)"
for p in policies/*.json; do
	expect "policy $(basename "$p") installed unchanged" 0 \
		"$(status cmp "$p" "$D/usr/share/warden/policies/$(basename "$p")")"
done
U=$D/usr/lib/systemd/system/warden.service
expect "unit installed 0644" 644 "$(mode "$U")"
expect "doc ROLLOUT.md installed" 0 "$(status cmp dist/ROLLOUT.md "$D/usr/share/doc/warden/ROLLOUT.md")"
for y in dist/kubernetes/*.yaml; do
	expect "doc kubernetes/$(basename "$y") installed" 0 \
		"$(status cmp "$y" "$D/usr/share/doc/warden/kubernetes/$(basename "$y")")"
done
expect "/etc/warden/policies created" 755 "$(mode "$D/etc/warden/policies")"
expect "no temporary file left behind" "" "$(find "$D" -name '*.tmp')"
expect "nothing installed outside DESTDIR's usr and etc" "etc usr" "$(ls "$D" | tr '\n' ' ' | sed 's/ $//')"

# ---- the unit ----------------------------------------------------------------
# key KEY: the unit's value(s) for KEY, one line each
key() { sed -n "s/^$1=//p" "$U"; }
expect "no @PREFIX@ left in the unit" 0 "$(grep -c @PREFIX@ "$U")"
expect "ExecStart is the installed binary" \
	"/usr/bin/warden daemon --policy-dir /etc/warden/policies" "$(key ExecStart)"
expect "Documentation points at the installed guide" \
	"file:/usr/share/doc/warden/ROLLOUT.md" "$(key Documentation)"
expect "Type=simple" simple "$(key Type)"
expect "ExecReload sends SIGHUP" '/bin/kill -HUP $MAINPID' "$(key ExecReload)"
expect "Restart=always" always "$(key Restart)"
expect "KillMode=process (agents stay confined across restarts)" process "$(key KillMode)"
expect "RuntimeDirectory=warden" warden "$(key RuntimeDirectory)"
expect "RuntimeDirectoryPreserve=yes" yes "$(key RuntimeDirectoryPreserve)"
expect "CapabilityBoundingSet is exactly the seven" \
	"CAP_BPF CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_SYS_RESOURCE" \
	"$(key CapabilityBoundingSet | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
for c in CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_RESOURCE CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH; do
	expect_match "the unit says why it needs $c" "^#   $c +[a-z]" "$(grep "^#   $c " "$U")"
done
expect "ProtectSystem=strict" strict "$(key ProtectSystem)"
expect "ReadWritePaths: pins, cgroups, run and log directories" \
	"/sys/fs/bpf /sys/fs/cgroup /run/warden /var/log/warden" "$(key ReadWritePaths)"
expect "ProtectHome=read-only" read-only "$(key ProtectHome)"
expect "PrivateTmp=no: the daemon sees the /tmp its agents see" no "$(key PrivateTmp)"
expect "NoNewPrivileges=yes" yes "$(key NoNewPrivileges)"
expect "RestrictAddressFamilies" "AF_UNIX AF_INET AF_INET6 AF_NETLINK" "$(key RestrictAddressFamilies)"
expect "LockPersonality=yes" yes "$(key LockPersonality)"
expect "MemoryDenyWriteExecute=yes" yes "$(key MemoryDenyWriteExecute)"
expect "SystemCallArchitectures=native" native "$(key SystemCallArchitectures)"
# These would hide or freeze /sys/fs/bpf or /sys/fs/cgroup in its namespace.
for k in ProtectKernelTunables ProtectControlGroups InaccessiblePaths TemporaryFileSystem \
	ReadOnlyPaths PrivateMounts PrivateDevices; do
	expect "no $k= (it would hide or freeze /sys)" "" "$(key $k)"
done
# systemd-analyze checks every key and that ExecStart is executable: point
# a copy of the unit at the DESTDIR binary (the real path is not installed).
sed "s|^ExecStart=/usr/bin/warden|ExecStart=$D/usr/bin/warden|" "$U" >"$T/warden.service"
out=$(systemd-analyze verify "$T/warden.service" 2>&1)
rc=$?
expect "systemd-analyze verify accepts the unit${out:+ (it said: $out)}" 0 "$rc"

# ---- Kubernetes YAML ---------------------------------------------------------
# One "fact value" line per property checked; a YAML error is a failure.
facts=$("$PY" - dist/kubernetes/daemonset.yaml dist/kubernetes/policies-configmap.yaml \
	policies/coding-agent.json "$T/cm-policy.json" <<'PY' 2>&1
import json, sys, yaml
ds_docs = list(yaml.safe_load_all(open(sys.argv[1])))
cm = yaml.safe_load(open(sys.argv[2]))
kinds = {d["kind"]: d for d in ds_docs}
print("kinds", " ".join(sorted(kinds)))
ns, ds = kinds["Namespace"], kinds["DaemonSet"]
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
vols = {v["name"]: v for v in spec["volumes"]}
print("namespace", ns["metadata"]["name"], ds["metadata"]["namespace"], cm["metadata"]["namespace"])
print("hostPID", spec.get("hostPID"))
print("hostNetwork", spec.get("hostNetwork"))
print("privileged", c["securityContext"].get("privileged"))
print("args", " ".join(c["args"]))
print("update", ds["spec"]["updateStrategy"]["type"],
      ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"])
print("tolerations", json.dumps(spec["tolerations"]))
print("liveness", " ".join(c["livenessProbe"]["exec"]["command"]))
print("resources", sorted(c["resources"]["requests"]), sorted(c["resources"]["limits"]))
print("bpffs", mounts["/sys/fs/bpf"].get("mountPropagation"),
      vols[mounts["/sys/fs/bpf"]["name"]]["hostPath"]["path"])
print("securityfs", mounts["/sys/kernel/security"].get("readOnly"),
      vols[mounts["/sys/kernel/security"]["name"]]["hostPath"]["path"])
print("cgroup", vols[mounts["/sys/fs/cgroup"]["name"]]["hostPath"]["path"])
print("run", vols[mounts["/run/warden"]["name"]]["hostPath"]["path"])
print("policies", vols[mounts["/etc/warden/policies"]["name"]]["configMap"]["name"],
      cm["metadata"]["name"])
p = json.loads(cm["data"]["coding-agent.json"])
print("match", sorted(p["match"]))
print("network", "network" in p)
print("vars", "${" in cm["data"]["coding-agent.json"])
open(sys.argv[4], "w").write(cm["data"]["coding-agent.json"])
PY
)
rc=$?
expect "YAML parses (python3-yaml)" 0 "$rc"
[ "$rc" -eq 0 ] || echo "$facts" | tail -3 | sed "s/^/#   /"

fact() { echo "$facts" | sed -n "s/^$1 //p"; }
expect "daemonset.yaml: a Namespace and a DaemonSet" "DaemonSet Namespace" "$(fact kinds)"
expect "everything in namespace warden" "warden warden warden" "$(fact namespace)"
expect "hostPID: true" True "$(fact hostPID)"
expect "hostNetwork: true (metrics on the node's loopback)" True "$(fact hostNetwork)"
expect "privileged" True "$(fact privileged)"
expect "daemon args: policy dir, metrics on loopback" \
	"daemon --policy-dir /etc/warden/policies --metrics 127.0.0.1:9464 --sink stdout" "$(fact args)"
expect "RollingUpdate, maxUnavailable 1" "RollingUpdate 1" "$(fact update)"
expect "tolerates every taint" '[{"operator": "Exists"}]' "$(fact tolerations)"
expect "liveness probe runs warden status" "/usr/bin/warden status" "$(fact liveness)"
expect "resource requests and limits" "['cpu', 'memory'] ['memory']" "$(fact resources)"
expect "/sys/fs/bpf bidirectional from the host" "Bidirectional /sys/fs/bpf" "$(fact bpffs)"
expect "/sys/kernel/security read-only from the host" "True /sys/kernel/security" "$(fact securityfs)"
expect "/sys/fs/cgroup from the host" /sys/fs/cgroup "$(fact cgroup)"
expect "/run/warden from the host" /run/warden "$(fact run)"
expect "policies from the example ConfigMap" "warden-policies warden-policies" "$(fact policies)"
expect "ConfigMap policy has a match section" "['exe']" "$(fact match)"
expect "ConfigMap policy has no network section (the daemon refuses those)" False "$(fact network)"
expect "ConfigMap policy has no \${CWD}/\${HOME} (the daemon's own, not the agent's)" False "$(fact vars)"
# As the daemon parses it: from /, match section included.
out=$(cd / && "$D/usr/bin/warden" policy check "$T/cm-policy.json" 2>&1 >/dev/null)
rc=$?
expect "warden policy check accepts the ConfigMap policy${out:+ ($out)}" 0 "$rc"

# ---- an existing /etc/warden/policies is the admin's -------------------------
chmod 0750 "$D/etc/warden/policies"
echo '{"mine": true}' >"$D/etc/warden/policies/site.json"
expect "make install again succeeds" 0 "$(install_to "$D" /usr)"
expect "existing /etc/warden/policies keeps its mode" 750 "$(mode "$D/etc/warden/policies")"
expect "existing policy files are left alone" '{"mine": true}' "$(cat "$D/etc/warden/policies/site.json")"
expect "no example policy dropped into /etc" "site.json" "$(ls "$D/etc/warden/policies")"

# ---- PREFIX follows into the unit --------------------------------------------
D2=$T/local
expect "make install PREFIX=/usr/local succeeds" 0 "$(install_to "$D2" /usr/local)"
expect "ExecStart follows PREFIX" "/usr/local/bin/warden daemon --policy-dir /etc/warden/policies" \
	"$(sed -n 's/^ExecStart=//p' "$D2/usr/local/lib/systemd/system/warden.service")"
expect "docs follow PREFIX" 0 "$(status test -f "$D2/usr/local/share/doc/warden/ROLLOUT.md")"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
