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
r xdp_denied socket xdp
r vsock_denied socket vsock
r netlink_allowed socket netlink
echo "tun_denied=\$($WT do tun-attach wdtun0)"
echo "tun_new_denied=\$($WT do tun-attach wdtun1)"
$WN serve-abstract wt-inside >$S/inside.out 2>&1 &
i=0; while ! grep -qs ready $S/inside.out && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
r abstract_own abstract wt-inside
kill \$!
J
# AF_XDP sends frames on an interface around the cgroup programs, as a
# packet socket does (built into Debian's kernels); AF_VSOCK reaches the
# hypervisor's host; a persistent tun device the host made (and that the
# agent's uid owns) takes frames into the host's stack from an interface.
# vsock and tun are modules: tools/vmtest gives the guest the kernel's own.
expect "sockets: the vsock and tun modules load" "ok|ok" "$(load_module vsock)|$(load_module tun)"
[ -e /dev/net/tun ] || { mkdir -p /dev/net; mknod /dev/net/tun c 10 200; }
expect "sockets: without Warden, AF_XDP and AF_VSOCK sockets are made (no cgroup program sees them)" "ok|ok" \
	"$($WN socket xdp)|$($WN socket vsock)"
expect "sockets: without Warden, a process attaches to a persistent tun device it did not make" "ok|ok" \
	"$($WT do tun-persist wdtun0)|$($WT do tun-attach wdtun0)"
out=$($W run --events $S/unix.jsonl --policy $S/unix.json -- sh $S/unix.sh 2>/dev/null)
got() { echo "$out" | sed -n "s/^$1=//p"; }
expect "unix: connect to a socket whose path is writable" ok "$(got path_allowed)"
expect "unix: connect to a socket whose path is write-denied (docker.sock)" EACCES "$(got path_denied)"
expect "unix: datagram to a writable socket path" ok "$(got dgram_allowed)"
expect "unix: datagram to a write-denied socket path" EACCES "$(got dgram_denied)"
expect "unix: abstract socket outside the agent denied by default" EPERM "$(got abstract_outside)"
expect "unix: the agent's own abstract socket is allowed" ok "$(got abstract_own)"
expect "sockets: AF_XDP and AF_VSOCK sockets are judged as raw, and denied" "EPERM|EPERM" "$(got xdp_denied)|$(got vsock_denied)"
expect "sockets: attaching to the host's tun device is judged as raw, and denied" EPERM "$(got tun_denied)"
expect "sockets: making a tun device needs CAP_NET_ADMIN, which agents lose" EPERM "$(got tun_new_denied)"
expect_match "sockets: the tun denial is reported" '"action":"socket","protocol":"tun","address":null,"port":null,"decision":"deny","rule":"network.raw"' \
	"$(grep '"protocol":"tun"' $S/unix.jsonl | head -1)"
expect "sockets: a netlink socket (SOCK_RAW, the kernel's own) is not a raw socket" ok "$(got netlink_allowed)"
expect_match "sockets: the AF_XDP denial is reported" '"action":"socket","protocol":"xdp","address":null,"port":null,"decision":"deny","rule":"network.raw"' \
	"$(grep '"protocol":"xdp"' $S/unix.jsonl | head -1)"
expect_match "unix: path denial reported as a write of the socket's path" "\"event\":\"file\",\"action\":\"write\",\"path\":\"$S/run/docker.sock\",\"decision\":\"deny\"" "$(grep docker.sock\" $S/unix.jsonl | head -1)"
expect_match "unix: abstract denial reported" '"event":"network","action":"connect","protocol":"unix","address":"@wt-outside","port":null,"decision":"deny","rule":"network.abstract_unix"' "$(grep wt-outside $S/unix.jsonl | head -1)"

policy $S/abs.json "" ', "network": {"default": "allow", "abstract_unix": "allow", "raw": "allow"}'
out=$($W run --policy $S/abs.json -- sh -c "$WN abstract wt-outside; $WN socket packet; $WN socket xdp; $WN socket vsock; $WT do tun-attach wdtun0" 2>/dev/null | tr '\n' ' ')
expect "unix: \"abstract_unix\": \"allow\" allows it; \"raw\": \"allow\" allows packet, AF_XDP, AF_VSOCK sockets and the tun device" "ok ok ok ok ok " "$out"
$WT do tun-delete wdtun0 >/dev/null
policy $S/nonet.json ""
out=$($W run --policy $S/nonet.json -- sh -c "$WN abstract wt-outside; $WN socket packet" 2>/dev/null | tr '\n' ' ')
expect "unix: a policy without a network section does not restrict sockets" "ok ok " "$out"
kill $u1 $u2 $u3 2>/dev/null

