/*
 * Which clients delivered mail, from a Postfix log (see maillog.h).
 *
 * A line is
 *
 *	TIME HOST PROGRAM[PID]: MESSAGE
 *
 * TIME in syslog's traditional form ("Dec  6 06:21:57", fractions of a
 * second allowed, as Postfix's maillog_file, rsyslog's default and
 * journalctl -o short write it) or in RFC 3339 form
 * ("2026-12-06T06:21:57.123456+00:00", rsyslog's high-precision
 * format, journalctl -o short-iso).  PROGRAM is Postfix's syslog_name
 * and the daemon, "postfix/smtpd", "postfix-in/virtual",
 * "postfix/submission/smtpd": queue ids belong to the instance, the
 * part up to the first slash, on that host.
 *
 * The recipient of a to= line is written by the sender, and may quote
 * anything, ", status=sent" included: the fields are taken in order,
 * the addresses read by their quoting, so only the field Postfix wrote
 * counts.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maillog.h"

#define ML_HOST_MAX	256
#define ML_BUCKETS	(ML_QUEUE_MAX * 2)
#define ML_CBUCKETS	65536
#define ML_FIELDS_MAX	16	/* fields of a to= line before status= */

struct pending {
	uint64_t	 src;
	char		 qid[ML_QID_MAX];
	struct addr	 addr;
	int32_t		 next;		/* hash chain; -1 ends it */
	uint8_t		 used, counted;
};

struct maillog {
	time_t		 now, since;
	struct pending	*q;		/* a ring, oldest overwritten */
	int32_t		*qb;		/* hash buckets of q */
	size_t		 qnext;
	struct ml_client *c;		/* in the order first seen */
	size_t		 nc, capc;
	int32_t		*cb;		/* hash buckets of c */
	struct ml_stats	 st;
};

static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* n digits at *s into *v; advances *s.  -1 if there are not n. */
static int
digits(const char **s, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		*v = *v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return 0;
}

/* HH:MM:SS, then an optional fraction. */
static int
clock_time(const char **s, struct tm *tm)
{
	if (digits(s, 2, &tm->tm_hour) == -1 || *(*s)++ != ':' ||
	    digits(s, 2, &tm->tm_min) == -1 || *(*s)++ != ':' ||
	    digits(s, 2, &tm->tm_sec) == -1)
		return -1;
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return -1;
	if (**s == '.') {
		(*s)++;
		if (!isdigit((unsigned char)**s))
			return -1;
		while (isdigit((unsigned char)**s))
			(*s)++;
	}
	return 0;
}

/* "Mmm dd HH:MM:SS[.f]": the latest such local time before now + 1 day. */
static int
time_trad(const char **s, time_t now, time_t *when)
{
	struct tm	 tm, nowtm;
	const char	*p = *s;
	int		 m, y;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	for (m = 0; m < 12; m++)
		if (strncmp(p, months[m], 3) == 0)
			break;
	if (m == 12 || p[3] != ' ')
		return -1;
	p += 4;
	if (*p == ' ')
		p++;
	if (digits(&p, isdigit((unsigned char)p[0]) &&
	    isdigit((unsigned char)p[1]) ? 2 : 1, &tm.tm_mday) == -1 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    *p++ != ' ' || clock_time(&p, &tm) == -1)
		return -1;
	if (localtime_r(&now, &nowtm) == NULL)
		return -1;
	for (y = nowtm.tm_year; y >= nowtm.tm_year - 1; y--) {
		tm.tm_year = y;
		tm.tm_mon = m;
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == -1)
			return -1;
		if (t <= now + 86400)
			break;
	}
	*when = t;
	*s = p;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.f][Z|+HH:MM|+HHMM]"; local time without a zone. */
