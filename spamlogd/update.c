/*
 * What a logged connection does to the database and the nft sets.
 *
 * The record policy is grey_white_seen's (lib/grey.c): a WHITE host
 * seen either way stays WHITE longer, a host we send mail to becomes
 * WHITE, a host that is not WHITE and sends to us is left alone (the
 * firewall logs only hosts in the whitelist set, so it was deleted or
 * expired a moment ago), TRAPPED stays TRAPPED.  Every WHITE entry we
 * touch gets its set element's timeout refreshed, so the kernel never
 * forgets a host the database still holds.
 *
 * Packets are handled in batches: one database transaction and one nft
 * transaction for everything read in one go, so a burst costs a few
 * system calls per hundred packets.  A host seen again within a second
 * (the packets of one connection, a client opening several at once) is
 * written once.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grey.h"
#include "log.h"
#include "spamlogd.h"

#define BATCH_MAX	512	/* hosts per transaction */
#define COALESCE_MS	1000	/* one write per host and second */
#define CACHE_SLOTS	8192	/* power of two */
#define FW_RETRY	10	/* seconds between tries of failing sets */
#define WARN_EVERY	60

struct cslot {
	struct addr	 addr;
	uint64_t	 ms;
	enum pkt_dir	 dir;
};

struct job {
	struct addr	 addr;
	enum pkt_dir	 dir;
	enum grey_seen	 res;
	time_t		 expire;	/* after the update */
	int32_t		 pcount;
};

/* Jobs of each result, indexed by enum grey_seen. */
struct counts {
	uint64_t	 n[GREY_SEEN_TRAPPED + 1];
};

/* One run of the batch's transaction: when it ran, what it did. */
struct flush_ctx {
	time_t		 now;
	struct counts	 cn;
};

static struct store	*up_st;
static struct nftset	*up_ns;
static time_t		 up_whiteexp;
static uint32_t		 up_seed;
static struct cslot	 cache[CACHE_SLOTS];
static struct job	 jobs[BATCH_MAX];
static size_t		 njobs;
static int		 fw_failing;
static time_t		 fw_lasttry, db_lastwarn;
static struct syncnet	*up_sync;
static const struct sync_key *up_key;

void
update_init(struct store *st, struct nftset *ns, time_t whiteexp,
    struct syncnet *sn, const struct sync_key *key)
{
	up_st = st;
	up_ns = ns;
	up_sync = sn;
	up_key = key;
	up_whiteexp = whiteexp;
	up_seed = arc4random();
}

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
update_queue(const struct addr *a, enum pkt_dir dir)
{
	/* Seeded: a flood of colliding addresses only costs writes. */
	struct cslot	*c = &cache[addr_hash(a, up_seed) & (CACHE_SLOTS - 1)];
	uint64_t	 t = now_ms();

	if (c->dir == dir && addr_cmp(&c->addr, a) == 0 &&
	    t - c->ms < COALESCE_MS) {
		stats.coalesced++;
		return;
	}
	c->addr = *a;
	c->dir = dir;
	c->ms = t;
	jobs[njobs].addr = *a;
	jobs[njobs].dir = dir;
	if (++njobs == BATCH_MAX)
		update_flush();
}

/* The batch in one transaction, run again by store_txn on deadlock. */
static int
update_txn(struct store *st, void *arg)
{
	struct flush_ctx *fc = arg;
	struct counts	*cn = &fc->cn;
	struct gdata	 gd;
	struct job	*j;
	char		 key[INET6_ADDRSTRLEN];
	time_t		 now;
	size_t		 i;
	int		 rv;

	now = fc->now = time(NULL);
	memset(cn, 0, sizeof(*cn));
	for (i = 0; i < njobs; i++) {
		j = &jobs[i];
		addr_str(&j->addr, key, sizeof(key));
		rv = grey_white_seen(st, up_whiteexp, now, key,
		    j->dir != DIR_IN, &j->res, &gd);
		if (rv != STORE_OK)
			return rv;
		cn->n[j->res]++;
		j->expire = gd.expire;
		j->pcount = gd.pcount;
	}
	return STORE_OK;
}

