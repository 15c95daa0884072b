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
#include "gpcompact.h"
#include "gpwhite.h"
#include "greymsg.h"
#include "gpdns.h"
#include "gsync.h"
#include "trapdom.h"
#include "trusted.h"
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
#define SYNC_LOG_MAX	30	/* peers' updates logged a minute */
#define NORETRY_LOG_MAX	1000	/* "no retry" lines a minute */

static volatile sig_atomic_t	gp_quit;
static volatile sig_atomic_t	gp_child;
static volatile sig_atomic_t	gp_hup;
static int			gp_fd;		/* to the engine */
static time_t			gp_start;	/* for -M's grace minute */
static struct addr		gp_lowprio;	/* -M, af 0 without */

/*
 * The TRAPPED entries one scan found, and a count and an
 * order-independent hash of them, compared with those of the list last
 * sent (sent_n, sent_hash) so that the engine gets the list only when
 * it changed.
 */
struct trap {
	struct addr	ip;
	int64_t		expire;
};
static struct {
	struct trap	*v;
	size_t		 n, cap, sent_n;
	uint64_t	 hash, sent_hash;
} gp_traps;

/*
 * GREY entries per source (-L grey=), counted again at every complete
 * scan into gp_srcs_next, and counted up as tuples are added.  When
 * more sources than GP_SOURCES have entries, the others go uncounted:
 * a flood from many networks must not stop greylisting for the rest;
 * the free-space threshold (-L free=) still bounds the database.
 */
static struct srctab		*gp_srcs, *gp_srcs_next;

static void	gp_trap_send(int, const struct addr *, int64_t);
static void	gp_trap_live(const struct addr *, const struct gdata *,
		    void *);
static void	gp_traps_flush(void);
static void	gp_policy(const struct grey_tuple *, int, time_t,
		    struct grey_policy *);
static void	gp_refused(const struct grey_tuple *, const char *);
static void	gp_trap_tell(const struct addr *, const struct grey_verdict *,
		    int, time_t);
static void	gp_pregreet(struct store *, struct grey_msg *);
static void	gp_spf_passed(const struct grey_tuple *,
		    const struct grey_verdict *);
static void	gp_trapped(const struct grey_tuple *,
		    const struct grey_verdict *, int, time_t);
static int	gp_disk_low(void);
static void	gp_grey_live(const struct addr *, void *);
static void	gp_signal(int);
static int	gp_field_ok(const char *, size_t);
static void	gp_tuple(struct store *, struct grey_msg *);
static void	gp_greylist(struct store *, const struct grey_tuple *, int);
static void	gp_sync_entry(const struct sync_entry *, const char *,
		    void *);
static void	gp_sync(struct store *, struct grey_msg *);
static void	gp_black(struct store *);
static int	gp_white_unlist(struct store *, const struct addr *,
		    const char *);
static void	gp_white_drop(struct store *);
static int	gp_read(struct store *, int);
static int	gp_mend(struct store *);
static int	gp_scan(struct store *);
static void	gp_white_gone(const struct addr *, void *);
static void	gp_white_new(const struct addr *, const struct gdata *,
		    void *);
static void	gp_white_live(const struct addr *, const struct gdata *,
		    void *);
static time_t	gp_scan_interval(void);
static const char *gp_dur(char *, size_t, time_t);
static void	gp_passed(const char *, const struct grey_tuple *,
		    const struct gdata *, int);
static void	gp_grey_gone(const char *, size_t, const struct gdata *,
		    void *);
static void	gp_exit(struct store *, pid_t, int) __attribute__((noreturn));

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

/*
 * A tuple from the engine: its strings end inside their fields and
 * hold no newline (the key's separator), its addresses are of a known
 * family.  Checked in place, so that a record run again after a
 * database repair passes the same way.
 */
/*
 * A trusted client reached spamd (before spamd-setup filled the trusted
 * sets, say): whitelisted at once, so that its retry reaches the MTA.
 */
static void
gp_trusted(struct store *st, const struct grey_tuple *t)
{
	struct gdata	 rec;
	char		 ip[INET6_ADDRSTRLEN];
	time_t		 now = time(NULL);

	addr_str(&t->ip, ip, sizeof(ip));
	if (grey_admin_set(st, &conf.gc, now, GD_WHITE, ip, &rec) !=
	    STORE_OK) {
		log_warnx("can't whitelist trusted %s in the database", ip);
		return;
	}
	log_info("whitelisting %s: trusted network, %s -> %s", ip, t->from,
	    t->to);
	fw_white_add(&t->ip, rec.expire, now);
}

