/*
 * Record policy over the store interface.  Time is an argument, so
 * the unit tests drive it with an injected clock.
 *
 * Differences from OpenBSD, on purpose: a retry after passtime promotes
 * its ip to WHITE at once, in the same transaction, instead of at the
 * next scan, and the passed tuple is deleted then (OpenBSD keeps it
 * until greyexp, re-adding the ip at every scan, so an admin's
 * `spamdb -d ip' did not stick).  The scan still promotes passed tuples
 * it finds, such as those written by an older version or by sync.
 *
 * Used by: spamd (grey_decide, sync, scan), spamlogd (grey_white_seen),
 * spamdb (grey_admin_set, grey_trapped_new for import).
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grey.h"
#include "log.h"

#define SCAN_BATCH	1000	/* changes per transaction in a scan */

void
grey_white_new(struct gdata *w, time_t now, time_t whiteexp)
{
	memset(w, 0, sizeof(*w));
	w->first = w->pass = now;
	w->expire = now + whiteexp;
	w->bcount = 1;
	w->pcount = 0;
}

/* The WHITE record of a tuple that passed: its history, a fresh pcount. */
static void
grey_white(const struct grey_conf *gc, time_t now, const struct gdata *t,
    struct gdata *w)
{
	grey_white_new(w, now, gc->whiteexp);
	w->first = t->first;
	w->pass = t->pass;
	w->bcount = t->bcount;
}

void
grey_trapped_new(struct gdata *t, time_t now, time_t expire)
{
	memset(t, 0, sizeof(*t));
	t->first = now;
	t->expire = expire;
	t->bcount = 1;
	t->pcount = GD_TRAPPED;
}

/*
 * One tuple's decision.  The tuple's key is read at most once: the
 * low-priority MX check and the greylisting share it.
 */
struct decide_ctx {
	const struct grey_conf	 *gc;
	const struct grey_policy *pol;
	time_t			  now;
	const char		 *key, *trapkey;	/* trapkey may be NULL */
	size_t			  keylen, iplen;
	const char		 *spfkey;	/* SPF pass: domain key, or NULL */
	size_t			  spfkeylen;
	int			  tuple_rv;	/* the key's get; 2: not yet */
	struct gdata		  tuple;
	struct grey_verdict	 *v;
};

#define TUPLE_UNREAD	2

static int
decide_tuple_get(struct store *st, struct decide_ctx *c)
{
	if (c->tuple_rv == TUPLE_UNREAD)
		c->tuple_rv = st->ops->get(st->h, c->key, c->keylen,
		    &c->tuple);
	return c->tuple_rv;
}

/* Why the tuple traps its sender, or GREY_WHY_NONE; <0 a STORE_ code. */
static int
decide_why(struct store *st, struct decide_ctx *c)
{
	struct gdata	 gd;
	int		 rv;

	if (c->trapkey != NULL) {
		rv = st->ops->get(st->h, c->trapkey, strlen(c->trapkey), &gd);
		if (rv < 0)
			return rv;
		if (rv == STORE_OK && gd.pcount == GD_SPAMTRAP)
			return GREY_WHY_SPAMTRAP;
	}
	if (!c->pol->domain_ok)
		return GREY_WHY_DOMAIN;
	if (!c->pol->lowprio)
		return GREY_WHY_NONE;
	/* A tuple seen at the primary MX already is honest. */
	if ((rv = decide_tuple_get(st, c)) < 0)
		return rv;
	return rv == STORE_OK && c->tuple.expire > c->now ? GREY_WHY_NONE :
	    GREY_WHY_LOWPRIO;
}

/* Trap ip: a trapped ip keeps its expiry, any other starts afresh. */
static int
decide_trap(struct store *st, struct decide_ctx *c)
{
	struct grey_verdict	*v = c->v;
	struct gdata		*gd = &v->rec;
	int			 rv;

	if ((rv = st->ops->get(st->h, c->key, c->iplen, gd)) < 0)
		return rv;
	if (rv == STORE_OK && gd->expire > c->now &&
	    gd->pcount == GD_TRAPPED) {
		gd->bcount++;
	} else {
		if (rv == STORE_OK && gd->expire > c->now && gd->pcount >= 0)
			v->was_white = 1;
		grey_trapped_new(gd, c->now, c->now + c->gc->trapexp);
		gd->pass = gd->expire;
	}
	v->r = GREY_TRAPPED;
	return st->ops->put(st->h, c->key, c->iplen, gd);
}

