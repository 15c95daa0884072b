/*
 * SPF-aware passing, the resolver's side.  A DM_SPF record brings a
 * whole tuple; the SPF of its MAIL FROM domain is evaluated for its
 * address (lib/spfcheck.c: RFC 7208's lookup bounds, and RESSPF_WAIT)
 * and the tuple goes back with tuple.spf set, always: a check that
 * cannot run (too many at once, no memory) answers "none", so that no
 * tuple is lost on the way to the greylister.  Results other than
 * temperror are cached per (domain, address) for RESSPF_TTL seconds in
 * a table of fixed size, a new result replacing whatever shared its
 * slot.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dnsmsg.h"
#include "log.h"
#include "resolver.h"
#include "resspf.h"
#include "spf.h"
#include "spfcheck.h"

struct spf_cached {
	char		 dom[SPF_NAMEMAX];	/* "": empty slot */
	struct addr	 ip;
	int64_t		 expire;	/* ms, monotonic */
	uint8_t		 res;
};

struct spf_rq {
	struct dns_msg	 m;
	char		 dom[SPF_NAMEMAX];
	int64_t		 start;
};

static struct spf_cached	*cache;
static int			 running;

static void	answer(struct dns_msg *, enum spf_result);
static void	checked(void *, enum spf_result, const char *);

static struct spf_cached *
slot(const char *dom, const struct addr *ip)
{
	if (cache == NULL &&
	    (cache = calloc(RESSPF_CACHE, sizeof(*cache))) == NULL)
		return NULL;
	return &cache[addr_hash(ip, fnv1a(dom, strlen(dom), 2166136261U)) %
	    RESSPF_CACHE];
}

static void
answer(struct dns_msg *m, enum spf_result r)
{
	m->tuple.spf = (uint8_t)r;
	(void)resolver_answer(m);
}

void
resspf_request(const struct dns_msg *req)
{
	struct spf_cached	*sc;
	struct spf_rq		*rq;
	struct dns_msg		 m = *req;
	char			 dom[SPF_NAMEMAX];

	m.tuple.from[sizeof(m.tuple.from) - 1] = '\0';
	if (addr_norm(&m.tuple.ip) == -1 ||
	    spf_from_domain(m.tuple.from, dom) == -1) {
		answer(&m, SPF_R_NONE);
		return;
	}
	if ((sc = slot(dom, &m.tuple.ip)) != NULL && sc->dom[0] != '\0' &&
	    sc->expire > resolver_now() && strcmp(sc->dom, dom) == 0 &&
	    addr_cmp(&sc->ip, &m.tuple.ip) == 0) {
		answer(&m, (enum spf_result)sc->res);
		return;
	}
	if (running >= RESSPF_MAXREQ || (rq = malloc(sizeof(*rq))) == NULL) {
		log_debug("SPF of %s not checked: %d checks running", dom,
		    running);
		answer(&m, SPF_R_NONE);
		return;
	}
	rq->m = m;
	strlcpy(rq->dom, dom, sizeof(rq->dom));
	rq->start = resolver_now();
	running++;
	if (spf_check(resolver_channel(), dom, &m.tuple.ip, rq->start,
	    RESSPF_WAIT, checked, rq) == -1) {
		log_warn("SPF of %s", dom);
		running--;
		answer(&rq->m, SPF_R_NONE);
		free(rq);
	}
}

static void
checked(void *arg, enum spf_result r, const char *why)
{
	struct spf_rq		*rq = arg;
	struct spf_cached	*sc;
	char			 ip[INET6_ADDRSTRLEN];

	running--;
	log_debug("SPF of %s for %s: %s (%s, %lld ms)", rq->dom,
	    addr_str(&rq->m.tuple.ip, ip, sizeof(ip)), spf_result_str(r), why,
	    (long long)(resolver_now() - rq->start));
	if (r != SPF_R_TEMPERROR &&
	    (sc = slot(rq->dom, &rq->m.tuple.ip)) != NULL) {
		strlcpy(sc->dom, rq->dom, sizeof(sc->dom));
		sc->ip = rq->m.tuple.ip;
		sc->res = (uint8_t)r;
		sc->expire = resolver_now() + RESSPF_TTL * 1000LL;
	}
	answer(&rq->m, r);
	free(rq);
}

int64_t
resspf_due(void)
{
	int64_t	 t = spf_check_next();

	return t == -1 ? INT64_MAX : t;
}

void
resspf_expire(int64_t now)
{
	spf_check_expire(now);
}
