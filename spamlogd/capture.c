/*
 * The NFLOG group, read with libpcap ("nflog:N", DLT_NFLOG).
 *
 * Traps of libpcap on NFLOG, all met in practice: its receive buffer is
 * sized from the snaplen, and the kernel packs several log messages
 * into one netlink datagram, so a small snaplen garbles them (we ask
 * for 64 KiB and let the nft rule's snaplen keep the copies small);
 * BPF filters are refused on this link type, so every check is ours
 * (nflog.c); a non-blocking read of an empty socket is an error to
 * libpcap, so we read blocking and only after poll(2) said there is
 * something; only one socket may bind a group in a network namespace.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spamlogd.h"

#define CAPTURE_SNAPLEN	65535
#define WARN_EVERY	60	/* seconds between warnings of one kind */

static unsigned int	 cap_ifindex;
static int		 cap_inonly;
static unsigned int	 cap_lastdrop;	/* ps_drop already reported */
static time_t		 cap_lastwarn;	/* malformed records */
static uint64_t		 cap_malf_warned;

void
capture_filter(unsigned int ifindex, int inbound_only)
{
	cap_ifindex = ifindex;
	cap_inonly = inbound_only;
}

pcap_t *
capture_open(const char *dev, int rcvbuf, char *err, size_t errlen)
{
	char		 ebuf[PCAP_ERRBUF_SIZE];
	pcap_t		*pc;
	int		 r, fd;

	ebuf[0] = '\0';
	if ((pc = pcap_create(dev, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", dev, ebuf);
		return NULL;
	}
	if (pcap_set_snaplen(pc, CAPTURE_SNAPLEN) != 0 ||
	    pcap_set_buffer_size(pc, rcvbuf) != 0) {
		snprintf(err, errlen, "%s: cannot set capture options", dev);
		pcap_close(pc);
		return NULL;
	}
	errno = 0;
	if ((r = pcap_activate(pc)) < 0) {
		/* The kernel refuses a second reader of a group with EPERM. */
		if (r == PCAP_ERROR && (errno == EPERM ||
		    strstr(pcap_geterr(pc), strerror(EPERM)) != NULL)) {
			if (geteuid() == 0)
				snprintf(err, errlen, "%s: the group is read "
				    "by another process already (only one "
				    "reader per NFLOG group and network "
				    "namespace: another spamlogd, tcpdump, "
				    "ulogd?)", dev);
			else
				snprintf(err, errlen, "%s: %s (reading an "
				    "NFLOG group needs CAP_NET_ADMIN)", dev,
				    pcap_geterr(pc));
		} else
			snprintf(err, errlen, "%s: %s", dev,
			    r == PCAP_ERROR ? pcap_geterr(pc) :
			    pcap_statustostr(r));
		pcap_close(pc);
		return NULL;
	}
	if (r > 0)
		log_warnx("%s: %s", dev, pcap_statustostr(r));
	if (pcap_datalink(pc) != DLT_NFLOG) {
		snprintf(err, errlen, "%s: link type %d, not NFLOG", dev,
		    pcap_datalink(pc));
		pcap_close(pc);
		return NULL;
	}
	if ((fd = pcap_get_selectable_fd(pc)) == -1) {
		snprintf(err, errlen, "%s: no descriptor to poll", dev);
		pcap_close(pc);
		return NULL;
	}
	/* Past net.core.rmem_max while we may (CAP_NET_ADMIN). */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf));
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "%s: fcntl: %s", dev, strerror(errno));
		pcap_close(pc);
		return NULL;
	}
	cap_lastdrop = 0;
	return pc;
}

static void
malformed(const char *why)
{
	time_t	 now = time(NULL);

	stats.malformed++;
	if (now - cap_lastwarn < WARN_EVERY)
		return;
	log_warnx("nflog: dropped %llu malformed record%s, the last one: %s",
	    (unsigned long long)(stats.malformed - cap_malf_warned),
	    stats.malformed - cap_malf_warned == 1 ? "" : "s", why);
	cap_malf_warned = stats.malformed;
	cap_lastwarn = now;
}

