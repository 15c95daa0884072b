/*
 * PROXY protocol in (-X).  A connection from a listed balancer must
 * begin with a PROXY v1 or v2 header (proxyhdr.c) within
 * PROXYIN_TIMEOUT seconds; its source is then the client for
 * everything after (con_begin): limits, lists, greylisting, sync, logs.
 * Anything else from a balancer is closed without a word, logged once
 * per NAG_SECS and counted; nothing is recorded for it.  A connection
 * from any other address never gets here: a "PROXY" line from it is
 * just what that client said.
 *
 * Only the header's bytes are taken from the socket: they are peeked
 * and, once whole, read exactly, so whatever the client sent after
 * them is left for the SMTP dialogue.  A partial header stays in the
 * kernel: SO_RCVLOWAT is raised above it so that level-triggered epoll
 * wakes up only when more has come, and c->opos (no output in this
 * phase) remembers how much was seen.  No buffer is allocated.
 *
 * A LOCAL header (v2) or UNKNOWN (v1) is the balancer's own health
 * check: it gets the banner from the balancer's address, with CF_LOCAL
 * so that the engine sends no tuple for it (engine.c, grey_send).
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "cidr.h"
#include "con.h"
#include "engine.h"
#include "log.h"
#include "proxyhdr.h"
#include "proxyin.h"
#include "stats.h"

#define NAG_SECS	10	/* as the engine: trouble once per 10 s */

struct pnet {
	int			 af;
	struct cidr_range	 r;
};

static struct pnet	 nets[PROXYIN_MAXNETS];
static int		 nnets;
/*
 * Awaiting their header, by start.  c->lfq is free before con_greet
 * (the lifetime queue); its tqe_prev is NULL off this queue: every
 * connection is CP_PROXY until con_begin is through, listed or not.
 */
static TAILQ_HEAD(, con) waitq = TAILQ_HEAD_INITIALIZER(waitq);

static int	px_read(struct con *, uint32_t);
static void	px_unwait(struct con *);
static void	px_fail(struct con *, enum stats_proxy, const char *);
static int	px_lowat(struct con *, int);

int
proxyin_add(const char *net, char *err, size_t errlen)
{
	struct pnet	*p;

	if (nnets == PROXYIN_MAXNETS) {
		snprintf(err, errlen, "more than %d networks", PROXYIN_MAXNETS);
		return -1;
	}
	p = &nets[nnets];
	if (cidr_parse(net, &p->af, &p->r, err, errlen) == -1)
		return -1;
	nnets++;
	return 0;
}

int
proxyin_expected(const struct addr *peer)
{
	struct cidr_ip	 ip;
	int		 i;

	if (nnets == 0)
		return 0;
	cidr_ip_from_bytes(peer->af, peer->a, &ip);
	for (i = 0; i < nnets; i++)
		if (nets[i].af == peer->af &&
		    cidr_cmp(&ip, &nets[i].r.start) >= 0 &&
		    cidr_cmp(&ip, &nets[i].r.end) <= 0)
			return 1;
	return 0;
}

/*
 * The balancer writes the header as soon as its connect is through, so
 * by the time the engine accepts, it is mostly there: try at once, and
 * ask epoll only if it is not.
 */
void
proxyin_begin(struct con *c)
{
	c->opos = 0;
	TAILQ_INSERT_TAIL(&waitq, c, lfq);
	if (px_read(c, 0) == 0)
		(void)con_setev(c, EPOLLIN | EPOLLRDHUP);
}

void
proxyin_event(struct con *c, uint32_t ev)
{
	(void)px_read(c, ev);
}

/* 0: c waits for more of its header; 1: c went on or was closed. */
static int
px_read(struct con *c, uint32_t ev)
{
	struct proxyhdr	 h;
	uint8_t		 buf[PROXYHDR_MAX];
	const char	*why;
	ssize_t		 n;

	if (ev & EPOLLERR) {
		px_fail(c, SP_HANGUP, "connection error before the header");
		return 1;
	}
	n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		px_fail(c, SP_HANGUP, strerror(errno));
		return 1;
	}
	switch (proxyhdr_parse(buf, (size_t)n, &h, &why)) {
	case PH_ERROR:
		px_fail(c, SP_BAD, why);
		return 1;
	case PH_MORE:
		if (n == 0 || (ev & (EPOLLRDHUP | EPOLLHUP))) {
			px_fail(c, SP_HANGUP, n == 0 ? "closed before a "
			    "header" : "closed within the header");
			return 1;
		}
		/* Nothing new: wait for the byte after what is here. */
		if ((size_t)n > c->opos && px_lowat(c, (int)n + 1) == -1)
			return 1;
		c->opos = (uint16_t)n;
		return 0;
	case PH_DONE:
		break;
	}
	/* Peeked, so there: take the header and not one byte more. */
	if ((n = recv(c->fd, buf, h.len, MSG_DONTWAIT)) != (ssize_t)h.len) {
		px_fail(c, SP_HANGUP, n == -1 ? strerror(errno) :
		    "header shorter than peeked");
		return 1;
	}
	if (c->opos > 0 && px_lowat(c, 1) == -1)
		return 1;
	c->opos = 0;
	px_unwait(c);
	if (h.local) {
		c->flags |= CF_LOCAL;
		stats_proxy(SP_LOCAL);
	} else {
		c->addr = h.src;
		c->dst = h.dst;
		c->dport = h.dport;
		c->sport = h.sport;
		stats_proxy(SP_PROXIED);
	}
	c->phase = CP_SMTP;
	con_begin(c);
	return 1;
}

void
proxyin_free(struct con *c)
{
	px_unwait(c);
}

static void
px_unwait(struct con *c)
{
	if (c->lfq.tqe_prev == NULL)
		return;
	TAILQ_REMOVE(&waitq, c, lfq);
	c->lfq.tqe_prev = NULL;
}

void
proxyin_expire(int64_t now)
{
	struct con	*c;

	while ((c = TAILQ_FIRST(&waitq)) != NULL &&
	    c->start + PROXYIN_TIMEOUT * 1000 <= now)
		px_fail(c, SP_TIMEOUT, "no whole PROXY header in time");
}

int64_t
proxyin_due(void)
{
	struct con	*c;

	if ((c = TAILQ_FIRST(&waitq)) == NULL)
		return INT64_MAX;
	return c->start + PROXYIN_TIMEOUT * 1000;
}

/* Refused: counted, said once per NAG_SECS, closed without a reply. */
static void
px_fail(struct con *c, enum stats_proxy what, const char *why)
{
	static time_t		 lastnag;
	static unsigned long	 refused;
	char			 ip[INET6_ADDRSTRLEN];

	refused++;
	stats_proxy(what);
	if (log_nag(&lastnag, NAG_SECS))
		log_warnx("%s: PROXY header refused: %s (%lu refused so far)",
		    addr_str(&c->addr, ip, sizeof(ip)), why, refused);
	con_close(c, why);
}

static int
px_lowat(struct con *c, int bytes)
{
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &bytes,
	    sizeof(bytes)) == -1) {
		px_fail(c, SP_HANGUP, "setsockopt SO_RCVLOWAT failed");
		return -1;
	}
	return 0;
}
