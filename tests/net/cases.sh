# Network enforcement cases, shared by the host (cgroup programs alone, with
# --allow-partial) and the VM (BPF LSM too). Sourced after tests/vm/lib.sh;
# the caller sets W (warden), WN (wnet), RUNFLAGS and NET_WHERE (host|vm).
# Every case is a real socket call from a confined process against real
# loopback servers, and every denial must come with a network event.
NS=$(mktemp -d /tmp/wnet.XXXXXX)
chmod 755 $NS

cat >$NS/p.json <<J
{"version": 1, "name": "net-agent", "identity": "spiffe://warden.test/net",
 "network": {"default": "deny", "rules": [
   {"cidr": "127.0.0.0/8", "ports": ["18000-18099"], "allow": ["connect"]},
   {"cidr": "127.0.0.1", "ports": ["18050"], "deny": ["connect"]},
   {"cidr": "127.0.0.1", "ports": ["18060"], "protocol": "tcp", "allow": ["connect"]},
   {"cidr": "127.0.0.1", "ports": ["18060"], "protocol": "udp", "deny": ["connect"]},
   {"cidr": "127.0.0.1/32", "ports": ["18070"], "allow": ["connect"], "audit": true},
   {"cidr": "::1/128", "ports": ["18001"], "allow": ["connect"]},
   {"cidr": "0.0.0.0/0", "ports": ["19000"], "protocol": "tcp", "allow": ["bind"]},
   {"cidr": "::/0", "ports": ["19000"], "protocol": "tcp", "allow": ["bind"]},
   {"cidr": "10.0.0.0/8", "deny": ["connect"]},
   {"cidr": "10.1.0.0/16", "allow": ["connect"]}
 ]}}
J

# Servers the allowed calls reach (TCP accepts; UDP echoes).
NET_PIDS=
NET_READY=$(mktemp -d)
# net_serve PROTO ADDR PORT: a server in the background, its "ready" line in
# $NET_READY (net_ready waits for every one: no fixed sleep).
net_serve() {
	: >"$NET_READY/$1-$2-$3"	# now: the background shell may make it late
	$WN serve "$@" >"$NET_READY/$1-$2-$3" 2>&1 &
	NET_PIDS="$NET_PIDS $!"
}
# net_ready: until every server started so far has said "ready" (60 s at most,
# counted in 0.1 s sleeps, so a slow machine stretches it); one that said
# anything else (it could not bind) is shown at once.
net_ready() {
	for _nr in "$NET_READY"/*; do
		_i=0
		while ! grep -qs . "$_nr" && [ $_i -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
		grep -qs ready "$_nr" || echo "# server ${_nr##*/} is not ready: $(cat "$_nr" 2>/dev/null)"
	done
}
net_serve tcp 127.0.0.1 18001
net_serve tcp 127.0.0.1 18050
net_serve tcp 127.0.0.1 18060
net_serve tcp 127.0.0.1 18070
net_serve tcp 127.0.0.1 17000
net_serve tcp ::1 18001
net_serve tcp ::1 18002
net_serve udp 127.0.0.1 18010
net_ready

cat >$NS/agent.sh <<J
r() { n=\$1; shift; echo "\$n=\$($WN "\$@" 2>&1 | tail -1)"; }
r tcp_allowed connect tcp 127.0.0.1 18001
r tcp_longer_deny connect tcp 127.0.0.1 18050
r tcp_default_deny connect tcp 127.0.0.1 17000
r tcp_other_loopback connect tcp 127.0.0.2 17000
r mapped_allowed connect tcp ::ffff:127.0.0.1 18001
r mapped_denied connect tcp ::ffff:127.0.0.1 18050
r v6_allowed connect tcp ::1 18001
r v6_denied connect tcp ::1 18002
r proto_tcp_allowed connect tcp 127.0.0.1 18060
r proto_udp_denied sendto 127.0.0.1 18060
r udp_sendto_allowed sendto 127.0.0.1 18010
r udp_sendto_denied sendto 127.0.0.1 17010
r udp_sendmsg_denied sendmsg 127.0.0.1 17011
r udp_sendmmsg_denied sendmmsg 127.0.0.1 17012
r udp_sendmmsg_allowed sendmmsg 127.0.0.1 18010
r udp_connect_denied connect udp 127.0.0.1 17013
r udp_mapped_denied sendto ::ffff:127.0.0.1 17014
r tfo_denied tfo 127.0.0.1 17000
r tfo_allowed tfo 127.0.0.1 18001
r uring_connect_denied uring-connect 127.0.0.1 17000
r uring_connect_allowed uring-connect 127.0.0.1 18001
r uring_sendmsg_denied uring-sendmsg 127.0.0.1 17015
r mptcp_denied connect mptcp 127.0.0.1 17000
r mptcp_allowed connect mptcp 127.0.0.1 18001
r nested_deny connect tcp 10.2.3.4 80
r nested_allow_inner sendto 10.1.2.3 80
r audit_allowed connect tcp 127.0.0.1 18070
r bind_allowed bind tcp 0.0.0.0 19000
r bind6_allowed bind tcp :: 19000
r bind_udp_denied bind udp 0.0.0.0 19000
r bind_port_denied bind tcp 127.0.0.1 19001
r raw_denied socket raw
r raw6_denied socket raw6
r packet_denied socket packet
r udplite_denied socket udplite
r tcp_socket_ok socket tcp
J

