/*
 * Greylisting policy over the store interface.  Time is an argument, so
 * the unit tests drive it with an injected clock.
 *
 * Differences from OpenBSD, on purpose: a retry after passtime promotes
 * its ip to WHITE at once, in the same transaction, instead of at the
 * next scan, and the passed tuple is deleted then (OpenBSD keeps it
 * until greyexp, re-adding the ip at every scan, so an admin's
 * `spamdb -d ip' did not stick).  The scan still promotes passed tuples
 * it finds, such as those written by an older version or by sync.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grey.h"
#include "log.h"

#define GREY_RETRIES	8	/* deadlocked transactions run again */
#define SCAN_BATCH	1000	/* changes per transaction in a scan */

int
grey_key(char *buf, size_t len, const char *ip, const char *helo,
    const char *from, const char *to)
{
	int	n;

	n = snprintf(buf, len, "%s\n%s\n%s\n%s", ip, helo, from, to);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* A new WHITE record for ip, copied from the tuple that passed. */
static void
grey_white(const struct grey_conf *gc, time_t now, const struct gdata *t,
    struct gdata *w)
{
	*w = *t;
	w->pcount = 0;
	w->expire = now + gc->whiteexp;
}

static enum grey_result
grey_tuple_once(struct store *st, const struct grey_conf *gc, time_t now,
    const char *ip, const char *key, size_t keylen, struct gdata *white,
    int *retry)
{
	const struct store_ops	*o = st->ops;
	struct gdata		 ipd, gd, wd;
	enum grey_result	 r;
	int			 ipstate, rv;

	*retry = 0;
	if ((rv = o->begin(st->h)) != STORE_OK)
		goto err;

	/* What the ip is already: nothing, WHITE or TRAPPED. */
	rv = o->get(st->h, ip, strlen(ip), &ipd);
	if (rv == STORE_ERR || rv == STORE_RETRY)
		goto err;
	ipstate = GD_META;
	if (rv == STORE_OK && ipd.expire > now)
		ipstate = gd_type(ip, strlen(ip), &ipd);
	if (ipstate == GD_WHITE) {
		if ((rv = o->commit(st->h)) != STORE_OK)
			goto err;
		if (white != NULL)
			*white = ipd;
		return GREY_WHITE;
	}

	rv = o->get(st->h, key, keylen, &gd);
	if (rv == STORE_ERR || rv == STORE_RETRY)
		goto err;
	if (rv == STORE_NOTFOUND || gd.expire <= now || gd.pcount < 0) {
		/* New, or expired but not scanned away yet: start over. */
		memset(&gd, 0, sizeof(gd));
		gd.first = now;
		gd.pass = gd.expire = now + gc->greyexp;
		gd.bcount = 1;
		r = GREY_NEW;
	} else {
		gd.bcount++;
		gd.pcount = 0;
		r = GREY_EARLY;
		if (gd.first + gc->passtime < now) {
			gd.pass = now;
			r = ipstate == GD_TRAPPED_T ? GREY_TRAPPED :
			    GREY_PASSED;
		}
	}
	if (r == GREY_NEW && ipstate == GD_TRAPPED_T)
		r = GREY_TRAPPED;
	if (r == GREY_PASSED) {
		/*
		 * The tuple has done its job: it goes, so that deleting the
		 * WHITE entry (spamdb -d) is not undone by the next scan.
		 */
		grey_white(gc, now, &gd, &wd);
		if ((rv = o->put(st->h, ip, strlen(ip), &wd)) != STORE_OK)
			goto err;
		rv = o->del(st->h, key, keylen);
		if (rv != STORE_OK && rv != STORE_NOTFOUND)
			goto err;
		if (white != NULL)
			*white = wd;
	} else if ((rv = o->put(st->h, key, keylen, &gd)) != STORE_OK)
		goto err;
	if ((rv = o->commit(st->h)) != STORE_OK)
		goto err;
	return r;
err:
	o->abort(st->h);
	if (rv == STORE_RETRY)
		*retry = 1;
	return GREY_FAIL;
}

enum grey_result
grey_tuple(struct store *st, const struct grey_conf *gc, time_t now,
    const char *ip, const char *helo, const char *from, const char *to,
    struct gdata *white)
{
	char			 key[GD_KEY_MAX];
	enum grey_result	 r;
	int			 keylen, i, retry;

	if ((keylen = grey_key(key, sizeof(key), ip, helo, from, to)) == -1) {
		log_warnx("tuple of %s too long, not recorded", ip);
		return GREY_FAIL;
	}
	for (i = 0; i < GREY_RETRIES; i++) {
		r = grey_tuple_once(st, gc, now, ip, key, (size_t)keylen,
		    white, &retry);
		if (!retry)
			return r;
	}
	log_warnx("tuple of %s: gave up after %d deadlocks", ip, i);
	return GREY_FAIL;
}

int
grey_trapkey(char *buf, size_t len, const char *to)
{
	size_t	 n, i;

	if (*to == '<')
		to++;
	n = strlen(to);
	if (n > 0 && to[n - 1] == '>')
		n--;
	if (n == 0 || n >= len)
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)to[i]);
	buf[n] = '\0';
	return (int)n;
}

