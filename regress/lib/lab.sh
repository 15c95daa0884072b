# Network-namespace lab for the end-to-end tests and the demo.
# Source it from bash:	. regress/lib/lab.sh
#
# Three hosts, each a network namespace named $LAB_P-<host>:
#
#  snd: sender ----- gw: gateway, MX ----- mta: receiving MTA
#  192.0.2.10        192.0.2.1              198.51.100.25
#  2001:db8:1::10    2001:db8:1::1          2001:db8:2::25
#                    198.51.100.1
#                    2001:db8:2::1
#
# snd runs a private Postfix that relays everything to the MTA and
# retries deferred mail every few seconds; gw routes, has etc/spamd.nft
# loaded and runs spamd; the receiving MTA, a second private Postfix
# delivering mail for mx.test to a Maildir, runs on mta or on gw itself.
# Mail from snd passes gw's prerouting hook either way, so it meets
# spamd until snd's address is in a whitelist set.
#
# Every instance keeps its files under $LAB_DIR (a fresh temporary
# directory); nothing of the machine's own Postfix is touched.
#
#	lab_init NAME [PREFIX]	first: skips (exit 0) when not root or a
#				tool is missing; traps EXIT, INT, TERM
#	lab_user		the _spamd user and /var/empty
#	lab_net [HOSTS]		namespaces, links, addresses, routes
#	lab_nft			etc/spamd.nft into gw
#	lab_mx [HOST]		receiving Postfix on mta (or gw)
#	lab_sender RELAYHOST	sending Postfix on snd
#	lab_spamd ARGS...	spamd -d -v in gw; lab_spamd_stop
#	lab_send TOKEN		a message into the sender's Postfix
#	lab_elems SET		what nft says the set holds
#	lab_teardown		stop everything by pid, delete the
#				namespaces, check none is left (the EXIT
#				trap, lab_cleanup, calls it)
#	lab_e2e 4|6 gw|mta	the end-to-end scenario of t-e2e-v4/v6

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_PY=/usr/bin/python3
LAB_SPAMD=$LAB_ROOT/spamd/spamd
LAB_SPAMDB=$LAB_ROOT/spamdb/spamdb
LAB_RULES=$LAB_ROOT/etc/spamd.nft
LAB_HOSTS="snd gw mta"
LAB_SND4=192.0.2.10
LAB_SND6=2001:db8:1::10
LAB_MTA4=198.51.100.25
LAB_MTA6=2001:db8:2::25

LAB_P=
LAB_DIR=
LAB_NAME=
LAB_SPAMD_PID=
LAB_SPAMD_LOG=
LAB_SPAMD_STARTS=0	# starts logged so far in $LAB_SPAMD_LOG
LAB_DB=
LAB_NS=()		# namespaces made, for cleanup
LAB_PF=()		# Postfix instance directories started
LAB_PIDS=()		# other background processes
lab_nfail=0

lab_ok() { echo "ok - $1"; }
lab_notok() {
	echo "not ok - $1: $(printf '%s' "$2" | tr '\n' ' ')"
	lab_nfail=$((lab_nfail + 1))
}
# lab_check DESC WHY CMD...: ok when CMD succeeds, else not ok with WHY
lab_check() {
	local d=$1 why=$2
	shift 2
	if "$@"; then lab_ok "$d"; else lab_notok "$d" "$why"; fi
}
lab_skip() { echo "skip - $LAB_NAME: $1"; exit 0; }
lab_log() { [ -n "${LAB_QUIET:-}" ] || echo "# $*" >&2; }

# lab_in HOST CMD...: run CMD in a host's namespace, time-bounded
lab_in() {
	local h=$1
	shift
	timeout 60 ip netns exec "$LAB_P-$h" "$@"
}

