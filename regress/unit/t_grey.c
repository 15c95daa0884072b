/*
 * Greylisting transitions with an injected clock on the memory store:
 * new tuple, early retry, pass, GREY expiry, WHITE expiry, counters,
 * trapped addresses, and the scan.
 */
#include <stdio.h>
#include <string.h>

#include "grey.h"
#include "spamd.h"
#include "tap.h"

struct spamd_conf conf;

static const struct grey_conf gc = { 60, 3600, 86400, 7200 };
static int ngone, nnew, nlive;

static int
get(struct store *st, const char *key, struct gdata *gd)
{
	return st->ops->get(st->h, key, strlen(key), gd);
}

static void
gone(const char *ip, void *arg)
{
	(void)arg;
	if (strcmp(ip, "192.0.2.1") == 0)
		ngone++;
}

static void
wnew(const char *ip, const struct gdata *gd, void *arg)
{
	(void)arg; (void)gd;
	if (strcmp(ip, "192.0.2.7") == 0)
		nnew++;
}

static void
live(const char *ip, const struct gdata *gd, void *arg)
{
	(void)ip; (void)gd; (void)arg;
	nlive++;
}

int
main(void)
{
	struct store		*st = store_mem_open();
	struct grey_scan_cb	 cb = { gone, wnew, live, NULL, NULL };
	struct grey_scan_stats	 ss;
	struct gdata		 gd, w;
	const char		*ip = "192.0.2.1";
	char			 key[GD_KEY_MAX];
	time_t			 t0 = 1000000;
	int			 r;

	grey_key(key, sizeof(key), ip, "h.example", "<a@b>", "<c@d>");
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
	grey_key(key, sizeof(key), "192.0.2.2", "h", "<a@b>", "<c@d>");
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
	grey_key(key, sizeof(key), "192.0.2.7", "h", "<a@b>", "<c@d>");
	st->ops->put(st->h, key, strlen(key), &gd);
	ok(grey_scan(st, &gc, t0 + 200, &cb, &ss) == 0 && ss.promoted == 1 &&
	    nnew == 1, "scan promotes a passed tuple");
	ok(get(st, "192.0.2.7", &gd) == STORE_OK && gd.expire == t0 + 200 + 86400,
	    "promoted ip WHITE for whiteexp");
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
	ok(grey_spamtrap(st, "<TRAP@example.org>") == 1,
	    "spamtrap found case-insensitively");
	ok(grey_spamtrap(st, "<user@example.org>") == 0, "other address no trap");
	{
		struct gdata	 tr;
		int		 was_white = 0;

		grey_tuple(st, &gc, t0, "192.0.2.20", "h", "<a@b>", "<c@d>",
		    NULL);
		grey_tuple(st, &gc, t0 + 100, "192.0.2.20", "h", "<a@b>",
		    "<c@d>", NULL);
		ok(get(st, "192.0.2.20", &gd) == STORE_OK && gd.pcount == 0,
		    "ip WHITE before the trap");
		r = grey_trap(st, &gc, t0 + 200, "192.0.2.20", &tr, &was_white);
		ok(r == GREY_TRAPPED && was_white == 1,
		    "trapping a WHITE ip says it was WHITE");
		ok(get(st, "192.0.2.20", &gd) == STORE_OK &&
		    gd.pcount == GD_TRAPPED && gd.expire == t0 + 200 + 7200 &&
		    gd.bcount == 1, "TRAPPED for trapexp");
		r = grey_trap(st, &gc, t0 + 300, "192.0.2.20", &tr, &was_white);
		ok(r == GREY_TRAPPED && was_white == 0 &&
		    tr.expire == t0 + 200 + 7200 && tr.bcount == 2,
		    "a second hit counts but keeps the expiry");
		grey_tuple(st, &gc, t0 + 300, "192.0.2.20", "h2", "<a@b>",
		    "<c@d>", NULL);
		r = grey_tuple(st, &gc, t0 + 400, "192.0.2.20", "h2", "<a@b>",
		    "<c@d>", NULL);
		ok(r == GREY_TRAPPED, "clean tuple of a trapped ip never passes");
		ok(get(st, "192.0.2.20", &gd) == STORE_OK &&
		    gd.pcount == GD_TRAPPED, "still TRAPPED");
		ok(grey_known(st, t0 + 400, "192.0.2.20", "h2", "<a@b>",
		    "<c@d>") == 1, "known tuple");
		ok(grey_known(st, t0 + 400, "192.0.2.20", "h3", "<a@b>",
		    "<c@d>") == 0, "unknown tuple");
	}

	ok(grey_key(key, 10, ip, "h", "f", "t") == -1, "overlong key refused");
	st->ops->close(st->h);
	return tap_done();
}
