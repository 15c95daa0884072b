/*
 * GM_DNSWHITE in the greylister (gpdns.h).  The address is made WHITE
 * with the normal whitelist expiry, put in the nft set and sent to sync
 * peers, and with -R told to the engine, as a passed retry would be;
 * as for a peer's WHITE, a local
 * trap stands and an existing WHITE keeps its expiry (grey_sync), and a
 * host on a narrow loaded blacklist is not whitelisted at all.
 */
#include <sys/socket.h>

#include <time.h>

#include "addr.h"
#include "blacklist.h"
#include "firewall.h"
#include "gpdns.h"
#include "gpwhite.h"
#include "grey.h"
#include "gsync.h"
#include "log.h"
#include "spamd.h"

void
gpdns_white(struct store *st, const struct grey_msg *m)
{
	struct addr	 a = m->ip;
	struct gdata	 rec;
	char		 ip[INET6_ADDRSTRLEN];
	time_t		 now = time(NULL);
	int		 was_white;

	if (addr_norm(&a) == -1) {
		log_warnx("greylister: dropped a DNS whitelisting of address "
		    "family %d", a.af);
		return;
	}
	addr_str(&a, ip, sizeof(ip));
	if (bl_listed_narrow(&a)) {
		log_info("%s is on DNS allow lists but blacklisted here: not "
		    "whitelisted", ip);
		return;
	}
	switch (grey_sync(st, now, &a, 0, now + conf.gc.whiteexp, &rec,
	    &was_white)) {
	case GREY_SYNC_WHITE:
		/* -R: the engine relays its next connections. */
		gpwhite_add(&a);
		if (was_white) {
			log_debug("%s: on DNS allow lists, already WHITE", ip);
			fw_white_add(&a, rec.expire, now);
			break;
		}
		log_info("whitelisting %s: on DNS allow lists", ip);
		fw_white_add(&a, rec.expire, now);
		gsync_white(&a, rec.expire, now);
		break;
	case GREY_SYNC_KEPT:
		log_info("%s is on DNS allow lists but trapped: not "
		    "whitelisted", ip);
		break;
	case GREY_SYNC_STALE:
		break;
	default:
		log_warnx("can't whitelist %s in the database", ip);
		break;
	}
}
