/*
 * The nftables whitelist sets: one IPv4 and one IPv6 set of an inet
 * table, changed over one netlink socket with libnftnl batches (never by
 * running nft).  Open the handle while privileged; it keeps working after
 * the process has dropped every capability but CAP_NET_ADMIN.
 *
 * Every change is one kernel transaction, applied whole or not at all.
 * Functions return 0, or -1 with errno set and a log line naming the set.
 * errno ENOENT means the table or a set is missing: the caller may go on
 * and retry later (nftset_check says what is missing).  EPERM means
 * CAP_NET_ADMIN is missing.
 *
 * Used by: spamd (firewall.c), spamlogd (update.c), spamdb (fw.c).
 */
#ifndef SPAMD_NFTSET_H
#define SPAMD_NFTSET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

#define NFTSET_TABLE	"spamd"		/* family inet */
#define NFTSET_SET4	"spamd-white"
#define NFTSET_SET6	"spamd-white6"
/*
 * The interval sets of networks that bypass spamd, which spamd-setup
 * fills: nospamd (OpenBSD's <nospamd>) and trusted (never greylisted
 * nor tarpitted, ahead of the blacklist sets too).
 */
#define NFTSET_NOSPAMD4	"spamd-nospamd"
#define NFTSET_NOSPAMD6	"spamd-nospamd6"
#define NFTSET_TRUSTED4	"spamd-trusted"
#define NFTSET_TRUSTED6	"spamd-trusted6"
/* The longest element timeout we send: ten years, as -G allows. */
#define NFTSET_TIMEOUT_MAX	(3650ULL * 24 * 60 * 60 * 1000)

struct nftset;

struct nftset_elem {
	struct addr	addr;
	uint64_t	timeout_ms;	/* 0: the set's default (none) */
};

/* Table and set names; NULL picks the defaults above.  NULL on error. */
struct nftset	*nftset_open(const char *table, const char *set4,
		    const char *set6);
void		 nftset_close(struct nftset *);

/*
 * Do the table and both sets exist, with address keys and the timeout
 * flag?  On failure err holds what is wrong and how to fix it; nothing
 * is logged.
 */
int		 nftset_check(struct nftset *, char *err, size_t errlen);
/*
 * What nftset_check finds, as a state: 1 when the table or a set is missing (*what is
 * "table" or the set's name), 0 when all three exist, -1 on any other
 * error (*what names what could not be checked).
 */
int		 nftset_missing(struct nftset *, const char **what);

/*
 * Add one element, or refresh its timeout: in one batch the element is
 * added, deleted and added again with its timeout, so the new timeout
 * holds whether the element existed or not, on any kernel.
 */
int		 nftset_add(struct nftset *, const struct addr *,
		    uint64_t timeout_ms);
/* Delete one element; an absent element is not an error. */
int		 nftset_del(struct nftset *, const struct addr *);

/*
 * Batches: queue any number of adds and deletes (meaning as above,
 * applied in order), then send them as one transaction.  nftset_begin
 * discards whatever is queued; so does nftset_commit, whatever its
 * outcome.  nftset_add, nftset_del and nftset_replace refuse (EBUSY)
 * while something is queued.
 */
void		 nftset_begin(struct nftset *);
int		 nftset_queue_add(struct nftset *, const struct addr *,
		    uint64_t timeout_ms);
int		 nftset_queue_del(struct nftset *, const struct addr *);
int		 nftset_commit(struct nftset *);

/*
 * Make both sets hold exactly these elements: one transaction flushes
 * both and adds all of them.  Addresses should be unique; for a
 * duplicate, which timeout holds depends on the kernel.
 */
int		 nftset_replace(struct nftset *, const struct nftset_elem *,
		    size_t);

/*
 * WHITE entries to elements: the element of a WHITE entry lives as long
 * as the entry, so its timeout is the entry's remaining life, clamped to
 * NFTSET_TIMEOUT_MAX (0 once expired).  nftset_queue_white queues the
 * element of an entry that expires at expire: 1, 0 if it has expired
 * (nothing queued), or -1.
 */
uint64_t	 nftset_white_timeout(time_t expire, time_t now);
int		 nftset_queue_white(struct nftset *, const struct addr *,
		    time_t expire, time_t now);

/*
 * The elements in each set now, as the kernel lists them (expired ones
 * are left out): 0, or -1 with errno set; nothing is logged.
 */
int		 nftset_count(struct nftset *, size_t *n4, size_t *n6);

#endif
