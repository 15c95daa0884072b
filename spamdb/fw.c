/*
 * spamdb's side of the nft whitelist sets.  Changes to WHITE entries are
 * queued while the database is open and sent as one transaction at the
 * end, as root, so that `spamdb -a' whitelists at once instead of at
 * spamd's next scan.  A missing table or no permission is not an error:
 * spamd's greylister brings the sets in step at its next scan anyway.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "nftset.h"
#include "spamdb.h"

struct fwop {
	struct addr	 addr;
	time_t		 expire;	/* add: the WHITE entry's */
	int		 add;
};

static struct fwop	*ops;
static size_t		 nops, capops;

static time_t		 fw_now;

static void
fw_queue(const char *ip, int add, time_t expire)
{
	struct fwop	*o;

	if (nops == capops) {
		size_t	 ncap = capops ? capops * 2 : 64;

		if ((o = reallocarray(ops, ncap, sizeof(*o))) == NULL)
			return;		/* spamd's scan catches up */
		ops = o;
		capops = ncap;
	}
	o = &ops[nops];
	if (addr_parse(&o->addr, ip) == -1)
		return;
	o->add = add;
	o->expire = expire;
	nops++;
}

void
spamdb_fw_add(const char *ip, time_t expire, time_t now)
{
	fw_now = now;
	if (expire > now)
		fw_queue(ip, 1, expire);
}

void
spamdb_fw_del(const char *ip)
{
	fw_queue(ip, 0, 0);
}

void
spamdb_fw_flush(void)
{
	struct nftset	*ns = NULL;
	char		 err[512];
	size_t		 i;

	if (nops == 0)
		return;
	if (geteuid() != 0)
		goto done;	/* no privilege: spamd's scan catches up */
	/* Quietly: without the table or privilege there is nothing to do. */
	log_setverbose(0);
	if ((ns = nftset_open(NULL, NULL, NULL)) == NULL ||
	    nftset_check(ns, err, sizeof(err)) == -1)
		goto done;
	nftset_begin(ns);
	for (i = 0; i < nops; i++) {
		if (ops[i].add)
			nftset_queue_white(ns, &ops[i].addr, ops[i].expire,
			    fw_now);
		else
			nftset_queue_del(ns, &ops[i].addr);
	}
	if (nftset_commit(ns) == -1 && errno != EPERM && errno != ENOENT)
		log_warnx("whitelist sets not updated; spamd will update "
		    "them at its next scan");
done:
	if (ns != NULL)
		nftset_close(ns);
	free(ops);
	ops = NULL;
	nops = capops = 0;
}
