/*
 * SPF-aware passing (lib/grey.c, grey.h) with an injected clock on the
 * memory store: a tuple with SPF pass keeps a domain-keyed record, and
 * a retry with SPF pass from another address of the domain passes once
 * that record is older than passtime; a retry without SPF pass, or too
 * early, does not.  The domain record is never promoted and expires as
 * a tuple does.  And the MAIL FROM domain as the key takes it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "grey.h"
#include "spf.h"
#include "store_mem.h"
#include "tap.h"

static const struct grey_conf gc = { 60, 3600, 86400, 7200 };
static const struct grey_policy pol = { .domain_ok = 1, .may_create = 1 };

#define FROM	"<bounce-1@Pool.Example.ORG>"
#define TO	"<user@example.net>"
#define DKEY	"spf:pool.example.org\n\n" FROM "\n" TO

static enum grey_result
see(struct store *st, time_t now, const char *ip, const char *helo,
    const char *from, int spf, struct grey_verdict *v)
{
	struct grey_tuple	 t;
	struct grey_verdict	 scratch;

	memset(&t, 0, sizeof(t));
	addr_parse(&t.ip, ip);
	strlcpy(t.helo, helo, sizeof(t.helo));
	strlcpy(t.from, from, sizeof(t.from));
	strlcpy(t.to, TO, sizeof(t.to));
	t.spf = (uint8_t)spf;
	return grey_decide(st, &gc, &pol, now, &t, v != NULL ? v : &scratch);
}

static int
get(struct store *st, const char *key, struct gdata *gd)
{
	return st->ops->get(st->h, key, strlen(key), gd);
}

static int
is_white(struct store *st, const char *ip)
{
	struct gdata	 gd;

	return get(st, ip, &gd) == STORE_OK && gd.pcount >= 0;
}

static void
t_domain(void)
{
	char	 d[SPF_NAMEMAX];

	ok(spf_from_domain("<User@Example.ORG>", d) == 0 &&
	    strcmp(d, "example.org") == 0, "from domain: lower case, no <>");
	ok(spf_from_domain("a@example.org.", d) == 0 &&
	    strcmp(d, "example.org") == 0, "from domain: trailing dot");
	ok(spf_from_domain("<>", d) == -1, "null sender: no domain");
	ok(spf_from_domain("<a@b..c>", d) == -1, "bad name: no domain");
	ok(spf_from_domain("<a@>", d) == -1, "empty domain: none");
}

static void
t_pass(void)
{
	struct store		*st = store_mem_open();
	struct grey_verdict	 v;
	struct grey_tuple	 t;
	struct gdata		 gd;
	struct grey_scan_stats	 ss;
	char			 key[GD_KEY_MAX];
	time_t			 now = 1000000;

	memset(&t, 0, sizeof(t));
	strlcpy(t.from, FROM, sizeof(t.from));
	strlcpy(t.to, TO, sizeof(t.to));
	ok(grey_spf_key(key, sizeof(key), &t) == (int)strlen(DKEY) &&
	    strcmp(key, DKEY) == 0, "domain key: spf:DOMAIN, no helo, from, to");

	ok(see(st, now, "192.0.2.1", "a.pool", FROM, SPF_R_PASS, NULL) ==
	    GREY_NEW, "first address, SPF pass: new");
	ok(get(st, DKEY, &gd) == STORE_OK && gd.first == now &&
	    gd.expire == now + gc.greyexp, "... and the domain record made");

	ok(see(st, now + 30, "192.0.2.2", "b.pool", FROM, SPF_R_PASS, &v) ==
	    GREY_NEW && !is_white(st, "192.0.2.2"),
	    "second address before passtime: greylisted");
	ok(see(st, now + 61, "198.51.100.7", "c.pool", FROM, SPF_R_FAIL,
	    &v) == GREY_NEW && !is_white(st, "198.51.100.7"),
	    "third address after passtime, SPF fail: greylisted");
	ok(see(st, now + 62, "198.51.100.8", "d.pool", FROM, SPF_R_NONE,
	    &v) == GREY_NEW, "SPF not asked: greylisted");
	ok(see(st, now + 63, "192.0.2.9", "e.pool", "<>", SPF_R_PASS, &v) ==
	    GREY_NEW, "null sender: no domain, greylisted");

	ok(see(st, now + 64, "192.0.2.2", "b.pool", FROM, SPF_R_PASS, &v) ==
	    GREY_PASSED && strcmp(v.spfdom, "pool.example.org") == 0,
	    "second address after passtime, SPF pass: passed by its domain");
	ok(is_white(st, "192.0.2.2") && v.rec.expire == now + 64 +
	    gc.whiteexp, "... it is WHITE for whiteexp");
	ok(!is_white(st, "192.0.2.1"), "the first address is not whitelisted");
	ok(see(st, now + 65, "192.0.2.3", "f.pool", FROM, SPF_R_PASS, &v) ==
	    GREY_PASSED, "a new address of the pool with SPF pass: passed");
	ok(see(st, now + 66, "192.0.2.1", "a.pool", FROM, SPF_R_PASS, &v) ==
	    GREY_PASSED && v.spfdom[0] == '\0',
	    "the first address's own retry passes as usual");

	/* The scan promotes no domain record and expires it at greyexp. */
	memset(&ss, 0, sizeof(ss));
	ok(grey_scan(st, &gc, now + 100, NULL, &ss) == 0 &&
	    get(st, "spf:pool.example.org", &gd) == STORE_NOTFOUND &&
	    get(st, DKEY, &gd) == STORE_OK, "scan: domain record kept, "
	    "not promoted");
	ok(grey_scan(st, &gc, now + gc.greyexp + 1, NULL, &ss) == 0 &&
	    get(st, DKEY, &gd) == STORE_NOTFOUND, "scan: it expires at "
	    "greyexp");
	ok(see(st, now + gc.greyexp + 2, "192.0.2.4", "g.pool", FROM,
	    SPF_R_PASS, &v) == GREY_NEW && !is_white(st, "192.0.2.4"),
	    "after it expired: greylisted afresh");
	store_close(st);
}

int
main(void)
{
	t_domain();
	t_pass();
	return tap_done();
}
