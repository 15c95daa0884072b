/*
 * blgen: print a blacklist of N disjoint, non-adjacent IPv4 entries in
 * random order, for bench/blacklist.
 *
 *	blgen [-s seed] count
 *
 * The space 1.0.0.0-223.255.255.255 is cut into count equal slots and
 * each slot holds one entry with a gap after it, so the list stays
 * count ranges after merging.  Entries are, like real lists, mostly
 * single addresses (70 %), CIDR blocks of /22 to /31 (20 %) and ranges
 * "a - b" (10 %), one per line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPACE_LO	0x01000000U
#define SPACE_HI	0xe0000000U

static uint64_t	 rs = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rs ^= rs << 13;		/* xorshift64 */
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static const char *
ip(uint32_t a, char *buf)
{
	struct in_addr	 in;

	in.s_addr = htonl(a);
	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

int
main(int argc, char *argv[])
{
	const char	*errstr;
	uint32_t	*order, slot, base, a, len, t;
	char		 b1[INET_ADDRSTRLEN], b2[INET_ADDRSTRLEN];
	size_t		 n, i, j;
	int		 ch, bits, k;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			rs = strtonum(optarg, 1, INT64_MAX, &errstr);
			if (errstr != NULL)
				errx(1, "seed %s: %s", optarg, errstr);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 1) {
 usage:
		fprintf(stderr, "usage: blgen [-s seed] count\n");
		return 1;
	}
	n = strtonum(argv[optind], 1, 10000000, &errstr);
	if (errstr != NULL)
		errx(1, "count %s: %s", argv[optind], errstr);
	slot = (SPACE_HI - SPACE_LO) / n;
	if (slot < 4)
		errx(1, "count too large");
	if ((order = reallocarray(NULL, n, sizeof(*order))) == NULL)
		err(1, "reallocarray");
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = rnd() % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++) {
		base = SPACE_LO + order[i] * slot;
		k = rnd() % 10;
		if (k < 7) {
			a = base + rnd() % (slot - 1);
			printf("%s\n", ip(a, b1));
			continue;
		}
		if (k < 9) {
			/* The largest aligned block that leaves a gap. */
			for (bits = 22 + rnd() % 10; bits < 32 &&
			    (1U << (32 - bits)) * 2 > slot; bits++)
				;
			len = 1U << (32 - bits);
			a = (base + len - 1) & ~(len - 1);
			if (a + len >= base + slot)
				a = base;
			if (a + len >= base + slot) {
				printf("%s\n", ip(base, b1));
				continue;
			}
			printf("%s/%d\n", ip(a, b1), bits);
			continue;
		}
		len = 2 + rnd() % (slot / 2);
		a = base + rnd() % (slot - len);
		printf("%s - %s\n", ip(a, b1), ip(a + len - 1, b2));
	}
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	free(order);
	return 0;
}
