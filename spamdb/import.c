/*
 * Import a listing made by OpenBSD's spamdb, so an admin moving a mail
 * gateway to Linux keeps its whitelist, traps and spamtraps:
 *
 *	WHITE|ip|||first|pass|expire|bcount|pcount
 *	GREY|ip|helo|from|to|first|pass|expire|bcount|pcount
 *	TRAPPED|ip|expire
 *	SPAMTRAP|address
 *
 * An entry replaces one of the same key.  Entries are written a
 * thousand to a transaction.  A line that does not parse is reported
 * with its number and skipped; the rest goes in.  Blank lines and lines
 * starting with '#' are skipped.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "gdata.h"
#include "grey.h"
#include "spamdb.h"

#define IMPORT_LINE_MAX	(GD_KEY_MAX + 256)
#define IMPORT_BATCH	1000
#define MAXFIELDS	64
#define TIME_MAX_SANE	253402300799LL	/* 9999-12-31 23:59:59 UTC */

struct pending {
	char		 key[GD_KEY_MAX];
	size_t		 keylen;
	struct gdata	 gd;
};

struct batch {
	struct pending	*p;
	size_t		 n;
};

static int	split(char *, char **, int);
static void	join(char **, int, int);
static int	num64(const char *, int64_t *);
static int	num32(const char *, int32_t *);
static const char *numbers(char **, struct gdata *);
static int	time_bad(int64_t);
static const char *parse_ip(const char *, struct pending *);
static const char *parse_line(char *, struct pending *, time_t);
static int	put_txn(struct store *, void *);
static int	flush_batch(struct store *, struct batch *);

/* Split at '|'; returns the number of fields, or max + 1 if more. */
static int
split(char *line, char **f, int max)
{
	int	 n = 0;
	char	*p;

	while (n < max && (p = strsep(&line, "|")) != NULL)
		f[n++] = p;
	return line == NULL ? n : max + 1;
}

/* Put the bars after f[from] .. f[to - 1] back: one field again. */
static void
join(char **f, int from, int to)
{
	int	 i;

	for (i = from; i < to; i++)
		f[i][strlen(f[i])] = '|';
}

