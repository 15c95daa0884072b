/*
 * spamd's side of the sync protocol (lib/sync.c, lib/syncnet.c): the
 * greylister sends GREY for every tuple it records that did not come
 * from a peer and TRAPPED for every host it traps, and takes what peers
 * send, which the engine forwards as raw datagrams.  Before anything is
 * applied a datagram must be signed with our key, and fresh: its entries
 * within SYNC_SKEW seconds of our clock, and the datagram not seen
 * before in that time (a replay guard that OpenBSD senders pass).
 */
#ifndef SPAMD_GSYNC_H
#define SPAMD_GSYNC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "grey.h"
#include "sync.h"
#include "syncnet.h"

/* How far an entry's timestamp may be from our clock, in seconds. */
#define SYNC_SKEW	300

struct sync_counts {
	uint64_t	received;	/* datagrams that reached us */
	uint64_t	accepted;	/* ... signed, sound and fresh */
	uint64_t	entries;	/* entries applied */
	uint64_t	rejected[SYNC_NERR];	/* by reason */
	uint64_t	replayed;	/* seen before */
	uint64_t	stale;		/* entries too far from our clock */
	uint64_t	bogus;		/* entries for no host's address */
	uint64_t	sent;		/* entries sent */
};

/* For the greylister: where to send, with which key (NULL: none). */
void	gsync_init(struct syncnet *, const struct sync_key *);
int	gsync_sending(void);
void	gsync_grey(const struct grey_tuple *, time_t now);
void	gsync_trapped(const struct addr *, time_t expire, time_t now);
void	gsync_white(const struct addr *, time_t expire, time_t now);
/*
 * A datagram the engine received from `from': check it, and call apply
 * for each entry if it is sound and fresh.  Refusals are counted and
 * logged, at most one line a minute for each reason.
 */
void	gsync_recv(uint8_t *buf, size_t len, const char *from, time_t now,
	    void (*apply)(const struct sync_entry *, const char *, void *),
	    void *arg);
void	gsync_counts(struct sync_counts *);
/* May a peer's entry name this address (not 0/8, loopback, ...)? */
int	gsync_addr_ok(const struct addr *);

#endif
