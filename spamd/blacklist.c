/*
 * In-memory blacklists of the SMTP engine.
 *
 * A list holds its IPv4 ranges as pairs of 32-bit numbers (8 bytes a
 * range: half a million ranges take 4 MB) and its IPv6 ranges as
 * cidr_range.  Both arrays are sorted and disjoint, so the range that
 * may hold an address is the last one starting at or below it: one
 * binary search per list, O(log n).
 *
 * Every list a client is on contributes its message to the reply, in
 * the order the lists were first loaded (OpenBSD's bsearch version
 * stopped at the first list, contrary to its manual).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "blacklist.h"
#include "log.h"

#define INTERN_SLOTS	256	/* hash chains of interned strings/hits */
#define TAGS_MAX	76	/* the tags in a log line, as OpenBSD */

struct r4 {
	uint32_t	 s;
	uint32_t	 e;
};

struct bl_list {
	const char		*tag;	/* interned */
	const char		*msg;	/* interned, "" for none */
	struct r4		*v4;
	size_t			 n4;
	struct cidr_range	*v6;
	size_t			 n6;
	enum bl_origin		 origin;
	int			 wide;	/* more than BL_DROP_MIN4/6 */
};

struct istr {
	struct istr	*next;
	char		 s[];
};

/* An interned hit: the bl_hit, then n tags and n messages as its key. */
struct ihit {
	struct ihit	*next;
	struct bl_hit	 hit;
	size_t		 n;
	const char	*key[];
};

static struct bl_list	*lists[BL_MAXLISTS];
static size_t		 nlists;
static size_t		 total;		/* ranges of all lists */
static uint64_t		 installs;	/* lists installed since start */
static struct istr	*strs[INTERN_SLOTS];
static struct ihit	*hits[INTERN_SLOTS];

static const char *intern(const char *);
static const struct bl_hit *intern_hit(const char **, const char **,
		    size_t);
static int	find4(const struct bl_list *, uint32_t);
static int	find6(const struct bl_list *, const struct cidr_ip *);
static struct bl_list *lookup_tag(const char *, size_t *);
static void	list_free(struct bl_list *);

/* One copy of each distinct string, kept for good; NULL if no memory. */
static const char *
intern(const char *s)
{
	struct istr	*is;
	size_t		 len = strlen(s);
	uint32_t	 slot;

	slot = fnv1a(s, len, FNV1A_BASIS) % INTERN_SLOTS;
	for (is = strs[slot]; is != NULL; is = is->next)
		if (strcmp(is->s, s) == 0)
			return is->s;
	if ((is = malloc(sizeof(*is) + len + 1)) == NULL)
		return NULL;
	memcpy(is->s, s, len + 1);
	is->next = strs[slot];
	strs[slot] = is;
	return is->s;
}

/*
 * The hit for these n lists.  Tags and messages are interned, so the
 * key compares by pointer.  NULL if out of memory: the client is then
 * treated as not listed, and that is logged.
 */
static const struct bl_hit *
intern_hit(const char **tags, const char **msgs, size_t n)
{
	struct ihit	*h;
	char		 buf[TAGS_MAX + 8];
	size_t		 i, len = 0, tl;
	uint32_t	 slot;

	slot = fnv1a(tags, n * sizeof(*tags), FNV1A_BASIS);
	slot = fnv1a(msgs, n * sizeof(*msgs), slot) % INTERN_SLOTS;
	for (h = hits[slot]; h != NULL; h = h->next)
		if (h->n == n &&
		    memcmp(h->key, tags, n * sizeof(*tags)) == 0 &&
		    memcmp(h->key + n, msgs, n * sizeof(*msgs)) == 0)
			return &h->hit;

	/* "nixspam spews", at most TAGS_MAX characters, then " ...". */
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		tl = strlen(tags[i]);
		if (len + (len ? 1 : 0) + tl > TAGS_MAX) {
			strlcat(buf, " ...", sizeof(buf));
			break;
		}
		if (len > 0)
			buf[len++] = ' ';
		memcpy(buf + len, tags[i], tl + 1);
		len += tl;
	}
	if ((h = malloc(sizeof(*h) + 2 * n * sizeof(h->key[0]))) == NULL)
		return NULL;
	if ((h->hit.tags = intern(buf)) == NULL) {
		free(h);
		return NULL;
	}
	h->n = n;
	memcpy(h->key, tags, n * sizeof(*tags));
	memcpy(h->key + n, msgs, n * sizeof(*msgs));
	h->hit.msgs = h->key + n;
	h->hit.nmsgs = n;
	h->next = hits[slot];
	hits[slot] = h;
	return &h->hit;
}

