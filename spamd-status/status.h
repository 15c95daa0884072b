/*
 * spamd-status: is spamd in the mail path and working?  One screen of
 * checks and an exit status for monitoring.  Each check fills one
 * struct check; main (spamd-status.c) prints them in order and exits
 * with the code of the first that failed.
 *
 *	procs.c		daemons in our network namespace (/proc) and
 *			spamd's listening socket
 *	defaults.c	what the Debian settings file says
 *	nft.c		table, sets, redirect rule, set elements
 *	files.c		database (WHITE entries, size), saved blacklists,
 *			metrics file
 */
#ifndef STATUS_H
#define STATUS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

/* Exit codes, in the order of the checks: the first failure wins. */
#define ST_OK		0
#define ST_ERROR	1	/* usage, or a check could not be made */
#define ST_SPAMD	2	/* spamd not running or not listening */
#define ST_NFT		3	/* table, a set or the redirect missing */
#define ST_SPAMLOGD	4	/* spamlogd not running */
#define ST_DRIFT	5	/* set elements differ from WHITE entries */
#define ST_DB		6	/* database cannot be read */
#define ST_BLACK	7	/* saved blacklists damaged or too old */
#define ST_METRICS	8	/* metrics file missing or too old */
#define ST_SYNC		9	/* sync configured, no peer heard lately */

#define CK_OK		0
#define CK_INFO		1	/* nothing to judge */
#define CK_FAIL		2

#define CK_TEXTMAX	512

struct check {
	const char	*name;
	int		 state;		/* CK_* */
	int		 code;		/* ST_* when failed */
	char		 text[CK_TEXTMAX];
};

/* What to look at: options, else the settings file, else defaults. */
struct sconf {
	const char	*dbpath;
	const char	*metrics;	/* NULL: none known */
	const char	*table, *set4, *set6;
	const char	*trust4, *trust6;
	int		 port;		/* spamd's SMTP port */
	time_t		 black_max;	/* oldest acceptable blacklists */
	time_t		 metrics_max;	/* oldest acceptable metrics file */
	time_t		 sync_max;	/* longest sync silence */
	int		 sync;		/* spamd runs with -y */
	int		 need_spamlogd;
	time_t		 now;
};

/* A list of addresses, sorted by addr_cmp once filled. */
struct alist {
	struct addr	*a;
	size_t		 n, cap;
};

int	alist_add(struct alist *, const struct addr *);
int	alist_has(const struct alist *, const struct addr *);
void	alist_sort(struct alist *);
void	alist_free(struct alist *);

void	ck_set(struct check *, int state, int code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	ck_append(struct check *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* "3h12m", "45s": an age for people. */
const char *ck_age(time_t secs, char *buf, size_t len);

/* defaults.c: fill what conf leaves unset; 0, or -1 if unreadable. */
int	defaults_read(const char *path, struct sconf *, char *err,
	    size_t errlen);

/* procs.c */
struct procs {
	pid_t	 spamd;		/* the greylister (spamd's first process) */
	int	 nspamd;	/* spamd processes in all */
	pid_t	 spamlogd;
	int	 listening;	/* a TCP listener on conf->port */
};
/* Scan /proc for our namespace's daemons; -1 if /proc is unreadable. */
int	procs_scan(struct procs *, char *err, size_t errlen);
/* Is anything listening on TCP port in this namespace?  1, 0 or -1. */
int	procs_listening(int port);

/* nft.c */
struct nftstate {
	int		 table;		/* the table exists */
	const char	*missing;	/* the first set missing, or NULL */
	int		 redirect;	/* the catch-all redirect rule is there */
	int		 redir_port;	/* its port, 0 if unknown */
	char		 redir_chain[64];
	long		 trusted;	/* ranges in the trusted sets, -1: none */
	long		 nospamd;	/* ... in the nospamd sets */
	struct alist	 elems;		/* the whitelist sets' elements */
};
/* 0, or -1 with err (no CAP_NET_ADMIN, no netlink, ...). */
int	nft_read(const struct sconf *, struct nftstate *, char *err,
	    size_t errlen);
void	nft_free(struct nftstate *);

/* files.c */
struct dbstate {
	uint64_t	 n[4];		/* GREY, WHITE, TRAPPED, SPAMTRAP */
	struct alist	 white;		/* unexpired WHITE addresses */
	struct alist	 near;		/* ... expiring within seconds: the
					   kernel may have dropped them */
	uint64_t	 bytes;		/* files of the directory */
	uint64_t	 avail;		/* free bytes of its file system */
};
int	db_read(const struct sconf *, struct dbstate *, char *err,
	    size_t errlen);
void	db_free(struct dbstate *);
void	black_check(const struct sconf *, struct check *);
/* Fills the metrics check; *sync_last: last accepted sync, 0: none. */
void	metrics_check(const struct sconf *, struct check *,
	    struct check *sync);

#endif
