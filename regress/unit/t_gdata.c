/*
 * The record codec: round trip, byte order, sizes and versions refused.
 * The address order and hash, and the key builders and parsers.
 */
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "gdata.h"
#include "spamd.h"
#include "tap.h"

struct spamd_conf conf;

static void	test_addr(void);

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
	return tap_done();
}
