/*
 * The record codec: round trip, byte order, sizes and versions refused.
 * The address order and hash, and the key builders and parsers.
 */
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "gdata.h"
#include "tap.h"


static void	test_addr(void);
static void	test_keys(void);
static void	test_text(void);

/*
 * The key form of tuple text: one spelling of a UTF-8 or a '|' field
 * whichever way it came (SMTP, a peer, an admin), raw on the wire.
 */
static void
test_text(void)
{
	char		 buf[GD_FIELD_MAX], k1[GD_KEY_MAX], k2[GD_KEY_MAX];
	const char	*utf = "<j\xc3\xa9@ex\xc3\xa4mple.com>";
	const char	*esc = "<j\\303\\251@ex\\303\\244mple.com>";
	struct addr	 a;

	ok(gd_vis(buf, sizeof(buf), "<plain.Ascii@b-c_d>", 19) == 19 &&
	    strcmp(buf, "<plain.Ascii@b-c_d>") == 0,
	    "gd_vis: printable ASCII stays byte for byte");
	gd_vis(buf, sizeof(buf), utf, strlen(utf));
	ok(strcmp(buf, esc) == 0, "gd_vis: UTF-8 as \\ooo (%s)", buf);
	gd_vis(buf, sizeof(buf), "a|b\\c d\n\x7f", 9);
	ok(strcmp(buf, "a\\174b\\134c\\040d\\012\\177") == 0,
	    "gd_vis: bar, backslash, blank, newline, DEL escaped (%s)", buf);
	gd_vis(buf, 6, "ab\033cd", 5);
	ok(strcmp(buf, "ab") == 0, "gd_vis: an escape is not cut by the end");
	gd_vis(buf, 8, "ab\033cd", 5);
	ok(strcmp(buf, "ab\\033c") == 0, "gd_vis: room for the escape: kept");

	ok(gd_unvis(buf, sizeof(buf), esc) == (int)strlen(utf) &&
	    strcmp(buf, utf) == 0, "gd_unvis: the raw UTF-8 again");
	ok(gd_unvis(buf, sizeof(buf), "<a\\174b\\134@c>") == 8 &&
	    strcmp(buf, "<a|b\\@c>") == 0, "gd_unvis: raw bar and backslash");
	ok(gd_unvis(buf, sizeof(buf), "a\\9b\\") == 5 &&
	    strcmp(buf, "a\\9b\\") == 0,
	    "gd_unvis: a backslash that starts no escape is itself");
	ok(gd_unvis(buf, sizeof(buf), "a\\000b") == -1,
	    "gd_unvis: a NUL cannot travel");
	ok(gd_unvis(buf, sizeof(buf), "a\\012b") == -1,
	    "gd_unvis: a newline cannot travel");
	ok(gd_unvis(buf, 3, "a\\303\\251") == -1 &&
	    gd_unvis(buf, 4, "a\\303\\251") == 3,
	    "gd_unvis: what does not fit is refused");

	ok(gd_canon(k1, sizeof(k1), utf, strlen(utf)) > 0 &&
	    gd_canon(k2, sizeof(k2), esc, strlen(esc)) > 0 &&
	    strcmp(k1, esc) == 0 && strcmp(k2, esc) == 0,
	    "gd_canon: raw and escaped UTF-8 are one text");
	gd_canon(k1, sizeof(k1), "a|b\\x", 5);
	ok(strcmp(k1, "a\\174b\\134x") == 0,
	    "gd_canon: raw bar and lone backslash escaped (%s)", k1);
	ok(gd_canon(k1, 8, utf, strlen(utf)) == -1,
	    "gd_canon: too long refused, not cut");

	ok(gd_suffix(esc, strlen(esc), "\\303\\244MPLE.com>", 17),
	    "gd_suffix: a UTF-8 suffix, ASCII case ignored");
	ok(!gd_suffix(esc, strlen(esc), "44mple.com>", 11) &&
	    !gd_suffix(esc, strlen(esc), "4mple.com>", 10) &&
	    gd_suffix(esc, strlen(esc), "mple.com>", 9),
	    "gd_suffix: never from inside an escape");

	addr_parse(&a, "192.0.2.1");
	ok(gd_textkey(k1, sizeof(k1), &a, "h\xc3\xa9", utf, "<a|b@c>") ==
	    NULL && gd_tuplekey(k2, sizeof(k2),
	    "192.0.2.1|h\\303\\251|<j\\303\\251@ex\\303\\244mple.com>|"
	    "<a\\174b@c>") == NULL && strcmp(k1, k2) == 0 &&
	    strcmp(k1, "192.0.2.1\nh\\303\\251\n<j\\303\\251@ex\\303\\244"
	    "mple.com>\n<a\\174b@c>") == 0,
	    "gd_textkey, gd_tuplekey: raw and listed tuples, one key");

	ok(gd_trapkey(k1, sizeof(k1), "<Tr\xc3\xa9p@Example.ORG>", 19) ==
	    NULL && strcmp(k1, "tr\\303\\251p@example.org") == 0,
	    "gd_trapkey: a UTF-8 trap in the form RCPT is in (%s)", k1);
	ok(gd_trapkey(k2, sizeof(k2), "tr\\303\\251p@example.org", 23) ==
	    NULL && strcmp(k1, k2) == 0,
	    "gd_trapkey: ... and as spamdb lists it");
	ok(gd_trapkey(k1, sizeof(k1), "a\\040b@example.org", 18) != NULL &&
	    gd_trapkey(k1, sizeof(k1), "a\\001b@example.org", 18) != NULL,
	    "gd_trapkey: an escaped blank or control byte refused");
}

