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
 * Used by: spamd (tuples, traps, scan), spamlogd (grey_white_seen), spamdb
 * (grey_admin_set).
 */
#include <netinet/in.h>
#include <stdint.h>
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

struct tuple_ctx {
	const struct grey_conf	*gc;
	time_t			 now;
	const char		*ip, *key;
	size_t			 keylen;
	int			 create;
	enum grey_result	 r;
	struct gdata		 white;
};

static int
grey_tuple_txn(struct store *st, void *arg)
{
	struct tuple_ctx	*t = arg;
	const struct store_ops	*o = st->ops;
	const struct grey_conf	*gc = t->gc;
	time_t			 now = t->now;
	struct gdata		 ipd, gd;
	size_t			 iplen = strlen(t->ip);
	int			 ipstate, rv;

	/* What the ip is already: nothing, WHITE or TRAPPED. */
	rv = o->get(st->h, t->ip, iplen, &ipd);
	if (rv == STORE_ERR || rv == STORE_RETRY)
		return rv;
	ipstate = GD_META;
	if (rv == STORE_OK && ipd.expire > now)
		ipstate = gd_type(t->ip, iplen, &ipd);
	if (ipstate == GD_WHITE) {
		t->white = ipd;
		t->r = GREY_WHITE;
		return STORE_OK;
	}

	rv = o->get(st->h, t->key, t->keylen, &gd);
	if (rv == STORE_ERR || rv == STORE_RETRY)
		return rv;
	if (rv == STORE_NOTFOUND && !t->create) {
		/* Only a new key grows the store; reusing one does not. */
		t->r = GREY_REFUSED;
		return STORE_OK;
	}
	if (rv == STORE_NOTFOUND || gd.expire <= now || gd.pcount < 0) {
		/* New, or expired but not scanned away yet: start over. */
		memset(&gd, 0, sizeof(gd));
		gd.first = now;
		gd.pass = gd.expire = now + gc->greyexp;
		gd.bcount = 1;
		t->r = GREY_NEW;
	} else {
		gd.bcount++;
		gd.pcount = 0;
		t->r = GREY_EARLY;
		if (gd.first + gc->passtime < now) {
			gd.pass = now;
			t->r = ipstate == GD_TRAPPED_T ? GREY_TRAPPED :
			    GREY_PASSED;
		}
	}
	if (t->r == GREY_NEW && ipstate == GD_TRAPPED_T)
		t->r = GREY_TRAPPED;
	if (t->r != GREY_PASSED)
		return o->put(st->h, t->key, t->keylen, &gd);
	/*
	 * The tuple has done its job: it goes, so that deleting the WHITE
	 * entry (spamdb -d) is not undone by the next scan.
	 */
	grey_white(gc, now, &gd, &t->white);
	if ((rv = o->put(st->h, t->ip, iplen, &t->white)) != STORE_OK)
		return rv;
	rv = o->del(st->h, t->key, t->keylen);
	return rv == STORE_NOTFOUND ? STORE_OK : rv;
}

enum grey_result
grey_tuple(struct store *st, const struct grey_conf *gc, time_t now,
    const char *ip, const char *helo, const char *from, const char *to,
    struct gdata *white)
{
	return grey_tuple_lim(st, gc, now, ip, helo, from, to, 1, white);
}

enum grey_result
grey_tuple_lim(struct store *st, const struct grey_conf *gc, time_t now,
    const char *ip, const char *helo, const char *from, const char *to,
    int create, struct gdata *white)
{
	struct tuple_ctx	 t;
	char			 key[GD_KEY_MAX];
	int			 keylen, rv;

	if ((keylen = grey_key(key, sizeof(key), ip, helo, from, to)) == -1) {
		log_warnx("tuple of %s too long, not recorded", ip);
		return GREY_FAIL;
	}
	t = (struct tuple_ctx){ .gc = gc, .now = now, .ip = ip, .key = key,
	    .keylen = (size_t)keylen, .create = create };
	if ((rv = store_txn(st, grey_tuple_txn, &t)) != STORE_OK) {
		if (rv == STORE_RETRY)
			log_warnx("tuple of %s: gave up after %d deadlocks",
			    ip, STORE_TRIES);
		return GREY_FAIL;
	}
	if (white != NULL && (t.r == GREY_WHITE || t.r == GREY_PASSED))
		*white = t.white;
	return t.r;
}

int
grey_spamtrap(struct store *st, const char *to)
{
	struct gdata	 gd;
	char		 key[GD_FIELD_MAX];
	int		 rv;

	if (gd_trapkey(key, sizeof(key), to, strlen(to)) != NULL)
		return 0;	/* no such key can be stored */
	rv = st->ops->get(st->h, key, strlen(key), &gd);
	if (rv == STORE_NOTFOUND)
		return 0;
	if (rv != STORE_OK)
		return -1;
	return gd.pcount == GD_SPAMTRAP;
}

