/*
 * PROXY protocol in (-X): connections from listed balancers begin with
 * a header naming the real client.
 */
#ifndef SPAMD_PROXYIN_H
#define SPAMD_PROXYIN_H

#include <stddef.h>
#include <stdint.h>

#define PROXYIN_MAXNETS	64	/* -X networks */
#define PROXYIN_TIMEOUT	5	/* seconds for the whole header */

struct addr;
struct con;

/* -X network (spamd.c): 0, or -1 with the reason in err. */
int	proxyin_add(const char *net, char *err, size_t errlen);
/* 1 if a connection from peer must begin with a PROXY header. */
int	proxyin_expected(const struct addr *peer);
/* c (CP_PROXY) waits for its header; c may be closed on return. */
void	proxyin_begin(struct con *c);
/* An event on c while it is in CP_PROXY. */
void	proxyin_event(struct con *c, uint32_t ev);
/* con_close of a connection still in CP_PROXY. */
void	proxyin_free(struct con *c);
/* Close the connections whose header is late (run_timers). */
void	proxyin_expire(int64_t now);
/* ms: when the next header is due, INT64_MAX if none is awaited. */
int64_t	proxyin_due(void);

#endif
