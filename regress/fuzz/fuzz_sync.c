/*
 * libFuzzer harness: sync datagrams, as a peer on the network may send
 * them: decoded as they come with the test key, and again re-signed
 * with the empty key so that the fuzzer reaches the entries.  The decoder must never read outside
 * the datagram, and what it delivers must be sound: a known type, a
 * known family, and GREY strings without newlines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sync.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct sync_entry *e, void *arg)
{
	(void)arg;
	if (e->type != SYNC_GREY && e->type != SYNC_WHITE &&
	    e->type != SYNC_TRAPPED)
		abort();
	if (e->ip.af != AF_INET && e->ip.af != AF_INET6)
		abort();
	if (e->type == SYNC_GREY && (strchr(e->helo, '\n') != NULL ||
	    strchr(e->from, '\n') != NULL || strchr(e->to, '\n') != NULL))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct sync_key	 k, k0;
	uint8_t			*buf;

	if (k.len == 0) {
		memcpy(k.hex, "5abc7b1e899f757f9891c65c481e8b4716abc4e1", 41);
		k.len = SYNC_KEYLEN;
	}
	/* An exact-size copy, so ASan sees any read past the datagram. */
	if ((buf = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(buf, data, len);
	sync_decode(buf, len, &k, check, NULL);
	/* Signed as a peer would, so the entries are reached too. */
	memcpy(buf, data, len);
	if (len >= SYNC_HDRLEN) {
		unsigned int	 n = SYNC_MACLEN;
		size_t		 dlen = (size_t)(buf[2] << 8 | buf[3]);

		memset(buf + 8, 0, SYNC_MACLEN);
		if (dlen <= len)
			HMAC(EVP_sha1(), k0.hex, 0, buf, dlen, buf + 8, &n);
	}
	sync_decode(buf, len, &k0, check, NULL);
	free(buf);
	return 0;
}