/* What grey_trap and grey_admin_set write, in one transaction. */
struct set_ctx {
	const struct grey_conf	*gc;
	time_t			 now;
	const char		*key;
	enum gd_type		 type;		/* grey_admin_set */
	struct gdata		 rec;
	int			 was_white;	/* grey_trap */
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

static int
grey_trap_txn(struct store *st, void *arg)
{
	struct set_ctx	*t = arg;
	struct gdata	*gd = &t->rec;
	int		 rv;

	t->was_white = 0;
	if ((rv = set_get(st, t)) < 0)
		return rv;
	if (rv == STORE_OK && gd->expire > t->now &&
	    gd->pcount == GD_TRAPPED) {
		gd->bcount++;
	} else {
		if (rv == STORE_OK && gd->expire > t->now && gd->pcount >= 0)
			t->was_white = 1;
		memset(gd, 0, sizeof(*gd));
		gd->first = t->now;
		gd->pass = gd->expire = t->now + t->gc->trapexp;
		gd->bcount = 1;
		gd->pcount = GD_TRAPPED;
	}
	return set_put(st, t);
}

enum grey_result
grey_trap(struct store *st, const struct grey_conf *gc, time_t now,
    const char *ip, struct gdata *rec, int *was_white)
{
	struct set_ctx	 t = { .gc = gc, .now = now, .key = ip };

	*was_white = 0;
	if (store_txn(st, grey_trap_txn, &t) != STORE_OK) {
		log_warnx("can't trap %s in the database", ip);
		return GREY_FAIL;
	}
	*rec = t.rec;
	*was_white = t.was_white;
	return GREY_TRAPPED;
}

/* A sync update of ip, as OpenBSD's twupdate() applies it. */
struct sync_ctx {
	time_t		 now;
	const char	*ip;
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
grey_sync(struct store *st, time_t now, const char *ip, int trapped,
    time_t expire, struct gdata *rec, int *was_white)
{
	struct sync_ctx	 c = { .now = now, .ip = ip, .expire = expire,
	    .trapped = trapped };

	*was_white = 0;
	if (expire <= now)
		return GREY_SYNC_STALE;
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
grey_known(struct store *st, time_t now, const char *ip, const char *helo,
    const char *from, const char *to)
{
	struct gdata	 gd;
	char		 key[GD_KEY_MAX];
	int		 n, rv;

	if ((n = grey_key(key, sizeof(key), ip, helo, from, to)) == -1)
		return 0;
	rv = st->ops->get(st->h, key, (size_t)n, &gd);
	if (rv == STORE_NOTFOUND)
		return 0;
	if (rv != STORE_OK)
		return -1;
	return gd.expire > now;
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

static int
scan_visit(const char *key, size_t keylen, const struct gdata *gd, void *arg)
{
	struct scan_ctx	*sc = arg;
	enum gd_type	 t = gd_type(key, keylen, gd);
	const char	*nl;
	char		 ip[64];

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
		if (keylen >= sizeof(ip) || sc->cb == NULL)
			return 0;
		memcpy(ip, key, keylen);
		ip[keylen] = '\0';
		if (t == GD_WHITE && sc->cb->white_live)
			sc->cb->white_live(ip, gd, sc->cb->arg);
		if (t == GD_TRAPPED_T && sc->cb->trap_live)
			sc->cb->trap_live(ip, gd, sc->cb->arg);
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
	    (nl = memchr(key, '\n', keylen)) != NULL &&
	    (size_t)(nl - key) < sizeof(ip)) {
		memcpy(ip, key, nl - key);
		ip[nl - key] = '\0';
		sc->cb->grey_live(ip, sc->cb->arg);
	}
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
	if (c->op == SCAN_DEL) {
		sc->stats->deleted++;
		if (c->white && sc->cb && sc->cb->white_gone)
			sc->cb->white_gone(c->key, sc->cb->arg);
	} else {
		sc->stats->promoted++;
		*strchr(c->key, '\n') = '\0';	/* the key is done with */
		if (sc->cb && sc->cb->white_new)
			sc->cb->white_new(c->key, &c->wd, sc->cb->arg);
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

/*
 * WHITE entries whose address is listed: found by a walk, at most
 * DROP_BATCH a pass so that memory does not grow with the database,
 * then deleted in one transaction each pass.
 */
#define DROP_BATCH	1024

struct drop_ctx {
	int		(*listed)(const char *, void *);
	void		 *arg;
	char		  ip[DROP_BATCH][INET6_ADDRSTRLEN];
	int		  gone[DROP_BATCH];
	size_t		  n;
	int		  full;
};

static int
drop_visit(const char *key, size_t keylen, const struct gdata *gd,
    void *arg)
{
	struct drop_ctx	*d = arg;
	char		 ip[INET6_ADDRSTRLEN];

	if (gd_type(key, keylen, gd) != GD_WHITE || keylen >= sizeof(ip))
		return 0;
	memcpy(ip, key, keylen);
	ip[keylen] = '\0';
	if (!d->listed(ip, d->arg))
		return 0;
	if (d->n == DROP_BATCH) {
		d->full = 1;
		return 1;
	}
	memcpy(d->ip[d->n++], ip, keylen + 1);
	return 0;
}

static int
drop_txn(struct store *st, void *arg)
{
	struct drop_ctx	*d = arg;
	struct gdata	 gd;
	size_t		 i, len;
	int		 rv;

	for (i = 0; i < d->n; i++) {
		d->gone[i] = 0;
		len = strlen(d->ip[i]);
		/* Still WHITE?  spamlogd or spamdb may have been here. */
		if ((rv = st->ops->get(st->h, d->ip[i], len, &gd)) < 0)
			return rv;
		if (rv != STORE_OK || gd.pcount < 0)
			continue;
		if ((rv = st->ops->del(st->h, d->ip[i], len)) < 0)
			return rv;
		d->gone[i] = 1;
	}
	return STORE_OK;
}

int
grey_white_drop(struct store *st, int (*listed)(const char *, void *),
    void (*gone)(const char *, void *), void *arg)
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
		if (st->ops->walk(st->h, drop_visit, d) != STORE_OK)
			goto out;
		if (d->n > 0 && store_txn(st, drop_txn, d) != STORE_OK)
			goto out;
		for (i = 0; i < d->n; i++)
			if (d->gone[i]) {
				gone(d->ip[i], arg);
				total++;
			}
	} while (d->full);
	rc = (int)(total > INT32_MAX ? INT32_MAX : total);
 out:
	free(d);
	return rc;
}

