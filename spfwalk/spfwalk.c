/*
 * spfwalk: print every network the SPF records of the given domains
 * authorize, one CIDR block per line, IPv4 then IPv6, sorted and
 * merged: a list for /etc/mail/nospamd.  Domains come from the
 * arguments, or one a line from standard input.  A domain that fails
 * is named on standard error with the reason; the others still print,
 * and the exit status is 1.  With -c address it evaluates each
 * domain's SPF for that address instead, as spamd does (lib/spfcheck.c).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spfwalk.h"

int	 verbose;

static struct spf_root	**roots;
static size_t		  nroots;

static void	usage(void) __attribute__((noreturn));
static int	add_domain(const char *, const char *, unsigned long);
static int	read_domains(FILE *);
static void	print_list(const struct cidr_list *);
static int	check_print(const struct addr *);

#define CHECK_MS	10000	/* -c: as spamd's bound */

static void
usage(void)
{
	fprintf(stderr, "usage: spfwalk [-v] [-c address] [-r tries] "
	    "[-s server[,...]] [-t timeout] [domain ...]\n");
	exit(1);
}

/* 0, or -1 (named) for a bad name or too many. */
static int
add_domain(const char *name, const char *file, unsigned long line)
{
	struct spf_root	*r;
	char		 at[64];

	at[0] = '\0';
	if (file != NULL)
		snprintf(at, sizeof(at), "%s:%lu: ", file, line);
	if (!spf_name_ok(name)) {
		warnx("%sbad domain name \"%.64s\"", at, name);
		return -1;
	}
	if (nroots == SPF_MAXDOMAINS) {
		warnx("%smore than %d domains", at, SPF_MAXDOMAINS);
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		err(1, "calloc");
	strlcpy(r->name, name, sizeof(r->name));
	roots[nroots++] = r;
	return 0;
}

/* One domain a line; blank lines and "#" comments are skipped. */
static int
read_domains(FILE *fp)
{
	char		 buf[SPF_NAMEMAX + 64], *p, *e;
	unsigned long	 line = 0;
	int		 bad = 0, c;

	while (fgets(buf, sizeof(buf), fp) != NULL) {
		line++;
		if (strchr(buf, '\n') == NULL && !feof(fp)) {
			warnx("stdin:%lu: line too long", line);
			while ((c = getc(fp)) != EOF && c != '\n')
				;
			bad = 1;
			continue;
		}
		if ((p = strchr(buf, '#')) != NULL)
			*p = '\0';
		for (p = buf; isspace((unsigned char)*p); p++)
			;
		for (e = p + strlen(p); e > p && isspace((unsigned char)e[-1]);
		    e--)
			;
		*e = '\0';
		if (*p == '\0')
			continue;
		if (add_domain(p, "stdin", line) == -1)
			bad = 1;
	}
	if (ferror(fp)) {
		warn("stdin");
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* Each range as the fewest CIDR blocks. */
static void
print_list(const struct cidr_list *l)
{
	struct cidr_ip	 ip;
	char		 buf[CIDR_STRLEN];
	size_t		 i;
	int		 bits;

	for (i = 0; i < l->n; i++) {
		ip = l->r[i].start;
		do {
			bits = cidr_first_block(l->af, &ip, &l->r[i].end);
			printf("%s/%d\n", cidr_ip_str(l->af, &ip, buf,
			    sizeof(buf)), bits);
		} while (cidr_next_block(l->af, &ip, bits, &l->r[i].end) == 0);
	}
}

/*
 * -c: "domain result (reason)" for each domain, as spamd's SPF-aware
 * passing sees it; 0 when every one is a pass.
 */
static int
check_print(const struct addr *ip)
{
	size_t	 i;
	int	 status = 0;

	for (i = 0; i < nroots; i++)
		walk_check(roots[i], ip, CHECK_MS);
	walk_run();
	for (i = 0; i < nroots; i++) {
		printf("%s %s (%s)\n", roots[i]->name,
		    spf_result_str(roots[i]->result), roots[i]->why);
		if (roots[i]->result != SPF_R_PASS)
			status = 1;
		free(roots[i]);
	}
	free(roots);
	walk_done();
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return status;
}

int
main(int argc, char *argv[])
{
	const char	*servers = NULL, *errstr;
	struct addr	 checkip;
	size_t		 i;
	int		 ch, timeout_ms = 0, tries = 0, status = 0, check = 0;

	while ((ch = getopt(argc, argv, "c:r:s:t:v")) != -1) {
		switch (ch) {
		case 'c':
			if (addr_parse(&checkip, optarg) == -1)
				errx(1, "-c %s: not an IP address", optarg);
			check = 1;
			break;
		case 'r':
			tries = strtonum(optarg, 1, 10, &errstr);
			if (errstr != NULL)
				errx(1, "-r %s: tries %s (1 to 10)", optarg,
				    errstr);
			break;
		case 's':
			servers = optarg;
			break;
		case 't':
			timeout_ms = strtonum(optarg, 1, 60000, &errstr);
			if (errstr != NULL)
				errx(1, "-t %s: milliseconds %s (1 to 60000)",
				    optarg, errstr);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if ((roots = calloc(SPF_MAXDOMAINS, sizeof(*roots))) == NULL)
		err(1, "calloc");
	if (argc > 0) {
		for (i = 0; i < (size_t)argc; i++)
			if (add_domain(argv[i], NULL, 0) == -1)
				status = 1;
	} else if (read_domains(stdin) == -1)
		status = 1;
	if (nroots == 0 && status == 0)
		errx(1, "no domains given");

	if (walk_init(servers, timeout_ms, tries) == -1)
		return 1;
	if (check)
		return check_print(&checkip);
	for (i = 0; i < nroots; i++)
		walk_start(roots[i]);
	walk_run();

	for (i = 0; i < nroots; i++) {
		if (roots[i]->failed) {
			fprintf(stderr, "spfwalk: %s: %s\n", roots[i]->name,
			    roots[i]->why);
			status = 1;
		}
		free(roots[i]);
	}
	free(roots);
	print_list(walk_nets(AF_INET));
	print_list(walk_nets(AF_INET6));
	walk_done();
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return status;
}
