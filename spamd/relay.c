/*
 * Relay mode (-R address:port).  A client the greylister says is WHITE
 * (whiteset.c) is not greeted: the engine connects to the MTA, sends a
 * PROXY protocol v2 header with the client's real source and original
 * destination, and then moves bytes both ways without looking at them,
 * until both sides have closed; a FIN from one side is passed on as
 * shutdown(SHUT_WR) to the other (a half close).
 *
 * Bytes move with splice(2) through a pipe, never through user space.
 * Pipes are lent, not owned: a direction takes one from a small pool
 * while it moves data and gives it back as soon as it is empty, so an
 * idle relayed session holds two sockets and no pipe (the descriptor
 * limit is the bound on sessions, and the kernel memory of a pipe is
 * its buffer), and a session never holds more than two pipes, one a
 * direction, however the peers behave.
 *
 * All this runs in the unprivileged, chrooted engine: connecting to a
 * numeric address needs neither a file nor a privilege.  The MTA
 * socket is an event source of its own in the engine's epoll set; the
 * client's socket stays the connection's (con_event -> relay_event).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "con.h"
#include "engine.h"
#include "evsrc.h"
#include "log.h"
#include "relay.h"
#include "spamd.h"
#include "stats.h"
#include "trusted.h"
#include "whiteset.h"

#define RELAY_CONNECT_MS 5000	/* an MTA slower to answer is down */
#ifndef RELAY_PIPESZ
#define RELAY_PIPESZ	(256 * 1024)	/* each pipe's buffer (F_SETPIPE_SZ) */
#endif
#define RELAY_BURST	16	/* pipe loads a direction moves a wake-up */
#define RELAY_POOL	16	/* empty pipes kept for the next taker */
#define NAG_SECS	10

enum relay_state {
	RS_CONNECT,		/* connect(2) in progress */
	RS_HEADER,		/* the PROXY header is being written */
	RS_PIPE			/* bytes both ways */
};

/* One direction of a session: from one socket into the other. */
struct rdir {
	int		 pr, pw;	/* a lent pipe, or -1 */
	size_t		 inpipe;	/* bytes in it */
	uint64_t	 bytes;		/* moved through */
	uint8_t		 eof;		/* the source sent its FIN */
	uint8_t		 shut;		/* ... and it went on */
};

struct relay {
	struct evsrc		 src;	/* first: the MTA socket's epoll data */
	TAILQ_ENTRY(relay)	 cq;	/* connecting, by due */
	struct con		*c;
	int64_t			 due;	/* ms: RS_CONNECT gives up */
	int			 mfd;	/* to the MTA */
	uint32_t		 mev;	/* epoll events asked for on mfd */
	uint8_t			 mreg;	/* mfd is in the epoll set */
	uint8_t			 state;	/* enum relay_state */
	uint8_t			 queued; /* on connq */
	uint8_t			 hlen, hpos;
	uint8_t			 hdr[RELAY_HDRMAX];
	struct rdir		 up;	/* client to MTA */
	struct rdir		 down;	/* MTA to client */
};

TAILQ_HEAD(relayq, relay);

static struct relayq	 connq = TAILQ_HEAD_INITIALIZER(connq);
static int		 pool[RELAY_POOL][2];
static int		 npool;
static time_t		 lastnag;
static unsigned long	 nfailed;
static int		 nfds;		/* relay_nfds() */

static void	mta_event(struct evsrc *, uint32_t);

static void
connq_remove(struct relay *r)
{
	if (r->queued) {
		TAILQ_REMOVE(&connq, r, cq);
		r->queued = 0;
	}
}

/* The proxy signature of the PROXY protocol v2 (HAProxy's spec, 2.2). */
static const uint8_t pp2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

int
relay_parse(const char *arg, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errlen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN + 2];
	const char		*p, *port, *errstr;
	long long		 n;
	size_t			 hl;

	memset(ss, 0, sizeof(*ss));
	if (arg[0] == '[') {
		if ((p = strchr(arg, ']')) == NULL) {
			snprintf(err, errlen, "no ] after the IPv6 address");
			return -1;
		}
		if (p[1] != ':') {
			snprintf(err, errlen, "expected [address]:port");
			return -1;
		}
		hl = p - (arg + 1);
		arg++;
		port = p + 2;
	} else {
		if ((p = strrchr(arg, ':')) == NULL) {
			snprintf(err, errlen, "no port: expected address:port "
			    "(IPv6 as [address]:port)");
			return -1;
		}
		if (strchr(arg, ':') != p) {
			snprintf(err, errlen, "an IPv6 address goes in "
			    "brackets: [address]:port");
			return -1;
		}
		hl = p - arg;
		port = p + 1;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "no address or one too long");
		return -1;
	}
	memcpy(host, arg, hl);
	host[hl] = '\0';
	n = strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL) {
		snprintf(err, errlen, "port \"%s\" is %s (1 to 65535)", port,
		    errstr);
		return -1;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)n);
		*len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)n);
		*len = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "\"%s\" is not a numeric IPv4 or IPv6 "
		    "address", host);
		return -1;
	}
	return 0;
}

