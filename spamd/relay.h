/*
 * Relay mode (-R): whitelisted clients are joined to the MTA.
 */
#ifndef SPAMD_RELAY_H
#define SPAMD_RELAY_H

#include <stdint.h>

struct con;

/* 1 if c, its lists looked up (CF_BLACK), goes to the MTA. */
int	relay_wanted(const struct con *c);
/* Join c to the MTA (CP_RELAY); c may be closed on return. */
void	relay_start(struct con *c);
/* An event on the client's socket of a relayed c. */
void	relay_event(struct con *c, uint32_t ev);
/* Release what the relay holds for c (con_close). */
void	relay_free(struct con *c);

#endif
