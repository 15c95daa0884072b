/*
 * The greytrap list of the SMTP engine: a sorted array searched in
 * O(log n) at each connection.  Single additions insert in place (traps
 * come one by one, seconds apart).  A full list from the greylister
 * comes in database order: it is appended aside, sorted once at its
 * end and swapped in, O(n log n), where inserting each in place was
 * O(n^2) and froze the engine for minutes on a large list.
 */
#include <stdlib.h>
#include <string.h>

#include "greytrap.h"
#include "log.h"

struct trap {
	struct addr	addr;
	int64_t		expire;
};

struct traplist {
	struct trap	*v;
	size_t		 n, cap;
};

static struct traplist	 cur, next;
static int		 building;

/* Index of a, or where it goes. */
static size_t
trap_find(const struct traplist *l, const struct addr *a, int *found)
{
	size_t	lo = 0, hi = l->n, mid;
	int	c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = addr_cmp(&l->v[mid].addr, a);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
trap_grow(struct traplist *l)
{
	struct trap	*v;
	size_t		 ncap;

	if (l->n < l->cap)
		return 0;
	ncap = l->cap ? l->cap * 2 : 64;
	if ((v = reallocarray(l->v, ncap, sizeof(*v))) == NULL) {
		log_warn("greytrap list");
		return -1;
	}
	l->v = v;
	l->cap = ncap;
	return 0;
}

static int
trap_cmp(const void *a, const void *b)
{
	const struct trap	*x = a, *y = b;

	return addr_cmp(&x->addr, &y->addr);
}

/* Sort a list built in any order; of duplicates the later expiry wins. */
static void
trap_sort(struct traplist *l)
{
	size_t	 i, o;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), trap_cmp);
	for (i = 1, o = 0; i < l->n; i++) {
		if (addr_cmp(&l->v[o].addr, &l->v[i].addr) == 0) {
			if (l->v[i].expire > l->v[o].expire)
				l->v[o].expire = l->v[i].expire;
			continue;
		}
		l->v[++o] = l->v[i];
	}
	l->n = o + 1;
}

static int
trap_append(struct traplist *l, const struct addr *a, int64_t expire)
{
	if (trap_grow(l) == -1)
		return -1;
	l->v[l->n].addr = *a;
	l->v[l->n].expire = expire;
	l->n++;
	return 0;
}

static int
trap_insert(struct traplist *l, const struct addr *a, int64_t expire)
{
	size_t		 i;
	int		 found;

	i = trap_find(l, a, &found);
	if (found) {
		l->v[i].expire = expire;
		return 0;
	}
	if (trap_grow(l) == -1)
		return -1;
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
	l->v[i].addr = *a;
	l->v[i].expire = expire;
	l->n++;
	return 0;
}

int
greytrap_msg(const struct grey_msg *m)
{
	struct addr	 a;

	switch (m->type) {
	case GM_TRAP_BEGIN:
		next.n = 0;
		building = 1;
		return 0;
	case GM_TRAP_END:
		if (!building)
			return -1;
		trap_sort(&next);
		free(cur.v);
		cur = next;
		memset(&next, 0, sizeof(next));
		building = 0;
		log_debug("greytrap list: %zu addresses", cur.n);
		return 0;
	case GM_TRAP_ADD:
		a = m->ip;
		if (addr_norm(&a) == -1)
			return -1;
		if (building)
			return trap_append(&next, &a, m->expire);
		/* Also into the list being built would be a duplicate. */
		return trap_insert(&cur, &a, m->expire);
	default:
		return -1;
	}
}

int
greytrap_lookup(const struct addr *a, time_t now)
{
	size_t	i;
	int	found;

	i = trap_find(&cur, a, &found);
	return found && cur.v[i].expire > now;
}
