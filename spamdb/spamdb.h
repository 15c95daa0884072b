/*
 * spamdb's modules: options and privileges (spamdb.c), the listing
 * (list.c), adding and deleting entries (edit.c), the import of an
 * OpenBSD listing (import.c), the day-one whitelist from the MTA's log
 * (dayone.c, maillog.c) and the nft whitelist sets (fw.c).
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

/* lines.c: what spamdb_readlines does with each line. */
struct spamdb_lines {
	/* a whole line, its newline dropped: len bytes and a NUL */
	void	(*line)(char *, size_t len, unsigned long lineno, void *);
	/* a line longer than the buffer, skipped */
	void	(*toolong)(unsigned long lineno, void *);
	void	*arg;
};
/*
 * Read path ("-": the standard input), plain or gzip, into buf line by
 * line.  0; -1 when it cannot be opened, -2 when reading failed
 * (either said with warn).
 */
int	spamdb_readlines(const char *path, char *buf, size_t size,
	    const struct spamdb_lines *);

/* import.c: returns the number of lines that failed. */
int	spamdb_import(struct store *, const char *path);

/*
 * dayone.c: -m, the clients that delivered mail in the last days of
 * the MTA's logs, whitelisted; returns the number of errors.
 */
int	spamdb_dayone(struct store *, char **files, int nfiles, int days,
	    int verbose, time_t now);

/*
 * fw.c: queue whitelist set changes; spamdb_fw_flush sends them if the
 * caller is root (main switches back to root for it).
 */
void	spamdb_fw_add(const char *ip, time_t expire, time_t now);
void	spamdb_fw_del(const char *ip);
void	spamdb_fw_flush(void);

#endif
