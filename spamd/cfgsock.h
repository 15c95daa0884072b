/*
 * The configuration socket of the SMTP engine, where spamd-setup loads
 * the blacklists; its protocol is in cfgproto.h.  This file owns the
 * descriptors (listener, connection, timer); cfgparse.c the lines.
 */
#ifndef SPAMD_CFGSOCK_H
#define SPAMD_CFGSOCK_H

#include <stdint.h>

#include "cfgproto.h"

/*
 * Open the listener (127.0.0.1:port).  May be called early, while
 * privileged; cfgsock_init() opens it itself otherwise.  The fd, or -1.
 */
int	cfgsock_listen(int port);
/* Close an early listener in a process that will not serve it. */
void	cfgsock_close(void);
/* Register with the engine's epoll set; without a listener, warns. */
void	cfgsock_init(int epfd);
/* Is this epoll data pointer one of ours?  Then hand it the events. */
int	cfgsock_owns(const void *);
void	cfgsock_event(void *, uint32_t);

#endif
