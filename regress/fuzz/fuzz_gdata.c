/*
 * libFuzzer harness: the database record codec and the key parsers of
 * lib/gdata.c, fed what a damaged or foreign database file, a spamdb
 * argument or an SMTP recipient may hold.
 *
 * Checked: a record that decodes encodes back to the same bytes; a
 * tuple key has four fields and a canonical address; a SPAMTRAP key is
 * a lower-case address without blanks, the key spamd looks up for the
 * same recipient.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "gdata.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_record(const uint8_t *data, size_t len)
{
	struct gdata	 gd;
	uint8_t		 buf[GD_RECSIZE];

	if (gd_decode(data, len, &gd) == -1)
		return;
	gd_encode(&gd, buf);
	if (len != GD_RECSIZE || memcmp(buf, data, GD_RECSIZE) != 0)
		abort();
	if (gd_type("192.0.2.1", 9, &gd) == GD_GREY ||
	    gd_type("a\nb\nc\nd", 7, &gd) != GD_GREY)
		abort();
}

static void
check_tuple(const char *arg)
{
	char		 key[GD_KEY_MAX], ip[INET6_ADDRSTRLEN], *p, *nl;
	int		 n = 0;

	if (gd_tuplekey(key, sizeof(key), arg) != NULL)
		return;
	for (p = key; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	if (n != 3 || (nl = strchr(key, '\n')) == NULL)
		abort();
	*nl = '\0';
	if (addr_canon(key, ip, sizeof(ip)) == -1 || strcmp(ip, key) != 0)
		abort();
}

static void
check_trap(const char *in, size_t inlen)
{
	char		 key[GD_KEY_MAX], again[GD_KEY_MAX];
	size_t		 i, n;

	if (grey_trapkey(key, sizeof(key), in) >= (int)sizeof(key))
		abort();
	if (gd_trapkey(key, sizeof(key), in, inlen) != NULL)
		return;
	n = strlen(key);
	if (n == 0 || n >= GD_FIELD_MAX || strchr(key, '@') == NULL)
		abort();
	for (i = 0; i < n; i++)
		if (isupper((unsigned char)key[i]) ||
		    isspace((unsigned char)key[i]) ||
		    iscntrl((unsigned char)key[i]))
			abort();
	/*
	 * spamd's RCPT lookup spells the same recipient the same way: it
	 * sees recipients in the key form, and a trap is in it.
	 */
	if (gd_canon(again, sizeof(again), key, n) != (int)n ||
	    strcmp(again, key) != 0)
		abort();
	if (inlen == strlen(in) &&
	    gd_canon(again, sizeof(again), in, inlen) == (int)inlen &&
	    strcmp(again, in) == 0 &&
	    (grey_trapkey(again, sizeof(again), in) != (int)n ||
	    strcmp(again, key) != 0))
		abort();
}

/*
 * The key form of raw bytes is printable ASCII without a bar, spelled
 * again by gd_canon as it is, and gives the raw bytes back.
 */
static void
check_text(const char *in, size_t inlen)
{
	char	 k[4 * GD_KEY_MAX + 1], again[4 * GD_KEY_MAX + 1];
	char	 raw[GD_KEY_MAX + 1];
	size_t	 i, n;

	if (inlen > GD_KEY_MAX)
		inlen = GD_KEY_MAX;
	n = gd_vis(k, sizeof(k), in, inlen);
	if (n != strlen(k))
		abort();
	for (i = 0; i < n; i++)
		if (k[i] <= ' ' || k[i] >= 0x7f || k[i] == '|')
			abort();
	if (gd_canon(again, sizeof(again), k, n) != (int)n ||
	    strcmp(again, k) != 0)
		abort();
	if (memchr(in, '\0', inlen) == NULL &&
	    memchr(in, '\n', inlen) == NULL &&
	    (gd_unvis(raw, sizeof(raw), k) != (int)inlen ||
	    memcmp(raw, in, inlen) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*s;

	check_record(data, len);
	/* The string functions see a C string: NULs end it. */
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	check_tuple(s);
	check_trap(s, strlen(s));
	check_trap(s, len);
	check_text((const char *)data, len);
	free(s);
	return 0;
}
