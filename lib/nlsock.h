/*
 * What the two netlink batch writers (nftset.c, nftblack.c) share: a
 * send buffer large enough for one whole batch, which the kernel takes
 * in a single sendmsg().
 */
#ifndef SPAMD_NLSOCK_H
#define SPAMD_NLSOCK_H

#include <stddef.h>

#include <libmnl/libmnl.h>

/*
 * Grow the socket's send buffer for a batch of len bytes (beyond
 * wmem_max with CAP_NET_ADMIN).  Returns the buffer size obtained, or
 * -1 with errno; EMSGSIZE when the buffer stays too small.
 */
int	nl_fit_sndbuf(struct mnl_socket *, size_t len);

#endif
