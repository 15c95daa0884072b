/*
 * The Berkeley DB store on real files: create and reopen, refusal of
 * what is not spamd's database, bad records, concurrent writers in
 * separate processes, a writer killed with SIGKILL, many reopens by one
 * process after writers killed at random moments, a live peer of
 * another user that /proc hides (hidepid=invisible, systemd's
 * ProtectProc=invisible) not taken for dead, a stopped holder named by
 * the writer that waits for it, and compaction after a flood.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"
#include "gdbwatch.h"
#include "grey.h"
#include "log.h"
#include "tap.h"


static char	 dir[] = "/tmp/t_gdb.XXXXXX";
static char	 err[512];
static const struct grey_conf gc = { 60, 3600, 86400, 7200 };

static int
count_cb(const char *k, size_t kl, const struct gdata *gd, void *arg)
{
	(void)k; (void)kl; (void)gd;
	(*(int *)arg)++;
	return 0;
}

static int
count(struct store *st)
{
	int	n = 0;

	if (st->ops->walk(st->h, count_cb, &n) != STORE_OK)
		return -1;
	return n;
}

static struct store *
open_rw(const char *path)
{
	return gdb_open(path, GDB_CREATE, err, sizeof(err));
}

/* Write n tuples for ip prefix p, one transaction each. */
static void
writer(const char *path, int p, int n)
{
	struct store	*st;
	char		 ip[32];
	int		 i;

	if ((st = open_rw(path)) == NULL)
		_exit(2);
	for (i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", p);
		char to[32];
		snprintf(to, sizeof(to), "<u%d@example.org>", i);
		if (grey_tuple(st, &gc, 1000, ip, "h", "<a@b>", to, NULL) !=
		    GREY_NEW)
			_exit(3);
	}
	store_close(st);
	_exit(0);
}


