/*
 * bllookup: spamd's blacklist lookups per second.
 *
 *	bllookup [-l lists] [-n lookups] file
 *
 * Loads the address list in file (as spamd-setup parses it) into spamd's
 * blacklist store, `lists' times under different tags (a client is
 * looked up in every list), then times `lookups' calls of bl_match(),
 * the call the SMTP engine makes per connection, with random IPv4
 * addresses and with addresses known to be listed.  spamd's
 * blacklist.c is compiled in, as it is not part of lib.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../spamd/blacklist.c"

static double
now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t	 rs = 88172645463325252ULL;

static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 16);
}

int
main(int argc, char *argv[])
{
	struct bl_stage		 st;
	struct cidr_list	 all;
	struct cidr_range	 r;
	struct addr		 a;
	struct stat		 sb;
	const char		*errstr;
	char			*buf, *p, *e, *nl, tag[32], errb[128];
	double			 t0, t1, t2;
	size_t			 i, nlook = 10000000, nload = 1, nhit = 0;
	uint32_t		 v;
	int			 ch, fd, af, k;

	while ((ch = getopt(argc, argv, "l:n:")) != -1) {
		switch (ch) {
		case 'l':
			nload = strtonum(optarg, 1, BL_MAXLISTS, &errstr);
			if (errstr != NULL)
				errx(1, "-l %s: %s", optarg, errstr);
			break;
		case 'n':
			nlook = strtonum(optarg, 1, 1000000000, &errstr);
			if (errstr != NULL)
				errx(1, "-n %s: %s", optarg, errstr);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 1) {
 usage:
		fprintf(stderr, "usage: bllookup [-l lists] [-n lookups] "
		    "file\n");
		return 1;
	}
	log_init(1, "bllookup");
	if ((fd = open(argv[optind], O_RDONLY)) == -1 ||
	    fstat(fd, &sb) == -1)
		err(1, "%s", argv[optind]);
	if ((buf = malloc(sb.st_size + 1)) == NULL)
		err(1, "malloc");
	if (read(fd, buf, sb.st_size) != sb.st_size)
		err(1, "%s: short read", argv[optind]);
	close(fd);

	cidr_list_init(&all, AF_INET);
	for (p = buf, e = buf + sb.st_size; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', e - p)) == NULL)
			nl = e;
		k = cidr_parse_line(p, nl - p, &af, &r, errb, sizeof(errb));
		if (k == 1 && af == AF_INET && cidr_list_add(&all, &r) == -1)
			err(1, "cidr_list_add");
	}
	cidr_list_normalize(&all);
	t0 = now();
	for (i = 0; i < nload; i++) {
		bl_stage_init(&st);
		if (cidr_list_union(&st.v4, &all) == -1)
			err(1, "union");
		snprintf(tag, sizeof(tag), "list%zu", i);
		if (bl_install(tag, "Your address %A is listed", BL_CONFIG,
		    &st) == -1)
			err(1, "bl_install");
	}
	t1 = now();
	printf("loaded %zu list(s) of %zu IPv4 ranges in %.3f s\n", nload,
	    all.n, t1 - t0);

	memset(&a, 0, sizeof(a));
	a.af = AF_INET;
	t0 = now();
	for (i = 0; i < nlook; i++) {
		v = htonl(rnd());
		memcpy(a.a, &v, 4);
		if (bl_match(&a) != NULL)
			nhit++;
	}
	t1 = now();
	for (i = 0; i < nlook; i++) {
		v = htonl((uint32_t)all.r[rnd() % all.n].start.lo);
		memcpy(a.a, &v, 4);
		if (bl_match(&a) == NULL)
			errx(1, "a listed address was not found");
	}
	t2 = now();
	printf("random addresses: %zu lookups in %.3f s, %.0f lookups/s, "
	    "%.2f %% listed\n", nlook, t1 - t0, nlook / (t1 - t0),
	    100.0 * nhit / nlook);
	printf("listed addresses: %zu lookups in %.3f s, %.0f lookups/s\n",
	    nlook, t2 - t1, nlook / (t2 - t1));
	cidr_list_free(&all);
	free(buf);
	return 0;
}
