/*
 * Import a listing made by OpenBSD's spamdb, so an admin moving a mail
 * gateway to Linux keeps its whitelist, traps and spamtraps:
 *
 *	WHITE|ip|||first|pass|expire|bcount|pcount
 *	GREY|ip|helo|from|to|first|pass|expire|bcount|pcount
 *	TRAPPED|ip|expire
 *	SPAMTRAP|address
 *
 * Entries are written a thousand to a transaction.  A line that does not
 * parse is reported with its number and skipped; the rest goes in.
 */
#include <ctype.h>
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
#define MAXFIELDS	10

struct pending {
	char		 key[GD_KEY_MAX];
	size_t		 keylen;
	struct gdata	 gd;
};

static int	split(char *, char **, int);
static int	num64(const char *, int64_t *);
static int	num32(const char *, int32_t *);
static int	parse_line(char *, struct pending *, const char **);
static int	flush_batch(struct store *, struct pending *, size_t);

static int
split(char *line, char **f, int max)
{
	int	 n = 0;
	char	*p;

	while (n < max && (p = strsep(&line, "|")) != NULL)
		f[n++] = p;
	return line == NULL ? n : max + 1;
}

static int
num64(const char *s, int64_t *v)
{
	char		*end;
	long long	 n;

	if (*s == '\0')
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

static int
parse_line(char *line, struct pending *p, const char **why)
{
	char	*f[MAXFIELDS + 1], ip[INET6_ADDRSTRLEN];
	int	 n, len;
	size_t	 i;

	n = split(line, f, MAXFIELDS);
	memset(p, 0, sizeof(*p));
	*why = "bad field count";
	if (strcmp(f[0], "WHITE") == 0) {
		if (n != 9 || *f[2] != '\0' || *f[3] != '\0')
			return -1;
		*why = "not an IP address";
		if (addr_canon(f[1], ip, sizeof(ip)) == -1)
			return -1;
		*why = "bad number";
		if (num64(f[4], &p->gd.first) || num64(f[5], &p->gd.pass) ||
		    num64(f[6], &p->gd.expire) || num32(f[7], &p->gd.bcount) ||
		    num32(f[8], &p->gd.pcount) || p->gd.pcount < 0)
			return -1;
		p->keylen = strlcpy(p->key, ip, sizeof(p->key));
		return 0;
	}
	if (strcmp(f[0], "GREY") == 0) {
		if (n != 10)
			return -1;
		*why = "not an IP address";
		if (addr_canon(f[1], ip, sizeof(ip)) == -1)
			return -1;
		*why = "bad number";
		if (num64(f[5], &p->gd.first) || num64(f[6], &p->gd.pass) ||
		    num64(f[7], &p->gd.expire) || num32(f[8], &p->gd.bcount) ||
		    num32(f[9], &p->gd.pcount))
			return -1;
		*why = "field too long";
		len = grey_key(p->key, sizeof(p->key), ip, f[2], f[3], f[4]);
		if (len < 0)
			return -1;
		p->keylen = (size_t)len;
		return 0;
	}
	if (strcmp(f[0], "TRAPPED") == 0) {
		if (n != 3)
			return -1;
		*why = "not an IP address";
		if (addr_canon(f[1], ip, sizeof(ip)) == -1)
			return -1;
		*why = "bad number";
		if (num64(f[2], &p->gd.expire))
			return -1;
		p->gd.first = time(NULL);
		p->gd.bcount = 1;
		p->gd.pcount = GD_TRAPPED;
		p->keylen = strlcpy(p->key, ip, sizeof(p->key));
		return 0;
	}
	if (strcmp(f[0], "SPAMTRAP") == 0) {
		if (n != 2)
			return -1;
		*why = "not an email address";
		if (strchr(f[1], '@') == NULL || strchr(f[1], '\n') != NULL)
			return -1;
		*why = "address too long";
		if (strlen(f[1]) >= sizeof(p->key))
			return -1;
		for (i = 0; f[1][i] != '\0'; i++)
			p->key[i] = tolower((unsigned char)f[1][i]);
		p->keylen = i;
		p->gd.first = time(NULL);
		p->gd.bcount = 1;
		p->gd.pcount = GD_SPAMTRAP;
		return 0;
	}
	*why = "unknown entry type";
	return -1;
}

static int
flush_batch(struct store *st, struct pending *b, size_t n)
{
	size_t	 i;
	int	 r, tries;
	time_t	 now = time(NULL);

	for (tries = 0; tries < 10; tries++) {
		if (st->ops->begin(st->h) != STORE_OK)
			return -1;
		for (i = 0; i < n; i++) {
			r = st->ops->put(st->h, b[i].key, b[i].keylen,
			    &b[i].gd);
			if (r != STORE_OK)
				break;
		}
		if (i == n && (r = st->ops->commit(st->h)) == STORE_OK)
			break;
		if (i != n)
			st->ops->abort(st->h);
		if (r != STORE_RETRY)
			return -1;
	}
	if (tries == 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (gd_type(b[i].key, b[i].keylen, &b[i].gd) == GD_WHITE &&
		    b[i].gd.expire > now)
			spamdb_fw_add(b[i].key, b[i].gd.expire, now);
	}
	return 0;
}

int
spamdb_import(struct store *st, const char *path)
{
	FILE		*fp;
	struct pending	*batch;
	char		 line[IMPORT_LINE_MAX];
	const char	*why;
	size_t		 n = 0, len;
	unsigned long	 lineno = 0, good = 0;
	int		 errors = 0, skipping = 0;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return 1;
	}
	if ((batch = calloc(IMPORT_BATCH, sizeof(*batch))) == NULL)
		err(1, "calloc");
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(fp)) {
			/* Overlong: report once, skip to the next newline. */
			if (!skipping) {
				lineno++;
				warnx("%s:%lu: line too long", path, lineno);
				errors++;
			}
			skipping = 1;
			continue;
		}
		if (skipping) {
			skipping = 0;
			continue;
		}
		lineno++;
		if (len == 0 || line[0] == '#')
			continue;
		if (parse_line(line, &batch[n], &why) == -1) {
			warnx("%s:%lu: %s", path, lineno, why);
			errors++;
			continue;
		}
		if (++n == IMPORT_BATCH) {
			if (flush_batch(st, batch, n) == -1) {
				warnx("%s: database error near line %lu",
				    path, lineno);
				errors++;
			} else
				good += n;
			n = 0;
		}
	}
	if (ferror(fp)) {
		warn("%s", path);
		errors++;
	}
	if (n > 0) {
		if (flush_batch(st, batch, n) == -1) {
			warnx("%s: database error at end", path);
			errors++;
		} else
			good += n;
	}
	free(batch);
	if (fp != stdin)
		fclose(fp);
	fprintf(stderr, "spamdb: imported %lu entries from %s, %d errors\n",
	    good, path, errors);
	return errors;
}
