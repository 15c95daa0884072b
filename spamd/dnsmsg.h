/*
 * Records between the SMTP engine and the resolver (resolver.c), the
 * process that asks DNS.  They travel over a SOCK_SEQPACKET socketpair,
 * one record per message, always of exactly this size and version; the
 * receiver refuses anything else (dnsmsg.c).  A request carries an id
 * the engine chose, and the answer carries it back: the engine matches
 * answers by id and drops those whose connection has gone.
 *
 * Kinds:
 *   DM_REP	engine to resolver: the reputation of rep.ip on the -D
 *		sites; resolver to engine: the same record with the
 *		verdict filled in (score, the sites that listed ip, those
 *		that failed or timed out, the lookup times).
 *   DM_SPF	engine to resolver: a whole tuple (resspf.c); resolver to
 *		engine: the same tuple with tuple.spf set, which the
 *		engine hands to the greylister (spfq.c).
 */
#ifndef SPAMD_DNSMSG_H
#define SPAMD_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "grey.h"

#define DNSMSG_VERSION	1

/* -D sites at most; a site is a bit in the masks below. */
#define DNS_MAXSITES	16

enum dnsmsg_kind {
	DM_REP = 1,		/* DNS reputation of an address (-D) */
	DM_SPF			/* SPF of a tuple (-L spf=1): tuple.spf */
};

/* What one site said of an address (dns_rep.res[site]). */
enum dns_res {
	DR_NONE = 0,		/* not asked (no site), or not listed */
	DR_LISTED,		/* an answer matched the site's filter */
	DR_TIMEOUT,		/* no answer before the deadline */
	DR_FAIL			/* SERVFAIL, REFUSED, a bad answer... */
};

struct dns_rep {
	struct addr	 ip;		/* the client */
	int32_t		 score;		/* answer: sum of the listed weights */
	uint32_t	 listed;	/* answer: bit i: site i listed ip */
	uint8_t		 res[DNS_MAXSITES];	/* answer: enum dns_res */
	/* answer: ms the site took, 0xffff: from the cache */
	uint16_t	 ms[DNS_MAXSITES];
};

#define DNS_MS_CACHED	0xffff

struct dns_msg {
	uint8_t		 version;	/* DNSMSG_VERSION */
	uint8_t		 kind;		/* enum dnsmsg_kind */
	uint8_t		 pad[6];
	uint64_t	 id;		/* the engine's, echoed */
	union {
		struct dns_rep		rep;	/* DM_REP */
		struct grey_tuple	tuple;	/* room for DM_SPF */
	};
};

enum dnsmsg_recv {
	DMR_RECORD,		/* *m holds a record of our size and version */
	DMR_DROPPED,		/* a bad record was logged and dropped */
	DMR_NONE,		/* nothing to read now */
	DMR_EOF,		/* the other process has gone away */
	DMR_ERROR		/* recv failed: see errno */
};

/* Receive one record from fd without blocking, and check it. */
enum dnsmsg_recv dnsmsg_recv(int fd, struct dns_msg *m, const char *from);
/* Send one record without blocking: 0, or -1 and errno. */
int	dnsmsg_send(int fd, const struct dns_msg *m);

#endif
