/*
 * Firewall glue of the greylister: keeps the nft sets spamd-white and
 * spamd-white6 in step with the WHITE entries of the database.
 *
 * What we put in the sets is remembered in a tree (address -> expire),
 * so that each scan can tell what other processes changed in the
 * database (spamdb, spamlogd, sync) and send only the difference.  An
 * element the kernel refuses is left out and logged (nftset.c); when
 * the table or a set is missing we say so (again each hour), keep
 * greylisting, and try a full reconcile after each scan until it works.
 */
#include <sys/tree.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "firewall.h"
#include "grey.h"
#include "log.h"
#include "nftset.h"

#define FW_NAG_SECS	3600	/* a failure goes on: say so again */

struct fwent {
	RB_ENTRY(fwent)	 entry;
	struct addr	 addr;
	time_t		 expire;
	unsigned int	 gen;		/* scan that last saw it */
};

int		fwent_cmp(struct fwent *, struct fwent *);
RB_HEAD(fwtree, fwent);
RB_PROTOTYPE(fwtree, fwent, entry, fwent_cmp);
RB_GENERATE(fwtree, fwent, entry, fwent_cmp)

static struct nftset	*fw_ns;
static struct fwtree	 fw_tree = RB_INITIALIZER(&fw_tree);
static int		 fw_ok;		/* the sets took our last change */
static int		 fw_warned;	/* "sets missing" said already */
static unsigned int	 fw_gen;
static int		 fw_queued;	/* changes queued in this scan */
static int		 fw_inscan;	/* between scan_begin and scan_end */
static uint64_t		 fw_nops;	/* transactions sent (fw_counts) */
static uint64_t		 fw_nfails;	/* ... that failed */
static int		 fw_inbatch;	/* between batch_begin and batch_end */

int
fwent_cmp(struct fwent *a, struct fwent *b)
{
	return addr_cmp(&a->addr, &b->addr);
}

static void
fw_forget_all(void)
{
	struct fwent	*e, *next;

	RB_FOREACH_SAFE(e, fwtree, &fw_tree, next) {
		RB_REMOVE(fwtree, &fw_tree, e);
		free(e);
	}
}

static struct fwent *
fw_remember(const struct addr *a, time_t expire)
{
	struct fwent	 key, *e;

	key.addr = *a;
	if ((e = RB_FIND(fwtree, &fw_tree, &key)) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			log_warn("firewall: remember %s", "element");
			return NULL;
		}
		e->addr = *a;
		RB_INSERT(fwtree, &fw_tree, e);
	}
	e->expire = expire;
	e->gen = fw_gen;
	return e;
}

static void
fw_forget(const struct addr *a)
{
	struct fwent	 key, *e;

	key.addr = *a;
	if ((e = RB_FIND(fwtree, &fw_tree, &key)) != NULL) {
		RB_REMOVE(fwtree, &fw_tree, e);
		free(e);
	}
}

/* After a failed change: explain what is wrong, once an hour at most. */
static void
fw_failed(const char *what)
{
	static time_t	 last;
	char		 err[512];

	fw_nfails++;
	fw_ok = 0;
	fw_warned = 1;
	if (!log_nag(&last, FW_NAG_SECS))
		return;
	if (fw_ns != NULL && nftset_check(fw_ns, err, sizeof(err)) == -1)
		log_warnx("firewall: %s failed: %s; greylisting goes on in "
		    "the database and the sets are filled when they appear",
		    what, err);
	else
		log_warnx("firewall: %s failed; will retry after each scan",
		    what);
}

void
fw_init(const char *table, const char *set4, const char *set6)
{
	if ((fw_ns = nftset_open(table, set4, set6)) == NULL)
		log_warnx("firewall: cannot open netlink to nftables; "
		    "whitelisted hosts are kept in the database only");
}

struct fw_collect {
	struct nftset_elem	*el;
	size_t			 n, cap;
	time_t			 now;
	int			 oom;
};

static int
fw_collect_cb(const struct addr *a, const struct gdata *gd, void *arg)
{
	struct fw_collect	*fc = arg;
	struct nftset_elem	*el;

	if (gd->expire <= fc->now)
		return 0;
	if (fc->n == fc->cap) {
		size_t	ncap = fc->cap ? fc->cap * 2 : 1024;

		if ((el = reallocarray(fc->el, ncap, sizeof(*el))) == NULL) {
			fc->oom = 1;
			return 1;
		}
		fc->el = el;
		fc->cap = ncap;
	}
	el = &fc->el[fc->n++];
	el->addr = *a;
	el->timeout_ms = nftset_white_timeout(gd->expire, fc->now);
	return 0;
}