size_t
relay_proxyhdr(uint8_t *buf, const struct addr *src, uint16_t sport,
    const struct addr *dst, uint16_t dport)
{
	size_t	 alen = src->af == AF_INET ? 4 : 16, blen = 2 * alen + 4;
	uint8_t	*p = buf;

	memcpy(p, pp2sig, sizeof(pp2sig));
	p += sizeof(pp2sig);
	*p++ = 0x21;			/* version 2, command PROXY */
	*p++ = src->af == AF_INET ? 0x11 : 0x21;	/* TCP over IPv4/6 */
	*p++ = (uint8_t)(blen >> 8);
	*p++ = (uint8_t)blen;
	memcpy(p, src->a, alen);
	p += alen;
	if (dst->af == src->af)
		memcpy(p, dst->a, alen);
	else
		memset(p, 0, alen);
	p += alen;
	*p++ = (uint8_t)(sport >> 8);
	*p++ = (uint8_t)sport;
	if (dst->af != src->af)
		dport = 0;
	*p++ = (uint8_t)(dport >> 8);
	*p++ = (uint8_t)dport;
	return p - buf;
}

int
relay_wanted(const struct con *c)
{
	if (conf.relay == NULL || (c->flags & CF_BLACK))
		return 0;
	/* -b: only blacklisted hosts were meant for spamd. */
	if (!conf.greylist)
		return 1;
	/*
	 * Trusted networks (-t) and the nospamd list (-x) go to the MTA
	 * as WHITE hosts do: behind a balancer, or without nftables, the
	 * kernel cannot let them past.
	 */
	return whiteset_lookup(&c->addr) || trusted_match(&c->addr) ||
	    nospamd_match(&c->addr);
}

/* An empty pipe for d, from the pool or new.  0, or -1 (logged). */
static int
pipe_take(struct rdir *d)
{
	int	 fds[2];

	if (npool > 0) {
		npool--;
		d->pr = pool[npool][0];
		d->pw = pool[npool][1];
		return 0;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
		if (log_nag(&lastnag, NAG_SECS))
			log_warn("relay: pipe");
		return -1;
	}
	/* A bigger buffer, fewer wake-ups; the default if refused. */
	(void)fcntl(fds[1], F_SETPIPE_SZ, RELAY_PIPESZ);
	nfds += 2;
	d->pr = fds[0];
	d->pw = fds[1];
	return 0;
}

/* d's pipe back to the pool if empty, else closed with its data. */
static void
pipe_give(struct rdir *d)
{
	if (d->pr == -1)
		return;
	if (d->inpipe == 0 && npool < RELAY_POOL) {
		pool[npool][0] = d->pr;
		pool[npool][1] = d->pw;
		npool++;
	} else {
		close(d->pr);
		close(d->pw);
		nfds -= 2;
	}
	d->pr = d->pw = -1;
	d->inpipe = 0;
}

/*
 * Move what from has to to, at most RELAY_BURST pipe loads (the loop
 * serves the others too; level triggering brings us back).  The pipe
 * is filled only when empty: a splice into a pipe that is full and one
 * from a socket that is empty fail alike, with EAGAIN.  A load shorter
 * than asked for drained the socket: epoll says when more comes, and
 * the splice that would only fail is saved.  other is the other
 * direction: once it is done, our FIN goes with the close.  0, or -1
 * with errno when a socket failed.
 */
static int
rdir_pump(struct rdir *d, const struct rdir *other, int from, int to)
{
	ssize_t	 want;
	ssize_t	 n;
	int	 i;

	want = RELAY_PIPESZ;
	for (i = 0; i < RELAY_BURST; ) {
		if (d->inpipe == 0) {
			if (d->eof)
				break;
			if (d->pr == -1 && pipe_take(d) == -1)
				return -1;
			n = splice(from, NULL, d->pw, NULL, RELAY_PIPESZ,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n == 0) {
				d->eof = 1;
				break;
			}
			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					break;
				return -1;
			}
			d->inpipe = n;
			want = n;
			i++;
		}
		n = splice(d->pr, NULL, to, NULL, d->inpipe,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;	/* keeps its pipe, data in it */
			return -1;
		}
		d->inpipe -= n;
		d->bytes += n;
		if (d->inpipe == 0 && want < RELAY_PIPESZ)
			break;
	}
	if (d->inpipe == 0)
		pipe_give(d);
	if (d->eof && d->inpipe == 0 && !d->shut) {
		d->shut = 1;
		if (!other->shut && shutdown(to, SHUT_WR) == -1 &&
		    errno != ENOTCONN)
			return -1;
	}
	return 0;
}

