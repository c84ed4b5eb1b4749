# Host rules through warden's resolver, shared by the host and the VM (see
# cases.sh for W, WN, RUNFLAGS, NET_WHERE). A real upstream (fakedns) on
# loopback logs every question it gets; the agent asks "public" resolvers
# (192.0.2.53, 8.8.8.8: unreachable here) and must be answered by warden.
FD=${FAKEDNS:-$(dirname $WN)/fakedns}
DS=$(mktemp -d /tmp/wdns.XXXXXX)
chmod 755 $DS
{
	echo "api.example.com. 300 IN A 127.0.0.7"
	echo "api.example.com. 300 IN AAAA ::1"
	echo "www.example.org. 60 IN CNAME edge.cdn.example.net."
	echo "edge.cdn.example.net. 60 IN A 127.0.0.8"
	echo "evil.example.net. 300 IN A 127.0.0.9"
	echo "short.example.org. 1 IN A 127.0.0.10"
	for i in $(seq 1 60); do echo "big.example.org. 300 IN A 127.0.1.$i"; done
} >$DS/zone
$FD -z $DS/zone -l $DS/upstream.log -s slow.example.org >$DS/port 2>$DS/fakedns.err &
DNS_PID=$!
# fakedns prints its port once it listens: wait for it (60 s at most).
_i=0
while ! grep -qs . $DS/port && [ $_i -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
UP=$(head -1 $DS/port)
cat >$DS/p.json <<J
{"version": 1, "name": "dns-agent", "network": {"default": "deny", "rules": [
  {"host": "api.example.com", "ports": ["18443"], "allow": ["connect"]},
  {"host": "*.example.org", "allow": ["connect"]},
  {"cidr": "127.0.0.8", "ports": ["18444"], "deny": ["connect"]}
]}}
J
for a in 127.0.0.7 127.0.0.8 127.0.0.9 127.0.0.10 ::1; do
	net_serve tcp $a 18443
	DNS_SERVERS="$DNS_SERVERS $!"
done
net_serve tcp 127.0.0.8 18444
DNS_SERVERS="$DNS_SERVERS $!"
net_ready
# asker.sh CASE ARGS...: note this process's pid and parent, then become wnet
# (same pid, comm "wnet"): its resolve event must name exactly that process.
cat >$DS/asker.sh <<J
echo "\$\$|\$\$|\$PPID" >$DS/\$1.pid
shift
exec $WN "\$@"
J
cat >$DS/agent.sh <<J
r() { n=\$1; shift; echo "\$n=\$($WN "\$@" 2>&1 | tr '\n' ' ' | sed 's/ \$//')"; }
w() { n=\$1; shift; echo "\$n=\$(sh $DS/asker.sh \$n "\$@" 2>&1 | tr '\n' ' ' | sed 's/ \$//')"; }
w who_udp query 192.0.2.53 who-udp.example.net
w who_tcp query 192.0.2.53 who-tcp.example.net tcp
w who_udp6 query 2001:db8::53 who-udp6.example.net
w who_tcp6 query 2001:db8::53 who-tcp6.example.net tcp
r before connect tcp 127.0.0.7 18443
r q_api query 192.0.2.53 api.example.com
r after connect tcp 127.0.0.7 18443
r other_port connect tcp 127.0.0.7 18444
r q_evil query 8.8.8.8 evil.example.net
r evil_connect connect tcp 127.0.0.9 18443
r q_cname query 192.0.2.53 www.example.org tcp
r cname_connect connect tcp 127.0.0.8 18443
r cidr_deny_ties connect tcp 127.0.0.8 18444
r q_aaaa query 2001:db8::53 api.example.com aaaa
r aaaa_connect connect tcp ::1 18443
r peer peer tcp 192.0.2.53 53
r garbage sendto 192.0.2.53 53
r q_after_garbage query 192.0.2.53 api.example.com
r q_big query 192.0.2.53 big.example.org
r q_big_tcp query 192.0.2.53 big.example.org tcp
r q_short query 192.0.2.53 short.example.org
r short_connect connect tcp 127.0.0.10 18443
sleep 8
r short_expired connect tcp 127.0.0.10 18443
start=\$(date +%s)
r q_slow query 192.0.2.53 slow.example.org
echo "slow_secs=\$((\$(date +%s) - start))"
J
out=$($W run $RUNFLAGS --dns-upstream 127.0.0.1:$UP --events $DS/ev.jsonl --policy $DS/p.json -- sh $DS/agent.sh 2>$DS/err)
expect "[$NET_WHERE] dns: run with host rules exits 0" 0 "$?"
got() { echo "$out" | sed -n "s/^$1=//p"; }
expect "[$NET_WHERE] dns: an address no allowed name gave is denied" EPERM "$(got before)"
expect "[$NET_WHERE] dns: an allowed name resolves, the reply seems to come from the server asked" "from 192.0.2.53 NOERROR A 127.0.0.7 ttl=300" "$(got q_api)"
expect "[$NET_WHERE] dns: its address may then be connected to" ok "$(got after)"
expect "[$NET_WHERE] dns: on the host rule's ports only" EPERM "$(got other_port)"
expect "[$NET_WHERE] dns: a name no host rule allows is REFUSED" "from 8.8.8.8 REFUSED" "$(got q_evil)"
expect "[$NET_WHERE] dns: the upstream never saw the refused name" "" "$(grep evil $DS/upstream.log)"
expect "[$NET_WHERE] dns: nor may its address be connected to" EPERM "$(got evil_connect)"
expect "[$NET_WHERE] dns: CNAME chain over DNS-over-TCP" "NOERROR A 127.0.0.8 ttl=60" "$(got q_cname)"
expect "[$NET_WHERE] dns: the CNAME target's address is allowed" ok "$(got cname_connect)"
expect "[$NET_WHERE] dns: a /32 cidr deny ties with a learned address: deny wins" EPERM "$(got cidr_deny_ties)"
expect "[$NET_WHERE] dns: AAAA (asked of an IPv6 server)" "from 2001:db8::53 NOERROR AAAA ::1 ttl=300" "$(got q_aaaa)"
expect "[$NET_WHERE] dns: the AAAA address is allowed" ok "$(got aaaa_connect)"
expect "[$NET_WHERE] dns: getpeername of a redirected TCP query shows the server asked" "peer 192.0.2.53 53" "$(got peer)"
expect "[$NET_WHERE] dns: a malformed query is dropped (sent fine)" ok "$(got garbage)"
expect "[$NET_WHERE] dns: and the resolver still answers after it" "from 192.0.2.53 NOERROR A 127.0.0.7 ttl=300" "$(got q_after_garbage)"
expect_match "[$NET_WHERE] dns: a big answer over UDP is truncated (TC)" 'NOERROR truncated' "$(got q_big)"
expect_match "[$NET_WHERE] dns: and comes whole over TCP" 'A 127.0.1.60 ttl=300' "$(got q_big_tcp)"
expect "[$NET_WHERE] dns: a TTL below the floor is raised to it in the reply (5 s)" "from 192.0.2.53 NOERROR A 127.0.0.10 ttl=5" "$(got q_short)"
expect "[$NET_WHERE] dns: the short-lived address works at first" ok "$(got short_connect)"
expect "[$NET_WHERE] dns: and is denied once its TTL has run out" EPERM "$(got short_expired)"
expect "[$NET_WHERE] dns: an upstream that never answers gives SERVFAIL" "from 192.0.2.53 SERVFAIL" "$(got q_slow)"
expect_match "[$NET_WHERE] dns: within the resolver's timeout, not a hang" '^[1-4]$' "$(got slow_secs)"
expect_match "[$NET_WHERE] dns: the refused name is reported" '"event":"network","action":"resolve","protocol":"dns","name":"evil.example.net","qtype":1,"decision":"deny"' "$(grep evil.example.net $DS/ev.jsonl)"
expect_match "[$NET_WHERE] dns: the expired address's denial is reported" '"address":"127.0.0.10","port":18443,"decision":"deny","rule":"network.default"' "$(grep 127.0.0.10 $DS/ev.jsonl)"
# Every resolve event names the process that asked (pid, tid, ppid, comm, exe).
JF=$(dirname $WN)/jfield
WN_EXE=$(readlink -f $WN)
for c in who_udp:who-udp who_tcp:who-tcp who_udp6:who-udp6 who_tcp6:who-tcp6; do
	n=${c%%:*}
	expect_match "[$NET_WHERE] dns: $n: the query is refused" 'REFUSED$' "$(got $n)"
	expect "[$NET_WHERE] dns: $n: its resolve event carries the asker's pid, tid, ppid, comm and exe" \
		"$(cat $DS/$n.pid 2>/dev/null)|wnet|$WN_EXE|<none>" \
		"$(grep "\"name\":\"${c#*:}.example.net\"" $DS/ev.jsonl | $JF pid tid ppid comm exe attribution)"
done
expect "[$NET_WHERE] dns: no resolve event lacks attribution" 0 \
	"$(grep '"action":"resolve"' $DS/ev.jsonl | grep -c '"attribution"')"
kill $DNS_PID $DNS_SERVERS 2>/dev/null
wait 2>/dev/null
rm -rf $DS
