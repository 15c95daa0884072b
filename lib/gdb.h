/*
 * Berkeley DB 5.3 backend of the store: a hash database "spamd.db"
 * inside a transactional environment that lives in the directory named
 * by -f (default /var/db/spamd).  spamd, spamdb and spamlogd all open
 * the same environment; DB_REGISTER | DB_FAILCHK cleans up after a
 * process that died holding it, and one that died while opening or
 * closing it (seen through the lock file spamd.lock) makes the next
 * opener run recovery.  No open waits for ever (see gdb.c).
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#ifndef SPAMD_GDB_H
#define SPAMD_GDB_H

#include <pwd.h>
#include <stddef.h>

#include "paths.h"
#include "store.h"

#define GDB_RDONLY	0x01	/* open for reading only */
#define GDB_CREATE	0x02	/* create the directory and database */

/*
 * Open the database at path.  On failure returns NULL and writes a
 * message naming the problem (missing, not spamd's, permission, ...)
 * into err.
 */
struct store	*gdb_open(const char *path, int flags, char *err, size_t errlen);

/*
 * For a daemon started as root: create the directory if missing, give
 * it to pw, and open (creating) the database with pw's effective ids,
 * so every file of the environment is pw's.  pw NULL: as we are.
 */
struct store	*gdb_open_as(const char *path, const struct passwd *pw,
		    char *err, size_t errlen);

#endif
