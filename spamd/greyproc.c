/*
 * The greylister: the process that owns the database and the firewall
 * sets.  It reads fixed-size tuple records from the SMTP engine, applies
 * the greylisting policy (lib/grey.c) at once, so a passing retry is
 * whitelisted within milliseconds, and scans the database periodically
 * to expire entries.  It never parses SMTP.
 */
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "firewall.h"
#include "blacklist.h"
#include "blfile.h"
#include "greymsg.h"
#include "gsync.h"
#include "trapdom.h"
#include "log.h"
#include "metrics.h"
#include "nftwatch.h"
#include "sdnotify.h"
#include "spamd.h"
#include "srctab.h"

#define MSGS_PER_WAKEUP	256	/* bound one burst so scans are not starved */
#define TRAP_SEND_MS	1000	/* longest wait for the engine to read */
#define GP_SOURCES	65536	/* sources whose GREY entries are counted */
#define NAG_SECS	10	/* repeated warnings at most this often */

static volatile sig_atomic_t	gp_quit;
static volatile sig_atomic_t	gp_child;
static volatile sig_atomic_t	gp_hup;
static int			gp_fd;		/* to the engine */
static time_t			gp_start;	/* for -M's grace minute */

/*
 * The TRAPPED entries one scan found, and a count and an
 * order-independent hash of them, compared with those of the list last
 * sent so that the engine gets the list only when it changed.
 */
struct trap {
	char	ip[INET6_ADDRSTRLEN];
	int64_t	expire;
};
static struct {
	struct trap	*v;
	size_t		 n, cap;
	uint64_t	 hash;
} gp_traps;
static size_t			gp_sent_n;
static uint64_t			gp_sent_hash;

/*
 * GREY entries per source (-L grey=), counted again at every complete
 * scan into gp_srcs_next, and counted up as tuples are added.  When
 * more sources than GP_SOURCES have entries, the others go uncounted:
 * a flood from many networks must not stop greylisting for the rest;
 * the free-space threshold (-L free=) still bounds the database.
 */
static struct srctab		*gp_srcs, *gp_srcs_next;

static void	gp_trap_send(int, const char *, int64_t);
static void	gp_trap_live(const char *, const struct gdata *, void *);
static void	gp_traps_flush(void);
static const char *gp_trap_reason(struct store *, const char *,
		    const char *, const char *, const char *, const char *,
		    time_t, char *, size_t);

static int	gp_may_create(const char *, struct addr *, const char *,
		    const char *);
static int	gp_disk_low(void);
static void	gp_grey_live(const char *, void *);
static void	gp_signal(int);
static int	gp_field_ok(const char *, size_t);
static void	gp_tuple(struct store *, const struct grey_msg *);
static void	gp_greylist(struct store *, const char *, const char *,
		    const char *, const char *, const char *, int);
static void	gp_sync_entry(const struct sync_entry *, const char *,
		    void *);
static void	gp_sync(struct store *, struct grey_msg *);
static void	gp_black(struct store *);
static int	gp_read(struct store *, int);
static int	gp_mend(struct store *);
static int	gp_scan(struct store *);
static void	gp_white_gone(const char *, void *);
static void	gp_white_new(const char *, const struct gdata *, void *);
static void	gp_white_live(const char *, const struct gdata *, void *);
static time_t	gp_scan_interval(void);

static void
gp_signal(int sig)
{
	if (sig == SIGCHLD)
		gp_child = 1;
	else if (sig == SIGHUP)
		gp_hup = 1;
	else
		gp_quit = 1;
}

/* A string field must end inside its buffer. */
static int
gp_field_ok(const char *f, size_t len)
{
	return memchr(f, '\0', len) != NULL;
}

static void
gp_tuple(struct store *st, const struct grey_msg *m)
{
	char	 ip[INET6_ADDRSTRLEN];

	if (!gp_field_ok(m->ip, sizeof(m->ip)) ||
	    !gp_field_ok(m->dst, sizeof(m->dst)) ||
	    !gp_field_ok(m->helo, sizeof(m->helo)) ||
	    !gp_field_ok(m->from, sizeof(m->from)) ||
	    !gp_field_ok(m->to, sizeof(m->to))) {
		log_warnx("greylister: dropped record with an unterminated "
		    "field");
		return;
	}
	if (addr_canon(m->ip, ip, sizeof(ip)) == -1) {
		log_warnx("greylister: dropped record with bad address");
		return;
	}
	if (strchr(m->helo, '\n') != NULL || strchr(m->from, '\n') != NULL ||
	    strchr(m->to, '\n') != NULL) {
		log_warnx("greylister: dropped record for %s with a newline "
		    "in a field", ip);
		return;
	}
	gp_greylist(st, ip, m->dst, m->helo, m->from, m->to, 0);
}

