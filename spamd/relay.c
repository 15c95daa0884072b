/*
 * Relay mode (-R).  Not built yet: no client is relayed.
 */
#include <stdint.h>

#include "con.h"
#include "engine.h"
#include "relay.h"

int
relay_wanted(const struct con *c)
{
	(void)c;
	return 0;
}

void
relay_start(struct con *c)
{
	con_greet(c);
}

void
relay_event(struct con *c, uint32_t ev)
{
	(void)ev;
	con_close(c, "relay: not built");
}

void
relay_free(struct con *c)
{
	(void)c;
}
