/*
 * The SMTP engine's counters (stats.c).  The engine is chrooted and
 * cannot write files, so with -m it sends a snapshot of them to the
 * greylister every STATS_INTERVAL seconds, as a GM_STATS record
 * (greymsg.h), and once more when it exits; the greylister writes the
 * metrics file (metrics.c).
 */
#ifndef SPAMD_STATS_H
#define SPAMD_STATS_H

#include <stdint.h>

#define STATS_INTERVAL	2	/* seconds between snapshots */
#define STATS_MAXLISTS	16	/* lists counted by name; more go to "other" */
#define STATS_TAGLEN	32

/* What a connection is, from its first byte on. */
enum stats_kind {
	SK_GREY,		/* greylisted: on no list */
	SK_BLACK,		/* on a blacklist loaded by spamd-setup */
	SK_TRAPPED,		/* trapped by the greylister */
	SK_N
};

struct stats_list {
	char		tag[STATS_TAGLEN];	/* "" ends the table */
	uint64_t	now;		/* connected now */
	uint64_t	total;		/* connections since start */
};

/* The snapshot record; every field but nlists is a counter or gauge. */
struct stats_rec {
	uint64_t		conn_now[SK_N];
	uint64_t		conn_total[SK_N];
	uint64_t		tarpit_ms;	/* held by closed black/trapped */
	uint64_t		stutter_bytes;
	uint64_t		tuples_sent;	/* to the greylister */
	uint64_t		tuples_dropped;	/* ... lost: it did not keep up */
	uint64_t		bl_loaded;	/* lists installed by spamd-setup */
	uint64_t		bl_lists;	/* lists in force now */
	struct stats_list	list[STATS_MAXLISTS + 1];	/* + "other" */
	/* -R (relay.c) */
	uint64_t		relay_now;	/* relayed sessions open */
	uint64_t		relay_total;	/* ... since start */
	uint64_t		relay_failed;	/* MTA unreachable: 421 */
	uint64_t		relay_bytes_in;	/* client to MTA */
	uint64_t		relay_bytes_out; /* MTA to client */
};

struct con;

/* Engine hooks (engine.c). */
void	stats_open(const struct con *);
void	stats_close(const struct con *, int64_t now_ms);
void	stats_stuttered(void);
void	stats_tuple(int sent);
/* Send a snapshot when one is due (or now, with force); -m only. */
void	stats_tick(int fd, int64_t now_ms, int force);
/* The engine's poll timeout ms (-1: none), shortened to the next snapshot. */
int	stats_timeout(int64_t now_ms, int ms);
/* -R: a relayed session opened (1), closed (-1), failed (0); bytes moved. */
void	stats_relay(int what);
void	stats_relay_bytes(uint64_t in, uint64_t out);
/*
 * c leaves what it was counted as connected (the gauges only): it is
 * listed now, and stats_open counts it again (con_listed).
 */
void	stats_leave(const struct con *);

#endif
