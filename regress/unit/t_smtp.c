/*
 * The SMTP state machine (spamd/smtp.c) without sockets: lines in,
 * replies, states and greylist records out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "con.h"
#include "smtp.h"
#include "spamd.h"
#include "tap.h"

static struct smtp_conf sc;

#define IP	"192.0.2.7"
#define HELLO	"250 Hello, spam sender. Pleased to be wasting your " \
		"time.\r\n"
#define MAILOK	"250 You are about to try to deliver spam. Your time " \
		"will be spent, for nothing.\r\n"
#define RCPTOK	"250 This is hurting you more than it is hurting me.\r\n"
#define BADCMD	"500 5.5.1 Command unrecognized\r\n"
#define TOOLONG	"500 5.5.1 Line too long\r\n"
#define NOOPOK	"250 2.0.0 OK I did nothing\r\n"
#define RSETOK	"250 Ok to start over.\r\n"
#define TEMPFAIL "451 Temporary failure, please try again later.\r\n"
#define DATAOK	"354 Enter spam, end with \".\" on a line by itself\r\n"
#define EHLOTLS	"250-mx.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n" \
		"250 STARTTLS\r\n"
#define TLSGO	"220 glad you want to burn more CPU cycles on your spam\r\n"
#define TLSNOT	"454 4.7.0 TLS not available due to temporary reason\r\n"

static char	 replies[65536];	/* every reply of the last say() */
static int	 nreplies;
static int	 ntuples;
static struct grey_tuple lastmsg;

/* The tuple of the last RCPT, as the engine takes it. */
static void
tuple(const struct smtp_sess *s)
{
	struct addr	 ip, dst;

	addr_parse(&ip, IP);
	addr_parse(&dst, "198.51.100.25");
	smtp_tuple(s, &ip, &dst, &lastmsg);
}

static int
is_addr(const struct addr *a, const char *s)
{
	struct addr	 b;

	return addr_parse(&b, s) == 0 && addr_cmp(a, &b) == 0;
}

/*
 * Feed `in' to the session as a client would, calling smtp_next() after
 * each reply as the engine does once the reply is written.  Returns the
 * or of all flags; the replies are concatenated in `replies'.
 */
static int
say_bl(struct smtp_sess *s, const char *in, size_t len,
    const struct bl_hit *bl)
{
	size_t	 n;
	int	 r, all = 0;

	replies[0] = '\0';
	nreplies = ntuples = 0;
	for (;;) {
		n = smtp_feed(s, in, len);
		in += n;
		len -= n;
		r = smtp_next(s, IP, bl);
		if (r == -1)
			return -1;
		all |= r;
		if (r & SMTP_R_TUPLE) {
			ntuples++;
			tuple(s);
		}
		if (r & SMTP_R_REPLY) {
			nreplies++;
			strlcat(replies, s->out.buf, sizeof(replies));
			continue;
		}
		if (len == 0)
			break;
	}
	return all;
}

static int
say(struct smtp_sess *s, const char *in)
{
	return say_bl(s, in, strlen(in), NULL);
}