/*
 * SPF-aware passing (grey.h): the domain-keyed record of a tuple with
 * SPF pass, made or counted; once older than passtime it passes ip,
 * whose own tuple record (gd) then goes as a passed tuple does.
 * 1: ip was whitelisted; 0: go on as usual; <0: a STORE_ code.
 */
static int
decide_spf(struct store *st, struct decide_ctx *c, struct gdata *gd)
{
	const struct store_ops	*o = st->ops;
	struct grey_verdict	*v = c->v;
	struct gdata		 dd;
	int			 rv;

	rv = o->get(st->h, c->spfkey, c->spfkeylen, &dd);
	if (rv == STORE_ERR || rv == STORE_RETRY)
		return rv;
	if (rv == STORE_NOTFOUND || dd.expire <= c->now || dd.pcount < 0) {
		if (!c->pol->may_create)
			return 0;
		memset(&dd, 0, sizeof(dd));
		dd.first = c->now;
		dd.pass = dd.expire = c->now + c->gc->greyexp;
		dd.bcount = 1;
		rv = o->put(st->h, c->spfkey, c->spfkeylen, &dd);
		return rv == STORE_OK ? 0 : rv;
	}
	dd.bcount++;
	if ((rv = o->put(st->h, c->spfkey, c->spfkeylen, &dd)) != STORE_OK)
		return rv;
	if (dd.first + c->gc->passtime >= c->now)
		return 0;
	/* Passed through its domain: ip goes WHITE, its tuple goes. */
	gd->pass = c->now;
	grey_white(c->gc, c->now, gd, &v->rec);
	v->r = GREY_PASSED;
	memcpy(v->spfdom, c->spfkey + sizeof(GREY_SPF_PREFIX) - 1,
	    strcspn(c->spfkey + sizeof(GREY_SPF_PREFIX) - 1, "\n"));
	if ((rv = o->put(st->h, c->key, c->iplen, &v->rec)) != STORE_OK)
		return rv;
	rv = o->del(st->h, c->key, c->keylen);
	return rv == STORE_OK || rv == STORE_NOTFOUND ? 1 : rv;
}

/* Greylist the tuple; ip is not trapped by it. */
static int	decide_spf(struct store *, struct decide_ctx *,
		    struct gdata *);

static int
decide_grey(struct store *st, struct decide_ctx *c)
{
	const struct store_ops	*o = st->ops;
	const struct grey_conf	*gc = c->gc;
	struct grey_verdict	*v = c->v;
	time_t			 now = c->now;
	struct gdata		 ipd, gd;
	int			 ipstate, rv;

	/* What the ip is already: nothing, WHITE or TRAPPED. */
	rv = o->get(st->h, c->key, c->iplen, &ipd);
	if (rv == STORE_ERR || rv == STORE_RETRY)
		return rv;
	ipstate = GD_META;
	if (rv == STORE_OK && ipd.expire > now)
		ipstate = gd_type(c->key, c->iplen, &ipd);
	if (ipstate == GD_WHITE) {
		v->rec = ipd;
		v->r = GREY_WHITE;
		return STORE_OK;
	}

	rv = decide_tuple_get(st, c);
	if (rv == STORE_ERR || rv == STORE_RETRY)
		return rv;
	gd = c->tuple;
	if (rv == STORE_NOTFOUND && !c->pol->may_create) {
		/* Only a new key grows the store; reusing one does not. */
		v->r = GREY_REFUSED;
		return STORE_OK;
	}
	if (rv == STORE_NOTFOUND || gd.expire <= now || gd.pcount < 0) {
		/* New, or expired but not scanned away yet: start over. */
		memset(&gd, 0, sizeof(gd));
		gd.first = now;
		gd.pass = gd.expire = now + gc->greyexp;
		gd.bcount = 1;
		v->r = GREY_NEW;
	} else {
		gd.bcount++;
		gd.pcount = 0;
		v->r = GREY_EARLY;
		if (gd.first + gc->passtime < now) {
			gd.pass = now;
			v->r = ipstate == GD_TRAPPED_T ? GREY_TRAPPED :
			    GREY_PASSED;
		}
	}
	if (v->r == GREY_NEW && ipstate == GD_TRAPPED_T)
		v->r = GREY_TRAPPED;
	if (c->spfkey != NULL && (v->r == GREY_NEW || v->r == GREY_EARLY) &&
	    (rv = decide_spf(st, c, &gd)) != 0)
		return rv < 0 ? rv : STORE_OK;
	if (v->r != GREY_PASSED)
		return o->put(st->h, c->key, c->keylen, &gd);
	/*
	 * The tuple has done its job: it goes, so that deleting the WHITE
	 * entry (spamdb -d) is not undone by the next scan.
	 */
	grey_white(gc, now, &gd, &v->rec);
	if ((rv = o->put(st->h, c->key, c->iplen, &v->rec)) != STORE_OK)
		return rv;
	rv = o->del(st->h, c->key, c->keylen);
	return rv == STORE_NOTFOUND ? STORE_OK : rv;
}

