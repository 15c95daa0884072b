/*
 * Greylisting transitions with an injected clock on the memory store:
 * new tuple, early retry, pass, GREY expiry, WHITE expiry, counters,
 * trapped addresses, and the scan.  store_txn's retries and their bound,
 * on a store whose commits deadlock on demand.  grey_decide: every
 * reason to trap, the limits, and its cost counted: one transaction, the
 * database accesses in it, and the address turned into text once
 * (addr_str and addr_parse are wrapped at link time, Makefile).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "grey.h"
#include "store_mem.h"
#include "tap.h"


static const struct grey_conf gc = { 60, 3600, 86400, 7200 };
static int ngone, nnew, nlive;

/* Address conversions, counted through -Wl,--wrap. */
static int	 nstr, nparse;
const char	*__real_addr_str(const struct addr *, char *, size_t);
const char	*__wrap_addr_str(const struct addr *, char *, size_t);
int		 __real_addr_parse(struct addr *, const char *);
int		 __wrap_addr_parse(struct addr *, const char *);

const char *
__wrap_addr_str(const struct addr *a, char *buf, size_t len)
{
	nstr++;
	return __real_addr_str(a, buf, len);
}

int
__wrap_addr_parse(struct addr *a, const char *s)
{
	nparse++;
	return __real_addr_parse(a, s);
}

/* The address s spells; the test's own parse is not counted. */
static const struct addr *
A(const char *s)
{
	static struct addr	 a[4];
	static int		 i;
	struct addr		*r = &a[i++ % 4];
	int			 saved = nparse;

	__real_addr_parse(r, s);
	nparse = saved;
	return r;
}

static void
mktuple(struct grey_tuple *t, const char *ip, const char *dst,
    const char *helo, const char *from, const char *to)
{
	memset(t, 0, sizeof(*t));
	t->ip = *A(ip);
	if (dst != NULL)
		t->dst = *A(dst);
	strlcpy(t->helo, helo, sizeof(t->helo));
	strlcpy(t->from, from, sizeof(t->from));
	strlcpy(t->to, to, sizeof(t->to));
}

static int
get(struct store *st, const char *key, struct gdata *gd)
{
	return st->ops->get(st->h, key, strlen(key), gd);
}

/*
 * The memory store behind commits that deadlock: the next `deadlocks'
 * commits (all of them if -1) abort and say STORE_RETRY.
 */
static struct store	*flaky_mem;
static int		 deadlocks, ncommit, nrun;
/* What the store was asked: transactions, accesses, those outside. */
static int		 nbegin, nget, nput, ndel, nout, intxn;

static int
flaky_begin(void *h)
{
	nbegin++;
	intxn = 1;
	return flaky_mem->ops->begin(h);
}

static void
flaky_abort(void *h)
{
	intxn = 0;
	flaky_mem->ops->abort(h);
}

static void
flaky_close(void *h)
{
	(void)h;	/* flaky_mem is closed on its own */
}

static int
flaky_commit(void *h)
{
	ncommit++;
	intxn = 0;
	if (deadlocks != 0) {
		if (deadlocks > 0)
			deadlocks--;
		flaky_mem->ops->abort(h);
		return STORE_RETRY;
	}
	return flaky_mem->ops->commit(h);
}

static int
flaky_get(void *h, const char *k, size_t n, struct gdata *gd)
{
	nget++;
	nout += !intxn;
	return flaky_mem->ops->get(h, k, n, gd);
}

static int
flaky_put(void *h, const char *k, size_t n, const struct gdata *gd)
{
	nput++;
	nout += !intxn;
	return flaky_mem->ops->put(h, k, n, gd);
}

static int
flaky_del(void *h, const char *k, size_t n)
{
	ndel++;
	nout += !intxn;
	return flaky_mem->ops->del(h, k, n);
}

static int
flaky_walk(void *h, store_walk_cb cb, void *arg)
{
	return flaky_mem->ops->walk(h, cb, arg);
}

static const struct store_ops flaky_ops = {
	flaky_begin, flaky_commit, flaky_abort, flaky_get, flaky_put,
	flaky_del, flaky_walk, flaky_close, NULL, NULL, NULL
};

/* Writes a record, then returns what *arg says for the first runs. */
static int
put_txn(struct store *st, void *arg)
{
	int		*fails = arg;
	struct gdata	 gd;

	nrun++;
	memset(&gd, 0, sizeof(gd));
	gd.pcount = nrun;
	if (st->ops->put(st->h, "192.0.2.99", 10, &gd) != STORE_OK)
		return STORE_ERR;
	if (fails[0] > 0) {
		fails[0]--;
		return fails[1];
	}
	return STORE_OK;
}