/* Whether to log a warning that may repeat many times a second. */
static int
gp_nag(time_t *last)
{
	time_t	 now = time(NULL);

	if (*last != 0 && now - *last < NAG_SECS)
		return 0;
	*last = now;
	return 1;
}

/*
 * Below -L free= megabytes on the database's file system, a full disk
 * is near: BDB would fail every write then, retries and expiry too.
 * Checked at most once a second.
 */
static int
gp_disk_low(void)
{
	static time_t		 checked, lastnag;
	static int		 low;
	struct statvfs		 sv;
	unsigned long long	 mb;
	time_t			 now = time(NULL);

	if (conf.minfree == 0 || now == checked)
		return low;
	checked = now;
	if (statvfs(conf.dbpath, &sv) == -1) {
		if (gp_nag(&lastnag))
			log_warn("statvfs %s", conf.dbpath);
		return low = 0;
	}
	mb = (unsigned long long)sv.f_bavail * sv.f_frsize / (1024 * 1024);
	if (mb < (unsigned long long)conf.minfree) {
		if (!low || gp_nag(&lastnag))
			log_warnx("%llu MB free on the file system of %s, "
			    "under -L free=%lld: new GREY entries refused", mb,
			    conf.dbpath, conf.minfree);
		return low = 1;
	}
	if (low)
		log_info("%llu MB free on the file system of %s: new GREY "
		    "entries accepted again", mb, conf.dbpath);
	return low = 0;
}

/*
 * May ip (canonical) get a new GREY entry?  Not when its source holds
 * -L grey= already, nor when the disk is nearly full.  *a is set to ip.
 */
static int
gp_may_create(const char *ip, struct addr *a, const char *from,
    const char *to)
{
	static time_t		 lastnag;
	static unsigned long	 refused;
	unsigned int		 n;

	if (addr_parse(a, ip) == -1)
		return 1;
	if (gp_disk_low())
		return 0;
	if ((n = srctab_count(gp_srcs, a)) < (unsigned int)conf.maxsrcgrey)
		return 1;
	refused++;
	if (gp_nag(&lastnag))
		log_warnx("%s: %u GREY entries from its %s, the limit (-L "
		    "grey=): tuple %s -> %s not recorded (%lu refused so far)",
		    ip, n, a->af == AF_INET6 ? "/64" : "address", from, to,
		    refused);
	return 0;
}

/* A GREY tuple the scan keeps, counted for its source. */
static void
gp_grey_live(const char *ip, void *arg)
{
	struct addr	 a;

	(void)arg;
	if (addr_parse(&a, ip) == 0)
		(void)srctab_add(gp_srcs_next, &a, 1);
}

/*
 * Greylist the tuple of ip (canonical) at once.  A tuple from a sync
 * peer (synced) is not sent on, and -M does not apply to it: it did not
 * come to our low-priority address.
 */
static void
gp_greylist(struct store *st, const char *ip, const char *dst,
    const char *helo, const char *from, const char *to, int synced)
{
	struct gdata		 white, trapped;
	struct addr		 a;
	enum grey_result	 r;
	const char		*reason;
	char			 why[128];
	time_t			 now;
	int			 was_white, create;

	now = time(NULL);
	if ((reason = gp_trap_reason(st, ip, synced ? "" : dst, helo, from,
	    to, now, why, sizeof(why))) != NULL) {
		if (grey_trap(st, &conf.gc, now, ip, &trapped, &was_white) ==
		    GREY_FAIL)
			return;
		log_info("trapping %s for tuple %s %s %s: %s%s", ip, helo,
		    from, to, reason, synced ? " (from sync)" : "");
		metrics_trapped();
		if (was_white)
			fw_white_del(ip);
		gp_trap_send(GM_TRAP_ADD, ip, trapped.expire);
		if (!synced)
			gsync_trapped(ip, trapped.expire, now);
		return;
	}
	create = gp_may_create(ip, &a, from, to);
	r = grey_tuple_lim(st, &conf.gc, now, ip, helo, from, to, create,
	    &white);
	metrics_tuple(r);
	switch (r) {
	case GREY_REFUSED:
		return;
	case GREY_FAIL:
		log_warnx("can't update %s in the database for %s -> %s",
		    ip, from, to);
		return;
	case GREY_NEW:
		log_debug("new %sentry %s from %s to %s, helo %s",
		    synced ? "synced " : "", ip, from, to, helo);
		if (a.af != 0)
			(void)srctab_add(gp_srcs, &a, 1);
		break;
	case GREY_EARLY:
		log_debug("retry of %s from %s to %s, not passed yet%s",
		    ip, from, to, synced ? " (from sync)" : "");
		break;
	case GREY_PASSED:
		log_info("whitelisting %s: %s -> %s passed%s", ip, from, to,
		    synced ? " (retry seen by a sync peer)" : "");
		fw_white_add(ip, white.expire, now);
		break;
	case GREY_WHITE:
		/* Already WHITE but still redirected: the set lost it. */
		log_debug("%s is already whitelisted, refreshing its "
		    "element", ip);
		fw_white_add(ip, white.expire, now);
		break;
	case GREY_TRAPPED:
		log_debug("%s is trapped, not whitelisted", ip);
		return;
	}
	if (!synced)
		gsync_grey(ip, helo, from, to, now);
}

