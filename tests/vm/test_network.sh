# Network rules in the VM (BPF LSM and cgroup programs together): the shared
# cases of tests/net/cases.sh, then what only BPF LSM can judge: unix sockets
# by path (file rules, "write") and abstract unix sockets.
WN=/warden/build/tests/wnet
NET_WHERE=vm
RUNFLAGS=
ALLOW_OBJ=
. /warden/tests/net/cases.sh
. /warden/tests/net/dns.sh

scratch
mkdir -p $S/run
$WN serve-unix $S/run/ok.sock >$S/u1.out 2>&1 &
u1=$!
$WN serve-unix $S/run/docker.sock >$S/u2.out 2>&1 &
u2=$!
$WN serve-abstract wt-outside >$S/u3.out 2>&1 &
u3=$!
for f in u1 u2 u3; do wait_match $S/$f.out ready; done
policy $S/unix.json "{\"path\": \"$S/run/docker.sock\", \"deny\": [\"write\"]}, {\"path\": \"$S/run/docker.sock.dgram\", \"deny\": [\"write\"]}" \
	', "network": {"default": "allow"}'
cat >$S/unix.sh <<J
r() { n=\$1; shift; echo "\$n=\$($WN "\$@" 2>&1 | tail -1)"; }
r path_allowed unix $S/run/ok.sock
r path_denied unix $S/run/docker.sock
r dgram_allowed unix-dgram $S/run/ok.sock.dgram
r dgram_denied unix-dgram $S/run/docker.sock.dgram
r abstract_outside abstract wt-outside
$WN serve-abstract wt-inside >$S/inside.out 2>&1 &
i=0; while ! grep -qs ready $S/inside.out && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
r abstract_own abstract wt-inside
kill \$!
J
out=$($W run --events $S/unix.jsonl --policy $S/unix.json -- sh $S/unix.sh 2>/dev/null)
got() { echo "$out" | sed -n "s/^$1=//p"; }
expect "unix: connect to a socket whose path is writable" ok "$(got path_allowed)"
expect "unix: connect to a socket whose path is write-denied (docker.sock)" EACCES "$(got path_denied)"
expect "unix: datagram to a writable socket path" ok "$(got dgram_allowed)"
expect "unix: datagram to a write-denied socket path" EACCES "$(got dgram_denied)"
expect "unix: abstract socket outside the agent denied by default" EPERM "$(got abstract_outside)"
expect "unix: the agent's own abstract socket is allowed" ok "$(got abstract_own)"
expect_match "unix: path denial reported as a write of the socket's path" "\"event\":\"file\",\"action\":\"write\",\"path\":\"$S/run/docker.sock\",\"decision\":\"deny\"" "$(grep docker.sock\" $S/unix.jsonl | head -1)"
expect_match "unix: abstract denial reported" '"event":"network","action":"connect","protocol":"unix","address":"@wt-outside","port":null,"decision":"deny","rule":"network.abstract_unix"' "$(grep wt-outside $S/unix.jsonl | head -1)"

policy $S/abs.json "" ', "network": {"default": "allow", "abstract_unix": "allow", "raw": "allow"}'
out=$($W run --policy $S/abs.json -- sh -c "$WN abstract wt-outside; $WN socket packet" 2>/dev/null | tr '\n' ' ')
expect "unix: \"abstract_unix\": \"allow\" allows it; \"raw\": \"allow\" allows packet sockets" "ok ok " "$out"
policy $S/nonet.json ""
out=$($W run --policy $S/nonet.json -- sh -c "$WN abstract wt-outside; $WN socket packet" 2>/dev/null | tr '\n' ' ')
expect "unix: a policy without a network section does not restrict sockets" "ok ok " "$out"
kill $u1 $u2 $u3 2>/dev/null

# Presets: docker.sock, the display server, abstract X11 sockets, input devices.
mkdir -p /run /tmp/.X11-unix /dev/input
$WN serve-unix /run/docker.sock >$S/p1.out 2>&1 &
p1=$!
$WN serve-unix /tmp/.X11-unix/X7 >$S/p2.out 2>&1 &
p2=$!
$WN serve-abstract /tmp/.X11-unix/X7 >$S/p3.out 2>&1 &
p3=$!
[ -e /dev/input/event0 ] || mknod /dev/input/event0 c 13 64
for f in p1 p2 p3; do wait_match $S/$f.out ready; done
cat >$S/presets.json <<J
{"version": 1, "name": "presets", "presets": ["no-escalation", "no-desktop"]}
J
cat >$S/presets.sh <<J
r() { n=\$1; shift; echo "\$n=\$($WN "\$@" 2>&1 | tail -1)"; }
r docker unix /run/docker.sock
r x11 unix /tmp/.X11-unix/X7
r x11_abstract abstract /tmp/.X11-unix/X7
echo "input=\$($WT open /dev/input/event0 r 2>&1 | tail -1)"
J
out=$($W run --events $S/presets.jsonl --policy $S/presets.json -- sh $S/presets.sh 2>/dev/null)
expect "presets: no-escalation keeps the agent off docker.sock" EACCES "$(got docker)"
expect "presets: no-desktop keeps the agent off the X11 socket" EACCES "$(got x11)"
expect "presets: no-desktop denies abstract sockets (X11's @/tmp/.X11-unix/X7)" EPERM "$(got x11_abstract)"
expect "presets: no-desktop keeps the agent from reading input devices" EACCES "$(got input)"
expect_match "presets: the event names the preset" '"path":"/run/docker.sock","decision":"deny","rule":"presets.no-escalation"' "$(grep docker.sock $S/presets.jsonl | head -1)"
out=$($W run --policy $S/nonet.json -- sh $S/presets.sh 2>/dev/null)
expect "presets: without them, docker.sock is reachable (the test's server works)" ok "$(got docker)"
kill $p1 $p2 $p3 2>/dev/null
rm -f /run/docker.sock
