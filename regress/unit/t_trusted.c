/*
 * The trusted networks of spamd (spamd/trusted.c): bounds of ranges,
 * IPv4 and IPv6 apart, lines too wide left out, a bad file keeping the
 * list read before, no file emptying it, and the engine's reload
 * through the keeper (stubbed here: it hands over a descriptor).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "keeper.h"
#include "tap.h"
#include "trusted.h"

static char	 path[] = "/tmp/t_trusted.XXXXXX";
static int	 keeper_calls;

/* The keeper of the engine: opens the file, as keeper.c does. */
int
keeper_bypass(int which, int *fd, char *err, size_t errlen)
{
	(void)which;
	keeper_calls++;
	if ((*fd = open(path, O_RDONLY)) == -1) {
		snprintf(err, errlen, "%s: no file", path);
		*fd = -1;
	}
	return 0;
}

static int
m(const char *s)
{
	struct addr	 a;

	if (addr_parse(&a, s) == -1) {
		fprintf(stderr, "bad address %s\n", s);
		exit(1);
	}
	return trusted_match(&a);
}

static void
put(const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF) {
		perror(path);
		exit(1);
	}
}

int
main(void)
{
	int	 fd;

	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	put("# the LAN\n192.0.2.0/28\n"
	    "198.51.100.7  # the scanner\n"
	    "203.0.113.10 - 203.0.113.20\n"
	    "2001:db8:1::/64\n"
	    "10.0.0.0/7\n"		/* wider than /8: left out */
	    "2001:db8::/15\n");		/* wider than /16: left out */
	bypass_init(BYPASS_TRUSTED, path);
	ok(m("192.0.2.0") && m("192.0.2.15"), "a block's first and last");
	ok(!m("192.0.2.16") && !m("192.0.1.255"), "... not its neighbours");
	ok(m("198.51.100.7") && !m("198.51.100.6") && !m("198.51.100.8"),
	    "one address alone");
	ok(m("203.0.113.10") && m("203.0.113.20") && !m("203.0.113.21"),
	    "a range, bounds included");
	ok(m("2001:db8:1::1") && m("2001:db8:1:0:ffff:ffff:ffff:ffff") &&
	    !m("2001:db8:1:1::"), "an IPv6 /64");
	ok(!m("10.1.2.3"), "a line wider than /8 is left out");
	ok(!m("2001:db8:2::1"), "a line wider than /16 is left out");

	put("192.0.2.0/28\nnot-an-address\n");
	trusted_reload(0);
	ok(m("198.51.100.7"), "a bad file: the list read before stays");

	put("198.51.100.0/24\n");
	trusted_reload(1);
	ok(keeper_calls == 1, "the engine's reload asks the keeper");
	ok(m("198.51.100.99") && !m("192.0.2.1"),
	    "... and reads what it handed over");

	unlink(path);
	trusted_reload(1);
	ok(!m("198.51.100.99"), "no file: the list is empty");

	put("192.0.2.1\n");
	bypass_init(BYPASS_TRUSTED, NULL);
	trusted_reload(0);
	ok(!m("192.0.2.1"), "no path (trusted_init NULL): nothing read");
	unlink(path);
	return tap_done();
}