/* Is ip on a blacklist the engine saved?  For grey_white_drop. */
static int
gp_listed(const char *ip, void *arg)
{
	struct addr	 a;

	(void)arg;
	return addr_parse(&a, ip) == 0 && bl_match(&a) != NULL;
}

static void
gp_unlisted(const char *ip, void *arg)
{
	const struct bl_hit	*h;
	struct addr		 a;

	(void)arg;
	h = addr_parse(&a, ip) == 0 ? bl_match(&a) : NULL;
	log_info("%s blacklisted (%s), removing from whitelist", ip,
	    h != NULL ? h->tags : "?");
	fw_white_del(ip);
}

/*
 * New blacklists: read them where the engine saved them and take every
 * listed host off the whitelist at once, in the database and the sets,
 * as OpenBSD's greylister does at its scan.  spamd-setup leaves the
 * bypass list (nospamd) out of what it sends, so those hosts stay.
 */
static void
gp_black(struct store *st)
{
	int	 n;

	bl_quiet(1);
	bl_keep_only(NULL, 0);
	blfile_load();
	if (bl_nlists() == 0)
		return;
	n = grey_white_drop(st, gp_listed, gp_unlisted, NULL);
	if (n == -1)
		log_warnx("blacklists: could not take listed hosts off the "
		    "whitelist; the next load tries again");
	else if (n > 0)
		log_info("blacklists: %d listed host%s taken off the "
		    "whitelist", n, n == 1 ? "" : "s");
}

/* A datagram from a sync peer, forwarded by the engine. */
static void
gp_sync(struct store *st, struct grey_msg *m)
{
	char	 peer[INET6_ADDRSTRLEN];

	if (!gp_field_ok(m->ip, sizeof(m->ip)) ||
	    addr_canon(m->ip, peer, sizeof(peer)) == -1 ||
	    m->len > sizeof(m->sync)) {
		log_warnx("greylister: dropped a malformed sync record");
		return;
	}
	gsync_recv(m->sync, m->len, peer, time(NULL), gp_sync_entry, st);
}

/* One entry of a sync datagram that passed gsync_recv's checks. */
static void
gp_sync_entry(const struct sync_entry *e, const char *peer, void *arg)
{
	struct store	*st = arg;
	struct gdata	 rec;
	char		 ip[INET6_ADDRSTRLEN];
	time_t		 now = time(NULL);
	int		 r, was_white;

	addr_str(&e->ip, ip, sizeof(ip));
	if (e->type == SYNC_GREY) {
		if (strlen(e->helo) >= GD_FIELD_MAX ||
		    strlen(e->from) >= GD_FIELD_MAX ||
		    strlen(e->to) >= GD_FIELD_MAX) {
			log_warnx("sync: tuple of %s from %s: a field is too "
			    "long, dropped", ip, peer);
			return;
		}
		gp_greylist(st, ip, "", e->helo, e->from, e->to, 1);
		return;
	}
	r = grey_sync(st, now, ip, e->type == SYNC_TRAPPED,
	    (time_t)e->expire, &rec, &was_white);
	switch (r) {
	case GREY_SYNC_STALE:
		log_debug("sync: %s for %s from %s already expired",
		    e->type == SYNC_TRAPPED ? "TRAP" : "WHITE", ip, peer);
		break;
	case GREY_SYNC_WHITE:
		log_debug("new WHITE from %s for %s, expires %lld", peer, ip,
		    (long long)rec.expire);
		fw_white_add(ip, rec.expire, now);
		break;
	case GREY_SYNC_TRAPPED:
		log_debug("new TRAP from %s for %s, expires %lld", peer, ip,
		    (long long)rec.expire);
		if (was_white)
			fw_white_del(ip);
		gp_trap_send(GM_TRAP_ADD, ip, rec.expire);
		break;
	case GREY_SYNC_KEPT:
		log_debug("sync: WHITE for %s from %s, but it is trapped "
		    "here", ip, peer);
		break;
	}
}

