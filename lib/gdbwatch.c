/*
 * A dead participant must never stop the others.  Berkeley DB can tell
 * a dead one only through the application: every thread of ours that
 * enters the library is recorded in the environment's thread table
 * under (pid, id), the id packing a tag, the process start time from
 * /proc/PID/stat (0 when it could not be read) and a thread number;
 * gdb_alive() then says a pid is dead when it is gone, a zombie, or a
 * new process under a reused pid.  Threads of other programs (db5.3
 * utilities, Python's bsddb3) record plain pthread ids without the
 * tag; for them only the pid is checked.
 *
 * The library asks for the id after every mutex it takes, dozens of
 * times a tuple, so the id costs no system call: pid and start time are
 * read once per process (again in a child after fork), the thread
 * number once per thread.
 *
 * /proc may hide other users' processes (hidepid=invisible, systemd's
 * ProtectProc=invisible): a pid whose entry cannot be read is asked of
 * the kernel with kill(pid, 0), where EPERM means alive; only the
 * check against a reused pid is lost while it is hidden.
 *
 * failchk runs every GDB_WATCH_MS in a watchdog thread (not at open:
 * gdb.c says why), which also expires lock waits older than
 * GDB_LOCK_TMO and checkpoints by log size or time, so the writers'
 * commit path never writes pages itself.
 *
 * Used by: spamd, spamdb, spamlogd (through lib/gdb.c).
 */
#include <sys/types.h>

#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdbwatch.h"
#include "log.h"

#define GDB_THREADS	512		/* table slots, all processes */
#define TID_TAG		0xa5ULL		/* top byte: an id of ours */
#define TID_START_SHIFT	16		/* 40 bits of start time, ticks */
#define TID_START_MASK	((1ULL << 40) - 1)
#define TID_THR_MASK	0xffffULL	/* 16 bits of thread number */

struct gdbwatch {
	DB_ENV		*env;
	const char	*path;
	int		 writer;
	volatile int	*panic;
	pthread_t	 thr;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	int		 stop;
	int64_t		 busy_since;	/* monotonic s, 0 when idle */
	int64_t		 keep_since;	/* the watchdog's own call, or 0 */
	int		 stuck_s;	/* a guard's limit */
	void		(*tick)(struct gdbwatch *);
	struct gdbwatch	*of;		/* a monitor's watchdog */
	struct gdbwatch	*mon;		/* a watchdog's monitor */
};

static unsigned int		 tid_next;
static __thread unsigned int	 tid_mine;
static pid_t			 self_pid;	/* 0: read it again */
static unsigned long long	 self_start;	/* 0: unknown */
static pthread_once_t		 track_once = PTHREAD_ONCE_INIT;

/*
 * Say why the process gives up, on stderr too: syslog may be missing
 * (test machines, containers) and a supervisor shows stderr.
 */
static void __attribute__((format(printf, 1, 2), noreturn))
gdb_giveup(const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	if (!log_on_stderr())
		dprintf(STDERR_FILENO, "%s[%ld]: %s\n",
		    program_invocation_short_name, (long)getpid(), msg);
	_exit(1);
}

/*
 * Start time (field 22) and state of pid, 0 for ourselves.  Returns 0,
 * or -1 with errno (ENOENT: no such process, or one /proc hides).
 */
static int
proc_start(pid_t pid, unsigned long long *start, char *state)
{
	char	 path[64], buf[1024], *p, *ep;
	ssize_t	 n;
	int	 fd, i;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/stat");
	else
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = n == 0 ? ENOENT : errno;
		return -1;
	}
	buf[n] = '\0';
	/* The name may hold anything but ends at the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ') {
		errno = EINVAL;
		return -1;
	}
	p += 2;
	*state = *p;
	for (i = 3; i < 22; i++) {
		if ((p = strchr(p, ' ')) == NULL) {
			errno = EINVAL;
			return -1;
		}
		p++;
	}
	errno = 0;
	*start = strtoull(p, &ep, 10);
	if (errno != 0 || ep == p) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* In the child of a fork: pid and start time are the parent's. */
static void
self_forked(void)
{
	__atomic_store_n(&self_pid, 0, __ATOMIC_RELAXED);
}

static void
self_init(void)
{
	if (pthread_atfork(NULL, NULL, self_forked) != 0)
		log_warnx("database: pthread_atfork failed");
}

