/*
 * The per-source counters: a chained hash table over a fixed array of
 * entries with a free list, for sources and their networks alike, and
 * behind it a count-min sketch (rows of counters, each key adding to
 * one counter of every row, its count the least of them) for the keys
 * that did not fit.  A collision in the sketch can only add to a count,
 * so a flood of sources makes the limits stricter, never looser, and
 * nothing is ever evicted that an attacker could push out to start
 * again from zero.  Everything is allocated once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "srctab.h"

#define SK_ROWS		4	/* sketch rows; each a separate hash */
#define NAG_SECS	10	/* the log lines at most this often */

enum { LV_SRC, LV_NET, LV_N };	/* what a key counts */

struct srckey {
	struct addr	 a;
	int		 lv;
};

struct srcent {
	struct srckey	 k;
	uint32_t	 n;
	uint32_t	 next;		/* 1-based index, 0: end */
};

struct srctab {
	struct srcent	*v;
	uint32_t	*bucket;	/* 1-based index of the chain, 0: empty */
	uint32_t	 nbucket;	/* a power of two */
	uint32_t	 cap;		/* entries: cap sources and networks */
	uint32_t	 free;		/* free list, 1-based */
	uint32_t	 seed;
	uint32_t	*sk;		/* LV_N * SK_ROWS rows of skw counters */
	uint32_t	 skw;		/* a power of two */
	uint32_t	 skseed[SK_ROWS];
	int		 skused;	/* anything added to sk since clear */
	unsigned int	 srcmax, netmax;
	const char	*what, *netopt;
};

static struct {
	unsigned int	 srcmax, netmax;
	const char	*what, *netopt;
} limits = { 0, 0, "entries", "" };

void
srctab_limits(unsigned int srcmax, unsigned int netmax, const char *what,
    const char *netopt)
{
	limits.srcmax = srcmax;
	limits.netmax = netmax;
	limits.what = what;
	limits.netopt = netopt;
}

struct srctab *
srctab_new(size_t cap)
{
	struct srctab	*t;
	int		 i;

	if (cap == 0 || cap > UINT32_MAX / 16)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	/* Each source may bring its network: room for both. */
	t->cap = cap * LV_N;
	for (t->nbucket = 16; t->nbucket < t->cap; t->nbucket *= 2)
		;
	for (t->skw = 16; t->skw < cap; t->skw *= 2)
		;
	t->v = calloc(t->cap, sizeof(*t->v));
	t->bucket = calloc(t->nbucket, sizeof(*t->bucket));
	t->sk = calloc((size_t)LV_N * SK_ROWS * t->skw, sizeof(*t->sk));
	if (t->v == NULL || t->bucket == NULL || t->sk == NULL) {
		srctab_free(t);
		return NULL;
	}
	t->seed = arc4random();
	for (i = 0; i < SK_ROWS; i++)
		t->skseed[i] = arc4random();
	t->srcmax = limits.srcmax;
	t->netmax = limits.netmax;
	t->what = limits.what;
	t->netopt = limits.netopt;
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
	free(t->sk);
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
	if (t->skused)
		memset(t->sk, 0,
		    (size_t)LV_N * SK_ROWS * t->skw * sizeof(*t->sk));
	t->skused = 0;
}

void
srctab_source(struct addr *src, const struct addr *a)
{
	*src = *a;
	if (a->af == AF_INET6)
		memset(src->a + 8, 0, 8);
}

void
srctab_net(struct addr *net, const struct addr *a)
{
	*net = *a;
	if (a->af == AF_INET6)
		memset(net->a + 6, 0, 10);
	else
		net->a[3] = 0;
}

static void
srctab_key(struct srckey *k, const struct addr *a, int lv)
{
	memset(k, 0, sizeof(*k));
	if (lv == LV_SRC)
		srctab_source(&k->a, a);
	else
		srctab_net(&k->a, a);
	k->lv = lv;
}

/* The slot that points at k's entry (its bucket or a next field). */
static uint32_t *
srctab_find(const struct srctab *t, const struct srckey *k)
{
	uint32_t	*p;
	struct srcent	*e;

	p = &t->bucket[addr_hash(&k->a, t->seed ^ (uint32_t)k->lv) &
	    (t->nbucket - 1)];
	while (*p != 0) {
		e = &t->v[*p - 1];
		if (e->k.lv == k->lv && addr_cmp(&e->k.a, &k->a) == 0)
			break;
		p = &e->next;
	}
	return p;
}