static int
time_iso(const char **s, time_t *when)
{
	struct tm	 tm;
	const char	*p = *s;
	int		 oh = 0, om = 0, sign = 0;

	memset(&tm, 0, sizeof(tm));
	if (digits(&p, 4, &tm.tm_year) == -1 || *p++ != '-' ||
	    digits(&p, 2, &tm.tm_mon) == -1 || *p++ != '-' ||
	    digits(&p, 2, &tm.tm_mday) == -1 || *p++ != 'T' ||
	    clock_time(&p, &tm) == -1)
		return -1;
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	if (*p == 'Z')
		p++, sign = 1;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) == -1)
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) == -1 || oh > 23 || om > 59)
			return -1;
	}
	if (sign == 0) {
		tm.tm_isdst = -1;
		*when = mktime(&tm);
	} else
		*when = timegm(&tm) - sign * (oh * 3600 + om * 60);
	if (*when == -1)
		return -1;
	*s = p;
	return 0;
}

static uint64_t
hash64(const char *s, size_t n, uint64_t h)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * An address between the quotes of <...>, s just past the '<': the
 * position after the '>', or NULL.  A quoted part may hold '>', and a
 * backslash in it quotes the next byte.
 */
static const char *
skip_mailaddr(const char *s)
{
	int	 quoted = 0;

	for (; *s != '\0'; s++) {
		if (quoted && *s == '\\') {
			if (*++s == '\0')
				return NULL;
		} else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == '>')
			return s + 1;
	}
	return NULL;
}

/* "to=<...>, field=value, ..., status=WORD ...": ML_SENT or ML_OTHER. */
static enum ml_kind
parse_to(const char *s)
{
	const char	*v;
	size_t		 n;
	int		 i;

	if ((s = skip_mailaddr(s + 4)) == NULL)
		return ML_BAD;
	for (i = 0; i < ML_FIELDS_MAX; i++) {
		if (strncmp(s, ", ", 2) != 0)
			return ML_BAD;
		s += 2;
		for (n = 0; islower((unsigned char)s[n]) || s[n] == '_'; n++)
			;
		if (n == 0 || s[n] != '=')
			return ML_BAD;
		v = s + n + 1;
		if (n == 6 && strncmp(s, "status", 6) == 0) {
			n = strcspn(v, " ");
			return n == 4 && strncmp(v, "sent", 4) == 0 &&
			    (v[4] == ' ' || v[4] == '\0') ? ML_SENT : ML_OTHER;
		}
		if (n == 7 && strncmp(s, "orig_to", 7) == 0) {
			if (*v != '<' || (s = skip_mailaddr(v + 1)) == NULL)
				return ML_BAD;
			continue;
		}
		/* relay=, conn_use=, delay=, delays=, dsn=: no blank, no comma */
		s = v + strcspn(v, ", ");
	}
	return ML_BAD;
}

/* "client=name[addr][:port]" then the end or ", ...". */
static enum ml_kind
parse_client(const char *s, struct ml_rec *r)
{
	char	 ip[64];
	size_t	 n;

	s += 7;
	n = strcspn(s, "[], ");
	if (s[n] != '[')
		return ML_BAD;
	s += n + 1;
	if ((n = strcspn(s, "]")) >= sizeof(ip) || s[n] != ']')
		return ML_BAD;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (addr_parse(&r->addr, ip) == -1)
		return ML_BAD;
	s += n + 1;
	if (*s == ':') {
		for (n = 1; isdigit((unsigned char)s[n]); n++)
			;
		if (n == 1)
			return ML_BAD;
		s += n;
	}
	if (*s != '\0' && strncmp(s, ", ", 2) != 0)
		return ML_BAD;
	return ML_CLIENT;
}

