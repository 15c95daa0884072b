/* The record codec: round trip, byte order, sizes and versions refused. */
#include <stdint.h>
#include <string.h>

#include "gdata.h"
#include "spamd.h"
#include "tap.h"

struct spamd_conf conf;

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
	return tap_done();
}