/* k's counter in row r of the sketch. */
static uint32_t *
srctab_cell(const struct srctab *t, const struct srckey *k, int r)
{
	uint32_t	 h;

	h = addr_hash(&k->a, t->skseed[r] ^ (uint32_t)k->lv);
	return &t->sk[((size_t)k->lv * SK_ROWS + r) * t->skw +
	    (h & (t->skw - 1))];
}

/* The sketch's count of k: the least of its counters. */
static uint32_t
srctab_estimate(const struct srctab *t, const struct srckey *k)
{
	uint32_t	 n, m;
	int		 r;

	if (!t->skused)
		return 0;
	n = UINT32_MAX;
	for (r = 0; r < SK_ROWS; r++)
		if ((m = *srctab_cell(t, k, r)) < n)
			n = m;
	return n;
}

static uint32_t
srctab_get(const struct srctab *t, const struct srckey *k)
{
	uint32_t	*p;

	p = srctab_find(t, k);
	return *p != 0 ? t->v[*p - 1].n : srctab_estimate(t, k);
}

static uint32_t
sat_add(uint32_t n, int delta)
{
	if (delta < 0)
		return (uint32_t)-delta >= n ? 0 : n + delta;
	return UINT32_MAX - n < (uint32_t)delta ? UINT32_MAX : n + delta;
}

/* Add delta to k's count in the sketch; the new estimate. */
static uint32_t
srctab_sketch_add(struct srctab *t, const struct srckey *k, int delta)
{
	static time_t	 lastnag;
	uint32_t	*c;
	int		 r;

	if (delta > 0 && !t->skused && log_nag(&lastnag, NAG_SECS))
		log_warnx("more than %u sources and networks hold %s: "
		    "counting the others approximately (never below "
		    "their count)", t->cap, t->what);
	if (delta > 0)
		t->skused = 1;
	for (r = 0; r < SK_ROWS; r++) {
		c = srctab_cell(t, k, r);
		*c = sat_add(*c, delta);
	}
	return srctab_estimate(t, k);
}

/* Add delta to k's count; the new count. */
static uint32_t
srctab_add_key(struct srctab *t, const struct srckey *k, int delta)
{
	struct srcent	*e;
	uint32_t	*p, i;

	p = srctab_find(t, k);
	if (*p == 0) {
		if (delta == 0)
			return srctab_estimate(t, k);
		/*
		 * A key the sketch may hold stays there, so that its
		 * count is never split; a new one goes to the table while
		 * it has room.
		 */
		if (delta < 0 || (i = t->free) == 0 ||
		    srctab_estimate(t, k) > 0)
			return srctab_sketch_add(t, k, delta);
		e = &t->v[i - 1];
		t->free = e->next;
		e->k = *k;
		e->n = 0;
		e->next = 0;
		*p = i;
	}
	i = *p;
	e = &t->v[i - 1];
	if ((e->n = sat_add(e->n, delta)) == 0) {
		*p = e->next;
		e->next = t->free;
		t->free = i;
	}
	return e->n;
}

unsigned int
srctab_count(const struct srctab *t, const struct addr *a)
{
	static time_t	 lastnag;
	struct srckey	 k;
	uint32_t	 n, m;
	char		 ip[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];

	srctab_key(&k, a, LV_SRC);
	n = srctab_get(t, &k);
	if (t->netmax == 0 || n >= t->srcmax)
		return n;
	srctab_key(&k, a, LV_NET);
	if ((m = srctab_get(t, &k)) < t->netmax)
		return n;
	if (log_nag(&lastnag, NAG_SECS))
		log_warnx("%s: its network %s/%d holds %u %s, the limit "
		    "(%s%u)", addr_str(a, ip, sizeof(ip)),
		    addr_str(&k.a, net, sizeof(net)),
		    a->af == AF_INET6 ? 48 : 24, m, t->what, t->netopt,
		    t->netmax);
	return t->srcmax;
}

unsigned int
srctab_count_src(const struct srctab *t, const struct addr *a)
{
	struct srckey	 k;

	srctab_key(&k, a, LV_SRC);
	return srctab_get(t, &k);
}

long
srctab_add(struct srctab *t, const struct addr *a, int delta)
{
	struct srckey	 k;

	srctab_key(&k, a, LV_NET);
	(void)srctab_add_key(t, &k, delta);
	srctab_key(&k, a, LV_SRC);
	return srctab_add_key(t, &k, delta);
}
