/*
 * The greylist record codec: a version byte, then first, pass and
 * expire as big-endian 64-bit integers and bcount and pcount as
 * big-endian 32-bit integers.  A record of any other size or version
 * is refused, so a foreign or damaged file is never misread.
 */
#include <endian.h>
#include <string.h>

#include "gdata.h"

static void
put64(uint8_t *p, int64_t v)
{
	uint64_t	u = htobe64((uint64_t)v);

	memcpy(p, &u, sizeof(u));
}

static void
put32(uint8_t *p, int32_t v)
{
	uint32_t	u = htobe32((uint32_t)v);

	memcpy(p, &u, sizeof(u));
}

static int64_t
get64(const uint8_t *p)
{
	uint64_t	u;

	memcpy(&u, p, sizeof(u));
	return (int64_t)be64toh(u);
}

static int32_t
get32(const uint8_t *p)
{
	uint32_t	u;

	memcpy(&u, p, sizeof(u));
	return (int32_t)be32toh(u);
}

void
gd_encode(const struct gdata *gd, uint8_t buf[GD_RECSIZE])
{
	buf[0] = GD_VERSION;
	put64(buf + 1, gd->first);
	put64(buf + 9, gd->pass);
	put64(buf + 17, gd->expire);
	put32(buf + 25, gd->bcount);
	put32(buf + 29, gd->pcount);
}

int
gd_decode(const void *data, size_t len, struct gdata *gd)
{
	const uint8_t	*buf = data;

	if (len != GD_RECSIZE || buf[0] != GD_VERSION)
		return -1;
	gd->first = get64(buf + 1);
	gd->pass = get64(buf + 9);
	gd->expire = get64(buf + 17);
	gd->bcount = get32(buf + 25);
	gd->pcount = get32(buf + 29);
	if (gd->pcount < GD_SPAMTRAP)
		return -1;
	return 0;
}

enum gd_type
gd_type(const char *key, size_t keylen, const struct gdata *gd)
{
	if (keylen == 0 || key[0] == '\0')
		return GD_META;
	if (memchr(key, '\n', keylen) != NULL)
		return GD_GREY;
	if (gd->pcount == GD_TRAPPED)
		return GD_TRAPPED_T;
	if (gd->pcount == GD_SPAMTRAP)
		return GD_SPAMTRAP_T;
	return GD_WHITE;
}
