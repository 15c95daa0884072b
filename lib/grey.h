/*
 * Record policy: what happens to the database when a tuple is seen,
 * when spamlogd sees mail go by, when the admin adds an entry, and what
 * the periodic scan removes.  It works on the store interface and takes
 * the time as an argument so that tests can run it with an injected
 * clock.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#ifndef SPAMD_GREY_H
#define SPAMD_GREY_H

#include <netinet/in.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "gdata.h"
#include "spf.h"
#include "store.h"

#define PASSTIME	(25 * 60)		/* 25 minutes */
#define GREYEXP		(4 * 60 * 60)		/* 4 hours */
#define WHITEEXP	(36 * 24 * 60 * 60)	/* 36 days */
#define TRAPEXP		(24 * 60 * 60)		/* 24 hours */

struct grey_conf {
	time_t	passtime;
	time_t	greyexp;
	time_t	whiteexp;
	time_t	trapexp;
};

enum grey_result {
	GREY_FAIL = -1,		/* storage error, logged */
	GREY_NEW,		/* first sighting of the tuple */
	GREY_EARLY,		/* retry before passtime (or already passed) */
	GREY_PASSED,		/* retry after passtime: ip is now WHITE */
	GREY_WHITE,		/* ip already WHITE: nothing new */
	GREY_TRAPPED,		/* ip is TRAPPED: never promoted */
	GREY_REFUSED		/* new, but creating it was not allowed */
};

/*
 * A greylisting tuple as the SMTP dialogue saw it: what the engine
 * sends the greylister (greymsg.h) and what a GREY sync entry becomes.
 * The addresses stay binary; grey_key() makes the only text of them.
 */
struct grey_tuple {
	struct addr	ip;		/* the client */
	struct addr	dst;		/* where it connected; af 0: unknown */
	char		helo[GD_FIELD_MAX];
	char		from[GD_FIELD_MAX];
	char		to[GD_FIELD_MAX];
	uint8_t		spf;		/* enum spf_result for ip, from's domain */
	uint8_t		pad[3];
};

/*
 * Fill t with ip and the strings (dst unknown): 0, or -1 if one is too
 * long for its field.
 */
int		grey_tuple_set(struct grey_tuple *t, const struct addr *ip,
		    const char *helo, const char *from, const char *to);

/*
 * Fill t with ip and raw strings (a peer's GREY) in the key form
 * (gd_vis), each cut as the SMTP engine cuts what a client sends, so a
 * long field spells the same tuple on every host.
 */
void		grey_tuple_raw(struct grey_tuple *t, const struct addr *ip,
		    const char *helo, const char *from, const char *to);

/*
 * What only the caller knows, worked out before the decision: the
 * recipient is inside the allowed domains (-A), the tuple came to the
 * low-priority MX address past the start-up grace (-M), and a new GREY
 * entry may be written (free space, entries per source).
 */
struct grey_policy {
	int	domain_ok;
	int	lowprio;
	int	may_create;
};

/* Why a tuple trapped its sender. */
enum grey_why {
	GREY_WHY_NONE,
	GREY_WHY_SPAMTRAP,	/* the recipient is a SPAMTRAP entry */
	GREY_WHY_DOMAIN,	/* ... outside the allowed domains */
	GREY_WHY_LOWPRIO,	/* a new tuple tried the low-priority MX */
	GREY_WHY_PREGREET	/* ip spoke before the banner ended */
};

struct grey_verdict {
	enum grey_result r;
	enum grey_why	 why;		/* not NONE: this tuple trapped ip */
	int		 was_white;	/* ... which was WHITE until now */
	struct gdata	 rec;		/* WHITE (PASSED, WHITE); TRAPPED (why) */
	char		 ip[INET6_ADDRSTRLEN];	/* ip as its key spells it */
	char		 spfdom[SPF_NAMEMAX];	/* PASSED by this SPF domain */
};

