/*
 * SPF (RFC 7208): the one reader of SPF records in the tree, shared by
 * spfwalk (which lists the networks a domain authorises) and spamd's
 * resolver (which asks whether one address is authorised, for
 * SPF-aware passing).  spf.c reads a record term by term; spftxt.c
 * picks the SPF record out of a TXT answer; spfcheck.c evaluates a
 * domain's SPF for one address, asynchronously, on a c-ares channel.
 *
 * Used by: spfwalk, spamd.
 */
#ifndef SPAMD_SPF_H
#define SPAMD_SPF_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

#define SPF_NAMEMAX	256	/* a domain name, NUL included */
#define SPF_RECMAX	4096	/* one SPF record, its strings joined */
#define SPF_MAXMX	10	/* exchanges of one mx mechanism (RFC 7208) */
#define SPF_MAXADDRS	64	/* addresses taken from one A/AAAA answer */

/* An SPF check's result (RFC 7208 2.6); travels in a grey_tuple. */
enum spf_result {
	SPF_R_NONE = 0,		/* no SPF record: not asked, or none */
	SPF_R_NEUTRAL,
	SPF_R_PASS,
	SPF_R_FAIL,
	SPF_R_SOFTFAIL,
	SPF_R_TEMPERROR,
	SPF_R_PERMERROR
};
const char	*spf_result_str(enum spf_result);

/* What a record asks for, term by term (spf_parse calls these). */
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

/* One term of a record, as spf_term() reads it. */
enum spf_kind {
	SPF_T_SKIP,		/* said through note, warn or error */
	SPF_T_ALL,
	SPF_T_INCLUDE,		/* domain */
	SPF_T_REDIRECT,		/* domain */
	SPF_T_NET,		/* af, net */
	SPF_T_A,		/* domain, c4, c6 */
	SPF_T_MX		/* domain, c4, c6 */
};

struct spf_term {
	enum spf_kind		 kind;
	char			 qual;	/* '+', '-', '~' or '?' */
	int			 af, c4, c6;
	struct cidr_range	 net;
	char			 domain[SPF_NAMEMAX];
};

int	spf_is_record(const char *, size_t);
int	spf_name_ok(const char *);
/*
 * Read term t (one blank-free word, qualifier included) of the record
 * of domain into *out, or say through v why it is skipped.  A network
 * wider than CIDR_SENDER_MIN4 or CIDR_SENDER_MIN6 behind the pass
 * qualifier is skipped with a warning: it would let anybody by.
 */
void	spf_term(const char *t, const char *domain, const struct spf_visit *v,
	    struct spf_term *out);
/*
 * The networks rec, the record of domain, lets by: every term with the
 * pass qualifier, redirect= last and only without "all".
 */
void	spf_parse(const char *rec, const char *domain,
	    const struct spf_visit *);
/*
 * spftxt.c: the SPF record among the TXT records of an answer (abuf,
 * alen), strings joined, into rec (SPF_RECMAX).  1: found; 0: none;
 * -1: more than one, too long or a bad answer (why says which).
 */
int	spf_txt(const unsigned char *abuf, int alen, char *rec,
	    char *why, size_t whylen);
/*
 * The domain of a MAIL FROM as a tuple holds it ("<user@Example.ORG>")
 * in lower case, into dom (SPF_NAMEMAX): 0, or -1 when it has none
 * ("<>") or it is no host name.
 */
int	spf_from_domain(const char *from, char *dom);

#endif
