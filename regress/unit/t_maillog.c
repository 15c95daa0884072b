/*
 * The Postfix log reader of spamdb -m (spamdb/maillog.c), on lines
 * whose every part is chosen: both time forms and the year a
 * traditional time is given, the window of -D, queue ids reused, of
 * another instance or host, several recipients, recipients that quote
 * ", status=sent", malformed lines, and the bound on queue ids awaiting
 * delivery.  t-spamdb-dayone reads what a real Postfix writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maillog.h"
#include "tap.h"

#define NOW	1796540400	/* 2026-12-06 07:00:00 UTC */

static char	 buf[ML_LINE_MAX];

/* A traditional line at t (UTC), from host mx. */
static const char *
at(time_t t, const char *prog, const char *msg)
{
	struct tm	 tm;
	char		 ts[32];

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
	snprintf(buf, sizeof(buf), "%s mx %s[42]: %s", ts, prog, msg);
	return buf;
}

static enum ml_kind
kind(const char *line, time_t *when)
{
	struct ml_rec	 r;

	ml_parse(line, NOW, &r);
	if (when != NULL)
		*when = r.when;
	return r.kind;
}

/* The clients of a log given as lines, "addr*msgs" joined by spaces. */
static const char *
clients(const char **lines, time_t since, struct ml_stats *st)
{
	static char		 out[1024];
	char			 ip[INET6_ADDRSTRLEN];
	struct maillog		*ml;
	const struct ml_client	*c;
	size_t			 i, n;

	if ((ml = ml_new(NOW, since)) == NULL)
		exit(1);
	for (i = 0; lines[i] != NULL; i++)
		ml_line(ml, lines[i]);
	out[0] = '\0';
	for (i = 0; i < ml_nclients(ml); i++) {
		c = ml_client(ml, i);
		n = strlen(out);
		snprintf(out + n, sizeof(out) - n, "%s%s*%lu", n ? " " : "",
		    addr_str(&c->addr, ip, sizeof(ip)), c->msgs);
	}
	if (st != NULL)
		*st = *ml_stats(ml);
	ml_free(ml);
	return out;
}

#define SENT	"to=<b@mx.test>, relay=virtual, delay=0.1, " \
		"delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered)"

static void
times(void)
{
	time_t	 t;

	ok(kind("Dec  6 06:21:57 mx postfix/smtpd[1]: connect", &t) ==
	    ML_OTHER && t == NOW - 2283, "traditional time, blank-padded day");
	ok(kind("Dec 06 06:21:57.123456 mx postfix/smtpd[1]: x", &t) ==
	    ML_OTHER && t == NOW - 2283, "zero-padded day, fraction");
	ok(kind("Dec  7 06:59:59 mx postfix/smtpd[1]: x", &t) == ML_OTHER &&
	    t == NOW + 86399, "up to a day ahead is this year");
	ok(kind("Dec  7 07:00:01 mx postfix/smtpd[1]: x", &t) == ML_OTHER &&
	    t == NOW + 86401 - 365 * 86400, "further ahead is last year");
	ok(kind("2026-12-06T06:21:57.5+00:00 mx postfix/smtpd[1]: x", &t) ==
	    ML_OTHER && t == NOW - 2283, "RFC 3339, +00:00");
	ok(kind("2026-12-06T07:21:57+0100 mx postfix/smtpd[1]: x", &t) ==
	    ML_OTHER && t == NOW - 2283, "journalctl short-iso, +0100");
	ok(kind("2026-12-06T06:21:57Z mx postfix/smtpd[1]: x", &t) ==
	    ML_OTHER && t == NOW - 2283, "RFC 3339, Z");
	ok(kind("Dec  6 06:21:57 mx kernel: x", NULL) == ML_OTHER,
	    "another program's line is of no interest");
	ok(kind("Dec 32 06:21:57 mx postfix/smtpd[1]: x", NULL) == ML_BAD,
	    "day 32 is malformed");
	ok(kind("2026-13-06T06:21:57Z mx postfix/smtpd[1]: x", NULL) ==
	    ML_BAD, "month 13 is malformed");
	ok(kind("Dec  6 06:21:57 mx", NULL) == ML_BAD &&
	    kind("Dec ", NULL) == ML_BAD && kind("", NULL) == ML_BAD,
	    "cut lines are malformed");
}

