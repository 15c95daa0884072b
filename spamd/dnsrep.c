/*
 * DNS reputation (-D), the engine's side.  Not built yet: nothing is
 * looked up.
 */
#include "con.h"
#include "dnsrep.h"

int
dnsrep_hold(struct con *c)
{
	(void)c;
	return 0;
}

void
dnsrep_free(struct con *c)
{
	(void)c;
}
