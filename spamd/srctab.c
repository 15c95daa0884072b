/*
 * The per-source counters: a chained hash table over a fixed array of
 * entries with a free list.  Buckets and entries are allocated once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srctab.h"

struct srcent {
	struct addr	 src;
	uint32_t	 n;
	uint32_t	 next;		/* 1-based index, 0: end */
};

struct srctab {
	struct srcent	*v;
	uint32_t	*bucket;	/* 1-based index of the chain, 0: empty */
	uint32_t	 nbucket;	/* a power of two */
	uint32_t	 cap;
	uint32_t	 free;		/* free list, 1-based */
	uint32_t	 seed;
};

struct srctab *
srctab_new(size_t cap)
{
	struct srctab	*t;

	if (cap == 0 || cap > UINT32_MAX / 4)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cap = cap;
	for (t->nbucket = 16; t->nbucket < cap; t->nbucket *= 2)
		;
	t->v = calloc(cap, sizeof(*t->v));
	t->bucket = calloc(t->nbucket, sizeof(*t->bucket));
	if (t->v == NULL || t->bucket == NULL) {
		srctab_free(t);
		return NULL;
	}
	t->seed = arc4random();
	srctab_clear(t);
	return t;
}

void
srctab_free(struct srctab *t)
{
	if (t == NULL)
		return;
	free(t->v);
	free(t->bucket);
	free(t);
}

void
srctab_clear(struct srctab *t)
{
	uint32_t	 i;

	memset(t->bucket, 0, t->nbucket * sizeof(*t->bucket));
	for (i = 0; i < t->cap; i++)
		t->v[i].next = i + 2 <= t->cap ? i + 2 : 0;
	t->free = 1;
}

void
srctab_source(struct addr *src, const struct addr *a)
{
	*src = *a;
	if (a->af == AF_INET6)
		memset(src->a + 8, 0, 8);
}

/* The slot that points at a's entry (its bucket or a next field). */
static uint32_t *
srctab_find(const struct srctab *t, const struct addr *src)
{
	uint32_t	*p;

	p = &t->bucket[addr_hash(src, t->seed) & (t->nbucket - 1)];
	while (*p != 0 && addr_cmp(&t->v[*p - 1].src, src) != 0)
		p = &t->v[*p - 1].next;
	return p;
}

unsigned int
srctab_count(const struct srctab *t, const struct addr *a)
{
	struct addr	 src;
	uint32_t	*p;

	srctab_source(&src, a);
	p = srctab_find(t, &src);
	return *p == 0 ? 0 : t->v[*p - 1].n;
}

long
srctab_add(struct srctab *t, const struct addr *a, int delta)
{
	struct srcent	*e;
	struct addr	 src;
	uint32_t	*p, i;

	srctab_source(&src, a);
	p = srctab_find(t, &src);
	if (*p == 0) {
		if (delta <= 0)
			return 0;
		if ((i = t->free) == 0)
			return -1;
		e = &t->v[i - 1];
		t->free = e->next;
		e->src = src;
		e->n = 0;
		e->next = 0;
		*p = i;
	}
	i = *p;
	e = &t->v[i - 1];
	if (delta < 0 && (uint32_t)-delta >= e->n) {
		*p = e->next;
		e->next = t->free;
		t->free = i;
		return 0;
	}
	if (delta > 0 && UINT32_MAX - e->n < (uint32_t)delta)
		e->n = UINT32_MAX;
	else
		e->n += delta;
	return e->n;
}
