/*
 * Sending and receiving a grey_msg: both processes take only records of
 * exactly the right size and version, so the two check here, once, and
 * make their records here too.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "greymsg.h"
#include "log.h"

void
greymsg_init(struct grey_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->version = GREYMSG_VERSION;
	m->type = (uint8_t)type;
}

int
greymsg_send(int fd, const struct grey_msg *m)
{
	return send(fd, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) == -1 ?
	    -1 : 0;
}

int
greymsg_send_wait(int fd, const struct grey_msg *m, int waitms, int *stuck)
{
	struct pollfd	 pfd;

	pfd.fd = fd;
	pfd.events = POLLOUT;
	while (greymsg_send(fd, m) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && !*stuck && poll(&pfd, 1, waitms) == 1)
			continue;
		*stuck = 1;
		return -1;
	}
	*stuck = 0;
	return 0;
}

int
greymsg_check(const void *buf, size_t len, const char *from)
{
	const struct grey_msg	*m = buf;

	if (len != sizeof(*m)) {
		log_warnx("dropped a record of %zu bytes from %s (expected "
		    "%zu)", len, from, sizeof(*m));
		return -1;
	}
	if (m->version != GREYMSG_VERSION) {
		log_warnx("dropped a record of version %u from %s (expected "
		    "%u)", m->version, from, GREYMSG_VERSION);
		return -1;
	}
	return 0;
}

/*
 * The buffer is one byte larger than a record so that an oversized one
 * shows as such rather than cut to size.
 */
enum greymsg_recv
greymsg_recv(int fd, struct grey_msg *m, const char *from)
{
	union {
		struct grey_msg	m;
		char		raw[sizeof(struct grey_msg) + 1];
	}	 buf;
	ssize_t	 n;

	if ((n = recv(fd, &buf, sizeof(buf), MSG_DONTWAIT)) == -1)
		return errno == EAGAIN || errno == EINTR ? GMR_NONE :
		    GMR_ERROR;
	if (n == 0)
		return GMR_EOF;
	if (greymsg_check(&buf, n, from) == -1)
		return GMR_DROPPED;
	memcpy(m, &buf.m, sizeof(*m));
	return GMR_RECORD;
}