/* The key builders and parsers, with what they refuse. */
static void
test_keys(void)
{
	char		 key[GD_KEY_MAX], big[GD_FIELD_MAX + 8];
	const char	*why;
	struct addr	 a, a6;

	addr_parse(&a, "192.0.2.1");
	addr_parse(&a6, "2001:DB8::1");
	ok(grey_key(key, sizeof(key), &a, "h", "<a@b>", "<c@d>") ==
	    23 && strcmp(key, "192.0.2.1\nh\n<a@b>\n<c@d>") == 0,
	    "grey_key: ip\\nhelo\\nfrom\\nto");
	ok(grey_key(key, 23, &a, "h", "<a@b>", "<c@d>") == -1,
	    "grey_key: no room for the NUL, refused");
	ok(grey_key(key, sizeof(key), &a6, "h", "<a@b>", "<c@d>") > 0 &&
	    strcmp(key, "2001:db8::1\nh\n<a@b>\n<c@d>") == 0,
	    "grey_key: an IPv6 address in canonical text");
	a6.af = AF_UNIX;
	ok(grey_key(key, sizeof(key), &a6, "h", "<a@b>", "<c@d>") == -1,
	    "grey_key: an address of no known family refused");

	why = gd_tuplekey(key, sizeof(key), "::ffff:192.0.2.1|h|<a|b>|<c@d>");
	ok(why == NULL && strcmp(key, "192.0.2.1\nh\n<a\\174b>\n<c@d>") ==
	    0, "gd_tuplekey: canonical ip, a raw bar in from escaped (%s)",
	    why ? why : "ok");
	why = gd_tuplekey(key, sizeof(key), "192.0.2.1|h|<a@b>");
	ok(why != NULL && strcmp(why, "not a tuple ip|helo|from|to") == 0,
	    "gd_tuplekey: three fields refused");
	why = gd_tuplekey(key, sizeof(key), "192.0.2.256|h|f|t");
	ok(why != NULL && strcmp(why, "not an IP address in the tuple") == 0,
	    "gd_tuplekey: bad ip refused");
	why = gd_tuplekey(key, sizeof(key), "192.0.2.1|h\nx|f|t");
	ok(why != NULL && strcmp(why, "newline in the tuple") == 0,
	    "gd_tuplekey: newline refused");

	ok(grey_trapkey(key, sizeof(key), "<Postmaster>") == 10 &&
	    strcmp(key, "postmaster") == 0,
	    "grey_trapkey: any recipient has a form, for -A");
	ok(grey_trapkey(key, 10, "<Postmaster>") == -1,
	    "grey_trapkey: too long for the buffer");

	why = gd_trapkey(key, sizeof(key), "<Trap@Example.ORG>", 18);
	ok(why == NULL && strcmp(key, "trap@example.org") == 0,
	    "gd_trapkey: brackets dropped, lower case");
	why = gd_trapkey(key, sizeof(key), "Trap@Example.ORG", 16);
	ok(why == NULL && strcmp(key, "trap@example.org") == 0,
	    "gd_trapkey: without brackets too");
	why = gd_trapkey(key, sizeof(key), "<postmaster>", 12);
	ok(why != NULL && strcmp(why, "not an email address") == 0,
	    "gd_trapkey: no @ refused");
	why = gd_trapkey(key, sizeof(key), "<>", 2);
	ok(why != NULL && strcmp(why, "not an email address") == 0,
	    "gd_trapkey: empty refused");
	why = gd_trapkey(key, sizeof(key), "a b@example.org", 15);
	ok(why != NULL &&
	    strcmp(why, "blank or control character in address") == 0,
	    "gd_trapkey: blank refused");
	why = gd_trapkey(key, sizeof(key), "a\0b@example.org", 16);
	ok(why != NULL &&
	    strcmp(why, "blank or control character in address") == 0,
	    "gd_trapkey: NUL refused");
	why = gd_trapkey(key, sizeof(key), "a\001b@example.org", 16);
	ok(why != NULL &&
	    strcmp(why, "blank or control character in address") == 0,
	    "gd_trapkey: control character refused");
	memset(big, 'a', sizeof(big));
	big[1] = '@';
	why = gd_trapkey(key, sizeof(key), big, GD_FIELD_MAX);
	ok(why != NULL && strcmp(why, "address too long") == 0,
	    "gd_trapkey: %d bytes refused", GD_FIELD_MAX);
	why = gd_trapkey(key, sizeof(key), big, GD_FIELD_MAX - 1);
	ok(why == NULL && strlen(key) == GD_FIELD_MAX - 1,
	    "gd_trapkey: %d bytes taken", GD_FIELD_MAX - 1);
	why = gd_trapkey(key, 8, "abc@example.org", 15);
	ok(why != NULL && strcmp(why, "address too long") == 0,
	    "gd_trapkey: too long for the buffer refused");
}

