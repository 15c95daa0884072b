/*
 * The Berkeley DB 5.3 store: a hash database "spamd.db" inside a
 * transactional environment in the directory named by -f.  spamd,
 * spamdb and spamlogd open the same environment; with DB_REGISTER,
 * DB_RECOVER runs recovery only when a process died while holding it,
 * so a killed writer never leaves the others a broken database.
 *
 * Commits are written to the log without fsync (DB_TXN_WRITE_NOSYNC):
 * a killed process loses nothing it committed, and a greylist update
 * costs no disk flush.  A power failure may lose the last few.
 *
 * A participant that dies (SIGKILL, the OOM killer, a crash) may leave
 * locks behind in the shared region.  Every opener is therefore
 * registered in Berkeley DB's thread table under an id that carries its
 * process start time (gdb_alive tells a dead pid from a reused one),
 * and runs a watchdog thread (gdbwatch.c) that calls failchk, times out
 * expired locks and checkpoints by log size or time (a checkpoint every
 * 1000 commits rewrote about 3.8 KB of pages per greylisted tuple at
 * full load).  A process that died inside the library panics the
 * environment: the handle is then broken (store_broken) until
 * store_reopen runs recovery.  An opener that finds a registered
 * process dead (DB_REGISTER) runs recovery, which panics the
 * environment of those still in it (they reopen).
 *
 * failchk cannot help with a process killed while it opened or closed
 * the environment: it may die holding a region mutex (the thread table's,
 * the region's reference count's) before it is in the thread table, and
 * every later open then waits for that mutex forever.  Opens and closes
 * are therefore serialised through an open file description lock on
 * GDB_LOCKFILE, which the kernel releases when its holder dies, and the
 * holder writes its pid into the file while it works: whoever takes the
 * lock and finds a pid there knows that process died in the middle, and
 * runs recovery, which builds new regions and panics the old ones (the
 * running daemons then reopen).  Waits are bounded: for the lock
 * (GDB_OPEN_WAIT_S), and for the open itself, which a stuck mutex would
 * make endless: after GDB_OPEN_STUCK_S the process says why and exits,
 * leaving its pid in the file, so the next opener recovers.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <db.h>
#include <endian.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"
#include "gdbwatch.h"
#include "log.h"

#define GDB_FILE	"spamd.db"
#define GDB_META	"\0spamd"
#define GDB_META_LEN	6
#define GDB_MAGIC	"spamd greylist database 1"
#define GDB_LOCKFILE	"spamd.lock"
#define GDB_CLOSE_WAIT_S 2	/* for the lock at close, then close anyway */
#define GDB_COMPACT_SLICE 1024	/* hash buckets per compaction step */
/*
 * Locks one transaction may hold: compaction moves a segment of the
 * hash table (up to half of it, two locks a page) in one transaction,
 * and Berkeley DB's default of 1000 stopped it between 100,000 and
 * 300,000 entries.  This many cost about 7 MB of lock region and are
 * enough for 32768 buckets, about a million entries (measured: 27484).
 */
#define GDB_MAX_LOCKS	65536

struct gdb {
	DB_ENV		*env;
	DB		*db;
	DB_TXN		*txn;
	struct gdbwatch	*watch;		/* started at first use */
	volatile int	 panic;		/* the environment needs recovery */
	int		 openerr;	/* of the last env->open */
	int		 flags;		/* GDB_* of the open */
	int		 rdonly;
	int		 lockfd;	/* GDB_LOCKFILE while held, or -1 */
	long		 lockdead;	/* pid found in it: died opening */
	long long	 compact_from;	/* file size when compaction began */
	char		 path[1024];
};

static int	gdb_env_open(struct gdb *, int, char *, size_t);
static int	gdb_open_locked(struct gdb *, char *, size_t);
static int	gdb_lock(struct gdb *, int, char *, size_t);
static void	gdb_unlock(struct gdb *);