/* Our pid and start time, read once per process. */
static pid_t
self(unsigned long long *start)
{
	unsigned long long	 st;
	pid_t			 pid;
	char			 state;

	if ((pid = __atomic_load_n(&self_pid, __ATOMIC_ACQUIRE)) == 0) {
		pid = getpid();
		if (proc_start(0, &st, &state) == -1)
			st = 0;		/* no /proc: peers check the pid */
		__atomic_store_n(&self_start, st, __ATOMIC_RELAXED);
		__atomic_store_n(&self_pid, pid, __ATOMIC_RELEASE);
	}
	*start = __atomic_load_n(&self_start, __ATOMIC_RELAXED);
	return pid;
}

static void
gdb_thread_id(DB_ENV *env, pid_t *pid, db_threadid_t *tid)
{
	unsigned long long	 start;
	pid_t			 me = self(&start);

	(void)env;
	if (tid_mine == 0)
		tid_mine = __atomic_add_fetch(&tid_next, 1, __ATOMIC_RELAXED);
	if (pid != NULL)
		*pid = me;
	if (tid != NULL)
		*tid = (db_threadid_t)(TID_TAG << 56 |
		    (start & TID_START_MASK) << TID_START_SHIFT |
		    (tid_mine & TID_THR_MASK));
}

/* No entry in /proc we may read: the kernel still knows the pid. */
static int
pid_exists(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Berkeley DB's question: may the holder of these locks still act? */
static int
gdb_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	unsigned long long	 start, mine;
	uint64_t		 t = (uint64_t)tid;
	int			 ours;
	char			 state;

	(void)env;
	if (pid == self(&mine))
		return 1;
	/* Process-only mutexes come without an id; foreign ids untagged. */
	ours = !(flags & DB_MUTEX_PROCESS_ONLY) && t >> 56 == TID_TAG;
	if (proc_start(pid, &start, &state) == -1)
		return pid_exists(pid);	/* gone (ESRCH), or hidden */
	if (state == 'Z' || state == 'X')
		return 0;		/* dead, not reaped yet */
	/* A start time of 0: that process could not read its own. */
	if (!ours || ((t >> TID_START_SHIFT) & TID_START_MASK) == 0)
		return 1;
	return ((t >> TID_START_SHIFT) & TID_START_MASK) ==
	    (start & TID_START_MASK);
}

int
gdb_track(DB_ENV *env)
{
	int	 ret;

	if ((ret = pthread_once(&track_once, self_init)) != 0)
		return ret;
	if ((ret = env->set_thread_count(env, GDB_THREADS)) != 0 ||
	    (ret = env->set_thread_id(env, gdb_thread_id)) != 0 ||
	    (ret = env->set_isalive(env, gdb_alive)) != 0)
		return ret;
	return 0;
}

/*
 * Who holds locks, read from Berkeley DB's dump of the lockers (the
 * only interface that names a holder's pid): each locker's header line
 * carries "pid/thread PID/TID", its lock lines follow.  Handle locks,
 * which every open database keeps, are not counted.
 */
#define HOLDERS_MAX	8

struct holders {
	pid_t		 cur;		/* of the locker being read */
	int		 n;
	struct {
		pid_t		 pid;
		unsigned int	 locks, writes;
	}		 h[HOLDERS_MAX];
};

static __thread struct holders	*hold_cap;	/* a dump being read */

int
gdb_holders_msg(const char *msg)
{
	struct holders	*hs = hold_cap;
	const char	*p;
	unsigned long	 id;
	unsigned int	 count;
	char		 mode[16], status[16], type[16];
	int		 i;

	if (hs == NULL)
		return 0;
	if (strstr(msg, " dd=") != NULL &&
	    (p = strstr(msg, "pid/thread ")) != NULL) {
		hs->cur = (pid_t)strtol(p + 11, NULL, 10);
		return 1;
	}
	if (sscanf(msg, "%lx %15s %u %15s %*s %15s", &id, mode, &count,
	    status, type) != 5 || strcmp(status, "HELD") != 0 ||
	    strcmp(type, "handle") == 0 || hs->cur <= 0)
		return 1;
	for (i = 0; i < hs->n && hs->h[i].pid != hs->cur; i++)
		;
	if (i == hs->n) {
		if (hs->n == HOLDERS_MAX)
			return 1;
		hs->h[hs->n].pid = hs->cur;
		hs->h[hs->n].locks = hs->h[hs->n].writes = 0;
		hs->n++;
	}
	hs->h[i].locks++;
	if (strstr(mode, "WRITE") != NULL)
		hs->h[i].writes++;
	return 1;
}

