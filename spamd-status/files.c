/*
 * The files of the status: the database (read only, through the same
 * API as spamdb), the blacklists spamd saved when spamd-setup last
 * loaded them (<dbpath>/blacklists, spamd/blfile.c: one line a list,
 * "tag;"message";inet;N;...;inet6;M;...", then a "!saved" trailer) and
 * spamd's metrics file (-m).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcount.h"
#include "gdb.h"
#include "grey.h"
#include "status.h"

#define BL_FILE		"blacklists"
#define BL_TOKMAX	80	/* a token kept: tags, counts, "inet6" */
#define BL_SHOWN	8	/* lists named on the screen */
#define NEAR_EXPIRY	5	/* seconds: an entry the kernel may have
				   dropped already, or not yet */
#define MLINE_MAX	1024

static int	db_walk(const struct sconf *, struct dbstate *, char *,
		    size_t);

struct whitectx {
	struct dbstate	*db;
	time_t		 now;
	int		 oom;
};

static int
white_cb(const struct addr *a, const struct gdata *gd, void *arg)
{
	struct whitectx	*wc = arg;

	if (gd->expire <= wc->now - NEAR_EXPIRY)
		return 0;
	if (gd->expire <= wc->now + NEAR_EXPIRY) {
		if (alist_add(&wc->db->near, a) == -1) {
			wc->oom = 1;
			return 1;
		}
		return 0;
	}
	if (alist_add(&wc->db->white, a) == -1) {
		wc->oom = 1;
		return 1;
	}
	return 0;
}

/* Bytes of the regular files of dir (the environment, its logs). */
static uint64_t
dir_bytes(const char *dir)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	struct stat	 sb;
	uint64_t	 n = 0;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			n += (uint64_t)sb.st_size;
	}
	closedir(d);
	return n;
}

/*
 * As spamdb does: a root reader works on the environment as the
 * directory's owner, so that a file Berkeley DB makes stays the user's
 * spamd runs as; back to root afterwards, for nftables.
 */
static uid_t
as_owner(const char *path)
{
	struct stat	 sb;

	if (geteuid() != 0 || stat(path, &sb) == -1 || sb.st_uid == 0)
		return (uid_t)-1;
	if (setegid(sb.st_gid) == -1 || seteuid(sb.st_uid) == -1)
		err(ST_ERROR, "seteuid %u", (unsigned)sb.st_uid);
	return 0;
}

static void
as_root(uid_t saved)
{
	if (saved == 0 && (seteuid(0) == -1 || setegid(0) == -1))
		err(ST_ERROR, "seteuid 0");
}

int
db_read(const struct sconf *conf, struct dbstate *db, char *err,
    size_t errlen)
{
	uid_t	 saved;
	int	 rv;

	saved = as_owner(conf->dbpath);
	rv = db_walk(conf, db, err, errlen);
	as_root(saved);
	return rv;
}

static int
db_walk(const struct sconf *conf, struct dbstate *db, char *err,
    size_t errlen)
{
	struct store	*st;
	struct gcount	 gc;
	struct whitectx	 wc;
	struct statvfs	 vfs;
	int		 i;

	memset(db, 0, sizeof(*db));
	if ((st = gdb_open(conf->dbpath, GDB_RDONLY, err, errlen)) == NULL)
		return -1;
	if (gcount_walk(st, conf->now, &gc) == -1) {
		snprintf(err, errlen, "%s: cannot walk the database",
		    conf->dbpath);
		store_close(st);
		return -1;
	}
	for (i = 0; i < 4 && i < GD_META; i++)
		db->n[i] = gc.n[i];
	wc.db = db;
	wc.now = conf->now;
	wc.oom = 0;
	if (grey_walk_white(st, white_cb, &wc) != STORE_OK || wc.oom) {
		snprintf(err, errlen, "%s: cannot read the WHITE entries",
		    conf->dbpath);
		store_close(st);
		db_free(db);
		return -1;
	}
	store_close(st);
	alist_sort(&db->white);
	alist_sort(&db->near);
	db->bytes = dir_bytes(conf->dbpath);
	if (statvfs(conf->dbpath, &vfs) == 0)
		db->avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	return 0;
}