/* The size of the database file, or -1. */
static long long
gdb_size(struct gdb *g)
{
	struct stat	 sb;
	char		 file[sizeof(g->path) + sizeof(GDB_FILE) + 1];

	snprintf(file, sizeof(file), "%s/%s", g->path, GDB_FILE);
	if (stat(file, &sb) == -1)
		return -1;
	return (long long)sb.st_size;
}

static int
gdb_err(struct gdb *g, int ret, const char *what)
{
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED) {
		/* A lock held elsewhere: by whom? */
		gdb_holders(g->env, g->path, 1);
		return STORE_RETRY;
	}
	if (ret == DB_RUNRECOVERY && !g->panic) {
		g->panic = 1;
		log_warnx("database %s: %s: the environment needs recovery",
		    g->path, what);
		return STORE_ERR;
	}
	if (ret != DB_RUNRECOVERY)
		log_warnx("database %s: %s: %s", g->path, what,
		    db_strerror(ret));
	return STORE_ERR;
}

/*
 * Every call of the store is watched: the watchdog starts with the
 * first, after the daemons have dropped their privileges, so that the
 * thread has none of root's.  A panicked handle fails at once.
 */
static int
gdb_enter(struct gdb *g)
{
	if (g->panic)
		return -1;
	if (g->watch == NULL)
		g->watch = gdbwatch_start(g->env, g->path, !g->rdonly,
		    &g->panic);
	gdbwatch_enter(g->watch);
	return 0;
}

static int
gdb_leave(struct gdb *g, int rv)
{
	gdbwatch_leave(g->watch);
	return rv;
}

static int
gdb_begin(void *h)
{
	struct gdb	*g = h;
	int		 ret;

	if (g->txn != NULL || gdb_enter(g) == -1)
		return STORE_ERR;
	/*
	 * A transaction never waits for a lock: a conflict returns at once
	 * and store_txn tries again after a back-off.  A waiting request
	 * would rely on the lock detector to expire it, and Berkeley DB
	 * 5.3's detector can lose a waiter's deadline (a request queued
	 * while a pass expires another is never expired), which stalled
	 * the greylister for as long as a live peer held the lock.
	 */
	if ((ret = g->env->txn_begin(g->env, NULL, &g->txn,
	    DB_TXN_NOWAIT)) != 0) {
		g->txn = NULL;
		return gdb_leave(g, gdb_err(g, ret, "begin transaction"));
	}
	return gdb_leave(g, STORE_OK);
}

static void	gdb_abort(void *);

static int
gdb_commit(void *h)
{
	struct gdb	*g = h;
	int		 ret;

	if (g->txn == NULL)
		return STORE_ERR;
	if (gdb_enter(g) == -1) {
		gdb_abort(g);
		return STORE_ERR;
	}
	ret = g->txn->commit(g->txn, 0);
	g->txn = NULL;
	if (ret != 0)
		return gdb_leave(g, gdb_err(g, ret, "commit"));
	return gdb_leave(g, STORE_OK);
}

static void
gdb_abort(void *h)
{
	struct gdb	*g = h;
	int		 ret;

	if (g->txn == NULL)
		return;
	/* Aborting in a panicked environment fails: say it once. */
	if ((ret = g->txn->abort(g->txn)) != 0)
		(void)gdb_err(g, ret, "abort");
	g->txn = NULL;
}

static void
gdb_dbt(DBT *d, const void *p, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)p;
	d->size = (u_int32_t)len;
}

