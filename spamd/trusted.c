/*
 * Trusted networks; see trusted.h.  Two sorted, disjoint range arrays
 * (lib/cidr.h lists, normalized), searched by bisection.
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

static const char	*tpath;
static struct cidr_list	 t4 = { NULL, 0, 0, AF_INET };
static struct cidr_list	 t6 = { NULL, 0, 0, AF_INET6 };

/* Read fd (closed here), -1: no file.  The old list stays on failure. */
static void
trusted_load(int fd)
{
	struct cidr_list	 n4, n6;
	unsigned long		 bad = 0, wide = 0;
	FILE			*fp = NULL;

	cidr_list_init(&n4, AF_INET);
	cidr_list_init(&n6, AF_INET6);
	if (fd != -1) {
		if ((fp = fdopen(fd, "r")) == NULL) {
			log_warn("trusted: %s", tpath);
			close(fd);
			return;
		}
		bad = cidrfile_read(fp, tpath, TRUSTED_MIN4, TRUSTED_MIN6,
		    &n4, &n6, &wide);
		fclose(fp);
	}
	if (bad > 0) {
		log_warnx("trusted: %s: %lu bad line%s, the %zu networks "
		    "read before stay", tpath, bad, bad == 1 ? "" : "s",
		    t4.n + t6.n);
		cidr_list_free(&n4);
		cidr_list_free(&n6);
		return;
	}
	cidr_list_free(&t4);
	cidr_list_free(&t6);
	t4 = n4;
	t6 = n6;
	if (fd != -1 || t4.n + t6.n > 0)
		log_info("trusted: %zu IPv4 and %zu IPv6 networks from %s",
		    t4.n, t6.n, tpath);
}

/* Open path as the process is; -1 with errno ENOENT: no file. */
static int
trusted_open(int *fd)
{
	if ((*fd = open(tpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) != -1)
		return 0;
	if (errno == ENOENT)
		return 0;
	log_warn("trusted: %s", tpath);
	return -1;
}

void
trusted_init(const char *path)
{
	int	 fd;

	if ((tpath = path) == NULL || *path == '\0') {
		tpath = NULL;
		return;
	}
	if (trusted_open(&fd) == 0)
		trusted_load(fd);
}

void
trusted_reload(int viakeeper)
{
	char	 err[256];
	int	 fd;

	if (tpath == NULL)
		return;
	if (!viakeeper) {
		if (trusted_open(&fd) == 0)
			trusted_load(fd);
		return;
	}
	if (keeper_trusted(&fd, err, sizeof(err)) == -1) {
		log_warnx("trusted: SIGHUP: %s; the list read before stays",
		    err);
		return;
	}
	trusted_load(fd);
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
trusted_match(const struct addr *a)
{
	struct cidr_ip	 ip;
	const struct cidr_list *l = a->af == AF_INET ? &t4 : &t6;

	if (l->n == 0 || (a->af != AF_INET && a->af != AF_INET6))
		return 0;
	cidr_ip_from_bytes(a->af, a->a, &ip);
	return find(l, &ip);
}
