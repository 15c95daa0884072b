/*
 * libFuzzer harness: the PROXY protocol header (spamd/proxyhdr.c) as a
 * balancer's connection begins, fed one byte more at a time as the
 * engine peeks it.
 *
 * Checked: the answers for the growing prefixes are "more" up to one
 * point, then the same error or the same header for every longer
 * prefix (a header never depends on the bytes after it, and the engine
 * never consumes a byte that is not header); a header ends exactly at
 * the prefix that completed it, v1 within 107 bytes, any within
 * PROXYHDR_MAX; an error has a reason; a client's addresses are IPv4 or
 * IPv6 in the canonical form.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "proxyhdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_addr(const struct addr *a)
{
	struct addr	 b = *a;

	if (a->af != AF_INET && a->af != AF_INET6)
		abort();
	if (addr_norm(&b) == -1 || memcmp(&b, a, sizeof(b)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct proxyhdr		 h, first;
	enum proxyhdr_res	 r, seen = PH_MORE;
	const char		*why;
	size_t			 k, end;

	end = len < PROXYHDR_MAX + 8 ? len : PROXYHDR_MAX + 8;
	memset(&first, 0, sizeof(first));
	for (k = 0; k <= end; k++) {
		r = proxyhdr_parse(data, k, &h, &why);
		if (r == PH_ERROR && why == NULL)
			abort();
		if (seen == PH_MORE) {
			seen = r;
			if (r != PH_DONE)
				continue;
			if (h.len != k || h.len > PROXYHDR_MAX ||
			    (h.version == 1 && h.len > PROXYHDR_V1MAX) ||
			    (h.version != 1 && h.version != 2))
				abort();
			if (!h.local) {
				check_addr(&h.src);
				check_addr(&h.dst);
			}
			first = h;
			continue;
		}
		if (r != seen)
			abort();
		if (r == PH_DONE && memcmp(&h, &first, sizeof(h)) != 0)
			abort();
	}
	/* Nothing waits forever: past the longest header, a verdict. */
	if (len > PROXYHDR_MAX && seen == PH_MORE)
		abort();
	return 0;
}