enum ml_kind
ml_parse(const char *line, time_t now, struct ml_rec *r)
{
	const char	*s = line, *prog, *slash, *daemon;
	size_t		 hostlen, proglen, n;

	memset(r, 0, sizeof(*r));
	r->kind = ML_BAD;
	if (isdigit((unsigned char)*s) ? time_iso(&s, &r->when) == -1 :
	    time_trad(&s, now, &r->when) == -1)
		return ML_BAD;
	if (*s++ != ' ')
		return ML_BAD;
	hostlen = strcspn(s, " ");
	if (hostlen == 0 || hostlen >= ML_HOST_MAX || s[hostlen] != ' ')
		return ML_BAD;
	r->src = hash64(s, hostlen + 1, 0xcbf29ce484222325ULL);
	prog = s + hostlen + 1;
	proglen = strcspn(prog, "[: ");
	if (proglen == 0)
		return ML_BAD;
	s = prog + proglen;
	if (*s == '[') {
		for (n = 1; isdigit((unsigned char)s[n]); n++)
			;
		if (n == 1 || s[n] != ']')
			return ML_BAD;
		s += n + 1;
	}
	if (strncmp(s, ": ", 2) != 0)
		return ML_BAD;
	s += 2;
	r->kind = ML_OTHER;
	/* Postfix's: instance/daemon, perhaps with a service between. */
	if ((slash = memchr(prog, '/', proglen)) == NULL)
		return ML_OTHER;
	r->src = hash64(prog, slash - prog, r->src);
	daemon = prog + proglen;
	while (daemon[-1] != '/')
		daemon--;
	for (n = 0; isalnum((unsigned char)s[n]); n++)
		;
	if (n < 5 || n >= ML_QID_MAX || strncmp(s + n, ": ", 2) != 0 ||
	    (n == 7 && strncmp(s, "NOQUEUE", 7) == 0))
		return ML_OTHER;
	memcpy(r->qid, s, n);
	r->qid[n] = '\0';
	s += n + 2;
	if (prog + proglen - daemon == 5 && strncmp(daemon, "smtpd", 5) == 0 &&
	    strncmp(s, "client=", 7) == 0)
		r->kind = parse_client(s, r);
	else if (strncmp(s, "to=<", 4) == 0)
		r->kind = parse_to(s);
	return r->kind;
}

struct maillog *
ml_new(time_t now, time_t since)
{
	struct maillog	*ml;
	size_t		 i;

	if ((ml = calloc(1, sizeof(*ml))) == NULL ||
	    (ml->q = calloc(ML_QUEUE_MAX, sizeof(*ml->q))) == NULL ||
	    (ml->qb = calloc(ML_BUCKETS, sizeof(*ml->qb))) == NULL ||
	    (ml->cb = calloc(ML_CBUCKETS, sizeof(*ml->cb))) == NULL) {
		ml_free(ml);
		return NULL;
	}
	for (i = 0; i < ML_BUCKETS; i++)
		ml->qb[i] = -1;
	for (i = 0; i < ML_CBUCKETS; i++)
		ml->cb[i] = -1;
	ml->now = now;
	ml->since = since;
	return ml;
}

void
ml_free(struct maillog *ml)
{
	if (ml == NULL)
		return;
	free(ml->q);
	free(ml->qb);
	free(ml->c);
	free(ml->cb);
	free(ml);
}

static size_t
q_bucket(uint64_t src, const char *qid)
{
	return hash64(qid, strlen(qid), src) % ML_BUCKETS;
}

static struct pending *
q_find(struct maillog *ml, uint64_t src, const char *qid)
{
	int32_t	 i;

	for (i = ml->qb[q_bucket(src, qid)]; i != -1; i = ml->q[i].next)
		if (ml->q[i].src == src && strcmp(ml->q[i].qid, qid) == 0)
			return &ml->q[i];
	return NULL;
}

static void
q_unlink(struct maillog *ml, int32_t i)
{
	int32_t	*pp;

	pp = &ml->qb[q_bucket(ml->q[i].src, ml->q[i].qid)];
	while (*pp != i)
		pp = &ml->q[*pp].next;
	*pp = ml->q[i].next;
	if (!ml->q[i].counted)
		ml->st.forgotten++;
	ml->q[i].used = 0;
}