int
grey_spamtrap(struct store *st, const char *to)
{
	struct gdata	 gd;
	char		 key[GD_FIELD_MAX];
	int		 n, rv;

	if ((n = grey_trapkey(key, sizeof(key), to)) == -1)
		return 0;
	rv = st->ops->get(st->h, key, (size_t)n, &gd);
	if (rv == STORE_NOTFOUND)
		return 0;
	if (rv != STORE_OK)
		return -1;
	return gd.pcount == GD_SPAMTRAP;
}

enum grey_result
grey_trap(struct store *st, const struct grey_conf *gc, time_t now,
    const char *ip, struct gdata *rec, int *was_white)
{
	const struct store_ops	*o = st->ops;
	struct gdata		 gd;
	int			 i, rv;

	for (i = 0; i < GREY_RETRIES; i++) {
		*was_white = 0;
		if ((rv = o->begin(st->h)) != STORE_OK)
			goto fail;
		rv = o->get(st->h, ip, strlen(ip), &gd);
		if (rv == STORE_OK && gd.expire > now &&
		    gd.pcount == GD_TRAPPED) {
			gd.bcount++;
		} else if (rv == STORE_OK || rv == STORE_NOTFOUND) {
			if (rv == STORE_OK && gd.expire > now &&
			    gd.pcount >= 0)
				*was_white = 1;
			memset(&gd, 0, sizeof(gd));
			gd.first = now;
			gd.pass = gd.expire = now + gc->trapexp;
			gd.bcount = 1;
			gd.pcount = GD_TRAPPED;
		} else
			goto again;
		if ((rv = o->put(st->h, ip, strlen(ip), &gd)) != STORE_OK)
			goto again;
		if ((rv = o->commit(st->h)) == STORE_OK) {
			*rec = gd;
			return GREY_TRAPPED;
		}
		if (rv != STORE_RETRY)
			goto fail;
		continue;
again:
		o->abort(st->h);
		if (rv != STORE_RETRY)
			goto fail;
	}
fail:
	log_warnx("can't trap %s in the database", ip);
	return GREY_FAIL;
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

/*
 * The scan first walks the store and collects what to change, then
 * applies the changes in transactions of SCAN_BATCH, so that the walk
 * holds no write lock and other processes keep working.
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
	int				 oom;
};

static int
scan_add(struct scan_ctx *sc, enum scan_op op, int white, const char *key,
    size_t keylen, const struct gdata *gd)
{
	struct scan_change	*c;

	if (sc->nch == sc->cap) {
		size_t	ncap = sc->cap ? sc->cap * 2 : 256;

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
	char		 ip[64];

	sc->stats->seen++;
	if (t == GD_META || t == GD_SPAMTRAP_T)
		return 0;
	if (gd->expire <= sc->now) {
		if (scan_add(sc, SCAN_DEL, t == GD_WHITE, key, keylen,
		    gd) == -1)
			goto oom;
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
		if (scan_add(sc, SCAN_PROMOTE, 0, key, keylen, gd) == -1)
			goto oom;
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

int
grey_scan(struct store *st, const struct grey_conf *gc, time_t now,
    const struct grey_scan_cb *cb, struct grey_scan_stats *stats)
{
	const struct store_ops	*o = st->ops;
	struct scan_ctx		 sc;
	struct grey_scan_stats	 dummy;
	size_t			 i, j, end;
	int			 rv, rc = 0, tries;
	char			 done[SCAN_BATCH];

	memset(&sc, 0, sizeof(sc));
	sc.gc = gc;
	sc.cb = cb;
	sc.stats = stats != NULL ? stats : &dummy;
	sc.now = now;
	memset(sc.stats, 0, sizeof(*sc.stats));

	if (o->walk(st->h, scan_visit, &sc) != STORE_OK || sc.oom) {
		if (sc.oom)
			log_warnx("scan: out of memory");
		rc = -1;
		goto out;
	}
	for (i = 0; i < sc.nch; i = end) {
		end = i + SCAN_BATCH < sc.nch ? i + SCAN_BATCH : sc.nch;
		for (tries = 0; tries < GREY_RETRIES; tries++) {
			if ((rv = o->begin(st->h)) != STORE_OK)
				break;
			for (j = i; j < end; j++) {
				rv = scan_apply(st, &sc, &sc.ch[j]);
				if (rv < 0)
					break;
				done[j - i] = rv == 1;
			}
			if (rv >= 0)
				rv = o->commit(st->h);
			else
				o->abort(st->h);
			if (rv != STORE_RETRY)
				break;
		}
		if (rv < 0) {
			rc = -1;
			goto out;
		}
		for (j = i; j < end; j++)
			if (done[j - i])
				scan_report(&sc, &sc.ch[j]);
	}
out:
	for (i = 0; i < sc.nch; i++)
		free(sc.ch[i].key);
	free(sc.ch);
	return rc;
}
