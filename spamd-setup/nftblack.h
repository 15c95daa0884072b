/*
 * Pairs of nftables interval sets (IPv4 and IPv6) of an inet table,
 * filled by spamd-setup through libnftnl, never by running nft: the
 * blacklist sets of blacklist-only mode (-b) and the nospamd sets.  A load replaces both sets whole in
 * one kernel transaction: the sets hold the old lists or the new ones,
 * never a mix, and a failed load changes nothing.
 */
#ifndef SPAMD_NFTBLACK_H
#define SPAMD_NFTBLACK_H

#include <stddef.h>

#include "cidr.h"
#include "nftset.h"

#define NFTBLACK_TABLE	"spamd"		/* family inet */
#define NFTBLACK_SET4	"spamd-black"
#define NFTBLACK_SET6	"spamd-black6"
#define NOSPAMD_SET4	NFTSET_NOSPAMD4
#define NOSPAMD_SET6	NFTSET_NOSPAMD6
#define TRUSTED_SET4	NFTSET_TRUSTED4
#define TRUSTED_SET6	NFTSET_TRUSTED6

/*
 * Make the sets hold exactly these ranges (normalized lists; NULL
 * names pick the defaults).  0, or -1 with errno set and a log line
 * saying what is wrong (a missing table or set, a set that is not an
 * interval set of addresses, no CAP_NET_ADMIN).
 */
int	nftblack_load(const char *table, const char *set4, const char *set6,
	    const struct cidr_list *v4, const struct cidr_list *v6);

/* Do both sets exist?  0, or -1; nothing is logged. */
int	nftblack_exists(const char *table, const char *set4,
	    const char *set6);

#endif
