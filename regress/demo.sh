#!/bin/bash
# make demo: spamd at work in a throwaway lab of network namespaces,
# narrated step by step.  A sender running Postfix, a gateway running
# nftables and spamd, a mail server running a second Postfix; a message
# is greylisted, retried, whitelisted in the nft set and delivered, a
# greylisted connection gets its banner one byte per second, and a host
# on a blacklist loaded by spamd-setup is tarpitted and refused.  Everything
# it starts is stopped and removed at the end, also on ^C.  Needs root.
# About a minute.
#
# Every step checks what it narrates (the log line, the reply, the set,
# the timing) and the demo stops with "demo failed: what did not happen"
# when it did not.  DEMO_TAP=1 (regress/t-demo, so make check) prints
# each check as the suite's "ok - ..." or "not ok - ...: why" line.
# Nothing of the machine itself is used: spamd and spamd-setup meet in
# the gateway's namespace, over a socket file of the lab's own.
cd "$(dirname "$0")/.." || exit 1
. regress/lib/lab.sh

TAP=${DEMO_TAP:-}
if [ "$(id -u)" -ne 0 ]; then
	[ -n "$TAP" ] && { echo "skip - demo: needs root"; exit 0; }
	echo "demo: needs root (network namespaces, nftables)" >&2
	exit 1
fi
for f in "$LAB_SPAMD" "$LAB_SPAMDB" "$LAB_ROOT/spamd-setup/spamd-setup"; do
	if [ ! -x "$f" ]; then
		[ -n "$TAP" ] && { echo "not ok - demo: $f is not built"; exit 1; }
		echo "demo: $f is not built: run make demo" >&2
		exit 1
	fi
done

if [ -t 1 ]; then
	B=$(printf '\033[1m') N=$(printf '\033[0m')
else
	B='' N=''
fi
T0=$(date +%s.%N)
PASS=5		# spamd's pass time, seconds (25 minutes by default)
TARPIT=192.0.2.66	# a second address of the sender, for the tarpit

# elapsed: seconds since the start, "  12.3s"
elapsed() {
	awk -v t0="$T0" -v t="$(date +%s.%N)" 'BEGIN { printf "%6.1fs", t - t0 }'
}
step() {
	printf '\n%s%s  == %s%s\n' "$B" "$(elapsed)" "$*" "$N"
}
say() {
	printf '%s  %s\n' "$(elapsed)" "$*"
}
# show HOST CMD...: print the command as typed on HOST, run it there
show() {
	local h=$1
	shift
	printf '%s  %s%s# %s%s\n' "$(elapsed)" "$B" "$h" "$*" "$N"
	lab_in "$h" "$@" 2>&1 | sed 's/^/           /'
}
die() {
	if [ -n "$TAP" ]; then
		echo "not ok - demo: $(printf '%s' "$*" | tr '\n' ' ')"
	else
		printf '%s  %sdemo failed: %s%s\n' "$(elapsed)" "$B" "$*" "$N"
	fi
	lab_nfail=$((lab_nfail + 1))
	exit 1
}
# check WHAT CMD...: the narration's claim WHAT, verified by CMD (quiet;
# what it prints says why it failed).  The demo goes on only if it holds.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		if [ -n "$TAP" ]; then
			echo "ok - demo: $what"
		else
			say "  (checked: $what)"
		fi
		return 0
	fi
	die "$what${out:+: $(printf '%s' "$out" | tail -n 4)}"
}
# watch WHAT SCRIPT: the Python SCRIPT in snd, with $TARPIT and the MTA's
# address as arguments, its lines shown; it exits 1, its last line saying
# why, when WHAT did not happen
watch() {
	local rc
	lab_in snd "$LAB_PY" -c "$2" "$TARPIT" "$LAB_MTA4" >"$LAB_DIR/watch.out" 2>&1
	rc=$?
	cat "$LAB_DIR/watch.out"
	check "$1" eval "[ $rc -eq 0 ] || tail -n 1 '$LAB_DIR/watch.out'; [ $rc -eq 0 ]"
}
# expect FILE ERE: a line of FILE matches ERE, or say which is missing
expect() {
	grep -Eq -- "$2" "$1" && return 0
	echo "no line /$2/ in ${1#"$LAB_DIR"/}"
	return 1
}
# refute FILE ERE: no line of FILE matches ERE
refute() {
	local l
	l=$(grep -E -m 1 -- "$2" "$1") || return 0
	echo "${1#"$LAB_DIR"/} says: $l"
	return 1
}