static void
fields(void)
{
	ok(kind(at(NOW, "postfix/smtpd", "ABCDE1: client=a[192.0.2.1]"),
	    NULL) == ML_CLIENT, "client=name[addr]");
	ok(kind(at(NOW, "postfix/submission/smtpd",
	    "ABCDE1: client=a[2001:db8::1]:4031, sasl_method=PLAIN"), NULL) ==
	    ML_CLIENT, "a service's smtpd, port and SASL after it");
	ok(kind(at(NOW, "postfix/smtpd", "ABCDE1: client=a[192.0.2.300]"),
	    NULL) == ML_BAD, "no address in the brackets: malformed");
	ok(kind(at(NOW, "postfix/smtpd", "ABCDE1: client=a[192.0.2.1]x"),
	    NULL) == ML_BAD, "trailing bytes after the client: malformed");
	ok(kind(at(NOW, "postfix/cleanup", "ABCDE1: client=a[192.0.2.1]"),
	    NULL) == ML_OTHER, "client= of another daemon is not smtpd's");
	ok(kind(at(NOW, "postfix/smtpd", "NOQUEUE: client=a[192.0.2.1]"),
	    NULL) == ML_OTHER, "NOQUEUE is no queue id");
	ok(kind(at(NOW, "postfix/virtual", "ABCDE1: " SENT), NULL) ==
	    ML_SENT, "status=sent");
	ok(kind(at(NOW, "postfix/lmtp", "ABCDE1: to=<b@mx.test>, "
	    "orig_to=<\"c>, status=sent \"@mx.test>, relay=x[private/l], "
	    "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (ok)"), NULL) ==
	    ML_SENT, "orig_to with quoted '>' and status=sent inside");
	ok(kind(at(NOW, "postfix/smtp", "ABCDE1: to=<\"x, status=sent (y\""
	    "@d.test>, relay=none, delay=1, delays=0/0/0/1, dsn=4.4.1, "
	    "status=deferred (connect to d.test: status=sent )"), NULL) ==
	    ML_OTHER, "status=sent quoted in the recipient and the reason");
	ok(kind(at(NOW, "postfix/smtp", "ABCDE1: to=<\"x>, status=sent (y\""
	    "@d.test>, relay=none, delay=1, delays=0/0/0/1, dsn=4.4.1, "
	    "status=deferred (no)"), NULL) == ML_OTHER,
	    "a quoted '>, status=sent' in the recipient is not the status");
	ok(kind(at(NOW, "postfix/smtp", "ABCDE1: to=<\"x\\\">, status=sent "
	    "(y\"@d.test>, relay=none, delay=1, delays=0/0/0/1, dsn=5.0.0, "
	    "status=bounced (no)"), NULL) == ML_OTHER,
	    "... nor after an escaped quote");
	ok(kind(at(NOW, "postfix/smtp", "ABCDE1: to=<\"x\\\", status=sent "
	    "(y\"@d.test>, relay=none, delay=1, delays=0/0/0/1, dsn=5.0.0, "
	    "status=bounced (no)"), NULL) == ML_OTHER,
	    "an escaped quote does not end the quoting");
	ok(kind(at(NOW, "postfix/smtp", "ABCDE1: to=<\"x, status=sent (y"
	    "@d.test>, relay=none, status=bounced (no)"), NULL) == ML_BAD,
	    "an unclosed quote: malformed");
	ok(kind(at(NOW, "postfix/smtp", "ABCDE1: to=<b@d.test>, relay=none, "
	    "status=sentx (no)"), NULL) == ML_OTHER, "status=sentx is not sent");
}

