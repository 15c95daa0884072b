/*
 * spamdb -m: the day-one whitelist.  Before spamd is switched on, the
 * clients that delivered mail in the last days are read from the MTA's
 * log (maillog.c) and whitelisted, so that regular correspondents are
 * not deferred on the first day.
 *
 * A new entry is WHITE with first and pass the client's first and last
 * delivery in the log, pcount its messages, bcount 0 (never blocked)
 * and spamdb -a's expiry, now plus 36 days.  A WHITE entry lives at
 * least that long; a TRAPPED address is left as it is.  Entries are
 * written a thousand to a transaction of the environment spamd works
 * in, so spamd, spamlogd and spamdb's other commands go on beside it.
 * Files are read in the order given, plain or gzip-compressed, so the
 * rotated logs can be read oldest first and a queue id that crosses a
 * rotation is still paired.
 */
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grey.h"
#include "maillog.h"
#include "spamdb.h"

#define DAYONE_BATCH	1000
#define BAD_SHOWN	10	/* malformed lines named with -v */

enum outcome { ADDED, REFRESHED, TRAPPED };

struct item {
	const struct ml_client	*c;
	char			 key[INET6_ADDRSTRLEN];
	struct gdata		 gd;
	enum outcome		 out;
};

struct batch {
	struct item	*it;
	size_t		 n;
	time_t		 now;
};

static void	read_line(char *, size_t, unsigned long, void *);
static void	read_toolong(unsigned long, void *);
static int	dayone_txn(struct store *, void *);
static int	write_batch(struct store *, struct batch *, int,
		    unsigned long [3]);

/* One file being read into ml. */
struct reading {
	struct maillog	*ml;
	const char	*path;
	int		 verbose;
	unsigned long	 shown;		/* malformed lines named */
};

static void
read_line(char *line, size_t len, unsigned long lineno, void *arg)
{
	struct reading	*r = arg;
	unsigned long	 bad0 = ml_bad(r->ml);

	(void)len;
	ml_line(r->ml, line);
	if (r->verbose && ml_bad(r->ml) > bad0 && r->shown++ < BAD_SHOWN)
		warnx("%s:%lu: not a Postfix log line as expected, skipped",
		    r->path, lineno);
}

static void
read_toolong(unsigned long lineno, void *arg)
{
	struct reading	*r = arg;

	ml_line(r->ml, "");	/* counted as malformed */
	if (r->verbose && r->shown++ < BAD_SHOWN)
		warnx("%s:%lu: line too long, skipped", r->path, lineno);
}

static int
dayone_txn(struct store *st, void *arg)
{
	struct batch	*b = arg;
	struct item	*it;
	size_t		 i, len;
	time_t		 expire = b->now + WHITEEXP;
	int		 r;

	for (i = 0; i < b->n; i++) {
		it = &b->it[i];
		len = strlen(it->key);
		if ((r = st->ops->get(st->h, it->key, len, &it->gd)) < 0)
			return r;
		if (r == STORE_OK && it->gd.pcount < 0) {
			it->out = TRAPPED;	/* a trap stands */
			continue;
		}
		if (r == STORE_OK) {
			it->out = REFRESHED;
			if (it->gd.expire < expire)
				it->gd.expire = expire;
		} else {
			it->out = ADDED;
			memset(&it->gd, 0, sizeof(it->gd));
			it->gd.first = it->c->first;
			it->gd.pass = it->c->last;
			it->gd.expire = expire;
			it->gd.pcount = it->c->msgs > INT32_MAX ? INT32_MAX :
			    (int32_t)it->c->msgs;
		}
		if ((r = st->ops->put(st->h, it->key, len, &it->gd)) !=
		    STORE_OK)
			return r;
	}
	return STORE_OK;
}

static int
write_batch(struct store *st, struct batch *b, int verbose,
    unsigned long count[3])
{
	static const char *what[] = { "added", "already WHITE",
	    "TRAPPED, left alone" };
	struct item	*it;
	size_t		 i;

	if (store_txn(st, dayone_txn, b) != STORE_OK) {
		warnx("%s to %s: not whitelisted: database error",
		    b->it[0].key, b->it[b->n - 1].key);
		return -1;
	}
	for (i = 0; i < b->n; i++) {
		it = &b->it[i];
		count[it->out]++;
		if (it->out != TRAPPED)
			spamdb_fw_add(it->key, it->gd.expire, b->now);
		if (verbose)
			printf("%s %s (%lu message%s)\n", it->key,
			    what[it->out], it->c->msgs,
			    it->c->msgs == 1 ? "" : "s");
	}
	return 0;
}

int
spamdb_dayone(struct store *st, char **files, int nfiles, int days,
    int verbose, time_t now)
{
	struct maillog		*ml;
	const struct ml_stats	*s;
	struct batch		 b;
	struct reading		 rd;
	struct spamdb_lines	 cb = { read_line, read_toolong, &rd };
	char			*line;
	unsigned long		 count[3] = { 0, 0, 0 };
	char			 since[32];
	struct tm		 tm;
	size_t			 i, n;
	time_t			 from = now - (time_t)days * 86400;
	int			 f, errors = 0;

	if ((ml = ml_new(now, from)) == NULL ||
	    (line = malloc(ML_LINE_MAX)) == NULL)
		err(1, "day-one whitelist");
	memset(&rd, 0, sizeof(rd));
	rd.ml = ml;
	rd.verbose = verbose;
	for (f = 0; f < nfiles && !spamdb_quit; f++) {
		rd.path = files[f];
		if (spamdb_readlines(files[f], line, ML_LINE_MAX, &cb) != 0)
			errors++;
	}
	free(line);
	s = ml_stats(ml);
	if (s->lines > 0 && s->bad == s->lines) {
		warnx("no line was a syslog line: not a Postfix log?");
		errors++;
	}
	if ((b.it = calloc(DAYONE_BATCH, sizeof(*b.it))) == NULL)
		err(1, "calloc");
	b.now = now;
	n = ml_nclients(ml);
	for (i = 0, b.n = 0; i < n && !spamdb_quit; i++) {
		b.it[b.n].c = ml_client(ml, i);
		addr_str(&b.it[b.n].c->addr, b.it[b.n].key,
		    sizeof(b.it[b.n].key));
		if (++b.n == DAYONE_BATCH || i + 1 == n) {
			if (write_batch(st, &b, verbose, count) == -1)
				errors++;
			b.n = 0;
		}
	}
	free(b.it);
	if (localtime_r(&from, &tm) == NULL ||
	    strftime(since, sizeof(since), "%Y-%m-%d %H:%M", &tm) == 0)
		strlcpy(since, "?", sizeof(since));
	printf("%lu lines, %lu malformed and skipped\n"
	    "%zu clients delivered mail since %s: %lu whitelisted, "
	    "%lu already WHITE, %lu TRAPPED and left alone\n",
	    s->lines, s->bad, n, since, count[ADDED], count[REFRESHED],
	    count[TRAPPED]);
	if (s->old > 0)
		printf("%lu messages delivered before then not counted\n",
		    s->old);
	if (s->local > 0)
		printf("%lu messages from loopback clients not counted\n",
		    s->local);
	if (s->over > 0) {
		warnx("more than %d clients: %lu deliveries of the others "
		    "not counted", ML_CLIENTS_MAX, s->over);
		errors++;
	}
	if (s->undelivered > 0 && verbose)
		printf("%lu messages accepted but not delivered (refused "
		    "after DATA, bounced, deferred)\n", s->undelivered);
	ml_free(ml);
	return errors;
}