/*
 * Why this tuple traps its sender, or NULL: its recipient is a
 * SPAMTRAP, or outside the allowed domains, or it is new and came to
 * the low-priority MX address (-M), which no honest sender tries before
 * the primary one.  In the first minute after start (or passtime, if
 * shorter) we may not have seen the tuple at the primary yet.
 */
static const char *
gp_trap_reason(struct store *st, const char *ip, const char *mdst,
    const char *helo, const char *from, const char *to, time_t now,
    char *buf, size_t len)
{
	char	 dst[INET6_ADDRSTRLEN];

	if (grey_spamtrap(st, to) == 1)
		return "recipient is a spamtrap";
	if (trapdom_trap(to))
		return "recipient outside the allowed domains";
	if (conf.lowprio_mx != NULL && mdst[0] != '\0' &&
	    addr_canon(mdst, dst, sizeof(dst)) == 0 &&
	    strcmp(dst, conf.lowprio_mx) == 0 &&
	    now - gp_start > (conf.gc.passtime < 60 ? conf.gc.passtime : 60) &&
	    grey_known(st, now, ip, helo, from, to) == 0) {
		snprintf(buf, len, "tried the low-priority MX %s first", dst);
		return buf;
	}
	return NULL;
}

/*
 * To the engine.  Never blocks for long: an engine that stops reading
 * must not stop greylisting, scans and expiry.  A message that cannot go
 * within TRAP_SEND_MS is dropped and logged, and so is every message
 * after it, at once, until one goes again (else a list of thousands
 * would wait a second each); the next scan sends the whole list again.
 */
static void
gp_trap_send(int type, const char *ip, int64_t expire)
{
	static time_t	 lastnag;
	static unsigned	 dropped;
	static int	 stuck;		/* the last message was dropped */
	struct grey_msg	 m;
	struct pollfd	 pfd;
	time_t		 t;

	memset(&m, 0, sizeof(m));
	m.version = GREYMSG_VERSION;
	m.type = (uint8_t)type;
	m.expire = expire;
	if (ip != NULL)
		strlcpy(m.ip, ip, sizeof(m.ip));
	pfd.fd = gp_fd;
	pfd.events = POLLOUT;
	while (send(gp_fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && !stuck &&
		    poll(&pfd, 1, TRAP_SEND_MS) == 1)
			continue;
		stuck = 1;
		dropped++;
		t = time(NULL);
		if (lastnag == 0 || t - lastnag >= 60) {
			log_warn("greylister: send to the engine (%u trap "
			    "updates dropped; the engine is not reading)",
			    dropped);
			lastnag = t;
		}
		return;
	}
	stuck = 0;
}

static void
gp_trap_live(const char *ip, const struct gdata *gd, void *arg)
{
	struct trap	*v;

	(void)arg;
	if (gp_traps.n == gp_traps.cap) {
		size_t	ncap = gp_traps.cap ? gp_traps.cap * 2 : 64;

		if ((v = reallocarray(gp_traps.v, ncap, sizeof(*v))) == NULL) {
			log_warn("greytrap list");
			return;
		}
		gp_traps.v = v;
		gp_traps.cap = ncap;
	}
	v = &gp_traps.v[gp_traps.n++];
	strlcpy(v->ip, ip, sizeof(v->ip));
	v->expire = gd->expire;
	gp_traps.hash += fnv1a(ip, strlen(ip), FNV1A_BASIS) ^
	    (uint64_t)gd->expire;
}

/* After a scan: send the greytrap list if it changed. */
static void
gp_traps_flush(void)
{
	size_t	 i;

	if (gp_traps.n != gp_sent_n || gp_traps.hash != gp_sent_hash) {
		gp_trap_send(GM_TRAP_BEGIN, NULL, 0);
		for (i = 0; i < gp_traps.n; i++)
			gp_trap_send(GM_TRAP_ADD, gp_traps.v[i].ip,
			    gp_traps.v[i].expire);
		gp_trap_send(GM_TRAP_END, NULL, 0);
		log_debug("greytrap list: %zu addresses", gp_traps.n);
		gp_sent_n = gp_traps.n;
		gp_sent_hash = gp_traps.hash;
	}
	gp_traps.n = 0;
	gp_traps.hash = 0;
}