/*
 * A lock request was refused (transactions do not wait; the refused
 * caller calls this, at most once a second): name the other processes that hold locks, and whether they are
 * stopped (SIGSTOP, a suspended terminal job, a debugger): alive, so
 * failchk frees nothing, and every writer waits until they go on or
 * die.  A stopped holder is a warning, at most every NAG_S seconds;
 * running ones are only contention.
 */
#define NAG_S	10

void
gdb_holders(DB_ENV *env, const char *path, int rejected)
{
	static time_t		 last, lastdump;
	struct holders		 hs;
	unsigned long long	 start;
	pid_t			 me = self(&start);
	char			 state;
	const char		*what;
	int			 i;

	/* Conflicts come at once now (no waiting): one dump a second. */
	if (!log_nag(&lastdump, 1))
		return;
	memset(&hs, 0, sizeof(hs));
	hold_cap = &hs;
	(void)env->lock_stat_print(env, DB_STAT_LOCK_LOCKERS);
	hold_cap = NULL;
	for (i = 0; i < hs.n; i++) {
		if (hs.h[i].pid == me)
			continue;
		if (proc_start(hs.h[i].pid, &start, &state) == -1)
			state = '?';
		what = state == 'T' ? "stopped" : state == 't' ?
		    "stopped by a debugger" : NULL;
		if (what == NULL) {
			log_debug("database %s: pid %ld holds %u lock%s",
			    path, (long)hs.h[i].pid, hs.h[i].locks,
			    hs.h[i].locks == 1 ? "" : "s");
			continue;
		}
		if (!log_nag(&last, NAG_S))
			continue;
		log_warnx("database %s: %d lock request%s refused: pid %ld "
		    "is %s holding %u lock%s (%u for writing); writers give "
		    "up until it goes on or dies", path, rejected,
		    rejected == 1 ? "" : "s", (long)hs.h[i].pid, what,
		    hs.h[i].locks, hs.h[i].locks == 1 ? "" : "s",
		    hs.h[i].writes);
	}
}

static int64_t
mono_s(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return ts.tv_sec;
}

/*
 * The watchdog's round.  Its own calls into the library may wait for
 * ever too: Berkeley DB 5.3's failchk spins on a region mutex that a
 * dead process holds.  keep_since lets the monitor see that.
 */
static void
watch_once(struct gdbwatch *w)
{
	int	 ret, rejected = 0;

	__atomic_store_n(&w->keep_since, mono_s(), __ATOMIC_RELAXED);
	if (!*w->panic) {
		ret = w->env->failchk(w->env, 0);
		if (ret == DB_RUNRECOVERY) {
			*w->panic = 1;
			log_warnx("database %s: a process died inside Berkeley "
			    "DB: the environment needs recovery", w->path);
		} else if (ret != 0)
			log_warnx("database %s: failchk: %s", w->path,
			    db_strerror(ret));
	}
	if (!*w->panic) {
		ret = w->env->lock_detect(w->env, 0, DB_LOCK_EXPIRE,
		    &rejected);
		if (ret == DB_RUNRECOVERY)
			*w->panic = 1;
		else if (rejected > 0)	/* the waiters name the holders */
			log_debug("database %s: %d lock request%s timed out",
			    w->path, rejected, rejected == 1 ? "" : "s");
	}
	if (!*w->panic && w->writer) {
		ret = w->env->txn_checkpoint(w->env, GDB_CKP_KB, GDB_CKP_MIN,
		    0);
		if (ret == DB_RUNRECOVERY)
			*w->panic = 1;
		else if (ret != 0)
			log_warnx("database %s: checkpoint: %s", w->path,
			    db_strerror(ret));
	}
	__atomic_store_n(&w->keep_since, 0, __ATOMIC_RELAXED);
}

/*
 * The monitor's round, in a thread that never enters the library, so
 * that a wait without end in the watchdog cannot hide one.
 */