static int
num64(const char *s, int64_t *v)
{
	char		*end;
	long long	 n;

	if (*s == '\0' || *s == ' ' || *s == '+')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

static int
num32(const char *s, int32_t *v)
{
	int64_t	 n;

	if (num64(s, &n) == -1 || n < INT32_MIN || n > INT32_MAX)
		return -1;
	*v = (int32_t)n;
	return 0;
}

/*
 * A time no listing can mean: before 1970, or after 9999 (which no
 * date prints, and whose milliseconds overflow what the kernel takes
 * as a set element's timeout).
 */
static int
time_bad(int64_t t)
{
	return t < 0 || t > TIME_MAX_SANE;
}

/* first|pass|expire|bcount|pcount */
static const char *
numbers(char **f, struct gdata *gd)
{
	if (num64(f[0], &gd->first) || num64(f[1], &gd->pass) ||
	    num64(f[2], &gd->expire) || num32(f[3], &gd->bcount) ||
	    num32(f[4], &gd->pcount) || gd->pcount < 0)
		return "bad number";
	if (time_bad(gd->first) || time_bad(gd->pass) ||
	    time_bad(gd->expire))
		return "impossible time (before 1970 or after 9999)";
	return NULL;
}

static const char *
parse_ip(const char *s, struct pending *p)
{
	char	 ip[INET6_ADDRSTRLEN];

	if (addr_canon(s, ip, sizeof(ip)) == -1)
		return "not an IP address";
	p->keylen = strlcpy(p->key, ip, sizeof(p->key));
	return NULL;
}

/* NULL, or what is wrong with the line. */
static const char *
parse_line(char *line, struct pending *p, time_t now)
{
	char		*f[MAXFIELDS + 1];
	struct addr	 ip;
	const char	*why;
	int64_t		 expire;
	int		 n;

	memset(p, 0, sizeof(*p));
	if ((n = split(line, f, MAXFIELDS)) > MAXFIELDS)
		return "too many fields";
	if (strcmp(f[0], "WHITE") == 0) {
		if (n != 9 || *f[2] != '\0' || *f[3] != '\0')
			return "a WHITE line has 9 fields, the 3rd and 4th "
			    "empty";
		if ((why = parse_ip(f[1], p)) != NULL)
			return why;
		return numbers(f + 4, &p->gd);
	}
	if (strcmp(f[0], "GREY") == 0) {
		/* From may hold a bar: the fields around it are fixed. */
		if (n < 10)
			return "a GREY line has 10 fields";
		join(f, 3, n - 7);
		if (addr_parse(&ip, f[1]) == -1)
			return "not an IP address";
		if ((why = numbers(f + n - 5, &p->gd)) != NULL)
			return why;
		/* OpenBSD's listing is raw, ours escaped: one key of both. */
		if ((why = gd_textkey(p->key, sizeof(p->key), &ip, f[2], f[3],
		    f[n - 6])) != NULL)
			return why;
		p->keylen = strlen(p->key);
		return NULL;
	}
	if (strcmp(f[0], "TRAPPED") == 0) {
		if (n != 3)
			return "a TRAPPED line has 3 fields";
		if ((why = parse_ip(f[1], p)) != NULL)
			return why;
		if (num64(f[2], &expire) == -1)
			return "bad number";
		if (time_bad(expire))
			return "impossible time (before 1970 or after 9999)";
		grey_trapped_new(&p->gd, now, (time_t)expire);
		return NULL;
	}
	if (strcmp(f[0], "SPAMTRAP") == 0) {
		if (n < 2)
			return "a SPAMTRAP line has 2 fields";
		join(f, 1, n - 1);
		if ((why = gd_trapkey(p->key, sizeof(p->key), f[1],
		    strlen(f[1]))) != NULL)
			return why;
		p->keylen = strlen(p->key);
		p->gd.first = now;
		p->gd.bcount = 1;
		p->gd.pcount = GD_SPAMTRAP;
		return NULL;
	}
	return "unknown entry type (not WHITE, GREY, TRAPPED or SPAMTRAP)";
}

static int
put_txn(struct store *st, void *arg)
{
	struct batch	*b = arg;
	size_t		 i;
	int		 r;

	for (i = 0; i < b->n; i++) {
		r = st->ops->put(st->h, b->p[i].key, b->p[i].keylen,
		    &b->p[i].gd);
		if (r != STORE_OK)
			return r;
	}
	return STORE_OK;
}

static int
flush_batch(struct store *st, struct batch *b)
{
	struct pending	*p;
	size_t		 i;
	time_t		 now = time(NULL);

	if (store_txn(st, put_txn, b) != STORE_OK)
		return -1;
	for (i = 0; i < b->n; i++) {
		p = &b->p[i];
		switch (gd_type(p->key, p->keylen, &p->gd)) {
		case GD_WHITE:
			spamdb_fw_add(p->key, p->gd.expire, now);
			break;
		case GD_TRAPPED_T:
			spamdb_fw_del(p->key);
			break;
		default:
			break;
		}
	}
	return 0;
}

/* What one import has done so far. */
struct import_ctx {
	struct store	*st;
	const char	*path;
	struct batch	 b;
	unsigned long	 lastno, good, from;
	int		 errors;
};

static void
import_flush(struct import_ctx *c)
{
	if (flush_batch(c->st, &c->b) == -1) {
		warnx("%s:%lu-%lu: not imported: database error", c->path,
		    c->from, c->lastno);
		c->errors++;
	} else
		c->good += c->b.n;
	c->b.n = 0;
}

static void
import_line(char *line, size_t len, unsigned long lineno, void *arg)
{
	struct import_ctx	*c = arg;
	const char		*why;

	c->lastno = lineno;
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len == 0 || line[0] == '#')
		return;
	if ((why = parse_line(line, &c->b.p[c->b.n], time(NULL))) != NULL) {
		warnx("%s:%lu: %s", c->path, lineno, why);
		c->errors++;
		return;
	}
	if (c->b.n == 0)
		c->from = lineno;
	if (++c->b.n == IMPORT_BATCH)
		import_flush(c);
}

static void
import_toolong(unsigned long lineno, void *arg)
{
	struct import_ctx	*c = arg;

	warnx("%s:%lu: line too long", c->path, lineno);
	c->errors++;
}

int
spamdb_import(struct store *st, const char *path)
{
	struct import_ctx	 c;
	struct spamdb_lines	 cb = { import_line, import_toolong, &c };
	char			 line[IMPORT_LINE_MAX];
	int			 r;

	memset(&c, 0, sizeof(c));
	c.st = st;
	c.path = path;
	c.from = 1;
	if ((c.b.p = calloc(IMPORT_BATCH, sizeof(*c.b.p))) == NULL)
		err(1, "calloc");
	if ((r = spamdb_readlines(path, line, sizeof(line), &cb)) == -1) {
		free(c.b.p);
		return 1;
	}
	if (r == -2)
		c.errors++;
	if (c.b.n > 0)
		import_flush(&c);
	free(c.b.p);
	fprintf(stderr, "spamdb: %s: imported %lu entries, %d error%s\n",
	    path, c.good, c.errors, c.errors == 1 ? "" : "s");
	return c.errors;
}
