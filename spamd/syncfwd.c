/*
 * Sync datagrams from peers, forwarded to the greylister in GM_SYNC
 * records, in the engine.  Here only the size is bounded: what a
 * datagram says is the greylister's to check, and a record it cannot
 * take at once is dropped rather than block the engine.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "evsrc.h"
#include "greymsg.h"
#include "log.h"
#include "syncfwd.h"

#define SYNCFWD_READS	64	/* datagrams per wake-up */
#define SYNCFWD_NAG	10	/* seconds between repeated complaints */

static void	syncfwd_event(struct evsrc *, uint32_t);

static struct {
	struct evsrc	 src;		/* first: the epoll data */
	struct syncnet	*sn;
	int		 gfd;		/* to the greylister */
	unsigned long	 dropped;	/* datagrams it missed */
	time_t		 lastnag;
} sf = { .src = { syncfwd_event }, .gfd = -1 };

void
syncfwd_init(int epfd, struct syncnet *sn, int greyfd)
{
	int	 fd;

	if (greyfd == -1 || sn == NULL || (fd = syncnet_fd(sn)) == -1)
		return;
	sf.sn = sn;
	sf.gfd = greyfd;
	if (evsrc_ctl(epfd, EPOLL_CTL_ADD, fd, EPOLLIN, &sf.src) == -1)
		fatal("epoll_ctl sync socket");
}

static void
syncfwd_event(struct evsrc *src, uint32_t ev)
{
	struct grey_msg		 m;
	struct addr		 from;
	ssize_t			 n;
	int			 i;

	(void)src;
	(void)ev;
	for (i = 0; i < SYNCFWD_READS; i++) {
		memset(&m, 0, sizeof(m));
		if ((n = syncnet_recv(sf.sn, m.sync, sizeof(m.sync),
		    &from)) <= 0) {
			if (n == -1 && log_nag(&sf.lastnag, SYNCFWD_NAG))
				log_warn("sync: recv");
			return;
		}
		if ((size_t)n > sizeof(m.sync) || from.af == 0)
			continue;	/* too long for any peer to send */
		m.version = GREYMSG_VERSION;
		m.type = GM_SYNC;
		m.len = (uint16_t)n;
		m.ip = from;
		if (send(sf.gfd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    -1 && ++sf.dropped && log_nag(&sf.lastnag, SYNCFWD_NAG))
			log_warnx("sync: greylister is not keeping up: %lu "
			    "datagrams dropped so far", sf.dropped);
	}
}
