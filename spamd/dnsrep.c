/*
 * DNS reputation (-D), the engine's side.  con_begin asks the resolver
 * (resolver.c, over conf.resolverfd) about the client's address and
 * goes on: only in relay mode (-R) is the client held silent (CP_HOLD)
 * until the verdict or the deadline (-L dnswait=), then relayed or
 * greeted.  The verdict applies to the connection as it is then:
 *
 *	score >= -L dnsblack=	blacklisted by the sites that listed it
 *				with a positive weight: tarpitted and
 *				refused with a message naming them, as
 *				a loaded blacklist would (con_listed);
 *	score <= -L dnswhite=	whitelisted: the greylister makes it
 *				WHITE (GM_DNSWHITE); in relay mode a held
 *				connection goes to the MTA at once;
 *	else, or no verdict	greylisted as ever.
 *
 * Nothing here waits: answers are matched by id to a slot of a table
 * of maxcon requests, and an answer whose slot was freed (the deadline
 * passed) is dropped.  A client that leaves before its verdict leaves
 * its slot until then: DNS allow lists still whitelist it for next
 * time.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blacklist.h"
#include "con.h"
#include "dnsmsg.h"
#include "dnsrep.h"
#include "spfq.h"
#include "dnssite.h"
#include "dnsstats.h"
#include "engine.h"
#include "evsrc.h"
#include "greymsg.h"
#include "log.h"
#include "relay.h"
#include "spamd.h"

#define REP_COMBOS	64	/* interned hits of several sites */
#define REP_TAGSMAX	200	/* "zen.example.org bl.example ..." */
#define NAG_SECS	60

/* A pending request: c waits for the answer of this id. */
struct dnsrep_rq {
	TAILQ_ENTRY(dnsrep_rq)	 q;	/* pending, by due */
	struct dnsrep_rq	*nextfree;
	struct con		*c;	/* NULL: the client has left */
	struct addr		 addr;
	uint64_t		 id;	/* 0: free */
	int64_t			 t0, due;	/* ms */
};

/* What a client listed by the sites of mask hears, and the stats see. */
struct rephit {
	uint32_t		 mask;
	struct bl_hit		 hit;
	const char		*msgs[DNS_MAXSITES];
	char			 tags[REP_TAGSMAX + 8];
};

TAILQ_HEAD(rqq, dnsrep_rq);

static int			 rfd = -1;	/* to the resolver */
static struct evsrc		 rsrc;
static struct dnsrep_rq		*rqs;		/* conf.maxcon of them */
static size_t			 nrqs;
static struct dnsrep_rq		*freerq;
static struct rqq		 pendq = TAILQ_HEAD_INITIALIZER(pendq);
static uint32_t			 seq;
static char			*sitemsg[DNS_MAXSITES];
static struct rephit		 sitehit[DNS_MAXSITES];
static struct rephit		 combo[REP_COMBOS];
static int			 ncombo;
static struct dnsstats		 ds;

static void	rep_event(struct evsrc *, uint32_t);
static void	rep_reply(const struct dns_msg *);
static void	rep_verdict(struct dnsrep_rq *, const struct dns_rep *);
static void	rq_free(struct dnsrep_rq *);
static void	hit_fill(struct rephit *, uint32_t);
static const struct bl_hit *hit_for(uint32_t);
static void	names(uint32_t, char *, size_t);
static void	white_send(const struct addr *);

void
dnsrep_init(int epfd)
{
	size_t	 i;
	int	 n;

	if ((rfd = conf.resolverfd) == -1)
		return;
	rsrc.ev = rep_event;
	if (evsrc_ctl(epfd, EPOLL_CTL_ADD, rfd, EPOLLIN | EPOLLRDHUP,
	    &rsrc) == -1)
		fatal("epoll_ctl resolver");
	nrqs = conf.maxcon;
	if ((rqs = calloc(nrqs, sizeof(*rqs))) == NULL)
		fatal("DNS reputation requests");
	for (i = nrqs; i > 0; i--) {
		rqs[i - 1].nextfree = freerq;
		freerq = &rqs[i - 1];
	}
	for (n = 0; n < conf.ndnssites; n++) {
		if (asprintf(&sitemsg[n], "Your address %%A is listed by %s\n",
		    conf.dnssites[n].domain) == -1)
			fatal("DNS reputation messages");
		hit_fill(&sitehit[n], 1U << n);
	}
}

/* The hit of the sites in mask: their names and messages. */
static void
hit_fill(struct rephit *h, uint32_t mask)
{
	size_t	 n = 0;
	int	 i;

	h->mask = mask;
	for (i = 0; i < conf.ndnssites; i++)
		if (mask & (1U << i))
			h->msgs[n++] = sitemsg[i];
	h->hit.msgs = h->msgs;
	h->hit.nmsgs = n;
	names(mask, h->tags, sizeof(h->tags));
	h->hit.tags = h->tags;
}

