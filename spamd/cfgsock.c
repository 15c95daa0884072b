/*
 * The configuration socket: the listener, one connection at a time and
 * its silence timer.  What is read goes to the streaming parser
 * (cfgparse.c), which keeps nothing beyond one field, so the buffer
 * stays at CFG_BUFSIZE however large the lists.
 *
 * Work is bounded per wake-up (CFG_READS reads) so that a large update
 * does not stall the tarpit: epoll reports the socket again next turn.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blacklist.h"
#include "blfile.h"
#include "cfgparse.h"
#include "cfgsock.h"
#include "spamd.h"
#include "log.h"

#define CFG_BUFSIZE	65536	/* unparsed input */
#define CFG_TIMEOUT	30	/* seconds of silence before giving up */
#define CFG_READS	16	/* reads per wake-up */
#define CFG_PAUSE	1	/* seconds without accepts after ENFILE etc. */
#define CFG_NAG		10	/* seconds between "refused" log lines */

static struct {
	int		 epfd;
	int		 lfd;
	int		 cfd;		/* the connection, -1 if none */
	int		 tfd;		/* timerfd: its deadline */
	int		 lreg;		/* lfd is in the epoll set */
	int		 paused;	/* accepts failed: wait for tfd */
	char		 peer[INET6_ADDRSTRLEN + 8];
	size_t		 off;		/* parsed up to here */
	size_t		 len;		/* bytes in buf */
	int		 eof;
	struct cfgparse	 p;
	char		 buf[CFG_BUFSIZE];
} cs = { .lfd = -1, .cfd = -1, .tfd = -1 };

static void	lst_want(int);
static void	arm(int);
static void	conn_accept(void);
static void	conn_read(void);
static void	conn_close(const char *);

int
cfgsock_listen(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1;

	if (cs.lfd != -1)
		return cs.lfd;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	cs.lfd = fd;
	return fd;
}

void
cfgsock_close(void)
{
	if (cs.lfd != -1 && close(cs.lfd) == -1)
		log_warn("close configuration listener");
	cs.lfd = -1;
}

void
cfgsock_init(int epfd)
{
	struct epoll_event	 ev;

	cs.epfd = epfd;
	/* What the last run was given, before any client is served. */
	blfile_load();
	cfgparse_init(&cs.p);
	if (cs.lfd == -1 && cfgsock_listen(SPAMD_CFG_PORT) == -1) {
		/* Another spamd may hold it; greylisting works without. */
		log_warn("configuration socket 127.0.0.1:%d: no blacklists "
		    "can be loaded", SPAMD_CFG_PORT);
		return;
	}
	if ((cs.tfd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC)) == -1)
		fatal("timerfd_create");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &cs.tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, cs.tfd, &ev) == -1)
		fatal("epoll_ctl config timer");
	lst_want(1);
}

int
cfgsock_owns(const void *p)
{
	return p == &cs.lfd || p == &cs.cfd || p == &cs.tfd;
}

void
cfgsock_event(void *p, uint32_t ev)
{
	uint64_t	 ticks;

	if (p == &cs.lfd)
		conn_accept();
	else if (p == &cs.cfd) {
		if (cs.cfd != -1)
			conn_read();
	} else if (p == &cs.tfd) {
		if (read(cs.tfd, &ticks, sizeof(ticks)) == -1 &&
		    errno != EAGAIN)
			log_warn("config timer");
		if (cs.cfd != -1)
			conn_close("timed out");
		else if (cs.paused) {
			cs.paused = 0;
			lst_want(1);
		}
	}
	(void)ev;
}

/* One client at a time: the listener is polled only while idle. */
static void
lst_want(int want)
{
	struct epoll_event	 ev;

	if (want == cs.lreg || cs.lfd == -1)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &cs.lfd;
	if (epoll_ctl(cs.epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, cs.lfd,
	    &ev) == -1)
		fatal("epoll_ctl config listener");
	cs.lreg = want;
}

/* (Re)start the silence deadline; 0 disarms. */
static void
arm(int secs)
{
	struct itimerspec	 it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = secs;
	if (timerfd_settime(cs.tfd, 0, &it, NULL) == -1)
		fatal("timerfd_settime");
}

