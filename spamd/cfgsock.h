/*
 * The configuration socket of the SMTP engine: TCP 127.0.0.1:8026,
 * where spamd-setup loads the blacklists.  The grammar is OpenBSD's,
 * one line per list:
 *
 *	tag;"message";inet;N;a.b.c.d/nn;...[;inet6;M;x:y::/nn;...]
 *	tag;				(the list is emptied)
 *
 * and one addition for spamd-setup, which sends every list on one
 * connection and ends with
 *
 *	!only;tag;tag;...
 *
 * meaning "these are all the lists there are": every list loaded over
 * this socket whose tag is not named is removed.  spamd-setup names the
 * lists it could not fetch too, so that they stay as they were.  Once
 * the client has shut down its sending side, spamd answers one line,
 * "applied N refused M", and closes.  Only clients on a privileged port
 * (root) are served, one at a time.
 */
#ifndef SPAMD_CFGSOCK_H
#define SPAMD_CFGSOCK_H

#include <stdint.h>

#include "spamdconf.h"

#define CFG_PORT	SPAMD_CFG_PORT

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
