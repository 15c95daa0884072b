/*
 * The engine's end of sync (-y): datagrams from peers signed with our
 * key are handed to the greylister as they came, while its queue has
 * room to spare for tuples.  The greylister checks them again, against
 * replays, and applies them (gsync.c).
 */
#ifndef SPAMD_SYNCFWD_H
#define SPAMD_SYNCFWD_H

#include "syncnet.h"

/*
 * Watch sn's socket in the engine's epoll set and forward what it
 * receives, signed with key, to the greylister on greyfd.  Nothing to
 * do without sync (sn NULL) or without a greylister (greyfd -1, -b).
 */
void	syncfwd_init(int epfd, struct syncnet *sn,
	    const struct sync_key *key, int greyfd);

#endif
