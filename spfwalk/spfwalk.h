/*
 * spfwalk: print the networks the SPF records of some domains
 * authorize.  spfwalk.c reads the domains and prints the result;
 * walk.c asks DNS, all domains at once, and follows the records;
 * lib/spf.c reads one record.
 */
#ifndef SPFWALK_H
#define SPFWALK_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "spf.h"
#include "spfcheck.h"

#define SPF_MAXLOOKUPS	64	/* DNS queries for one domain given */
#define SPF_MAXNODES	32	/* SPF records (include, redirect) per domain */
#define SPF_MAXNETS	8192	/* networks one domain may name */
#define SPF_MAXDOMAINS	10000	/* domains of one run */
#define SPF_INFLIGHT	256	/* queries outstanding at once */

/* One domain given, and what walking it found. */
struct spf_root {
	char	 name[SPF_NAMEMAX];
	int	 lookups;	/* DNS queries so far */
	size_t	 nets;
	int	 failed;
	char	 why[512];	/* the first failure; -c: the reason */
	enum spf_result result;	/* -c */
	int	 nnodes;
	struct spf_node {
		char	 name[SPF_NAMEMAX];
		int	 parent;	/* index, -1 for the domain given */
	}	 nodes[SPF_MAXNODES];
};

extern int	verbose;

/* walk.c */
/* Server list ("addr[:port],..." or NULL: resolv.conf), timeout ms, tries. */
int	walk_init(const char *servers, int timeout_ms, int tries);
void	walk_start(struct spf_root *);
void	walk_run(void);
void	walk_done(void);
const struct cidr_list *walk_nets(int af);
/* -c: evaluate r's SPF for ip within ms (walk_run runs it). */
void	walk_check(struct spf_root *, const struct addr *ip, int ms);

#endif