static void
mon_once(struct gdbwatch *m)
{
	struct gdbwatch	*w = m->of;
	int64_t		 since, keep, now;

	since = __atomic_load_n(&w->busy_since, __ATOMIC_RELAXED);
	keep = __atomic_load_n(&w->keep_since, __ATOMIC_RELAXED);
	now = mono_s();
	if (since != 0 && (now - since >= 2 * GDB_STUCK_S ||
	    (*w->panic && now - since >= GDB_STUCK_S)))
		gdb_giveup("database %s: one call has waited %lld s%s; "
		    "nothing will end that wait, exiting", w->path,
		    (long long)(now - since), *w->panic ? " in a panicked "
		    "environment" : "");
	if (keep != 0 && now - keep >= GDB_STUCK_S)
		gdb_giveup("database %s: the watchdog's failchk or checkpoint "
		    "has taken %lld s: a process that died holds one of the "
		    "environment's mutexes; exiting, the next opener "
		    "recovers", w->path, (long long)(now - keep));
}

static void *
watch_run(void *arg)
{
	struct gdbwatch	*w = arg;
	struct timespec	 ts;

	pthread_mutex_lock(&w->mtx);
	while (!w->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += GDB_WATCH_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (pthread_cond_timedwait(&w->cv, &w->mtx, &ts) != ETIMEDOUT)
			continue;
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->mtx);
		w->tick(w);
		pthread_mutex_lock(&w->mtx);
	}
	pthread_mutex_unlock(&w->mtx);
	return NULL;
}

/*
 * A copy of tmpl with its thread started on run, every signal blocked
 * in it.  The monitor and the open guard are gdbwatches too.
 */
static struct gdbwatch *
watch_spawn(const struct gdbwatch *tmpl, void *(*run)(void *))
{
	struct gdbwatch		*w;
	pthread_condattr_t	 ca;
	sigset_t		 all, old;
	int			 ret;

	if ((w = malloc(sizeof(*w))) == NULL) {
		log_warn("database %s: watchdog", tmpl->path);
		return NULL;
	}
	*w = *tmpl;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals stay with the main thread, whose loop waits for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&w->thr, NULL, run, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0) {
		log_warnx("database %s: watchdog thread: %s", w->path,
		    strerror(ret));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mtx);
		free(w);
		return NULL;
	}
	return w;
}

struct gdbwatch *
gdbwatch_start(DB_ENV *env, const char *path, int writer,
    volatile int *panic)
{
	struct gdbwatch		 w, m, *wp;

	memset(&w, 0, sizeof(w));
	w.env = env;
	w.path = path;
	w.writer = writer;
	w.panic = panic;
	w.tick = watch_once;
	if ((wp = watch_spawn(&w, watch_run)) == NULL)
		return NULL;
	memset(&m, 0, sizeof(m));
	m.path = path;
	m.tick = mon_once;
	m.of = wp;
	wp->mon = watch_spawn(&m, watch_run);
	return wp;
}

static void *
guard_run(void *arg)
{
	struct gdbwatch	*w = arg;
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += w->stuck_s;
	pthread_mutex_lock(&w->mtx);
	while (!w->stop)
		if (pthread_cond_timedwait(&w->cv, &w->mtx, &ts) ==
		    ETIMEDOUT && !w->stop) {
			gdb_giveup("database %s: opening the environment has "
			    "taken %d s: a process that died holds one of "
			    "its locks; exiting, the next opener recovers",
			    w->path, w->stuck_s);
		}
	pthread_mutex_unlock(&w->mtx);
	return NULL;
}

struct gdbguard *
gdbguard_start(const char *path, int seconds)
{
	struct gdbwatch	 w;

	memset(&w, 0, sizeof(w));
	w.path = path;
	w.stuck_s = seconds;
	return (struct gdbguard *)watch_spawn(&w, guard_run);
}

void
gdbguard_stop(struct gdbguard *gg)
{
	gdbwatch_stop((struct gdbwatch *)gg);
}

void
gdbwatch_stop(struct gdbwatch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mtx);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
	/* A watchdog stuck for good: its monitor ends the process. */
	pthread_join(w->thr, NULL);
	gdbwatch_stop(w->mon);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mtx);
	free(w);
}

void
gdbwatch_enter(struct gdbwatch *w)
{
	if (w != NULL)
		__atomic_store_n(&w->busy_since, mono_s(), __ATOMIC_RELAXED);
}

void
gdbwatch_leave(struct gdbwatch *w)
{
	if (w != NULL)
		__atomic_store_n(&w->busy_since, 0, __ATOMIC_RELAXED);
}
