/*
 * The c-ares side of a poll(2) loop; see aresloop.h.  c-ares keeps the
 * sockets and the timers, the caller keeps the loop and whatever else
 * it polls.
 */
#include <sys/time.h>

#include <poll.h>
#include <stdint.h>

#include <ares.h>

#include "aresloop.h"
#include "log.h"

/*
 * c-ares's SOCK_WRITABLE shifts a signed 1 into the sign bit for
 * the last socket: the same tests on unsigned bits.
 */
#define SOCK_READABLE(b, i)	(((unsigned)(b) >> (i)) & 1U)
#define SOCK_WRITABLE(b, i)	\
	(((unsigned)(b) >> ((i) + ARES_GETSOCK_MAXNUM)) & 1U)

int
aresloop_fds(ares_channel ch, struct pollfd *pfd)
{
	ares_socket_t	 s[ARES_GETSOCK_MAXNUM];
	int		 bits, i, n;

	bits = ares_getsock(ch, s, ARES_GETSOCK_MAXNUM);
	for (i = n = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		if (!SOCK_READABLE(bits, i) &&
		    !SOCK_WRITABLE(bits, i))
			continue;
		pfd[n].fd = s[i];
		pfd[n].events = (SOCK_READABLE(bits, i) ? POLLIN : 0) |
		    (SOCK_WRITABLE(bits, i) ? POLLOUT : 0);
		pfd[n++].revents = 0;
	}
	return n;
}

int
aresloop_wait(ares_channel ch, int ms)
{
	struct timeval	 tv, *tvp;
	int64_t		 t;

	if ((tvp = ares_timeout(ch, NULL, &tv)) == NULL)
		return ms;
	/* Rounded up: woken early, c-ares would find nothing due. */
	t = (int64_t)tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000;
	return ms == -1 || t < ms ? (t > INT32_MAX ? INT32_MAX : (int)t) : ms;
}

void
aresloop_run(ares_channel ch, const struct pollfd *pfd, int n)
{
	ares_socket_t	 r, w;
	int		 i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		r = pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ?
		    pfd[i].fd : ARES_SOCKET_BAD;
		w = pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD;
		ares_process_fd(ch, r, w);
	}
	ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}