/* spamlogd's and spamdb's writes, through the one record policy. */
static void
test_seen_admin(void)
{
	struct store	*st = store_mem_open();
	struct gdata	 gd, rec;
	enum grey_seen	 res;
	time_t		 t0 = 2000000;
	int		 rv;

	res = -1;
	rv = grey_white_seen(st, 500, t0, "192.0.2.1", 0, &res, &rec);
	ok(rv == STORE_OK && res == GREY_SEEN_NOTWHITE &&
	    get(st, "192.0.2.1", &gd) == STORE_NOTFOUND,
	    "white_seen: inbound from an unknown host leaves it alone");
	rv = grey_white_seen(st, 500, t0, "192.0.2.1", 1, &res, &rec);
	ok(rv == STORE_OK && res == GREY_SEEN_CREATED,
	    "white_seen: outbound to an unknown host creates");
	ok(get(st, "192.0.2.1", &gd) == STORE_OK && gd.first == t0 &&
	    gd.pass == t0 && gd.expire == t0 + 500 && gd.bcount == 1 &&
	    gd.pcount == 0 && memcmp(&gd, &rec, sizeof(gd)) == 0,
	    "white_seen: new WHITE first = pass = now, expire now + whiteexp, "
	    "bcount 1, pcount 0");
	rv = grey_white_seen(st, 500, t0 + 100, "192.0.2.1", 0, &res, &rec);
	ok(rv == STORE_OK && res == GREY_SEEN_EXTENDED &&
	    get(st, "192.0.2.1", &gd) == STORE_OK && gd.pcount == 1 &&
	    gd.expire == t0 + 600 && gd.first == t0 && gd.pass == t0 &&
	    gd.bcount == 1, "white_seen: inbound from WHITE: pcount 1, "
	    "expire raised to now + whiteexp");
	rv = grey_white_seen(st, 50, t0 + 200, "192.0.2.1", 1, &res, &rec);
	ok(rv == STORE_OK && res == GREY_SEEN_EXTENDED &&
	    get(st, "192.0.2.1", &gd) == STORE_OK && gd.pcount == 2 &&
	    gd.expire == t0 + 600, "white_seen: expire never lowered");
	gd.pcount = INT32_MAX;
	st->ops->put(st->h, "192.0.2.1", 9, &gd);
	grey_white_seen(st, 500, t0 + 300, "192.0.2.1", 1, &res, &rec);
	ok(get(st, "192.0.2.1", &gd) == STORE_OK && gd.pcount == INT32_MAX,
	    "white_seen: pcount saturates");
	memset(&gd, 0, sizeof(gd));
	gd.first = t0; gd.expire = t0 + 10; gd.bcount = 3;
	gd.pcount = GD_TRAPPED;
	st->ops->put(st->h, "192.0.2.2", 9, &gd);
	rv = grey_white_seen(st, 500, t0, "192.0.2.2", 1, &res, &rec);
	ok(rv == STORE_OK && res == GREY_SEEN_TRAPPED &&
	    get(st, "192.0.2.2", &rec) == STORE_OK &&
	    memcmp(&gd, &rec, sizeof(gd)) == 0,
	    "white_seen: TRAPPED left alone, outbound too");

	rv = grey_admin_set(st, &gc, t0, GD_WHITE, "192.0.2.3", &rec);
	ok(rv == STORE_OK && get(st, "192.0.2.3", &gd) == STORE_OK &&
	    gd.first == t0 && gd.pass == t0 && gd.expire == t0 + 86400 &&
	    gd.bcount == 1 && gd.pcount == 0 &&
	    memcmp(&gd, &rec, sizeof(gd)) == 0, "admin -a: a new WHITE entry");
	rv = grey_admin_set(st, &gc, t0 + 10, GD_WHITE, "192.0.2.3", &rec);
	ok(rv == STORE_OK && rec.pcount == 1 && rec.pass == t0 + 10 &&
	    rec.expire == t0 + 10 + 86400 && rec.first == t0 &&
	    rec.bcount == 1, "admin -a again: pcount++, pass and expire "
	    "renewed");
	rv = grey_admin_set(st, &gc, t0 + 20, GD_TRAPPED_T, "192.0.2.3",
	    &rec);
	ok(rv == STORE_OK && get(st, "192.0.2.3", &gd) == STORE_OK &&
	    gd.pcount == GD_TRAPPED && gd.expire == t0 + 20 + 7200 &&
	    gd.first == t0 && gd.pass == t0 + 10 && gd.bcount == 1,
	    "admin -t -a: TRAPPED for trapexp, first and pass kept");
	rv = grey_admin_set(st, &gc, t0 + 30, GD_WHITE, "192.0.2.3", &rec);
	ok(rv == STORE_OK && rec.pcount == 0 && rec.expire == t0 + 30 + 86400,
	    "admin -a of a TRAPPED entry: WHITE with pcount 0");
	rv = grey_admin_set(st, &gc, t0, GD_TRAPPED_T, "192.0.2.4", &rec);
	ok(rv == STORE_OK && rec.first == t0 && rec.pass == 0 &&
	    rec.bcount == 1 && rec.pcount == GD_TRAPPED &&
	    rec.expire == t0 + 7200, "admin -t -a: a new TRAPPED entry");
	rv = grey_admin_set(st, &gc, t0, GD_SPAMTRAP_T, "trap@example.org",
	    &rec);
	ok(rv == STORE_OK && get(st, "trap@example.org", &gd) == STORE_OK &&
	    gd.pcount == GD_SPAMTRAP && gd.expire == 0 && gd.first == t0 &&
	    gd.bcount == 1, "admin -T -a: SPAMTRAP, expire 0");
	memset(&gd, 0, sizeof(gd));
	gd.expire = t0 + 99;
	st->ops->put(st->h, "old@example.org", 15, &gd);
	rv = grey_admin_set(st, &gc, t0, GD_SPAMTRAP_T, "old@example.org",
	    &rec);
	ok(rv == STORE_OK && rec.pcount == GD_SPAMTRAP && rec.expire == 0,
	    "admin -T -a of an existing key: SPAMTRAP, expire 0");
	rv = grey_admin_set(st, &gc, t0, GD_GREY, "192.0.2.5", &rec);
	ok(rv == STORE_ERR && get(st, "192.0.2.5", &gd) == STORE_NOTFOUND,
	    "admin: GREY cannot be set");
	store_close(st);
}

