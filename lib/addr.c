/*
 * Address helpers.  The database and the nft sets speak of an IPv4 client
 * of a dual-stack socket as a.b.c.d, never as ::ffff:a.b.c.d, so every
 * path that turns a socket address into text goes through here.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
addr_from_sa(struct addr *ad, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(ad, 0, sizeof(*ad));
	if (sa->sa_family == AF_INET && len >= sizeof(*sin)) {
		sin = (const struct sockaddr_in *)sa;
		ad->af = AF_INET;
		memcpy(ad->a, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)sa;
		if (memcmp(sin6->sin6_addr.s6_addr, v4mapped, 12) == 0) {
			ad->af = AF_INET;
			memcpy(ad->a, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			ad->af = AF_INET6;
			memcpy(ad->a, sin6->sin6_addr.s6_addr, 16);
		}
		return 0;
	}
	return -1;
}

int
addr_parse(struct addr *ad, const char *s)
{
	memset(ad, 0, sizeof(*ad));
	if (inet_pton(AF_INET, s, ad->a) == 1) {
		ad->af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ad->a) == 1) {
		ad->af = AF_INET6;
		return addr_norm(ad);
	}
	return -1;
}

int
addr_norm(struct addr *ad)
{
	if (ad->af == AF_INET) {
		memset(ad->a + 4, 0, 12);
		return 0;
	}
	if (ad->af != AF_INET6)
		return -1;
	if (memcmp(ad->a, v4mapped, 12) == 0) {
		ad->af = AF_INET;
		memmove(ad->a, ad->a + 12, 4);
		memset(ad->a + 4, 0, 12);
	}
	return 0;
}

const char *
addr_str(const struct addr *ad, char *buf, size_t len)
{
	if (inet_ntop(ad->af, ad->a, buf, len) == NULL) {
		if (len > 0)
			buf[0] = '\0';
	}
	return buf;
}

int
addr_canon(const char *in, char *out, size_t len)
{
	struct addr	ad;

	if (addr_parse(&ad, in) == -1)
		return -1;
	if (inet_ntop(ad.af, ad.a, out, len) == NULL)
		return -1;
	return 0;
}

int
addr_len(const struct addr *ad)
{
	return ad->af == AF_INET ? 4 : 16;
}

int
addr_cmp(const struct addr *a, const struct addr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->a, b->a, (size_t)addr_len(a));
}

uint32_t
fnv1a(const void *p, size_t len, uint32_t h)
{
	const uint8_t	*b = p;

	while (len-- > 0) {
		h ^= *b++;
		h *= 16777619u;
	}
	return h;
}

uint32_t
addr_hash(const struct addr *a, uint32_t seed)
{
	return fnv1a(a->a, (size_t)addr_len(a), FNV1A_BASIS ^ seed);
}