/* A queue id given to a client; a reused one starts afresh. */
static void
q_add(struct maillog *ml, const struct ml_rec *r)
{
	struct pending	*p;
	size_t		 b;
	int32_t		 i;

	if ((p = q_find(ml, r->src, r->qid)) != NULL) {
		p->addr = r->addr;
		p->counted = 0;
		return;
	}
	i = (int32_t)ml->qnext;
	ml->qnext = (ml->qnext + 1) % ML_QUEUE_MAX;
	if (ml->q[i].used)
		q_unlink(ml, i);
	p = &ml->q[i];
	p->src = r->src;
	memcpy(p->qid, r->qid, sizeof(p->qid));
	p->addr = r->addr;
	p->counted = 0;
	p->used = 1;
	b = q_bucket(r->src, r->qid);
	p->next = ml->qb[b];
	ml->qb[b] = i;
}

static void
c_add(struct maillog *ml, const struct addr *a, time_t when)
{
	struct ml_client *c, *nc;
	size_t		  b, ncap;
	int32_t		  i;

	b = addr_hash(a, 0) % ML_CBUCKETS;
	for (i = ml->cb[b]; i != -1; i = ml->c[i].next) {
		c = &ml->c[i];
		if (addr_cmp(&c->addr, a) != 0)
			continue;
		if (when < c->first)
			c->first = when;
		if (when > c->last)
			c->last = when;
		c->msgs++;
		return;
	}
	if (ml->nc == ML_CLIENTS_MAX) {
		ml->st.over++;
		return;
	}
	if (ml->nc == ml->capc) {
		ncap = ml->capc ? ml->capc * 2 : 256;
		if ((nc = reallocarray(ml->c, ncap, sizeof(*nc))) == NULL) {
			ml->st.over++;
			return;
		}
		ml->c = nc;
		ml->capc = ncap;
	}
	c = &ml->c[ml->nc];
	c->addr = *a;
	c->first = c->last = when;
	c->msgs = 1;
	c->next = ml->cb[b];
	ml->cb[b] = (int32_t)ml->nc++;
}

/* Loopback and unspecified clients are the host itself. */
static int
is_local(const struct addr *a)
{
	static const uint8_t	 zero[15];

	if (a->af == AF_INET)
		return a->a[0] == 127 || a->a[0] == 0;
	return memcmp(a->a, zero, 15) == 0 && a->a[15] <= 1;
}

void
ml_line(struct maillog *ml, const char *line)
{
	struct ml_rec	 r;
	struct pending	*p;

	ml->st.lines++;
	switch (ml_parse(line, ml->now, &r)) {
	case ML_BAD:
		ml->st.bad++;
		break;
	case ML_CLIENT:
		ml->st.clients++;
		if (is_local(&r.addr))
			ml->st.local++;
		else
			q_add(ml, &r);
		break;
	case ML_SENT:
		/* A message counts once, whatever its recipients. */
		if ((p = q_find(ml, r.src, r.qid)) == NULL || p->counted)
			break;
		p->counted = 1;
		ml->st.sent++;
		if (r.when < ml->since)
			ml->st.old++;
		else
			c_add(ml, &p->addr, r.when);
		break;
	default:
		break;
	}
}

size_t
ml_nclients(const struct maillog *ml)
{
	return ml->nc;
}

const struct ml_client *
ml_client(const struct maillog *ml, size_t i)
{
	return i < ml->nc ? &ml->c[i] : NULL;
}

const struct ml_stats *
ml_stats(struct maillog *ml)
{
	size_t	 i;

	ml->st.undelivered = ml->st.forgotten;
	for (i = 0; i < ML_QUEUE_MAX; i++)
		if (ml->q[i].used && !ml->q[i].counted)
			ml->st.undelivered++;
	return &ml->st;
}

unsigned long
ml_bad(const struct maillog *ml)
{
	return ml->st.bad;
}