/* grey_white_drop: listed WHITE entries go, in passes; nothing else. */
static int	ndropped;

static int
listed_odd(const struct addr *a, void *arg)
{
	(void)arg;
	return a->af == AF_INET && a->a[0] == 198 && a->a[1] == 18 &&
	    a->a[3] % 2 == 1;
}

static void
dropped(const struct addr *ip, void *arg)
{
	(void)ip;
	(void)arg;
	ndropped++;
}

static void
test_white_drop(void)
{
	struct store	*st = store_mem_open();
	struct gdata	 gd;
	char		 ip[INET6_ADDRSTRLEN];
	int		 i, n, left = 0;

	for (i = 0; i < 3000; i++) {
		snprintf(ip, sizeof(ip), "198.18.%d.%d", i / 250, i % 250);
		grey_admin_set(st, &gc, 1000, GD_WHITE, ip, &gd);
	}
	grey_admin_set(st, &gc, 1000, GD_TRAPPED_T, "198.18.99.1", &gd);
	grey_tuple(st, &gc, 1000, "198.18.99.3", "h", "<a@b>", "<c@d>", NULL);
	n = grey_white_drop(st, listed_odd, dropped, NULL);
	for (i = 0; i < 3000; i++) {
		snprintf(ip, sizeof(ip), "198.18.%d.%d", i / 250, i % 250);
		if (get(st, ip, &gd) == STORE_OK)
			left++;
	}
	ok(n == 1500 && ndropped == 1500 && left == 1500,
	    "listed WHITE entries dropped over passes of 1024: %d, told %d, "
	    "%d left", n, ndropped, left);
	ok(get(st, "198.18.99.1", &gd) == STORE_OK &&
	    gd.pcount == GD_TRAPPED, "a listed TRAPPED entry stays");
	ok(get(st, "198.18.99.3\nh\n<a@b>\n<c@d>", &gd) == STORE_OK,
	    "a listed host's GREY tuple stays");
	ok(grey_white_drop_addr(st, A("198.18.0.0")) == 1 &&
	    get(st, "198.18.0.0", &gd) == STORE_NOTFOUND &&
	    grey_white_drop_addr(st, A("198.18.0.0")) == 0 &&
	    grey_white_drop_addr(st, A("198.18.99.1")) == 0 &&
	    get(st, "198.18.99.1", &gd) == STORE_OK,
	    "one WHITE entry dropped: 1, then 0; a TRAPPED one stays");
	store_close(st);
}

/* Sync updates as OpenBSD's twupdate(): grey_sync. */
static void
test_sync(void)
{
	struct store	*st = store_mem_open();
	struct gdata	 gd;
	time_t		 t0 = 2000000;
	int		 r, ww;

	r = grey_sync(st, t0, A("192.0.2.70"), 0, t0 + 500, &gd, &ww);
	ok(r == GREY_SYNC_WHITE && gd.first == t0 && gd.pass == 0 &&
	    gd.expire == t0 + 500 && gd.bcount == 0 && gd.pcount == 0 && !ww,
	    "sync WHITE: a new record {now, 0, the peer's expiry, 0, 0}");
	r = grey_sync(st, t0 + 10, A("192.0.2.70"), 0, t0 + 9000, &gd, &ww);
	ok(r == GREY_SYNC_WHITE && gd.pcount == 1 && gd.expire == t0 + 500 &&
	    gd.first == t0, "sync WHITE again: pcount 1, expiry kept");
	r = grey_sync(st, t0 + 20, A("192.0.2.70"), 1, t0 + 9000, &gd, &ww);
	ok(r == GREY_SYNC_TRAPPED && ww && gd.pcount == GD_TRAPPED &&
	    gd.bcount == 1 && gd.expire == t0 + 500,
	    "sync TRAPPED of a WHITE host: trapped, bcount 1, expiry kept");
	r = grey_sync(st, t0 + 30, A("192.0.2.70"), 0, t0 + 9000, &gd, &ww);
	ok(r == GREY_SYNC_KEPT && get(st, "192.0.2.70", &gd) == STORE_OK &&
	    gd.pcount == GD_TRAPPED && gd.bcount == 1,
	    "sync WHITE never lifts a trap");
	r = grey_sync(st, t0 + 40, A("192.0.2.70"), 1, t0 + 9000, &gd, &ww);
	ok(r == GREY_SYNC_TRAPPED && !ww && gd.bcount == 2 &&
	    gd.expire == t0 + 500, "sync TRAPPED again: bcount 2");
	r = grey_sync(st, t0 + 50, A("192.0.2.71"), 1, t0 + 49, &gd, &ww);
	ok(r == GREY_SYNC_STALE && get(st, "192.0.2.71", &gd) ==
	    STORE_NOTFOUND, "an expiry in the past changes nothing");
	r = grey_sync(st, t0 + 50, A("192.0.2.72"), 0, t0 + 50, &gd, &ww);
	ok(r == GREY_SYNC_WHITE && get(st, "192.0.2.72", &gd) == STORE_OK &&
	    gd.expire == t0 + 50, "an expiry of now is kept, as in OpenBSD "
	    "(the scan deletes it)");
	r = grey_sync(st, t0 + 600, A("192.0.2.70"), 0, t0 + 900, &gd, &ww);
	ok(r == GREY_SYNC_WHITE && gd.first == t0 + 600 && gd.pcount == 0 &&
	    gd.expire == t0 + 900, "an expired record is replaced as new");
	store_close(st);
}

