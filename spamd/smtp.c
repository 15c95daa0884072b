/*
 * The SMTP dialogue spamd holds with a client: wasting its time with
 * plausible replies, collecting the tuple (HELO, MAIL, RCPT) for the
 * greylister, and refusing the message at DATA.  HELO, MAIL and RCPT are
 * all optional, as in OpenBSD spamd; commands are recognised by a
 * case-insensitive prefix of the line.  No I/O happens here.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gdata.h"
#include "log.h"
#include "smtp.h"

static int	reply_room(struct smtp_reply *, size_t);
static int	reply_add(struct smtp_reply *, const char *, size_t);
static int	reply_printf(struct smtp_reply *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	match(const char *, const char *);
static int	cmd_line(struct smtp_sess *, const char *, const char *,
		    const struct bl_hit *);
static int	msg_line(struct smtp_sess *, const char *, const char *,
		    const struct bl_hit *);
static int	badcmd(struct smtp_sess *, const char *, const char *,
		    const struct bl_hit *);
static int	dup_tuple(struct smtp_sess *);
static int	finish(struct smtp_sess *, const char *,
		    const struct bl_hit *);
static int	ehlo_tls(struct smtp_sess *);
static int	starttls(struct smtp_sess *);

struct smtp_sess *
smtp_sess_new(const struct smtp_conf *conf)
{
	struct smtp_sess	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->conf = conf;
	s->state = SMTP_FIRST;
	return s;
}

void
smtp_sess_free(struct smtp_sess *s)
{
	if (s == NULL)
		return;
	free(s->out.buf);
	free(s);
}

size_t
smtp_room(const struct smtp_sess *s)
{
	return SMTP_LINE_MAX - s->ilen;
}

size_t
smtp_feed(struct smtp_sess *s, const void *buf, size_t len)
{
	if (len > smtp_room(s))
		len = smtp_room(s);
	memcpy(s->ibuf + s->ilen, buf, len);
	s->ilen += len;
	return len;
}

/* Make room for n more bytes and a NUL, within SMTP_REPLY_MAX. */
static int
reply_room(struct smtp_reply *r, size_t n)
{
	size_t	 want;
	char	*p;

	if (r->len + n + 1 > SMTP_REPLY_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (r->len + n + 1 <= r->size)
		return 0;
	/* Ordinary replies fit in 128 bytes; grow by doubling from there. */
	want = r->size == 0 ? 128 : r->size;
	while (want < r->len + n + 1)
		want *= 2;
	if (want > SMTP_REPLY_MAX)
		want = SMTP_REPLY_MAX;
	if ((p = realloc(r->buf, want)) == NULL)
		return -1;
	r->buf = p;
	r->size = want;
	return 0;
}

static int
reply_add(struct smtp_reply *r, const char *p, size_t n)
{
	if (reply_room(r, n) == -1)
		return -1;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return 0;
}

/* Replace the reply with a formatted one. */
static int
reply_printf(struct smtp_reply *r, const char *fmt, ...)
{
	va_list	 ap;
	char	 tmp[512];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	/* Only the hostname varies, and it is at most HOST_NAME_MAX. */
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	r->len = 0;
	return reply_add(r, tmp, n);
}

static int
match(const char *line, const char *verb)
{
	return strncasecmp(line, verb, strlen(verb)) == 0;
}

/* HELO/EHLO argument: the first word after the four-letter verb. */
void
smtp_arg_helo(char *dst, size_t len, const char *line)
{
	dst[0] = '\0';
	if (strlen(line) < 4)
		return;
	line += 4;
	line += strspn(line, " \t");
	gd_vis(dst, len, line, strcspn(line, " \t\r\n"));
}

/*
 * MAIL/RCPT argument as OpenBSD records it: the word after the first
 * colon, blanks skipped, angle brackets and case kept ("<A@b.c>").
 */
void
smtp_arg_addr(char *dst, size_t len, const char *line)
{
	const char	*p;

	dst[0] = '\0';
	if ((p = strchr(line, ':')) == NULL)
		return;
	p++;
	p += strspn(p, " \t");
	gd_vis(dst, len, p, strcspn(p, " \t\r\n"));
}

int
smtp_next(struct smtp_sess *s, const char *ip, const struct bl_hit *bl)
{
	char	*line, *nl;
	size_t	 used, n;
	int	 r;

	for (;;) {
		if (s->state == SMTP_DONE) {
			s->ilen = 0;
			return 0;
		}
		if (s->flags & SMTP_SF_DISCARD) {
			/* The tail of an overlong line: drop it up to '\n'. */
			if ((nl = memchr(s->ibuf, '\n', s->ilen)) == NULL) {
				s->ilen = 0;
				return 0;
			}
			s->flags &= ~SMTP_SF_DISCARD;
			n = nl + 1 - s->ibuf;
			memmove(s->ibuf, nl + 1, s->ilen - n);
			s->ilen -= n;
		}
		line = s->ibuf;
		if ((nl = memchr(s->ibuf, '\n', s->ilen)) != NULL) {
			*nl = '\0';
			used = nl + 1 - s->ibuf;
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
		} else if (s->ilen < SMTP_LINE_MAX) {
			return 0;
		} else {
			/* A full buffer and no end of line in sight. */
			s->ibuf[SMTP_LINE_MAX] = '\0';
			s->flags |= SMTP_SF_DISCARD;
			used = s->ilen;
			if (s->state != SMTP_MSG) {
				s->ilen = 0;
				return badcmd(s, "500 5.5.1 Line too long", ip,
				    bl);
			}
			/* In a message, the first part counts as a line. */
		}
		if (s->state == SMTP_MSG)
			r = msg_line(s, line, ip, bl);
		else
			r = cmd_line(s, line, ip, bl);
		if (r > 0 && (r & SMTP_R_STARTTLS)) {
			/* RFC 3207: what was sent after STARTTLS is void. */
			if (s->ilen > used)
				log_info("%s: %zu bytes after STARTTLS "
				    "discarded", ip, s->ilen - used);
			s->ilen = 0;
			return r;
		}
		memmove(s->ibuf, s->ibuf + used, s->ilen - used);
		s->ilen -= used;
		if (r != 0)
			return r;
	}
}

/* One command line; returns the smtp_next() flags of its reply. */
static int
cmd_line(struct smtp_sess *s, const char *line, const char *ip,
    const struct bl_hit *bl)
{
	int	 r;

	if (match(line, "QUIT")) {
		s->state = SMTP_DONE;
		if (reply_printf(&s->out, "221 %s\r\n",
		    s->conf->hostname) == -1)
			return -1;
		return SMTP_R_REPLY | SMTP_R_CLOSE;
	}
	if (s->state != SMTP_FIRST && match(line, "RSET")) {
		s->from[0] = s->rcpt[0] = '\0';
		s->flags &= ~(SMTP_SF_SENT | SMTP_SF_OFFERED);
		s->state = SMTP_MAIL;
		/* MAIL and RSET in turn would go on for ever. */
		return badcmd(s, "250 Ok to start over.", ip, bl);
	}
	if (s->state == SMTP_FIRST &&
	    (match(line, "HELO") || match(line, "EHLO"))) {
		smtp_arg_helo(s->helo, sizeof(s->helo), line);
		if (s->helo[0] == '\0')
			return badcmd(s, "501 helo requires domain name.", ip,
			    bl);
		s->state = SMTP_MAIL;
		if (match(line, "EHLO") && (s->flags & SMTP_SF_TLSOK) &&
		    !(s->flags & SMTP_SF_TLS) && bl == NULL)
			return ehlo_tls(s);
		if (reply_printf(&s->out, "250 Hello, spam sender. "
		    "Pleased to be wasting your time.\r\n") == -1)
			return -1;
		return SMTP_R_REPLY;
	}
	/*
	 * STARTTLS only straight after the EHLO that offered it, as
	 * OpenBSD's state 8: MAIL, RCPT and RSET end the offer, NOOP and
	 * bad commands keep it.  Out of place it is a bad command.
	 */
	if ((s->flags & SMTP_SF_OFFERED) && match(line, "STARTTLS"))
		return starttls(s);
	if (s->state != SMTP_RCPT && match(line, "MAIL")) {
		smtp_arg_addr(s->from, sizeof(s->from), line);
		s->flags &= ~(SMTP_SF_SENT | SMTP_SF_OFFERED);
		s->state = SMTP_RCPT;
		if (reply_printf(&s->out, "250 You are about to try to "
		    "deliver spam. Your time will be spent, for nothing.\r\n")
		    == -1)
			return -1;
		return SMTP_R_REPLY;
	}
	if (match(line, "RCPT")) {
		s->flags &= ~SMTP_SF_OFFERED;
		/* Per session, not per MAIL: RSET must not reset it. */
		if (s->nrcpt >= (unsigned int)s->conf->maxrcpt) {
			s->rcptover++;
			return badcmd(s, "452 4.5.3 Too many recipients", ip,
			    bl);
		}
		s->nrcpt++;
		smtp_arg_addr(s->rcpt, sizeof(s->rcpt), line);
		s->state = SMTP_RCPT;
		if (reply_printf(&s->out, "250 This is hurting you more "
		    "than it is hurting me.\r\n") == -1)
			return -1;
		r = SMTP_R_REPLY;
		if (s->from[0] != '\0' && s->rcpt[0] != '\0') {
			if (s->conf->verbose)
				log_info("(%s) %s: %s -> %s",
				    bl == NULL ? "GREY" : "BLACK", ip,
				    s->from, s->rcpt);
			/*
			 * An empty HELO is recorded too: OpenBSD drops such
			 * tuples, so a client that skips HELO could never
			 * pass greylisting.
			 */
			if (s->conf->greylist && bl == NULL && !dup_tuple(s))
				r |= SMTP_R_TUPLE;
		}
		return r;
	}
	if (match(line, "DATA")) {
		/* A greylisted client never gets to send its message. */
		if (s->conf->greylist && bl == NULL)
			return finish(s, ip, bl);
		s->state = SMTP_MSG;
		s->flags &= ~SMTP_SF_BODY;
		s->bodylines = 0;
		if (reply_printf(&s->out, "354 Enter spam, end with \".\" "
		    "on a line by itself\r\n") == -1)
			return -1;
		return SMTP_R_REPLY | SMTP_R_WINDOW;
	}
	if (match(line, "NOOP"))
		return badcmd(s, "250 2.0.0 OK I did nothing", ip, bl);
	return badcmd(s, "500 5.5.1 Command unrecognized", ip, bl);
}

/* EHLO from a client that may have TLS: OpenBSD's multi-line reply. */
static int
ehlo_tls(struct smtp_sess *s)
{
	s->flags |= SMTP_SF_OFFERED;
	if (reply_printf(&s->out, "250-%s\r\n250-8BITMIME\r\n"
	    "250-SMTPUTF8\r\n250 STARTTLS\r\n", s->conf->hostname) == -1)
		return -1;
	return SMTP_R_REPLY;
}

/*
 * STARTTLS straight after an EHLO that offered it.  The dialogue starts
 * over (RFC 3207): the input so far is forgotten (smtp_next).  The HELO
 * name is kept, as OpenBSD does, for a client that skips the second
 * EHLO.  The cap may have filled since the EHLO: then 454, and plain
 * goes on.
 */
static int
starttls(struct smtp_sess *s)
{
	if (!(s->flags & SMTP_SF_TLSOK)) {
		if (reply_printf(&s->out, "454 4.7.0 TLS not available due "
		    "to temporary reason\r\n") == -1)
			return -1;
		return SMTP_R_REPLY;
	}
	s->state = SMTP_FIRST;
	s->flags = (s->flags & ~SMTP_SF_OFFERED) | SMTP_SF_TLS;
	s->from[0] = s->rcpt[0] = '\0';
	if (reply_printf(&s->out, "220 glad you want to burn more CPU "
	    "cycles on your spam\r\n") == -1)
		return -1;
	return SMTP_R_REPLY | SMTP_R_STARTTLS;
}

/*
 * The same tuple as the last one sent, with no MAIL, RSET or HELO in
 * between: the greylister would only count it again.
 */
static int
dup_tuple(struct smtp_sess *s)
{
	if ((s->flags & SMTP_SF_SENT) && strcmp(s->rcpt, s->lastrcpt) == 0)
		return 1;
	strlcpy(s->lastrcpt, s->rcpt, sizeof(s->lastrcpt));
	s->flags |= SMTP_SF_SENT;
	return 0;
}

/*
 * A bad command, or one that moves the dialogue nowhere (NOOP, RSET, an
 * empty HELO, a RCPT over the limit), which spends the same budget or a
 * client could hold its slot for ever: `text' as the reply, or the end
 * after too many.
 */
static int
badcmd(struct smtp_sess *s, const char *text, const char *ip,
    const struct bl_hit *bl)
{
	if (++s->badcmd > MAXBADCMD)
		return finish(s, ip, bl);
	if (reply_printf(&s->out, "%s\r\n", text) == -1)
		return -1;
	return SMTP_R_REPLY;
}

/*
 * One line of the message of a blacklisted (or -b mode) client.  Read
 * until the final dot or MAXBODYLINES lines of body: enough to log what
 * the spam is about, not enough to be a cost.
 */
static int
msg_line(struct smtp_sess *s, const char *line, const char *ip,
    const struct bl_hit *bl)
{
	char	 safe[256];

	if (strcmp(line, ".") == 0)
		return finish(s, ip, bl);
	if (s->flags & SMTP_SF_BODY) {
		if (++s->bodylines >= MAXBODYLINES)
			return finish(s, ip, bl);
		if (line[0] != '\0') {
			gd_vis(safe, sizeof(safe), line, strlen(line));
			log_debug("%s: Body: %s", ip, safe);
		}
		return 0;
	}
	if (line[0] == '\0')
		s->flags |= SMTP_SF_BODY;
	else if (s->conf->verbose && (match(line, "From:") ||
	    match(line, "To:") || match(line, "Subject:"))) {
		gd_vis(safe, sizeof(safe), line, strlen(line));
		log_info("%s: %s", ip, safe);
	}
	return 0;
}

static int
finish(struct smtp_sess *s, const char *ip, const struct bl_hit *bl)
{
	s->state = SMTP_DONE;
	if (smtp_final(s->conf, &s->out, ip, bl) == -1)
		return -1;
	return SMTP_R_REPLY | SMTP_R_CLOSE;
}

int
smtp_final(const struct smtp_conf *conf, struct smtp_reply *r,
    const char *ip, const struct bl_hit *bl)
{
	if (bl != NULL)
		return smtp_blreply(r, conf->nreply, ip, bl->msgs, bl->nmsgs);
	return reply_printf(r,
	    "451 Temporary failure, please try again later.\r\n");
}

void
smtp_tuple(const struct smtp_sess *s, const struct addr *ip,
    const struct addr *dst, struct grey_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->ip = *ip;
	t->dst = *dst;
	strlcpy(t->helo, s->helo, sizeof(t->helo));
	strlcpy(t->from, s->from, sizeof(t->from));
	strlcpy(t->to, s->rcpt, sizeof(t->to));
}

/*
 * Blacklist reply.  Lines are opened lazily, so that a message ending
 * in a newline does not leave an empty last line; `sep' remembers where
 * the separator of the last line opened is, to turn its '-' into ' '.
 */
int
smtp_blreply(struct smtp_reply *r, int code, const char *ip,
    const char *const *msgs, size_t nmsgs)
{
	const char	*p, *ins;
	char		 prefix[8], ch;
	size_t		 i, sep = 0, inslen;
	int		 open = 0, lines = 0, full = 0;

	r->len = 0;
	snprintf(prefix, sizeof(prefix), "%03d-", code % 1000);
	for (i = 0; i < nmsgs && !full; i++) {
		if (msgs[i] == NULL)
			continue;
		for (p = msgs[i]; *p != '\0' && !full; p++) {
			ch = *p;
			ins = &ch;
			inslen = 1;
			if (ch == '\r')
				continue;
			if (ch == '\\' && p[1] != '\0' &&
			    strchr("n\"\\", p[1]) != NULL) {
				p++;
				ch = *p == 'n' ? '\n' : *p;
			} else if (ch == '%' && p[1] == 'A') {
				p++;
				ins = ip;
				inslen = strlen(ip);
			} else if (ch == '%' && p[1] == '%')
				p++;
			if (!open) {
				/* Room for the prefix and a CRLF to end it. */
				if (r->len + 4 + 2 + 1 > SMTP_REPLY_MAX) {
					full = 1;
					break;
				}
				if (reply_add(r, prefix, 4) == -1)
					return -1;
				sep = r->len - 1;
				open = 1;
				lines++;
			}
			if (ins == &ch && ch == '\n') {
				if (reply_add(r, "\r\n", 2) == -1)
					return -1;
				open = 0;
				continue;
			}
			/* Keep two bytes for the CRLF that ends the line. */
			if (r->len + inslen + 2 + 1 > SMTP_REPLY_MAX) {
				full = 1;
				break;
			}
			if (reply_add(r, ins, inslen) == -1)
				return -1;
		}
		if (open) {
			if (reply_add(r, "\r\n", 2) == -1)
				return -1;
			open = 0;
		}
	}
	if (lines == 0) {
		/* Lists without a message: still say why. */
		return reply_printf(r,
		    "%03d Your address %s is blacklisted\r\n", code % 1000, ip);
	}
	r->buf[sep] = ' ';
	return 0;
}

int
smtp_banner_prefix(const struct smtp_conf *conf, char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "220 %s ESMTP %s; ", conf->hostname,
	    conf->name);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

void
smtp_banner_time(char tail[SMTP_TIMELEN], time_t t)
{
	struct tm	 tm;
	char		 buf[64];

	/* ctime(3)'s layout, without its newline. */
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm) !=
	    SMTP_TIMELEN - 2)
		strlcpy(buf, "Thu Jan  1 00:00:00 1970", sizeof(buf));
	memcpy(tail, buf, SMTP_TIMELEN - 2);
	tail[SMTP_TIMELEN - 2] = '\r';
	tail[SMTP_TIMELEN - 1] = '\n';
}