void
db_free(struct dbstate *db)
{
	alist_free(&db->white);
	alist_free(&db->near);
}

/*
 * One list of the file: its tag and address counts.  A small state
 * machine over ';'-separated tokens, so a line of any length needs no
 * buffer of that length: the message is skipped, and only short
 * tokens (tags, "inet", counts) are kept.
 */
struct blparse {
	char	 tok[BL_TOKMAX + 1];
	size_t	 len;
	int	 field;		/* 0 tag, 1 message, then the rest */
	int	 quoted, esc;
	int	 want;		/* 4 or 6: the next token is a count */
	char	 tag[BL_TOKMAX + 1];
	long	 n4, n6;
};

static void
bl_token(struct blparse *p)
{
	p->tok[p->len < BL_TOKMAX ? p->len : BL_TOKMAX] = '\0';
	if (p->field == 0)
		snprintf(p->tag, sizeof(p->tag), "%s", p->tok);
	else if (p->want != 0) {
		if (p->want == 4)
			p->n4 = strtol(p->tok, NULL, 10);
		else
			p->n6 = strtol(p->tok, NULL, 10);
		p->want = 0;
	} else if (p->field >= 2 && strcmp(p->tok, "inet") == 0)
		p->want = 4;
	else if (p->field >= 2 && strcmp(p->tok, "inet6") == 0)
		p->want = 6;
	p->field++;
	p->len = 0;
}

void
black_check(const struct sconf *conf, struct check *ck)
{
	char		 path[PATH_MAX], age[32];
	struct blparse	 p;
	struct stat	 sb;
	FILE		*fp;
	int		 c, nl = 0, trailer = 0, first = 1;

	ck->name = "blacklists";
	snprintf(path, sizeof(path), "%s/%s", conf->dbpath, BL_FILE);
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			ck_set(ck, CK_INFO, 0, "none saved in %s (spamd-setup "
			    "has loaded no list)", path);
		else
			ck_set(ck, CK_FAIL, ST_BLACK, "%s: %s", path,
			    strerror(errno));
		return;
	}
	if (fstat(fileno(fp), &sb) == -1) {
		ck_set(ck, CK_FAIL, ST_BLACK, "%s: %s", path, strerror(errno));
		fclose(fp);
		return;
	}
	ck_set(ck, CK_OK, 0, "loaded %s ago:",
	    ck_age(conf->now - sb.st_mtime, age, sizeof(age)));
	memset(&p, 0, sizeof(p));
	while ((c = getc(fp)) != EOF) {
		if (p.field == 0 && p.len == 0 && c == '!' && !p.quoted) {
			trailer = 1;
			while ((c = getc(fp)) != EOF && c != '\n')
				;
			continue;
		}
		if (c == '\n') {
			bl_token(&p);
			if (p.tag[0] != '\0' && nl < BL_SHOWN)
				ck_append(ck, "%s %s (%ld+%ld)", first ? "" :
				    ",", p.tag, p.n4, p.n6);
			else if (p.tag[0] != '\0' && nl == BL_SHOWN)
				ck_append(ck, ", ...");
			if (p.tag[0] != '\0')
				nl++;
			first = 0;
			memset(&p, 0, sizeof(p));
			continue;
		}
		if (p.quoted) {
			if (p.esc)
				p.esc = 0;
			else if (c == '\\')
				p.esc = 1;
			else if (c == '"')
				p.quoted = 0;
			continue;
		}
		if (c == '"' && p.field == 1) {
			p.quoted = 1;
			continue;
		}
		if (c == ';') {
			bl_token(&p);
			continue;
		}
		if (p.len < BL_TOKMAX)
			p.tok[p.len] = (char)c;
		p.len++;
	}
	if (ferror(fp)) {
		ck_set(ck, CK_FAIL, ST_BLACK, "%s: %s", path, strerror(errno));
		fclose(fp);
		return;
	}
	fclose(fp);
	if (!trailer) {
		ck_set(ck, CK_FAIL, ST_BLACK, "%s: damaged (no trailer); spamd "
		    "ignores it", path);
		return;
	}
	if (nl == 0)
		ck_set(ck, CK_OK, 0, "none: the last load (%s ago) emptied "
		    "them", ck_age(conf->now - sb.st_mtime, age,
		    sizeof(age)));
	else if (conf->black_max > 0 && conf->now - sb.st_mtime >
	    conf->black_max) {
		ck->state = CK_FAIL;
		ck->code = ST_BLACK;
		ck_append(ck, "; older than %s: is spamd-setup failing?",
		    ck_age(conf->black_max, age, sizeof(age)));
	}
}

