/*
 * spfwalk: print the networks the SPF records of some domains
 * authorize.  spfwalk.c reads the domains and prints the result;
 * walk.c asks DNS, all domains at once, and follows the records; spf.c
 * reads one record.
 */
#ifndef SPFWALK_H
#define SPFWALK_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

#define SPF_NAMEMAX	256	/* a domain name, NUL included */
#define SPF_RECMAX	4096	/* one SPF record, its strings joined */
#define SPF_MAXLOOKUPS	64	/* DNS queries for one domain given */
#define SPF_MAXNODES	32	/* SPF records (include, redirect) per domain */
#define SPF_MAXNETS	8192	/* networks one domain may name */
#define SPF_MAXMX	10	/* exchanges of one mx mechanism (RFC 7208) */
#define SPF_MAXADDRS	64	/* addresses taken from one A/AAAA answer */
#define SPF_MAXDOMAINS	10000	/* domains of one run */
#define SPF_INFLIGHT	256	/* queries outstanding at once */

/* One domain given, and what walking it found. */
struct spf_root {
	char	 name[SPF_NAMEMAX];
	int	 lookups;	/* DNS queries so far */
	size_t	 nets;
	int	 failed;
	char	 why[512];	/* the first failure */
	int	 nnodes;
	struct spf_node {
		char	 name[SPF_NAMEMAX];
		int	 parent;	/* index, -1 for the domain given */
	}	 nodes[SPF_MAXNODES];
};

/* What a record asks for, term by term (spf.c calls these). */
struct spf_visit {
	/* include: or redirect= of another domain's record */
	void	(*record)(void *, const char *mech, const char *domain);
	/* a or mx of domain, with the prefix lengths to apply */
	void	(*hosts)(void *, int mx, const char *domain, int c4, int c6);
	/* ip4: or ip6: */
	void	(*net)(void *, int af, const struct cidr_range *);
	/* a term refused but harmless to skip: always said */
	void	(*warn)(void *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
	/* a term that names no network, or could not be read */
	void	(*note)(void *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
	void	(*error)(void *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
	void	*arg;
};

extern int	verbose;

/* spf.c */
int	spf_is_record(const char *, size_t);
void	spf_parse(const char *rec, const char *domain,
	    const struct spf_visit *);
int	spf_name_ok(const char *);

/* walk.c */
/* Server list ("addr[:port],..." or NULL: resolv.conf), timeout ms, tries. */
int	walk_init(const char *servers, int timeout_ms, int tries);
void	walk_start(struct spf_root *);
void	walk_run(void);
void	walk_done(void);
const struct cidr_list *walk_nets(int af);

#endif
