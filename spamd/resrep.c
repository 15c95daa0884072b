/*
 * DM_REP in the resolver (resrep.h).  A request takes a slot of a fixed
 * table; each site not answered by the cache gets an A query.  The
 * verdict goes back when every site has answered or at the deadline
 * (conf.dnswait less a margin for the trip back), whichever is first;
 * sites still unanswered then count as timeouts.  The slot is kept
 * until c-ares has called back for every query, so late answers still
 * fill the cache for the next connection from the address.
 *
 * At most RESREP_INFLIGHT queries are out at once; the rest wait in a
 * FIFO with room for every query of every slot, and those of a request
 * answered meanwhile (its deadline passed) are never sent.  A burst of
 * clients thus comes to the DNS server at the pace it answers, rather
 * than as a flood of datagrams its socket drops, each of which would
 * cost a retry.
 *
 * The cache holds RESREP_SETS * RESREP_WAYS addresses, whatever the
 * traffic: an address hashes (with a random seed) to a set, and a new
 * one takes the least recently used way of it.  Each site's answer
 * for the address lives for its TTL (at most RESREP_MAXTTL);
 * failures and timeouts are not kept.
 */
#include <sys/queue.h>

#include <arpa/nameser.h>

#include <ares.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "aresloop.h"
#include "dnsmsg.h"
#include "dnssite.h"
#include "log.h"
#include "resolver.h"
#include "resrep.h"
#include "spamd.h"

#define NAG_SECS	60	/* a site's trouble, once a minute */
#define MAXANSWERS	32	/* A records looked at in one answer */

struct rreq;

/* One query: its request and site. */
struct qctx {
	struct rreq	*r;
	int		 site;
};

struct rreq {
	TAILQ_ENTRY(rreq)	 dq;	/* unanswered, by due */
	struct rreq		*nextfree;
	struct qctx		 q[DNS_MAXSITES];
	uint64_t		 id;
	struct dns_rep		 rep;
	int64_t			 t0, due;	/* ms */
	uint32_t		 waiting;	/* sites asked, not back */
	int			 answered;
};

struct centry {
	struct addr	 ip;		/* af 0: free */
	uint32_t	 known;		/* sites with an answer kept */
	uint32_t	 listed;	/* ... that listed ip */
	int64_t		 used;		/* ms: last lookup */
	int64_t		 exp[DNS_MAXSITES];	/* ms: answer expires */
};

TAILQ_HEAD(rreqq, rreq);

static struct rreq	 reqs[RESREP_MAXREQ];
static struct rreq	*freereq;
static struct rreqq	 dueq = TAILQ_HEAD_INITIALIZER(dueq);
static struct centry	 cache[RESREP_SETS][RESREP_WAYS];
static struct qctx	*queue[RESREP_MAXREQ * DNS_MAXSITES];
static size_t		 qhead, qlen;
static int		 inflight;
static uint32_t		 seed;
static int64_t		 margin;	/* ms kept for the trip back */

static struct centry *cache_get(const struct addr *, int);
static void	launch(void);
static void	rep_answer(void *, int, int, unsigned char *, int);
static void	rep_send(struct rreq *);
static void	rep_done(struct rreq *);
static void	site_nag(int, const char *);

void
resrep_init(void)
{
	int	 i;

	for (i = RESREP_MAXREQ - 1; i >= 0; i--) {
		reqs[i].nextfree = freereq;
		freereq = &reqs[i];
	}
	seed = arc4random();
	margin = conf.dnswait / 10 < 200 ? conf.dnswait / 10 : 200;
}

/* The entry of ip, or with make a new one (evicting the least used). */
static struct centry *
cache_get(const struct addr *ip, int make)
{
	struct centry	*set, *e, *old = NULL;
	int		 i;

	set = cache[addr_hash(ip, seed) % RESREP_SETS];
	for (i = 0; i < RESREP_WAYS; i++) {
		e = &set[i];
		if (e->ip.af == ip->af && addr_cmp(&e->ip, ip) == 0)
			return e;
		if (old == NULL || e->used < old->used)
			old = e;
	}
	if (!make)
		return NULL;
	memset(old, 0, sizeof(*old));
	old->ip = *ip;
	return old;
}