static void
conn_accept(void)
{
	static time_t		 lastnag;
	static unsigned		 nrefused;
	struct sockaddr_in	 sin;
	struct epoll_event	 ev;
	socklen_t		 len = sizeof(sin);
	char			 ip[INET_ADDRSTRLEN];
	time_t			 t;
	int			 fd;

	if ((fd = accept4(cs.lfd, (struct sockaddr *)&sin, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno == EAGAIN || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		/*
		 * Out of descriptors or memory: the listener stays readable,
		 * so stop polling it for a while rather than spin.
		 */
		log_warn("config accept: pausing %d s", CFG_PAUSE);
		lst_want(0);
		cs.paused = 1;
		arm(CFG_PAUSE);
		return;
	}
	if (inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip)) == NULL)
		strlcpy(ip, "?", sizeof(ip));
	/* The only credential: binding a port below 1024 takes root. */
	if (len != sizeof(sin) || sin.sin_family != AF_INET ||
	    ntohs(sin.sin_port) >= 1024) {
		/* Anybody may knock: one line per CFG_NAG seconds. */
		nrefused++;
		t = time(NULL);
		if (lastnag == 0 || t - lastnag >= CFG_NAG) {
			log_warnx("config connection from %s port %u "
			    "refused: not from a privileged port (spamd-setup "
			    "must run as root); %u refused so far", ip,
			    ntohs(sin.sin_port), nrefused);
			lastnag = t;
		}
		close(fd);
		return;
	}
	snprintf(cs.peer, sizeof(cs.peer), "%s:%u", ip, ntohs(sin.sin_port));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = &cs.cfd;
	if (epoll_ctl(cs.epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_warn("epoll_ctl config connection");
		close(fd);
		return;
	}
	cs.cfd = fd;
	cs.off = cs.len = 0;
	cs.eof = 0;
	cfgparse_init(&cs.p);
	lst_want(0);
	arm(CFG_TIMEOUT);
	log_debug("config connection from %s", cs.peer);
}

static void
conn_read(void)
{
	ssize_t	 n;
	int	 i;

	for (i = 0; i < CFG_READS; i++) {
		if (cs.off > 0) {
			memmove(cs.buf, cs.buf + cs.off, cs.len - cs.off);
			cs.len -= cs.off;
			cs.off = 0;
		}
		n = read(cs.cfd, cs.buf + cs.len, sizeof(cs.buf) - cs.len);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(strerror(errno));
			return;
		}
		if (n == 0)
			cs.eof = 1;
		cs.len += n;
		cs.off += cfgparse_feed(&cs.p, cs.buf + cs.off,
		    cs.len - cs.off);
		if (cs.eof) {
			conn_close(NULL);
			return;
		}
	}
	arm(CFG_TIMEOUT);
}

/*
 * End the connection.  why == NULL: the client finished its side; what
 * it sent is judged, and the answer written.  Otherwise the line being
 * received is dropped.
 */
static void
conn_close(const char *why)
{
	char	 ans[64];
	int	 n;

	if (why == NULL)
		cfgparse_end(&cs.p, cs.len - cs.off);
	else
		log_warnx("config connection from %s: %s; line %lu dropped",
		    cs.peer, why, cs.p.line);
	if (cs.p.refused > CFG_LOGMAX)
		log_warnx("config connection from %s: %u more lines refused",
		    cs.peer, cs.p.refused - CFG_LOGMAX);
	log_info("configuration from %s: %u lists applied, %u lines refused, "
	    "%zu lists loaded", cs.peer, cs.p.applied, cs.p.refused,
	    bl_nlists());
	/* On disk before the answer: "applied" means kept across restarts. */
	if (cs.p.applied > 0 || cs.p.removed > 0) {
		blfile_save();
		engine_black_saved();
	}
	if (why == NULL) {
		/* A short line into an idle socket: it cannot block. */
		n = snprintf(ans, sizeof(ans), "applied %u refused %u\n",
		    cs.p.applied, cs.p.refused);
		if (send(cs.cfd, ans, n, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
			log_debug("config answer: %s", strerror(errno));
	}
	if (close(cs.cfd) == -1)
		log_warn("close config connection");
	cs.cfd = -1;
	cfgparse_clear(&cs.p);
	arm(0);
	lst_want(1);
}