/*
 * A broken database (panicked by a process that died inside it, or by
 * a recovery run elsewhere) is reopened, and the sets are rebuilt from
 * it, since what was committed last may not have reached them.
 */
static int
gp_mend(struct store *st)
{
	if (!store_broken(st))
		return 0;
	if (store_mend(st) == -1)
		return -1;
	fw_reconcile(st, time(NULL));
	return 0;
}

/*
 * Read what the engine sent.  Returns -1 when the engine has gone away.
 * A bad record is logged and dropped (greymsg.c).  A record that met a
 * database broken meanwhile is run once more on the reopened one.
 */
static int
gp_read(struct store *st, int fd)
{
	struct grey_msg	 m;
	int		 i;

	/* One nft transaction for what a burst whitelists. */
	fw_batch_begin();
	for (i = 0; i < MSGS_PER_WAKEUP; i++) {
		switch (greymsg_recv(fd, &m, "the engine")) {
		case GMR_NONE:
			fw_batch_end();
			return 0;
		case GMR_ERROR:
			fw_batch_end();
			log_warn("greylister: recv");
			return -1;
		case GMR_EOF:
			fw_batch_end();
			return -1;
		case GMR_DROPPED:
			break;
		case GMR_RECORD:
			if (m.type == GM_STATS) {
				metrics_engine(&m);
				break;
			}
			if (m.type != GM_TUPLE && m.type != GM_SYNC &&
			    m.type != GM_BLACK) {
				log_warnx("greylister: dropped record of "
				    "type %u", m.type);
				break;
			}
			(void)gp_mend(st);
			if (m.type == GM_TUPLE)
				gp_tuple(st, &m);
			else if (m.type == GM_SYNC)
				gp_sync(st, &m);
			else
				gp_black(st);
			/* A sync datagram would meet its replay guard. */
			if (m.type == GM_TUPLE && store_broken(st) &&
			    gp_mend(st) == 0)
				gp_tuple(st, &m);
			break;
		}
	}
	fw_batch_end();
	return 0;
}

static void
gp_white_gone(const char *ip, void *arg)
{
	(void)arg;
	log_debug("deleting expired whitelist entry %s", ip);
	fw_white_del(ip);
}

static void
gp_white_new(const char *ip, const struct gdata *gd, void *arg)
{
	time_t	*now = arg;

	log_info("whitelisting %s", ip);
	metrics_promoted();
	fw_white_add(ip, gd->expire, *now);
}

static void
gp_white_live(const char *ip, const struct gdata *gd, void *arg)
{
	time_t	*now = arg;

	fw_scan_live(ip, gd, *now);
}

/*
 * One scan.  Returns 1 when it stopped with more to expire: the live
 * entries it reported are then only part of the store and are dropped,
 * and the caller scans again soon.
 */
static int
gp_scan(struct store *st)
{
	struct grey_scan_cb	cb;
	struct grey_scan_stats	stats;
	struct srctab		*t;
	time_t			now;

	now = time(NULL);
	memset(&cb, 0, sizeof(cb));
	memset(&stats, 0, sizeof(stats));
	cb.white_gone = gp_white_gone;
	cb.white_new = gp_white_new;
	cb.white_live = gp_white_live;
	cb.trap_live = gp_trap_live;
	cb.grey_live = gp_grey_live;
	cb.arg = &now;
	srctab_clear(gp_srcs_next);
	fw_scan_begin();
	if (grey_scan(st, &conf.gc, now, &cb, &stats) == -1 || stats.more) {
		if (!stats.more)
			log_notice("scan of %s failed", conf.dbpath);
		else
			log_info("scan: %lu entries expired, %lu promoted, "
			    "more to do", stats.deleted, stats.promoted);
		fw_scan_end(NULL, now);
		gp_traps.n = 0;
		gp_traps.hash = 0;
		return stats.more;
	}
	fw_scan_end(st, now);
	gp_traps_flush();
	t = gp_srcs;
	gp_srcs = gp_srcs_next;
	gp_srcs_next = t;
	metrics_scan(st, now);
	if (stats.deleted || stats.promoted || stats.bogus)
		log_debug("scan: %lu entries, %lu expired, %lu promoted, "
		    "%lu bogus", stats.seen, stats.deleted, stats.promoted,
		    stats.bogus);
	return 0;
}