static void
test_txn(void)
{
	struct store	 fl;
	struct gdata	 gd, w;
	int		 fails[2], r;

	flaky_mem = store_mem_open();
	fl.ops = &flaky_ops;
	fl.h = flaky_mem->h;

	nrun = ncommit = 0;
	fails[0] = 3, fails[1] = STORE_RETRY;
	r = store_txn(&fl, put_txn, fails);
	ok(r == STORE_OK && nrun == 4 && ncommit == 1,
	    "store_txn: fn deadlocked 3 times, runs 4 times, commits once "
	    "(%d, %d runs, %d commits)", r, nrun, ncommit);
	ok(get(&fl, "192.0.2.99", &gd) == STORE_OK && gd.pcount == 4,
	    "store_txn: the last run's write is committed");

	nrun = ncommit = 0;
	fails[0] = 1000, fails[1] = STORE_RETRY;
	r = store_txn(&fl, put_txn, fails);
	ok(r == STORE_RETRY && nrun == STORE_TRIES && ncommit == 0,
	    "store_txn: gives up after %d runs with STORE_RETRY (%d, %d runs)",
	    STORE_TRIES, r, nrun);
	ok(get(&fl, "192.0.2.99", &gd) == STORE_OK && gd.pcount == 4,
	    "store_txn: nothing of the failed runs is kept");

	nrun = ncommit = 0;
	fails[0] = 1, fails[1] = STORE_NOTFOUND;
	r = store_txn(&fl, put_txn, fails);
	ok(r == STORE_NOTFOUND && nrun == 1 && ncommit == 0,
	    "store_txn: another code from fn is returned at once (%d)", r);
	ok(get(&fl, "192.0.2.99", &gd) == STORE_OK && gd.pcount == 4,
	    "store_txn: and its writes are aborted");

	nrun = ncommit = 0;
	fails[0] = 0;
	deadlocks = 2;
	r = store_txn(&fl, put_txn, fails);
	ok(r == STORE_OK && nrun == 3 && ncommit == 3,
	    "store_txn: a deadlocked commit runs fn again (%d runs)", nrun);
	ok(get(&fl, "192.0.2.99", &gd) == STORE_OK && gd.pcount == 3,
	    "store_txn: the write of the run that committed is kept");

	ncommit = 0;
	deadlocks = -1;
	r = grey_tuple(&fl, &gc, 1000, "192.0.2.98", "h", "<a@b>", "<c@d>",
	    &w);
	ok(r == GREY_FAIL && ncommit == STORE_TRIES,
	    "grey_tuple: fails after %d deadlocked commits (%d)", STORE_TRIES,
	    ncommit);
	ok(get(&fl, "192.0.2.98", &gd) == STORE_NOTFOUND,
	    "grey_tuple: a failed tuple leaves nothing");
	deadlocks = 0;
	ok(grey_tuple(&fl, &gc, 1000, "192.0.2.98", "h", "<a@b>", "<c@d>",
	    &w) == GREY_NEW, "grey_tuple: works once commits do");
	store_close(flaky_mem);
}

static void
gone(const struct addr *ip, void *arg)
{
	(void)arg;
	if (addr_cmp(ip, A("192.0.2.1")) == 0)
		ngone++;
}

static void
wnew(const struct addr *ip, const struct gdata *gd, void *arg)
{
	(void)arg; (void)gd;
	if (addr_cmp(ip, A("192.0.2.7")) == 0)
		nnew++;
}

static void
live(const struct addr *ip, const struct gdata *gd, void *arg)
{
	(void)ip; (void)gd; (void)arg;
	nlive++;
}

static int	ngreylive;

static void
greylive(const struct addr *ip, void *arg)
{
	(void)arg;
	if (addr_cmp(ip, A("198.51.100.1")) == 0)
		ngreylive++;
}

/* Expired GREY tuples as the scan reports them: key and bcount. */
static char	greygone[4][GD_KEY_MAX];
static int	greygone_b[4], ngreygone;