void
fw_reconcile(struct store *st, time_t now)
{
	struct fw_collect	 fc;
	struct timespec		 t0, t1;
	char			 err[512];
	size_t			 i;

	if (fw_ns == NULL)
		return;
	/* Still missing: said so already, again each hour until it is. */
	if (fw_warned && nftset_check(fw_ns, err, sizeof(err)) == -1) {
		fw_failed("reconciling the whitelist sets");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&fc, 0, sizeof(fc));
	fc.now = now;
	if (grey_walk_white(st, fw_collect_cb, &fc) != STORE_OK || fc.oom) {
		log_warnx("firewall: cannot read the WHITE entries to "
		    "reconcile the sets");
		free(fc.el);
		fw_ok = 0;
		return;
	}
	fw_forget_all();
	fw_nops++;
	if (nftset_replace(fw_ns, fc.el, fc.n) == -1) {
		fw_failed("reconciling the whitelist sets");
		free(fc.el);
		return;
	}
	for (i = 0; i < fc.n; i++)
		fw_remember(&fc.el[i].addr, now +
		    (time_t)(fc.el[i].timeout_ms / 1000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("firewall: whitelist sets hold the %zu WHITE entries of "
	    "the database (reconciled in %lld ms)", fc.n,
	    (long long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	fw_ok = 1;
	fw_warned = 0;
	free(fc.el);
}

void
fw_white_add(const struct addr *a, time_t expire, time_t now)
{
	if (fw_ns == NULL || !fw_ok || expire <= now)
		return;		/* the next reconcile brings it */
	if (fw_inscan || fw_inbatch) {
		if (nftset_queue_white(fw_ns, a, expire, now) == 1) {
			fw_queued++;
			fw_remember(a, expire);
		}
		return;
	}
	fw_nops++;
	if (nftset_add(fw_ns, a, nftset_white_timeout(expire, now)) == -1) {
		fw_failed("adding a whitelisted address");
		return;
	}
	fw_remember(a, expire);
}

void
fw_white_del(const struct addr *a)
{
	fw_forget(a);
	if (fw_ns == NULL || !fw_ok)
		return;
	if (fw_inscan || fw_inbatch) {
		if (nftset_queue_del(fw_ns, a) == 0)
			fw_queued++;
		return;
	}
	fw_nops++;
	if (nftset_del(fw_ns, a) == -1)
		fw_failed("deleting an expired address");
}

/* Send what is queued: 1 sent, 0 nothing to send, -1 failed (said). */
static int
fw_send(void)
{
	if (fw_queued == 0) {
		nftset_begin(fw_ns);	/* drop what is half queued */
		return 0;
	}
	fw_nops++;
	if (nftset_commit(fw_ns) == -1) {
		fw_failed("updating the whitelist sets");
		return -1;
	}
	return 1;
}

void
fw_batch_begin(void)
{
	if (fw_ns == NULL || !fw_ok || fw_inscan || fw_inbatch)
		return;
	nftset_begin(fw_ns);
	fw_queued = 0;
	fw_inbatch = 1;
}

void
fw_batch_end(void)
{
	if (!fw_inbatch)
		return;
	fw_inbatch = 0;
	(void)fw_send();
}

void
fw_scan_begin(void)
{
	fw_gen++;
	fw_queued = 0;
	if (fw_ns != NULL && fw_ok) {
		nftset_begin(fw_ns);
		fw_inscan = 1;
	}
}

void
fw_scan_live(const struct addr *a, const struct gdata *gd, time_t now)
{
	struct fwent	 key, *e;

	if (fw_ns == NULL || !fw_ok)
		return;
	key.addr = *a;
	e = RB_FIND(fwtree, &fw_tree, &key);
	if (e != NULL && e->expire == gd->expire) {
		e->gen = fw_gen;
		return;
	}
	/* New behind our back (spamdb -a) or expire moved (spamlogd). */
	if (nftset_queue_white(fw_ns, &key.addr, gd->expire, now) != 1)
		return;
	fw_queued++;
	fw_remember(&key.addr, gd->expire);
}

void
fw_scan_end(struct store *st, time_t now)
{
	struct fwent	*e, *next;
	char		 buf[INET6_ADDRSTRLEN];

	fw_inscan = 0;
	if (fw_ns == NULL)
		return;
	if (st == NULL) {		/* the scan failed: send nothing */
		nftset_begin(fw_ns);
		return;
	}
	if (!fw_ok) {
		fw_reconcile(st, now);
		return;
	}
	/* Gone from the database without a scan seeing it expire. */
	RB_FOREACH_SAFE(e, fwtree, &fw_tree, next) {
		if (e->gen == fw_gen)
			continue;
		log_debug("firewall: %s left the database, removing it",
		    addr_str(&e->addr, buf, sizeof(buf)));
		if (nftset_queue_del(fw_ns, &e->addr) == 0)
			fw_queued++;
		RB_REMOVE(fwtree, &fw_tree, e);
		free(e);
	}
	if (fw_send() == 1)
		log_debug("firewall: %d set changes after scan", fw_queued);
}

void
fw_counts(uint64_t *ops, uint64_t *fails)
{
	*ops = fw_nops;
	*fails = fw_nfails;
}

long long
fw_elements(void)
{
	size_t	 n4, n6;

	if (fw_ns == NULL || !fw_ok || nftset_count(fw_ns, &n4, &n6) == -1)
		return -1;
	return (long long)(n4 + n6);
}