/* A site's trouble, at most once a minute for each site. */
static void
site_nag(int site, const char *what)
{
	static time_t		 last[DNS_MAXSITES];
	static unsigned long	 n[DNS_MAXSITES];

	n[site]++;
	if (log_nag(&last[site], NAG_SECS))
		log_warnx("-D %s: %s, counted as not listed (%lu so far)",
		    conf.dnssites[site].domain, what, n[site]);
}

void
resrep_request(const struct dns_msg *m)
{
	static time_t		 lastnag;
	struct dns_msg		 busy;
	struct rreq		*r;
	struct centry		*e;
	int64_t			 now = resolver_now();
	struct addr		 ip = m->rep.ip;
	uint32_t		 bit;
	int			 i;

	if (addr_norm(&ip) == -1) {
		log_warnx("dropped a DM_REP of address family %d", ip.af);
		return;
	}
	if ((r = freereq) == NULL) {
		/* Every slot waits on DNS: say "failed" at once. */
		if (log_nag(&lastnag, NAG_SECS))
			log_warnx("%d lookups in flight already: a client is "
			    "answered without DNS", RESREP_MAXREQ);
		memset(&busy, 0, sizeof(busy));
		busy.version = DNSMSG_VERSION;
		busy.kind = DM_REP;
		busy.id = m->id;
		busy.rep.ip = ip;
		for (i = 0; i < conf.ndnssites; i++)
			busy.rep.res[i] = DR_FAIL;
		(void)resolver_answer(&busy);
		return;
	}
	freereq = r->nextfree;
	memset(r, 0, sizeof(*r));
	r->id = m->id;
	r->rep.ip = ip;
	r->t0 = now;
	r->due = now + conf.dnswait - margin;
	TAILQ_INSERT_TAIL(&dueq, r, dq);

	e = cache_get(&ip, 0);
	if (e != NULL)
		e->used = now;
	for (i = 0; i < conf.ndnssites; i++) {
		bit = 1U << i;
		if (e != NULL && (e->known & bit) && e->exp[i] > now) {
			r->rep.res[i] = (e->listed & bit) ? DR_LISTED :
			    DR_NONE;
			r->rep.ms[i] = DNS_MS_CACHED;
			continue;
		}
		r->q[i].r = r;
		r->q[i].site = i;
		r->waiting |= bit;
		/* Cannot be full: room for every site of every slot. */
		queue[(qhead + qlen++) % (sizeof(queue) / sizeof(queue[0]))] =
		    &r->q[i];
	}
	if (r->waiting == 0)
		rep_done(r);
	else
		launch();
}

/* Send queued queries while fewer than RESREP_INFLIGHT are out. */
static void
launch(void)
{
	struct qctx	*q;
	struct rreq	*r;
	char		 qname[DNSSITE_QNAMEMAX];

	while (qlen > 0 && inflight < RESREP_INFLIGHT) {
		q = queue[qhead];
		qhead = (qhead + 1) % (sizeof(queue) / sizeof(queue[0]));
		qlen--;
		r = q->r;
		if (r->answered || dnssite_qname(&conf.dnssites[q->site],
		    &r->rep.ip, qname, sizeof(qname)) == -1) {
			/* Too late to matter, or no name: never sent. */
			if (!r->answered)
				r->rep.res[q->site] = DR_FAIL;
			r->waiting &= ~(1U << q->site);
			if (r->waiting == 0)
				rep_done(r);
			continue;
		}
		inflight++;
		/* May call back at once (an error): rep_answer is ready. */
		ares_query(resolver_channel(), qname, ns_c_in, ns_t_a,
		    rep_answer, q);
	}
}