void
bl_stage_init(struct bl_stage *st)
{
	cidr_list_init(&st->v4, AF_INET);
	cidr_list_init(&st->v6, AF_INET6);
}

void
bl_stage_free(struct bl_stage *st)
{
	cidr_list_free(&st->v4);
	cidr_list_free(&st->v6);
}

int
bl_stage_add(struct bl_stage *st, int af, const struct cidr_range *r)
{
	if (st->v4.n + st->v6.n >= BL_MAXRANGES) {
		errno = E2BIG;
		return -1;
	}
	return cidr_list_add(af == AF_INET ? &st->v4 : &st->v6, r);
}

int
bl_tag_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > BL_TAGMAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ';' || s[i] == '"')
			return 0;
	return 1;
}

static struct bl_list *
lookup_tag(const char *tag, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < nlists; i++)
		if (strcmp(lists[i]->tag, tag) == 0) {
			if (idx != NULL)
				*idx = i;
			return lists[i];
		}
	return NULL;
}

static void
list_free(struct bl_list *l)
{
	if (l == NULL)
		return;
	total -= l->n4 + l->n6;
	free(l->v4);
	free(l->v6);
	free(l);
}

int
bl_install(const char *tag, const char *msg, enum bl_origin origin,
    struct bl_stage *st)
{
	struct bl_list	*l, *old;
	size_t		 i, idx = 0, oldn;
	int		 wide;