/*
 * Scan every minute as OpenBSD does, more often when the configured
 * lifetimes are shorter than that, so entries never outlive them much.
 */
static time_t
gp_scan_interval(void)
{
	time_t	 t = SCAN_INTERVAL;

	if (conf.gc.greyexp / 4 < t)
		t = conf.gc.greyexp / 4;
	if (conf.gc.whiteexp / 4 < t)
		t = conf.gc.whiteexp / 4;
	return t < 1 ? 1 : t;
}

void
greyproc_run(struct store *st, int fd, pid_t engine)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct pollfd	 pfd, pfds[2];
	struct timespec	 ts, wait;
	sigset_t	 waitmask;
	time_t		 next_scan, interval, now, t;
	int		 status;
	pid_t		 pid;

	/* Signals are let in only while ppoll waits, as in the engine. */
	loopsig_init(gp_signal, sigs, sizeof(sigs) / sizeof(sigs[0]),
	    &waitmask);

	gp_fd = fd;
	gp_start = time(NULL);
	if ((gp_srcs = srctab_new(GP_SOURCES)) == NULL ||
	    (gp_srcs_next = srctab_new(GP_SOURCES)) == NULL)
		fatal("per-source table");
	trapdom_init(conf.alloweddomains);
	fw_reconcile(st, time(NULL));
	fw_batch_begin();
	gp_black(st);		/* hosts listed while we were down */
	fw_batch_end();
	gp_scan(st);		/* expire what went stale, send the traps */

	interval = gp_scan_interval();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	next_scan = ts.tv_sec + interval;
	log_info("greylisting: passtime %llds, greyexp %llds, whiteexp "
	    "%llds, database %s", (long long)conf.gc.passtime,
	    (long long)conf.gc.greyexp, (long long)conf.gc.whiteexp,
	    conf.dbpath);
	sdnotify_ready();	/* listening, database open, -F loaded */

	for (;;) {
		if (gp_quit) {
			log_info("exiting on signal");
			sdnotify("STOPPING=1");
			kill(engine, SIGTERM);
			kill(engine, SIGCONT);	/* a stopped one too */
			waitpid(engine, NULL, 0);
			metrics_exit(st, fd);
			store_close(st);
			exit(0);
		}
		if (gp_hup) {
			gp_hup = 0;
			log_info("SIGHUP: reading %s again",
			    conf.alloweddomains);
			trapdom_reload();
			nftwatch_hup(st);
			/* The engine re-reads the TLS pair (tls.c). */
			if (kill(engine, SIGHUP) == -1)
				log_warn("SIGHUP to the smtp engine");
		}
		if (gp_child) {
			gp_child = 0;
			pid = waitpid(engine, &status, WNOHANG);
			if (pid == engine) {
				log_warnx("smtp engine exited (status %d), "
				    "exiting", status);
				store_close(st);
				exit(1);
			}
		}

		if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
			fatal("clock_gettime");
		now = ts.tv_sec;
		if (now >= next_scan && gp_mend(st) == 0) {
			/* More to expire: again once what is queued is read. */
			next_scan = now + (gp_scan(st) ? 0 : interval);
		}
		wait.tv_sec = next_scan > now ? next_scan - now : 1;
		wait.tv_nsec = 0;
		/* Broken and not reopened: try again in a second. */
		if (store_broken(st))
			wait.tv_sec = 1;
		if ((t = metrics_tick(now, 0)) < wait.tv_sec)
			wait.tv_sec = t;
		if ((t = nftwatch_tick(st, now)) < wait.tv_sec)
			wait.tv_sec = t;

		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		pfds[0] = pfd;
		pfds[1].fd = nftwatch_fd();	/* -1 without -F: ignored */
		pfds[1].events = POLLIN;
		pfds[1].revents = 0;
		if (ppoll(pfds, 2, &wait, &waitmask) == -1) {
			if (errno == EINTR)
				continue;
			fatal("greylister: ppoll");
		}
		pfd = pfds[0];
		if (pfds[1].revents != 0)
			nftwatch_read(st);
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			if (gp_read(st, fd) == -1) {
				log_warnx("smtp engine went away, exiting");
				kill(engine, SIGTERM);
				waitpid(engine, NULL, 0);
				store_close(st);
				exit(1);
			}
		}
	}
}