out=$($W run $RUNFLAGS --events $NS/ev.jsonl --policy $NS/p.json -- sh $NS/agent.sh 2>$NS/err)
rc=$?
got() { echo "$out" | sed -n "s/^$1=//p"; }
expect "[$NET_WHERE] confined run exits 0" 0 "$rc"
[ $rc -eq 0 ] || cat $NS/err
expect "[$NET_WHERE] tcp connect an allowed port" ok "$(got tcp_allowed)"
expect "[$NET_WHERE] tcp connect: a longer deny beats a shorter allow" EPERM "$(got tcp_longer_deny)"
expect "[$NET_WHERE] tcp connect: default deny" EPERM "$(got tcp_default_deny)"
expect "[$NET_WHERE] tcp connect: port outside the range is default" EPERM "$(got tcp_other_loopback)"
expect "[$NET_WHERE] v4-mapped IPv6 judged as IPv4 (allowed)" ok "$(got mapped_allowed)"
expect "[$NET_WHERE] v4-mapped IPv6 judged as IPv4 (denied)" EPERM "$(got mapped_denied)"
expect "[$NET_WHERE] IPv6 allowed by an IPv6 rule" ok "$(got v6_allowed)"
expect "[$NET_WHERE] IPv6 denied by default" EPERM "$(got v6_denied)"
expect "[$NET_WHERE] protocol tcp rule allows tcp" ok "$(got proto_tcp_allowed)"
expect "[$NET_WHERE] protocol udp deny on the same port denies udp" EPERM "$(got proto_udp_denied)"
expect "[$NET_WHERE] udp sendto allowed" ok "$(got udp_sendto_allowed)"
expect "[$NET_WHERE] udp sendto denied" EPERM "$(got udp_sendto_denied)"
expect "[$NET_WHERE] udp sendmsg denied" EPERM "$(got udp_sendmsg_denied)"
expect "[$NET_WHERE] udp sendmmsg denied" EPERM "$(got udp_sendmmsg_denied)"
expect "[$NET_WHERE] udp sendmmsg allowed" ok "$(got udp_sendmmsg_allowed)"
expect "[$NET_WHERE] connected udp denied at connect" EPERM "$(got udp_connect_denied)"
expect "[$NET_WHERE] udp to a v4-mapped address denied" EPERM "$(got udp_mapped_denied)"
expect "[$NET_WHERE] TCP fast open denied" EPERM "$(got tfo_denied)"
expect "[$NET_WHERE] TCP fast open allowed" ok "$(got tfo_allowed)"
expect "[$NET_WHERE] io_uring connect denied" EPERM "$(got uring_connect_denied)"
expect "[$NET_WHERE] io_uring connect allowed" ok "$(got uring_connect_allowed)"
expect "[$NET_WHERE] io_uring sendmsg denied" EPERM "$(got uring_sendmsg_denied)"
expect "[$NET_WHERE] MPTCP connect denied" EPERM "$(got mptcp_denied)"
expect "[$NET_WHERE] MPTCP connect allowed" ok "$(got mptcp_allowed)"
expect "[$NET_WHERE] 10.0.0.0/8 deny holds outside 10.1.0.0/16" EPERM "$(got nested_deny)"
expect_match "[$NET_WHERE] 10.1.0.0/16 allow beats the /8 deny" '^(ok|ENETUNREACH|ENETDOWN|Network is unreachable)$' "$(got nested_allow_inner)"
expect "[$NET_WHERE] audited allow still allowed" ok "$(got audit_allowed)"
expect "[$NET_WHERE] bind allowed port (tcp)" ok "$(got bind_allowed)"
expect "[$NET_WHERE] bind allowed port (tcp, IPv6)" ok "$(got bind6_allowed)"
expect "[$NET_WHERE] bind: protocol udp not allowed" EPERM "$(got bind_udp_denied)"
expect "[$NET_WHERE] bind: other port denied" EPERM "$(got bind_port_denied)"
expect "[$NET_WHERE] raw IPv4 socket denied" EPERM "$(got raw_denied)"
expect "[$NET_WHERE] raw IPv6 socket denied" EPERM "$(got raw6_denied)"
expect "[$NET_WHERE] packet socket denied" EPERM "$(got packet_denied)"
expect "[$NET_WHERE] UDP-Lite socket denied (not TCP/UDP)" EPERM "$(got udplite_denied)"
expect "[$NET_WHERE] plain tcp socket allowed" ok "$(got tcp_socket_ok)"

