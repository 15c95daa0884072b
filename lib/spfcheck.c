/*
 * check_host() of RFC 7208 over c-ares, one term at a time: a term that
 * needs DNS asks and waits, and the answer resumes the walk where it
 * stopped.  include: pushes a frame, redirect= replaces the frame, so
 * the stack is as deep as the chain of includes (bounded by the lookup
 * bound).  Answers are untrusted: records are copied into bounded
 * buffers (spftxt.c), addresses taken from fixed arrays.
 *
 * A check that ends (result or time bound) while queries are still out
 * stays allocated, marked done, until their answers come back.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <ares.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "spf.h"
#include "spfcheck.h"

struct frame {
	char	 domain[SPF_NAMEMAX];
	char	*rec;		/* the record, NULL while awaited */
	char	*last;		/* strtok_r's place in rec */
	char	 redirect[SPF_NAMEMAX];
	char	 qual;		/* of the include: that made it */
	int	 redirected;	/* reached by redirect=: none is permerror */
};

struct spf_chk {
	TAILQ_ENTRY(spf_chk)	 entry;
	ares_channel		 ch;
	struct addr		 ip;
	int64_t			 deadline;
	spf_check_fn		*fn;
	void			*arg;
	int			 done;
	int			 pending;	/* queries out */
	int			 waiting;	/* ... for this step */
	int			 lookups, voids;
	/* the step: a or mx (and its exchanges) of the current term */
	char			 qual;
	int			 c4, c6, matched;
	int			 depth;
	struct frame		 f[SPF_CHECK_DEPTH];
};

struct query {
	struct spf_chk	*c;
	int		 type;
};

TAILQ_HEAD(chkq, spf_chk);
static struct chkq	 checks = TAILQ_HEAD_INITIALIZER(checks);
static int		 nchecks;

