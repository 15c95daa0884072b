/*
 * Adding and deleting entries.  Each key is one transaction of the
 * environment spamd works in, run again when Berkeley DB picks it as a
 * deadlock victim, so spamdb and a busy spamd never lose each other's
 * writes.  What the fields become is up to grey_admin_set (lib/grey.c),
 * with spamd's default expiry times.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "grey.h"
#include "spamdb.h"

#define DEL_BATCH	1000	/* tuples deleted per transaction */

/* spamd's defaults: -a whitelists for 36 days, -t -a traps for 24 hours. */
static const struct grey_conf spamdb_gc = {
	PASSTIME, GREYEXP, WHITEEXP, TRAPEXP
};

struct del_ctx {
	const char	*key;
	struct gdata	 gd;		/* what was deleted */
};

struct grey_ctx {
	const char	*ip;
	size_t		 iplen;
	char		**keys;
	size_t		 n, cap, from, to;
	int		 oom;
};

static int	argkey(int, const char *, char *, size_t);
static int	del_txn(struct store *, void *);
static int	grey_cb(const char *, size_t, const struct gdata *, void *);
static int	grey_del_txn(struct store *, void *);

/* The key an argument names, for adding or deleting; -1 if none. */
static int
argkey(int type, const char *arg, char *key, size_t len)
{
	const char	*why;

	if (type == GD_SPAMTRAP_T) {
		if ((why = gd_trapkey(key, len, arg, strlen(arg))) == NULL)
			return 0;
		warnx("%s: %s", arg, why);
		return -1;
	}
	if (addr_canon(arg, key, len) == 0)
		return 0;
	warnx("%s: not an IP address", arg);
	return -1;
}

int
spamdb_add(struct store *st, int type, const char *arg, time_t now)
{
	struct gdata	 gd;
	char		 key[GD_KEY_MAX];

	if (argkey(type, arg, key, sizeof(key)) == -1)
		return 1;
	if (grey_admin_set(st, &spamdb_gc, now, type, key, &gd) != STORE_OK) {
		warnx("%s: cannot add to the database", arg);
		return 1;
	}
	if (type == GD_WHITE)
		spamdb_fw_add(key, gd.expire, now);
	else if (type == GD_TRAPPED_T)
		spamdb_fw_del(key);
	return 0;
}

static int
del_txn(struct store *st, void *arg)
{
	struct del_ctx	*d = arg;
	size_t		 keylen = strlen(d->key);
	int		 r;

	if ((r = st->ops->get(st->h, d->key, keylen, &d->gd)) != STORE_OK)
		return r;
	return st->ops->del(st->h, d->key, keylen);
}

/* -d key: an address (WHITE or TRAPPED) or, with -T, a spamtrap. */
int
spamdb_del(struct store *st, int type, const char *arg)
{
	struct del_ctx	 d;
	char		 key[GD_KEY_MAX], raw[GD_KEY_MAX];
	int		 r;

	if (argkey(type, arg, key, sizeof(key)) == -1)
		return 1;
	memset(&d, 0, sizeof(d));
	d.key = key;
	r = store_txn(st, del_txn, &d);
	/* A spamtrap an older spamdb stored raw (it never trapped). */
	if (r == STORE_NOTFOUND && type == GD_SPAMTRAP_T &&
	    gd_unvis(raw, sizeof(raw), key) != -1 && strcmp(raw, key) != 0) {
		d.key = raw;
		r = store_txn(st, del_txn, &d);
	}
	if (r == STORE_NOTFOUND) {
		warnx("%s: not found", arg);
		return 1;
	}
	if (r != STORE_OK) {
		warnx("%s: cannot delete from the database", arg);
		return 1;
	}
	if (gd_type(key, strlen(key), &d.gd) == GD_WHITE)
		spamdb_fw_del(key);
	return 0;
}

static int
grey_cb(const char *key, size_t keylen, const struct gdata *gd, void *arg)
{
	struct grey_ctx	*g = arg;
	char		**nk;
	size_t		  ncap;

	if (spamdb_quit)
		return 1;
	if (gd_type(key, keylen, gd) != GD_GREY || keylen <= g->iplen ||
	    key[g->iplen] != '\n' || memcmp(key, g->ip, g->iplen) != 0)
		return 0;
	if (g->n == g->cap) {
		ncap = g->cap ? g->cap * 2 : 16;
		if ((nk = reallocarray(g->keys, ncap, sizeof(*nk))) == NULL) {
			g->oom = 1;
			return 1;
		}
		g->keys = nk;
		g->cap = ncap;
	}
	if ((g->keys[g->n] = strndup(key, keylen)) == NULL) {
		g->oom = 1;
		return 1;
	}
	g->n++;
	return 0;
}

static int
grey_del_txn(struct store *st, void *arg)
{
	struct grey_ctx	*g = arg;
	size_t		 i;
	int		 r;

	for (i = g->from; i < g->to; i++) {
		r = st->ops->del(st->h, g->keys[i], strlen(g->keys[i]));
		if (r != STORE_OK && r != STORE_NOTFOUND)
			return r;
	}
	return STORE_OK;
}

/*
 * -G -d ip deletes every GREY tuple of ip; -G -d 'ip|helo|from|to'
 * deletes that one tuple.  (OpenBSD's spamdb deleted the first tuple of
 * ip it met.)  A tuple gone meanwhile, say promoted by spamd, is fine.
 */
int
spamdb_del_grey(struct store *st, const char *arg)
{
	struct grey_ctx	 g;
	struct del_ctx	 d;
	char		 ip[INET6_ADDRSTRLEN], key[GD_KEY_MAX];
	const char	*why;
	size_t		 i;
	int		 r = STORE_OK;

	if (strchr(arg, '|') != NULL) {
		if ((why = gd_tuplekey(key, sizeof(key), arg)) != NULL) {
			warnx("%s: %s", arg, why);
			return 1;
		}
		memset(&d, 0, sizeof(d));
		d.key = key;
		if ((r = store_txn(st, del_txn, &d)) == STORE_OK)
			return 0;
		if (r == STORE_NOTFOUND)
			warnx("%s: no such GREY tuple", arg);
		else
			warnx("%s: cannot delete from the database", arg);
		return 1;
	}
	memset(&g, 0, sizeof(g));
	if (addr_canon(arg, ip, sizeof(ip)) == -1) {
		warnx("%s: not an IP address", arg);
		return 1;
	}
	g.ip = ip;
	g.iplen = strlen(ip);
	if (st->ops->walk(st->h, grey_cb, &g) != STORE_OK || g.oom) {
		warnx("%s: cannot read the database", arg);
		r = STORE_ERR;
	} else if (g.n == 0) {
		warnx("%s: no GREY tuple", arg);
		r = STORE_NOTFOUND;
	}
	for (g.from = 0; r == STORE_OK && g.from < g.n; g.from = g.to) {
		g.to = g.from + DEL_BATCH < g.n ? g.from + DEL_BATCH : g.n;
		if ((r = store_txn(st, grey_del_txn, &g)) != STORE_OK)
			warnx("%s: cannot delete from the database", arg);
	}
	for (i = 0; i < g.n; i++)
		free(g.keys[i]);
	free(g.keys);
	return r == STORE_OK ? 0 : 1;
}