/* Ask epoll for ev on the MTA socket; 0 takes it out of the set. */
static int
mta_setev(struct relay *r, uint32_t ev)
{
	int	 op;

	if (r->mreg && r->mev == ev)
		return 0;
	if (ev == 0)
		op = EPOLL_CTL_DEL;
	else
		op = r->mreg ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (!r->mreg && ev == 0)
		return 0;
	if (evsrc_ctl(engine_epfd(), op, r->mfd, ev, &r->src) == -1) {
		log_warn("relay: epoll_ctl");
		return -1;
	}
	r->mreg = ev != 0;
	r->mev = ev;
	return 0;
}

/*
 * The same for the client's socket.  A socket that wants nothing
 * leaves the set: a hung-up one would otherwise wake us up for ever
 * while the other side drains.
 */
static int
client_setev(struct con *c, uint32_t ev)
{
	if (ev != 0)
		return con_setev(c, ev);
	if (c->flags & CF_REG) {
		if (epoll_ctl(engine_epfd(), EPOLL_CTL_DEL, c->fd, NULL) ==
		    -1) {
			log_warn("relay: epoll_ctl");
			con_close(c, "epoll_ctl failed");
			return -1;
		}
		c->flags &= ~CF_REG;
	}
	return 0;
}

/* What each socket waits for now; -1 if c was closed. */
static int
relay_arm(struct relay *r)
{
	struct con	*c = r->c;
	uint32_t	 cev = 0, mev = 0;

	if (r->up.inpipe == 0 && !r->up.eof)
		cev |= EPOLLIN;
	if (r->down.inpipe > 0)
		cev |= EPOLLOUT;
	if (r->down.inpipe == 0 && !r->down.eof)
		mev |= EPOLLIN;
	if (r->up.inpipe > 0)
		mev |= EPOLLOUT;
	if (mta_setev(r, mev) == -1) {
		con_close(c, "epoll_ctl failed");
		return -1;
	}
	return client_setev(c, cev);
}