/* "name value" or "name{...} value": the value of name, or -1. */
static int
metric_value(const char *line, const char *name, double *v)
{
	size_t	 n = strlen(name);
	char	*end;

	if (strncmp(line, name, n) != 0 || (line[n] != ' ' &&
	    line[n] != '{'))
		return -1;
	if ((line = strrchr(line, ' ')) == NULL)
		return -1;
	*v = strtod(line + 1, &end);
	return end == line + 1 ? -1 : 0;
}

void
metrics_check(const struct sconf *conf, struct check *ck,
    struct check *sync)
{
	char		 line[MLINE_MAX], age[32];
	struct stat	 sb;
	double		 v, written = -1, recv = -1, rej = 0, sent = 0;
	double		 last = -1;
	FILE		*fp;
	time_t		 a;

	ck->name = "metrics";
	sync->name = "sync";
	ck_set(sync, CK_INFO, 0, "no metrics file to read it from");
	if (conf->metrics == NULL) {
		ck_set(ck, CK_INFO, 0, "no metrics file (spamd -m, or "
		    "spamd-status -m)");
		return;
	}
	if ((fp = fopen(conf->metrics, "r")) == NULL) {
		ck_set(ck, CK_FAIL, ST_METRICS, "%s: %s", conf->metrics,
		    strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (metric_value(line, "spamd_metrics_written_seconds", &v) ==
		    0)
			written = v;
		else if (metric_value(line, "spamd_sync_received_total",
		    &v) == 0)
			recv = v;
		else if (metric_value(line, "spamd_sync_rejected_total",
		    &v) == 0)
			rej = v;
		else if (metric_value(line, "spamd_sync_sent_total", &v) ==
		    0)
			sent = v;
		else if (metric_value(line, "spamd_sync_accepted_seconds",
		    &v) == 0)
			last = v;
	}
	if (written < 0 && fstat(fileno(fp), &sb) == 0)
		written = (double)sb.st_mtime;
	fclose(fp);
	if (written < 0) {
		ck_set(ck, CK_FAIL, ST_METRICS, "%s: not spamd's metrics",
		    conf->metrics);
		return;
	}
	a = conf->now - (time_t)written;
	ck_set(ck, CK_OK, 0, "%s written %s ago", conf->metrics,
	    ck_age(a < 0 ? 0 : a, age, sizeof(age)));
	if (conf->metrics_max > 0 && a > conf->metrics_max) {
		ck->state = CK_FAIL;
		ck->code = ST_METRICS;
		ck_append(ck, ", older than %s: spamd stopped writing it",
		    ck_age(conf->metrics_max, age, sizeof(age)));
	}

	if (recv < 0) {
		ck_set(sync, CK_INFO, 0, "no sync counters in %s",
		    conf->metrics);
		return;
	}
	ck_set(sync, CK_INFO, 0, "%.0f datagram%s received, %.0f rejected, "
	    "%.0f entr%s sent", recv, recv == 1 ? "" : "s", rej, sent,
	    sent == 1 ? "y" : "ies");
	if (last > 0) {
		a = conf->now - (time_t)last;
		ck_append(sync, "; a peer last heard %s ago",
		    ck_age(a < 0 ? 0 : a, age, sizeof(age)));
	} else if (last == 0)
		ck_append(sync, "; no peer heard since spamd started");
	if (conf->sync_max > 0) {
		if (last > 0 && conf->now - (time_t)last <= conf->sync_max)
			sync->state = CK_OK;
		else {
			sync->state = CK_FAIL;
			sync->code = ST_SYNC;
			ck_append(sync, "; silent for more than %s",
			    ck_age(conf->sync_max, age, sizeof(age)));
		}
	}
}