# Log lines as they come: spamd's, the sender's delivery attempts and
# the MTA's deliveries, each shortened and labelled.
declare -A seen
follow_one() {
	local f=$1 tag=$2 filter=$3 n
	[ -f "$f" ] || return 0
	n=$(wc -l <"$f")
	if [ "$n" -gt "${seen[$f]:-0}" ]; then
		sed -n "$((${seen[$f]:-0} + 1)),${n}p" "$f" |
		    grep -E -- "$filter" |
		    sed -E -e 's/^[A-Z][a-z]{2} +[0-9]+ [0-9:]+ [^ ]+ //' \
			-e 's/\[[0-9]+\]:/:/' -e 's/, delays=[^,]*//' \
			-e 's/, dsn=[^,]*//' |
		    while IFS= read -r l; do
			printf '%s  %-7s| %s\n' "$(elapsed)" "$tag" "$l"
		    done
		seen[$f]=$n
	fi
}
follow_all() {
	follow_one "$LAB_SPAMD_LOG" spamd \
	    ': connected|GREY|whitelisting|new entry|disconnected|nft table'
	follow_one "$LAB_DIR/snd/maillog" sender 'postfix/smtp\[.*status='
	follow_one "$LAB_DIR/mx/maillog" mx \
	    'smtpd\[.*: connect from|status=sent'
}
# follow_until SECS CMD...: print log lines until CMD succeeds
follow_until() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		follow_all
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.3
	done
	follow_all
	return 0
}
skip_logs() {
	local f
	for f in "$LAB_SPAMD_LOG" "$LAB_DIR/snd/maillog" "$LAB_DIR/mx/maillog"; do
		[ -f "$f" ] && seen[$f]=$(wc -l <"$f")
	done
}

# At the end, or on ^C: stop and remove everything, and say so.
DONE=
demo_exit() {
	local rc=$?
	trap '' INT TERM HUP
	trap - EXIT
	[ -n "$DONE" ] || [ "$rc" -ne 130 ] || step "Interrupted"
	step "Cleaning up: spamd, both Postfix instances, the namespaces"
	if lab_teardown; then
		say "nothing of the demo is left ($(ip netns list | grep -c "^$LAB_P-") namespaces named $LAB_P-*)"
		[ -n "$TAP" ] && echo "ok - demo: nothing of the lab is left"
	else
		rc=1
	fi
	if [ -n "$DONE" ] && [ "$rc" -eq 0 ]; then
		step "Done"
	elif [ "$rc" -eq 0 ]; then
		rc=1
	fi
	exit "$rc"
}

lab_init demo demo
trap demo_exit EXIT
LAB_QUIET=1
# The whole demo, cleanup aside, in bounded time: it stops rather than hangs.
[ -n "$TAP" ] && lab_deadline 300
cat <<EOF
${B}spamd demo${N}: greylisting and tarpitting with nftables, in network
namespaces of this machine.  Nothing outside them is changed (apart from
creating the user _spamd if it is missing); everything is removed at the
end, also if you press ^C.
EOF

step "The user spamd runs as, and its empty chroot"
lab_user || die "cannot create user _spamd"
say "$(getent passwd _spamd)"
check "user _spamd and /var/empty exist" test -d /var/empty -a -n "$(getent passwd _spamd)"

step "Three hosts, each a network namespace ($LAB_P-snd, $LAB_P-gw, $LAB_P-mta)"
lab_net || die "cannot build the namespaces"
ip -n "$LAB_P-snd" addr add $TARPIT/24 dev s-gw || die "address $TARPIT"
cat <<EOF
         snd (sender)           gw (gateway: nftables + spamd)         mta (mail server)
      192.0.2.10, .66 --------- 192.0.2.1 | 198.51.100.1 --------- 198.51.100.25
      2001:db8:1::10            2001:db8:1::1 | 2001:db8:2::1      2001:db8:2::25
       Postfix (sender)            spamd on port 8025               Postfix (MX for mx.test)
EOF