static int
gdb_get(void *h, const char *key, size_t keylen, struct gdata *gd)
{
	struct gdb	*g = h;
	uint8_t		 buf[GD_RECSIZE + 1];
	DBT		 k, d;
	int		 ret;

	gdb_dbt(&k, key, keylen);
	memset(&d, 0, sizeof(d));
	d.data = buf;
	d.ulen = sizeof(buf);
	d.flags = DB_DBT_USERMEM;
	if (gdb_enter(g) == -1)
		return STORE_ERR;
	ret = gdb_leave(g, g->db->get(g->db, g->txn, &k, &d,
	    g->txn && !g->rdonly ? DB_RMW : 0));
	if (ret == DB_NOTFOUND)
		return STORE_NOTFOUND;
	if (ret == DB_BUFFER_SMALL) {
		log_warnx("database %s: oversized record (%u bytes) for "
		    "%.*s", g->path, d.size, (int)keylen, key);
		return STORE_NOTFOUND;
	}
	if (ret != 0)
		return gdb_err(g, ret, "get");
	if (gd_decode(buf, d.size, gd) == -1) {
		log_warnx("database %s: bad record (%u bytes) for %.*s",
		    g->path, d.size, (int)keylen, key);
		return STORE_NOTFOUND;
	}
	return STORE_OK;
}

static int
gdb_put(void *h, const char *key, size_t keylen, const struct gdata *gd)
{
	struct gdb	*g = h;
	uint8_t		 buf[GD_RECSIZE];
	DBT		 k, d;
	int		 ret;

	if (keylen == 0 || keylen > GD_KEY_MAX)
		return STORE_ERR;
	gd_encode(gd, buf);
	gdb_dbt(&k, key, keylen);
	gdb_dbt(&d, buf, sizeof(buf));
	if (gdb_enter(g) == -1)
		return STORE_ERR;
	if ((ret = gdb_leave(g, g->db->put(g->db, g->txn, &k, &d, 0))) != 0)
		return gdb_err(g, ret, "put");
	return STORE_OK;
}

static int
gdb_del(void *h, const char *key, size_t keylen)
{
	struct gdb	*g = h;
	DBT		 k;
	int		 ret;

	gdb_dbt(&k, key, keylen);
	if (gdb_enter(g) == -1)
		return STORE_ERR;
	ret = gdb_leave(g, g->db->del(g->db, g->txn, &k, 0));
	if (ret == DB_NOTFOUND)
		return STORE_NOTFOUND;
	if (ret != 0)
		return gdb_err(g, ret, "delete");
	return STORE_OK;
}

/*
 * One pass of a cursor that holds no transaction: with
 * DB_READ_COMMITTED it keeps a read lock on the current page only.
 * Records come in bulk, a buffer of them per call (DB_MULTIPLE_KEY),
 * which makes a walk of a million entries several times faster; the
 * page lock is held while the callback runs on a buffer, so callbacks
 * must be quick and must not write through this store.
 */
#define WALK_BUF	(1024 * 1024)

/* Step the cursor over one oversized record, reading none of it. */
static int
walk_skip(struct gdb *g, DBC *c, u_int32_t size)
{
	DBT	 k, d;
	int	 ret;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.flags = DB_DBT_MALLOC;
	d.flags = DB_DBT_PARTIAL;	/* dlen 0: no data */
	if ((ret = c->get(c, &k, &d, DB_NEXT)) != 0)
		return ret;
	log_warnx("database %s: record of %u bytes or more for %.*s is not "
	    "spamd's, skipped", g->path, size, (int)(k.size > 64 ? 64 :
	    k.size), (char *)k.data);
	free(k.data);
	return 0;
}

