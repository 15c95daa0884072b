/*
 * SPF-aware passing, the engine's side (spfq.h).  A tuple the resolver
 * cannot take (it has gone, or its socket is full) goes straight to the
 * greylister without an SPF result, greylisted as before.
 */
#include <sys/types.h>

#include <string.h>

#include "dnsmsg.h"
#include "dnsrep.h"
#include "engine.h"
#include "log.h"
#include "spamd.h"
#include "spf.h"
#include "spfq.h"

int
spfq_ask(const struct grey_tuple *t)
{
	static time_t	 lastnag;
	struct dns_msg	 m;
	char		 dom[SPF_NAMEMAX];
	int		 fd;

	if (!conf.spfpass || (fd = dnsrep_fd()) == -1 ||
	    spf_from_domain(t->from, dom) == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.version = DNSMSG_VERSION;
	m.kind = DM_SPF;
	m.tuple = *t;
	if (dnsmsg_send(fd, &m) == -1) {
		if (log_nag(&lastnag, 10))
			log_warn("SPF of %s not asked: send to the resolver",
			    dom);
		return -1;
	}
	return 0;
}

void
spfq_answer(const struct dns_msg *m)
{
	engine_tuple(&m->tuple);
}
