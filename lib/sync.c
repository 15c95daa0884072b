/*
 * The sync datagram codec and its HMAC, over OpenSSL's libcrypto.
 * Nothing here does I/O but reading the key file.
 * Used by: spamd, spamlogd.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/endian.h>		/* libbsd: be16enc, be32dec, ... */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sync.h"

#define OFF_VERSION	0
#define OFF_AF		1
#define OFF_LENGTH	2
#define OFF_COUNTER	4
#define OFF_HMAC	8
#define TLV_HDR		4
#define GREY_FIXED(al)	(TLV_HDR + 4 + (al) + 6)	/* 18 or 30 */
#define TW_LEN(al)	(TLV_HDR + 8 + (al))		/* 16 or 28 */

static const char *const errs[SYNC_NERR] = {
	[SYNC_OK] = "ok",
	[SYNC_ESHORT] = "short datagram",
	[SYNC_ELONG] = "datagram too long",
	[SYNC_EVERSION] = "wrong version",
	[SYNC_EAF] = "unknown address family",
	[SYNC_EMAC] = "bad HMAC",
	[SYNC_ETLV] = "malformed entry"
};

const char *
sync_strerror(enum sync_err e)
{
	return e < SYNC_NERR ? errs[e] : "unknown error";
}

void
sync_key_empty(struct sync_key *k)
{
	memset(k, 0, sizeof(*k));
}

int
sync_key_load(const char *path, struct sync_key *k, char *err,
    size_t errlen)
{
	static const char	 hexd[] = "0123456789abcdef";
	EVP_MD_CTX		*ctx = NULL;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	char			 buf[8192];
	unsigned int		 mdlen, i;
	ssize_t			 n;
	int			 fd, ret = -1;

	sync_key_empty(k);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
		snprintf(err, errlen, "%s: SHA-1 unavailable", path);
		goto done;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			snprintf(err, errlen, "%s: SHA-1 failed", path);
			goto done;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen * 2 != SYNC_KEYLEN) {
		snprintf(err, errlen, "%s: SHA-1 failed", path);
		goto done;
	}
	for (i = 0; i < mdlen; i++) {
		k->hex[2 * i] = hexd[md[i] >> 4];
		k->hex[2 * i + 1] = hexd[md[i] & 0xf];
	}
	k->hex[SYNC_KEYLEN] = '\0';
	k->len = SYNC_KEYLEN;
	ret = 0;
 done:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return ret;
}

/* HMAC-SHA1 of the datagram, whose hmac field must be zero. */
static int
mac(const struct sync_key *k, const uint8_t *buf, size_t len,
    uint8_t out[SYNC_MACLEN])
{
	unsigned int	 n = SYNC_MACLEN;

	if (HMAC(EVP_sha1(), k->hex, (int)k->len, buf, len, out, &n) ==
	    NULL || n != SYNC_MACLEN)
		return -1;
	return 0;
}

static int
sync_af(int af, size_t *alen)
{
	if (af == AF_INET) {
		*alen = 4;
		return SYNC_AF_INET;
	}
	if (af == AF_INET6) {
		*alen = 16;
		return SYNC_AF_INET6;
	}
	return -1;
}