static void
pairing(void)
{
	struct ml_stats	 st;
	char		 l[12][ML_LINE_MAX];
	const char	*v[13];
	int		 i;

#define L(i, t, p, m)	(strlcpy(l[i], at(t, p, m), ML_LINE_MAX), v[i] = l[i])
	L(0, NOW - 60, "postfix/smtpd", "AAAAA1: client=a[192.0.2.1]");
	L(1, NOW - 50, "postfix/virtual", "AAAAA1: " SENT);
	L(2, NOW - 50, "postfix/virtual", "AAAAA1: " SENT);
	L(3, NOW - 40, "postfix/smtpd", "BBBBB1: client=b[192.0.2.2]");
	L(4, NOW - 40, "postfix/smtpd", "BBBBB1: client=c[192.0.2.3]");
	L(5, NOW - 30, "postfix/smtp", "BBBBB1: " SENT);
	L(6, NOW - 30, "postfix-in/smtpd", "CCCCC1: client=d[192.0.2.4]");
	L(7, NOW - 20, "postfix-out/smtp", "CCCCC1: " SENT);
	L(8, NOW - 20, "postfix/smtpd", "DDDDD1: client=e[127.0.0.1]");
	L(9, NOW - 10, "postfix/virtual", "DDDDD1: " SENT);
	L(10, NOW - 3 * 86400, "postfix/smtpd", "EEEEE1: client=f[192.0.2.6]");
	L(11, NOW - 2 * 86400, "postfix/virtual", "EEEEE1: " SENT);
	v[12] = NULL;
	ok(strcmp(clients(v, NOW - 86400, &st), "192.0.2.1*1 192.0.2.3*1") ==
	    0, "two recipients one message; a reused queue id is the later "
	    "client's; another instance's id, loopback and older deliveries "
	    "not counted: %s", clients(v, NOW - 86400, NULL));
	ok(st.old == 1 && st.local == 1 && st.sent == 3 && st.bad == 0,
	    "counted: old %lu, local %lu, sent %lu", st.old, st.local, st.sent);
	ok(strcmp(clients(v, NOW - 4 * 86400, NULL),
	    "192.0.2.1*1 192.0.2.3*1 192.0.2.6*1") == 0,
	    "a longer window counts the older delivery");
	/* Another host with the same queue id and instance. */
	memcpy(strstr(l[1], " mx ") + 1, "mz", 2);
	memcpy(strstr(l[2], " mx ") + 1, "mz", 2);
	ok(strcmp(clients(v, NOW - 86400, NULL), "192.0.2.3*1") == 0,
	    "another host's delivery of the same queue id is not the client's");
	for (i = 0; i < 12; i++)
		v[i] = NULL;
}

/* A queue id forgotten once ML_QUEUE_MAX newer ones wait. */
static void
bound(void)
{
	struct maillog	*ml;
	char		 m[64];
	int		 i;

	if ((ml = ml_new(NOW, 0)) == NULL)
		exit(1);
	for (i = 0; i <= ML_QUEUE_MAX; i++) {
		snprintf(m, sizeof(m), "Q%08d: client=a[192.0.2.%d]", i,
		    i == 0 ? 1 : 2);
		ml_line(ml, at(NOW - 60, "postfix/smtpd", m));
	}
	ml_line(ml, at(NOW - 50, "postfix/virtual", "Q00000000: " SENT));
	ml_line(ml, at(NOW - 50, "postfix/virtual", "Q00000001: " SENT));
	ok(ml_nclients(ml) == 1 && ml_client(ml, 0)->addr.a[3] == 2 &&
	    ml_stats(ml)->forgotten == 1, "the oldest of %d + 1 queue ids is "
	    "forgotten, the next one still paired", ML_QUEUE_MAX);
	ml_free(ml);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	times();
	fields();
	pairing();
	bound();
	return tap_done();
}