static void
gp_tuple(struct store *st, struct grey_msg *m)
{
	struct grey_tuple	*t = &m->tuple;
	char			 ip[INET6_ADDRSTRLEN];

	if (!gp_field_ok(t->helo, sizeof(t->helo)) ||
	    !gp_field_ok(t->from, sizeof(t->from)) ||
	    !gp_field_ok(t->to, sizeof(t->to))) {
		log_warnx("greylister: dropped record with an unterminated "
		    "field");
		return;
	}
	if (addr_norm(&t->ip) == -1 ||
	    (t->dst.af != 0 && addr_norm(&t->dst) == -1)) {
		log_warnx("greylister: dropped record with bad address");
		return;
	}
	if (strchr(t->helo, '\n') != NULL || strchr(t->from, '\n') != NULL ||
	    strchr(t->to, '\n') != NULL) {
		log_warnx("greylister: dropped record for %s with a newline "
		    "in a field", addr_str(&t->ip, ip, sizeof(ip)));
		return;
	}
	if (trusted_match(&t->ip)) {
		gp_trusted(st, t);
		return;
	}
	gp_greylist(st, t, 0);
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
		if (log_nag(&lastnag, NAG_SECS))
			log_warn("statvfs %s", conf.dbpath);
		return low = 0;
	}
	mb = (unsigned long long)sv.f_bavail * sv.f_frsize / (1024 * 1024);
	if (mb < (unsigned long long)conf.minfree) {
		if (!low || log_nag(&lastnag, NAG_SECS))
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
 * What grey_decide cannot know: the recipient's domain (-A), whether
 * the tuple came to the low-priority MX (-M; not one from a sync peer,
 * which did not come to us) after the first minute, or passtime if
 * shorter, in which we may not have seen it at the primary yet, and
 * whether a new GREY entry may be written: not when the disk is nearly
 * full, nor when its source holds -L grey= already.
 */
static void
gp_policy(const struct grey_tuple *t, int synced, time_t now,
    struct grey_policy *p)
{
	time_t	 grace = conf.gc.passtime < 60 ? conf.gc.passtime : 60;

	p->domain_ok = !trapdom_trap(t->to);
	p->lowprio = !synced && gp_lowprio.af != 0 &&
	    addr_cmp(&t->dst, &gp_lowprio) == 0 && now - gp_start > grace;
	p->may_create = !gp_disk_low() &&
	    srctab_count(gp_srcs, &t->ip) < (unsigned int)conf.maxsrcgrey;
}

/* A new tuple not recorded: say why, unless the disk said it already. */
static void
gp_refused(const struct grey_tuple *t, const char *ip)
{
	static time_t		 lastnag;
	static unsigned long	 refused;
	unsigned int		 n;

	if (gp_disk_low()) {
		metrics_limit(SL_FREE);
		return;
	}
	metrics_limit(srctab_count_src(gp_srcs, &t->ip) <
	    (unsigned int)conf.maxsrcgrey ? SL_NETGREY : SL_GREY);
	n = srctab_count(gp_srcs, &t->ip);
	refused++;
	if (log_nag(&lastnag, NAG_SECS))
		log_warnx("%s: %u GREY entries from its %s, the limit (-L "
		    "grey=): tuple %s -> %s not recorded (%lu refused so far)",
		    ip, n, t->ip.af == AF_INET6 ? "/64" : "address", t->from,
		    t->to, refused);
}

/* The tuple trapped its sender: tell the firewall, engine and peers. */
static void
gp_trapped(const struct grey_tuple *t, const struct grey_verdict *v,
    int synced, time_t now)
{
	const char	*reason;
	char		 why[128];

	switch (v->why) {
	case GREY_WHY_SPAMTRAP:
		reason = "recipient is a spamtrap";
		break;
	case GREY_WHY_DOMAIN:
		reason = "recipient outside the allowed domains";
		break;
	default:
		snprintf(why, sizeof(why), "tried the low-priority MX %s "
		    "first", conf.lowprio_mx);
		reason = why;
		break;
	}
	log_info("trapping %s for tuple %s %s %s: %s%s", v->ip, t->helo,
	    t->from, t->to, reason, synced ? " (from sync)" : "");
	metrics_trapped();
	gp_trap_tell(&t->ip, v, synced, now);
}

/* ip is trapped (v): the firewall, the engine's list, sync peers. */
static void
gp_trap_tell(const struct addr *ip, const struct grey_verdict *v,
    int synced, time_t now)
{
	if (v->was_white)
		fw_white_del(ip);
	gp_trap_send(GM_TRAP_ADD, ip, v->rec.expire);
	/* now + trapexp even when a trap stands, as OpenBSD sends it. */
	if (!synced)
		gsync_trapped(ip, now + conf.gc.trapexp, now);
}

/*
 * The engine saw ip write before the banner ended (the pregreet
 * test): a bot.  It is trapped as a spamtrap hit traps its sender.
 */
static void
gp_pregreet(struct store *st, struct grey_msg *m)
{
	struct grey_verdict	 v;
	time_t			 now = time(NULL);

	if (addr_norm(&m->ip) == -1) {
		log_warnx("greylister: dropped pregreet record with bad "
		    "address");
		return;
	}
	if (grey_trap_ip(st, &conf.gc, now, &m->ip, GREY_WHY_PREGREET,
	    &v) != GREY_TRAPPED)
		return;
	log_info("trapping %s: spoke before the banner ended (pregreet)",
	    v.ip);
	metrics_pregreet();
	gp_trap_tell(&m->ip, &v, 0, now);
}

/* SPF-aware passing let ip by (grey.h): say so, count it, sync it. */
static void
gp_spf_passed(const struct grey_tuple *t, const struct grey_verdict *v)
{
	log_info("%s: passed by SPF domain %s: %s -> %s was first seen from "
	    "another address of it", v->ip, v->spfdom, t->from, t->to);
	metrics_spfpass();
	/* Peers never saw this address's first try: tell them it passed. */
	gsync_white(&t->ip, v->rec.expire, time(NULL));
}

/*
 * Greylist a tuple at once, and hand the verdict to the firewall, the
 * engine's trap list, sync peers and the metrics.  A tuple from a sync
 * peer (synced) is not sent on.
 */
static void
gp_greylist(struct store *st, const struct grey_tuple *t, int synced)
{
	struct grey_policy	 pol;
	struct grey_verdict	 v;
	time_t			 now = time(NULL);

	gp_policy(t, synced, now, &pol);
	grey_decide(st, &conf.gc, &pol, now, t, &v);
	if (v.why != GREY_WHY_NONE) {
		gp_trapped(t, &v, synced, now);
		return;
	}
	metrics_tuple(v.r);
	switch (v.r) {
	case GREY_REFUSED:
		gp_refused(t, v.ip);
		return;
	case GREY_FAIL:
		log_warnx("can't update %s in the database for %s -> %s",
		    v.ip, t->from, t->to);
		return;
	case GREY_NEW:
		log_debug("new %sentry %s from %s to %s, helo %s",
		    synced ? "synced " : "", v.ip, t->from, t->to, t->helo);
		(void)srctab_add(gp_srcs, &t->ip, 1);
		break;
	case GREY_EARLY:
		log_debug("retry of %s from %s to %s, not passed yet%s",
		    v.ip, t->from, t->to, synced ? " (from sync)" : "");
		break;
	case GREY_PASSED:
		if (gp_white_unlist(st, &t->ip, "passed"))
			break;
		if (v.spfdom[0] != '\0')
			gp_spf_passed(t, &v);
		gp_passed(v.ip, t, &v.rec, synced);
		fw_white_add(&t->ip, v.rec.expire, now);
		gpwhite_add(&t->ip);
		break;
	case GREY_WHITE:
		/* Already WHITE but still redirected: the set lost it. */
		log_debug("%s is already whitelisted, refreshing its "
		    "element", v.ip);
		fw_white_add(&t->ip, v.rec.expire, now);
		gpwhite_add(&t->ip);
		break;
	case GREY_TRAPPED:
		/* Peers still hear of the tuple, as from OpenBSD. */
		log_debug("%s is trapped, not whitelisted", v.ip);
		break;
	}
	if (!synced)
		gsync_grey(t, now);
}

static int	gp_scan_listed;	/* the scan met a listed WHITE host */

/* Is a on a blacklist the engine saved?  For grey_white_drop. */
static int
gp_listed(const struct addr *a, void *arg)
{
	(void)arg;
	return bl_listed_narrow(a);
}

static void
gp_unlisted(const struct addr *a, void *arg)
{
	const struct bl_hit	*h = bl_match(a);
	char			 ip[INET6_ADDRSTRLEN];

	(void)arg;
	log_info("%s blacklisted (%s), removing from whitelist",
	    addr_str(a, ip, sizeof(ip)), h != NULL ? h->tags : "?");
	fw_white_del(a);
}

/*
 * A WHITE entry just made for a listed host (a pass, a peer's WHITE)
 * goes at once, as OpenBSD's scan would take it a minute later: 1 if
 * a is listed, 0 if not.
 */
static int
gp_white_unlist(struct store *st, const struct addr *a, const char *how)
{
	const struct bl_hit	*h = bl_match(a);
	char			 ip[INET6_ADDRSTRLEN];

	if (h == NULL || !bl_listed_narrow(a))
		return 0;
	addr_str(a, ip, sizeof(ip));
	if (grey_white_drop_addr(st, a) == -1)
		log_warnx("%s blacklisted (%s): could not take it off the "
		    "whitelist; the next scan tries again", ip, h->tags);
	else
		log_info("%s blacklisted (%s), not whitelisted (%s)", ip,
		    h->tags, how);
	return 1;
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
	bl_quiet(1);
	bl_keep_only(NULL, 0);
	blfile_load();
	gp_white_drop(st);
}

/* Take every listed host off the whitelist, in the database and sets. */
static void
gp_white_drop(struct store *st)
{
	int	 n;

	static size_t	 wide;

	if (bl_nwide() != wide && (wide = bl_nwide()) > 0)
		log_warnx("blacklists: %zu list%s cover%s more than a /%d "
		    "(IPv4) or /%d (IPv6): %s hosts are tarpitted but not "
		    "taken off the whitelist", wide, wide == 1 ? "" : "s",
		    wide == 1 ? "s" : "", BL_DROP_MIN4, BL_DROP_MIN6,
		    wide == 1 ? "its" : "their");
	if (bl_nlists() == 0)
		return;
	n = grey_white_drop(st, gp_listed, gp_unlisted, NULL);
	if (n == -1)
		log_warnx("blacklists: could not take listed hosts off the "
		    "whitelist; the next scan tries again");
	else if (n > 0)
		log_info("blacklists: %d listed host%s taken off the "
		    "whitelist", n, n == 1 ? "" : "s");
}

/* A datagram from a sync peer, forwarded by the engine. */
static void
gp_sync(struct store *st, struct grey_msg *m)
{
	char	 peer[INET6_ADDRSTRLEN];

	if (addr_norm(&m->ip) == -1 || m->len > sizeof(m->sync)) {
		log_warnx("greylister: dropped a malformed sync record");
		return;
	}
	gsync_recv(m->sync, m->len, addr_str(&m->ip, peer, sizeof(peer)),
	    time(NULL), gp_sync_entry, st);
}

/*
 * Lines of one kind at info, at most max a minute, so that a flood
 * does not flood the log (nor reach journald's rate limit, which would
 * drop other lines): the rest are counted and said in one line.
 */
struct gp_quota {
	const char	*prefix, *what;	/* "sync: N more updates ..." */
	unsigned	 max;
	time_t		 window;
	unsigned	 said, hushed;
};

/* The lines hushed in a window that is over; then a new window. */
static void
gp_quota_flush(struct gp_quota *q, time_t now)
{
	if (now - q->window < 60)
		return;
	if (q->hushed > 0)
		log_info("%s: %u more %s, not logged", q->prefix, q->hushed,
		    q->what);
	q->window = now;
	q->said = q->hushed = 0;
}

/* May one more line be said now? */
static int
gp_say(struct gp_quota *q)
{
	gp_quota_flush(q, time(NULL));
	if (q->said < q->max) {
		q->said++;
		return 1;
	}
	q->hushed++;
	return 0;
}

/*
 * What a peer did to our lists, at most SYNC_LOG_MAX lines a minute: a
 * key holder may whitelist anybody, and the admin should see it.
 */
static struct gp_quota	gp_sync_quota = { "sync", "updates from peers "
			    "applied", SYNC_LOG_MAX, 0, 0, 0 };
/* Tuples that expired without a retry (gp_grey_gone). */
static struct gp_quota	gp_noretry_quota = { "no retry", "tuples expired "
			    "without a retry", NORETRY_LOG_MAX, 0, 0, 0 };

/* One entry of a sync datagram that passed gsync_recv's checks. */
static void
gp_sync_entry(const struct sync_entry *e, const char *peer, void *arg)
{
	struct store		*st = arg;
	struct grey_tuple	 t;
	struct gdata		 rec;
	struct addr		 a = e->ip;
	char			 ip[INET6_ADDRSTRLEN];
	const struct bl_hit	*h;
	const char		*what;
	time_t			 now = time(NULL), expire, most;
	int			 r, was_white, trapped;

	if (addr_norm(&a) == -1)
		return;		/* sync_decode knows no other family */
	if (e->type == SYNC_GREY) {
		/* Raw bytes on the wire, as OpenBSD sends them. */
		grey_tuple_raw(&t, &a, e->helo, e->from, e->to);
		gp_greylist(st, &t, 1);
		return;
	}
	addr_str(&a, ip, sizeof(ip));		/* for the log */
	trapped = e->type == SYNC_TRAPPED;
	what = trapped ? "TRAPPED" : "WHITE";
	/* No peer makes an entry outlive what we would give it. */
	expire = (time_t)e->expire;
	most = now + (trapped ? conf.gc.trapexp : conf.gc.whiteexp);
	if (expire > most)
		expire = most;
	if (!trapped && bl_listed_narrow(&a) && (h = bl_match(&a)) != NULL) {
		if (gp_say(&gp_sync_quota))
			log_info("sync: WHITE for %s from %s ignored: "
			    "blacklisted (%s)", ip, peer, h->tags);
		return;
	}
	r = grey_sync(st, now, &a, trapped, expire, &rec, &was_white);
	switch (r) {
	case GREY_SYNC_STALE:
		log_debug("sync: %s for %s from %s already expired", what,
		    ip, peer);
		break;
	case GREY_SYNC_WHITE:
		if (gp_say(&gp_sync_quota))
			log_info("sync: WHITE for %s from %s, expires %lld",
			    ip, peer, (long long)rec.expire);
		fw_white_add(&a, rec.expire, now);
		gpwhite_add(&a);
		break;
	case GREY_SYNC_TRAPPED:
		if (gp_say(&gp_sync_quota))
			log_info("sync: TRAPPED for %s from %s, expires %lld",
			    ip, peer, (long long)rec.expire);
		if (was_white)
			fw_white_del(&a);
		gp_trap_send(GM_TRAP_ADD, &a, rec.expire);
		break;
	case GREY_SYNC_KEPT:
		log_debug("sync: WHITE for %s from %s, but it is trapped "
		    "here", ip, peer);
		break;
	}
}

/*
 * To the engine.  Never blocks for long: an engine that stops reading
 * must not stop greylisting, scans and expiry.  A message that cannot go
 * within TRAP_SEND_MS is dropped and logged, and so is every message
 * after it, at once, until one goes again (else a list of thousands
 * would wait a second each); the next scan sends the whole list again.
 */
static void
gp_trap_send(int type, const struct addr *ip, int64_t expire)
{
	static time_t	 lastnag;
	static unsigned	 dropped;
	static int	 stuck;		/* the last message was dropped */
	struct grey_msg	 m;

	greymsg_init(&m, type);
	m.expire = expire;
	if (ip != NULL)
		m.ip = *ip;
	if (greymsg_send_wait(gp_fd, &m, TRAP_SEND_MS, &stuck) == -1) {
		dropped++;
		if (log_nag(&lastnag, 60))
			log_warn("greylister: send to the engine (%u trap "
			    "updates dropped; the engine is not reading)",
			    dropped);
	}
}

static void
gp_trap_live(const struct addr *ip, const struct gdata *gd, void *arg)
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
	v->ip = *ip;
	v->expire = gd->expire;
	gp_traps.hash += addr_hash(ip, 0) ^ (uint64_t)gd->expire;
}