	if (!bl_tag_ok(tag, strlen(tag))) {
		bl_stage_free(st);
		errno = EINVAL;
		return -1;
	}
	cidr_list_normalize(&st->v4);
	cidr_list_normalize(&st->v6);
	wide = cidr_list_prefix(&st->v4) < BL_DROP_MIN4 ||
	    cidr_list_prefix(&st->v6) < BL_DROP_MIN6;
	old = lookup_tag(tag, &idx);
	oldn = old != NULL ? old->n4 + old->n6 : 0;
	if (old == NULL && nlists == BL_MAXLISTS) {
		bl_stage_free(st);
		errno = ENOSPC;
		return -1;
	}
	if (total - oldn + st->v4.n + st->v6.n > BL_MAXTOTAL) {
		bl_stage_free(st);
		errno = E2BIG;
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto fail;
	l->origin = origin;
	l->wide = wide;
	if ((l->tag = intern(tag)) == NULL ||
	    (l->msg = intern(msg != NULL ? msg : "")) == NULL)
		goto fail;
	if (st->v4.n > 0) {
		if ((l->v4 = reallocarray(NULL, st->v4.n,
		    sizeof(*l->v4))) == NULL)
			goto fail;
		for (i = 0; i < st->v4.n; i++) {
			l->v4[i].s = (uint32_t)st->v4.r[i].start.lo;
			l->v4[i].e = (uint32_t)st->v4.r[i].end.lo;
		}
		l->n4 = st->v4.n;
	}
	cidr_list_free(&st->v4);
	/* The IPv6 ranges are already in their final form: take them. */
	l->v6 = st->v6.r;
	l->n6 = st->v6.n;
	st->v6.r = NULL;
	st->v6.n = st->v6.cap = 0;

	/* The switch: one pointer store, old list freed after. */
	total += l->n4 + l->n6;
	installs++;
	if (old != NULL) {
		lists[idx] = l;
		list_free(old);
	} else
		lists[nlists++] = l;
	return 0;
 fail:
	if (l != NULL) {
		free(l->v4);
		free(l);
	}
	bl_stage_free(st);
	errno = ENOMEM;
	return -1;
}

static int	bl_quiet_flag;

void
bl_quiet(int on)
{
	bl_quiet_flag = on;
}

int
bl_is_quiet(void)
{
	return bl_quiet_flag;
}

size_t
bl_keep_only(char *const *tags, size_t ntags)
{
	size_t	 i, j, k, gone = 0;

	for (i = 0, k = 0; i < nlists; i++) {
		for (j = 0; j < ntags; j++)
			if (strcmp(lists[i]->tag, tags[j]) == 0)
				break;
		if (j == ntags && lists[i]->origin == BL_CONFIG) {
			if (!bl_quiet_flag)
				log_info("blacklist %s removed",
				    lists[i]->tag);
			list_free(lists[i]);
			gone++;
			continue;
		}
		lists[k++] = lists[i];
	}
	nlists = k;
	return gone;
}

/* Is ip in one of the list's ranges? */
static int
find4(const struct bl_list *l, uint32_t ip)
{
	size_t	 lo = 0, hi = l->n4, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (l->v4[mid].s <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && ip <= l->v4[lo - 1].e;
}

static int
find6(const struct bl_list *l, const struct cidr_ip *ip)
{
	size_t	 lo = 0, hi = l->n6, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cidr_cmp(&l->v6[mid].start, ip) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && cidr_cmp(ip, &l->v6[lo - 1].end) <= 0;
}

const struct bl_hit *
bl_match(const struct addr *a)
{
	static int64_t		 nagged;
	const struct bl_hit	*h;
	const char		*tags[BL_MAXLISTS], *msgs[BL_MAXLISTS];
	struct cidr_ip		 ip;
	size_t			 i, n = 0;
	int			 in;

	if (nlists == 0 || (a->af != AF_INET && a->af != AF_INET6))
		return NULL;
	cidr_ip_from_bytes(a->af, a->a, &ip);
	for (i = 0; i < nlists; i++) {
		if (a->af == AF_INET)
			in = find4(lists[i], (uint32_t)ip.lo);
		else
			in = find6(lists[i], &ip);
		if (!in)
			continue;
		tags[n] = lists[i]->tag;
		msgs[n++] = lists[i]->msg;
	}
	if (n == 0)
		return NULL;
	if ((h = intern_hit(tags, msgs, n)) == NULL && nagged++ % 1000 == 0)
		log_warn("blacklist lookup: out of memory, client taken as "
		    "not listed");
	return h;
}

int
bl_listed_narrow(const struct addr *a)
{
	struct cidr_ip	 ip;
	size_t		 i;

	if (a->af != AF_INET && a->af != AF_INET6)
		return 0;
	cidr_ip_from_bytes(a->af, a->a, &ip);
	for (i = 0; i < nlists; i++) {
		if (lists[i]->wide)
			continue;
		if (a->af == AF_INET ? find4(lists[i], (uint32_t)ip.lo) :
		    find6(lists[i], &ip))
			return 1;
	}
	return 0;
}

size_t
bl_nwide(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < nlists; i++)
		n += lists[i]->wide != 0;
	return n;
}

/* Write the CIDR blocks of r (fp NULL: only count them). */
static size_t
put_blocks(FILE *fp, int af, const struct cidr_range *r)
{
	struct cidr_ip	 ip = r->start;
	char		 buf[INET6_ADDRSTRLEN];
	size_t		 n = 0;
	int		 bits;

	do {
		bits = cidr_first_block(af, &ip, &r->end);
		if (fp != NULL)
			fprintf(fp, ";%s/%d", cidr_ip_str(af, &ip, buf,
			    sizeof(buf)), bits);
		n++;
	} while (cidr_next_block(af, &ip, bits, &r->end) == 0);
	return n;
}

static struct cidr_range *
range4(const struct r4 *v, struct cidr_range *r)
{
	memset(r, 0, sizeof(*r));
	r->start.lo = v->s;
	r->end.lo = v->e;
	return r;
}

int
bl_write(FILE *fp)
{
	const struct bl_list	*l;
	struct cidr_range	 r;
	size_t			 i, j, n;

	for (i = 0; i < nlists; i++) {
		l = lists[i];
		if (l->origin != BL_CONFIG)
			continue;
		for (j = 0, n = 0; j < l->n4; j++)
			n += put_blocks(NULL, AF_INET, range4(&l->v4[j], &r));
		fprintf(fp, "%s;\"%s\";inet;%zu", l->tag, l->msg, n);
		for (j = 0; j < l->n4; j++)
			put_blocks(fp, AF_INET, range4(&l->v4[j], &r));
		for (j = 0, n = 0; j < l->n6; j++)
			n += put_blocks(NULL, AF_INET6, &l->v6[j]);
		fprintf(fp, ";inet6;%zu", n);
		for (j = 0; j < l->n6; j++)
			put_blocks(fp, AF_INET6, &l->v6[j]);
		if (fputc('\n', fp) == EOF)
			return -1;
	}
	return ferror(fp) ? -1 : 0;
}

size_t
bl_nlists(void)
{
	return nlists;
}

uint64_t
bl_ninstalls(void)
{
	return installs;
}

size_t
bl_nranges(const char *tag, size_t *n6)
{
	struct bl_list	*l;

	if ((l = lookup_tag(tag, NULL)) == NULL)
		return (size_t)-1;
	if (n6 != NULL)
		*n6 = l->n6;
	return l->n4;
}

const char *
bl_message(const char *tag)
{
	struct bl_list	*l;

	if ((l = lookup_tag(tag, NULL)) == NULL)
		return NULL;
	return l->msg;
}