/* The MTA is not there: the client hears why, and goes. */
static void
relay_fail(struct relay *r, const char *why)
{
	struct con	*c = r->c;
	char		 ip[INET6_ADDRSTRLEN], msg[HOST_NAME_MAX + 80];
	int		 n;

	nfailed++;
	stats_relay(0);
	addr_str(&c->addr, ip, sizeof(ip));
	if (log_nag(&lastnag, NAG_SECS))
		log_warnx("relay: MTA %s: %s: client %s got a 421 (%lu "
		    "failures so far)", conf.relay, why, ip, nfailed);
	n = snprintf(msg, sizeof(msg), "421 4.3.0 %s Mail system not "
	    "available, try again later\r\n", conf.hostname);
	/* A fresh socket has room; if not, the client hears nothing. */
	if (n > 0 && (size_t)n < sizeof(msg) &&
	    send(c->fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("%s: send 421: %s", ip, strerror(errno));
	con_close(c, why);
}

/* Both ways move; a failed socket or both FINs passed on end it. */
static void
relay_pump(struct relay *r, int up, int down)
{
	struct con	*c = r->c;
	uint64_t	 b0 = r->up.bytes, b1 = r->down.bytes;

	if ((up && rdir_pump(&r->up, &r->down, c->fd, r->mfd) == -1) ||
	    (down && rdir_pump(&r->down, &r->up, r->mfd, c->fd) == -1)) {
		stats_relay_bytes(r->up.bytes - b0, r->down.bytes - b1);
		con_close(c, strerror(errno));
		return;
	}
	stats_relay_bytes(r->up.bytes - b0, r->down.bytes - b1);
	if (r->up.bytes != b0 || r->down.bytes != b1)
		con_touch(c);
	if (r->up.shut && r->down.shut) {
		con_close(c, NULL);
		return;
	}
	(void)relay_arm(r);
}

/* Write what is left of the PROXY header; then the bytes flow. */
static void
relay_header(struct relay *r)
{
	struct con	*c = r->c;
	char		 ip[INET6_ADDRSTRLEN];
	ssize_t		 n;
	int		 one = 1;

	n = send(r->mfd, r->hdr + r->hpos, r->hlen - r->hpos,
	    MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR) {
			if (mta_setev(r, EPOLLOUT) == -1)
				con_close(c, "epoll_ctl failed");
			return;
		}
		relay_fail(r, strerror(errno));
		return;
	}
	r->hpos += n;
	if (r->hpos < r->hlen) {
		if (mta_setev(r, EPOLLOUT) == -1)
			con_close(c, "epoll_ctl failed");
		return;
	}
	r->state = RS_PIPE;
	stats_relay(1);
	/* A byte pipe: what one side writes goes on at once. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	log_info("%s: relayed to %s", addr_str(&c->addr, ip, sizeof(ip)),
	    conf.relay);
	con_touch(c);
	/* What either side sent meanwhile: epoll says so at once. */
	(void)relay_arm(r);
}

/* The connect(2) finished, one way or the other. */
static void
relay_connected(struct relay *r)
{
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	connq_remove(r);
	if (getsockopt(r->mfd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		relay_fail(r, strerror(err));
		return;
	}
	r->state = RS_HEADER;
	relay_header(r);
}

static void
mta_event(struct evsrc *src, uint32_t ev)
{
	struct relay	*r = (struct relay *)src;

	switch (r->state) {
	case RS_CONNECT:
		relay_connected(r);
		return;
	case RS_HEADER:
		relay_header(r);
		return;
	}
	if (ev & EPOLLERR) {
		con_close(r->c, "relay: MTA connection error");
		return;
	}
	relay_pump(r, (ev & (EPOLLOUT | EPOLLHUP)) != 0,
	    (ev & (EPOLLIN | EPOLLHUP)) != 0);
}

void
relay_event(struct con *c, uint32_t ev)
{
	struct relay	*r = c->relay;

	if (r == NULL || r->state != RS_PIPE) {
		/* Not asked for: only an error or a hang-up comes. */
		con_close(c, "hung up before the MTA answered");
		return;
	}
	if (ev & EPOLLERR) {
		con_close(c, "connection error");
		return;
	}
	relay_pump(r, (ev & (EPOLLIN | EPOLLHUP)) != 0,
	    (ev & (EPOLLOUT | EPOLLHUP)) != 0);
}

/* The client's source port: the socket's, when it is the client. */
static uint16_t
client_port(const struct con *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct addr		 a;

	if (c->sport != 0)
		return c->sport;	/* the PROXY header's (-X) */
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_from_sa(&a, (struct sockaddr *)&ss, len) == -1 ||
	    addr_cmp(&a, &c->addr) != 0)
		return 0;	/* a LOCAL header's balancer: none */
	return ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
}

void
relay_start(struct con *c)
{
	struct relay	*r;
	int		 one = 1;

	c->phase = CP_RELAY;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("relay");
		con_close(c, "out of memory");
		return;
	}
	r->src.ev = mta_event;
	r->c = c;
	r->up.pr = r->up.pw = r->down.pr = r->down.pw = -1;
	r->hlen = relay_proxyhdr(r->hdr, &c->addr, client_port(c), &c->dst,
	    c->dport);
	r->state = RS_CONNECT;
	r->due = engine_now() + RELAY_CONNECT_MS;
	r->mfd = -1;
	TAILQ_INSERT_TAIL(&connq, r, cq);
	r->queued = 1;
	c->relay = r;
	/* Nothing is read from the client until the MTA is there. */
	if (client_setev(c, 0) == -1)
		return;
	if ((r->mfd = socket(conf.relay_sa.ss_family, SOCK_STREAM |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		relay_fail(r, strerror(errno));
		return;
	}
	nfds++;
	(void)setsockopt(r->mfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(r->mfd, (struct sockaddr *)&conf.relay_sa,
	    conf.relay_salen) == -1 && errno != EINPROGRESS) {
		relay_fail(r, strerror(errno));
		return;
	}
	if (mta_setev(r, EPOLLOUT) == -1) {
		relay_fail(r, "epoll_ctl failed");
	}
}

void
relay_free(struct con *c)
{
	struct relay	*r = c->relay;

	if (r == NULL)
		return;
	connq_remove(r);
	if (r->state == RS_PIPE)
		stats_relay(-1);
	/* Pipes with data in them are closed: the pool takes empty ones. */
	pipe_give(&r->up);
	pipe_give(&r->down);
	/* Closing the only reference takes it out of the epoll set too. */
	if (r->mfd != -1) {
		nfds--;
		if (close(r->mfd) == -1)
			log_warn("relay: close");
	}
	engine_free(&r->src);
	c->relay = NULL;
}

void
relay_expire(int64_t now)
{
	struct relay	*r;

	while ((r = TAILQ_FIRST(&connq)) != NULL && r->due <= now) {
		connq_remove(r);
		relay_fail(r, "connect timed out");
	}
}

int64_t
relay_due(void)
{
	struct relay	*r;

	return (r = TAILQ_FIRST(&connq)) != NULL ? r->due : INT64_MAX;
}

int
relay_nfds(void)
{
	return nfds;
}