static int
decide_txn(struct store *st, void *arg)
{
	struct decide_ctx	*c = arg;
	struct grey_verdict	*v = c->v;
	int			 why;

	c->tuple_rv = TUPLE_UNREAD;
	v->r = GREY_FAIL;
	v->was_white = 0;
	memset(&v->rec, 0, sizeof(v->rec));
	if ((why = decide_why(st, c)) < 0)
		return why;
	v->why = (enum grey_why)why;
	if (v->why != GREY_WHY_NONE)
		return decide_trap(st, c);
	return decide_grey(st, c);
}

/* "spf:DOMAIN\n\nfrom\nto" of t (grey.h): its length, or -1. */
int
grey_spf_key(char *buf, size_t len, const struct grey_tuple *t)
{
	char	 dom[SPF_NAMEMAX];
	int	 n;

	if (spf_from_domain(t->from, dom) == -1)
		return -1;
	n = snprintf(buf, len, "%s%s\n\n%s\n%s", GREY_SPF_PREFIX, dom,
	    t->from, t->to);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

enum grey_result
grey_decide(struct store *st, const struct grey_conf *gc,
    const struct grey_policy *pol, time_t now, const struct grey_tuple *t,
    struct grey_verdict *v)
{
	struct decide_ctx	 c;
	char			 key[GD_KEY_MAX], trapkey[GD_FIELD_MAX];
	char			 spfkey[GD_KEY_MAX];
	const char		*nl;
	int			 keylen, spfkeylen, rv;

	memset(v, 0, sizeof(*v));
	v->r = GREY_FAIL;
	if ((keylen = grey_key(key, sizeof(key), &t->ip, t->helo, t->from,
	    t->to)) == -1) {
		log_warnx("tuple too long or of no address, not recorded");
		return GREY_FAIL;
	}
	/* The ip's own key is the tuple key's first line. */
	nl = memchr(key, '\n', (size_t)keylen);
	memcpy(v->ip, key, (size_t)(nl - key));
	v->ip[nl - key] = '\0';
	c = (struct decide_ctx){ .gc = gc, .pol = pol, .now = now, .key = key,
	    .keylen = (size_t)keylen, .iplen = (size_t)(nl - key), .v = v };
	if (t->spf == SPF_R_PASS && (spfkeylen = grey_spf_key(spfkey,
	    sizeof(spfkey), t)) != -1) {
		c.spfkey = spfkey;
		c.spfkeylen = (size_t)spfkeylen;
	}
	/* A recipient no SPAMTRAP key can spell is no spamtrap. */
	if (gd_trapkey(trapkey, sizeof(trapkey), t->to, strlen(t->to)) ==
	    NULL)
		c.trapkey = trapkey;
	if ((rv = store_txn(st, decide_txn, &c)) != STORE_OK) {
		if (rv == STORE_RETRY)
			log_warnx("tuple of %s: gave up after %d tries: a lock held "
			    "elsewhere",
			    v->ip, STORE_TRIES);
		v->r = GREY_FAIL;
		v->why = GREY_WHY_NONE;
	}
	return v->r;
}

int
grey_tuple_set(struct grey_tuple *t, const struct addr *ip, const char *helo,
    const char *from, const char *to)
{
	memset(t, 0, sizeof(*t));
	t->ip = *ip;
	if (strlcpy(t->helo, helo, sizeof(t->helo)) >= sizeof(t->helo) ||
	    strlcpy(t->from, from, sizeof(t->from)) >= sizeof(t->from) ||
	    strlcpy(t->to, to, sizeof(t->to)) >= sizeof(t->to))
		return -1;
	return 0;
}

void
grey_tuple_raw(struct grey_tuple *t, const struct addr *ip,
    const char *helo, const char *from, const char *to)
{
	memset(t, 0, sizeof(*t));
	t->ip = *ip;
	gd_vis(t->helo, sizeof(t->helo), helo, strlen(helo));
	gd_vis(t->from, sizeof(t->from), from, strlen(from));
	gd_vis(t->to, sizeof(t->to), to, strlen(to));
}

enum grey_result
grey_tuple(struct store *st, const struct grey_conf *gc, time_t now,
    const char *ip, const char *helo, const char *from, const char *to,
    struct gdata *white)
{
	static const struct grey_policy	 open = { .domain_ok = 1,
					    .may_create = 1 };
	struct grey_tuple		 t;
	struct grey_verdict		 v;
	struct addr			 a;

	if (addr_parse(&a, ip) == -1 ||
	    grey_tuple_set(&t, &a, helo, from, to) == -1) {
		log_warnx("tuple of %s too long, not recorded", ip);
		return GREY_FAIL;
	}
	grey_decide(st, gc, &open, now, &t, &v);
	if (white != NULL && (v.r == GREY_WHITE || v.r == GREY_PASSED))
		*white = v.rec;
	return v.r;
}

/* What grey_admin_set writes, in one transaction. */
struct set_ctx {
	const struct grey_conf	*gc;
	time_t			 now;
	const char		*key;
	enum gd_type		 type;
	struct gdata		 rec;
};

/* The record under c->key into c->rec: a STORE_ code. */
static int
set_get(struct store *st, struct set_ctx *c)
{
	return st->ops->get(st->h, c->key, strlen(c->key), &c->rec);
}

static int
set_put(struct store *st, struct set_ctx *c)
{
	return st->ops->put(st->h, c->key, strlen(c->key), &c->rec);
}

/* A sync update of ip, as OpenBSD's twupdate() applies it. */
struct sync_ctx {
	time_t		 now;
	const char	*ip;		/* the key */
	time_t		 expire;
	int		 trapped;
	struct gdata	 rec;
	int		 was_white;
	int		 created;
};

static int
grey_sync_txn(struct store *st, void *arg)
{
	struct sync_ctx	*c = arg;
	struct gdata	*gd = &c->rec;
	size_t		 len = strlen(c->ip);
	int		 rv;

	c->was_white = c->created = 0;
	if ((rv = st->ops->get(st->h, c->ip, len, gd)) < 0)
		return rv;
	if (rv == STORE_NOTFOUND || gd->expire <= c->now ||
	    gd->pcount < GD_TRAPPED) {
		memset(gd, 0, sizeof(*gd));
		gd->first = c->now;
		gd->expire = c->expire;
		gd->pcount = c->trapped ? GD_TRAPPED : 0;
		c->created = 1;
	} else if (c->trapped) {
		/* The expiry stays what it was, as in OpenBSD. */
		c->was_white = gd->pcount >= 0;
		gd->pcount = GD_TRAPPED;
		if (gd->bcount < INT32_MAX)
			gd->bcount++;
	} else if (gd->pcount >= 0) {
		if (gd->pcount < INT32_MAX)
			gd->pcount++;
	} else
		return STORE_OK;	/* a local trap outweighs a peer */
	return st->ops->put(st->h, c->ip, len, gd);
}

int
grey_sync(struct store *st, time_t now, const struct addr *a, int trapped,
    time_t expire, struct gdata *rec, int *was_white)
{
	char		 ip[INET6_ADDRSTRLEN];
	struct sync_ctx	 c = { .now = now, .ip = ip, .expire = expire,
	    .trapped = trapped };

	*was_white = 0;
	/* An entry expiring this second is kept, as OpenBSD keeps it. */
	if (expire < now)
		return GREY_SYNC_STALE;
	addr_str(a, ip, sizeof(ip));
	if (store_txn(st, grey_sync_txn, &c) != STORE_OK) {
		log_warnx("can't update %s from sync in the database", ip);
		return -1;
	}
	*rec = c.rec;
	*was_white = c.was_white;
	if (c.rec.pcount == GD_TRAPPED)
		return c.created || c.was_white || trapped ?
		    GREY_SYNC_TRAPPED : GREY_SYNC_KEPT;
	return GREY_SYNC_WHITE;
}

int
grey_white_seen(struct store *st, time_t whiteexp, time_t now,
    const char *ip, int outbound, enum grey_seen *res, struct gdata *rec)
{
	size_t	 iplen = strlen(ip);
	int	 rv;

	rv = st->ops->get(st->h, ip, iplen, rec);
	if (rv == STORE_NOTFOUND) {
		if (!outbound) {
			memset(rec, 0, sizeof(*rec));
			*res = GREY_SEEN_NOTWHITE;
			return STORE_OK;
		}
		grey_white_new(rec, now, whiteexp);
		*res = GREY_SEEN_CREATED;
	} else if (rv == STORE_OK) {
		/* Keys are addresses: pcount < 0 is TRAPPED. */
		if (rec->pcount < 0) {
			*res = GREY_SEEN_TRAPPED;
			return STORE_OK;
		}
		if (rec->pcount < INT32_MAX)
			rec->pcount++;
		if (rec->expire < now + whiteexp)
			rec->expire = now + whiteexp;
		*res = GREY_SEEN_EXTENDED;
	} else
		return rv;
	return st->ops->put(st->h, ip, iplen, rec);
}

static int
grey_admin_txn(struct store *st, void *arg)
{
	struct set_ctx	*a = arg;
	struct gdata	*gd = &a->rec;
	int		 rv;

	if ((rv = set_get(st, a)) < 0)
		return rv;
	if (rv == STORE_NOTFOUND) {
		memset(gd, 0, sizeof(*gd));
		gd->first = a->now;
		gd->bcount = 1;
	}
	switch (a->type) {
	case GD_WHITE:
		if (rv == STORE_NOTFOUND) {
			grey_white_new(gd, a->now, a->gc->whiteexp);
			break;
		}
		if (gd->pcount < 0)
			gd->pcount = 0;		/* untrapped by hand */
		else if (gd->pcount < INT32_MAX)
			gd->pcount++;
		gd->pass = a->now;
		gd->expire = a->now + a->gc->whiteexp;
		break;
	case GD_TRAPPED_T:
		if (rv == STORE_NOTFOUND) {
			grey_trapped_new(gd, a->now, a->now + a->gc->trapexp);
			break;
		}
		gd->pcount = GD_TRAPPED;
		gd->expire = a->now + a->gc->trapexp;
		break;
	case GD_SPAMTRAP_T:
		gd->pcount = GD_SPAMTRAP;
		gd->expire = 0;
		break;
	default:
		return STORE_ERR;
	}
	return set_put(st, a);
}

int
grey_admin_set(struct store *st, const struct grey_conf *gc, time_t now,
    enum gd_type type, const char *key, struct gdata *rec)
{
	struct set_ctx	 a = { .gc = gc, .now = now, .key = key, .type = type };
	int		 rv;

	if ((rv = store_txn(st, grey_admin_txn, &a)) == STORE_OK && rec != NULL)
		*rec = a.rec;
	return rv;
}

/*
 * The scan first walks the store and collects what to change, at most
 * GREY_SCAN_MAX changes, then applies them in transactions of
 * SCAN_BATCH, so that the walk holds no write lock and other processes
 * keep working.  A walk must not write (store.h), so a scan with more
 * to do stops and says so, and the caller scans again: memory stays
 * bounded however much a flood left to expire.
 */
enum scan_op { SCAN_DEL, SCAN_PROMOTE };

struct scan_change {
	enum scan_op	 op;
	int		 white;		/* SCAN_DEL of a WHITE entry */
	size_t		 keylen;
	struct gdata	 gd;
	struct gdata	 wd;		/* SCAN_PROMOTE: the new WHITE record */
	char		*key;
};

struct scan_ctx {
	const struct grey_conf		*gc;
	const struct grey_scan_cb	*cb;
	struct grey_scan_stats		*stats;
	time_t				 now;
	struct scan_change		*ch;
	size_t				 nch, cap;
	size_t				 from, to;	/* batch */
	int				 oom, more;
	char				 done[SCAN_BATCH];
};

static int
scan_add(struct scan_ctx *sc, enum scan_op op, int white, const char *key,
    size_t keylen, const struct gdata *gd)
{
	struct scan_change	*c;

	if (sc->nch == GREY_SCAN_MAX) {
		sc->more = 1;
		return 1;
	}
	if (sc->nch == sc->cap) {
		size_t	ncap = sc->cap ? sc->cap * 2 : 256;

		if (ncap > GREY_SCAN_MAX)
			ncap = GREY_SCAN_MAX;
		c = reallocarray(sc->ch, ncap, sizeof(*c));
		if (c == NULL)
			return -1;
		sc->ch = c;
		sc->cap = ncap;
	}
	c = &sc->ch[sc->nch];
	if ((c->key = malloc(keylen + 1)) == NULL)
		return -1;
	memcpy(c->key, key, keylen);
	c->key[keylen] = '\0';
	c->keylen = keylen;
	c->op = op;
	c->white = white;
	c->gd = *gd;
	sc->nch++;
	return 0;
}

/*
 * The address a WHITE or TRAPPED key spells, or the first line of a
 * GREY key: 0, or -1 if it is none.
 */
static int
key_addr(const char *key, size_t keylen, struct addr *a)
{
	const char	*nl;
	char		 ip[INET6_ADDRSTRLEN];

	if ((nl = memchr(key, '\n', keylen)) != NULL)
		keylen = (size_t)(nl - key);
	if (keylen >= sizeof(ip))
		return -1;
	memcpy(ip, key, keylen);
	ip[keylen] = '\0';
	return addr_parse(a, ip);
}

static int
scan_visit(const char *key, size_t keylen, const struct gdata *gd, void *arg)
{
	struct scan_ctx	*sc = arg;
	enum gd_type	 t = gd_type(key, keylen, gd);
	struct addr	 a;

	sc->stats->seen++;
	if (t == GD_META || t == GD_SPAMTRAP_T)
		return 0;
	if (gd->expire <= sc->now) {
		switch (scan_add(sc, SCAN_DEL, t == GD_WHITE, key, keylen,
		    gd)) {
		case -1:
			goto oom;
		case 1:
			return 1;	/* full: this pass ends here */
		}
		return 0;
	}
	if (t == GD_WHITE || t == GD_TRAPPED_T) {
		if (sc->cb == NULL || key_addr(key, keylen, &a) == -1)
			return 0;
		if (t == GD_WHITE && sc->cb->white_live)
			sc->cb->white_live(&a, gd, sc->cb->arg);
		if (t == GD_TRAPPED_T && sc->cb->trap_live)
			sc->cb->trap_live(&a, gd, sc->cb->arg);
		return 0;
	}
	if (t == GD_GREY && gd->pcount >= 0 && gd->pass <= sc->now) {
		switch (scan_add(sc, SCAN_PROMOTE, 0, key, keylen, gd)) {
		case -1:
			goto oom;
		case 1:
			return 1;
		}
		return 0;
	}
	if (t == GD_GREY && sc->cb != NULL && sc->cb->grey_live != NULL &&
	    key_addr(key, keylen, &a) == 0)
		sc->cb->grey_live(&a, sc->cb->arg);
	return 0;
oom:
	sc->oom = 1;
	return 1;
}

/* Apply one change; 1 if a WHITE entry was created or deleted. */
static int
scan_apply(struct store *st, struct scan_ctx *sc, struct scan_change *c)
{
	const struct store_ops	*o = st->ops;
	struct gdata		 cur;
	char			*nl;
	size_t			 iplen;
	int			 rv;

	if (c->op == SCAN_DEL) {
		/* Only if nobody refreshed it since the walk. */
		rv = o->get(st->h, c->key, c->keylen, &cur);
		if (rv != STORE_OK)
			return rv == STORE_NOTFOUND ? 0 : rv;
		if (cur.expire > sc->now)
			return 0;
		rv = o->del(st->h, c->key, c->keylen);
		if (rv == STORE_NOTFOUND)
			return 0;
		return rv == STORE_OK ? 1 : rv;
	}
	if ((nl = strchr(c->key, '\n')) == NULL)
		return 0;
	iplen = (size_t)(nl - c->key);
	rv = o->get(st->h, c->key, iplen, &cur);
	if (rv == STORE_OK && cur.expire > sc->now)
		return 0;	/* already WHITE, or TRAPPED: never promoted */
	if (rv != STORE_OK && rv != STORE_NOTFOUND)
		return rv;
	grey_white(sc->gc, sc->now, &c->gd, &c->wd);
	if ((rv = o->put(st->h, c->key, iplen, &c->wd)) != STORE_OK)
		return rv;
	rv = o->del(st->h, c->key, c->keylen);
	return rv == STORE_OK || rv == STORE_NOTFOUND ? 1 : rv;
}

static void
scan_report(struct scan_ctx *sc, struct scan_change *c)
{
	struct addr	 a;
	int		 ok = key_addr(c->key, c->keylen, &a) == 0;

	if (c->op == SCAN_DEL) {
		sc->stats->deleted++;
		if (c->white && ok && sc->cb && sc->cb->white_gone)
			sc->cb->white_gone(&a, sc->cb->arg);
		if (sc->cb && sc->cb->grey_gone &&
		    gd_type(c->key, c->keylen, &c->gd) == GD_GREY)
			sc->cb->grey_gone(c->key, c->keylen, &c->gd,
			    sc->cb->arg);
	} else {
		sc->stats->promoted++;
		if (ok && sc->cb && sc->cb->white_new)
			sc->cb->white_new(&a, &c->wd, sc->cb->arg);
	}
}

/* One batch of changes, sc->ch[sc->from .. sc->to), in a transaction. */
static int
scan_txn(struct store *st, void *arg)
{
	struct scan_ctx	*sc = arg;
	size_t		 j;
	int		 rv;

	for (j = sc->from; j < sc->to; j++) {
		if ((rv = scan_apply(st, sc, &sc->ch[j])) < 0)
			return rv;
		sc->done[j - sc->from] = rv == 1;
	}
	return STORE_OK;
}

int
grey_scan(struct store *st, const struct grey_conf *gc, time_t now,
    const struct grey_scan_cb *cb, struct grey_scan_stats *stats)
{
	struct scan_ctx		 sc;
	struct grey_scan_stats	 dummy;
	size_t			 i, j;
	int			 rc = 0;

	memset(&sc, 0, sizeof(sc));
	sc.gc = gc;
	sc.cb = cb;
	sc.stats = stats != NULL ? stats : &dummy;
	sc.now = now;
	memset(sc.stats, 0, sizeof(*sc.stats));

	if (st->ops->walk(st->h, scan_visit, &sc) != STORE_OK || sc.oom) {
		if (sc.oom)
			log_warnx("scan: out of memory");
		rc = -1;
		goto out;
	}
	for (i = 0; i < sc.nch; i = sc.to) {
		sc.from = i;
		sc.to = i + SCAN_BATCH < sc.nch ? i + SCAN_BATCH : sc.nch;
		if (store_txn(st, scan_txn, &sc) != STORE_OK) {
			rc = -1;
			goto out;
		}
		for (j = sc.from; j < sc.to; j++)
			if (sc.done[j - sc.from])
				scan_report(&sc, &sc.ch[j]);
	}
	sc.stats->more = sc.more;
out:
	for (i = 0; i < sc.nch; i++)
		free(sc.ch[i].key);
	free(sc.ch);
	return rc;
}

struct walk_white {
	int	(*fn)(const struct addr *, const struct gdata *, void *);
	void	 *arg;
};

static int
walk_white_visit(const char *key, size_t keylen, const struct gdata *gd,
    void *arg)
{
	struct walk_white	*w = arg;
	struct addr		 a;

	if (gd_type(key, keylen, gd) != GD_WHITE ||
	    key_addr(key, keylen, &a) == -1)
		return 0;
	return w->fn(&a, gd, w->arg);
}

int
grey_walk_white(struct store *st, int (*fn)(const struct addr *,
    const struct gdata *, void *), void *arg)
{
	struct walk_white	 w = { .fn = fn, .arg = arg };

	return st->ops->walk(st->h, walk_white_visit, &w);
}

/*
 * WHITE entries whose address is listed: found by a walk, at most
 * DROP_BATCH a pass so that memory does not grow with the database,
 * then deleted in one transaction each pass.
 */
#define DROP_BATCH	1024

struct drop_ctx {
	int		(*listed)(const struct addr *, void *);
	void		 *arg;
	struct addr	  ip[DROP_BATCH];
	int		  gone[DROP_BATCH];
	size_t		  n;
	int		  full;
};

static int
drop_visit(const struct addr *a, const struct gdata *gd, void *arg)
{
	struct drop_ctx	*d = arg;

	(void)gd;
	if (!d->listed(a, d->arg))
		return 0;
	if (d->n == DROP_BATCH) {
		d->full = 1;
		return 1;
	}
	d->ip[d->n++] = *a;
	return 0;
}

/* Delete a's entry if it is (still) WHITE: 1 if it went, 0, or <0. */
static int
drop_one(struct store *st, const struct addr *a)
{
	struct gdata	 gd;
	char		 ip[INET6_ADDRSTRLEN];
	size_t		 len;
	int		 rv;

	len = strlen(addr_str(a, ip, sizeof(ip)));
	/* Still WHITE?  spamlogd or spamdb may have been here. */
	if ((rv = st->ops->get(st->h, ip, len, &gd)) < 0)
		return rv;
	if (rv != STORE_OK || gd.pcount < 0)
		return 0;
	if ((rv = st->ops->del(st->h, ip, len)) < 0)
		return rv;
	return 1;
}

static int
drop_txn(struct store *st, void *arg)
{
	struct drop_ctx	*d = arg;
	size_t		 i;
	int		 rv;

	for (i = 0; i < d->n; i++) {
		if ((rv = drop_one(st, &d->ip[i])) < 0)
			return rv;
		d->gone[i] = rv;
	}
	return STORE_OK;
}

struct drop1_ctx {
	const struct addr	*a;
	int			 gone;
};

static int
drop1_txn(struct store *st, void *arg)
{
	struct drop1_ctx	*d = arg;
	int			 rv;

	if ((rv = drop_one(st, d->a)) < 0)
		return rv;
	d->gone = rv;
	return STORE_OK;
}

int
grey_white_drop_addr(struct store *st, const struct addr *a)
{
	struct drop1_ctx	 d = { .a = a };

	if (store_txn(st, drop1_txn, &d) != STORE_OK)
		return -1;
	return d.gone;
}

int
grey_white_drop(struct store *st, int (*listed)(const struct addr *, void *),
    void (*gone)(const struct addr *, void *), void *arg)
{
	struct drop_ctx	*d;
	size_t		 i, total = 0;
	int		 rc = -1;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_warn("dropping listed WHITE entries");
		return -1;
	}
	d->listed = listed;
	d->arg = arg;
	do {
		d->n = 0;
		d->full = 0;
		if (grey_walk_white(st, drop_visit, d) != STORE_OK)
			goto out;
		if (d->n > 0 && store_txn(st, drop_txn, d) != STORE_OK)
			goto out;
		for (i = 0; i < d->n; i++)
			if (d->gone[i]) {
				gone(&d->ip[i], arg);
				total++;
			}
	} while (d->full);
	rc = (int)(total > INT32_MAX ? INT32_MAX : total);
 out:
	free(d);
	return rc;
}

/* The pregreet test's trap: decide_trap() on the ip's own key. */
static int
trap_ip_txn(struct store *st, void *arg)
{
	struct decide_ctx	*c = arg;

	c->v->was_white = 0;
	return decide_trap(st, c);
}

enum grey_result
grey_trap_ip(struct store *st, const struct grey_conf *gc, time_t now,
    const struct addr *ip, enum grey_why why, struct grey_verdict *v)
{
	struct decide_ctx	 c;
	int			 rv;

	memset(v, 0, sizeof(*v));
	v->r = GREY_FAIL;
	v->why = why;
	if (ip->af != AF_INET && ip->af != AF_INET6)
		return GREY_FAIL;
	addr_str(ip, v->ip, sizeof(v->ip));
	c = (struct decide_ctx){ .gc = gc, .now = now, .key = v->ip,
	    .keylen = strlen(v->ip), .iplen = strlen(v->ip), .v = v };
	if ((rv = store_txn(st, trap_ip_txn, &c)) != STORE_OK) {
		log_warnx("trapping %s: %s", v->ip, rv == STORE_RETRY ?
		    "a lock held elsewhere" : "storage error");
		v->r = GREY_FAIL;
	}
	return v->r;
}
