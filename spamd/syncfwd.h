/*
 * The engine's end of sync (-y): datagrams from peers are handed to the
 * greylister as they came.  It holds the key and checks them (gsync.c);
 * the engine, unprivileged and facing the network, only reads them.
 */
#ifndef SPAMD_SYNCFWD_H
#define SPAMD_SYNCFWD_H

#include "syncnet.h"

/*
 * Watch sn's socket in the engine's epoll set and forward what it
 * receives to the greylister on greyfd.  Nothing to do without sync
 * (sn NULL) or without a greylister (greyfd -1, spamd -b).
 */
void	syncfwd_init(int epfd, struct syncnet *sn, int greyfd);

#endif
