/*
 * PROXY protocol in (-X): connections from listed balancers begin with
 * a header naming the real client.
 */
#ifndef SPAMD_PROXYIN_H
#define SPAMD_PROXYIN_H

#include <stdint.h>

struct addr;
struct con;

/* 1 if a connection from peer must begin with a PROXY header. */
int	proxyin_expected(const struct addr *peer);
/* c (CP_PROXY) waits for its header; c may be closed on return. */
void	proxyin_begin(struct con *c);
/* An event on c while it is in CP_PROXY. */
void	proxyin_event(struct con *c, uint32_t ev);

#endif
