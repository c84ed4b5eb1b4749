# An MXC containment policy (schema 1.0.0) given to --policy, enforced.
scratch
mkdir -p $S/inputs $S/work/secrets
echo in >$S/inputs/f
echo w >$S/work/f
echo s >$S/work/secrets/k
chmod -R a+rwX $S
export F=$S WT
cat >$S/mxc.json <<J
{
  "version": "1.0.0",
  "containment": "process",
  "process": { "commandLine": "/bin/sh -c true", "timeout": 60000 },
  "filesystem": { "readonlyPaths": ["$S/inputs"], "readwritePaths": ["$S/work", "/tmp", "/dev"],
                  "deniedPaths": ["$S/work/secrets"] },
  "network": { "egress": { "default": "allow" }, "ingress": { "default": "allow", "hostLoopback": "allow" } }
}
J
expect "MXC: policy check accepts it" 0 "$(status $W policy check $S/mxc.json)"
expect_match "MXC: fields Warden cannot honour are reported, with their position" \
	"warning: $S/mxc.json:4:[0-9]+: process" "$($W policy check $S/mxc.json 2>&1 >/dev/null)"
printf '%s\n' "ro_read read \$F/inputs/f" "ro_write write \$F/inputs/f" "rw_write write \$F/work/f" \
	"rw_create create \$F/work/new" "denied_read read \$F/work/secrets/k" \
	"outside_write create /etc/mxc-was-here" >/warden/tests/vm/files/mxc.actions
OUT=$($W run --policy $S/mxc.json -- sh /warden/tests/vm/files/batch.sh mxc.actions 2>/dev/null)
rm -f /warden/tests/vm/files/mxc.actions
for pair in ro_read=ok ro_write=EACCES rw_write=ok rw_create=ok denied_read=EACCES outside_write=EACCES; do
	expect "MXC: ${pair%%=*}" "$pair" "$(echo "$OUT" | grep "^${pair%%=*}=")"
done
sed 's/"egress": { "default": "allow" }, //' $S/mxc.json >$S/mxc-net.json
expect "MXC: a policy whose network MXC would restrict is refused (125)" 125 \
	"$(status $W run --policy $S/mxc-net.json -- true)"