# lab_init NAME [PREFIX]: checks, temporary directory, traps
lab_init() {
	local c
	LAB_NAME=$1
	LAB_P=${2:-lab}$$
	if [ "$(id -u)" -ne 0 ]; then
		lab_skip "needs root"
	fi
	for c in ip nft timeout postfix swaks pgrep "$LAB_PY"; do
		command -v "$c" >/dev/null 2>&1 ||
		    lab_skip "$c not installed (make deps)"
	done
	[ -f /etc/postfix/master.cf ] ||
	    [ -f /usr/share/postfix/master.cf.dist ] ||
	    lab_skip "Postfix's master.cf missing (make deps)"
	getent group postdrop >/dev/null ||
	    lab_skip "group postdrop missing (make deps)"
	# Not $TMPDIR: _spamd and postfix walk through here to their
	# own directories, so no private directory may be on the way.
	LAB_DIR=$(mktemp -d /tmp/spamd-lab.XXXXXX) || exit 1
	chmod 755 "$LAB_DIR"
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}

# The user spamd drops to and its empty chroot.
lab_user() {
	if ! getent passwd _spamd >/dev/null; then
		lab_log "creating user _spamd"
		useradd --system --no-create-home --home-dir /var/empty \
		    --shell /usr/sbin/nologin _spamd || return 1
	fi
	if [ ! -d /var/empty ]; then
		install -d -m 755 -o root -g root /var/empty || return 1
	fi
	return 0
}

# lab_has LIST WORD: WORD is one of the words of LIST
lab_has() {
	case " $1 " in *" $2 "*) return 0 ;; esac
	return 1
}

# lab_net [HOSTS]: the namespaces, links, addresses and routes
lab_net() {
	local h hosts=${1:-$LAB_HOSTS}
	for h in $hosts; do
		ip netns add "$LAB_P-$h" || return 1
		LAB_NS+=("$LAB_P-$h")
		ip -n "$LAB_P-$h" link set lo up || return 1
	done
	lab_has "$hosts" gw || return 0
	if lab_has "$hosts" snd; then
		ip link add s-gw netns "$LAB_P-snd" type veth \
		    peer name gw-s netns "$LAB_P-gw" || return 1
		# nodad: the addresses work at once, no 2 s of DAD
		ip -n "$LAB_P-snd" addr add $LAB_SND4/24 dev s-gw &&
		ip -n "$LAB_P-snd" addr add $LAB_SND6/64 dev s-gw nodad &&
		ip -n "$LAB_P-snd" link set s-gw up &&
		ip -n "$LAB_P-snd" route add default via 192.0.2.1 &&
		ip -n "$LAB_P-snd" -6 route add default via 2001:db8:1::1 &&
		ip -n "$LAB_P-gw" addr add 192.0.2.1/24 dev gw-s &&
		ip -n "$LAB_P-gw" addr add 2001:db8:1::1/64 dev gw-s nodad &&
		ip -n "$LAB_P-gw" link set gw-s up || return 1
	fi
	if lab_has "$hosts" mta; then
		ip link add m-gw netns "$LAB_P-mta" type veth \
		    peer name gw-m netns "$LAB_P-gw" || return 1
		ip -n "$LAB_P-mta" addr add $LAB_MTA4/24 dev m-gw &&
		ip -n "$LAB_P-mta" addr add $LAB_MTA6/64 dev m-gw nodad &&
		ip -n "$LAB_P-mta" link set m-gw up &&
		ip -n "$LAB_P-mta" route add default via 198.51.100.1 &&
		ip -n "$LAB_P-mta" -6 route add default via 2001:db8:2::1 &&
		ip -n "$LAB_P-gw" addr add 198.51.100.1/24 dev gw-m &&
		ip -n "$LAB_P-gw" addr add 2001:db8:2::1/64 dev gw-m nodad &&
		ip -n "$LAB_P-gw" link set gw-m up || return 1
	fi
	ip netns exec "$LAB_P-gw" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 >/dev/null
}

# The example ruleset, in the gateway.
lab_nft() {
	lab_in gw nft -f "$LAB_RULES"
}

