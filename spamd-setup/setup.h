/*
 * spamd-setup: fetch the lists spamd.conf names (fetch.c), turn them
 * into address ranges (lists.c), subtract each white list from the
 * black list before it, and hand the black lists to spamd's
 * configuration socket (cfgsend.c) and, with -b, to nftables.
 */
#ifndef SETUP_H
#define SETUP_H

#include <stddef.h>

#include "cidr.h"
#include "paths.h"
#include "spamdconf.h"

/* A list larger than this, compressed or not, is refused. */
#define LIST_MAXBYTES	(256UL * 1024 * 1024)
/* Seconds a list may take to arrive (network or exec). */
#define FETCH_TIMEOUT	300
/* Malformed lines of one list that are quoted in the log. */
#define BADLINES_SHOWN	5
/*
 * A black list makes spamd take every WHITE host it covers off the
 * whitelist, for good: bounds on what one may cover.  An entry wider
 * than /8 (IPv4) or /16 (IPv6) is refused as malformed; a list whose
 * entries add up to more than a /8 or a /16 is refused whole, unless
 * -o.  See spamd-setup(8), "Limits".
 */
#define BLACK_MIN4	8
#define BLACK_MIN6	16

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* One list of spamd.conf, fetched and parsed. */
struct slist {
	const struct sdconf_list *conf;
	char			 label[1024];	/* where it comes from */
	struct cidr_list	 v4;
	struct cidr_list	 v6;
	char			*msg;	/* black: the text, decoded */
	int			 ok;	/* fetched and parsed */
};

/* fetch.c */
void	fetch_label(const struct sdconf_list *, char *, size_t);
int	fetch_list(const struct sdconf_list *, const char *label,
	    struct buf *);
int	fetch_gunzip(const char *label, struct buf *);
int	fetch_buf_add(struct buf *, const void *, size_t);
void	fetch_buf_free(struct buf *);

/* lists.c */
/* Fetch and parse; oversize: no bound on the whole list (-o).  0 or -1. */
int	slist_load(struct slist *, int oversize);
void	slist_free(struct slist *);

/* nospamd.c */
#define NOSPAMD_PATH	PATH_NOSPAMD
#define TRUSTED_PATH	PATH_TRUSTED
/*
 * The bypass lists: nospamd_read and trusted_read read a file into v4
 * and v6: 0; 1 for no file; 2 when lines wider than the list's bound
 * were left out (each logged with file:line), the rest read; -1 for a
 * bad file (a line that does not parse), nothing to use.  netlist_load
 * puts what was read into the sets set4 and set6 of table (NULL: the
 * default; with dryrun, only says so), and nothing for a bad file.
 * spamd-setup also takes the nospamd ranges out of the black lists,
 * for spamd and for the -b sets alike.
 */
#define NOSPAMD_OK	0
#define NOSPAMD_NOFILE	1
#define NOSPAMD_WIDE	2
int	nospamd_read(const char *path, struct cidr_list *v4,
	    struct cidr_list *v6);
int	trusted_read(const char *path, struct cidr_list *v4,
	    struct cidr_list *v6);
int	netlist_load(const char *path, int rc, const char *table,
	    const char *set4, const char *set6, const struct cidr_list *v4,
	    const struct cidr_list *v6, int dryrun);

/* cfgsend.c */
/* Where spamd listens: the unix socket path, or TCP 127.0.0.1:port. */
struct cfgdest {
	const char	*path;
	int		 port;		/* 0: the unix socket */
};
/*
 * Send the lists and the names for "!only"; unless dryrun (standard
 * output), *fd is then the connection, for cfgsend_wait() to collect
 * spamd's verdict: 0 when every line was applied.
 */
int	cfgsend_lists(const struct cfgdest *, struct slist *const *, size_t,
	    char *const *, size_t, int dryrun, int *fd);
int	cfgsend_wait(int fd);

#endif