static void
job_log(const struct job *j, time_t now)
{
	char		 buf[INET6_ADDRSTRLEN];
	const char	*dir = j->dir == DIR_IN ? "inbound" : "outbound";

	addr_str(&j->addr, buf, sizeof(buf));
	switch (j->res) {
	case GREY_SEEN_CREATED:
		log_debug("%s %s: new WHITE entry, expires in %lld s", dir,
		    buf, (long long)(j->expire - now));
		break;
	case GREY_SEEN_EXTENDED:
		log_debug("%s %s: WHITE entry extended, pcount %d, expires "
		    "in %lld s", dir, buf, (int)j->pcount,
		    (long long)(j->expire - now));
		break;
	case GREY_SEEN_NOTWHITE:
		log_debug("%s %s: not WHITE in the database, left alone",
		    dir, buf);
		break;
	case GREY_SEEN_TRAPPED:
		log_debug("%s %s: TRAPPED, left alone", dir, buf);
		break;
	}
}

static void
update_sets(time_t now)
{
	char		 err[512];
	size_t		 i, n = 0;

	if (up_ns == NULL)
		return;
	/* Failing sets log every try: try again only now and then. */
	if (fw_failing && now - fw_lasttry < FW_RETRY)
		return;
	fw_lasttry = now;
	nftset_begin(up_ns);
	for (i = 0; i < njobs; i++) {
		if (jobs[i].res != GREY_SEEN_CREATED &&
		    jobs[i].res != GREY_SEEN_EXTENDED)
			continue;
		if (nftset_queue_white(up_ns, &jobs[i].addr, jobs[i].expire,
		    now) == 1)
			n++;
	}
	if (n == 0) {
		nftset_begin(up_ns);	/* drop anything half queued */
		return;
	}
	if (nftset_commit(up_ns) == -1) {
		stats.fwerrors += n;
		if (!fw_failing) {
			if (nftset_check(up_ns, err, sizeof(err)) == -1)
				log_warnx("firewall: %s; the database is "
				    "updated all the same", err);
			else
				log_warnx("firewall: cannot refresh the "
				    "whitelist sets; the database is updated "
				    "all the same");
		}
		fw_failing = 1;
		return;
	}
	if (fw_failing)
		log_info("firewall: the whitelist sets take our updates "
		    "again");
	fw_failing = 0;
}

/* WHITE to the sync peers for every entry made or moved on (-Y). */
static void
update_sync(time_t now)
{
	struct sync_entry	 e;
	size_t			 i;

	if (up_sync == NULL || !syncnet_sending(up_sync))
		return;
	for (i = 0; i < njobs; i++) {
		if (jobs[i].res != GREY_SEEN_CREATED &&
		    jobs[i].res != GREY_SEEN_EXTENDED)
			continue;
		memset(&e, 0, sizeof(e));
		e.type = SYNC_WHITE;
		e.ip = jobs[i].addr;
		e.timestamp = (uint32_t)now;
		e.expire = (uint32_t)jobs[i].expire;
		if (syncnet_send(up_sync, up_key, &e) == 0)
			stats.synced++;
	}
}

void
update_flush(void)
{
	struct flush_ctx fc;
	time_t		 now;
	size_t		 i;
	int		 rv;

	if (njobs == 0)
		return;
	memset(&fc, 0, sizeof(fc));
	/*
	 * A database broken by a process that died inside it is reopened
	 * (store_mend), and a batch that met the break runs once more.
	 */
	rv = STORE_ERR;
	if (store_mend(up_st) == 0 &&
	    (rv = store_txn(up_st, update_txn, &fc)) != STORE_OK &&
	    store_broken(up_st) && store_mend(up_st) == 0)
		rv = store_txn(up_st, update_txn, &fc);
	now = fc.now != 0 ? fc.now : time(NULL);
	if (rv != STORE_OK) {
		stats.dberrors += njobs;
		if (now - db_lastwarn >= WARN_EVERY) {
			log_warnx("database: %zu update%s lost (%s)", njobs,
			    njobs == 1 ? "" : "s", rv == STORE_RETRY ?
			    "deadlocked again and again" : "error");
			db_lastwarn = now;
		}
		njobs = 0;
		return;
	}
	stats.extended += fc.cn.n[GREY_SEEN_EXTENDED];
	stats.created += fc.cn.n[GREY_SEEN_CREATED];
	stats.notwhite += fc.cn.n[GREY_SEEN_NOTWHITE];
	stats.trapped += fc.cn.n[GREY_SEEN_TRAPPED];
	if (log_getverbose())
		for (i = 0; i < njobs; i++)
			job_log(&jobs[i], now);
	update_sets(now);
	update_sync(now);
	njobs = 0;
}
