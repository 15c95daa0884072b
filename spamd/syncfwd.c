/*
 * Sync datagrams from peers, forwarded to the greylister in GM_SYNC
 * records, in the engine.  Only datagrams signed with our key go on,
 * as OpenBSD checks them in its unprivileged process: a flood of forged
 * ones costs the engine an HMAC each and the greylister nothing.  The
 * greylister checks them again, with its replay guard, and applies them.
 *
 * The engine's queue to the greylister carries tuples too, and tuples
 * come first: a datagram is forwarded only while the queue is less
 * than half full, so that a burst from peers (or a key holder's flood)
 * cannot crowd out the tuples of real connections.  A record that
 * cannot go at once is dropped rather than block the engine.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

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
	struct evsrc		 src;		/* first: the epoll data */
	struct syncnet		*sn;
	const struct sync_key	*key;
	int			 gfd;		/* to the greylister */
	int			 room;		/* its send buffer, bytes */
	unsigned long		 dropped;	/* datagrams it missed */
	unsigned long		 forged;	/* refused here */
	unsigned long		 yielded;	/* left out for tuples */
	time_t			 lastnag, lastforged, lastyield;
} sf = { .src = { syncfwd_event }, .gfd = -1 };

void
syncfwd_init(int epfd, struct syncnet *sn, const struct sync_key *key,
    int greyfd)
{
	socklen_t	 len = sizeof(sf.room);
	int		 fd;

	if (greyfd == -1 || sn == NULL || key == NULL ||
	    (fd = syncnet_fd(sn)) == -1)
		return;
	sf.sn = sn;
	sf.key = key;
	sf.gfd = greyfd;
	if (getsockopt(greyfd, SOL_SOCKET, SO_SNDBUF, &sf.room, &len) == -1) {
		log_warn("sync: greylister socket buffer size");
		sf.room = 0;
	}
	if (evsrc_ctl(epfd, EPOLL_CTL_ADD, fd, EPOLLIN, &sf.src) == -1)
		fatal("epoll_ctl sync socket");
}

/* Is the queue to the greylister at least half full? */
static int
syncfwd_busy(void)
{
	int	 queued;

	if (sf.room <= 0 || ioctl(sf.gfd, SIOCOUTQ, &queued) == -1)
		return 0;	/* unknown: the send itself decides */
	return queued >= sf.room / 2;
}

static void
syncfwd_event(struct evsrc *src, uint32_t ev)
{
	struct grey_msg		 m;
	struct addr		 from;
	enum sync_err		 err;
	char			 ip[INET6_ADDRSTRLEN];
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
		if ((err = sync_check(m.sync, (size_t)n, sf.key)) !=
		    SYNC_OK) {
			sf.forged++;
			if (log_nag(&sf.lastforged, SYNCFWD_NAG))
				log_warnx("sync: datagram from %s refused: "
				    "%s (%lu refused so far)",
				    addr_str(&from, ip, sizeof(ip)),
				    sync_strerror(err), sf.forged);
			continue;
		}
		if (syncfwd_busy()) {
			sf.yielded++;
			if (log_nag(&sf.lastyield, SYNCFWD_NAG))
				log_warnx("sync: greylister busy, datagrams "
				    "dropped before tuples: %lu so far",
				    sf.yielded);
			continue;
		}
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