static int
gdb_walk(void *h, store_walk_cb cb, void *arg)
{
	struct gdb	*g = h;
	struct gdata	 gd;
	DBC		*c;
	DBT		 k, d;
	void		*p, *kp, *dp;
	u_int32_t	 klen, dlen;
	int		 ret, rv = STORE_OK, stop = 0;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	if (gdb_enter(g) == -1)
		return STORE_ERR;
	if ((d.data = malloc(WALK_BUF)) == NULL) {
		log_warn("database %s: walk", g->path);
		return gdb_leave(g, STORE_ERR);
	}
	d.ulen = WALK_BUF;
	d.flags = DB_DBT_USERMEM;
	if ((ret = g->db->cursor(g->db, NULL, &c, DB_READ_COMMITTED)) != 0) {
		free(d.data);
		return gdb_leave(g, gdb_err(g, ret, "cursor"));
	}
	while (!stop) {
		ret = c->get(c, &k, &d, DB_NEXT | DB_MULTIPLE_KEY);
		if (ret == DB_BUFFER_SMALL) {
			/*
			 * One record larger than the buffer, put there by
			 * some other tool: none of ours is.  Step over it
			 * alone, so that it cannot stop every scan.
			 */
			if ((ret = walk_skip(g, c, d.size)) != 0)
				break;
			continue;
		}
		if (ret != 0)
			break;
		gdbwatch_enter(g->watch);	/* progress */
		DB_MULTIPLE_INIT(p, &d);
		for (;;) {
			DB_MULTIPLE_KEY_NEXT(p, &d, kp, klen, dp, dlen);
			if (p == NULL)
				break;
			if (klen == 0 || ((char *)kp)[0] == '\0')
				continue;
			if (gd_decode(dp, dlen, &gd) == -1) {
				log_warnx("database %s: bogus record (%u bytes) "
				    "for %.*s", g->path, dlen, (int)klen,
				    (char *)kp);
				continue;
			}
			if (cb(kp, klen, &gd, arg) != 0) {
				stop = 1;
				break;
			}
		}
	}
	if (!stop && ret != 0 && ret != DB_NOTFOUND)
		rv = gdb_err(g, ret, "walk");
	if ((ret = c->close(c)) != 0 && rv == STORE_OK)
		rv = gdb_err(g, ret, "cursor close");
	free(d.data);
	return gdb_leave(g, rv);
}

/*
 * Close the handles; a panicked environment is left as it is.  A close
 * takes the open lock too, since one killed in env->close may leave a
 * region mutex held; if the lock cannot be had soon, close anyway.
 */
static void
gdb_shut(struct gdb *g)
{
	DB	*db;
	char	 err[512];
	int	 held = g->lockfd != -1;

	gdbwatch_stop(g->watch);
	g->watch = NULL;
	if (!held && g->env != NULL &&
	    gdb_lock(g, GDB_CLOSE_WAIT_S, err, sizeof(err)) == -1)
		log_warnx("%s; closing without it", err);
	gdb_abort(g);
	if (g->db != NULL)
		g->db->close(g->db, 0);
	db = g->db;
	g->db = NULL;
	if (g->env != NULL) {
		if (db != NULL && !g->rdonly && !g->panic)
			(void)g->env->txn_checkpoint(g->env, 0, 0, 0);
		g->env->close(g->env, 0);
	}
	g->env = NULL;
	if (!held)
		gdb_unlock(g);
}

static void
gdb_close(void *h)
{
	struct gdb	*g = h;

	gdb_shut(g);
	free(g);
}

static int
gdb_broken(void *h)
{
	struct gdb	*g = h;

	return g->panic;
}

/*
 * After a panic: close, and open again, which runs recovery (the
 * environment has to be rebuilt, and DB_REGISTER alone does not do it
 * while the panicked processes are alive).
 */
static int
gdb_reopen(void *h, char *err, size_t errlen)
{
	struct gdb	*g = h;

	gdb_shut(g);
	g->panic = 0;
	if (gdb_open_locked(g, err, errlen) == -1) {
		/* No environment now: broken until a reopen works. */
		g->panic = 1;
		return -1;
	}
	return 0;
}

/*
 * A hash file keeps its size when its records go: give the space back,
 * GDB_COMPACT_SLICE buckets a call.  Berkeley DB moves the slice's
 * records to the head of their buckets, merges the emptied buckets away
 * and moves the table down into free pages, each part in short
 * transactions of its own, so a writer waits for one slice at most.
 * The last call truncates what the slices freed at the end of the file.
 */
