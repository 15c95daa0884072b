/*
 * Records between the SMTP engine and the greylister.  They travel over
 * a SOCK_SEQPACKET socketpair, one record per message, always of exactly
 * this size; the receiver refuses any other size or version
 * (greymsg.c, on both sides), an unknown type, an unterminated string
 * or an address of an unknown family, and logs it.  Addresses travel
 * binary (struct addr): only the database key is text.
 *
 * Engine to greylister: GM_TUPLE, and GM_SYNC with a datagram from a
 * sync peer as it came (the greylister checks it); GM_BLACK when new
 * blacklists are saved to disk, so that the greylister, which reads
 * them there, takes listed hosts off the whitelist.  Greylister to
 * engine: the greytrap
 * list, as GM_TRAP_ADD of one ip as soon as it is trapped, and after
 * each scan that changed it the whole list between GM_TRAP_BEGIN and
 * GM_TRAP_END, which replaces what the engine had.
 * Engine to greylister with -m: GM_STATS, a snapshot of its counters.
 * Greylister to engine with -R (relay.c): the WHITE list, batched,
 * as GM_WHITE_ADD of up to GM_WHITE_MAX addresses as soon as hosts are
 * whitelisted, and after each scan that changed it the whole list
 * between GM_WHITE_BEGIN and GM_WHITE_END, which replaces the engine's.
 * With -D: GM_DNSWHITE of ip when DNS allow lists vouch for it, and
 * GM_DNSSTATS with each GM_STATS.
 * Engine to greylister: GM_PREGREET of an ip that wrote before the
 * banner ended (the pregreet test), to be trapped as a spamtrap hit is.
 */
#ifndef SPAMD_GREYMSG_H
#define SPAMD_GREYMSG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dnsstats.h"
#include "grey.h"
#include "stats.h"
#include "sync.h"

#define GREYMSG_VERSION	1

enum greymsg_type {
	GM_TUPLE = 1,		/* a RCPT was accepted: greylist the tuple */
	GM_TRAP_ADD,		/* ip is trapped until expire */
	GM_TRAP_BEGIN,		/* a full greytrap list follows */
	GM_TRAP_END,		/* ... and is complete */
	GM_SYNC,		/* a sync datagram of len bytes from ip */
	GM_BLACK,		/* new blacklists are saved: drop listed WHITE */
	GM_STATS,		/* the engine's counters (stats.h) */
	GM_WHITE_BEGIN,		/* -R: a full WHITE list follows */
	GM_WHITE_ADD,		/* -R: len addresses in white[] are WHITE */
	GM_WHITE_END,		/* -R: ... and the full list is complete */
	GM_DNSWHITE,		/* ip is on DNS allow lists (-D): make it WHITE */
	GM_DNSSTATS,		/* the engine's DNS counters (dnsstats.h) */
	GM_PREGREET		/* ip spoke before the banner ended: trap it */
};

/* WHITE addresses in one GM_WHITE_ADD: as many as fit where a tuple goes. */
#define GM_WHITE_MAX	(sizeof(struct grey_tuple) / sizeof(struct addr))

struct grey_msg {
	uint8_t	version;		/* GREYMSG_VERSION */
	uint8_t	type;			/* enum greymsg_type */
	uint16_t len;			/* GM_SYNC: bytes of sync */
	uint8_t	pad[4];
	int64_t	expire;			/* GM_TRAP_ADD: wall clock */
	union {
		struct grey_tuple tuple;	/* GM_TUPLE */
		struct {
			struct addr ip;	/* GM_TRAP_ADD, GM_PREGREET: trapped;
					   GM_SYNC: peer */
			uint8_t	sync[SYNC_MAXLEN];
		};
		struct stats_rec stats;
		struct addr white[GM_WHITE_MAX];	/* GM_WHITE_ADD */
		struct dnsstats	dns;	/* GM_DNSSTATS */
	};
};
/* The tuple is the largest member: the others do not grow the record. */
_Static_assert(sizeof(struct addr) + SYNC_MAXLEN <= sizeof(struct grey_tuple),
    "a sync datagram and its sender fit where a tuple goes");
_Static_assert(sizeof(struct stats_rec) <= sizeof(struct grey_tuple),
    "a statistics snapshot fits where a tuple goes");
_Static_assert(sizeof(struct dnsstats) <= sizeof(struct grey_tuple),
    "the DNS counters fit where a tuple goes");
/* No padding in what travels: every byte is set by memset or a field. */
_Static_assert(sizeof(struct addr) == sizeof(int) + 16 &&
    offsetof(struct grey_tuple, helo) == 2 * sizeof(struct addr),
    "addresses travel without padding");

enum greymsg_recv {
	GMR_RECORD,		/* *m holds a record of our size and version */
	GMR_DROPPED,		/* a bad record was logged and dropped */
	GMR_NONE,		/* nothing to read now */
	GMR_EOF,		/* the other process has gone away */
	GMR_ERROR		/* recv failed: see errno */
};

/*
 * Is buf[0..len) exactly one record of GREYMSG_VERSION?  0 if so;
 * otherwise -1, and a line naming `from' (the sender) is logged.
 */
int	greymsg_check(const void *buf, size_t len, const char *from);
/* Zero m and make it a record of GREYMSG_VERSION and type. */
void	greymsg_init(struct grey_msg *m, int type);
/* Send m without blocking: 0, or -1 and errno. */
int	greymsg_send(int fd, const struct grey_msg *m);
/*
 * Send m, waiting at most waitms for room, and not at all while the
 * last send through *stuck failed: a reader that has stopped costs the
 * sender one wait, not one a record.  0, or -1 and errno.
 */
int	greymsg_send_wait(int fd, const struct grey_msg *m, int waitms,
	    int *stuck);
/* Receive one record from fd without blocking, and check it. */
enum greymsg_recv greymsg_recv(int fd, struct grey_msg *m,
	    const char *from);

#endif
