/*
 * spamdb's modules: listing format (spamdb.c), import of an OpenBSD
 * listing (import.c) and the nft whitelist sets (fw.c).
 */
#ifndef SPAMDB_SPAMDB_H
#define SPAMDB_SPAMDB_H

#include <stdio.h>
#include <time.h>

#include "gdata.h"
#include "store.h"

void	spamdb_print(FILE *, const char *key, size_t keylen,
	    const struct gdata *);
/* Import a listing; returns the number of lines that failed. */
int	spamdb_import(struct store *, const char *path);
/* Switch the effective uid back to root (1) for nft work. */
void	spamdb_be_root(int);

/* Queue whitelist set changes; spamdb_fw_flush sends them as root. */
void	spamdb_fw_add(const char *ip, time_t expire, time_t now);
void	spamdb_fw_del(const char *ip);
void	spamdb_fw_flush(void);

#endif