static int
gdb_compact(void *h, unsigned int *pos)
{
	struct gdb	*g = h;
	DB_HASH_STAT	*hs;
	DB_COMPACT	 c;
	DBT		 start, stop, *sp = NULL, *ep = NULL;
	u_int32_t	 b, e, nb;
	int		 ret;

	if (g->rdonly || g->txn != NULL || gdb_enter(g) == -1)
		return STORE_ERR;
	if ((ret = g->db->stat(g->db, NULL, &hs, DB_FAST_STAT)) != 0)
		return gdb_leave(g, gdb_err(g, ret, "compact: stat"));
	nb = hs->hash_buckets;
	free(hs);
	if (*pos == 0) {
		g->compact_from = gdb_size(g);
		log_info("database %s: compacting %lld bytes, %u hash buckets",
		    g->path, g->compact_from, nb);
	}
	/*
	 * The table's largest segment, up to half of it, moves in one
	 * transaction at two locks a page; running out of locks there
	 * crashed Berkeley DB 5.3 (1.5 million entries) rather than fail.
	 */
	if (nb > GDB_MAX_LOCKS / 2) {
		log_warnx("database %s: not compacted: moving its hash table "
		    "(%u buckets) takes more than the %d locks of the "
		    "environment; the file keeps %lld bytes", g->path, nb,
		    GDB_MAX_LOCKS, gdb_size(g));
		return gdb_leave(g, STORE_ERR);
	}
	memset(&c, 0, sizeof(c));
	b = *pos;
	if (b < nb) {
		e = nb - b > GDB_COMPACT_SLICE ? b + GDB_COMPACT_SLICE - 1 :
		    nb - 1;
		gdb_dbt(&start, &b, sizeof(b));
		start.ulen = sizeof(b);
		start.flags = DB_DBT_USERMEM;
		gdb_dbt(&stop, &e, sizeof(e));
		sp = &start;
		ep = &stop;
	}
	ret = g->db->compact(g->db, NULL, sp, ep, &c, DB_FREE_SPACE, NULL);
	if (ret != 0)
		return gdb_leave(g, gdb_err(g, ret, "compact"));
	if (sp == NULL) {
		log_info("database %s: compacted, %lld bytes (were %lld)",
		    g->path, gdb_size(g), g->compact_from);
		return gdb_leave(g, STORE_OK);
	}
	/* Berkeley DB left the next bucket in b; merges shrink nb. */
	*pos = b > e ? b : e + 1;
	return gdb_leave(g, 1);
}

static const struct store_ops gdb_ops = {
	gdb_begin, gdb_commit, gdb_abort, gdb_get, gdb_put, gdb_del,
	gdb_walk, gdb_close, gdb_broken, gdb_reopen, gdb_compact
};

static void
gdb_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	log_debug("%s: %s", pfx ? pfx : "db", msg);
}

/* failchk's reports: what it freed for a dead process is news. */
static void
gdb_msgcall(const DB_ENV *env, const char *msg)
{
	struct gdb	*g = env->app_private;

	if (gdb_holders_msg(msg))
		return;
	log_info("database %s: %s", g != NULL ? g->path : "?", msg);
}

static void
gdb_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct gdb	*g = env->app_private;

	(void)info;
	if (g != NULL && (event == DB_EVENT_PANIC ||
	    event == DB_EVENT_REG_PANIC))
		g->panic = 1;
}