# lab_postfix NAME < main.cf-lines: a private instance in $LAB_DIR/NAME.
# @D@ in the lines stands for the instance directory.  Debian's
# master.cf, core services only, with chroot off: a chroot jail would
# need copies of /etc files inside it.
lab_postfix() {
	local d=$LAB_DIR/$1 master=/etc/postfix/master.cf
	[ -f "$master" ] || master=/usr/share/postfix/master.cf.dist
	mkdir -p "$d/etc" "$d/spool" "$d/data" || return 1
	chown postfix "$d/data" || return 1
	awk '/^#/ || /^[ \t]/ || NF == 0 { next }
	    $1 ~ /^(smtp|pickup|cleanup|qmgr|rewrite|bounce|defer|trace|verify|flush|proxymap|proxywrite|showq|error|retry|discard|local|virtual|lmtp|anvil|scache|postlog)$/ {
		$5 = "n"; print
	    }' "$master" >"$d/etc/master.cf" || return 1
	cat >"$d/etc/main.cf" <<EOF || return 1
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $d
maillog_file = $d/maillog
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtputf8_enable = no
biff = no
alias_maps =
alias_database =
EOF
	sed "s|@D@|$d|g" >>"$d/etc/main.cf" || return 1
	postfix -c "$d/etc" check
}

# lab_pf_start HOST NAME: start an instance; wait until it listens
lab_pf_start() {
	local d=$LAB_DIR/$2 i
	lab_in "$1" postfix -c "$d/etc" start >"$d/start.log" 2>&1 || {
		cat "$d/start.log" >&2
		return 1
	}
	LAB_PF+=("$1:$2")
	for i in $(seq 50); do
		[ -s "$d/spool/pid/master.pid" ] &&
		    lab_in "$1" ss -Hltn 'sport = :25' | grep -q . && return 0
		sleep 0.1
	done
	echo "postfix $2 in $1 does not listen on port 25" >&2
	return 1
}

# lab_mx [HOST]: the receiving MTA, on mta (the default) or on the
# gateway itself; mail for mx.test goes to $LAB_DIR/mx/mail/inbox/.
lab_mx() {
	lab_postfix mx <<'EOF' || return 1
myhostname = mx.test
mydomain = test
inet_interfaces = all
inet_protocols = all
mydestination =
mynetworks = 127.0.0.0/8 [::1]/128
virtual_mailbox_domains = mx.test
virtual_mailbox_base = @D@/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
EOF
	install -d -o 65534 -g 65534 "$LAB_DIR/mx/mail" || return 1
	lab_pf_start "${1:-mta}" mx
}

# lab_sender RELAYHOST: the sender on snd; it takes mail on its loopback
# and relays it all to RELAYHOST (the MTA's address literal), retrying
# deferred mail every few seconds.  No connection caching: each attempt
# is a new connection, which the firewall judges afresh.
lab_sender() {
	lab_postfix snd <<EOF || return 1
myhostname = sender.example.net
mydomain = example.net
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = all
mydestination =
mynetworks = 127.0.0.0/8 [::1]/128
relayhost = $1
minimal_backoff_time = 3s
maximal_backoff_time = 4s
queue_run_delay = 2s
smtp_connect_timeout = 5s
smtp_connection_cache_on_demand = no
EOF
	lab_pf_start snd snd
}

# lab_spamd ARGS...: start spamd in the gateway, in the foreground with
# verbose logging to $LAB_SPAMD_LOG, database $LAB_DB; wait until both
# of its processes are ready.  LAB_SPAMD_PID is the greylister (the parent).
lab_spamd() {
	local i
	LAB_DB=${LAB_DB:-$LAB_DIR/db}
	LAB_SPAMD_LOG=$LAB_DIR/spamd.log
	# Unix sockets are not per namespace: a path of the lab's own.
	LAB_CFGSOCK=$LAB_DIR/cfg.sock
	# ip netns exec execs spamd: $! is spamd itself.
	# Not the host's /etc/spamd-nft/trusted nor /etc/mail/nospamd: the
	# lab's own (a later -t or -x in "$@" wins).
	ip netns exec "$LAB_P-gw" "$LAB_SPAMD" -d -v -f "$LAB_DB" \
	    -U "$LAB_CFGSOCK" -t "$LAB_DIR/trusted" -x "$LAB_DIR/nospamd" \
	    "$@" \
	    >>"$LAB_SPAMD_LOG" 2>&1 &
	LAB_SPAMD_PID=$!
	for i in $(seq 100); do
		if ! kill -0 "$LAB_SPAMD_PID" 2>/dev/null; then
			echo "spamd exited at start:" >&2
			tail -n 5 "$LAB_SPAMD_LOG" >&2
			LAB_SPAMD_PID=
			return 1
		fi
		# Both processes say when they are ready: the engine
		# after dropping its privileges, the greylister after
		# reconciling the sets.
		if [ "$(grep -c -e '^smtp: listening for incoming' \
		    -e '^grey: greylisting: ' "$LAB_SPAMD_LOG")" -ge \
		    "$((LAB_SPAMD_STARTS * 2 + 2))" ]; then
			LAB_SPAMD_STARTS=$((LAB_SPAMD_STARTS + 1))
			return 0
		fi
		sleep 0.1
	done
	echo "spamd is not ready after 10 s" >&2
	return 1
}

