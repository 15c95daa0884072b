/*
 * The configuration socket of the SMTP engine, where spamd-setup loads
 * the blacklists; its protocol is in cfgproto.h.  This file owns the
 * descriptors (listener, connection, timer); cfgparse.c the lines.
 */
#ifndef SPAMD_CFGSOCK_H
#define SPAMD_CFGSOCK_H

#include <stddef.h>

#include "cfgproto.h"

/*
 * Open the listeners, while root and before the chroot: the unix
 * socket at path (NULL: none) and 127.0.0.1:port (0: none).  0, or -1
 * with the reason in errbuf: spamd must not start without them.
 */
int	cfgsock_listen(const char *path, int port, char *errbuf, size_t);
/* Close the listeners in a process that will not serve them. */
void	cfgsock_close(void);
/*
 * Register with the engine's epoll set (evsrc.h): from then on the
 * engine's loop serves our descriptors.  saved is called once lists a
 * client loaded or removed are on disk (blfile.c).
 */
void	cfgsock_init(int epfd, void (*saved)(void));

#endif