static void	finish(struct spf_chk *, enum spf_result, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	run(struct spf_chk *);
static int	ask(struct spf_chk *, const char *, int);
static void	answer(void *, int, int, unsigned char *, int);
static void	frame_done(struct spf_chk *, enum spf_result);

/* A term's note, warning or error: errors make the record permerror. */
static void
v_ignore(void *arg, const char *fmt, ...)
{
	(void)arg;
	(void)fmt;
}

static void
v_error(void *arg, const char *fmt, ...)
{
	struct spf_chk	*c = arg;
	char		 buf[200];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	finish(c, SPF_R_PERMERROR, "%s: %s", c->f[c->depth].domain, buf);
}

static enum spf_result
qual_result(char q)
{
	switch (q) {
	case '-':
		return SPF_R_FAIL;
	case '~':
		return SPF_R_SOFTFAIL;
	case '?':
		return SPF_R_NEUTRAL;
	default:
		return SPF_R_PASS;
	}
}

static void
release(struct spf_chk *c)
{
	if (c->done && c->pending == 0)
		free(c);
}

static void
finish(struct spf_chk *c, enum spf_result r, const char *fmt, ...)
{
	char	 why[300];
	va_list	 ap;

	if (c->done)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->done = 1;
	TAILQ_REMOVE(&checks, c, entry);
	nchecks--;
	c->fn(c->arg, r, why);
}

int
spf_check(ares_channel ch, const char *domain, const struct addr *ip,
    int64_t now_ms, int ms, spf_check_fn *fn, void *arg)
{
	struct spf_chk	*c;

	if (!spf_name_ok(domain) || (ip->af != AF_INET &&
	    ip->af != AF_INET6)) {
		errno = EINVAL;
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->ch = ch;
	c->ip = *ip;
	c->deadline = now_ms + ms;
	c->fn = fn;
	c->arg = arg;
	c->f[0].qual = '+';
	strlcpy(c->f[0].domain, domain, sizeof(c->f[0].domain));
	/* Sorted by deadline: one bound for all, so appended in order. */
	TAILQ_INSERT_TAIL(&checks, c, entry);
	nchecks++;
	c->pending++;		/* ares_query may answer at once */
	if (ask(c, domain, ns_t_txt) == -1)
		finish(c, SPF_R_TEMPERROR, "%s", strerror(errno));
	c->pending--;
	release(c);
	return 0;
}

void
spf_check_expire(int64_t now_ms)
{
	struct spf_chk	*c;

	while ((c = TAILQ_FIRST(&checks)) != NULL && c->deadline <= now_ms) {
		finish(c, SPF_R_TEMPERROR, "time bound reached");
		release(c);
	}
}

int64_t
spf_check_next(void)
{
	struct spf_chk	*c = TAILQ_FIRST(&checks);

	return c == NULL ? -1 : c->deadline;
}

int
spf_check_running(void)
{
	return nchecks;
}

/* One query of the current step. */
static int
ask(struct spf_chk *c, const char *name, int type)
{
	struct query	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->c = c;
	q->type = type;
	c->pending++;
	c->waiting++;
	ares_query(c->ch, name, ns_c_in, type, answer, q);
	return 0;
}

/* A DNS-querying term: counted against the bound. */
static int
count_lookup(struct spf_chk *c)
{
	if (++c->lookups > SPF_CHECK_LOOKUPS) {
		finish(c, SPF_R_PERMERROR, "more than %d DNS lookups",
		    SPF_CHECK_LOOKUPS);
		return -1;
	}
	return 0;
}

/* An answer with no data: more than SPF_CHECK_VOIDS is permerror. */
static void
count_void(struct spf_chk *c)
{
	if (++c->voids > SPF_CHECK_VOIDS)
		finish(c, SPF_R_PERMERROR, "more than %d void lookups",
		    SPF_CHECK_VOIDS);
}

static int
in_range(const struct spf_chk *c, int af, const struct cidr_range *r)
{
	struct cidr_ip	 x;

	if (af != c->ip.af)
		return 0;
	cidr_ip_from_bytes(af, c->ip.a, &x);
	return cidr_cmp(&r->start, &x) <= 0 && cidr_cmp(&x, &r->end) <= 0;
}

/* Does an A or AAAA answer hold ip, with the step's prefix length? */
static void
got_addr(struct spf_chk *c, int type, unsigned char *abuf, int alen)
{
	struct ares_addrttl	 a4[SPF_MAXADDRS];
	struct ares_addr6ttl	 a6[SPF_MAXADDRS];
	struct cidr_range	 r;
	struct cidr_ip		 ip;
	int			 i, n = SPF_MAXADDRS, rc;

	if (type == ns_t_a)
		rc = ares_parse_a_reply(abuf, alen, NULL, a4, &n);
	else
		rc = ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n);
	if (rc == ARES_ENODATA) {
		count_void(c);
		return;
	}
	if (rc != ARES_SUCCESS) {
		finish(c, SPF_R_PERMERROR, "bad address answer: %s",
		    ares_strerror(rc));
		return;
	}
	for (i = 0; i < n && !c->matched; i++) {
		if (type == ns_t_a) {
			cidr_ip_from_bytes(AF_INET, &a4[i].ipaddr, &ip);
			cidr_block(AF_INET, &ip, c->c4, &r);
			c->matched = in_range(c, AF_INET, &r);
		} else {
			cidr_ip_from_bytes(AF_INET6, &a6[i].ip6addr, &ip);
			cidr_block(AF_INET6, &ip, c->c6, &r);
			c->matched = in_range(c, AF_INET6, &r);
		}
	}
}

/* The exchanges of an mx term: their addresses, asked at once. */
static void
got_mx(struct spf_chk *c, unsigned char *abuf, int alen)
{
	struct ares_mx_reply	*mx = NULL, *m;
	int			 n = 0, rc;

	if ((rc = ares_parse_mx_reply(abuf, alen, &mx)) != ARES_SUCCESS) {
		if (rc == ARES_ENODATA)
			count_void(c);
		else
			finish(c, SPF_R_PERMERROR, "bad MX answer: %s",
			    ares_strerror(rc));
		return;
	}
	for (m = mx; m != NULL && !c->done; m = m->next) {
		if (++n > SPF_MAXMX) {
			finish(c, SPF_R_PERMERROR, "more than %d exchanges",
			    SPF_MAXMX);
			break;
		}
		if (!spf_name_ok(m->host))
			continue;
		if (ask(c, m->host, c->ip.af == AF_INET ? ns_t_a :
		    ns_t_aaaa) == -1)
			finish(c, SPF_R_TEMPERROR, "%s", strerror(errno));
	}
	ares_free_data(mx);
}

static void
got_txt(struct spf_chk *c, unsigned char *abuf, int alen)
{
	struct frame	*f = &c->f[c->depth];
	char		 rec[SPF_RECMAX], why[128];
	int		 rv;

	if ((rv = spf_txt(abuf, alen, rec, why, sizeof(why))) == -1) {
		finish(c, SPF_R_PERMERROR, "%s: %s", f->domain, why);
		return;
	}
	if (rv == 0) {
		frame_done(c, SPF_R_NONE);
		return;
	}
	if ((f->rec = strdup(rec)) == NULL) {
		finish(c, SPF_R_TEMPERROR, "%s", strerror(errno));
		return;
	}
	/* Past "v=spf1". */
	(void)strtok_r(f->rec, " ", &f->last);
}

static void
answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query	*q = arg;
	struct spf_chk	*c = q->c;
	int		 type = q->type;

	(void)timeouts;
	free(q);
	c->pending--;
	if (c->done) {
		release(c);
		return;
	}
	c->waiting--;
	switch (status) {
	case ARES_SUCCESS:
		if (type == ns_t_txt)
			got_txt(c, abuf, alen);
		else if (type == ns_t_mx)
			got_mx(c, abuf, alen);
		else
			got_addr(c, type, abuf, alen);
		break;
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		if (type == ns_t_txt)
			frame_done(c, SPF_R_NONE);
		else
			count_void(c);
		break;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		finish(c, SPF_R_TEMPERROR, "resolver shut down");
		break;
	default:
		finish(c, SPF_R_TEMPERROR, "%s: %s", c->f[c->depth].domain,
		    ares_strerror(status));
		break;
	}
	if (!c->done && c->waiting == 0)
		run(c);
	release(c);
}