/* Wait for pid at most secs seconds; kill it after.  Its status, or -1. */
static int
wait_bounded(pid_t pid, int secs)
{
	struct timespec	 nap = { 0, 20 * 1000000L };
	int		 i, status;

	for (i = 0; i < secs * 50; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		nanosleep(&nap, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static int
read_progress(const char *file)
{
	FILE	*f;
	int	 n = -1;

	if ((f = fopen(file, "r")) != NULL) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * A writer for the kill rounds: tuples from 192.0.2.r, one transaction
 * each, the count committed so far in file (renamed into place, never
 * half written).
 */
static void
kill_writer(const char *path, const char *file, int r)
{
	struct store	*w;
	char		 ip[32], to[32], tmp[300];
	FILE		*f;
	int		 i;

	if ((w = open_rw(path)) == NULL)
		_exit(2);
	snprintf(ip, sizeof(ip), "198.51.100.%d", 100 + r);
	snprintf(tmp, sizeof(tmp), "%.290s.tmp", file);
	for (i = 0;; i++) {
		snprintf(to, sizeof(to), "<r%d@example.org>", i);
		if (grey_tuple(w, &gc, 1000, ip, "h", "<a@b>", to, NULL) !=
		    GREY_NEW)
			_exit(3);
		if ((f = fopen(tmp, "w")) != NULL) {
			fprintf(f, "%d\n", i + 1);
			fclose(f);
			rename(tmp, file);
		}
	}
}

/*
 * One process that reopens the environment after each of rounds
 * writers is SIGKILLed at a random moment while it writes: the reopen
 * must succeed (and soon: the open guard ends a stuck one after 30 s)
 * and keep every committed tuple.  Runs in a child of the test, so a
 * stuck open becomes a failure, not the end of the test.  Exits 0, or
 * non-zero after saying why on stderr.
 */
static void
kill_rounds(const char *path, int rounds)
{
	struct store	*st;
	struct timespec	 nap = { 0, 2 * 1000000L };
	char		 file[300];
	pid_t		 w;
	int		 r, n, got, base, want, status;

	srandom(4711);
	if ((st = open_rw(path)) == NULL) {
		fprintf(stderr, "first open: %s\n", err);
		_exit(4);
	}
	base = count(st);
	store_close(st);
	want = 0;
	for (r = 1; r <= rounds; r++) {
		snprintf(file, sizeof(file), "%s/kill%d", dir, r);
		if ((w = fork()) == 0)
			kill_writer(path, file, r);
		/* Until it commits, then 0-30 ms more: a kill mid-write. */
		while (read_progress(file) < 1 && waitpid(w, &status,
		    WNOHANG) == 0)
			nanosleep(&nap, NULL);
		usleep(random() % 30000);
		kill(w, SIGKILL);
		waitpid(w, &status, 0);
		if ((n = read_progress(file)) < 1) {
			fprintf(stderr, "round %d: the writer committed "
			    "nothing (status %#x)\n", r, status);
			_exit(5);
		}
		want += n;
		if ((st = open_rw(path)) == NULL) {
			fprintf(stderr, "round %d: reopen: %s\n", r, err);
			_exit(6);
		}
		got = count(st) - base;
		store_close(st);
		if (got < want) {
			fprintf(stderr, "round %d: %d tuples, %d committed\n",
			    r, got, want);
			_exit(7);
		}
	}
	printf("# %d kills, %d committed tuples, all there\n", rounds, want);
	fflush(stdout);
	_exit(0);
}

/*
 * A peer that dies holding the environment region's mutex (the one that
 * also guards transaction begin and commit, and a new thread's slot).
 * Its thread-id callback runs while that mutex is held, right after the
 * lock, when a new thread of it first enters the library: there it
 * records itself as the holder, says so and waits to be killed.
 */
static int		 hold_fd = -1;
static volatile int	 hold_armed;

static void
hold_tid(DB_ENV *env, pid_t *pid, db_threadid_t *tid)
{
	static __thread int	 calls;

	(void)env;
	if (pid != NULL)
		*pid = getpid();
	if (tid != NULL)
		*tid = pthread_self();
	/* 1: looking for its slot; 2: the slot's mutex, taken. */
	if (hold_armed && ++calls == 2) {
		if (write(hold_fd, "h", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
}

static void *
hold_thread(void *arg)
{
	DB_ENV	*env = arg;
	DB_TXN	*t;

	hold_armed = 1;
	(void)env->txn_begin(env, NULL, &t, 0);
	return NULL;
}

static void
hold_region(const char *path, int fd)
{
	DB_ENV		*env;
	pthread_t	 thr;

	hold_fd = fd;
	if (db_env_create(&env, 0) != 0 ||
	    env->set_thread_count(env, 512) != 0 ||
	    env->set_thread_id(env, hold_tid) != 0 ||
	    env->open(env, path, DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_THREAD | DB_REGISTER | DB_RECOVER | DB_CREATE,
	    0) != 0 ||
	    pthread_create(&thr, NULL, hold_thread, env) != 0)
		_exit(2);
	for (;;)
		pause();
}

/*
 * A process that has had the environment open reopens it after a peer
 * died holding the region's mutex: the open must recover, not wait for
 * that mutex (the open guard would end it after 30 s).  In a child of
 * the test, as kill_rounds.
 */
static void
region_reopen(const char *path)
{
	struct store	*st;
	int		 p[2], status, n;
	pid_t		 h;
	char		 c;

	if ((st = open_rw(path)) == NULL) {
		fprintf(stderr, "first open: %s\n", err);
		_exit(4);
	}
	n = count(st);
	store_close(st);
	if (pipe(p) == -1)
		_exit(4);
	if ((h = fork()) == 0)
		hold_region(path, p[1]);
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fprintf(stderr, "the peer never held the region's mutex\n");
		_exit(5);
	}
	kill(h, SIGKILL);
	waitpid(h, &status, 0);
	if ((st = open_rw(path)) == NULL) {
		fprintf(stderr, "reopen: %s\n", err);
		_exit(6);
	}
	if (count(st) != n) {
		fprintf(stderr, "%d records before, %d after\n", n,
		    count(st));
		_exit(7);
	}
	store_close(st);
	_exit(0);
}

/*
 * A handle whose environment panicked and whose reopen fails (the
 * directory gone) stays broken: every call fails, none crashes, and a
 * later reopen, once the directory is back, mends it.  In a child, as
 * region_reopen: exits 0, or another status after saying why.
 */
static int
noop_txn(struct store *st, void *arg)
{
	(void)st; (void)arg;
	return STORE_OK;
}

static void
reopen_fails(const char *path)
{
	struct store	*st;
	DB_ENV		*env;
	char		 moved[300];
	struct timespec	 ts = { 1, 200 * 1000 * 1000 };
	int		 n, fd;

	if ((st = open_rw(path)) == NULL || (n = count(st)) < 0) {
		fprintf(stderr, "first open: %s\n", err);
		_exit(4);
	}
	/* Panic the environment from a second handle, as a crash would. */
	if (db_env_create(&env, 0) != 0 ||
	    env->open(env, path, 0, 0) != 0 ||
	    env->set_flags(env, DB_PANIC_ENVIRONMENT, 1) != 0) {
		fprintf(stderr, "cannot panic the environment\n");
		_exit(5);
	}
	(void)env->close(env, 0);
	if (count(st) != -1 || !store_broken(st)) {
		fprintf(stderr, "the panic was not seen\n");
		_exit(6);
	}
	snprintf(moved, sizeof(moved), "%s.moved", path);
	if (rename(path, moved) == -1 ||
	    (fd = open(path, O_CREAT | O_WRONLY, 0600)) == -1) {
		perror("rename");
		_exit(4);
	}
	close(fd);
	if (store_mend(st) != -1 || !store_broken(st)) {
		fprintf(stderr, "a failed reopen left the handle not "
		    "broken\n");
		_exit(7);
	}
	if (count(st) != -1 || store_txn(st, noop_txn, NULL) != STORE_ERR) {
		fprintf(stderr, "a call on the broken handle did not fail\n");
		_exit(8);
	}
	if (unlink(path) == -1 || rename(moved, path) == -1) {
		perror("rename back");
		_exit(4);
	}
	nanosleep(&ts, NULL);	/* store_mend tries once a second */
	if (store_mend(st) != 0 || count(st) != n) {
		fprintf(stderr, "not mended once the directory is back: %d records, %d before\n", count(st), n);
		_exit(9);
	}
	store_close(st);
	_exit(0);
}

#define HIDE_UID	65534		/* nobody: the observer */
#define HIDE_KEY	"203.0.113.7"

/*
 * The observer: a process of another user, under a /proc that hides
 * root's processes, joins the environment with lib/gdb's thread
 * tracking while the root peer holds a write lock in an open
 * transaction, and runs failchk, as spamd's watchdog does.  The peer
 * must stay alive to it: failchk frees nothing of it and reports no
 * dead process.  Exits 0, 77 when this machine cannot hide /proc
 * entries, or another status after saying why on stderr.
 */
static int	 hide_freed;

static void
hide_msg(const DB_ENV *env, const char *msg)
{
	(void)env;
	fprintf(stderr, "observer's failchk: %s\n", msg);
	hide_freed = 1;
}

static void
hide_observer(const char *path, int rfd, int wfd)
{
	DB_ENV		*env;
	char		 proc[64];
	pid_t		 peer;
	int		 i, ret;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "hidepid=invisible") == -1) {
		fprintf(stderr, "private /proc with hidepid=invisible: %s\n",
		    strerror(errno));
		_exit(77);
	}
	if (setgroups(0, NULL) == -1 || setgid(HIDE_UID) == -1 ||
	    setuid(HIDE_UID) == -1) {
		fprintf(stderr, "setuid %d: %s\n", HIDE_UID, strerror(errno));
		_exit(77);
	}
	if ((ret = db_env_create(&env, 0)) != 0 ||
	    (ret = gdb_track(env)) != 0 ||
	    (ret = env->open(env, path, DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_INIT_TXN | DB_THREAD | DB_REGISTER, 0)) != 0) {
		fprintf(stderr, "observer's open: %s\n", db_strerror(ret));
		_exit(2);
	}
	env->set_msgcall(env, hide_msg);
	if (write(wfd, "o", 1) != 1 ||
	    read(rfd, &peer, sizeof(peer)) != sizeof(peer))
		_exit(4);
	snprintf(proc, sizeof(proc), "/proc/%ld/stat", (long)peer);
	if (access(proc, F_OK) == 0 || errno != ENOENT) {
		fprintf(stderr, "%s is not hidden\n", proc);
		_exit(77);
	}
	for (i = 0; i < 3; i++) {
		if ((ret = env->failchk(env, 0)) != 0 || hide_freed) {
			fprintf(stderr, "failchk took the live peer for dead "
			    "(%s)\n", db_strerror(ret));
			_exit(3);
		}
	}
	env->close(env, 0);
	_exit(0);
}

/* The peer: root, one transaction open with a write, until told. */
static void
hide_peer(const char *path, int rfd, int wfd)
{
	struct store	*st;
	struct gdata	 gd;
	char		 c;

	memset(&gd, 0, sizeof(gd));
	gd.first = gd.pass = 1000;
	gd.expire = 2000000000;
	if ((st = gdb_open(path, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "peer's open: %s\n", err);
		_exit(2);
	}
	if (st->ops->begin(st->h) != STORE_OK ||
	    st->ops->put(st->h, HIDE_KEY, strlen(HIDE_KEY), &gd) !=
	    STORE_OK) {
		fprintf(stderr, "peer's write failed\n");
		_exit(3);
	}
	if (write(wfd, "r", 1) != 1 || read(rfd, &c, 1) != 1)
		_exit(4);
	if (st->ops->commit(st->h) != STORE_OK) {
		fprintf(stderr, "peer's commit failed: its transaction was "
		    "aborted under it\n");
		_exit(5);
	}
	if (st->ops->get(st->h, HIDE_KEY, strlen(HIDE_KEY), &gd) !=
	    STORE_OK) {
		fprintf(stderr, "peer's committed write is gone\n");
		_exit(6);
	}
	store_close(st);
	_exit(0);
}

static int
exited0(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
hidden_peer(void)
{
	char	 path[256], c;
	int	 o2p[2], p2o[2], up[2], down[2], ost, pst = -1;
	pid_t	 creator, peer = -1, obs;

	if (geteuid() != 0) {
		printf("skip - a live peer hidden by /proc is not dead: needs "
		    "root (mount namespace, another user)\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/hidden", dir);
	if (mkdir(path, 0700) == -1 || chown(path, HIDE_UID, HIDE_UID) == -1 ||
	    chmod(dir, 0755) == -1) {
		ok(0, "hidden peer's directory: %s", strerror(errno));
		return;
	}
	/* The environment is the observer's user's, as spamd's is _spamd's. */
	if ((creator = fork()) == 0) {
		struct store *st;

		if (setgid(HIDE_UID) == -1 || setuid(HIDE_UID) == -1 ||
		    (st = open_rw(path)) == NULL)
			_exit(2);
		store_close(st);
		_exit(0);
	}
	if (!exited0(wait_bounded(creator, 30))) {
		ok(0, "environment created by uid %d", HIDE_UID);
		return;
	}
	if (pipe(o2p) == -1 || pipe(p2o) == -1 || pipe(up) == -1 ||
	    pipe(down) == -1) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	if ((obs = fork()) == 0)
		hide_observer(path, p2o[0], o2p[1]);
	if (read(o2p[0], &c, 1) == 1) {
		if ((peer = fork()) == 0)
			hide_peer(path, down[0], up[1]);
		if (read(up[0], &c, 1) != 1 ||
		    write(p2o[1], &peer, sizeof(peer)) != sizeof(peer))
			kill(obs, SIGKILL);
	}
	ost = wait_bounded(obs, 60);
	if (peer != -1) {
		if (write(down[1], "g", 1) != 1)
			kill(peer, SIGKILL);
		pst = wait_bounded(peer, 30);
	}
	if (ost != -1 && WIFEXITED(ost) && WEXITSTATUS(ost) == 77) {
		printf("skip - a live peer hidden by /proc is not dead: "
		    "this machine cannot hide /proc entries (see stderr)\n");
		return;
	}
	ok(exited0(ost), "a live peer of another user that /proc hides "
	    "is alive to failchk, which frees none of its locks (status %#x)",
	    ost);
	ok(exited0(pst), "its transaction commits afterwards (status %#x)",
	    pst);
}

static long long
file_size(const char *path)
{
	struct stat	 sb;
	char		 f[300];

	snprintf(f, sizeof(f), "%s/spamd.db", path);
	return stat(f, &sb) == -1 ? -1 : (long long)sb.st_size;
}

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * A flood of n GREY entries expires (NEW-H1): compaction, in slices,
 * gives the file's space back and keeps the live entries.
 */
static void
compact_flood(const char *path, int n, int live)
{
	struct store		*st;
	struct grey_scan_stats	 stats;
	struct gdata		 gd;
	char			 from[64], key[128];
	unsigned int		 pos = 0;
	long long		 full, after;
	double			 t, longest = 0;
	int			 i, r, steps = 0, bad = 0;

	if ((st = open_rw(path)) == NULL) {
		ok(0, "compaction: open: %s", err);
		return;
	}
	for (i = 0; i < n + live; i++) {
		snprintf(from, sizeof(from), "<flood%d@example.org>", i);
		if (grey_tuple(st, &gc, i < n ? 1000 : 4000, "2001:db8::7",
		    "helo.example.org", from, "<rcpt@example.net>", NULL) !=
		    GREY_NEW)
			bad++;
	}
	store_close(st);		/* checkpointed: the file's full size */
	full = file_size(path);
	st = open_rw(path);
	do {
		r = grey_scan(st, &gc, 1000 + gc.greyexp, NULL, &stats);
	} while (r == 0 && stats.more);
	ok(bad == 0 && r == 0 && count(st) == live, "compaction: %d entries "
	    "written, %d expired by the scan, %d left", n + live, n,
	    count(st));
	do {
		t = now_ms();
		r = store_compact(st, &pos);
		t = now_ms() - t;
		if (t > longest)
			longest = t;
		steps++;
	} while ((r == 1 || r == STORE_RETRY) && steps < 10000);
	after = file_size(path);
	ok(r == STORE_OK && steps > 2, "compaction done in %d steps, the "
	    "longest %.0f ms", steps, longest);
	ok(full > 0 && after > 0 && after * 3 < full, "the file shrank "
	    "after the flood expired: %lld bytes, %lld after compaction",
	    full, after);
	snprintf(from, sizeof(from), "<flood%d@example.org>", n);
	snprintf(key, sizeof(key), "2001:db8::7\nhelo.example.org\n%s\n"
	    "<rcpt@example.net>", from);
	ok(count(st) == live && st->ops->get(st->h, key, strlen(key), &gd) ==
	    STORE_OK && gd.pcount == 0, "the live entries are still there");
	ok(grey_tuple(st, &gc, 4100, "2001:db8::8", "h", "<a@b>", "<c@d>",
	    NULL) == GREY_NEW, "and a new tuple is written after it");
	store_close(st);
}

/*
 * A participant stopped (SIGSTOP) inside a write transaction blocks the
 * writers; the one whose request timed out names its pid (NEW-L4).
 */
static void
stopped_holder(const char *path)
{
	struct store	*st;
	struct gdata	 gd;
	char		 logf[300], buf[4096], want[128], *line, c;
	pid_t		 holder, writer;
	int		 p[2], go[2], fd, status, n;

	memset(&gd, 0, sizeof(gd));
	gd.first = gd.pass = gd.expire = 1000;
	if (pipe(p) == -1 || pipe(go) == -1) {
		ok(0, "stopped holder: pipe");
		return;
	}
	snprintf(logf, sizeof(logf), "%s.log", path);
	if ((writer = fork()) == 0) {
		close(p[0]);
		close(go[1]);
		if ((fd = open(logf, O_CREAT | O_TRUNC | O_WRONLY, 0600)) == -1)
			_exit(2);
		dup2(fd, 2);
		if ((st = open_rw(path)) == NULL)
			_exit(1);
		(void)write(p[1], "x", 1);
		close(p[1]);
		if (read(go[0], &c, 1) != 1 ||
		    st->ops->begin(st->h) != STORE_OK)
			_exit(1);
		n = st->ops->put(st->h, "192.0.2.50", 10, &gd);
		st->ops->abort(st->h);
		_exit(n == STORE_RETRY ? 0 : 1);
	}
	close(go[0]);
	if (read(p[0], &c, 1) != 1) {
		ok(0, "stopped holder: the writer did not open the database");
		close(go[1]);
		wait_bounded(writer, 1);
		return;
	}
	if ((holder = fork()) == 0) {
		close(p[0]);
		close(go[1]);
		if ((st = open_rw(path)) == NULL ||
		    st->ops->begin(st->h) != STORE_OK ||
		    st->ops->put(st->h, "192.0.2.50", 10, &gd) != STORE_OK)
			_exit(1);
		(void)write(p[1], "x", 1);
		raise(SIGSTOP);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], &c, 1);
	close(p[0]);
	if (n != 1 || waitpid(holder, &status, WUNTRACED) != holder ||
	    !WIFSTOPPED(status)) {
		ok(0, "stopped holder: the holder stopped in its transaction");
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
		close(go[1]);
		wait_bounded(writer, 1);
		return;
	}
	/* The writer's handle was opened before (an open writes too). */
	if (write(go[1], "x", 1) != 1)
		ok(0, "stopped holder: pipe");
	close(go[1]);
	status = wait_bounded(writer, 30);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	buf[0] = '\0';
	if ((fd = open(logf, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	snprintf(want, sizeof(want), "pid %ld is stopped holding",
	    (long)holder);
	if ((line = strstr(buf, want)) == NULL)
		line = buf;
	line[strcspn(line, "\n")] = '\0';
	ok(exited0(status) && strstr(line, want) != NULL, "a writer that "
	    "waits for a stopped holder names its pid: %s",
	    line[0] != '\0' ? line : "nothing logged");
}

int
main(void)
{
	struct store	*st;
	struct gdata	 gd;
	char		 path[256], file[300], cmd[600];
	FILE		*fp;
	DB		*db;
	DBT		 k, d;
	pid_t		 pid[2];
	int		 i, status, fd, n;

	log_init(1, "t_gdb");	/* the store's warnings on stderr */
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/db", dir);

	st = gdb_open(path, 0, err, sizeof(err));
	ok(st == NULL && strstr(err, path) != NULL,
	    "missing database refused without create: %s", err);
	st = open_rw(path);
	ok(st != NULL, "database created in a new directory: %s",
	    st ? "" : err);
	if (st == NULL)
		return tap_done();
	ok(count(st) == 0, "fresh database lists nothing (marker hidden)");
	ok(grey_tuple(st, &gc, 1000, "192.0.2.1", "h", "<a@b>", "<c@d>",
	    NULL) == GREY_NEW, "tuple written");
	ok(grey_tuple(st, &gc, 1100, "192.0.2.1", "h", "<a@b>", "<c@d>",
	    NULL) == GREY_PASSED, "tuple passed, WHITE written");
	store_close(st);

	st = gdb_open(path, GDB_RDONLY, err, sizeof(err));
	ok(st != NULL, "reopened read-only");
	if (st == NULL)
		return tap_done();
	ok(count(st) == 1, "WHITE record survives a close, passed tuple gone");
	ok(st->ops->get(st->h, "192.0.2.1", 9, &gd) == STORE_OK &&
	    gd.expire == 1100 + 86400, "WHITE record read back");
	store_close(st);

	/* Not a directory. */
	snprintf(file, sizeof(file), "%s/plain", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ok(open_rw(file) == NULL && strstr(err, "not a directory"),
	    "a plain file refused: %s", err);

	/* Garbage in spamd.db. */
	snprintf(path, sizeof(path), "%s/garbage", dir);
	mkdir(path, 0700);
	snprintf(file, sizeof(file), "%s/spamd.db", path);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	for (i = 0; i < 100; i++)
		write(fd, "this is no database at all\n", 27);
	close(fd);
	ok(open_rw(path) == NULL && strstr(err, path) != NULL,
	    "corrupt file refused: %s", err);
	snprintf(file, sizeof(file), "%s/__db.001", path);
	ok(access(file, F_OK) == -1, "no environment files left beside it");

	/* Someone else's hash database. */
	snprintf(path, sizeof(path), "%s/foreign", dir);
	mkdir(path, 0700);
	snprintf(file, sizeof(file), "%s/spamd.db", path);
	db_create(&db, NULL, 0);
	db->open(db, NULL, file, NULL, DB_HASH, DB_CREATE, 0600);
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = "key"; k.size = 3; d.data = "value"; d.size = 5;
	db->put(db, NULL, &k, &d, 0);
	db->close(db, 0);
	ok(open_rw(path) == NULL && strstr(err, "not a spamd database"),
	    "foreign hash database refused: %s", err);

	/* A record of the wrong size is skipped, not misread. */
	snprintf(path, sizeof(path), "%s/db", dir);
	snprintf(cmd, sizeof(cmd), "printf 'VERSION=3\\nformat=print\\n"
	    "type=hash\\nHEADER=END\\n 192.0.2.66\\n 0102\\nDATA=END\\n' | "
	    "db_load -h %s spamd.db", path);
	ok(system(cmd) == 0, "short record planted with db_load");
	st = open_rw(path);
	ok(st != NULL, "database with a bad record opens");
	if (st == NULL)
		return tap_done();
	ok(count(st) == 1, "bad record skipped by the walk");
	ok(st->ops->get(st->h, "192.0.2.66", 10, &gd) == STORE_NOTFOUND,
	    "bad record not returned by get");
	store_close(st);

	/* L9: a record larger than the walk's buffer must not stop walks. */
	snprintf(file, sizeof(file), "%s/big.txt", dir);
	if ((fp = fopen(file, "w")) != NULL) {
		fprintf(fp, "VERSION=3\nformat=bytevalue\ntype=hash\n"
		    "HEADER=END\n 3139382e35312e3130302e3939\n ");
		for (i = 0; i < 2 * 1024 * 1024; i++)
			fputs("61", fp);
		fprintf(fp, "\nDATA=END\n");
		fclose(fp);
	}
	snprintf(cmd, sizeof(cmd), "db_load -h %s spamd.db < %s", path,
	    file);
	ok(fp != NULL && system(cmd) == 0,
	    "a 2 MB record planted with db_load");
	st = open_rw(path);
	ok(st != NULL && count(st) == 1,
	    "the walk steps over it and finds the good record");
	if (st != NULL)
		store_close(st);

	/* Two writer processes at once. */
	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0)
			writer(path, i + 10, 300);
	}
	n = 0;
	for (i = 0; i < 2; i++) {
		waitpid(pid[i], &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			n++;
	}
	ok(n == 2, "two concurrent writers finished");
	st = open_rw(path);
	ok(st != NULL && count(st) == 601, "all 600 concurrent tuples there");
	if (st != NULL)
		store_close(st);

	/* A writer killed mid-run loses nothing it committed. */
	if ((pid[0] = fork()) == 0) {
		struct store *w = open_rw(path);
		char to[32];
		FILE *f;

		char tmp[300];

		snprintf(file, sizeof(file), "%s/progress", dir);
		snprintf(tmp, sizeof(tmp), "%s/progress.tmp", dir);
		for (i = 0; w != NULL; i++) {
			snprintf(to, sizeof(to), "<k%d@example.org>", i);
			if (grey_tuple(w, &gc, 1000, "192.0.2.99", "h",
			    "<a@b>", to, NULL) != GREY_NEW)
				_exit(3);
			/* rename: the count on disk is never half written */
			if ((f = fopen(tmp, "w")) != NULL) {
				fprintf(f, "%d\n", i + 1);
				fclose(f);
				rename(tmp, file);
			}
		}
		_exit(2);
	}
	usleep(400000);
	kill(pid[0], SIGKILL);
	waitpid(pid[0], &status, 0);
	snprintf(file, sizeof(file), "%s/progress", dir);
	{
		FILE *f = fopen(file, "r");
		n = -1;
		if (f != NULL) {
			if (fscanf(f, "%d", &n) != 1)
				n = -1;
			fclose(f);
		}
	}
	st = open_rw(path);
	ok(st != NULL, "reopened after a writer was killed: %s",
	    st ? "" : err);
	if (st != NULL) {
		i = count(st) - 601;
		ok(n > 0 && i >= n, "all %d committed tuples survived (%d)",
		    n, i);
		store_close(st);
	}

	/* Many reopens by one process, each after a kill mid-write. */
	if ((pid[0] = fork()) == 0)
		kill_rounds(path, 40);
	status = wait_bounded(pid[0], 200);
	ok(exited0(status), "one process reopened the environment after "
	    "each of 40 writers killed mid-write, nothing committed lost "
	    "(status %#x)", status);

	if ((pid[0] = fork()) == 0)
		region_reopen(path);
	status = wait_bounded(pid[0], 100);
	ok(exited0(status), "a process reopens (and recovers) the "
	    "environment after a peer died holding its region's mutex "
	    "(status %#x)", status);

	if ((pid[0] = fork()) == 0)
		reopen_fails(path);
	status = wait_bounded(pid[0], 100);
	ok(exited0(status), "a handle whose reopen failed stays broken, "
	    "its calls fail without a crash, and it mends once the "
	    "directory is back (status %#x)", status);

	hidden_peer();

	snprintf(path, sizeof(path), "%s/stopped", dir);
	stopped_holder(path);

	snprintf(path, sizeof(path), "%s/flood", dir);
	compact_flood(path, 120000, 100);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	return tap_done();
}