/* Every LF is preceded by CR, and the text ends in CRLF. */
static int
crlf_only(const char *p)
{
	size_t	 i, n = strlen(p);

	if (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n')
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 0;
	return 1;
}

static void
t_banner(void)
{
	char	 buf[512], tail[SMTP_TIMELEN + 1];
	int	 n;

	n = smtp_banner_prefix(&sc, buf, sizeof(buf));
	ok(n == (int)strlen(buf) &&
	    strcmp(buf, "220 mx.test ESMTP spamd IP-based SPAM blocker; ") ==
	    0, "banner prefix: \"%s\"", buf);
	smtp_banner_time(tail, 1763810400);	/* 2025-11-22 11:20 UTC */
	tail[SMTP_TIMELEN] = '\0';
	ok(strcmp(tail, "Sat Nov 22 11:20:00 2025\r\n") == 0,
	    "banner time in ctime layout with CRLF");
	smtp_banner_time(tail, 86400 * 3);
	tail[SMTP_TIMELEN] = '\0';
	ok(strcmp(tail, "Sun Jan  4 00:00:00 1970\r\n") == 0,
	    "banner time pads a one-digit day like ctime");
}

static void
t_helo(void)
{
	struct smtp_sess	*s = smtp_sess_new(&sc);
	int			 r;

	ok(s != NULL && s->state == SMTP_FIRST, "new session is in FIRST");
	r = say(s, "HELO\r\n");
	ok(r == SMTP_R_REPLY &&
	    strcmp(replies, "501 helo requires domain name.\r\n") == 0 &&
	    s->state == SMTP_FIRST, "HELO without a name: 501, still FIRST");
	say(s, "HELO   \t \r\n");
	ok(strncmp(replies, "501 ", 4) == 0, "HELO with blanks only: 501");
	r = say(s, "ehlo Foo.Example extra\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, HELLO) == 0 &&
	    strcmp(s->helo, "Foo.Example") == 0 && s->state == SMTP_MAIL,
	    "lower-case ehlo: 250, helo \"%s\", state MAIL", s->helo);
	say(s, "HELO again\r\n");
	ok(strcmp(replies, BADCMD) == 0 && strcmp(s->helo, "Foo.Example") ==
	    0, "a second HELO is not recognised");
	smtp_sess_free(s);
}

static void
t_envelope(void)
{
	struct smtp_sess	*s = smtp_sess_new(&sc);
	int			 r;

	say(s, "HELO mx.b.example\r\n");
	r = say(s, "mail from:<A@B>\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, MAILOK) == 0 &&
	    strcmp(s->from, "<A@B>") == 0 && s->state == SMTP_RCPT,
	    "mail from:<A@B>: 250, from \"%s\" with brackets and case",
	    s->from);
	say(s, "MAIL FROM:<other@x>\r\n");
	ok(strcmp(replies, BADCMD) == 0 && strcmp(s->from, "<A@B>") == 0,
	    "a second MAIL is not recognised");
	r = say(s, "RCPT TO: <c@d.example> NOTIFY=NEVER\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_TUPLE) && strcmp(replies, RCPTOK) ==
	    0 && strcmp(s->rcpt, "<c@d.example>") == 0,
	    "RCPT: 250 and a tuple, rcpt \"%s\"", s->rcpt);
	ok(is_addr(&lastmsg.ip, IP) &&
	    is_addr(&lastmsg.dst, "198.51.100.25") &&
	    strcmp(lastmsg.helo, "mx.b.example") == 0 &&
	    strcmp(lastmsg.from, "<A@B>") == 0 &&
	    strcmp(lastmsg.to, "<c@d.example>") == 0,
	    "tuple record: ip, dst, helo, from, to");
	r = say(s, "rcpt to:<e@f>\r\n");
	ok((r & SMTP_R_TUPLE) && strcmp(lastmsg.to, "<e@f>") == 0 &&
	    s->state == SMTP_RCPT, "every RCPT gives its own tuple");
	r = say(s, "RCPT TO <nocolon>\r\n");
	ok(r == SMTP_R_REPLY && s->rcpt[0] == '\0',
	    "RCPT without a colon: 250, empty rcpt, no tuple");
	r = say(s, "RSET\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, RSETOK) == 0 &&
	    s->from[0] == '\0' && s->rcpt[0] == '\0' &&
	    s->state == SMTP_MAIL && strcmp(s->helo, "mx.b.example") == 0,
	    "RSET: 250 Ok to start over., from/rcpt cleared, helo kept");
	r = say(s, "MAIL FROM: <>\r\n");
	ok(r == SMTP_R_REPLY && strcmp(s->from, "<>") == 0,
	    "MAIL allowed again after RSET; null sender \"<>\"");
	r = say(s, "NOOP\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, NOOPOK) == 0 &&
	    s->state == SMTP_RCPT, "NOOP: 250 2.0.0, state unchanged");
	smtp_sess_free(s);

	/* HELO, MAIL and RCPT are optional. */
	s = smtp_sess_new(&sc);
	r = say(s, "MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\n");
	ok(nreplies == 2 && ntuples == 1 && lastmsg.helo[0] == '\0' &&
	    strcmp(lastmsg.from, "<x@y>") == 0,
	    "no HELO: the tuple is still recorded, with an empty helo");
	smtp_sess_free(s);

	s = smtp_sess_new(&sc);
	r = say(s, "RCPT TO:<z@w>\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, RCPTOK) == 0,
	    "RCPT without MAIL: 250 but no tuple");
	smtp_sess_free(s);

	s = smtp_sess_new(&sc);
	say(s, "RSET\r\n");
	ok(strcmp(replies, BADCMD) == 0, "RSET before HELO is unrecognised");
	smtp_sess_free(s);
}

static void
t_quit(void)
{
	struct smtp_sess	*s = smtp_sess_new(&sc);
	int			 r;

	say(s, "HELO a\r\n");
	r = say(s, "quit\r\nNOOP\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_CLOSE) && nreplies == 1 &&
	    strcmp(replies, "221 mx.test\r\n") == 0 && s->state == SMTP_DONE,
	    "QUIT: 221 <hostname>, close, later input ignored");
	smtp_sess_free(s);

	s = smtp_sess_new(&sc);
	r = say(s, "QUIT\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_CLOSE), "QUIT as the first command");
	smtp_sess_free(s);
}

static void
t_badcmd(void)
{
	struct smtp_sess	*s = smtp_sess_new(&sc);
	char			 in[32 * 8];
	int			 i, r, all500 = 1;

	for (i = 0; i < MAXBADCMD; i++) {
		r = say(s, "XYZZY\r\n");
		if (r != SMTP_R_REPLY || strcmp(replies, BADCMD) != 0)
			all500 = 0;
	}
	ok(all500, "the first %d unknown commands get 500", MAXBADCMD);
	r = say(s, "XYZZY\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_CLOSE) &&
	    strcmp(replies, TEMPFAIL) == 0 && s->state == SMTP_DONE,
	    "the 21st gets the final reply and the close");
	smtp_sess_free(s);

	/* The same, pipelined in one read. */
	s = smtp_sess_new(&sc);
	in[0] = '\0';
	for (i = 0; i < 25; i++)
		strlcat(in, "bad\r\n", sizeof(in));
	r = say(s, in);
	ok(nreplies == MAXBADCMD + 1 && (r & SMTP_R_CLOSE),
	    "25 pipelined bad commands: %d replies, then close", nreplies);
	smtp_sess_free(s);
}

static void
t_data(void)
{
	struct smtp_sess	*s = smtp_sess_new(&sc);
	char			 msg[2048];
	int			 i, r;

	say(s, "HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
	r = say(s, "DATA\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_CLOSE) &&
	    strcmp(replies, TEMPFAIL) == 0,
	    "greylist mode: DATA gets 451 and the close, no 354");
	smtp_sess_free(s);

	/* -b mode: the message is read, then refused. */
	sc.greylist = 0;
	s = smtp_sess_new(&sc);
	r = say(s, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
	ok(!(r & SMTP_R_TUPLE), "-b mode: no tuple");
	r = say(s, "DATA\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_WINDOW) &&
	    strcmp(replies, DATAOK) == 0 && s->state == SMTP_MSG,
	    "-b mode: DATA gets 354 and asks for the window");
	strlcpy(msg, "From: x\r\nSubject: y\r\nQUIT\r\nRSET\r\n\r\n",
	    sizeof(msg));
	for (i = 1; i < MAXBODYLINES; i++)
		strlcat(msg, "body\r\n", sizeof(msg));
	r = say(s, msg);
	ok(r == 0 && nreplies == 0 && s->state == SMTP_MSG,
	    "headers (QUIT, RSET are data) and %d body lines: no reply",
	    MAXBODYLINES - 1);
	r = say(s, "line ten\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_CLOSE) &&
	    strcmp(replies, TEMPFAIL) == 0 && s->state == SMTP_DONE,
	    "body line %d ends it: 451 and close", MAXBODYLINES);
	smtp_sess_free(s);

	s = smtp_sess_new(&sc);
	msg[0] = '\0';
	strlcat(msg, "DATA\r\n", sizeof(msg));
	for (i = 0; i < 30; i++)
		strlcat(msg, "X-Header: h\r\n", sizeof(msg));
	strlcat(msg, "\r\nshort body\r\n.\r\nNOOP\r\n", sizeof(msg));
	r = say(s, msg);
	ok(nreplies == 2 && (r & SMTP_R_CLOSE) &&
	    strcmp(replies, DATAOK TEMPFAIL) == 0,
	    "30 header lines are not counted; \".\" ends the message");
	smtp_sess_free(s);
	sc.greylist = 1;
}

static void
t_blacklisted(void)
{
	static const char *const msgs[] = {
		"Your address %A is in the nixspam list\\n"
		"See http://www.heise.de/ix/nixspam/dnsbl_en/ for details"
	};
	struct bl_hit		 bl = { msgs, 1, "nixspam" };
	struct smtp_sess	*s = smtp_sess_new(&sc);
	const char		*in;
	int			 r;

	in = "HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n";
	r = say_bl(s, in, strlen(in), &bl);
	ok(nreplies == 3 && !(r & SMTP_R_TUPLE),
	    "blacklisted: the dialogue goes on, but no tuple");
	in = "DATA\r\nSubject: buy\r\n\r\nnow\r\n.\r\n";
	r = say_bl(s, in, strlen(in), &bl);
	ok(nreplies == 2 && (r & SMTP_R_CLOSE) &&
	    strcmp(replies, DATAOK
	    "450-Your address 192.0.2.7 is in the nixspam list\r\n"
	    "450 See http://www.heise.de/ix/nixspam/dnsbl_en/ for details\r\n")
	    == 0, "blacklisted: 354, then the list's reply after \".\"");
	smtp_sess_free(s);
}

static void
t_blreply(void)
{
	static const char *const one[] = {
		"Your address %A has mailed to spamtraps here\n"
	};
	static const char *const two[] = {
		"100%% \\\"sure\\\" %A\nsecond line",
		"",
		"Other list: \\\\ %B %"
	};
	static const char *const none[] = { "", NULL };
	struct smtp_reply	 r = { NULL, 0, 0 };
	char			*big;
	const char		*bigv[1];
	size_t			 i;

	ok(smtp_blreply(&r, 450, IP, one, 1) == 0 &&
	    strcmp(r.buf, "450 Your address 192.0.2.7 has mailed to "
	    "spamtraps here\r\n") == 0,
	    "one line, trailing newline: no empty last line");
	ok(smtp_blreply(&r, 550, "2001:db8::1", two, 3) == 0 &&
	    strcmp(r.buf, "550-100% \"sure\" 2001:db8::1\r\n"
	    "550-second line\r\n"
	    "550 Other list: \\ %B %\r\n") == 0,
	    "550, %%%%, %%A, escapes, several lists");
	ok(crlf_only(r.buf), "every line ends in CRLF");
	ok(smtp_blreply(&r, 450, IP, none, 2) == 0 &&
	    strcmp(r.buf, "450 Your address 192.0.2.7 is blacklisted\r\n") ==
	    0, "lists without text still get a reason");

	if ((big = malloc(20000)) == NULL)
		exit(1);
	for (i = 0; i < 19999; i++)
		big[i] = i % 100 == 99 ? '\n' : 'x';
	big[19999] = '\0';
	bigv[0] = big;
	ok(smtp_blreply(&r, 450, IP, bigv, 1) == 0 &&
	    r.len <= SMTP_REPLY_MAX && r.len == strlen(r.buf) &&
	    crlf_only(r.buf) && strstr(r.buf, "\r\n450 ") != NULL &&
	    strstr(strstr(r.buf, "\r\n450 "), "-") == NULL,
	    "a huge message is cut at %d bytes (%zu) and still well formed",
	    SMTP_REPLY_MAX, r.len);
	free(big);
	free(r.buf);
}

static void
t_lines(void)
{
	struct smtp_sess	*s = smtp_sess_new(&sc);
	char			*big, line[SMTP_LINE_MAX + 8];
	size_t			 n = 100 * 1024;
	int			 r, bad;

	r = say(s, "NO");
	ok(r == 0 && s->ilen == 2, "half a command: nothing yet");
	r = say(s, "OP\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, NOOPOK) == 0,
	    "completed with a bare LF: NOOP answered");

	if ((big = malloc(n + 16)) == NULL)
		exit(1);
	memset(big, 'A', n);
	memcpy(big + n, "\r\nNOOP\r\n", 9);
	bad = s->badcmd;
	r = say_bl(s, big, n + 8, NULL);
	ok(nreplies == 2 && strcmp(replies, TOOLONG NOOPOK) == 0 &&
	    s->badcmd == bad + 2 && s->ilen == 0,
	    "100 KB line: one \"Line too long\", rest dropped, then NOOP");
	free(big);

	/* Exactly at the limit: 1022 characters and CRLF fit. */
	memset(line, 'B', SMTP_LINE_MAX - 2);
	memcpy(line + SMTP_LINE_MAX - 2, "\r\n", 3);
	say(s, line);
	ok(strcmp(replies, BADCMD) == 0, "a %d-byte line is a line",
	    SMTP_LINE_MAX);
	memset(line, 'B', SMTP_LINE_MAX - 1);
	memcpy(line + SMTP_LINE_MAX - 1, "\r\n", 3);
	say(s, line);
	ok(strcmp(replies, TOOLONG) == 0, "a %d-byte line is too long",
	    SMTP_LINE_MAX + 1);

	/* Fields are bounded. */
	memcpy(line, "MAIL FROM:<", 11);
	memset(line + 11, 'c', 900);
	memcpy(line + 911, ">\r\n", 4);
	say(s, line);
	ok(strlen(s->from) == GD_FIELD_MAX - 1 && s->from[0] == '<',
	    "a long sender is truncated to %zu bytes", strlen(s->from));
	smtp_sess_free(s);

	/* In a message an overlong line is one (truncated) line. */
	sc.greylist = 0;
	s = smtp_sess_new(&sc);
	say(s, "DATA\r\n\r\n");
	if ((big = malloc(5000)) == NULL)
		exit(1);
	memset(big, 'D', 4998);
	memcpy(big + 4998, "\r\n", 2);
	r = say_bl(s, big, 5000, NULL);
	ok(r == 0 && s->bodylines == 1 && s->state == SMTP_MSG,
	    "5000-byte body line counts once, no reply");
	free(big);
	r = say(s, ".\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_CLOSE), "then \".\" ends the message");
	smtp_sess_free(s);
	sc.greylist = 1;
}

static void
t_args(void)
{
	char	 buf[GD_FIELD_MAX];

	smtp_arg_addr(buf, sizeof(buf), "MAIL FROM:\t <a@b>\tSIZE=1");
	ok(strcmp(buf, "<a@b>") == 0, "address after blanks, up to a tab");
	smtp_arg_addr(buf, sizeof(buf), "MAIL FROM:");
	ok(buf[0] == '\0', "nothing after the colon: empty");
	smtp_arg_addr(buf, 4, "RCPT TO:<abcdef>");
	ok(strcmp(buf, "<ab") == 0, "truncated to the buffer");
	smtp_arg_helo(buf, sizeof(buf), "HELO\thost.example  ");
	ok(strcmp(buf, "host.example") == 0, "helo after a tab");
}

#define TOOMANY	"452 4.5.3 Too many recipients\r\n"

/* H1: RCPTs per session, repeated tuples, the useless-command budget. */
static void
t_limits(void)
{
	struct smtp_sess	*s;
	char			 line[64];
	int			 i, tuples = 0, r;

	if ((s = smtp_sess_new(&sc)) == NULL)
		exit(1);
	sc.maxrcpt = 3;
	say(s, "HELO h\r\nMAIL FROM:<a@b>\r\n");
	for (i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "RCPT TO:<r%d@x>\r\n", i);
		r = say(s, line);
		tuples += ntuples;
	}
	ok(tuples == 3 && s->nrcpt == 3, "3 RCPTs under -L rcpt=3: 3 tuples");
	r = say(s, "RCPT TO:<r9@x>\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, TOOMANY) == 0 &&
	    ntuples == 0 && s->badcmd == 1,
	    "the 4th: 452, no tuple, counted as useless");
	r = say(s, "RSET\r\nMAIL FROM:<a@b>\r\nRCPT TO:<r10@x>\r\n");
	ok(ntuples == 0 && strstr(replies, TOOMANY) != NULL,
	    "RSET does not reset the session's RCPT count");
	smtp_sess_free(s);
	sc.maxrcpt = MAXRCPT;

	if ((s = smtp_sess_new(&sc)) == NULL)
		exit(1);
	say(s, "HELO h\r\nMAIL FROM:<a@b>\r\n");
	for (i = 0, tuples = 0; i < 50; i++) {
		say(s, "RCPT TO:<same@x>\r\n");
		tuples += ntuples;
	}
	ok(tuples == 1, "50 identical RCPTs: one tuple sent (%d)", tuples);
	say(s, "RCPT TO:<other@x>\r\nRCPT TO:<same@x>\r\n");
	ok(ntuples == 2, "a different RCPT in between: both sent");
	say(s, "RSET\r\nMAIL FROM:<a@b>\r\nRCPT TO:<same@x>\r\n");
	ok(ntuples == 1, "after a new MAIL the tuple is sent again");
	smtp_sess_free(s);

	if ((s = smtp_sess_new(&sc)) == NULL)
		exit(1);
	for (i = 0, r = 0; i < MAXBADCMD; i++)
		r = say(s, i % 3 == 0 ? "NOOP\r\n" : i % 3 == 1 ?
		    "HELO\r\n" : "EHLO  \r\n");
	ok(r == SMTP_R_REPLY && s->badcmd == MAXBADCMD,
	    "%d NOOPs and empty HELOs are answered", MAXBADCMD);
	r = say(s, "NOOP\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_CLOSE) && strcmp(replies, TEMPFAIL) ==
	    0, "one more useless command: 451 and close");
	smtp_sess_free(s);

	if ((s = smtp_sess_new(&sc)) == NULL)
		exit(1);
	say(s, "HELO h\r\n");
	for (i = 0, r = 0; i < MAXBADCMD; i++)
		r = say(s, "MAIL FROM:<a@b>\r\nRSET\r\n");
	ok(s->state == SMTP_MAIL, "%d MAIL and RSET: answered", MAXBADCMD);
	r = say(s, "MAIL FROM:<a@b>\r\nRSET\r\n");
	ok((r & SMTP_R_CLOSE) && s->state == SMTP_DONE,
	    "MAIL and RSET in turn: closed after %d RSETs", MAXBADCMD + 1);
	smtp_sess_free(s);
}

/* L5: control bytes and '|' never reach the tuple. */
static void
t_vis(void)
{
	struct smtp_sess	*s;
	struct grey_tuple	 t;
	struct addr		 ip;
	char			 k1[GD_KEY_MAX], k2[GD_KEY_MAX];
	char			 k3[GD_KEY_MAX];

	if ((s = smtp_sess_new(&sc)) == NULL)
		exit(1);
	say(s, "HELO a\033[31m|b\r\nMAIL FROM:<x|y\177@z>\r\n"
	    "RCPT TO:<\001\\@\xe9>\r\n");
	ok(ntuples == 1 && strcmp(lastmsg.helo, "a\\033[31m\\174b") == 0 &&
	    strcmp(lastmsg.from, "<x\\174y\\177@z>") == 0 &&
	    strcmp(lastmsg.to, "<\\001\\134@\\351>") == 0,
	    "ESC, '|', DEL, '\\\\', 8-bit bytes are stored as \\ooo: %s %s %s",
	    lastmsg.helo, lastmsg.from, lastmsg.to);
	smtp_sess_free(s);

	/* A UTF-8 tuple here, from a peer and from spamdb: one key. */
	if ((s = smtp_sess_new(&sc)) == NULL)
		exit(1);
	say(s, "HELO h\xc3\xa9.example\r\n"
	    "MAIL FROM:<j\xc3\xa9|x@example.com>\r\n"
	    "RCPT TO:<r@example.org>\r\n");
	smtp_sess_free(s);
	addr_parse(&ip, "192.0.2.1");
	grey_tuple_raw(&t, &ip, "h\xc3\xa9.example",
	    "<j\xc3\xa9|x@example.com>", "<r@example.org>");
	ok(grey_key(k1, sizeof(k1), &ip, lastmsg.helo, lastmsg.from,
	    lastmsg.to) > 0 && grey_key(k2, sizeof(k2), &ip, t.helo, t.from,
	    t.to) > 0 && gd_tuplekey(k3, sizeof(k3), "192.0.2.1|"
	    "h\xc3\xa9.example|<j\\303\\251|x@example.com>|<r@example.org>")
	    == NULL && strcmp(k1, k2) == 0 && strcmp(k1, k3) == 0 &&
	    strcmp(lastmsg.from, "<j\\303\\251\\174x@example.com>") == 0,
	    "a UTF-8 tuple with a bar: SMTP, sync and spamdb make one key "
	    "(%s)", lastmsg.from);
}

/* A fresh session given `in': the one-line greeting, then 500. */
static void
not_offered(int tlsok, const char *in, const struct bl_hit *bl,
    const char *what)
{
	struct smtp_sess	*s = smtp_sess_new(&sc);

	if (tlsok)
		s->flags |= SMTP_SF_TLSOK;
	say_bl(s, in, strlen(in), bl);
	ok(strcmp(replies, HELLO BADCMD) == 0, "%s", what);
	smtp_sess_free(s);
}

/*
 * After an offering EHLO and `before', STARTTLS is a bad command in
 * OpenBSD's words, it counts as one, and no handshake follows.
 */
static void
out_of_place(const char *before, const char *rbefore, const char *what)
{
	struct smtp_sess	*s = smtp_sess_new(&sc);
	unsigned int		 bad;
	int			 r;

	s->flags |= SMTP_SF_TLSOK;
	say(s, "EHLO tls.example\r\n");
	say(s, before);
	ok(strcmp(replies, rbefore) == 0, "%s: the commands before", what);
	bad = s->badcmd;
	r = say(s, "STARTTLS\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, BADCMD) == 0 &&
	    s->badcmd == bad + 1 && strcmp(s->helo, "tls.example") == 0,
	    "%s", what);
	smtp_sess_free(s);
}

/*
 * STARTTLS: offered by EHLO only when the engine says TLS is possible
 * (SMTP_SF_TLSOK) and the client is on no list; the 220 resets the
 * dialogue and drops what was pipelined after it; never offered twice.
 */
static void
t_starttls(void)
{
	static const char *const	 msgs[] = { "go away" };
	static const struct bl_hit	 hit = { msgs, 1, "testlist" };
	struct smtp_sess		*s;
	int				 r;

	not_offered(0, "EHLO plain.example\r\nSTARTTLS\r\n", NULL,
	    "without TLS: one-line EHLO, STARTTLS unrecognised");

	s = smtp_sess_new(&sc);
	s->flags |= SMTP_SF_TLSOK;
	r = say(s, "EHLO tls.example\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, EHLOTLS) == 0 &&
	    crlf_only(replies), "EHLO with TLS: OpenBSD's four lines");
	say(s, "NOOP\r\nBOGUS\r\nHELO again.example\r\n");
	ok(strcmp(replies, NOOPOK BADCMD BADCMD) == 0,
	    "after the offer: NOOP and bad commands");
	r = say(s, "STARTTLS\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_STARTTLS) && strcmp(replies, TLSGO) ==
	    0, "STARTTLS after NOOP and bad commands: 220 and "
	    "SMTP_R_STARTTLS");
	ok(s->state == SMTP_FIRST && strcmp(s->helo, "tls.example") == 0 &&
	    s->from[0] == '\0' && s->rcpt[0] == '\0',
	    "after STARTTLS the dialogue starts over, the helo is kept "
	    "(state %d, helo \"%s\", from \"%s\", rcpt \"%s\")", s->state,
	    s->helo, s->from, s->rcpt);
	/* The engine clears TLSOK once the session is in TLS. */
	s->flags &= ~SMTP_SF_TLSOK;
	r = say(s, "EHLO tls2.example\r\nSTARTTLS\r\n");
	ok(strcmp(replies, HELLO BADCMD) == 0 &&
	    strcmp(s->helo, "tls2.example") == 0,
	    "in TLS: one-line EHLO names the helo, a second STARTTLS "
	    "unrecognised");
	s->flags |= SMTP_SF_TLSOK;
	r = say(s, "RSET\r\nSTARTTLS\r\n");
	ok(strcmp(replies, RSETOK BADCMD) == 0,
	    "in TLS: STARTTLS stays unrecognised even if TLSOK is set");
	say(s, "MAIL FROM:<e@f.example>\r\n");
	r = say(s, "RCPT TO:<g@h.example>\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_TUPLE) &&
	    strcmp(lastmsg.helo, "tls2.example") == 0 &&
	    strcmp(lastmsg.from, "<e@f.example>") == 0 &&
	    strcmp(lastmsg.to, "<g@h.example>") == 0,
	    "tuple after TLS: the same fields as without it");
	r = say(s, "DATA\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_CLOSE) && strcmp(replies, TEMPFAIL) ==
	    0, "DATA after TLS: the same 451");
	smtp_sess_free(s);

	/* No second EHLO after the handshake: OpenBSD keeps the old helo. */
	s = smtp_sess_new(&sc);
	s->flags |= SMTP_SF_TLSOK;
	say(s, "EHLO old.example\r\n");
	say(s, "STARTTLS\r\n");
	s->flags &= ~SMTP_SF_TLSOK;
	say(s, "MAIL FROM:<a@b.example>\r\n");
	r = say(s, "RCPT TO:<c@d.example>\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_TUPLE) &&
	    strcmp(lastmsg.helo, "old.example") == 0,
	    "no EHLO after STARTTLS: the tuple has the first helo (\"%s\")",
	    lastmsg.helo);
	smtp_sess_free(s);

	/* MAIL, RCPT or RSET end the offer: STARTTLS is then a bad command. */
	out_of_place("MAIL FROM:<a@b.example>\r\n", MAILOK,
	    "STARTTLS after MAIL: 500, as OpenBSD");
	out_of_place("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n",
	    MAILOK RCPTOK, "STARTTLS after RCPT: 500, as OpenBSD");
	out_of_place("RCPT TO:<c@d.example>\r\n", RCPTOK,
	    "STARTTLS after a RCPT with no MAIL: 500, as OpenBSD");
	out_of_place("RSET\r\n", RSETOK,
	    "STARTTLS after RSET: 500, as OpenBSD");

	/* RFC 3207: commands pipelined after STARTTLS are void. */
	s = smtp_sess_new(&sc);
	s->flags |= SMTP_SF_TLSOK;
	say(s, "EHLO tls.example\r\n");
	r = say(s, "STARTTLS\r\nEHLO evil.example\r\nMAIL FROM:<x@y>\r\n");
	ok(r == (SMTP_R_REPLY | SMTP_R_STARTTLS) && nreplies == 1 &&
	    s->ilen == 0 && s->state == SMTP_FIRST &&
	    strcmp(s->helo, "tls.example") == 0 &&
	    s->from[0] == '\0', "pipelined after STARTTLS: discarded "
	    "(%d replies, %zu bytes left, helo \"%s\")", nreplies, s->ilen,
	    s->helo);
	smtp_sess_free(s);

	/* Blacklisted, or HELO rather than EHLO: never offered. */
	not_offered(1, "EHLO black.example\r\nSTARTTLS\r\n", &hit,
	    "blacklisted: one-line EHLO, STARTTLS unrecognised");
	not_offered(1, "HELO old.example\r\nSTARTTLS\r\n", NULL,
	    "HELO: no extensions, STARTTLS unrecognised");

	/* The cap filled up between EHLO and STARTTLS: 454, plain goes on. */
	s = smtp_sess_new(&sc);
	s->flags |= SMTP_SF_TLSOK;
	say(s, "EHLO tls.example\r\n");
	s->flags &= ~SMTP_SF_TLSOK;
	r = say(s, "STARTTLS\r\n");
	ok(r == SMTP_R_REPLY && strcmp(replies, TLSNOT) == 0 &&
	    s->state == SMTP_MAIL && strcmp(s->helo, "tls.example") == 0,
	    "STARTTLS over the cap: 454, the dialogue goes on");
	smtp_sess_free(s);
}

static void
t_size(void)
{
	ok(sizeof(struct con) <= 256, "sizeof(struct con) = %zu",
	    sizeof(struct con));
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	sc.greylist = 1;
	sc.nreply = 450;
	sc.maxrcpt = MAXRCPT;
	sc.hostname = "mx.test";
	sc.name = SPAMD_NAME;

	t_banner();
	t_helo();
	t_envelope();
	t_quit();
	t_badcmd();
	t_data();
	t_blacklisted();
	t_blreply();
	t_lines();
	t_args();
	t_limits();
	t_vis();
	t_starttls();
	t_size();
	return tap_done();
}
