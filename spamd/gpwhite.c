/*
 * The WHITE list for the engine's relay (-R): a pass or a peer's WHITE
 * goes at once as a GM_WHITE_ADD of one address; each scan collects
 * the live WHITE entries (spamdb -a, promotions, expiry show there) and
 * when their count or order-independent hash differs from the list
 * last sent, the whole list goes, GM_WHITE_MAX addresses a record,
 * between GM_WHITE_BEGIN and GM_WHITE_END.  Sending never blocks for
 * long (as the trap list's): when the engine does not read, the list
 * is dropped, logged, and sent whole again after the next scan.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpwhite.h"
#include "greymsg.h"
#include "log.h"
#include "spamd.h"

#define GPW_SEND_MS	1000	/* longest wait for the engine to read */

static int	 gpw_fd = -1;
static struct {
	struct addr	*v;
	size_t		 n, cap, sent_n;
	uint64_t	 hash, sent_hash;
	int		 oom;		/* this scan's list is incomplete */
	int		 lost;		/* a send failed: send all next time */
} gpw;

void
gpwhite_init(int fd)
{
	if (conf.relay == NULL)
		return;
	gpw_fd = fd;
	/* The first list goes even if empty: the engine waits for it. */
	gpw.sent_n = (size_t)-1;
}

/* 0 sent, -1 dropped (logged at most once a minute). */
static int
gpw_send(struct grey_msg *m)
{
	static time_t	 lastnag;
	static int	 stuck;

	if (greymsg_send_wait(gpw_fd, m, GPW_SEND_MS, &stuck) == -1) {
		gpw.lost = 1;
		if (log_nag(&lastnag, 60))
			log_warn("greylister: WHITE list to the engine "
			    "dropped; sent again after the next scan");
		return -1;
	}
	return 0;
}

void
gpwhite_add(const struct addr *a)
{
	struct grey_msg	 m;

	if (gpw_fd == -1)
		return;
	greymsg_init(&m, GM_WHITE_ADD);
	m.len = 1;
	m.white[0] = *a;
	(void)gpw_send(&m);
}

void
gpwhite_live(const struct addr *a)
{
	struct addr	*v;
	size_t		 ncap;

	if (gpw_fd == -1 || gpw.oom)
		return;
	if (gpw.n == gpw.cap) {
		ncap = gpw.cap ? gpw.cap * 2 : 1024;
		if ((v = reallocarray(gpw.v, ncap, sizeof(*v))) == NULL) {
			log_warn("greylister: WHITE list for the engine");
			gpw.oom = 1;
			return;
		}
		gpw.v = v;
		gpw.cap = ncap;
	}
	gpw.v[gpw.n++] = *a;
	gpw.hash += addr_hash(a, 0) * 0x9e3779b97f4a7c15ULL + 1;
}

static void
gpw_flush(void)
{
	struct grey_msg	 m;
	size_t		 i, k;

	gpw.lost = 0;
	greymsg_init(&m, GM_WHITE_BEGIN);
	if (gpw_send(&m) == -1)
		return;
	for (i = 0; i < gpw.n; i += k) {
		greymsg_init(&m, GM_WHITE_ADD);
		for (k = 0; k < GM_WHITE_MAX && i + k < gpw.n; k++)
			m.white[k] = gpw.v[i + k];
		m.len = (uint16_t)k;
		if (gpw_send(&m) == -1)
			return;
	}
	greymsg_init(&m, GM_WHITE_END);
	if (gpw_send(&m) == -1)
		return;
	log_debug("WHITE list to the engine: %zu addresses", gpw.n);
	gpw.sent_n = gpw.n;
	gpw.sent_hash = gpw.hash;
}

void
gpwhite_scan_end(int complete)
{
	if (gpw_fd == -1)
		return;
	if (complete && !gpw.oom && (gpw.lost || gpw.n != gpw.sent_n ||
	    gpw.hash != gpw.sent_hash))
		gpw_flush();
	gpw.n = 0;
	gpw.hash = 0;
	gpw.oom = 0;
	/* A big list once is no reason to hold its memory for good. */
	if (gpw.cap > 4096 && gpw.cap > 4 * gpw.sent_n) {
		free(gpw.v);
		gpw.v = NULL;
		gpw.cap = 0;
	}
}