/* Order by family then bytes; FNV-1a against published values. */
static void
test_addr(void)
{
	struct addr	a, b, c;

	addr_parse(&a, "192.0.2.1");
	addr_parse(&b, "192.0.2.2");
	addr_parse(&c, "2001:db8::1");
	ok(addr_cmp(&a, &a) == 0, "addr_cmp: equal addresses");
	ok(addr_cmp(&a, &b) < 0 && addr_cmp(&b, &a) > 0,
	    "addr_cmp: 192.0.2.1 before 192.0.2.2");
	ok(addr_cmp(&a, &c) < 0 && addr_cmp(&c, &a) > 0,
	    "addr_cmp: IPv4 before IPv6, whatever the bytes");
	b = a;
	b.a[4] = 0xff;	/* beyond an IPv4 address: not compared */
	ok(addr_cmp(&a, &b) == 0, "addr_cmp: only addr_len bytes count");
	ok(fnv1a("a", 1, FNV1A_BASIS) == 0xe40c292cu, "fnv1a(\"a\")");
	ok(fnv1a("", 0, FNV1A_BASIS) == FNV1A_BASIS, "fnv1a of nothing");
	ok(addr_hash(&a, 0) == 0x756b9b94u, "addr_hash 192.0.2.1 seed 0");
	ok(addr_hash(&a, 0x12345678u) == 0x244a398cu,
	    "addr_hash 192.0.2.1 seeded");
	ok(addr_hash(&c, 0) == 0x6e5b04f4u, "addr_hash 2001:db8::1 seed 0");
	ok(addr_hash(&b, 0) == addr_hash(&a, 0),
	    "addr_hash: only addr_len bytes count");

	/* addr_norm: what the greylister checks a record's address with. */
	memset(&b, 0, sizeof(b));
	b.af = AF_INET6;
	b.a[10] = b.a[11] = 0xff;
	memcpy(b.a + 12, a.a, 4);	/* ::ffff:192.0.2.1 */
	ok(addr_norm(&b) == 0 && b.af == AF_INET && addr_cmp(&a, &b) == 0 &&
	    memcmp(b.a, a.a, sizeof(b.a)) == 0,
	    "addr_norm: ::ffff:192.0.2.1 is 192.0.2.1, its tail zero");
	b = a;
	b.a[9] = 7;
	ok(addr_norm(&b) == 0 && memcmp(b.a, a.a, sizeof(b.a)) == 0,
	    "addr_norm: bytes beyond an IPv4 address are zeroed");
	b = c;
	ok(addr_norm(&b) == 0 && memcmp(&b, &c, sizeof(b)) == 0,
	    "addr_norm: an IPv6 address stays as it is");
	b.af = 0;
	ok(addr_norm(&b) == -1, "addr_norm: family 0 refused");
	b.af = AF_UNIX;
	ok(addr_norm(&b) == -1, "addr_norm: another family refused");
}