/*
 * The record of the current frame ended with res (a match's result,
 * NEUTRAL when nothing matched, NONE when there was no record).  At
 * the top that is the answer; an include matches when its record
 * passes, goes on when it fails or is neutral, and is an error
 * otherwise.
 */
static void
frame_done(struct spf_chk *c, enum spf_result res)
{
	struct frame	*f = &c->f[c->depth];
	char		 q = f->qual;

	if (res == SPF_R_NONE && (c->depth > 0 || f->redirected)) {
		finish(c, SPF_R_PERMERROR, "%s: no SPF record", f->domain);
		return;
	}
	free(f->rec);
	f->rec = NULL;
	if (c->depth == 0) {
		finish(c, res, "%s", f->domain);
		return;
	}
	c->depth--;
	switch (res) {
	case SPF_R_PASS:
		frame_done(c, qual_result(q));
		break;
	case SPF_R_FAIL:
	case SPF_R_SOFTFAIL:
	case SPF_R_NEUTRAL:
		break;		/* no match: the parent goes on */
	case SPF_R_TEMPERROR:
		finish(c, res, "%s", f->domain);
		break;
	default:
		finish(c, SPF_R_PERMERROR, "%s", f->domain);
		break;
	}
}

/* Walk the terms until one needs DNS, or the check ends. */
static void
run(struct spf_chk *c)
{
	struct spf_visit	 v = { .note = v_ignore, .warn = v_ignore,
				    .error = v_error, .arg = c };
	struct spf_term		 t;
	struct frame		*f;
	char			*w;
	int			 type;

	/* The a or mx step that was waiting is over. */
	if (c->matched) {
		c->matched = 0;
		frame_done(c, qual_result(c->qual));
	}
	while (!c->done && c->waiting == 0) {
		f = &c->f[c->depth];
		if (f->rec == NULL)
			return;		/* its TXT is on the way */
		if ((w = strtok_r(NULL, " ", &f->last)) == NULL) {
			if (f->redirect[0] == '\0') {
				frame_done(c, SPF_R_NEUTRAL);
				continue;
			}
			if (count_lookup(c) == -1)
				return;
			free(f->rec);
			f->rec = NULL;
			strlcpy(f->domain, f->redirect, sizeof(f->domain));
			f->redirect[0] = '\0';
			f->redirected = 1;
			if (ask(c, f->domain, ns_t_txt) == -1)
				finish(c, SPF_R_TEMPERROR, "%s",
				    strerror(errno));
			return;
		}
		spf_term(w, f->domain, &v, &t);
		switch (t.kind) {
		case SPF_T_SKIP:
			break;
		case SPF_T_ALL:
			/* "+all" lets everybody by: nobody in particular. */
			frame_done(c, t.qual == '+' ? SPF_R_NEUTRAL :
			    qual_result(t.qual));
			break;
		case SPF_T_NET:
			if (in_range(c, t.af, &t.net))
				frame_done(c, qual_result(t.qual));
			break;
		case SPF_T_REDIRECT:
			strlcpy(f->redirect, t.domain, sizeof(f->redirect));
			break;
		case SPF_T_INCLUDE:
			if (count_lookup(c) == -1)
				return;
			if (c->depth + 1 >= SPF_CHECK_DEPTH) {
				finish(c, SPF_R_PERMERROR, "includes nested "
				    "too deep");
				return;
			}
			f = &c->f[++c->depth];
			memset(f, 0, sizeof(*f));
			f->qual = t.qual;
			strlcpy(f->domain, t.domain, sizeof(f->domain));
			if (ask(c, f->domain, ns_t_txt) == -1)
				finish(c, SPF_R_TEMPERROR, "%s",
				    strerror(errno));
			return;
		case SPF_T_A:
		case SPF_T_MX:
			if (count_lookup(c) == -1)
				return;
			c->qual = t.qual;
			c->c4 = t.c4;
			c->c6 = t.c6;
			c->matched = 0;
			type = t.kind == SPF_T_MX ? ns_t_mx :
			    c->ip.af == AF_INET ? ns_t_a : ns_t_aaaa;
			if (ask(c, t.domain, type) == -1)
				finish(c, SPF_R_TEMPERROR, "%s",
				    strerror(errno));
			return;
		}
	}
}