# The SMTP engine: the greylister's child.
lab_spamd_engine() {
	pgrep -P "$LAB_SPAMD_PID" | head -n 1
}

# lab_stop_pid PID [PID...]: TERM, wait up to 5 s, then KILL
lab_stop_pid() {
	local p i
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		for i in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$p" 2>/dev/null; then
			echo "pid $p ignored SIGTERM, killing it" >&2
			kill -KILL "$p" 2>/dev/null
		fi
		wait "$p" 2>/dev/null
	done
}

lab_spamd_stop() {
	local e
	[ -n "$LAB_SPAMD_PID" ] || return 0
	e=$(lab_spamd_engine)
	lab_stop_pid "$LAB_SPAMD_PID" $e
	LAB_SPAMD_PID=
}

# lab_spamd_count: connections spamd has accepted so far
lab_spamd_count() {
	grep -c ': connected (' "$LAB_SPAMD_LOG"
}

# lab_spamdb ARGS...: spamdb on spamd's database, in the gateway (where
# it may touch the sets)
lab_spamdb() {
	lab_in gw "$LAB_SPAMDB" -f "$LAB_DB" "$@"
}

# lab_send TOKEN [SUBJECT]: hand a message to the sender's Postfix
lab_send() {
	lab_in snd swaks --server 127.0.0.1 --port 25 \
	    --helo client.example.net --from alice@sender.example.net \
	    --to bob@mx.test --header "Subject: ${2:-lab $1}" \
	    --body "greylisting lab message, token $1" \
	    >>"$LAB_DIR/swaks.log" 2>&1
}

# lab_mailbox_file TOKEN: the file in the MTA's mailbox holding TOKEN
lab_mailbox_file() {
	[ -d "$LAB_DIR/mx/mail" ] &&
	    grep -rl -- "$1" "$LAB_DIR/mx/mail" 2>/dev/null | head -n 1 | grep .
}
lab_mailbox_has() {
	lab_mailbox_file "$1" >/dev/null
}

# lab_wait SECS CMD...: poll CMD every 0.2 s until it succeeds; 1 on timeout
lab_wait() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
	return 0
}

# lab_elems SET: "address timeout expires" (seconds) per element, sorted
lab_elems() {
	lab_in gw nft -j list set inet spamd "$1" | "$LAB_PY" -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        if isinstance(e, dict):
            e = e["elem"]
            print(e["val"], e.get("timeout", 0), e.get("expires", 0))
        else:
            print(e, 0, 0)
' | sort
}

# lab_addrs SET: the addresses alone, on one line
lab_addrs() {
	lab_elems "$1" | awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 }'
}

