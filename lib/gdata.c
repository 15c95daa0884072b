/*
 * The greylist record codec: a version byte, then first, pass and
 * expire as big-endian 64-bit integers and bcount and pcount as
 * big-endian 32-bit integers.  A record of any other size or version
 * is refused, so a foreign or damaged file is never misread.  Then the
 * keys: built and parsed here only.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
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

/* The one place a tuple's address becomes text. */
int
grey_key(char *buf, size_t len, const struct addr *ip, const char *helo,
    const char *from, const char *to)
{
	char	 ipbuf[INET6_ADDRSTRLEN];
	int	 n;

	if (ip->af != AF_INET && ip->af != AF_INET6)
		return -1;
	n = snprintf(buf, len, "%s\n%s\n%s\n%s",
	    addr_str(ip, ipbuf, sizeof(ipbuf)), helo, from, to);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/*
 * Split at the first two bars and the last one, so only from may hold
 * a bar: helo is a host name, to a recipient without one.
 */
const char *
gd_tuplekey(char *key, size_t len, const char *arg)
{
	struct addr	 ip;
	char		 buf[GD_KEY_MAX];
	char		*helo, *from, *to;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		return "tuple too long";
	if ((helo = strchr(buf, '|')) == NULL ||
	    (from = strchr(helo + 1, '|')) == NULL ||
	    (to = strrchr(from + 1, '|')) == NULL)
		return "not a tuple ip|helo|from|to";
	*helo++ = *from++ = *to++ = '\0';
	if (addr_parse(&ip, buf) == -1)
		return "not an IP address in the tuple";
	if (strchr(helo, '\n') != NULL || strchr(from, '\n') != NULL ||
	    strchr(to, '\n') != NULL)
		return "newline in the tuple";
	if (grey_key(key, len, &ip, helo, from, to) == -1)
		return "tuple too long";
	return NULL;
}

/* Where the address of inlen bytes at *in starts, and its length. */
static size_t
trap_strip(const char **in, size_t inlen)
{
	if (inlen > 0 && **in == '<') {
		(*in)++;
		inlen--;
	}
	if (inlen > 0 && (*in)[inlen - 1] == '>')
		inlen--;
	return inlen;
}

int
grey_trapkey(char *buf, size_t len, const char *to)
{
	size_t	 n, i;

	n = trap_strip(&to, strlen(to));
	if (n == 0 || n >= len)
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)to[i]);
	buf[n] = '\0';
	return (int)n;
}

const char *
gd_trapkey(char *key, size_t len, const char *in, size_t inlen)
{
	size_t	 i, n;

	n = trap_strip(&in, inlen);
	if (n == 0 || memchr(in, '@', n) == NULL)
		return "not an email address";
	if (n >= len || n >= GD_FIELD_MAX)
		return "address too long";
	/* spamd's recipients never hold a blank: such a trap never hits. */
	for (i = 0; i < n; i++) {
		if (isspace((unsigned char)in[i]) ||
		    iscntrl((unsigned char)in[i]))
			return "blank or control character in address";
		key[i] = (char)tolower((unsigned char)in[i]);
	}
	key[n] = '\0';
	return NULL;
}
