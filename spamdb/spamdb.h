/*
 * spamdb's modules: options and privileges (spamdb.c), the listing
 * (list.c), adding and deleting entries (edit.c), the import of an
 * OpenBSD listing (import.c) and the nft whitelist sets (fw.c).
 */
#ifndef SPAMDB_SPAMDB_H
#define SPAMDB_SPAMDB_H

#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "gdata.h"
#include "store.h"

/* Set by SIGINT, SIGTERM, SIGHUP, SIGQUIT: stop at the next entry. */
extern volatile sig_atomic_t	spamdb_quit;

/* list.c */
void	spamdb_print(FILE *, const char *key, size_t keylen,
	    const struct gdata *);
int	spamdb_list(struct store *);
/*
 * -u: the GREY tuples never tried again (bcount 1) that were first seen
 * at or before `before', in the listing's format.
 */
int	spamdb_list_noretry(struct store *, time_t before);
int	spamdb_list_out(void);
int	spamdb_list_key(struct store *, const char *);

/* summary.c: -s */
int	spamdb_summary(struct store *, time_t now);

/* edit.c */
int	spamdb_add(struct store *, int type, const char *, time_t now);
int	spamdb_del(struct store *, int type, const char *);
int	spamdb_del_grey(struct store *, const char *);

/* import.c: returns the number of lines that failed. */
int	spamdb_import(struct store *, const char *path);

/*
 * fw.c: queue whitelist set changes; spamdb_fw_flush sends them if the
 * caller is root (main switches back to root for it).
 */
void	spamdb_fw_add(const char *ip, time_t expire, time_t now);
void	spamdb_fw_del(const char *ip);
void	spamdb_fw_flush(void);

#endif