# Events: every denial above, attributed, with protocol, address and port.
ev() { grep "\"address\":\"$1\",\"port\":$2," $NS/ev.jsonl | grep "\"decision\":\"$3\"" | head -1; }
e=$(ev 127.0.0.1 18050 deny)
expect_match "[$NET_WHERE] event: denied connect is attributed" '"agent":"net-agent","identity":"spiffe://warden.test/net","instance":"[0-9a-f]{12}","pid":[0-9]+,"tid":[0-9]+,"ppid":[0-9]+,"uid":0,"gid":0,"comm":"wnet"' "$e"
expect_match "[$NET_WHERE] event: denied connect names protocol, rule" '"event":"network","action":"connect","protocol":"tcp","address":"127.0.0.1","port":18050,"decision":"deny","rule":"network.rules\[1\]"' "$e"
expect_match "[$NET_WHERE] event: default decided" '"rule":"network.default"' "$(ev 127.0.0.1 17000 deny)"
expect_match "[$NET_WHERE] event: udp sendmmsg" '"protocol":"udp"' "$(ev 127.0.0.1 17012 deny)"
expect_match "[$NET_WHERE] event: IPv6 address" '"protocol":"tcp"' "$(ev ::1 18002 deny)"
expect_match "[$NET_WHERE] event: v4-mapped reported as IPv4" '"decision":"deny"' "$(ev 127.0.0.1 17014 deny)"
expect_match "[$NET_WHERE] event: audited allow reported as allow" '"rule":"network.rules\[4\]"' "$(ev 127.0.0.1 18070 allow)"
expect_match "[$NET_WHERE] event: bind denial" '"action":"bind","protocol":"udp"' "$(ev 0.0.0.0 19000 deny)"
expect "[$NET_WHERE] event: no allowed connect reported without audit" "" "$(ev 127.0.0.1 18001 allow)"
expect_match "[$NET_WHERE] event: the exe is named" '"exe":"[^"]*wnet"' "$(ev 127.0.0.1 17000 deny)"
if [ "$NET_WHERE" = vm ]; then
	expect_match "[vm] event: raw socket denial" '"action":"socket","protocol":"raw","address":null,"port":null,"decision":"deny","rule":"network.raw"' "$(grep '"protocol":"raw"' $NS/ev.jsonl | head -1)"
	expect_match "[vm] event: packet socket denial" '"protocol":"packet"' "$(grep '"protocol":"packet"' $NS/ev.jsonl | head -1)"
fi
expect_match "[$NET_WHERE] event: UDP-Lite denial" '"action":"socket","protocol":"udplite"' "$(grep udplite $NS/ev.jsonl | head -1)"

# Audit mode: nothing denied, every would-be denial reported as audit.
out=$($W run $RUNFLAGS --audit --events $NS/audit.jsonl --policy $NS/p.json -- $WN connect tcp 127.0.0.1 18050 2>/dev/null)
expect "[$NET_WHERE] --audit: the connect goes through" ok "$out"
expect_match "[$NET_WHERE] --audit: reported as audit" '"decision":"audit","rule":"network.rules\[1\]"' "$(cat $NS/audit.jsonl)"

# A child cgroup with a program of its own cannot lift the agent's rules.
if [ -n "$ALLOW_OBJ" ]; then
	cat >$NS/override.sh <<J