# lab_teardown: stop and remove everything lab_* started; 1 if a
# namespace could not be removed
lab_teardown() {
	local hp h n p pids left
	lab_spamd_stop
	for p in "${LAB_PIDS[@]}"; do
		lab_stop_pid "$p"
	done
	LAB_PIDS=()
	for hp in "${LAB_PF[@]}"; do
		h=${hp%%:*}
		n=${hp#*:}
		p=$(tr -d ' ' <"$LAB_DIR/$n/spool/pid/master.pid" 2>/dev/null)
		timeout 20 ip netns exec "$LAB_P-$h" \
		    postfix -c "$LAB_DIR/$n/etc" stop >/dev/null 2>&1
		[ -n "$p" ] && lab_stop_pid "$p"
	done
	LAB_PF=()
	# Whatever is still inside our namespaces was started by us
	# (a Postfix child that outlived its master, say).
	for n in "${LAB_NS[@]}"; do
		pids=$(ip netns pids "$n" 2>/dev/null)
		[ -n "$pids" ] && lab_stop_pid $pids
		ip netns del "$n" 2>/dev/null
	done
	LAB_NS=()
	left=$(ip netns list | awk -v p="$LAB_P-" 'index($1, p) == 1 { print $1 }')
	if [ -n "$left" ]; then
		echo "not ok - $LAB_NAME: namespaces left behind: $left"
		return 1
	fi
	if [ -n "$LAB_DIR" ] && [ -z "${LAB_KEEP:-}" ]; then
		rm -rf "$LAB_DIR"
	elif [ -n "$LAB_DIR" ]; then
		echo "# lab files kept in $LAB_DIR" >&2
	fi
	return 0
}

# The EXIT trap: teardown, and a failing status if anything failed.
lab_cleanup() {
	local rc=$?
	# Bounded by timeouts; a second ^C must not leave things behind.
	trap '' INT TERM HUP
	trap - EXIT
	set +e
	lab_teardown || rc=1
	[ "$lab_nfail" -gt 0 ] && [ "$rc" -eq 0 ] && rc=1
	exit "$rc"
}

# lab_deadline SECS: end the whole script (cleanup included) after SECS
lab_deadline() {
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "$1" &
		s=$!
		wait "$s" || exit 0
		echo "not ok - $LAB_NAME: still running after $1 s, stopped"
		kill -TERM $$
	) &
	LAB_PIDS+=("$!")
}