/*
 * SPF-aware passing.  A tuple whose spf is SPF_R_PASS (the MAIL FROM
 * domain's SPF authorises ip) also keeps a domain-keyed GREY record,
 * "spf:DOMAIN\n\nfrom\nto" (no address, an empty helo: the addresses
 * of a pool greet by other names), made and expiring as a tuple is but
 * never promoted.  A tuple with SPF pass that finds that record older
 * than passtime passes even from another address: ip is whitelisted
 * (GREY_PASSED, spfdom names the domain).  spamdb lists the record as
 * GREY with "spf:DOMAIN" where the address goes.
 */
#define GREY_SPF_PREFIX	"spf:"
/* That key of t: its length, or -1 (from has no domain, too long). */
int		grey_spf_key(char *buf, size_t len, const struct grey_tuple *t);

/*
 * Decide a tuple seen at now and write what follows, in one
 * transaction, as OpenBSD decides trap-or-grey under one lock: a
 * recipient that is a SPAMTRAP, outside the allowed domains, or a new
 * tuple at the low-priority MX traps ip (TRAPPED until now + trapexp;
 * a host trapped already keeps its expiry, as in OpenBSD; why says so,
 * r is GREY_TRAPPED); otherwise the tuple is greylisted, and with
 * may_create 0 one that is not in the store is not added
 * (GREY_REFUSED).  Returns v->r.  Retries STORE_RETRY transactions by
 * itself.
 */
enum grey_result grey_decide(struct store *, const struct grey_conf *,
		    const struct grey_policy *, time_t now,
		    const struct grey_tuple *, struct grey_verdict *v);

/*
 * grey_decide() of a tuple given as text, with no domain list, no
 * low-priority MX and no limits: for tools and tests.  On GREY_PASSED
 * and GREY_WHITE the WHITE record is stored in *white (may be NULL).
 */
enum grey_result grey_tuple(struct store *, const struct grey_conf *,
		    time_t now, const char *ip, const char *helo,
		    const char *from, const char *to, struct gdata *white);

/*
 * A WHITE or TRAPPED entry learnt from a sync peer, applied as OpenBSD
 * does: a new record {first now, pass 0, counts 0, the peer's expiry};
 * an existing WHITE gets pcount++ (or becomes TRAPPED, bcount++), an
 * existing TRAPPED bcount++, and neither changes its expiry.  A WHITE
 * from a peer never lifts a local trap.  Returns GREY_SYNC_WHITE or
 * GREY_SYNC_TRAPPED with the record in *rec (*was_white: it was WHITE
 * before), GREY_SYNC_KEPT when a trap stands against a WHITE,
 * GREY_SYNC_STALE when expire is in the past (expire == now is kept, as
 * in OpenBSD), or -1.  An existing record that has expired counts as
 * none: the entry starts afresh with the peer's expiry.
 */
enum {
	GREY_SYNC_STALE,
	GREY_SYNC_WHITE,
	GREY_SYNC_TRAPPED,
	GREY_SYNC_KEPT
};
int		grey_sync(struct store *, time_t now, const struct addr *ip,
		    int trapped, time_t expire, struct gdata *rec,
		    int *was_white);

/* A fresh WHITE record: first = pass = now, bcount 1, pcount 0. */
void		grey_white_new(struct gdata *, time_t now, time_t whiteexp);
/* A fresh TRAPPED record: first = now, pass 0, bcount 1, expire. */
void		grey_trapped_new(struct gdata *, time_t now, time_t expire);

enum grey_seen {
	GREY_SEEN_CREATED,	/* outbound to an unknown host: now WHITE */
	GREY_SEEN_EXTENDED,	/* WHITE: pcount++, lives on */
	GREY_SEEN_NOTWHITE,	/* inbound from an unknown host: left alone */
	GREY_SEEN_TRAPPED	/* TRAPPED: left alone */
};

/*
 * spamlogd saw mail between us and ip.  Inside the caller's
 * transaction: an inbound host that is not in the store is left alone
 * (it was deleted, or expired, and must not come back this way); an
 * outbound one becomes WHITE.  A WHITE entry, even one expired but not
 * scanned away yet, gets pcount++ (saturating) and lives until at least
 * now + whiteexp.  TRAPPED stays TRAPPED (OpenBSD's pcount++ quietly
 * made it WHITE).  *res says which; *rec holds the record.  Returns a
 * STORE_ code.
 */