static void
greygone_cb(const char *key, size_t keylen, const struct gdata *gd,
    void *arg)
{
	(void)arg;
	if (ngreygone < 4 && keylen < GD_KEY_MAX) {
		memcpy(greygone[ngreygone], key, keylen);
		greygone[ngreygone][keylen] = '\0';
		greygone_b[ngreygone] = gd->bcount;
	}
	ngreygone++;
}

/*
 * A scan reports each GREY tuple it deletes for expiring, with its
 * record, so the greylister can tell those never tried again; not one
 * that passed (deleted at the pass), nor WHITE or TRAPPED entries.
 */
static void
t_scan_grey_gone(void)
{
	struct store		*st = store_mem_open();
	struct grey_scan_cb	 cb = { 0 };
	struct grey_scan_stats	 ss;
	struct gdata		 gd;
	time_t			 t0 = 1000000;

	cb.grey_gone = greygone_cb;
	grey_tuple(st, &gc, t0, "192.0.2.10", "h", "<a@b>", "<once@d>", NULL);
	grey_tuple(st, &gc, t0, "192.0.2.11", "h", "<a@b>", "<twice@d>", NULL);
	grey_tuple(st, &gc, t0 + 10, "192.0.2.11", "h", "<a@b>", "<twice@d>",
	    NULL);
	grey_tuple(st, &gc, t0, "192.0.2.12", "h", "<a@b>", "<pass@d>", NULL);
	grey_tuple(st, &gc, t0 + 100, "192.0.2.12", "h", "<a@b>", "<pass@d>",
	    NULL);
	memset(&gd, 0, sizeof(gd));
	gd.first = t0; gd.expire = t0 + 10; gd.pcount = GD_TRAPPED;
	st->ops->put(st->h, "192.0.2.13", 10, &gd);
	ok(grey_scan(st, &gc, t0 + 3599, &cb, &ss) == 0 && ngreygone == 0,
	    "grey_gone: nothing before greyexp (%d)", ngreygone);
	ok(grey_scan(st, &gc, t0 + 3600, &cb, &ss) == 0 && ngreygone == 2,
	    "grey_gone: the two expired tuples reported (%d)", ngreygone);
	ok(strcmp(greygone[0], "192.0.2.10\nh\n<a@b>\n<once@d>") == 0 &&
	    greygone_b[0] == 1 && strcmp(greygone[1],
	    "192.0.2.11\nh\n<a@b>\n<twice@d>") == 0 && greygone_b[1] == 2,
	    "grey_gone: their keys and attempts (%d, %d)", greygone_b[0],
	    greygone_b[1]);
	store_close(st);
}

/*
 * H1: a flood expiring at once is scanned in passes of GREY_SCAN_MAX
 * changes, not gathered whole; the live tuples are reported per ip.
 */
static void
t_scan_batches(void)
{
	struct store		*st = store_mem_open();
	struct grey_scan_cb	 cb = { 0 };
	struct grey_scan_stats	 ss;
	struct gdata		 gd;
	char			 to[64];
	time_t			 t0 = 1000000;
	int			 i, n = GREY_SCAN_MAX + 100, r;

	cb.grey_live = greylive;
	for (i = 0; i < n; i++) {
		snprintf(to, sizeof(to), "<r%d@example.org>", i);
		grey_tuple(st, &gc, t0, "192.0.2.77", "h", "<a@b>", to, NULL);
	}
	for (i = 0; i < 5; i++) {
		snprintf(to, sizeof(to), "<live%d@example.org>", i);
		grey_tuple(st, &gc, t0 + 3000, "198.51.100.1", "h", "<a@b>",
		    to, NULL);
	}
	/* t0 + 3600: the flood expires, the five (t0 + 6600) stay. */
	r = grey_scan(st, &gc, t0 + 3600, &cb, &ss);
	ok(r == 0 && ss.deleted == GREY_SCAN_MAX && ss.more == 1,
	    "scan 1 of %d expired: %lu deleted (at most %d), more %d", n,
	    ss.deleted, GREY_SCAN_MAX, ss.more);
	ngreylive = 0;
	r = grey_scan(st, &gc, t0 + 3600, &cb, &ss);
	ok(r == 0 && ss.deleted == (unsigned long)(n - GREY_SCAN_MAX) &&
	    ss.more == 0, "scan 2: the other %d deleted, done (%lu, more %d)",
	    n - GREY_SCAN_MAX, ss.deleted, ss.more);
	ok(ngreylive == 5, "the complete scan reports the 5 live tuples of "
	    "198.51.100.1 (%d)", ngreylive);
	ok(grey_scan(st, &gc, t0 + 3600, &cb, &ss) == 0 && ss.seen == 5 &&
	    ss.deleted == 0, "then only the 5 live tuples are left (%lu)",
	    ss.seen);

	/* The per-source cap: no new key, but retries still count. */
	{
		struct grey_policy	 pol = { .domain_ok = 1 };
		struct grey_verdict	 v;
		struct grey_tuple	 t;

		mktuple(&t, "198.51.100.1", NULL, "h", "<a@b>",
		    "<new@example.org>");
		r = grey_decide(st, &gc, &pol, t0 + 3600, &t, &v);
		ok(r == GREY_REFUSED && get(st, "198.51.100.1\nh\n<a@b>\n"
		    "<new@example.org>", &gd) == STORE_NOTFOUND,
		    "may_create 0: a new tuple is refused, nothing stored");
		mktuple(&t, "198.51.100.1", NULL, "h", "<a@b>",
		    "<live0@example.org>");
		r = grey_decide(st, &gc, &pol, t0 + 3601, &t, &v);
		ok(r == GREY_PASSED, "may_create 0: a retry of a known tuple "
		    "still passes (%d)", r);
	}
	store_close(st);
}

