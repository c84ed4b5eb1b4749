# The README's main job, run where BPF LSM works (the host, or the test VM):
# a sample agent confined by policies/coding-agent.json, then what it was
# denied, from the audit events. Usage: sh tests/demo/run.sh TOP (TOP holds build/ and tests/)
TOP=${1:-.}
W=$TOP/build/warden
D=$(mktemp -d /tmp/warden-demo.XXXXXX)
HOME_=$D/home
WORK=$D/work
mkdir -p $HOME_/.ssh $HOME_/.aws $WORK/src $WORK/.git/hooks /mnt
echo "-----BEGIN OPENSSH PRIVATE KEY----- (fake)" >$HOME_/.ssh/id_ed25519
printf '[default]\naws_secret_access_key = FAKE\n' >$HOME_/.aws/credentials
echo 'export PS1="$ "' >$HOME_/.bashrc
printf 'int main(void) { return 0; }\n' >$WORK/src/main.c
echo 'API_TOKEN=fake' >$WORK/.env
printf 'ls src > build.log\n' >$WORK/build.sh

echo "== warden run --policy policies/coding-agent.json -- sh agent.sh"
cd $WORK
HOME=$HOME_ $W run --policy $TOP/build/policies/coding-agent.json --events $D/events.jsonl -- \
	sh $TOP/tests/demo/agent.sh
echo "== agent exited with status $?"
echo
echo "== what the kernel denied, from $D/events.jsonl (one JSON line per event):"
if [ -x $TOP/build/tests/jfield ]; then
	grep '"decision":"deny"' $D/events.jsonl | $TOP/build/tests/jfield event action path target_pid rule |
		sed 's/|<none>//g; s/^/  /'
fi
echo
echo "== one event in full:"
grep '"decision":"deny"' $D/events.jsonl | head -1
# The demo is also a check: secrets must have been denied.
for f in $HOME_/.ssh/id_ed25519 $HOME_/.aws/credentials $WORK/.env; do
	grep -q "\"path\":\"$f\".*\"decision\":\"deny\"" $D/events.jsonl || {
		echo "demo: expected a denial of $f" >&2
		exit 1
	}
done
echo
echo "demo: every secret read was denied in the kernel and reported."
