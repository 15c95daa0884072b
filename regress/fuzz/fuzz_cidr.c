/*
 * libFuzzer harness: address list text (lib/cidr.c), as the lists that
 * spamd-setup downloads and the configuration socket carry it.  Each
 * line is parsed as a list line; what parses goes into a black list
 * (even lines) or a white list (odd lines), which are then merged and
 * subtracted as spamd-setup does.
 *
 * Checked: a range printed as "a - b" parses back to itself, and so does
 * each block of its CIDR cover, which tiles it exactly; normalized and
 * subtracted lists are sorted, disjoint, not adjacent, and nothing of
 * the white list is left in the black one.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXLINES	64

static int
same(const struct cidr_range *a, const struct cidr_range *b)
{
	return cidr_cmp(&a->start, &b->start) == 0 &&
	    cidr_cmp(&a->end, &b->end) == 0;
}

static void
check_range(int af, const struct cidr_range *r)
{
	struct cidr_range	 back;
	struct cidr_ip		 ip;
	char			 a[CIDR_STRLEN], b[CIDR_STRLEN];
	char			 text[2 * CIDR_STRLEN + 4], err[128];
	int			 af2, bits, done, n = 0;

	if (cidr_cmp(&r->start, &r->end) > 0 ||
	    (af == AF_INET && (r->end.hi != 0 || r->end.lo > 0xffffffffULL)))
		abort();
	snprintf(text, sizeof(text), "%s - %s",
	    cidr_ip_str(af, &r->start, a, sizeof(a)),
	    cidr_ip_str(af, &r->end, b, sizeof(b)));
	if (cidr_parse(text, &af2, &back, err, sizeof(err)) == -1 ||
	    af2 != af || !same(&back, r))
		abort();
	/* The cover: blocks one after the other, from start to end. */
	ip = r->start;
	do {
		bits = cidr_first_block(af, &ip, &r->end);
		snprintf(text, sizeof(text), "%s/%d",
		    cidr_ip_str(af, &ip, a, sizeof(a)), bits);
		if (cidr_parse(text, &af2, &back, err, sizeof(err)) == -1 ||
		    af2 != af || cidr_cmp(&back.start, &ip) != 0 ||
		    cidr_cmp(&back.end, &r->end) > 0)
			abort();
		done = cidr_next_block(af, &ip, bits, &r->end);
		if (!done && cidr_cmp(&ip, &back.end) <= 0)
			abort();
		if (++n > 2 * cidr_bits(af))
			abort();
	} while (!done);
	if (cidr_cmp(&back.end, &r->end) != 0)
		abort();
}

/* Sorted, disjoint and not adjacent. */
static void
check_normal(const struct cidr_list *l)
{
	struct cidr_ip	 gap;
	size_t		 i;

	for (i = 0; i < l->n; i++) {
		if (cidr_cmp(&l->r[i].start, &l->r[i].end) > 0)
			abort();
		if (i == 0)
			continue;
		gap = l->r[i - 1].end;
		if (++gap.lo == 0)
			gap.hi++;
		if (cidr_cmp(&gap, &l->r[i].start) >= 0)
			abort();
	}
}

/* Does any range of l meet [r->start, r->end]? */
static int
meets(const struct cidr_list *l, const struct cidr_range *r)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (cidr_cmp(&l->r[i].start, &r->end) <= 0 &&
		    cidr_cmp(&r->start, &l->r[i].end) <= 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cidr_list	 black, white;
	struct cidr_range	 r;
	const char		*line, *nl, *end = (const char *)data + len;
	char			 err[128];
	size_t			 i, n = 0;
	int			 af;

	cidr_list_init(&black, AF_INET);
	cidr_list_init(&white, AF_INET);
	for (line = (const char *)data; line < end && n < MAXLINES;
	    line = nl + 1, n++) {
		if ((nl = memchr(line, '\n', end - line)) == NULL)
			nl = end;
		if (cidr_parse_line(line, nl - line, &af, &r, err,
		    sizeof(err)) != 1)
			continue;
		check_range(af, &r);
		/* The first family seen is the lists'; the rest is left. */
		if (black.n == 0 && white.n == 0)
			black.af = white.af = af;
		if (af != black.af)
			continue;
		if (cidr_list_add(n % 2 ? &white : &black, &r) == -1)
			abort();
	}
	cidr_list_normalize(&black);
	cidr_list_normalize(&white);
	check_normal(&black);
	check_normal(&white);
	if (cidr_list_subtract(&black, &white) == -1)
		abort();
	check_normal(&black);
	for (i = 0; i < white.n; i++)
		if (meets(&black, &white.r[i]))
			abort();
	cidr_list_free(&black);
	cidr_list_free(&white);
	return 0;
}
