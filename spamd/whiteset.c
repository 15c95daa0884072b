/*
 * The WHITE list of the SMTP engine: an open-addressing hash set of
 * 16-byte keys (IPv4 as ::ffff:a.b.c.d, so one table holds both
 * families; all zeros, ::, is never a client and marks a free slot),
 * probed linearly, grown by doubling at 3/4 full.  So an entry costs
 * 16 bytes over 3/8 to 3/4 of the slots: 21 to 43 bytes, and a lookup
 * at each connection is a hash and a probe or two.  Entries are never
 * removed one by one: hosts leave at the next full list, which the
 * greylister sends after each scan that changed the list; it is built
 * aside and swapped in at its end, as the greytrap list is.  A host
 * trapped or blacklisted meanwhile is caught by the engine's own lists
 * (CF_BLACK), which relay_wanted() looks at first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "whiteset.h"

#define WS_MINCAP	1024	/* slots; a power of two */

struct wset {
	uint8_t		(*v)[16];
	size_t		 n, cap;	/* cap: 0 or a power of two */
};

static struct wset	 cur, next;
static int		 building;
static uint32_t		 seed;

static void
ws_key(const struct addr *a, uint8_t k[16])
{
	if (a->af == AF_INET) {
		memset(k, 0, 10);
		k[10] = k[11] = 0xff;
		memcpy(k + 12, a->a, 4);
	} else
		memcpy(k, a->a, 16);
}

static size_t
ws_slot(const struct wset *s, const uint8_t k[16])
{
	static const uint8_t	 zero[16];
	size_t			 i;

	i = fnv1a(k, 16, FNV1A_BASIS ^ seed) & (s->cap - 1);
	while (memcmp(s->v[i], k, 16) != 0 && memcmp(s->v[i], zero, 16) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int
ws_grow(struct wset *s)
{
	struct wset	 ns;
	size_t		 i;
	static const uint8_t zero[16];

	if (s->cap != 0 && (s->n + 1) * 4 <= s->cap * 3)
		return 0;
	ns.cap = s->cap ? s->cap * 2 : WS_MINCAP;
	ns.n = s->n;
	if ((ns.v = calloc(ns.cap, sizeof(*ns.v))) == NULL) {
		log_warn("WHITE list of %zu addresses", s->n + 1);
		return -1;
	}
	for (i = 0; i < s->cap; i++)
		if (memcmp(s->v[i], zero, 16) != 0)
			memcpy(ns.v[ws_slot(&ns, s->v[i])], s->v[i], 16);
	free(s->v);
	*s = ns;
	return 0;
}

static int
ws_add(struct wset *s, const struct addr *a)
{
	uint8_t	 k[16];
	size_t	 i;

	if (ws_grow(s) == -1)
		return -1;
	ws_key(a, k);
	i = ws_slot(s, k);
	if (memcmp(s->v[i], k, 16) != 0) {
		memcpy(s->v[i], k, 16);
		s->n++;
	}
	return 0;
}

int
whiteset_msg(const struct grey_msg *m)
{
	struct addr	 a;
	size_t		 i;

	if (seed == 0)
		seed = arc4random() | 1;
	switch (m->type) {
	case GM_WHITE_BEGIN:
		free(next.v);
		memset(&next, 0, sizeof(next));
		building = 1;
		return 0;
	case GM_WHITE_END:
		if (!building)
			return -1;
		free(cur.v);
		cur = next;
		memset(&next, 0, sizeof(next));
		building = 0;
		log_debug("WHITE list: %zu addresses in %zu bytes", cur.n,
		    whiteset_bytes());
		return 0;
	case GM_WHITE_ADD:
		if (m->len > GM_WHITE_MAX)
			return -1;
		for (i = 0; i < m->len; i++) {
			a = m->white[i];
			if (addr_norm(&a) == -1)
				return -1;
			/* Also into the current one: it is looked up meanwhile. */
			if (building && ws_add(&next, &a) == -1)
				return 0;
			if (ws_add(&cur, &a) == -1)
				return 0;
		}
		return 0;
	default:
		return -1;
	}
}

int
whiteset_lookup(const struct addr *a)
{
	uint8_t	 k[16];

	if (cur.n == 0)
		return 0;
	ws_key(a, k);
	return memcmp(cur.v[ws_slot(&cur, k)], k, 16) == 0;
}

size_t
whiteset_count(void)
{
	return cur.n;
}

size_t
whiteset_bytes(void)
{
	return cur.cap * sizeof(*cur.v);
}
