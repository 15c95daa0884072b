/*
 * Receiving and sending a dns_msg (dnsmsg.h): records of exactly the
 * right size and version only, in both processes.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "dnsmsg.h"
#include "log.h"

/*
 * The buffer is one byte larger than a record so that an oversized one
 * shows as such rather than cut to size.
 */
enum dnsmsg_recv
dnsmsg_recv(int fd, struct dns_msg *m, const char *from)
{
	union {
		struct dns_msg	m;
		char		raw[sizeof(struct dns_msg) + 1];
	}	 buf;
	ssize_t	 n;

	if ((n = recv(fd, &buf, sizeof(buf), MSG_DONTWAIT)) == -1)
		return errno == EAGAIN || errno == EINTR ? DMR_NONE :
		    DMR_ERROR;
	if (n == 0)
		return DMR_EOF;
	if ((size_t)n != sizeof(buf.m)) {
		log_warnx("dropped a record of %zd bytes from %s (expected "
		    "%zu)", n, from, sizeof(buf.m));
		return DMR_DROPPED;
	}
	if (buf.m.version != DNSMSG_VERSION) {
		log_warnx("dropped a record of version %u from %s (expected "
		    "%u)", buf.m.version, from, DNSMSG_VERSION);
		return DMR_DROPPED;
	}
	memcpy(m, &buf.m, sizeof(*m));
	return DMR_RECORD;
}

int
dnsmsg_send(int fd, const struct dns_msg *m)
{
	ssize_t	 n;

	while ((n = send(fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL)) ==
	    -1 && errno == EINTR)
		;
	return n == -1 ? -1 : 0;
}