ssize_t
sync_encode(uint8_t *buf, size_t len, const struct sync_key *k,
    uint32_t counter, const struct sync_entry *e)
{
	size_t	 alen, tlen, fl = 0, tl = 0, hl = 0, total;
	uint8_t	*p;
	int	 saf;

	if ((saf = sync_af(e->ip.af, &alen)) == -1) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	switch (e->type) {
	case SYNC_GREY:
		if (e->from == NULL || e->to == NULL || e->helo == NULL) {
			errno = EINVAL;
			return -1;
		}
		fl = strlen(e->from) + 1;
		tl = strlen(e->to) + 1;
		hl = strlen(e->helo) + 1;
		if (fl + tl + hl > SYNC_MAXLEN) {
			errno = EMSGSIZE;
			return -1;
		}
		tlen = (GREY_FIXED(alen) + fl + tl + hl + 15) & ~(size_t)15;
		break;
	case SYNC_WHITE:
	case SYNC_TRAPPED:
		tlen = TW_LEN(alen);
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	total = SYNC_HDRLEN + tlen + TLV_HDR;
	if (total > SYNC_MAXLEN || total > len) {
		errno = EMSGSIZE;
		return -1;
	}
	memset(buf, 0, total);
	buf[OFF_VERSION] = SYNC_VERSION;
	buf[OFF_AF] = saf;
	be16enc(buf + OFF_LENGTH, total);
	be32enc(buf + OFF_COUNTER, counter);
	p = buf + SYNC_HDRLEN;
	be16enc(p, e->type);
	be16enc(p + 2, tlen);
	be32enc(p + 4, e->timestamp);
	if (e->type == SYNC_GREY) {
		memcpy(p + 8, e->ip.a, alen);
		p += 8 + alen;
		be16enc(p, fl);
		be16enc(p + 2, tl);
		be16enc(p + 4, hl);
		p += 6;
		memcpy(p, e->from, fl);
		memcpy(p + fl, e->to, tl);
		memcpy(p + fl + tl, e->helo, hl);
	} else {
		be32enc(p + 8, e->expire);
		memcpy(p + 12, e->ip.a, alen);
	}
	p = buf + SYNC_HDRLEN + tlen;
	be16enc(p, SYNC_END);
	be16enc(p + 2, TLV_HDR);
	if (mac(k, buf, total, buf + OFF_HMAC) == -1) {
		errno = EINVAL;
		return -1;
	}
	return (ssize_t)total;
}

/* A string of len bytes at p: NUL at its end only, no newline. */
static const char *
tlv_str(const uint8_t *p, size_t len)
{
	if (len == 0 || p[len - 1] != '\0' || strlen((const char *)p) !=
	    len - 1 || memchr(p, '\n', len - 1) != NULL)
		return NULL;
	return (const char *)p;
}

/* One entry at p, of at most room bytes: its length, or 0 if bad. */
static size_t
tlv_parse(uint8_t *p, size_t room, int af, size_t alen,
    struct sync_entry *e)
{
	size_t	 tlen, fl, tl, hl;

	if (room < TLV_HDR)
		return 0;
	tlen = be16dec(p + 2);
	if (tlen < TLV_HDR || tlen > room)
		return 0;
	memset(e, 0, sizeof(*e));
	e->type = be16dec(p);
	e->ip.af = af;
	switch (e->type) {
	case SYNC_END:
		return tlen;
	case SYNC_GREY:
		if (tlen < GREY_FIXED(alen))
			return 0;
		e->timestamp = be32dec(p + 4);
		memcpy(e->ip.a, p + 8, alen);
		p += 8 + alen;
		fl = be16dec(p);
		tl = be16dec(p + 2);
		hl = be16dec(p + 4);
		p += 6;
		if (GREY_FIXED(alen) + fl + tl + hl > tlen ||
		    (e->from = tlv_str(p, fl)) == NULL ||
		    (e->to = tlv_str(p + fl, tl)) == NULL ||
		    (e->helo = tlv_str(p + fl + tl, hl)) == NULL)
			return 0;
		return tlen;
	case SYNC_WHITE:
	case SYNC_TRAPPED:
		if (tlen != TW_LEN(alen))
			return 0;
		e->timestamp = be32dec(p + 4);
		e->expire = be32dec(p + 8);
		memcpy(e->ip.a, p + 12, alen);
		return tlen;
	default:
		return 0;
	}
}

/* Entries one datagram can hold: the smallest is 16 bytes. */
#define MAXENTRIES	((SYNC_MAXLEN - SYNC_HDRLEN) / 16)

enum sync_err
sync_decode(uint8_t *buf, size_t len, const struct sync_key *k,
    void (*cb)(const struct sync_entry *, void *), void *arg)
{
	struct sync_entry	 ents[MAXENTRIES];
	uint8_t			 got[SYNC_MACLEN], want[SYNC_MACLEN];
	size_t			 dlen, off, n = 0, tlen, alen, i;
	int			 af;

	if (len < SYNC_HDRLEN)
		return SYNC_ESHORT;
	if (len > SYNC_MAXLEN)
		return SYNC_ELONG;
	if (buf[OFF_VERSION] != SYNC_VERSION)
		return SYNC_EVERSION;
	if (buf[OFF_AF] == SYNC_AF_INET) {
		af = AF_INET;
		alen = 4;
	} else if (buf[OFF_AF] == SYNC_AF_INET6) {
		af = AF_INET6;
		alen = 16;
	} else
		return SYNC_EAF;
	dlen = be16dec(buf + OFF_LENGTH);
	if (dlen < SYNC_HDRLEN || dlen > len)
		return SYNC_ESHORT;
	memcpy(got, buf + OFF_HMAC, SYNC_MACLEN);
	memset(buf + OFF_HMAC, 0, SYNC_MACLEN);
	if (mac(k, buf, dlen, want) == -1 ||
	    CRYPTO_memcmp(got, want, SYNC_MACLEN) != 0)
		return SYNC_EMAC;
	/* Only the signed length counts, as in OpenBSD. */
	for (off = SYNC_HDRLEN; off < dlen; off += tlen) {
		if (n == MAXENTRIES ||
		    (tlen = tlv_parse(buf + off, dlen - off, af, alen,
		    &ents[n])) == 0)
			return SYNC_ETLV;
		if (ents[n].type == SYNC_END)
			break;
		n++;
	}
	for (i = 0; i < n; i++)
		cb(&ents[i], arg);
	return SYNC_OK;
}

static void
sync_nop(const struct sync_entry *e, void *arg)
{
	(void)e;
	(void)arg;
}

enum sync_err
sync_check(const uint8_t *buf, size_t len, const struct sync_key *k)
{
	uint8_t	 copy[SYNC_MAXLEN];

	if (len > sizeof(copy))
		return SYNC_ELONG;
	memcpy(copy, buf, len);
	return sync_decode(copy, len, k, sync_nop, NULL);
}