# lab_e2e 4|6 gw|mta: the end-to-end scenario of t-e2e-v4 and t-e2e-v6,
# with the receiving MTA on the gateway itself (the MX host) or on the
# mta host behind it.  A message from the sender's Postfix is greylisted
# by spamd (451), retried after the pass time, the sender is whitelisted
# in the nft set within a second of that retry (no further connection
# needed), the next retry reaches the MTA: exactly 2 connections to
# spamd; then a second message goes straight to the MTA without spamd
# seeing a connection.  passtime 1 s is below Postfix's retry interval
# (3 s here), so the first retry always passes; greyexp and whiteexp
# differ, so the timeout of the element tells which one it got.
lab_e2e() {
	local fam=$1 mx=$2 src set other relay dst t0 t1='' n1 n2 tok1 tok2 qid
	local elems passtime=1 greyexp=7200 whiteexp=18000 e timeout
	local tw='' nw='' nin='' f

	case $fam/$mx in
	4/gw)	src=$LAB_SND4 dst=192.0.2.1 ;;
	4/mta)	src=$LAB_SND4 dst=$LAB_MTA4 ;;
	6/gw)	src=$LAB_SND6 dst=2001:db8:1::1 ;;
	6/mta)	src=$LAB_SND6 dst=$LAB_MTA6 ;;
	*)	lab_notok "$LAB_NAME" "lab_e2e $fam $mx: no such setup"
		return 1 ;;
	esac
	relay="[$dst]:25"
	if [ "$fam" = 4 ]; then
		set=spamd-white other=spamd-white6
	else
		set=spamd-white6 other=spamd-white
	fi
	[ -x "$LAB_SPAMD" ] && [ -x "$LAB_SPAMDB" ] || {
		lab_notok "$LAB_NAME" "spamd or spamdb is not built (run make)"
		return 1
	}
	lab_deadline 100
	lab_user || { lab_notok "$LAB_NAME" "cannot create _spamd"; return 1; }
	if [ "$mx" = gw ]; then
		lab_net "snd gw"
	else
		lab_net "snd gw mta"
	fi || { lab_notok "$LAB_NAME" "cannot build the namespaces"; return 1; }
	if ! lab_nft 2>"$LAB_DIR/err"; then
		lab_notok "etc/spamd.nft loads in the gateway" "$(cat "$LAB_DIR/err")"
		return 1
	fi
	lab_mx "$mx" 2>"$LAB_DIR/err" &&
	    lab_sender "$relay" 2>>"$LAB_DIR/err" || {
		lab_notok "$LAB_NAME" "Postfix instances: $(tail -n 3 "$LAB_DIR/err")"
		return 1
	}
	# -S 0: no stutter, so each attempt takes no time at all.  greyexp
	# and whiteexp differ, so the element's timeout tells which it is.
	if ! lab_spamd -S 0 -h mx.test \
	    -G "${passtime}s:${greyexp}s:${whiteexp}s"; then
		lab_notok "$LAB_NAME" "spamd does not start: $(tail -n 3 "$LAB_SPAMD_LOG")"
		return 1
	fi
	lab_check "the whitelist sets start empty" \
	    "[$(lab_addrs spamd-white)] [$(lab_addrs spamd-white6)]" \
	    test -z "$(lab_addrs spamd-white)$(lab_addrs spamd-white6)"

	tok1=first-$$-$RANDOM$RANDOM
	t0=$SECONDS
	if ! lab_send "$tok1"; then
		lab_notok "the sender's Postfix takes the message" \
		    "$(tail -n 3 "$LAB_DIR/swaks.log")"
		return 1
	fi
	# Until the message arrives: the moment the greylister whitelists
	# the sender, its element must be in the set within a second, with
	# no further connection from the sender (the next retry must not be
	# what puts it there).
	while [ -z "$t1" ] && [ $((SECONDS - t0)) -lt 60 ]; do
		if [ -z "$tw" ] &&
		    grep -q "^grey: whitelisting $src" "$LAB_SPAMD_LOG"; then
			tw=$(date +%s%N)
			nw=$(grep -c "^smtp: $src: connected (" "$LAB_SPAMD_LOG")
			while [ $(($(date +%s%N) - tw)) -lt 1000000000 ]; do
				if lab_addrs "$set" | grep -qxF "$src"; then
					nin=$(grep -c "^smtp: $src: connected (" "$LAB_SPAMD_LOG")
					break
				fi
				sleep 0.05
			done
			f=$(( ($(date +%s%N) - tw) / 1000000 ))
			if [ -n "$nin" ] && [ "$nin" = "$nw" ]; then
				lab_ok "$src is in $set $f ms after the passing retry, no further connection"
			elif [ -n "$nin" ]; then
				lab_notok "$src is in $set within a second of the passing retry, no further connection" \
				    "there after $f ms, but connections from $src went from $nw to $nin"
			else
				lab_notok "$src is in $set within a second of the passing retry, no further connection" \
				    "not there after $f ms: [$(lab_addrs "$set")]"
			fi
		fi
		lab_mailbox_has "$tok1" && t1=$SECONDS
		sleep 0.1
	done
	if [ -n "$t1" ]; then
		lab_ok "the first message reaches the MTA's mailbox ($((t1 - t0)) s)"
	else
		lab_notok "the first message reaches the MTA's mailbox" \
		    "not there after 60 s; sender log: $(grep ' postfix/smtp\[' "$LAB_DIR/snd/maillog" | tail -n 2)"
	fi
	[ -n "$tw" ] || lab_notok "the greylister whitelists $src before the message arrives" \
	    "no whitelisting line in spamd's log"

	# Nothing after this makes sense if the message never arrived.
	[ -n "$t1" ] || return 1

	# What spamd saw: the redirected connections of the attempts, the
	# first and the passing retry, and no more.
	n1=$(grep -c "^smtp: $src: connected (" "$LAB_SPAMD_LOG")
	lab_check "spamd got the first attempt and the retry, exactly 2 connections from $src" \
	    "$n1 connections from $src in spamd's log" test "$n1" -eq 2
	lab_check "spamd sees the original destination $dst port 25" \
	    "no such line in spamd's log" \
	    grep -q "^smtp: $src: original destination $dst port 25\$" "$LAB_SPAMD_LOG"
	lab_check "spamd logs the tuple as greylisted" "no (GREY) line" \
	    grep -q "^smtp: (GREY) $src: <alice@sender.example.net> -> <bob@mx.test>" \
	    "$LAB_SPAMD_LOG"
	n2=$(grep -c "said: 451 Temporary failure, please try again later. (in reply to .*status=deferred\|status=deferred.*said: 451 Temporary failure" "$LAB_DIR/snd/maillog")
	lab_check "the sender's Postfix got 451 and deferred at both attempts" \
	    "$n2 deferrals with 451 in its log" test "$n2" -eq 2
	lab_check "the greylister whitelists $src after the pass time" \
	    "no whitelisting line in spamd's log" \
	    grep -q "^grey: whitelisting $src" "$LAB_SPAMD_LOG"

	# The set: the sender, with the time left of its WHITE entry.
	elems=$(lab_elems "$set")
	timeout=$(echo "$elems" | awk -v a="$src" '$1 == a { print $2 }')
	if [ -z "$timeout" ]; then
		lab_notok "$src is in $set with a timeout" "set: [$elems]"
	elif [ "$timeout" -gt "$whiteexp" ] ||
	    [ "$timeout" -lt $((whiteexp - 120)) ]; then
		lab_notok "$src is in $set with a timeout" \
		    "timeout $timeout s, want about $whiteexp s"
	else
		lab_ok "$src is in $set with a timeout ($timeout s)"
	fi
	lab_check "$set holds the sender alone, $other stays empty" \
	    "[$(lab_addrs "$set")] [$(lab_addrs "$other")]" \
	    test "$(lab_addrs "$set")|$(lab_addrs "$other")" = "$src|"
	e=$(lab_spamdb | grep "^WHITE|$src|")
	lab_check "spamdb lists $src as WHITE" "spamdb: $(lab_spamdb | head -n 3)" \
	    test -n "$e"
	# WHITE|ip|||first|pass|expire|bcount|pcount: the two attempts
	lab_check "its WHITE entry expires pass + whiteexp, bcount 2, pcount 0" \
	    "[$e]" test -n "$e" -a "$(echo "$e" | awk -F'|' -v w="$whiteexp" \
	    '{ print ($7 - $6 == w) "|" $8 "|" $9 }')" = "1|2|0"
	lab_check "the MTA on $mx got the message from $src itself (not NATed)" \
	    "no connect from $src in the MTA's log" \
	    grep -q "connect from unknown\[$src\]" "$LAB_DIR/mx/maillog"

	# The second message goes around spamd.
	n1=$(lab_spamd_count)
	tok2=second-$$-$RANDOM$RANDOM
	: >"$LAB_DIR/swaks.log"
	t0=$SECONDS
	if ! lab_send "$tok2"; then
		lab_notok "the sender's Postfix takes the second message" \
		    "$(tail -n 3 "$LAB_DIR/swaks.log")"
		return 1
	fi
	qid=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' "$LAB_DIR/swaks.log" | tail -n 1)
	if lab_wait 20 lab_mailbox_has "$tok2"; then
		lab_ok "the second message reaches the MTA's mailbox ($((SECONDS - t0)) s)"
	else
		lab_notok "the second message reaches the MTA's mailbox" \
		    "not there after 20 s"
	fi
	n2=$(lab_spamd_count)
	lab_check "spamd sees no connection for the second message" \
	    "spamd's connection count went from $n1 to $n2" test "$n1" = "$n2"
	lab_check "the second message was sent at the first attempt" \
	    "queue id [$qid]: $(grep "$qid: to=" "$LAB_DIR/snd/maillog" 2>/dev/null | tail -n 2)" \
	    test -n "$qid" -a \
	    "$(grep -c "$qid: to=<bob@mx.test>.*status=deferred" "$LAB_DIR/snd/maillog")" = 0 -a \
	    "$(grep -c "$qid: to=<bob@mx.test>.*relay=$dst\[$dst\]:25.*status=sent" "$LAB_DIR/snd/maillog")" = 1
	return 0
}