/*
 * grey_decide: what traps a host and what it writes; a tuple costs one
 * transaction, and its address becomes text once.
 */
static void
test_decide(void)
{
	static const struct grey_policy	 open = { .domain_ok = 1,
					    .may_create = 1 };
	struct grey_policy		 pol;
	struct grey_verdict		 v;
	struct grey_tuple		 t;
	struct store			 fl, *st;
	struct gdata			 gd;
	time_t				 t0 = 3000000;
	int				 r;

	flaky_mem = store_mem_open();
	fl.ops = &flaky_ops;
	fl.h = flaky_mem->h;
	st = &fl;
	deadlocks = 0;

	memset(&gd, 0, sizeof(gd));
	gd.pcount = GD_SPAMTRAP;
	st->ops->put(st->h, "trap@example.org", 16, &gd);

	/* A new tuple: counted from the store's side. */
	mktuple(&t, "192.0.2.30", NULL, "h", "<a@b>", "<c@d>");
	nbegin = nget = nput = ndel = nout = nstr = nparse = 0;
	r = grey_decide(st, &gc, &open, t0, &t, &v);
	ok(r == GREY_NEW && v.why == GREY_WHY_NONE &&
	    strcmp(v.ip, "192.0.2.30") == 0, "decide: a new tuple (%d, %s)",
	    r, v.ip);
	ok(nbegin == 1 && nout == 0 && nget == 3 && nput == 1 && ndel == 0,
	    "decide: one transaction, 3 gets (spamtrap, ip, tuple) and 1 "
	    "put in it, nothing outside (%d txn, %d get, %d put, %d del, "
	    "%d outside)", nbegin, nget, nput, ndel, nout);
	ok(nstr == 1 && nparse == 0, "decide: the address becomes text "
	    "once, for the key, and is never parsed (%d addr_str, %d "
	    "addr_parse)", nstr, nparse);
	nbegin = nget = nput = ndel = nout = 0;
	r = grey_decide(st, &gc, &open, t0 + 61, &t, &v);
	ok(r == GREY_PASSED && v.rec.expire == t0 + 61 + 86400 &&
	    nbegin == 1 && nout == 0 && nget == 3 && nput == 1 && ndel == 1,
	    "decide: a pass is one transaction too, WHITE written, tuple "
	    "deleted (%d, %d txn, %d get, %d put, %d del)", r, nbegin, nget,
	    nput, ndel);

	/* Spamtrap: trapped, was WHITE; a second hit keeps the expiry. */
	mktuple(&t, "192.0.2.30", NULL, "h2", "<a@b>", "<TRAP@example.org>");
	r = grey_decide(st, &gc, &open, t0 + 100, &t, &v);
	ok(r == GREY_TRAPPED && v.why == GREY_WHY_SPAMTRAP && v.was_white &&
	    v.rec.pcount == GD_TRAPPED && v.rec.expire == t0 + 100 + 7200 &&
	    v.rec.pass == v.rec.expire && v.rec.first == t0 + 100 &&
	    v.rec.bcount == 1, "spamtrap recipient: a WHITE ip is trapped "
	    "for trapexp, and was WHITE");
	ok(get(st, "192.0.2.30", &gd) == STORE_OK &&
	    memcmp(&gd, &v.rec, sizeof(gd)) == 0, "the TRAPPED record is "
	    "stored as handed out");
	ok(get(st, "192.0.2.30\nh2\n<a@b>\n<TRAP@example.org>", &gd) ==
	    STORE_NOTFOUND, "a trapping tuple is not greylisted");
	r = grey_decide(st, &gc, &open, t0 + 200, &t, &v);
	ok(r == GREY_TRAPPED && v.why == GREY_WHY_SPAMTRAP && !v.was_white &&
	    v.rec.expire == t0 + 100 + 7200 && v.rec.bcount == 2,
	    "a second hit counts but keeps the expiry");
	mktuple(&t, "192.0.2.30", NULL, "h3", "<a@b>", "<c@d>");
	grey_decide(st, &gc, &open, t0 + 300, &t, &v);
	r = grey_decide(st, &gc, &open, t0 + 400, &t, &v);
	ok(r == GREY_TRAPPED && v.why == GREY_WHY_NONE,
	    "a clean tuple of a trapped ip never passes, and traps nothing");
	mktuple(&t, "192.0.2.31", NULL, "h", "<a@b>", "<user@example.org>");
	ok(grey_decide(st, &gc, &open, t0, &t, &v) == GREY_NEW,
	    "another recipient is no spamtrap");

	/* -A: outside the allowed domains. */
	pol = open;
	pol.domain_ok = 0;
	mktuple(&t, "192.0.2.32", NULL, "h", "<a@b>", "<c@d>");
	r = grey_decide(st, &gc, &pol, t0, &t, &v);
	ok(r == GREY_TRAPPED && v.why == GREY_WHY_DOMAIN && !v.was_white &&
	    get(st, "192.0.2.32", &gd) == STORE_OK &&
	    gd.pcount == GD_TRAPPED, "a recipient outside the allowed "
	    "domains traps");

	/* -M: a new tuple at the low-priority MX traps, a known one not. */
	pol = open;
	pol.lowprio = 1;
	mktuple(&t, "192.0.2.33", "198.51.100.2", "h", "<a@b>", "<c@d>");
	ok(grey_decide(st, &gc, &open, t0, &t, &v) == GREY_NEW,
	    "-M: the tuple seen at the primary first");
	nbegin = nget = nput = ndel = nout = 0;
	r = grey_decide(st, &gc, &pol, t0 + 10, &t, &v);
	ok(r == GREY_EARLY && v.why == GREY_WHY_NONE,
	    "-M: a known tuple at the low-priority MX is greylisted (%d)", r);
	ok(nbegin == 1 && nout == 0 && nget == 3 && nput == 1,
	    "-M: its check shares the tuple's read (%d txn, %d get, %d put)",
	    nbegin, nget, nput);
	mktuple(&t, "192.0.2.33", "198.51.100.2", "h", "<a@b>", "<e@f>");
	r = grey_decide(st, &gc, &pol, t0 + 20, &t, &v);
	ok(r == GREY_TRAPPED && v.why == GREY_WHY_LOWPRIO &&
	    get(st, "192.0.2.33\nh\n<a@b>\n<e@f>", &gd) == STORE_NOTFOUND,
	    "-M: a new tuple at the low-priority MX traps, is not recorded");

	/* A failed transaction hands out no trap. */
	deadlocks = -1;
	mktuple(&t, "192.0.2.34", NULL, "h", "<a@b>", "<trap@example.org>");
	r = grey_decide(st, &gc, &open, t0, &t, &v);
	ok(r == GREY_FAIL && v.why == GREY_WHY_NONE &&
	    get(st, "192.0.2.34", &gd) == STORE_NOTFOUND,
	    "decide: a failed transaction says GREY_FAIL, writes nothing");
	deadlocks = 0;
	store_close(flaky_mem);
}