/*
 * Sites' names, each once, space separated, cut with " ..." at
 * REP_TAGSMAX (as blacklist.c cuts the tags of several lists).
 */
static void
names(uint32_t mask, char *buf, size_t len)
{
	size_t	 at = 0, l;
	int	 i, j;

	buf[0] = '\0';
	for (i = 0; i < conf.ndnssites; i++) {
		if (!(mask & (1U << i)))
			continue;
		for (j = 0; j < i; j++)
			if ((mask & (1U << j)) && strcmp(conf.dnssites[i].domain,
			    conf.dnssites[j].domain) == 0)
				break;
		if (j < i)
			continue;
		l = strlen(conf.dnssites[i].domain);
		if (at + (at ? 1 : 0) + l > REP_TAGSMAX || at + l + 2 > len) {
			strlcat(buf, " ...", len);
			return;
		}
		if (at > 0)
			buf[at++] = ' ';
		memcpy(buf + at, conf.dnssites[i].domain, l + 1);
		at += l;
	}
}

/*
 * The hit for a client listed by mask.  Combinations are kept up to
 * REP_COMBOS; past that, the heaviest site of mask stands for them.
 */
static const struct bl_hit *
hit_for(uint32_t mask)
{
	int	 i, best = -1;

	for (i = 0; i < conf.ndnssites; i++)
		if ((mask & (1U << i)) && (best == -1 ||
		    conf.dnssites[i].weight > conf.dnssites[best].weight))
			best = i;
	if (best == -1)
		return NULL;
	if (mask == (1U << best))
		return &sitehit[best].hit;
	for (i = 0; i < ncombo; i++)
		if (combo[i].mask == mask)
			return &combo[i].hit;
	if (ncombo == REP_COMBOS)
		return &sitehit[best].hit;
	hit_fill(&combo[ncombo], mask);
	return &combo[ncombo++].hit;
}

