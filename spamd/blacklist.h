/*
 * The SMTP engine's blacklists: named lists, each with its reply message
 * and its sorted, disjoint address ranges, looked up by binary search.
 * Lists come from the configuration socket (cfgsock.c); a list is
 * replaced whole, in one step, so a lookup sees the old list or the new
 * one, never half of each.
 *
 * Lookups return a struct bl_hit (smtp.h) that connections keep until
 * they close.  Hits are interned by content and never freed, and so are
 * the tags and messages they point to: a list that is reloaded with the
 * same tag and message costs nothing new, and a connection accepted
 * before a reload keeps a valid reply.  Memory grows only with new
 * distinct messages and new combinations of lists a client matches.
 */
#ifndef SPAMD_BLACKLIST_H
#define SPAMD_BLACKLIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "cfgproto.h"
#include "cidr.h"
#include "smtp.h"

#define BL_MAXLISTS	256		/* lists loaded at once */
#define BL_TAGMAX	SPAMD_CFG_TAGMAX	/* tag length */
/* A message as sent on the socket, escapes included. */
#define BL_MSGMAX	SPAMD_CFG_MSGMAX
/* Ranges of one list, and of all lists: a ceiling on memory. */
#define BL_MAXRANGES	(1UL << 22)
#define BL_MAXTOTAL	(1UL << 24)

/* Where a list came from; bl_keep_only() touches only BL_CONFIG. */
enum bl_origin {
	BL_CONFIG = 1,		/* the configuration socket */
	BL_INTERNAL		/* spamd's own (greytrap) */
};

/* A list being received: ranges in any order, overlaps allowed. */
struct bl_stage {
	struct cidr_list	 v4;
	struct cidr_list	 v6;
};

void	bl_stage_init(struct bl_stage *);
void	bl_stage_free(struct bl_stage *);
/* Add one range of family af; -1 (E2BIG) past BL_MAXRANGES. */
int	bl_stage_add(struct bl_stage *, int af, const struct cidr_range *);

/*
 * Replace (or add, as the lowest-priority list) the list `tag' with
 * msg (may be NULL or "": no message) and the staged ranges, which are
 * consumed.  Refuses (-1, errno E2BIG or ENOSPC) a list that would pass
 * the limits, and then leaves the old list as it was.
 */
int	bl_install(const char *tag, const char *msg, enum bl_origin,
	    struct bl_stage *);
/* Remove every BL_CONFIG list whose tag is not among tags; returns how many. */
size_t	bl_keep_only(char *const *tags, size_t ntags);

/*
 * Write every BL_CONFIG list as one line of the configuration socket's
 * grammar, its ranges as CIDR blocks (blfile.c keeps them so).  -1 if
 * fp failed.
 */
int	bl_write(FILE *fp);

/* The lists addr is on, or NULL. */
const struct bl_hit *bl_match(const struct addr *);
/*
 * The greylister loads the saved lists only to match WHITE entries:
 * there, installing and removing lists is not news worth a log line.
 */
void	bl_quiet(int);
int	bl_is_quiet(void);

/* For logs and tests. */
/*
 * A list covering more than a /8 of IPv4 or a /16 of IPv6 in all is
 * "wide": its hosts are tarpitted like any list's, but it never takes a
 * host off the whitelist (a bad list source must not wipe it).
 * bl_listed_narrow: a is on a list that is not wide; bl_nwide: how many
 * loaded lists are.
 */
#define BL_DROP_MIN4	8
#define BL_DROP_MIN6	16
int	bl_listed_narrow(const struct addr *);
size_t	bl_nwide(void);

size_t	bl_nlists(void);
uint64_t bl_ninstalls(void);	/* lists installed since start */
size_t	bl_nranges(const char *tag, size_t *n6);	/* IPv4; -1 if none */
const char *bl_message(const char *tag);

/* Is tag acceptable (1..BL_TAGMAX printable bytes, no ; " or blank)? */
int	bl_tag_ok(const char *, size_t);

#endif
