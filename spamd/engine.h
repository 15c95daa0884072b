/*
 * What the engine (engine.c) lends the files that take a connection
 * through a phase of its own (con.h: proxyin.c, relay.c, dnsrep.c).
 * They run in the engine's process and loop; these are its clock, its
 * epoll set and the steps of a connection's life.
 */
#ifndef SPAMD_ENGINE_H
#define SPAMD_ENGINE_H

#include <stdint.h>

struct con;
struct evsrc;

/* CLOCK_MONOTONIC milliseconds, as of this turn of the loop. */
int64_t	engine_now(void);
/* The engine's epoll descriptor, for sources of one's own (evsrc.h). */
int	engine_epfd(void);

/*
 * The client's real address is in c->addr (and c->dst, or af 0 to ask
 * the socket): per-source limits, blacklists, then relay, hold or the
 * banner.  c may be closed on return.
 */
void	con_begin(struct con *c);
/* Start spamd's own dialogue (CP_SMTP): the banner.  c may be closed. */
void	con_greet(struct con *c);
/*
 * Free the allocation that src begins, once no event of this batch can
 * still point at it: a relayed client has two sockets, and closing
 * both on an event of one must not leave the other's, later in the
 * same batch, to a freed struct.  Its events are ignored meanwhile.
 */
void	engine_free(struct evsrc *src);
/* Close c and free it, logging why (NULL: nothing to add). */
void	con_close(struct con *c, const char *why);
/* Ask epoll for ev on c; -1: c was closed. */
int	con_setev(struct con *c, uint32_t ev);
/* c did I/O now: it goes to the end of the idle queue (MAXTIME). */
void	con_touch(struct con *c);
/*
 * c was found listed after con_begin (dnsrep.c): blacklisted by h from
 * now on, tarpitted and counted as if a loaded list had matched.
 */
struct bl_hit;
void	con_listed(struct con *c, const struct bl_hit *h);
/* The socket to the greylister, -1 without one (-b). */
int	engine_greyfd(void);
/* A tuple to the greylister (GM_TUPLE), as grey_send does (spfq.c). */
struct grey_tuple;
void	engine_tuple(const struct grey_tuple *t);

#endif