step "Load etc/spamd.nft in the gateway: SMTP from hosts not whitelisted goes to spamd"
lab_nft || die "nft -f etc/spamd.nft failed"
show gw nft list chain inet spamd prerouting
show gw nft list set inet spamd spamd-white
nft_redirects() {
	lab_in gw nft list chain inet spamd prerouting |
	    grep -q 'tcp dport 25 redirect to :8025' ||
	    { echo "no redirect to :8025 in the prerouting chain"; return 1; }
	[ -z "$(lab_addrs spamd-white)" ] ||
	    { echo "spamd-white holds $(lab_addrs spamd-white)"; return 1; }
}
check "gw redirects tcp/25 to :8025, spamd-white starts empty" nft_redirects

step "Start the mail server (Postfix, mx.test, delivers to a Maildir)"
lab_mx 2>"$LAB_DIR/err" || die "Postfix on mta: $(tail -n 3 "$LAB_DIR/err")"
say "listening on 198.51.100.25 port 25"
check "Postfix listens on port 25 in mta" eval 'lab_in mta ss -Hltn "sport = :25" | grep -q .'

step "Start the sender's Postfix: relays to [198.51.100.25], retries deferred mail every few seconds"
lab_sender "[$LAB_MTA4]:25" 2>"$LAB_DIR/err" ||
    die "Postfix on snd: $(tail -n 3 "$LAB_DIR/err")"
say "minimal_backoff_time = 3s, queue_run_delay = 2s (the defaults are 300s and 300s)"

step "Start spamd in the gateway"
say "spamd -d -v -h mx.test -G ${PASS}s:1h:1h -B 1 -f $LAB_DIR/db"
say "  -G ${PASS}s:1h:1h  pass time ${PASS} s instead of 25 minutes, so that this demo is short"
say "  (-S 10, the default: greylisted clients get their replies one byte per second"
say "   for the first 10 seconds of each connection)"
say "  -B 1  stutter at most one blacklisted client at a time, so that the demo can"
say "        show a blacklisted dialogue to its end without waiting minutes"
lab_spamd -h mx.test -G "${PASS}s:1h:1h" -B 1 ||
    die "spamd does not start: $(tail -n 3 "$LAB_SPAMD_LOG")"
