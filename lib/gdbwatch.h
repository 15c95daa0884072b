/*
 * Keeping a Berkeley DB environment usable when a participant dies:
 * thread tracking whose is-alive check survives pid reuse, and a
 * watchdog thread that runs failchk, expires timed-out lock waits and
 * checkpoints.  Private to gdb.c.
 *
 * Used by: spamd, spamdb, spamlogd (through lib/gdb.c).
 */
#ifndef SPAMD_GDBWATCH_H
#define SPAMD_GDBWATCH_H

#include <db.h>

#define GDB_WATCH_MS	500	/* watchdog period */
#define GDB_LOCK_TMO	1000000	/* us a lock request may wait */
#define GDB_STUCK_S	60	/* one call this long: give up (see below) */
#define GDB_CKP_KB	8192	/* checkpoint after this much log, */
#define GDB_CKP_MIN	1	/* or this many minutes */
#define GDB_OPEN_WAIT_S	10	/* for the lock another opener holds */
#define GDB_OPEN_STUCK_S 30	/* an open this long: give up (see below) */

struct gdbwatch;
struct gdbguard;

/* Before env->open: thread table, ids with start times, is-alive. */
int		 gdb_track(DB_ENV *);

/*
 * Start the watchdog of an open environment.  writer: it also
 * checkpoints.  *panic is set when the environment panics.  A call
 * (gdbwatch_enter .. gdbwatch_leave) that lasts GDB_STUCK_S while the
 * environment is panicked, or twice that in any case, can only be a
 * wait that nothing will end, and so is a failchk or checkpoint of the
 * watchdog's own that lasts GDB_STUCK_S: a monitor thread, which never
 * enters Berkeley DB, logs why (on stderr too) and exits the process
 * with status 1, so a supervisor restarts it cleanly.
 */
struct gdbwatch	*gdbwatch_start(DB_ENV *, const char *path, int writer,
		    volatile int *panic);
void		 gdbwatch_stop(struct gdbwatch *);
void		 gdbwatch_enter(struct gdbwatch *);
void		 gdbwatch_leave(struct gdbwatch *);

/*
 * Watch one open of the environment: one still going after seconds
 * waits for a region mutex a dead process holds, which nothing will
 * release: the guard logs why and exits the process with status 1,
 * leaving the open lock's pid behind so that the next opener recovers.
 * NULL (logged) when no thread could be started.
 */
struct gdbguard	*gdbguard_start(const char *path, int seconds);

/*
 * After `rejected' lock requests of the caller timed out (the watchdog
 * expired them, or the waiter itself): log the pid of any stopped
 * process holding locks, at most every 10 s; running holders only at
 * debug level.  It reads Berkeley DB's dump of the lockers through the
 * environment's message callback, which passes each message to
 * gdb_holders_msg() first: 1 means it was part of the dump, consumed.
 */
void		 gdb_holders(DB_ENV *, const char *path, int rejected);
int		 gdb_holders_msg(const char *msg);
void		 gdbguard_stop(struct gdbguard *);

#endif
