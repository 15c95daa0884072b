/*
 * Netlink socket sizing for nft batches.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>

#include "nlsock.h"

/* netlink refuses a message over the send buffer minus its overhead */
#define NL_OVERHEAD	4096
#define NL_SLACK	65536

int
nl_fit_sndbuf(struct mnl_socket *nl, size_t len)
{
	socklen_t	 sl;
	int		 fd = mnl_socket_get_fd(nl), want, got;

	if (len > INT32_MAX - NL_SLACK) {
		errno = EMSGSIZE;
		return -1;
	}
	want = (int)len + NL_SLACK;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want,
	    sizeof(want)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) == -1)
		return -1;
	sl = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &sl) == -1)
		return -1;
	if ((size_t)got < len + NL_OVERHEAD) {
		errno = EMSGSIZE;
		return -1;
	}
	return got;
}