skip_logs
follow_all
# What /proc says about the two processes.
say "two processes, as /proc shows them:"
proc() {
	say "$(printf '  %-12s pid %-7s' "$1" "$2")$(awk '$1 == "Uid:" ||
	    $1 == "CapEff:" { printf "%s %s  ", $1, $2 }' "/proc/$2/status")root $(readlink "/proc/$2/root")"
}
proc greylister "$LAB_SPAMD_PID"
proc "smtp engine" "$(lab_spamd_engine)"
say "(uid $(id -u _spamd) is _spamd; CapEff 1000 is CAP_NET_ADMIN alone, for the nft sets; 0 is none)"
# status PID FIELD: the first value of a field of /proc/PID/status
status() { awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"; }
privsep() {
	local e u
	e=$(lab_spamd_engine)
	[ -n "$e" ] || { echo "spamd has no engine process"; return 1; }
	u=$(id -u _spamd)
	[ "$(status "$LAB_SPAMD_PID" CapEff)" = 0000000000001000 ] ||
	    { echo "greylister CapEff $(status "$LAB_SPAMD_PID" CapEff)"; return 1; }
	[ "$(status "$e" Uid)" = "$u" ] ||
	    { echo "engine uid $(status "$e" Uid), _spamd is $u"; return 1; }
	[ "$(status "$e" CapEff)" = 0000000000000000 ] ||
	    { echo "engine CapEff $(status "$e" CapEff)"; return 1; }
	[ "$(readlink "/proc/$e/root")" = /var/empty ] ||
	    { echo "engine root $(readlink "/proc/$e/root")"; return 1; }
}
check "greylister holds CAP_NET_ADMIN alone; the engine is _spamd, no capability, in /var/empty" privsep

step "A tarpitted connection: $TARPIT connects to 198.51.100.25 port 25 and watches the banner arrive"
say "nft redirects it to spamd, which stutters: one byte per second for the first 10 s, then the rest"
say "(hosts on a blacklist, from spamd-setup, get every reply that slowly, all the way)"
watch "the banner came one byte per second for about 10 s, then the rest" '
import socket, sys, time
src, dst = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((src, 0))
s.settimeout(30)
t0 = time.monotonic()
s.connect((dst, 25))
got = b""
sizes = []
while not got.endswith(b"\n"):
    b = s.recv(4096)
    if not b:
        break
    got += b
    sizes.append(len(b))
    print("           +%4.1fs  %3d byte%s  \"%s\"" % (time.monotonic() - t0,
        len(b), " " if len(b) == 1 else "s",
        got.decode("ascii", "replace").replace("\r", "\\r").replace("\n", "\\n")),
        flush=True)
s.sendall(b"QUIT\r\n")
s.recv(4096)
took = time.monotonic() - t0
print("           the whole banner (%d bytes) took %.1f s" % (len(got), took))
# What was just said, checked: the banner, one byte a second for the
# first 10 s (a loaded machine makes it slower, never faster), then
# the rest at once (not one byte a second all the way).
ones = 0
for n in sizes:
    if n != 1:
        break
    ones += 1
why = None
if not got.startswith(b"220 ") or not got.endswith(b"\r\n"):
    why = "not a 220 banner: %r" % got
elif ones < 6 or took < 8:
    why = "%d one-byte reads before the first bigger one, %.1f s: no stutter" % (ones, took)
elif took > len(got) - 5:
    why = "%.1f s for %d bytes: stuttered all along, not for 10 s" % (took, len(got))
if why:
    print(why)
    sys.exit(1)
'
follow_all

step "Send a message: swaks hands it to the sender's Postfix (alice@sender.example.net -> bob@mx.test)"
TOK1=demo-$$-$RANDOM
lab_send "$TOK1" "Greetings from the spamd demo" ||
    die "swaks failed: $(tail -n 3 "$LAB_DIR/swaks.log")"
say "queued; Postfix tries at once, is stuttered for 10 s, gets 451, retries a few seconds later:"
t1=$SECONDS
follow_until 90 lab_mailbox_has "$TOK1" ||
    die "the message did not arrive in 90 s"
say "${B}delivered $((SECONDS - t1)) s after it was sent${N}"
check "spamd greylisted the first attempt (GREY)" expect "$LAB_SPAMD_LOG" \
    "^smtp: \\(GREY\\) $LAB_SND4: <alice@sender.example.net> -> <bob@mx.test>"
check "the sender's Postfix got 451 and deferred" expect "$LAB_DIR/snd/maillog" \
    'status=deferred.* 451 '
check "the greylister whitelisted $LAB_SND4 after the retry" \
    expect "$LAB_SPAMD_LOG" "^grey: whitelisting $LAB_SND4"

step "The sender is in the whitelist set, with the timeout of its database entry"
show gw nft list set inet spamd spamd-white
check "$LAB_SND4 is in spamd-white" eval \
    'lab_addrs spamd-white | grep -qxF "$LAB_SND4" || lab_addrs spamd-white'

step "spamd's database (spamdb): the WHITE entry of the sender"
printf '%s  %sgw# spamdb%s\n' "$(elapsed)" "$B" "$N"
lab_spamdb 2>&1 | sed 's/^/           /'
say "(WHITE|ip|||first|pass|expire|blocked|passed, times in seconds since 1970)"
check "spamdb lists $LAB_SND4 as WHITE" eval \
    'lab_spamdb | grep -q "^WHITE|$LAB_SND4|" || lab_spamdb'

step "The message in bob's Maildir on the mail server"
f=$(lab_mailbox_file "$TOK1")
say "${f#"$LAB_DIR"/}"
sed 's/^/           /' "$f"
check "the message is in the Maildir, subject and token" eval \
    "grep -q '^Subject: Greetings from the spamd demo' '$f' && grep -q '$TOK1' '$f'"

step "A second message from the same sender goes straight to the mail server"
n1=$(lab_spamd_count)
say "connections spamd has seen so far: $n1"
TOK2=demo-$$-$RANDOM
t1=$SECONDS
lab_send "$TOK2" "Second message" || die "swaks failed"
follow_until 30 lab_mailbox_has "$TOK2" || die "the second message did not arrive"
n2=$(lab_spamd_count)
say "${B}delivered in $((SECONDS - t1)) s; connections spamd has seen: $n2${N}"
say "nft let it through: the sender is whitelisted, spamd never saw it"
check "spamd saw no connection for the second message" \
    eval "[ '$n1' = '$n2' ] || echo 'connections went from $n1 to $n2'; [ '$n1' = '$n2' ]"

step "A blacklist: spamd-setup loads 192.0.2.64/28 into spamd, and $TARPIT is tarpitted"
cat >"$LAB_DIR/spamd.conf" <<CONF
all:\\
	:demo:

demo:\\
	:black:\\
	:msg="Your address %A is on the demo blacklist\\n\\
	It stays there until the demo ends":\\
	:method=file:\\
	:file=$LAB_DIR/black.txt:
CONF
printf '# the demo blacklist\n192.0.2.64/28\n' >"$LAB_DIR/black.txt"
say "spamd.conf (the format of OpenBSD's, see spamd.conf(5)):"
sed 's/^/           /' "$LAB_DIR/spamd.conf"
say "(spamd-setup talks to spamd over its configuration socket, -U: the demo's"
say " spamd has one of its own, not the system's /run/spamd.sock)"
printf '%s  %sgw# spamd-setup -d -U cfg.sock -f spamd.conf%s\n' "$(elapsed)" "$B" "$N"
lab_in gw "$LAB_ROOT/spamd-setup/spamd-setup" -d -U "$LAB_CFGSOCK" \
    -f "$LAB_DIR/spamd.conf" >"$LAB_DIR/setup.out" 2>&1
rc=$?
sed 's/^/           /' "$LAB_DIR/setup.out"
check "spamd-setup exits 0" eval "[ $rc -eq 0 ] || echo 'exit status $rc'; [ $rc -eq 0 ]"
check "spamd loaded the list demo: 1 IPv4 range" lab_wait 5 expect "$LAB_SPAMD_LOG" \
    '^smtp: blacklist demo: 1 IPv4 and 0 IPv6 entries'
follow_all
say "first connection from $TARPIT: every byte of every reply one second apart, all along;"
say "a second one at the same time is over -B 1 and gets its replies at once, to the end:"
watch "$TARPIT: stuttered byte by byte, the second connection refused with the list's message" '
import socket, sys, time
src, dst = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(30)
    s.connect((dst, 25))
    return s
t0 = time.monotonic()
slow = conn()
got = b""
while time.monotonic() - t0 < 6:
    b = slow.recv(1)
    got += b
    print("           slow  +%4.1fs  %s" % (time.monotonic() - t0,
        got.decode("ascii", "replace")), flush=True)
fast = conn()
f = fast.makefile("rb")
lines = []
def reply():
    while True:
        ln = f.readline()
        lines.append(ln)
        print("           fast  <- %s" % ln.decode("ascii", "replace").rstrip(),
            flush=True)
        if len(ln) < 4 or ln[3:4] != b"-":
            return ln
tf = time.monotonic()
reply()
for c in (b"HELO spam.example", b"MAIL FROM:<spam@spam.example>",
          b"RCPT TO:<bob@mx.test>", b"DATA"):
    print("           fast  -> %s" % c.decode(), flush=True)
    fast.sendall(c + b"\r\n")
    last = reply()
    if last[:1] in (b"4", b"5"):
        break
if last[:3] == b"354":
    print("           fast  -> (a message, then \".\")", flush=True)
    fast.sendall(b"Subject: buy now\r\n\r\ncheap stuff\r\n.\r\n")
    last = reply()
tf = time.monotonic() - tf
fast.close()
slow.close()
print("           the slow one would need minutes for the same dialogue: hung up")
# What was just said, checked.  The slow one: about a byte a second
# (fewer on a loaded machine, never a whole reply).  The fast one: its
# whole dialogue in a few seconds (stuttered, it would take minutes),
# refused with the message of the list, naming the address.
why = None
msg = ("Your address %s is on the demo blacklist" % src).encode()
if len(got) > 8 or len(got) < 2:
    why = "the slow connection got %d bytes in 6 s, want one a second" % len(got)
elif tf > 20:
    why = "the fast dialogue took %.1f s: stuttered" % tf
elif not last[:1] in (b"4", b"5") or \
        not any(ln[:1] in (b"4", b"5") and msg in ln for ln in lines):
    why = "no 4xx or 5xx reply with \"%s\": %r" % (msg.decode(), lines[-3:])
if why:
    print(why)
    sys.exit(1)
'
sleep 0.5
follow_all
check "spamd logged $TARPIT's connections with lists: demo" expect "$LAB_SPAMD_LOG" \
    "^smtp: $TARPIT: connected \\([0-9/]+\\), lists: demo\$"
check "$TARPIT was never greylisted" refute "$LAB_SPAMD_LOG" "\\(GREY\\) $TARPIT:"

trap - INT
DONE=1
exit 0
