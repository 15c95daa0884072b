# own_netns PREFIX [ARGS...]: as root, run this script again inside a
# network namespace of its own (lo up) and exit with its status, so that
# what it starts in what it takes for the host's namespace (spamdb's
# updates of the nft sets, spamd on 127.0.0.1) never meets a spamd-nft
# running on the machine.  Returns at once inside it (SPAMDTEST_NETNS is
# set), or when not root.  Call it before changing directory:
#	. "$(dirname "$0")/lib/ownns.sh"; own_netns tsdb "$@"
# The Python scripts do the same through spamdtest.own_netns.
own_netns() {
	local prefix=$1 ns self child rc pids
	shift
	[ "$(id -u)" -eq 0 ] && [ -z "${SPAMDTEST_NETNS:-}" ] || return 0
	self=$(readlink -f "$0")
	ns=$prefix$$
	if ! ip netns add "$ns" 2>/dev/null; then
		echo "not ok - $(basename "$0"): cannot make network namespace $ns"
		exit 1
	fi
	ip -n "$ns" link set lo up
	SPAMDTEST_NETNS=$ns ip netns exec "$ns" "$self" "$@" &
	child=$!
	# The runner's timeout signals us: the test ends through its own
	# cleanup.
	trap 'kill -TERM "$child" 2>/dev/null' TERM HUP INT
	wait "$child"
	rc=$?
	while kill -0 "$child" 2>/dev/null; do
		wait "$child"
		rc=$?
	done
	# Whatever is left in there is ours.
	pids=$(ip netns pids "$ns" 2>/dev/null)
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	exit "$rc"
}
