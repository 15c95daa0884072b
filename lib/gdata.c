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
#include <strings.h>

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

/* Whether byte c stands for itself in a key's text. */
static int
vis_plain(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '|' && c != '\\';
}

/* Whether s[0..n) starts with a \ooo escape of one byte. */
static int
vis_esc(const char *s, size_t n)
{
	return n >= 4 && s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
	    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7';
}

/* The byte at s (n bytes left) as text means; *used: bytes read. */
static unsigned char
vis_get(const char *s, size_t n, size_t *used)
{
	if (vis_esc(s, n)) {
		*used = 4;
		return (unsigned char)(((s[1] - '0') << 6) |
		    ((s[2] - '0') << 3) | (s[3] - '0'));
	}
	*used = 1;
	return (unsigned char)s[0];
}

/* Byte c in the key form at dst + *o; 0, or -1 if it does not fit. */
static int
vis_put(char *dst, size_t len, size_t *o, unsigned char c)
{
	if (vis_plain(c)) {
		if (*o + 1 >= len)
			return -1;
		dst[(*o)++] = (char)c;
		return 0;
	}
	if (*o + 4 >= len)
		return -1;
	dst[(*o)++] = '\\';
	dst[(*o)++] = (char)('0' + (c >> 6));
	dst[(*o)++] = (char)('0' + ((c >> 3) & 7));
	dst[(*o)++] = (char)('0' + (c & 7));
	return 0;
}

size_t
gd_vis(char *dst, size_t len, const char *src, size_t n)
{
	size_t	 o = 0, i;

	if (len == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (vis_put(dst, len, &o, (unsigned char)src[i]) == -1)
			break;
	dst[o] = '\0';
	return o;
}

int
gd_unvis(char *dst, size_t len, const char *src)
{
	size_t		 n = strlen(src), i, o = 0, used;
	unsigned char	 c;

	for (i = 0; i < n; i += used) {
		c = vis_get(src + i, n - i, &used);
		if (c == '\0' || c == '\n' || o + 1 >= len)
			return -1;
		dst[o++] = (char)c;
	}
	if (len == 0)
		return -1;
	dst[o] = '\0';
	return (int)o;
}

int
gd_canon(char *dst, size_t len, const char *src, size_t n)
{
	size_t	 i, o = 0, used;

	if (len == 0)
		return -1;
	for (i = 0; i < n; i += used)
		if (vis_put(dst, len, &o, vis_get(src + i, n - i, &used)) ==
		    -1)
			return -1;
	dst[o] = '\0';
	return (int)o;
}

int
gd_suffix(const char *s, size_t slen, const char *suf, size_t suflen)
{
	size_t	 at, k;

	if (suflen > slen)
		return 0;
	at = slen - suflen;
	/* A '\\' only starts an escape: within three of it is inside. */
	for (k = 1; k <= 3 && k <= at; k++)
		if (s[at - k] == '\\')
			return 0;
	return strncasecmp(s + at, suf, suflen) == 0;
}

const char *
gd_textkey(char *key, size_t len, const struct addr *ip, const char *helo,
    const char *from, const char *to)
{
	char	 h[GD_FIELD_MAX], f[GD_FIELD_MAX], t[GD_FIELD_MAX];

	if (strchr(helo, '\n') != NULL || strchr(from, '\n') != NULL ||
	    strchr(to, '\n') != NULL)
		return "newline in the tuple";
	if (gd_canon(h, sizeof(h), helo, strlen(helo)) == -1 ||
	    gd_canon(f, sizeof(f), from, strlen(from)) == -1 ||
	    gd_canon(t, sizeof(t), to, strlen(to)) == -1 ||
	    grey_key(key, len, ip, h, f, t) == -1)
		return "tuple too long";
	return NULL;
}

/*
 * Split at the first two bars and the last one, so only from may hold
 * a raw bar: helo is a host name, to a recipient without one.
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
	return gd_textkey(key, len, &ip, helo, from, to);
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
	size_t		 i, n, o = 0, used;
	unsigned char	 c;
	int		 at = 0;

	n = trap_strip(&in, inlen);
	if (len > GD_FIELD_MAX)
		len = GD_FIELD_MAX;
	for (i = 0; i < n; i += used) {
		c = vis_get(in + i, n - i, &used);
		/* No recipient spamd records holds a blank. */
		if (isspace(c) || iscntrl(c))
			return "blank or control character in address";
		at |= c == '@';
		if (vis_put(key, len, &o, (unsigned char)tolower(c)) == -1)
			return "address too long";
	}
	if (!at)
		return "not an email address";
	key[o] = '\0';
	return NULL;
}