# Source routes: the kernel sends the packet to the route's first hop, not
# to the destination connect/sendmsg judged. A packet socket outside the
# agent watches loopback for the hop. IPv4: UDP to 127.0.0.1 (allowed) by
# way of 127.0.0.3 (denied); IPv6: to fd00::1 (allowed, not even routable)
# by way of ::1 (denied), a type 2 routing header.
# srcroute_try DEST HOP MODE [WRAPPER...]: "RESULT|seen" or "RESULT|none"
srcroute_try() {
	_d=$1 _h=$2 _m=$3
	shift 3
	$WN capture $_h 600 >$S/cap.out 2>&1 &
	_c=$!
	wait_match $S/cap.out ready
	# The packet, if sent, is on loopback at once; the capture stops at its
	# first. 6.1 has been seen to let the capture miss an IPv6 one with a
	# routing header now and then (1 in about 20): a send that succeeded
	# (the route works) is tried up to 3 times before "none" is believed.
	_t=0
	while :; do
		_r=$("$@" $WN srcroute $_d 18010 $_h $_m 2>/dev/null | tail -1)
		_i=0
		while ! grep -qs seen $S/cap.out && [ $_i -lt 20 ]; do sleep 0.1; _i=$((_i + 1)); done
		_t=$((_t + 1))
		if [ "$_r" != ok ] || grep -qs seen $S/cap.out || [ $_t -ge 3 ]; then break; fi
	done
	kill -TERM $_c 2>/dev/null
	wait $_c
	echo "$_r|$(tail -1 $S/cap.out)"
}
policy $S/sr.json "" ', "network": {"default": "deny", "rules": [{"cidr": "127.0.0.1/32", "ports": ["18010"], "protocol": "udp", "allow": ["connect"]}, {"cidr": "fd00::1/128", "ports": ["18010"], "protocol": "udp", "allow": ["connect"]}]}'
for route in "127.0.0.1 127.0.0.3" "fd00::1 ::1"; do
	set -- $route
	for m in setsockopt cmsg uring; do
		r=$(srcroute_try $1 $2 $m)
		# setsockopt through io_uring (a socket command) exists since 6.7.
		if [ $m = uring ] && [ "$r" = "EOPNOTSUPP|none" ]; then
			expect "source route: $(uname -r) has no setsockopt through io_uring (6.7+): nothing reaches $2" \
				"EOPNOTSUPP|none" "$r"
			continue
		fi
		expect "source route: without Warden, UDP to $1 by way of $2 ($m) reaches $2" "ok|seen" "$r"
		: >$S/sr.jsonl
		expect "source route: to $1 by way of $2 ($m) refused under Warden; nothing reaches $2" "EPERM|none" \
			"$(srcroute_try $1 $2 $m $W run --events $S/sr.jsonl --policy $S/sr.json --)"
		expect_match "source route: the refusal ($1, $m) is a network event" \
			'"event":"network","action":"connect","protocol":"udp","address":"(0.0.0.0|::)","port":0,"decision":"deny","rule":"network.source_route"' \
			"$(grep source_route $S/sr.jsonl | head -1)"
	done
done
expect "source route: the same send without one is allowed" ok \
	"$($W run --policy $S/sr.json -- $WN sendto 127.0.0.1 18010 2>/dev/null | tail -1)"

# listen() without bind(): the kernel picks a port, and no bind hook sees
# it. Judged as a bind of port 0 on the wildcard address.
expect "listen: without Warden, listen() unbound takes a port (IPv4, IPv6)" "ok ok " \
	"$(sh -c "$WN listen 4; $WN listen 6" 2>&1 | tr '\n' ' ')"
policy $S/bind19000.json "" ', "network": {"default": "deny", "rules": [{"cidr": "0.0.0.0/0", "ports": ["19000"], "protocol": "tcp", "allow": ["bind"]}, {"cidr": "::/0", "ports": ["19000"], "protocol": "tcp", "allow": ["bind"]}]}'
out=$($W run --events $S/listen.jsonl --policy $S/bind19000.json -- \
	sh -c "$WN listen 4; $WN listen 6; $WN bind tcp 0.0.0.0 19000" 2>/dev/null | tr '\n' ' ')
expect "listen: unbound, under bind rules for one port, is refused (IPv4, IPv6); that port binds" \
	"EPERM EPERM ok " "$out"
expect_match "listen: the refusal is a bind of port 0" \
	'"event":"network","action":"bind","protocol":"tcp","address":"0.0.0.0","port":0,"decision":"deny","rule":"network.default"' \
	"$(grep '"action":"bind"' $S/listen.jsonl | head -1)"
policy $S/bindany.json "" ', "network": {"default": "deny", "rules": [{"cidr": "0.0.0.0/0", "protocol": "tcp", "allow": ["bind"]}, {"cidr": "::/0", "protocol": "tcp", "allow": ["bind"]}]}'
out=$($W run --policy $S/bindany.json -- sh -c "$WN listen 4; $WN listen 6" 2>/dev/null | tr '\n' ' ')
expect "listen: unbound, where the policy allows binding any TCP port, works" "ok ok " "$out"
policy $S/bindv4.json "" ', "network": {"default": "deny", "rules": [{"cidr": "0.0.0.0/0", "protocol": "tcp", "allow": ["bind"]}]}'
out=$($W run --policy $S/bindv4.json -- sh -c "$WN listen 4; $WN listen 6" 2>/dev/null | tr '\n' ' ')
expect "listen: an unbound IPv6 socket also takes IPv4: it needs both families allowed" "ok EPERM " "$out"

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