/* After a scan: send the greytrap list if it changed. */
static void
gp_traps_flush(void)
{
	size_t	 i;

	if (gp_traps.n != gp_traps.sent_n ||
	    gp_traps.hash != gp_traps.sent_hash) {
		gp_trap_send(GM_TRAP_BEGIN, NULL, 0);
		for (i = 0; i < gp_traps.n; i++)
			gp_trap_send(GM_TRAP_ADD, &gp_traps.v[i].ip,
			    gp_traps.v[i].expire);
		gp_trap_send(GM_TRAP_END, NULL, 0);
		log_debug("greytrap list: %zu addresses", gp_traps.n);
		gp_traps.sent_n = gp_traps.n;
		gp_traps.sent_hash = gp_traps.hash;
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
			if (m.type == GM_DNSSTATS) {
				metrics_dns(&m);
				break;
			}
			if (m.type == GM_DNSWHITE) {
				(void)gp_mend(st);
				gpdns_white(st, &m);
				break;
			}
			if (m.type != GM_TUPLE && m.type != GM_SYNC &&
			    m.type != GM_BLACK && m.type != GM_PREGREET) {
				log_warnx("greylister: dropped record of "
				    "type %u", m.type);
				break;
			}
			(void)gp_mend(st);
			if (m.type == GM_TUPLE)
				gp_tuple(st, &m);
			else if (m.type == GM_SYNC)
				gp_sync(st, &m);
			else if (m.type == GM_PREGREET)
				gp_pregreet(st, &m);
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
gp_white_gone(const struct addr *a, void *arg)
{
	char	 ip[INET6_ADDRSTRLEN];

	(void)arg;
	if (log_getverbose())
		log_debug("deleting expired whitelist entry %s",
		    addr_str(a, ip, sizeof(ip)));
	fw_white_del(a);
}

static void
gp_white_new(const struct addr *a, const struct gdata *gd, void *arg)
{
	time_t	*now = arg;
	char	 ip[INET6_ADDRSTRLEN];

	addr_str(a, ip, sizeof(ip));
	gp_passed(ip, NULL, gd, 0);
	metrics_promoted();
	fw_white_add(a, gd->expire, *now);
	gpwhite_live(a);
}

static void
gp_white_live(const struct addr *a, const struct gdata *gd, void *arg)
{
	time_t	*now = arg;

	/*
	 * WHITE entries made between list loads (spamlogd, spamdb -a, a
	 * peer) are checked here, as OpenBSD's greyscanner does.
	 */
	if (gp_listed(a, NULL))
		gp_scan_listed = 1;
	fw_scan_live(a, gd, *now);
	gpwhite_live(a);
}

/* A GREY tuple the scan keeps, counted for its source. */
static void
gp_grey_live(const struct addr *a, void *arg)
{
	(void)arg;
	(void)srctab_add(gp_srcs_next, a, 1);
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
	cb.grey_gone = gp_grey_gone;
	cb.arg = &now;
	srctab_clear(gp_srcs_next);
	gp_scan_listed = 0;
	fw_scan_begin();
	if (grey_scan(st, &conf.gc, now, &cb, &stats) == -1 || stats.more) {
		gpc_expired(stats.deleted, 0);
		if (!stats.more)
			log_notice("scan of %s failed", conf.dbpath);
		else
			log_info("scan: %lu entries expired, %lu promoted, "
			    "more to do", stats.deleted, stats.promoted);
		fw_scan_end(NULL, now);
		gp_traps.n = 0;
		gp_traps.hash = 0;
		gpwhite_scan_end(0);
		if (gp_scan_listed)
			gp_white_drop(st);
		return stats.more;
	}
	fw_scan_end(st, now);
	if (gp_scan_listed)
		gp_white_drop(st);
	gpc_expired(stats.deleted, 1);
	gp_traps_flush();
	gpwhite_scan_end(1);
	t = gp_srcs;
	gp_srcs = gp_srcs_next;
	gp_srcs_next = t;
	metrics_scan(st, now);
	gp_quota_flush(&gp_noretry_quota, now);
	if (stats.deleted || stats.promoted || stats.bogus)
		log_debug("scan: %lu entries, %lu expired, %lu promoted, "
		    "%lu bogus", stats.seen, stats.deleted, stats.promoted,
		    stats.bogus);
	return 0;
}

/* Seconds as an admin reads them: 45s, 27m13s, 4h0m5s, 2d3h10m. */
static const char *
gp_dur(char *buf, size_t len, time_t s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%llds", (long long)s / 60,
		    (long long)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm%llds", (long long)s / 3600,
		    (long long)s % 3600 / 60, (long long)s % 60);
	else
		snprintf(buf, len, "%lldd%lldh%lldm", (long long)s / 86400,
		    (long long)s % 86400 / 3600, (long long)s % 3600 / 60);
	return buf;
}

/*
 * ip passed greylisting: how long its sender waited since the first
 * attempt and how many attempts that took (the WHITE record keeps the
 * tuple's first, pass and bcount), in the log and the histogram.  t is
 * NULL for a tuple a scan promoted.
 */
static void
gp_passed(const char *ip, const struct grey_tuple *t, const struct gdata *w,
    int synced)
{
	char	 d[32];
	time_t	 delay = (time_t)(w->pass - w->first);

	if (t != NULL)
		log_info("whitelisting %s: %s -> %s passed after %s (%lld s), "
		    "%d attempt%s%s", ip, t->from, t->to,
		    gp_dur(d, sizeof(d), delay), (long long)delay, w->bcount,
		    w->bcount == 1 ? "" : "s",
		    synced ? " (retry seen by a sync peer)" : "");
	else
		log_info("whitelisting %s: passed after %s (%lld s), %d "
		    "attempt%s", ip, gp_dur(d, sizeof(d), delay),
		    (long long)delay, w->bcount, w->bcount == 1 ? "" : "s");
	metrics_pass(delay);
}

/*
 * A GREY tuple expired.  One tried once and never again is what
 * greylisting is for: said at info, one line each, so that "who never
 * came back" is in the log (grep "no retry"); others at debug.
 */
static void
gp_grey_gone(const char *key, size_t keylen, const struct gdata *gd,
    void *arg)
{
	time_t		*now = arg;
	char		 buf[GD_KEY_MAX + 1], f[4][4 * GD_FIELD_MAX + 1];
	char		 d[32];
	char		*p, *nl;
	int		 i;

	metrics_grey_expired(gd->bcount > 1);
	if (gd->bcount > 1 && !log_getverbose())
		return;
	if (keylen > GD_KEY_MAX)
		keylen = GD_KEY_MAX;
	memcpy(buf, key, keylen);
	buf[keylen] = '\0';
	/* ip, helo, from, to; raw bytes of an old entry shown escaped */
	for (p = buf, i = 0; i < 4; i++) {
		if ((nl = strchr(p, '\n')) != NULL && i < 3)
			*nl = '\0';
		if (gd_canon(f[i], sizeof(f[i]), p, strlen(p)) == -1)
			strlcpy(f[i], "?", sizeof(f[i]));
		p = nl != NULL && i < 3 ? nl + 1 : p + strlen(p);
	}
	gp_dur(d, sizeof(d), *now - (time_t)gd->first);
	if (gd->bcount > 1)
		log_debug("expired after %d attempts: %s %s -> %s, helo %s, "
		    "first seen %s ago", gd->bcount, f[0], f[2], f[3], f[1], d);
	else if (gp_say(&gp_noretry_quota))
		log_info("no retry: %s %s -> %s, helo %s, first seen %s ago "
		    "(%lld)", f[0], f[2], f[3], f[1], d, (long long)gd->first);
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

/*
 * The greylister's one way out: the engine, unless it is reaped
 * already (-1), is stopped and waited for (a stopped one woken first);
 * on a clean exit the metrics file is written a last time.
 */
static void
gp_exit(struct store *st, pid_t engine, int status)
{
	if (engine != -1) {
		kill(engine, SIGTERM);
		kill(engine, SIGCONT);
		waitpid(engine, NULL, 0);
	}
	if (status == 0)
		metrics_exit(st, gp_fd);
	store_close(st);
	exit(status);
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
	gpwhite_init(fd);
	gp_start = time(NULL);
	/* spamd.c checked it: the canonical text of an address. */
	if (conf.lowprio_mx != NULL && addr_parse(&gp_lowprio,
	    conf.lowprio_mx) == -1)
		fatalx("-M %s is not an address", conf.lowprio_mx);
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
			gp_exit(st, engine, 0);
		}
		if (gp_hup) {
			gp_hup = 0;
			log_info("SIGHUP: reading %s again",
			    conf.alloweddomains);
			trapdom_reload();
			trusted_reload(0);
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
				gp_exit(st, -1, 1);
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
		if (gpc_step(st))	/* a slice, then what is queued */
			wait.tv_sec = 0;

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
				gp_exit(st, engine, 1);
			}
		}
	}
}
