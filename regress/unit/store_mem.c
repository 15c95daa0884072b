/*
 * A store in memory, for the unit tests of the greylisting policy: a
 * sorted array of records.  Transactions keep a copy to roll back to.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_mem.h"

struct mrec {
	char		*key;
	size_t		 keylen;
	struct gdata	 gd;
};

struct mstore {
	struct mrec	*recs, *saved;
	size_t		 n, nsaved, cap;
	int		 intx;
};

static struct mrec *
mem_find(struct mstore *m, const char *key, size_t keylen)
{
	size_t	i;

	for (i = 0; i < m->n; i++)
		if (m->recs[i].keylen == keylen &&
		    memcmp(m->recs[i].key, key, keylen) == 0)
			return &m->recs[i];
	return NULL;
}

static void
mem_free(struct mrec *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(r[i].key);
	free(r);
}

static struct mrec *
mem_copy(const struct mrec *r, size_t n, size_t cap)
{
	struct mrec	*c;
	size_t		 i;

	if ((c = calloc(cap ? cap : 1, sizeof(*c))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		c[i] = r[i];
		if ((c[i].key = malloc(r[i].keylen)) == NULL) {
			mem_free(c, i);
			return NULL;
		}
		memcpy(c[i].key, r[i].key, r[i].keylen);
	}
	return c;
}

static int
mem_begin(void *h)
{
	struct mstore	*m = h;

	if (m->intx)
		return STORE_ERR;
	if ((m->saved = mem_copy(m->recs, m->n, m->cap)) == NULL)
		return STORE_ERR;
	m->nsaved = m->n;
	m->intx = 1;
	return STORE_OK;
}

static int
mem_commit(void *h)
{
	struct mstore	*m = h;

	mem_free(m->saved, m->nsaved);
	m->saved = NULL;
	m->intx = 0;
	return STORE_OK;
}

static void
mem_abort(void *h)
{
	struct mstore	*m = h;

	if (!m->intx)
		return;
	mem_free(m->recs, m->n);
	m->recs = m->saved;
	m->n = m->nsaved;
	m->saved = NULL;
	m->intx = 0;
}

static int
mem_get(void *h, const char *key, size_t keylen, struct gdata *gd)
{
	struct mrec	*r;

	if ((r = mem_find(h, key, keylen)) == NULL)
		return STORE_NOTFOUND;
	*gd = r->gd;
	return STORE_OK;
}

static int
mem_put(void *h, const char *key, size_t keylen, const struct gdata *gd)
{
	struct mstore	*m = h;
	struct mrec	*r;

	if ((r = mem_find(m, key, keylen)) != NULL) {
		r->gd = *gd;
		return STORE_OK;
	}
	if (m->n == m->cap) {
		size_t	 ncap = m->cap ? m->cap * 2 : 16;

		if ((r = reallocarray(m->recs, ncap, sizeof(*r))) == NULL)
			return STORE_ERR;
		m->recs = r;
		m->cap = ncap;
	}
	r = &m->recs[m->n];
	if ((r->key = malloc(keylen ? keylen : 1)) == NULL)
		return STORE_ERR;
	memcpy(r->key, key, keylen);
	r->keylen = keylen;
	r->gd = *gd;
	m->n++;
	return STORE_OK;
}

static int
mem_del(void *h, const char *key, size_t keylen)
{
	struct mstore	*m = h;
	struct mrec	*r;

	if ((r = mem_find(m, key, keylen)) == NULL)
		return STORE_NOTFOUND;
	free(r->key);
	*r = m->recs[--m->n];
	return STORE_OK;
}

/* Walks a snapshot, so the callback may change the store. */
static int
mem_walk(void *h, store_walk_cb cb, void *arg)
{
	struct mstore	*m = h;
	struct mrec	*snap;
	size_t		 i, n = m->n;
	int		 rv = STORE_OK;

	if ((snap = mem_copy(m->recs, n, n)) == NULL)
		return STORE_ERR;
	for (i = 0; i < n; i++) {
		if (snap[i].keylen == 0 || snap[i].key[0] == '\0')
			continue;
		if (cb(snap[i].key, snap[i].keylen, &snap[i].gd, arg) != 0)
			break;
	}
	mem_free(snap, n);
	return rv;
}

static void
mem_close(void *h)
{
	struct mstore	*m = h;

	mem_abort(m);
	mem_free(m->recs, m->n);
	free(m);
}

static const struct store_ops mem_ops = {
	mem_begin, mem_commit, mem_abort, mem_get, mem_put, mem_del,
	mem_walk, mem_close, NULL, NULL, NULL
};

struct store *
store_mem_open(void)
{
	struct store	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->h = calloc(1, sizeof(struct mstore))) == NULL) {
		free(st);
		return NULL;
	}
	st->ops = &mem_ops;
	return st;
}
