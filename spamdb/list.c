/*
 * The listing, in OpenBSD's exact format so that scripts written for
 * its spamdb go on working:
 *
 *	WHITE|ip|||first|pass|expire|bcount|pcount
 *	GREY|ip|helo|from|to|first|pass|expire|bcount|pcount
 *	TRAPPED|ip|expire
 *	SPAMTRAP|address
 *
 * IPv6 entries use the same lines.  Keys hold their text escaped
 * (gdata.h), so a line is one record whatever a client sent; a raw
 * byte a peer or an older version stored is escaped here as well.  The
 * walk holds a lock on one page at
 * a time, so spamd goes on greylisting while a large database is listed;
 * a listing taken meanwhile is not a snapshot.  But a lock is held while
 * a line is written, and a write to a pipe blocks as long as the reader
 * does not read (spamdb | less): unless stdout is a file, the listing
 * goes to a temporary file first and out once the database is closed.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "spamdb.h"

static int	list_cb(const char *, size_t, const struct gdata *, void *);
static const char *shown(int, const char *);

static FILE	*spool;
static int	 noretry;		/* -u: only tuples tried once */
static time_t	 noretry_before;	/* ... first seen by then */

/* Field i of a line in the key form, in a buffer of its own. */
static const char *
shown(int i, const char *s)
{
	static char	 buf[4][4 * GD_KEY_MAX + 1];

	/* Four bytes of text for each: it fits. */
	if (gd_canon(buf[i], sizeof(buf[i]), s, strlen(s)) == -1)
		return "?";
	return buf[i];
}

void
spamdb_print(FILE *fp, const char *key, size_t keylen, const struct gdata *gd)
{
	char	 buf[GD_KEY_MAX + 1], *ip, *helo, *from, *to;

	if (keylen > GD_KEY_MAX)
		keylen = GD_KEY_MAX;
	memcpy(buf, key, keylen);
	buf[keylen] = '\0';

	switch (gd_type(key, keylen, gd)) {
	case GD_META:
		return;
	case GD_TRAPPED_T:
		fprintf(fp, "TRAPPED|%s|%lld\n", shown(0, buf),
		    (long long)gd->expire);
		return;
	case GD_SPAMTRAP_T:
		fprintf(fp, "SPAMTRAP|%s\n", shown(0, buf));
		return;
	case GD_WHITE:
		fprintf(fp, "WHITE|%s|||%lld|%lld|%lld|%d|%d\n", shown(0, buf),
		    (long long)gd->first, (long long)gd->pass,
		    (long long)gd->expire, gd->bcount, gd->pcount);
		return;
	case GD_GREY:
		break;
	}
	/* gd_type found a newline within keylen; a NUL may come first. */
	if (memchr(buf, '\0', keylen) != NULL) {
		warnx("grey key with a NUL byte, skipped");
		return;
	}
	ip = buf;
	helo = strchr(ip, '\n');
	*helo++ = '\0';
	if ((from = strchr(helo, '\n')) == NULL) {
		warnx("no from part in grey key %s, skipped", shown(0, ip));
		return;
	}
	*from++ = '\0';
	if ((to = strchr(from, '\n')) == NULL) {
		/* A tuple of old databases, without helo: ip\nfrom\nto. */
		to = from;
		from = helo;
		helo = "";
	} else
		*to++ = '\0';
	fprintf(fp, "GREY|%s|%s|%s|%s|%lld|%lld|%lld|%d|%d\n", shown(0, ip),
	    shown(1, helo), shown(2, from), shown(3, to),
	    (long long)gd->first, (long long)gd->pass, (long long)gd->expire,
	    gd->bcount, gd->pcount);
}

/* Stop at a signal, or when the output is gone (spamdb | head). */
static int
list_cb(const char *key, size_t keylen, const struct gdata *gd, void *arg)
{
	FILE	*fp = arg;

	if (noretry && (gd_type(key, keylen, gd) != GD_GREY ||
	    gd->bcount > 1 || gd->first > noretry_before))
		return spamdb_quit;
	spamdb_print(fp, key, keylen, gd);
	return spamdb_quit || ferror(fp);
}

int
spamdb_list(struct store *st)
{
	struct stat	 sb;
	FILE		*fp = stdout;

	if (fstat(STDOUT_FILENO, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		if ((spool = tmpfile()) == NULL)
			warn("temporary file, listing straight to stdout");
		else
			fp = spool;
	}
	if (st->ops->walk(st->h, list_cb, fp) != STORE_OK) {
		warnx("cannot read the database");
		return 1;
	}
	if (fp == spool && (fflush(spool) == EOF || ferror(spool))) {
		warn("temporary file");
		return 1;
	}
	return 0;
}

int
spamdb_list_noretry(struct store *st, time_t before)
{
	noretry = 1;
	noretry_before = before;
	return spamdb_list(st);
}

/* After the database is closed: copy what was spooled to stdout. */
int
spamdb_list_out(void)
{
	char	 buf[65536];
	size_t	 n;
	int	 rv = 0;

	if (spool == NULL)
		return 0;
	if (fseek(spool, 0, SEEK_SET) == -1) {
		warn("temporary file");
		rv = 1;
	}
	while (rv == 0 && !spamdb_quit &&
	    (n = fread(buf, 1, sizeof(buf), spool)) > 0) {
		if (fwrite(buf, 1, n, stdout) != n)
			break;		/* main reports it */
	}
	if (ferror(spool)) {
		warn("temporary file");
		rv = 1;
	}
	fclose(spool);
	spool = NULL;
	return rv;
}

/*
 * One key, named as it is listed: an address (any spelling of it), a
 * spamtrap address (any case) or a tuple "ip|helo|from|to".
 */
int
spamdb_list_key(struct store *st, const char *arg)
{
	struct gdata	 gd;
	char		 key[GD_KEY_MAX];
	const char	*why = NULL;
	int		 r;

	if (strchr(arg, '|') != NULL)
		why = gd_tuplekey(key, sizeof(key), arg);
	else if (addr_canon(arg, key, sizeof(key)) == 0)
		;
	else if (strchr(arg, '@') != NULL)
		why = gd_trapkey(key, sizeof(key), arg, strlen(arg));
	else if (strlcpy(key, arg, sizeof(key)) >= sizeof(key))
		why = "key too long";
	if (why != NULL) {
		warnx("%s: %s", arg, why);
		return 1;
	}
	r = st->ops->get(st->h, key, strlen(key), &gd);
	if (r == STORE_OK) {
		spamdb_print(stdout, key, strlen(key), &gd);
		return 0;
	}
	if (r == STORE_NOTFOUND)
		warnx("%s: not found", arg);
	else
		warnx("%s: database error", arg);
	return 1;
}