int
main(void)
{
	struct gdata	 in, out;
	uint8_t		 buf[GD_RECSIZE + 8];

	memset(&in, 0, sizeof(in));
	in.first = 1700000000LL;
	in.pass = -5;
	in.expire = INT64_MAX;
	in.bcount = 7;
	in.pcount = GD_SPAMTRAP;
	memset(buf, 0xaa, sizeof(buf));
	gd_encode(&in, buf);
	ok(buf[0] == GD_VERSION, "version byte first");
	ok(buf[1] == 0 && buf[8] == (uint8_t)(1700000000LL & 0xff),
	    "first is big-endian");
	ok(buf[GD_RECSIZE] == 0xaa, "encode writes exactly %d bytes",
	    GD_RECSIZE);
	memset(&out, 0, sizeof(out));
	ok(gd_decode(buf, GD_RECSIZE, &out) == 0, "decode succeeds");
	ok(memcmp(&in, &out, sizeof(in)) == 0, "round trip keeps every field");
	ok(gd_decode(buf, GD_RECSIZE - 1, &out) == -1, "short record refused");
	ok(gd_decode(buf, GD_RECSIZE + 1, &out) == -1,
	    "oversized record refused");
	ok(gd_decode(buf, 0, &out) == -1, "empty record refused");
	ok(gd_decode(buf, 32, &out) == -1,
	    "OpenBSD's 32-byte struct dump refused");
	buf[0] = GD_VERSION + 1;
	ok(gd_decode(buf, GD_RECSIZE, &out) == -1, "unknown version refused");
	buf[0] = GD_VERSION;
	in.pcount = -3;
	gd_encode(&in, buf);
	ok(gd_decode(buf, GD_RECSIZE, &out) == -1, "pcount below -2 refused");

	in.pcount = 3;
	ok(gd_type("192.0.2.1", 9, &in) == GD_WHITE, "ip key is WHITE");
	ok(gd_type("192.0.2.1\nh\nf\nt", 15, &in) == GD_GREY,
	    "tuple key is GREY");
	in.pcount = GD_TRAPPED;
	ok(gd_type("192.0.2.1", 9, &in) == GD_TRAPPED_T, "pcount -1 TRAPPED");
	in.pcount = GD_SPAMTRAP;
	ok(gd_type("a@b.c", 5, &in) == GD_SPAMTRAP_T, "pcount -2 SPAMTRAP");
	ok(gd_type("\0spamd", 6, &in) == GD_META, "NUL key is metadata");

	test_addr();
	test_keys();
	test_text();
	return tap_done();
}
