/*
 * The engine's greytrap list (spamd/greytrap.c), H3: a full list of
 * many IPv6 hosts, sent in database (here: shuffled) order, is applied
 * with O(n log n) comparisons and without moving the array for each
 * address.  The work is counted, not timed: the test links with
 * --wrap=addr_cmp,memmove.
 */
#include <sys/types.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greytrap.h"
#include "tap.h"

#define N	100000

int	__real_addr_cmp(const struct addr *, const struct addr *);
int	__wrap_addr_cmp(const struct addr *, const struct addr *);
void	*__real_memmove(void *, const void *, size_t);
void	*__wrap_memmove(void *, const void *, size_t);

static unsigned long long	ncmp, nmoved;

int
__wrap_addr_cmp(const struct addr *a, const struct addr *b)
{
	ncmp++;
	return __real_addr_cmp(a, b);
}

void *
__wrap_memmove(void *d, const void *s, size_t n)
{
	nmoved += n;
	return __real_memmove(d, s, n);
}

static void
msg(struct grey_msg *m, int type, unsigned int i, int64_t expire)
{
	memset(m, 0, sizeof(*m));
	m->version = GREYMSG_VERSION;
	m->type = type;
	m->expire = expire;
	if (type == GM_TRAP_ADD) {
		m->ip.af = AF_INET6;
		m->ip.a[0] = 0x20;	/* 2001:db8::i */
		m->ip.a[1] = 0x01;
		m->ip.a[2] = 0x0d;
		m->ip.a[3] = 0xb8;
		m->ip.a[12] = (uint8_t)(i >> 24);
		m->ip.a[13] = (uint8_t)(i >> 16);
		m->ip.a[14] = (uint8_t)(i >> 8);
		m->ip.a[15] = (uint8_t)i;
	}
}

int
main(void)
{
	struct grey_msg	 m;
	struct addr	 a;
	unsigned int	*order, i, j, t, missing = 0;
	int		 bad = 0;
	double		 bound;

	if ((order = calloc(N, sizeof(*order))) == NULL)
		return 1;
	/* A fixed shuffle: the order of a hash database. */
	srandom(42);
	for (i = 0; i < N; i++)
		order[i] = i;
	for (i = N - 1; i > 0; i--) {
		j = random() % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	msg(&m, GM_TRAP_BEGIN, 0, 0);
	bad |= greytrap_msg(&m);
	for (i = 0; i < N; i++) {
		msg(&m, GM_TRAP_ADD, order[i], 2000);
		bad |= greytrap_msg(&m);
	}
	/* A duplicate with a later expiry: one entry, the later one. */
	msg(&m, GM_TRAP_ADD, 7, 3000);
	bad |= greytrap_msg(&m);
	msg(&m, GM_TRAP_END, 0, 0);
	bad |= greytrap_msg(&m);
	bound = 3.0 * N * log2(N);
	ok(bad == 0 && ncmp <= bound, "%d shuffled IPv6 traps applied with "
	    "%llu comparisons (bound 3 n log2 n = %.0f)", N, ncmp, bound);
	ok(nmoved <= (unsigned long long)N * 64, "and %llu bytes moved "
	    "(bound %d): no shift of the array per address", nmoved, N * 64);

	for (i = 0; i < N; i++) {
		msg(&m, GM_TRAP_ADD, i, 0);
		a = m.ip;
		if (!greytrap_lookup(&a, 1000))
			missing++;
	}
	ok(missing == 0, "every one of them is found (%u missing)", missing);
	msg(&m, GM_TRAP_ADD, 7, 0);
	a = m.ip;
	ok(greytrap_lookup(&a, 2500) && !greytrap_lookup(&a, 3000),
	    "a duplicate keeps the later expiry");
	msg(&m, GM_TRAP_ADD, N + 1, 0);
	a = m.ip;
	ok(!greytrap_lookup(&a, 1000), "an address not sent is not trapped");
	msg(&m, GM_TRAP_ADD, N + 1, 5000);
	ok(greytrap_msg(&m) == 0 && greytrap_lookup(&a, 1000),
	    "a single trap later is inserted in place");
	free(order);
	return tap_done();
}