cg=\$(sed -n 's/^0:://p' /proc/self/cgroup)
CG=$CG2\$cg/escape
mkdir \$CG || exit 3
bpftool prog load $ALLOW_OBJ /sys/fs/bpf/wnet-allow-\$\$ type cgroup/connect4 || exit 4
bpftool cgroup attach \$CG connect4 pinned /sys/fs/bpf/wnet-allow-\$\$ multi || exit 5
echo "override=\$(bpftool cgroup attach \$CG connect4 pinned /sys/fs/bpf/wnet-allow-\$\$ override >/dev/null 2>&1 && echo attached || echo refused)"
rm -f /sys/fs/bpf/wnet-allow-\$\$
echo \$\$ >\$CG/cgroup.procs || exit 6
echo "escape=\$($WN connect tcp 127.0.0.1 17000)"
J
	out=$($W run $RUNFLAGS --policy $NS/p.json -- sh $NS/override.sh 2>&1)
	expect "[$NET_WHERE] child cgroup with an allow-all program: still denied" EPERM "$(echo "$out" | sed -n 's/^escape=//p')"
	[ -n "$(echo "$out" | sed -n 's/^escape=//p')" ] || echo "# $out"
fi

# The unspecified address: the kernel sends a connect or a datagram to
# 0.0.0.0 (or ::) to loopback. Judged as 0.0.0.0, a policy that allows
# 0.0.0.0/0 but denies loopback's port would be stepped around.
net_serve tcp 127.0.0.1 18090
net_serve tcp ::1 18090
net_serve udp 127.0.0.1 18091
net_ready
cat >$NS/any.json <<J
{"version": 1, "name": "any-agent", "network": {"default": "deny", "rules": [
   {"cidr": "0.0.0.0/0", "allow": ["connect"]},
   {"cidr": "::/0", "allow": ["connect"]},
   {"cidr": "127.0.0.0/8", "ports": ["18090-18091"], "deny": ["connect"]},
   {"cidr": "::1", "ports": ["18090"], "deny": ["connect"]}
 ]}}
J
cat >$NS/any.sh <<J
r() { n=\$1; shift; echo "\$n=\$($WN "\$@" 2>&1 | tail -1)"; }
r any_tcp connect tcp 0.0.0.0 18090
r any6_tcp connect tcp :: 18090
r any_mapped connect tcp ::ffff:0.0.0.0 18090
r any_udp sendto 0.0.0.0 18091
r lo_tcp connect tcp 127.0.0.1 18090
J
out=$(sh $NS/any.sh 2>&1)
expect "[$NET_WHERE] without Warden, a connect to 0.0.0.0 reaches loopback" ok "$(got any_tcp)"
expect "[$NET_WHERE] without Warden, a connect to :: reaches loopback" ok "$(got any6_tcp)"
: >$NS/any.ev
out=$($W run $RUNFLAGS --events $NS/any.ev --policy $NS/any.json -- sh $NS/any.sh 2>$NS/any.err)
expect "[$NET_WHERE] loopback's denied port is denied" EPERM "$(got lo_tcp)"
expect "[$NET_WHERE] connect to 0.0.0.0 is judged as the loopback it reaches" EPERM "$(got any_tcp)"
expect "[$NET_WHERE] connect to :: is judged as the ::1 it reaches" EPERM "$(got any6_tcp)"
expect "[$NET_WHERE] connect to ::ffff:0.0.0.0 is judged as 127.0.0.1" EPERM "$(got any_mapped)"
expect "[$NET_WHERE] sendto 0.0.0.0 is judged as the loopback it reaches" EPERM "$(got any_udp)"
# Each denial's event names the loopback address it would have reached:
# 127.0.0.1:18090 for lo_tcp, any_tcp and any_mapped; ::1 for any6_tcp.
expect "[$NET_WHERE] the events name 127.0.0.1, the address 0.0.0.0 became" 3 \
	"$(grep -c '"address":"127\.0\.0\.1","port":18090,.*"decision":"deny","rule":"network\.rules\[2\]"' $NS/any.ev)"
expect "[$NET_WHERE] the event names ::1, the address :: became" 1 \
	"$(grep -c '"address":"::1","port":18090,.*"decision":"deny","rule":"network\.rules\[3\]"' $NS/any.ev)"
expect "[$NET_WHERE] the datagram's event names 127.0.0.1" 1 \
	"$(grep -c '"protocol":"udp","address":"127\.0\.0\.1","port":18091,.*"decision":"deny"' $NS/any.ev)"

for p in $NET_PIDS; do kill $p 2>/dev/null; done
wait 2>/dev/null
rm -rf $NS
