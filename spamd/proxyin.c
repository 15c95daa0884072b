/*
 * PROXY protocol in (-X).  Not built yet: no peer is expected to send
 * a header.
 */
#include <stdint.h>

#include "addr.h"
#include "con.h"
#include "engine.h"
#include "proxyin.h"

int
proxyin_expected(const struct addr *peer)
{
	(void)peer;
	return 0;
}

void
proxyin_begin(struct con *c)
{
	con_begin(c);
}

void
proxyin_event(struct con *c, uint32_t ev)
{
	(void)ev;
	con_close(c, "PROXY: not built");
}
