/*
 * Trusted networks and the nospamd list; see trusted.h.  For each, two
 * sorted, disjoint range arrays (lib/cidr.h lists, normalized),
 * searched by bisection.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "cidrfile.h"
#include "keeper.h"
#include "log.h"
#include "trusted.h"

struct bypass {
	const char	*name;		/* for the log */
	const char	*path;		/* NULL: none */
	int		 min4, min6;	/* wider lines are left out */
	struct cidr_list t4, t6;
};

/* The same widths as spamd-setup's for each list. */
static struct bypass	 lists[BYPASS_N] = {
	[BYPASS_TRUSTED] = { "trusted", NULL, TRUSTED_MIN4, TRUSTED_MIN6,
	    { NULL, 0, 0, AF_INET }, { NULL, 0, 0, AF_INET6 } },
	[BYPASS_NOSPAMD] = { "nospamd", NULL, CIDR_SENDER_MIN4,
	    CIDR_SENDER_MIN6,
	    { NULL, 0, 0, AF_INET }, { NULL, 0, 0, AF_INET6 } }
};

/* Read fd (closed here), -1: no file.  The old list stays on failure. */
static void
bp_load(struct bypass *b, int fd)
{
	struct cidr_list	 n4, n6;
	unsigned long		 bad = 0, wide = 0;
	FILE			*fp = NULL;

	cidr_list_init(&n4, AF_INET);
	cidr_list_init(&n6, AF_INET6);
	if (fd != -1) {
		if ((fp = fdopen(fd, "r")) == NULL) {
			log_warn("%s: %s", b->name, b->path);
			close(fd);
			return;
		}
		bad = cidrfile_read(fp, b->path, b->min4, b->min6,
		    &n4, &n6, &wide);
		fclose(fp);
	}
	if (bad > 0) {
		log_warnx("%s: %s: %lu bad line%s, the %zu networks "
		    "read before stay", b->name, b->path, bad,
		    bad == 1 ? "" : "s", b->t4.n + b->t6.n);
		cidr_list_free(&n4);
		cidr_list_free(&n6);
		return;
	}
	cidr_list_free(&b->t4);
	cidr_list_free(&b->t6);
	b->t4 = n4;
	b->t6 = n6;
	if (fd != -1 || b->t4.n + b->t6.n > 0)
		log_info("%s: %zu IPv4 and %zu IPv6 networks from %s",
		    b->name, b->t4.n, b->t6.n, b->path);
}

/* Open path as the process is; -1 with errno ENOENT: no file. */
static int
bp_open(const struct bypass *b, int *fd)
{
	if ((*fd = open(b->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) != -1)
		return 0;
	if (errno == ENOENT)
		return 0;
	log_warn("%s: %s", b->name, b->path);
	return -1;
}

void
bypass_init(enum bypass_list which, const char *path)
{
	struct bypass	*b = &lists[which];
	int		 fd;

	if ((b->path = path) == NULL || *path == '\0') {
		b->path = NULL;
		return;
	}
	if (bp_open(b, &fd) == 0)
		bp_load(b, fd);
}

void
trusted_reload(int viakeeper)
{
	struct bypass	*b;
	char		 err[256];
	int		 fd, i;

	for (i = 0; i < BYPASS_N; i++) {
		if ((b = &lists[i])->path == NULL)
			continue;
		if (!viakeeper) {
			if (bp_open(b, &fd) == 0)
				bp_load(b, fd);
			continue;
		}
		if (keeper_bypass(i, &fd, err, sizeof(err)) == -1) {
			log_warnx("%s: SIGHUP: %s; the list read before "
			    "stays", b->name, err);
			continue;
		}
		bp_load(b, fd);
	}
}

static int
find(const struct cidr_list *l, const struct cidr_ip *ip)
{
	size_t	 lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cidr_cmp(ip, &l->r[mid].start) < 0)
			hi = mid;
		else if (cidr_cmp(ip, &l->r[mid].end) > 0)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int
bypass_match(enum bypass_list which, const struct addr *a)
{
	struct cidr_ip		 ip;
	const struct cidr_list	*l;

	if (a->af != AF_INET && a->af != AF_INET6)
		return 0;
	l = a->af == AF_INET ? &lists[which].t4 : &lists[which].t6;
	if (l->n == 0)
		return 0;
	cidr_ip_from_bytes(a->af, a->a, &ip);
	return find(l, &ip);
}
