/*
 * One client connection of the SMTP engine.  Kept small (tens of
 * thousands may sit in the tarpit at once): the input line, the tuple
 * fields and the reply live in the smtp session, allocated only when the
 * client first sends something, and the banner is a shared prefix plus
 * the connection's own time stamp.
 */
#ifndef SPAMD_CON_H
#define SPAMD_CON_H

#include <sys/queue.h>

#include <stdint.h>

#include "addr.h"
#include "evsrc.h"
#include "smtp.h"
#include "tls.h"

/* Connection flags. */
#define CF_REG		0x0001	/* fd is in the epoll set */
#define CF_OUT		0x0002	/* output pending: input waits */
#define CF_BANNER	0x0004	/* the output is the banner */
#define CF_CLOSE	0x0008	/* close once the output is written */
#define CF_STUTQ	0x0010	/* on the stutter queue */
#define CF_BLACK	0x0020	/* blacklisted (counted in the engine) */
#define CF_NOSTUTTER	0x0040	/* over maxblack: never stuttered */
#define CF_RDHUP	0x0080	/* the peer has shut down its sending */
#define CF_LIFEQ	0x0100	/* on the session lifetime queue */
#define CF_STARTTLS	0x0200	/* TLS handshake once the output is out */
#define CF_TLSHS	0x0400	/* in the TLS handshake */
#define CF_SRC		0x0800	/* counted in the per-source table */
#define CF_OPEN		0x1000	/* con_begin ran: logged, in the stats */
#define CF_LOCAL	0x8000	/* -X: a balancer's LOCAL check, no tuples */

/*
 * Where a connection is in its life.  Every connection starts in
 * CP_PROXY (with -X, from a listed balancer: its PROXY header comes
 * first, proxyin.c) or goes straight to con_begin(), which knows the
 * client's real address and sends it to CP_RELAY (relay.c: bytes to
 * and from the MTA), CP_HOLD (silent until a verdict: dnsrep.c) or
 * CP_SMTP (spamd's own dialogue, smtp.c).
 */
enum con_phase {
	CP_PROXY = 0,
	CP_HOLD,
	CP_SMTP,
	CP_RELAY
};

struct con {
	struct evsrc		 src;	/* first: the epoll data */
	TAILQ_ENTRY(con)	 stq;	/* stutter queue, by due */
	TAILQ_ENTRY(con)	 idq;	/* idle queue, by lastio */
	TAILQ_ENTRY(con)	 lfq;	/* greylisted, by start; or proxyin.c */
	struct smtp_sess	*sess;	/* NULL until the client speaks */
	struct tls_sess		*tls;	/* NULL: plain (tls.c) */
	const struct bl_hit	*bl;	/* blacklists, or NULL */
	int64_t			 due;	/* ms: next stutter byte */
	int64_t			 lastio;	/* ms: last I/O */
	int64_t			 start;	/* ms: accepted */
	struct addr		 addr;	/* client */
	struct addr		 dst;	/* original dst, af 0: none */
	int			 fd;
	uint32_t		 ev;	/* epoll events asked for */
	uint16_t		 opos;	/* bytes of the output written */
	uint16_t		 flags;	/* CF_* */
	uint16_t		 dport;	/* original destination port */
	uint16_t		 sport;	/* -X: the header's; 0: ask the socket */
	uint8_t			 phase;	/* enum con_phase */
	char			 tail[SMTP_TIMELEN]; /* banner time stamp */
	struct relay		*relay;	/* CP_RELAY: relay.c's, or NULL */
	struct dnsrep_rq	*rep;	/* DNS reputation pending (dnsrep.c) */
};

#endif