/* The meta record tells spamd's database from any other hash file. */
static int
gdb_meta(struct gdb *g, int create, char *err, size_t errlen)
{
	char	 buf[64];
	DBT	 k, d;
	DB_TXN	*t;
	int	 ret;

	gdb_dbt(&k, GDB_META, GDB_META_LEN);
	memset(&d, 0, sizeof(d));
	d.data = buf;
	d.ulen = sizeof(buf);
	d.flags = DB_DBT_USERMEM;
	ret = g->db->get(g->db, NULL, &k, &d, 0);
	if (ret == 0 && d.size == strlen(GDB_MAGIC) &&
	    memcmp(buf, GDB_MAGIC, d.size) == 0)
		return 0;
	if (ret == 0 || ret == DB_BUFFER_SMALL) {
		snprintf(err, errlen, "database %s: not a spamd database "
		    "(wrong marker record)", g->path);
		return -1;
	}
	if (ret != DB_NOTFOUND) {
		snprintf(err, errlen, "database %s: %s", g->path,
		    db_strerror(ret));
		return -1;
	}
	if (!create) {
		snprintf(err, errlen, "database %s: not a spamd database "
		    "(no marker record)", g->path);
		return -1;
	}
	/* A fresh file holds nothing; anything else is someone else's. */
	{
		DBC	*c;
		DBT	 ck, cd;

		if ((ret = g->db->cursor(g->db, NULL, &c, 0)) == 0) {
			memset(&ck, 0, sizeof(ck));
			memset(&cd, 0, sizeof(cd));
			ret = c->get(c, &ck, &cd, DB_FIRST);
			c->close(c);
			if (ret == 0) {
				snprintf(err, errlen, "database %s: not a "
				    "spamd database (records but no marker)",
				    g->path);
				return -1;
			}
		}
	}
	gdb_dbt(&d, GDB_MAGIC, strlen(GDB_MAGIC));
	if ((ret = g->env->txn_begin(g->env, NULL, &t, 0)) != 0 ||
	    (ret = g->db->put(g->db, t, &k, &d, 0)) != 0 ||
	    (ret = t->commit(t, 0)) != 0) {
		snprintf(err, errlen, "database %s: write marker: %s",
		    g->path, db_strerror(ret));
		return -1;
	}
	return 0;
}

/*
 * An existing spamd.db must be a Berkeley DB hash file: look at its
 * magic number before joining an environment, so that a wrong -f leaves
 * no region files behind.  A missing file is fine (it is created).
 */
static int
gdb_is_hash(const char *path, const char *file, char *err, size_t errlen)
{
	uint8_t		 hdr[16];
	uint32_t	 magic, be, le;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "database %s: %s: %s", path, GDB_FILE,
		    strerror(errno));
		return -1;
	}
	n = read(fd, hdr, sizeof(hdr));
	close(fd);
	if (n == 0)
		return 0;	/* empty: DB_CREATE makes it */
	if (n == (ssize_t)sizeof(hdr)) {
		memcpy(&magic, hdr + 12, sizeof(magic));
		be = be32toh(magic);
		le = le32toh(magic);
		if (be == DB_HASHMAGIC || le == DB_HASHMAGIC)
			return 0;
	}
	snprintf(err, errlen, "database %s: %s: not a Berkeley DB hash file",
	    path, GDB_FILE);
	return -1;
}

struct store *
gdb_open(const char *path, int flags, char *err, size_t errlen)
{
	struct store	*st;
	struct gdb	*g;
	struct stat	 sb;
	char		 file[1100];

	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (st = calloc(1, sizeof(*st))) == NULL) {
		free(g);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	strlcpy(g->path, path, sizeof(g->path));
	g->lockfd = -1;
	g->rdonly = (flags & GDB_RDONLY) != 0;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT && (flags & GDB_CREATE)) {
			if (mkdir(path, 0750) == -1) {
				snprintf(err, errlen, "create database "
				    "directory %s: %s", path,
				    strerror(errno));
				goto fail;
			}
		} else {
			snprintf(err, errlen, "database %s: %s", path,
			    strerror(errno));
			goto fail;
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "database %s: not a directory (spamd "
		    "keeps a Berkeley DB environment in a directory)", path);
		goto fail;
	}
	snprintf(file, sizeof(file), "%s/%s", path, GDB_FILE);
	if (!(flags & GDB_CREATE) && stat(file, &sb) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "database %s: no %s in it (spamd "
			    "creates the database when it first starts)",
			    path, GDB_FILE);
		else
			snprintf(err, errlen, "database %s: %s: %s", path,
			    GDB_FILE, strerror(errno));
		goto fail;
	}
	if (gdb_is_hash(path, file, err, errlen) == -1)
		goto fail;

	g->flags = flags;
	if (gdb_open_locked(g, err, errlen) == -1)
		goto fail;
	st->ops = &gdb_ops;
	st->h = g;
	return st;
