# A DNS server in a network namespace, for spfwalk's test and bench.
# Source it from bash after setting DNS_P (a unique prefix) and DNS_DIR
# (a temporary directory); the caller's EXIT trap must call dns_down.
#
#	dns_up BULK	namespaces $DNS_P-dns (nsd on 192.0.2.53 and
#			2001:db8:53::53, serving regress/lib/spfzone.py's
#			zones) and $DNS_P-cli (192.0.2.10), linked
#	dns_delay MS	delay every query: netem on the client's side of
#			the link, or where the kernel has no netem, a
#			forwarder (dnsdelay.py) on 192.0.2.54; sets
#			DNS_VIA to the address to ask and DNS_HOW
#	dns_cli CMD...	run CMD in the client namespace, time-bounded
#	dns_down	stop nsd by its pid, delete the namespaces
DNS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DNS_SERVER=192.0.2.53
DNS_SERVER6=2001:db8:53::53
DNS_NS=()
DNS_PID=
DNS_PIDS=()
DNS_VIA=$DNS_SERVER

dns_up() {
	local n i
	for n in dns cli; do
		ip netns add "$DNS_P-$n" || return 1
		DNS_NS+=("$DNS_P-$n")
		ip -n "$DNS_P-$n" link set lo up || return 1
	done
	ip link add c-dns netns "$DNS_P-cli" type veth \
	    peer name dns-c netns "$DNS_P-dns" || return 1
	ip -n "$DNS_P-cli" addr add 192.0.2.10/24 dev c-dns &&
	ip -n "$DNS_P-cli" addr add 2001:db8:53::10/64 dev c-dns nodad &&
	ip -n "$DNS_P-dns" addr add $DNS_SERVER/24 dev dns-c &&
	ip -n "$DNS_P-dns" addr add $DNS_SERVER6/64 dev dns-c nodad &&
	ip -n "$DNS_P-cli" link set c-dns up &&
	ip -n "$DNS_P-dns" link set dns-c up || return 1
	/usr/bin/python3 "$DNS_ROOT/regress/lib/spfzone.py" "$DNS_DIR" \
	    $DNS_SERVER $DNS_SERVER6 "$1" || return 1
	nsd-checkzone walk.test "$DNS_DIR/walk.test.zone" >/dev/null ||
	    return 1
	ip netns exec "$DNS_P-dns" nsd -d -c "$DNS_DIR/nsd.conf" \
	    >"$DNS_DIR/nsd.out" 2>&1 &
	DNS_PID=$!
	# Ready when it answers.
	for i in $(seq 50); do
		if dns_cli /usr/bin/python3 - <<'PY' 2>/dev/null
import socket, sys
q = bytes.fromhex('abcd01000001000000000000') + b'\x04walk\x04test\x00\x00\x06\x00\x01'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
s.sendto(q, ('192.0.2.53', 53))
sys.exit(0 if s.recv(512)[:2] == b'\xab\xcd' else 1)
PY
		then
			return 0
		fi
		kill -0 "$DNS_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$DNS_DIR/nsd.out" "$DNS_DIR/nsd.log" >&2 2>/dev/null
	return 1
}

dns_delay() {
	DNS_VIA=$DNS_SERVER
	DNS_HOW="tc netem delay $1 ms"
	if ip netns exec "$DNS_P-cli" tc qdisc add dev c-dns root netem \
	    delay "$1"ms 2>/dev/null; then
		return 0
	fi
	DNS_VIA=192.0.2.54
	DNS_HOW="no netem in this kernel: a forwarder holding each query $1 ms"
	ip -n "$DNS_P-dns" addr add $DNS_VIA/24 dev dns-c || return 1
	ip netns exec "$DNS_P-dns" /usr/bin/python3 \
	    "$DNS_ROOT/regress/lib/dnsdelay.py" $DNS_VIA $DNS_SERVER "$1" 300 &
	DNS_PIDS+=("$!")
	sleep 0.3
}

dns_cli() {
	timeout 60 ip netns exec "$DNS_P-cli" "$@"
}

dns_down() {
	local n p
	for p in "${DNS_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	DNS_PIDS=()
	if [ -n "$DNS_PID" ]; then
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		DNS_PID=
	fi
	for n in "${DNS_NS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	DNS_NS=()
}