int
dnsrep_hold(struct con *c)
{
	static time_t		 lastnag;
	struct dnsrep_rq	*rq;
	struct dns_msg		 m;

	if (rfd == -1 || conf.ndnssites == 0 || (c->flags & CF_BLACK))
		return 0;
	if ((rq = freerq) == NULL) {
		/* Cannot be: as many slots as connections. */
		ds.unasked++;
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.version = DNSMSG_VERSION;
	m.kind = DM_REP;
	m.id = (uint64_t)++seq << 32 | (uint64_t)(rq - rqs);
	m.rep.ip = c->addr;
	if (dnsmsg_send(rfd, &m) == -1) {
		ds.unasked++;
		if (log_nag(&lastnag, NAG_SECS))
			log_warn("DNS reputation: send to the resolver");
		return 0;
	}
	freerq = rq->nextfree;
	rq->c = c;
	rq->addr = c->addr;
	rq->id = m.id;
	rq->t0 = engine_now();
	rq->due = rq->t0 + conf.dnswait;
	TAILQ_INSERT_TAIL(&pendq, rq, q);
	c->rep = rq;
	ds.asked++;
	/* Relay mode: silent until the verdict says whom to join. */
	return dnsrep_holds();
}

/* The socket to the resolver, -1 without one (spfq.c). */
int
dnsrep_fd(void)
{
	return rfd;
}

/*
 * Relay mode: a client the verdict whitelists goes to the MTA with its
 * first connection, so the banner (spamd's or the MTA's) waits for it.
 * Without relay there is nothing to wait for: a whitelisted client's
 * next connection passes the firewall.
 */
int
dnsrep_holds(void)
{
	return conf.relay != NULL && conf.greylist;
}

static void
rq_free(struct dnsrep_rq *rq)
{
	TAILQ_REMOVE(&pendq, rq, q);
	if (rq->c != NULL)
		rq->c->rep = NULL;
	rq->c = NULL;
	rq->id = 0;
	rq->nextfree = freerq;
	freerq = rq;
}

/* The client leaves: its slot waits for the verdict, without it. */
void
dnsrep_free(struct con *c)
{
	if (c->rep != NULL) {
		c->rep->c = NULL;
		c->rep = NULL;
	}
}

int64_t
dnsrep_due(void)
{
	struct dnsrep_rq	*rq;

	return (rq = TAILQ_FIRST(&pendq)) != NULL ? rq->due : INT64_MAX;
}

void
dnsrep_expire(int64_t now)
{
	struct dnsrep_rq	*rq;

	while ((rq = TAILQ_FIRST(&pendq)) != NULL && rq->due <= now) {
		ds.late++;
		rep_verdict(rq, NULL);
	}
}

/* Answers from the resolver, each to the handler of its kind. */
static void
rep_event(struct evsrc *src, uint32_t ev)
{
	struct dns_msg	 m;
	int		 i;

	(void)src;
	for (i = 0; i < 256; i++) {
		switch (dnsmsg_recv(rfd, &m, "the resolver")) {
		case DMR_NONE:
			if (!(ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
				return;
			/* FALLTHROUGH */
		case DMR_EOF:
		case DMR_ERROR:
			/* Go on without: every client is greylisted. */
			log_warnx("the DNS resolver has gone: -D is off "
			    "until spamd is restarted");
			if (epoll_ctl(engine_epfd(), EPOLL_CTL_DEL, rfd,
			    NULL) == -1)
				log_warn("epoll_ctl resolver");
			close(rfd);
			rfd = -1;
			return;
		case DMR_DROPPED:
			break;
		case DMR_RECORD:
			switch (m.kind) {
			case DM_REP:
				rep_reply(&m);
				break;
			case DM_SPF:
				spfq_answer(&m);
				break;
			default:
				log_warnx("dropped a record of kind %u from "
				    "the resolver", m.kind);
			}
			break;
		}
	}
}

static void
rep_reply(const struct dns_msg *m)
{
	struct dnsrep_rq	*rq;
	uint64_t		 idx = m->id & 0xffffffffu;

	/* Its deadline passed: too late. */
	if (idx >= nrqs || (rq = &rqs[idx])->id == 0 || rq->id != m->id)
		return;
	if (addr_cmp(&rq->addr, &m->rep.ip) != 0) {
		log_warnx("DNS reputation: an answer for another address "
		    "dropped");
		return;
	}
	rep_verdict(rq, &m->rep);
}

/*
 * The verdict for rq's client (rep NULL: none by the deadline).  The
 * score is summed here again from the sites that listed it, with our
 * own weights: the resolver's word is only which sites said what.
 */
static void
rep_verdict(struct dnsrep_rq *rq, const struct dns_rep *rep)
{
	static const int	 bounds[DNSSTATS_NB] = DNSSTATS_BOUNDS;
	struct con		*c = rq->c;
	struct addr		 addr = rq->addr;
	struct dnsstats_site	*s;
	char			 ip[INET6_ADDRSTRLEN];
	char			 hit[REP_TAGSMAX + 8], bad[REP_TAGSMAX + 8];
	uint32_t		 listed = 0, failed = 0, black = 0;
	int64_t			 ms = engine_now() - rq->t0;
	int			 i, score = 0, hold;

	hold = c != NULL && c->phase == CP_HOLD;
	rq_free(rq);
	addr_str(&addr, ip, sizeof(ip));
	if (rep != NULL) {
		for (i = 0; i < DNSSTATS_NB && ms > bounds[i]; i++)
			;
		ds.hist[i]++;
		ds.ms_sum += ms > 0 ? (uint64_t)ms : 0;
		for (i = 0; i < conf.ndnssites; i++) {
			s = &ds.site[i];
			if (rep->ms[i] == DNS_MS_CACHED)
				s->cached++;
			else {
				s->lookups++;
				s->ms_sum += rep->ms[i];
			}
			switch (rep->res[i]) {
			case DR_LISTED:
				s->listed++;
				listed |= 1U << i;
				score += conf.dnssites[i].weight;
				if (conf.dnssites[i].weight > 0)
					black |= 1U << i;
				break;
			case DR_TIMEOUT:
				s->timeouts++;
				failed |= 1U << i;
				break;
			case DR_FAIL:
				s->failures++;
				failed |= 1U << i;
				break;
			}
		}
	}
	if (listed != 0 || failed != 0 || rep == NULL) {
		names(listed, hit, sizeof(hit));
		names(failed, bad, sizeof(bad));
		log_info("%s: dns score %d%s%s%s%s%s%s", ip, score,
		    listed ? ", listed by " : "", hit,
		    failed ? ", no answer from " : "", bad,
		    rep == NULL ? ", no verdict within the deadline" : "",
		    c == NULL ? " (gone)" : "");
	} else
		log_debug("%s: dns score 0, listed nowhere", ip);

	if (rep != NULL && score >= conf.dnsblack && black != 0) {
		ds.black++;
		if (c != NULL)
			con_listed(c, hit_for(black));
	} else if (rep != NULL && score <= conf.dnswhite) {
		ds.white++;
		white_send(&addr);
		if (hold) {
			relay_start(c);
			return;
		}
	}
	if (hold)
		con_greet(c);
}

/* The greylister makes c's address WHITE, as a pass would. */
static void
white_send(const struct addr *a)
{
	static time_t	 lastnag;
	struct grey_msg	 m;
	int		 fd = engine_greyfd();

	if (fd == -1)
		return;
	greymsg_init(&m, GM_DNSWHITE);
	m.ip = *a;
	if (greymsg_send(fd, &m) == -1 &&
	    log_nag(&lastnag, NAG_SECS))
		log_warn("DNS whitelisting: send to the greylister");
}

void
dnsrep_stats_send(int fd)
{
	struct grey_msg	 m;

	if (conf.ndnssites == 0)
		return;
	greymsg_init(&m, GM_DNSSTATS);
	memcpy(&m.dns, &ds, sizeof(ds));
	/* Lost, it is replaced by the next one. */
	(void)greymsg_send(fd, &m);
}