int
main(void)
{
	struct store		*st = store_mem_open();
	struct grey_scan_cb	 cb = { gone, wnew, live, NULL, NULL, NULL,
				    NULL };
	struct grey_scan_stats	 ss;
	struct gdata		 gd, w;
	const char		*ip = "192.0.2.1";
	char			 key[GD_KEY_MAX];
	time_t			 t0 = 1000000;
	int			 r;

	grey_key(key, sizeof(key), A(ip), "h.example", "<a@b>", "<c@d>");
	r = grey_tuple(st, &gc, t0, ip, "h.example", "<a@b>", "<c@d>", &w);
	ok(r == GREY_NEW, "first sighting is new (%d)", r);
	ok(get(st, key, &gd) == STORE_OK, "tuple stored under ip\\nhelo\\nfrom\\nto");
	ok(gd.first == t0 && gd.pass == t0 + 3600 && gd.expire == t0 + 3600 &&
	    gd.bcount == 1 && gd.pcount == 0, "new tuple fields as OpenBSD");
	ok(get(st, ip, &gd) == STORE_NOTFOUND, "ip not WHITE yet");

	r = grey_tuple(st, &gc, t0 + 30, ip, "h.example", "<a@b>", "<c@d>", &w);
	ok(r == GREY_EARLY, "retry before passtime is early");
	get(st, key, &gd);
	ok(gd.bcount == 2 && gd.pass == t0 + 3600, "early retry bumps bcount only");
	r = grey_tuple(st, &gc, t0 + 60, ip, "h.example", "<a@b>", "<c@d>", &w);
	ok(r == GREY_EARLY, "retry exactly at passtime is still early");

	r = grey_tuple(st, &gc, t0 + 61, ip, "h.example", "<a@b>", "<c@d>", &w);
	ok(r == GREY_PASSED, "retry after passtime passes");
	ok(w.expire == t0 + 61 + 86400 && w.first == t0 && w.pcount == 0,
	    "WHITE record returned with whiteexp");
	ok(get(st, ip, &gd) == STORE_OK && gd.expire == t0 + 61 + 86400 &&
	    gd.bcount == 4, "ip is WHITE at once, counters copied");
	ok(get(st, key, &gd) == STORE_NOTFOUND,
	    "passed tuple deleted on promotion");
	ok(w.pass == t0 + 61, "WHITE pass is the time of the passing retry");
	r = grey_tuple(st, &gc, t0 + 100, ip, "x", "<y@z>", "<c@d>", &w);
	ok(r == GREY_WHITE, "other tuple of a WHITE ip reports WHITE");

	/* Other tuple that never retries: expires at greyexp. */
	r = grey_tuple(st, &gc, t0, "192.0.2.2", "h", "<a@b>", "<c@d>", NULL);
	ok(r == GREY_NEW, "second ip new");
	ok(grey_scan(st, &gc, t0 + 3599, &cb, &ss) == 0 && ss.deleted == 0,
	    "nothing expires before greyexp");
	ok(nlive == 1, "scan reports the live WHITE ip");
	ok(grey_scan(st, &gc, t0 + 3600, &cb, &ss) == 0 && ss.deleted == 1,
	    "GREY tuple deleted at greyexp (%lu)", ss.deleted);
	grey_key(key, sizeof(key), A("192.0.2.2"), "h", "<a@b>", "<c@d>");
	ok(get(st, key, &gd) == STORE_NOTFOUND, "expired tuple gone");
	ok(get(st, ip, &gd) == STORE_OK, "WHITE stays");
	ok(ngone == 0, "no whitelist removal yet");
	ok(grey_scan(st, &gc, t0 + 61 + 86400, &cb, &ss) == 0 &&
	    ss.deleted == 1 && ngone == 1, "WHITE deleted at whiteexp, reported");
	ok(get(st, ip, &gd) == STORE_NOTFOUND, "expired WHITE gone");

	/* A tuple retried after greyexp but before the scan starts over. */
	grey_tuple(st, &gc, t0, "192.0.2.3", "h", "<a@b>", "<c@d>", NULL);
	r = grey_tuple(st, &gc, t0 + 4000, "192.0.2.3", "h", "<a@b>",
	    "<c@d>", NULL);
	ok(r == GREY_NEW, "retry after greyexp counts as new");

	/* Scan promotes a passed tuple whose ip is not WHITE. */
	memset(&gd, 0, sizeof(gd));
	gd.first = t0; gd.pass = t0 + 100; gd.expire = t0 + 3600;
	gd.bcount = 2;
	grey_key(key, sizeof(key), A("192.0.2.7"), "h", "<a@b>", "<c@d>");
	st->ops->put(st->h, key, strlen(key), &gd);
	ok(grey_scan(st, &gc, t0 + 200, &cb, &ss) == 0 && ss.promoted == 1 &&
	    nnew == 1, "scan promotes a passed tuple");
	ok(get(st, "192.0.2.7", &gd) == STORE_OK && gd.expire == t0 + 200 + 86400,
	    "promoted ip WHITE for whiteexp");
	ok(gd.first == t0 && gd.pass == t0 + 100 && gd.bcount == 2 &&
	    gd.pcount == 0, "promoted ip keeps the tuple's first, pass, "
	    "bcount");
	ok(get(st, key, &gd) == STORE_NOTFOUND, "promoted tuple deleted");
	ok(grey_scan(st, &gc, t0 + 300, &cb, &ss) == 0 && ss.promoted == 0,
	    "promotion happens once");

	/* TRAPPED ips are never promoted. */
	memset(&gd, 0, sizeof(gd));
	gd.first = t0; gd.expire = t0 + 7200; gd.pcount = GD_TRAPPED;
	st->ops->put(st->h, "192.0.2.9", 9, &gd);
	grey_tuple(st, &gc, t0, "192.0.2.9", "h", "<a@b>", "<c@d>", NULL);
	r = grey_tuple(st, &gc, t0 + 100, "192.0.2.9", "h", "<a@b>", "<c@d>",
	    NULL);
	ok(r == GREY_TRAPPED, "trapped ip passing is not whitelisted");
	ok(get(st, "192.0.2.9", &gd) == STORE_OK && gd.pcount == GD_TRAPPED,
	    "trapped record unchanged");

	/* SPAMTRAP entries never expire. */
	memset(&gd, 0, sizeof(gd));
	gd.pcount = GD_SPAMTRAP;
	st->ops->put(st->h, "trap@example.org", 16, &gd);
	grey_scan(st, &gc, t0 + 999999, NULL, &ss);
	ok(get(st, "trap@example.org", &gd) == STORE_OK, "SPAMTRAP never expires");
	ok(get(st, "192.0.2.9", &gd) == STORE_NOTFOUND, "TRAPPED expires");

	/* Greytrapping. */
	ok(grey_trapkey(key, sizeof(key), "<Trap@Example.ORG>") == 16 &&
	    strcmp(key, "trap@example.org") == 0,
	    "trap key: brackets stripped, lower case");
	ok(grey_trapkey(key, sizeof(key), "<>") == -1, "empty address no key");
	store_close(st);

	test_decide();
	st = store_mem_open();
	ok(grey_key(key, 10, A(ip), "h", "f", "t") == -1,
	    "overlong key refused");
	ok(grey_key(key, sizeof(key), &(struct addr){ 0 }, "h", "f", "t") ==
	    -1, "a key of no address refused");
	store_close(st);

	test_txn();
	test_seen_admin();
	test_sync();
	test_white_drop();
	t_scan_batches();
	t_scan_grey_gone();
	return tap_done();
}