fail:
	gdb_shut(g);
	free(g);
	free(st);
	return NULL;
}

/* A new environment handle with every setting of ours. */
static int
gdb_env_new(struct gdb *g, char *err, size_t errlen)
{
	const char	*path = g->path;
	int		 ret;

	if ((ret = db_env_create(&g->env, 0)) != 0) {
		snprintf(err, errlen, "db_env_create: %s", db_strerror(ret));
		return -1;
	}
	g->env->app_private = g;
	g->env->set_errcall(g->env, gdb_errcall);
	g->env->set_errpfx(g->env, path);
	g->env->set_msgcall(g->env, gdb_msgcall);
	g->env->set_event_notify(g->env, gdb_event);
	g->env->set_timeout(g->env, GDB_LOCK_TMO, DB_SET_LOCK_TIMEOUT);
	if ((ret = gdb_track(g->env)) != 0) {
		snprintf(err, errlen, "database %s: thread tracking: %s",
		    path, db_strerror(ret));
		return -1;
	}
	g->env->set_lk_detect(g->env, DB_LOCK_DEFAULT);
	g->env->set_lk_max_locks(g->env, GDB_MAX_LOCKS);
	g->env->set_lk_max_objects(g->env, GDB_MAX_LOCKS);
	g->env->set_flags(g->env, DB_TXN_WRITE_NOSYNC, 1);
	g->env->log_set_config(g->env, DB_LOG_AUTO_REMOVE, 1);
	g->env->set_cachesize(g->env, 0, 32 * 1024 * 1024, 1);
	return 0;
}

/*
 * Join (or create) the environment and open the database in it.  force:
 * run recovery first whoever else is attached, for a panicked
 * environment that DB_REGISTER finds with all its processes alive; the
 * region it leaves has the same configuration as ours.
 */
static int
gdb_env_open(struct gdb *g, int force, char *err, size_t errlen)
{
	const char	*path = g->path;
	u_int32_t	 eflags, dflags;
	int		 ret, flags = g->flags;

	/* DB_THREAD: the watchdog thread shares the environment handle. */
	eflags = DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_RECOVER | DB_THREAD;
	if (force) {
		if (gdb_env_new(g, err, errlen) == -1)
			return -1;
		ret = g->env->open(g->env, path, eflags, 0640);
		g->env->close(g->env, 0);
		g->env = NULL;
		if (ret != 0) {
			snprintf(err, errlen, "database %s: recovery: %s",
			    path, db_strerror(ret));
			return -1;
		}
		log_info("database %s: recovered the environment", path);
		g->lockdead = 0;
	}
	if (gdb_env_new(g, err, errlen) == -1)
		return -1;
	/*
	 * No DB_FAILCHK: with it, an opener that finds a registered
	 * process dead runs failchk instead of recovery, and Berkeley DB
	 * 5.3's failchk waits, or spins, for ever on a region mutex that
	 * the dead process held (the region's, taken by every transaction
	 * begin and commit).  Recovery takes no mutex; the watchdog runs
	 * failchk for the dead that never registered.
	 */
	g->openerr = g->env->open(g->env, path, eflags | DB_REGISTER, 0640);
	if ((ret = g->openerr) != 0) {
		snprintf(err, errlen, "database %s: open environment: %s",
		    path, ret == EACCES ? "permission denied" :
		    db_strerror(ret));
		return -1;
	}
	if ((ret = db_create(&g->db, g->env, 0)) != 0) {
		snprintf(err, errlen, "db_create: %s", db_strerror(ret));
		return -1;
	}
	dflags = DB_AUTO_COMMIT;
	if (flags & GDB_CREATE)
		dflags |= DB_CREATE;
	if (g->rdonly)
		dflags = DB_RDONLY;
	if ((ret = g->db->open(g->db, NULL, GDB_FILE, NULL, DB_HASH, dflags,
	    0640)) != 0) {
		snprintf(err, errlen, "database %s: %s: %s", path, GDB_FILE,
		    ret == EINVAL ? "not a Berkeley DB hash file" :
		    ret == EACCES ? "permission denied" : db_strerror(ret));
		return -1;
	}
	if (gdb_meta(g, !g->rdonly, err, errlen) == -1)
		return -1;
	return 0;
}