int		grey_white_seen(struct store *, time_t whiteexp, time_t now,
		    const char *ip, int outbound, enum grey_seen *res,
		    struct gdata *rec);

/*
 * spamdb -a, -t -a, -T -a of key, in a transaction of its own.  As
 * OpenBSD's spamdb: WHITE new is a fresh WHITE record, existing gets
 * pcount++ (0 if it was trapped), pass = now, expire = now + whiteexp;
 * TRAPPED gets pcount -1 and expire = now + trapexp; SPAMTRAP pcount -2
 * and expire 0.  A new entry starts with first = now and bcount 1.  The
 * record written is stored in *rec (may be NULL).  Returns a STORE_
 * code.
 */
int		grey_admin_set(struct store *, const struct grey_conf *,
		    time_t now, enum gd_type, const char *key,
		    struct gdata *rec);

/*
 * What a scan did, so the caller can keep the firewall in step.  Each
 * key is parsed once into the address handed out.
 */
struct grey_scan_cb {
	/* an expired WHITE ip was deleted */
	void	(*white_gone)(const struct addr *, void *arg);
	/* a passed tuple promoted ip to WHITE with this record */
	void	(*white_new)(const struct addr *, const struct gdata *,
		    void *arg);
	/* every WHITE ip that stays, so the firewall can check its set */
	void	(*white_live)(const struct addr *, const struct gdata *,
		    void *arg);
	/* every TRAPPED ip that stays, for the engine's greytrap list */
	void	(*trap_live)(const struct addr *, const struct gdata *,
		    void *arg);
	/* every GREY tuple that stays, by its ip, to count them per source */
	void	(*grey_live)(const struct addr *, void *arg);
	/* an expired GREY tuple was deleted: its key and its record */
	void	(*grey_gone)(const char *key, size_t keylen,
		    const struct gdata *, void *arg);
	void	*arg;
};

struct grey_scan_stats {
	unsigned long	seen, deleted, promoted, bogus;
	int		more;	/* cut short at GREY_SCAN_MAX: scan again */
};

/* Changes one scan gathers at most: its memory does not grow beyond. */
#define GREY_SCAN_MAX	10000

/*
 * Delete every GREY, WHITE and TRAPPED entry whose expire <= now
 * (SPAMTRAP never expires) and promote GREY tuples whose pass <= now
 * that were not promoted yet.  A scan stops gathering at GREY_SCAN_MAX
 * changes, applies them and sets stats->more: the callbacks then saw
 * only part of the store, and the caller scans again.  Returns 0, or
 * -1 on a storage error.
 */
int		grey_scan(struct store *, const struct grey_conf *, time_t now,
		    const struct grey_scan_cb *, struct grey_scan_stats *);

/*
 * Call fn for every WHITE entry, expired or not, with its key parsed
 * into an address (keys that are not addresses are skipped).  fn
 * returns non-zero to stop the walk.  Returns a STORE_ code.
 */
int		grey_walk_white(struct store *, int (*fn)(const struct addr *,
		    const struct gdata *, void *), void *arg);

/*
 * Delete every WHITE entry whose address listed() says is on a
 * blacklist, as OpenBSD's greylister does; gone() hears of each one
 * deleted.  Works in passes of bounded size.  Returns how many went, or
 * -1 on a storage error.
 */
int		grey_white_drop(struct store *,
		    int (*listed)(const struct addr *, void *),
		    void (*gone)(const struct addr *, void *), void *arg);
/* Delete a's entry if it is WHITE: 1 if it went, 0 if not, -1. */
int		grey_white_drop_addr(struct store *, const struct addr *);

/*
 * Trap ip for why (the pregreet test) at now, as a tuple to a spamtrap
 * traps its sender: a trapped ip keeps its expiry (bcount++), any other
 * is TRAPPED until now + trapexp.  v->r is GREY_TRAPPED, v->rec the
 * record, v->was_white set as grey_decide sets it; GREY_FAIL on a
 * storage error (logged).
 */
enum grey_result grey_trap_ip(struct store *, const struct grey_conf *,
		    time_t now, const struct addr *ip, enum grey_why why,
		    struct grey_verdict *v);

#endif
