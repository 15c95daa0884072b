/*
 * The Berkeley DB store on real files: create and reopen, refusal of
 * what is not spamd's database, bad records, concurrent writers in
 * separate processes, and a writer killed with SIGKILL.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <db.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdb.h"
#include "grey.h"
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

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	return tap_done();
}