/*
 * Take the open lock within wait_s seconds and put our pid in the file.
 * A pid already there is that of a process that died holding the lock,
 * in the middle of an open or a close: g->lockdead.
 */
static int
gdb_lock(struct gdb *g, int wait_s, char *err, size_t errlen)
{
	struct flock	 fl;
	struct timespec	 t0, t, nap = { 0, 50 * 1000000L };
	char		 file[1100], buf[32];
	ssize_t		 n;
	int		 fd, len;

	snprintf(file, sizeof(file), "%s/%s", g->path, GDB_LOCKFILE);
	if ((fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1) {
		snprintf(err, errlen, "database %s: %s: %s", g->path,
		    GDB_LOCKFILE, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
		goto syserr;
	/* An OFD lock: one per handle, not per process, and no thread's. */
	while (fcntl(fd, F_OFD_SETLK, &fl) == -1) {
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			goto syserr;
		if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
			goto syserr;
		if (t.tv_sec - t0.tv_sec >= wait_s) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(err, errlen, "database %s: process %s has "
			    "been opening or closing the environment for over "
			    "%d s; giving up (a stuck open ends within %d s, "
			    "and the next opener then recovers)", g->path,
			    buf[0] != '\0' ? buf : "?", wait_s,
			    GDB_OPEN_STUCK_S);
			close(fd);
			return -1;
		}
		(void)nanosleep(&nap, NULL);
	}
	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) == -1)
		goto syserr;
	buf[n] = '\0';
	g->lockdead = n == 0 ? 0 : strtol(buf, NULL, 10);
	if (n > 0 && g->lockdead <= 0)
		g->lockdead = -1;	/* garbled: as good as a pid */
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, len, 0) != len)
		goto syserr;
	g->lockfd = fd;
	return 0;
syserr:
	snprintf(err, errlen, "database %s: %s: %s", g->path, GDB_LOCKFILE,
	    strerror(errno));
	close(fd);
	return -1;
}

/*
 * Clear our pid and let go; a dead opener's pid stays until recovery has
 * run, so that a close in between does not hide it.
 */
static void
gdb_unlock(struct gdb *g)
{
	if (g->lockfd == -1)
		return;
	if (g->lockdead == 0 && ftruncate(g->lockfd, 0) == -1)
		log_warn("database %s: %s: clear", g->path, GDB_LOCKFILE);
	if (close(g->lockfd) == -1)
		log_warn("database %s: %s: close", g->path, GDB_LOCKFILE);
	g->lockfd = -1;
}

/*
 * Open under the lock, guarded: recovery first if an opener died, or
 * when the open finds a panicked environment.
 */
static int
gdb_open_locked(struct gdb *g, char *err, size_t errlen)
{
	struct gdbguard	*gg;
	int		 rv, force = 0;

	if (gdb_lock(g, GDB_OPEN_WAIT_S, err, errlen) == -1)
		return -1;
	if (g->lockdead != 0) {
		log_warnx("database %s: process %ld died while it opened or "
		    "closed the environment: running recovery", g->path,
		    g->lockdead);
		force = 1;
	}
	gg = gdbguard_start(g->path, GDB_OPEN_STUCK_S);
	rv = gdb_env_open(g, force, err, errlen);
	/*
	 * A panicked environment either refuses the open or lets it join
	 * and says so only through the panic event: recover in both.
	 */
	if (!force && ((rv == -1 && g->openerr == DB_RUNRECOVERY) ||
	    (rv == 0 && g->panic))) {
		gdb_shut(g);
		g->panic = 0;
		rv = gdb_env_open(g, 1, err, errlen);
	}
	gdbguard_stop(gg);
	if (rv == -1)
		gdb_shut(g);
	gdb_unlock(g);
	return rv;
}
