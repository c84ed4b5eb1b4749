# Traffic on a real interface, not only loopback: a network namespace joined
# by a veth pair, a server inside it, the agent outside (host only: needs
# iproute2). Sourced by tests/host/network.sh after cases.sh.
NSNAME=wnet$$
VS=$(mktemp -d /tmp/wveth.XXXXXX)
if ! command -v ip >/dev/null || ! ip netns add $NSNAME 2>$VS/err; then
	fail "[host] veth: cannot make a network namespace: $(cat $VS/err)"
else
	ip link add wv$$a type veth peer name wv$$b &&
		ip link set wv$$b netns $NSNAME &&
		ip addr add 10.77.0.1/24 dev wv$$a && ip link set wv$$a up &&
		ip netns exec $NSNAME ip addr add 10.77.0.2/24 dev wv$$b &&
		ip netns exec $NSNAME ip link set wv$$b up &&
		ip netns exec $NSNAME ip link set lo up
	ip netns exec $NSNAME $WN serve tcp 10.77.0.2 18443 >/dev/null 2>&1 &
	p1=$!
	ip netns exec $NSNAME $WN serve tcp 10.77.0.2 18444 >/dev/null 2>&1 &
	p2=$!
	ip netns exec $NSNAME $WN serve udp 10.77.0.2 18445 >/dev/null 2>&1 &
	p3=$!
	sleep 1
	cat >$VS/p.json <<J
{"version": 1, "name": "veth-agent", "network": {"default": "deny", "rules": [
  {"cidr": "10.77.0.0/24", "ports": ["18443", "18445"], "allow": ["connect"]}]}}
J
	out=$($W run $RUNFLAGS --events $VS/ev.jsonl --policy $VS/p.json -- sh -c \
		"$WN connect tcp 10.77.0.2 18443; $WN connect tcp 10.77.0.2 18444; $WN sendto 10.77.0.2 18445; $WN sendto 10.77.0.2 18446" 2>/dev/null | tr '\n' ' ')
	expect "[host] veth: allowed TCP and UDP reach the other namespace, the rest is denied" "ok EPERM ok EPERM " "$out"
	expect_match "[host] veth: the denial is reported" '"address":"10.77.0.2","port":18444,"decision":"deny"' "$(cat $VS/ev.jsonl)"
	out=$($WN connect tcp 10.77.0.2 18444 2>&1)
	expect "[host] veth: the denied server is really there (reachable unconfined)" ok "$out"
	kill $p1 $p2 $p3 2>/dev/null
	ip link del wv$$a 2>/dev/null
	ip netns del $NSNAME
fi
rm -rf $VS