/* One site's answer for r's address. */
static void
rep_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct qctx		*q = arg;
	struct rreq		*r = q->r;
	const struct dnssite	*site = &conf.dnssites[q->site];
	struct ares_addrttl	 a[MAXANSWERS];
	struct centry		*e;
	int64_t			 now, ms;
	uint32_t		 bit = 1U << q->site;
	int			 n = MAXANSWERS, i, res, ttl = -1, listed = 0;

	(void)timeouts;
	inflight--;
	/* The loop's clock is older than this answer may be. */
	now = mono_ms();
	switch (status) {
	case ARES_SUCCESS:
		if (ares_parse_a_reply(abuf, alen, NULL, a, &n) !=
		    ARES_SUCCESS) {
			res = DR_FAIL;
			site_nag(q->site, "a malformed answer");
			break;
		}
		for (i = 0; i < n; i++) {
			if (ttl == -1 || a[i].ttl < ttl)
				ttl = a[i].ttl;
			if (dnssite_match(site,
			    (const uint8_t *)&a[i].ipaddr.s_addr))
				listed = 1;
		}
		res = listed ? DR_LISTED : DR_NONE;
		break;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		res = DR_NONE;
		if ((ttl = dnssite_negttl(abuf, alen, RESREP_MAXTTL)) == -1)
			ttl = RESREP_NEGTTL;
		break;
	case ARES_ETIMEOUT:
		res = DR_TIMEOUT;
		if (!r->answered)
			site_nag(q->site, "timeout");
		break;
	case ARES_EDESTRUCTION:
		res = DR_FAIL;		/* the channel was re-made */
		break;
	default:
		res = DR_FAIL;
		site_nag(q->site, ares_strerror(status));
		break;
	}
	if ((res == DR_LISTED || res == DR_NONE) && ttl > 0) {
		if (ttl > RESREP_MAXTTL)
			ttl = RESREP_MAXTTL;
		e = cache_get(&r->rep.ip, 1);
		e->used = now;
		e->known |= bit;
		e->listed = listed ? e->listed | bit : e->listed & ~bit;
		e->exp[q->site] = now + (int64_t)ttl * 1000;
	}
	if (!r->answered) {
		r->rep.res[q->site] = res;
		ms = now - r->t0;
		r->rep.ms[q->site] = ms >= DNS_MS_CACHED ? DNS_MS_CACHED - 1 :
		    (uint16_t)(ms < 0 ? 0 : ms);
	}
	r->waiting &= ~bit;
	if (r->waiting == 0)
		rep_done(r);
}

/* The verdict, with what is known now; sites still out are timeouts. */
static void
rep_send(struct rreq *r)
{
	struct dns_msg	 m;
	int		 i;

	for (i = 0; i < conf.ndnssites; i++) {
		if (!(r->waiting & (1U << i)))
			continue;
		r->rep.res[i] = DR_TIMEOUT;
		r->rep.ms[i] = (uint16_t)(conf.dnswait - margin);
		site_nag(i, "no answer within the deadline");
	}
	r->rep.score = 0;
	r->rep.listed = 0;
	for (i = 0; i < conf.ndnssites; i++)
		if (r->rep.res[i] == DR_LISTED) {
			r->rep.listed |= 1U << i;
			r->rep.score += conf.dnssites[i].weight;
		}
	memset(&m, 0, sizeof(m));
	m.version = DNSMSG_VERSION;
	m.kind = DM_REP;
	m.id = r->id;
	m.rep = r->rep;
	(void)resolver_answer(&m);
	r->answered = 1;
	TAILQ_REMOVE(&dueq, r, dq);
}

/* Every query of r is back: answer if not done yet, free the slot. */
static void
rep_done(struct rreq *r)
{
	if (!r->answered)
		rep_send(r);
	r->nextfree = freereq;
	freereq = r;
}

int64_t
resrep_due(void)
{
	struct rreq	*r;

	return (r = TAILQ_FIRST(&dueq)) != NULL ? r->due : INT64_MAX;
}

void
resrep_expire(int64_t now)
{
	struct rreq	*r;

	while ((r = TAILQ_FIRST(&dueq)) != NULL && r->due <= now)
		rep_send(r);
	/* Answers came in this turn: room for more. */
	launch();
}