static void
capture_pkt(u_char *arg, const struct pcap_pkthdr *h, const u_char *p)
{
	struct nflog_pkt	 pk;
	struct addr		 peer;
	enum pkt_dir		 dir;
	const char		*why;
	char			 buf[INET6_ADDRSTRLEN], buf2[INET6_ADDRSTRLEN];
	int			 verbose = log_getverbose();

	buf[0] = '\0';

	(void)arg;
	stats.packets++;
	switch (nflog_decode(p, h->caplen, &pk, &why)) {
	case NFLOG_OK:
		break;
	case NFLOG_MALFORMED:
		malformed(why);
		return;
	case NFLOG_NOTTCP:
		stats.ignored++;
		log_debug("ignored: %s", why);
		return;
	}
	if ((dir = nflog_direction(&pk, &peer, &why)) == DIR_NONE) {
		stats.ignored++;
		if (verbose)
			log_debug("ignored %s -> %s: %s",
			    addr_str(&pk.src, buf, sizeof(buf)),
			    addr_str(&pk.dst, buf2, sizeof(buf2)), why);
		return;
	}
	/* inet_ntop per packet only when someone reads the result */
	if (verbose)
		addr_str(&peer, buf, sizeof(buf));
	if (cap_ifindex != 0 &&
	    (dir == DIR_IN ? pk.indev : pk.outdev) != cap_ifindex) {
		stats.ignored++;
		log_debug("%s %s: ignored, not on the -i interface",
		    dir == DIR_IN ? "inbound" : "outbound", buf);
		return;
	}
	if (dir == DIR_OUT && cap_inonly) {
		stats.ignored++;
		log_debug("outbound %s: ignored (-I)", buf);
		return;
	}
	if (dir == DIR_IN)
		stats.inbound++;
	else
		stats.outbound++;
	log_debug("%s %s", dir == DIR_IN ? "inbound" : "outbound", buf);
	update_queue(&peer, dir);
}

int
capture_read(pcap_t *pc, int max)
{
	struct pollfd	 pfd;
	socklen_t	 len;
	int		 n = 0, r, soerr;

	pfd.fd = pcap_get_selectable_fd(pc);
	pfd.events = POLLIN;
	for (;;) {
		if ((r = poll(&pfd, 1, 0)) == -1)
			return errno == EINTR ? n : -1;
		if (r == 0)
			break;
		if (!(pfd.revents & POLLIN)) {
			/*
			 * An overrun is reported as a socket error; with
			 * nothing queued, libpcap's blocking read would
			 * wait.  Take the error ourselves.
			 */
			len = sizeof(soerr);
			if (getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &len) == -1)
				return -1;
			if (soerr == ENOBUFS)
				stats.drops++;
			else if (soerr != 0) {
				log_warnx("nflog: socket error: %s",
				    strerror(soerr));
				return -1;
			}
			break;
		}
		r = pcap_dispatch(pc, -1, capture_pkt, NULL);
		if (r == PCAP_ERROR_BREAK)
			break;
		if (r < 0)
			return -1;
		n += r;
		if (n >= max)
			break;
	}
	return n;
}

void
capture_drops(pcap_t *pc)
{
	struct pcap_stat	 ps;
	unsigned int		 d;

	if (pc == NULL || pcap_stats(pc, &ps) != 0)
		return;
	if (ps.ps_drop == cap_lastdrop)
		return;
	d = ps.ps_drop - cap_lastdrop;
	cap_lastdrop = ps.ps_drop;
	stats.drops += d;
	log_warnx("nflog: the receive buffer overflowed %u time%s: logged "
	    "connections were lost (%llu overflows so far)", d,
	    d == 1 ? "" : "s", (unsigned long long)stats.drops);
}
