/*
 * spamdb: list and edit spamd's database, while spamd runs.
 *
 * It opens the same transactional Berkeley DB environment as spamd and
 * spamlogd, so every change is one transaction next to theirs.  Output
 * lines keep OpenBSD's exact format so scripts written for it go on
 * working.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "gdata.h"
#include "gdb.h"
#include "grey.h"
#include "log.h"
#include "spamdb.h"

#define ACT_LIST	0
#define ACT_ADD		1
#define ACT_DEL		2

static void	usage(void) __attribute__((noreturn));
static int	list_cb(const char *, size_t, const struct gdata *, void *);
static int	list_key(struct store *, const char *);
static int	add_key(struct store *, int, const char *, time_t);
static int	del_key(struct store *, int, const char *);
static int	del_grey(struct store *, const char *);
static void	become_owner(const char *);

static uid_t	saved_euid;

static void
usage(void)
{
	fprintf(stderr, "usage: spamdb [-adGTt] [-f dbpath] [keys ...]\n"
	    "       spamdb [-f dbpath] -i file\n");
	exit(2);
}

/* Print one entry in OpenBSD's format; called by the walk. */
void
spamdb_print(FILE *fp, const char *key, size_t keylen, const struct gdata *gd)
{
	char	 buf[GD_KEY_MAX + 1], *ip, *helo, *from, *to;

	if (keylen > GD_KEY_MAX)
		keylen = GD_KEY_MAX;
	memcpy(buf, key, keylen);
	buf[keylen] = '\0';

	switch (gd_type(key, keylen, gd)) {
	case GD_META:
		return;
	case GD_TRAPPED_T:
		fprintf(fp, "TRAPPED|%s|%lld\n", buf, (long long)gd->expire);
		return;
	case GD_SPAMTRAP_T:
		fprintf(fp, "SPAMTRAP|%s\n", buf);
		return;
	case GD_WHITE:
		fprintf(fp, "WHITE|%s|||%lld|%lld|%lld|%d|%d\n", buf,
		    (long long)gd->first, (long long)gd->pass,
		    (long long)gd->expire, gd->bcount, gd->pcount);
		return;
	case GD_GREY:
		break;
	}
	ip = buf;
	helo = strchr(ip, '\n');
	*helo++ = '\0';
	if ((from = strchr(helo, '\n')) == NULL) {
		warnx("no from part in grey key %s", ip);
		return;
	}
	*from++ = '\0';
	if ((to = strchr(from, '\n')) == NULL) {
		/* A pre-HELO tuple of old databases: ip\nfrom\nto. */
		to = from;
		from = helo;
		helo = "";
	} else
		*to++ = '\0';
	fprintf(fp, "GREY|%s|%s|%s|%s|%lld|%lld|%lld|%d|%d\n", ip, helo,
	    from, to, (long long)gd->first, (long long)gd->pass,
	    (long long)gd->expire, gd->bcount, gd->pcount);
}

static int
list_cb(const char *key, size_t keylen, const struct gdata *gd, void *arg)
{
	(void)arg;
	spamdb_print(stdout, key, keylen, gd);
	return 0;
}

static int
list_key(struct store *st, const char *key)
{
	struct gdata	 gd;
	int		 r;

	r = st->ops->get(st->h, key, strlen(key), &gd);
	if (r == STORE_OK) {
		spamdb_print(stdout, key, strlen(key), &gd);
		return 0;
	}
	if (r == STORE_NOTFOUND)
		warnx("%s: not found", key);
	else
		warnx("%s: database error", key);
	return 1;
}

static int
add_key(struct store *st, int type, const char *arg, time_t now)
{
	struct gdata	 gd;
	char		 key[GD_KEY_MAX];
	size_t		 i;
	int		 r, tries;

	if (type == GD_SPAMTRAP_T) {
		if (strchr(arg, '@') == NULL) {
			warnx("%s: not an email address", arg);
			return 1;
		}
		if (strlcpy(key, arg, sizeof(key)) >= sizeof(key)) {
			warnx("%s: address too long", arg);
			return 1;
		}
		for (i = 0; key[i] != '\0'; i++)
			key[i] = tolower((unsigned char)key[i]);
	} else if (addr_canon(arg, key, sizeof(key)) == -1) {
		warnx("%s: not an IP address", arg);
		return 1;
	}

	for (tries = 0; tries < 10; tries++) {
		if (st->ops->begin(st->h) != STORE_OK)
			break;
		r = st->ops->get(st->h, key, strlen(key), &gd);
		if (r != STORE_OK && r != STORE_NOTFOUND)
			goto fail;
		if (r == STORE_NOTFOUND) {
			memset(&gd, 0, sizeof(gd));
			gd.first = now;
			gd.bcount = 1;
		}
		switch (type) {
		case GD_WHITE:
			if (r == STORE_NOTFOUND)
				gd.pcount = 0;
			else if (gd.pcount < 0)
				gd.pcount = 0;	/* untrap by hand */
			else
				gd.pcount++;
			gd.pass = now;
			gd.expire = now + WHITEEXP;
			break;
		case GD_TRAPPED_T:
			gd.pcount = GD_TRAPPED;
			if (r == STORE_NOTFOUND)
				gd.pass = 0;
			gd.expire = now + TRAPEXP;
			break;
		case GD_SPAMTRAP_T:
			gd.pcount = GD_SPAMTRAP;
			gd.expire = 0;
			break;
		}
		if ((r = st->ops->put(st->h, key, strlen(key), &gd)) !=
		    STORE_OK)
			goto fail;
		r = st->ops->commit(st->h);
		if (r == STORE_OK) {
			if (type == GD_WHITE)
				spamdb_fw_add(key, gd.expire, now);
			else if (type == GD_TRAPPED_T)
				spamdb_fw_del(key);
			return 0;
		}
		if (r == STORE_RETRY)
			continue;
		break;
fail:
		st->ops->abort(st->h);
		if (r != STORE_RETRY)
			break;
	}
	warnx("%s: cannot add to the database", arg);
	return 1;
}

static int
del_key(struct store *st, int type, const char *arg)
{
	struct gdata	 gd;
	char		 key[GD_KEY_MAX];
	size_t		 i;
	int		 r;

	if (type == GD_SPAMTRAP_T) {
		if (strlcpy(key, arg, sizeof(key)) >= sizeof(key)) {
			warnx("%s: address too long", arg);
			return 1;
		}
		for (i = 0; key[i] != '\0'; i++)
			key[i] = tolower((unsigned char)key[i]);
	} else if (addr_canon(arg, key, sizeof(key)) == -1) {
		warnx("%s: not an IP address", arg);
		return 1;
	}
	r = st->ops->get(st->h, key, strlen(key), &gd);
	if (r == STORE_NOTFOUND) {
		warnx("%s: not found", arg);
		return 1;
	}
	if (r != STORE_OK) {
		warnx("%s: database error", arg);
		return 1;
	}
	if (st->ops->del(st->h, key, strlen(key)) != STORE_OK) {
		warnx("%s: cannot delete", arg);
		return 1;
	}
	/* An ip key is WHITE or TRAPPED: either way it leaves the set. */
	if (type != GD_SPAMTRAP_T)
		spamdb_fw_del(key);
	return 0;
}

struct grey_match {
	const char	*ip;
	size_t		 iplen;
	char		**keys;
	size_t		 n, cap;
	int		 overflow;
};

static int
grey_cb(const char *key, size_t keylen, const struct gdata *gd, void *arg)
{
	struct grey_match	*gm = arg;
	char			*k, **nk;

	if (gd_type(key, keylen, gd) != GD_GREY)
		return 0;
	if (keylen <= gm->iplen || key[gm->iplen] != '\n' ||
	    memcmp(key, gm->ip, gm->iplen) != 0)
		return 0;
	if (gm->n == gm->cap) {
		nk = reallocarray(gm->keys, gm->cap ? gm->cap * 2 : 16,
		    sizeof(*nk));
		if (nk == NULL) {
			gm->overflow = 1;
			return 1;
		}
		gm->keys = nk;
		gm->cap = gm->cap ? gm->cap * 2 : 16;
	}
	if ((k = strndup(key, keylen)) == NULL) {
		gm->overflow = 1;
		return 1;
	}
	gm->keys[gm->n++] = k;
	return 0;
}

/* -G -d ip: delete every GREY tuple of ip. */
static int
del_grey(struct store *st, const char *arg)
{
	struct grey_match	 gm;
	char			 ip[INET6_ADDRSTRLEN];
	size_t			 i;
	int			 ret = 0;

	if (addr_canon(arg, ip, sizeof(ip)) == -1) {
		warnx("%s: not an IP address", arg);
		return 1;
	}
	memset(&gm, 0, sizeof(gm));
	gm.ip = ip;
	gm.iplen = strlen(ip);
	if (st->ops->walk(st->h, grey_cb, &gm) != STORE_OK || gm.overflow) {
		warnx("%s: cannot read the database", arg);
		ret = 1;
	} else if (gm.n == 0) {
		warnx("%s: no GREY entry", arg);
		ret = 1;
	}
	for (i = 0; i < gm.n; i++) {
		if (!ret && st->ops->del(st->h, gm.keys[i],
		    strlen(gm.keys[i])) != STORE_OK) {
			warnx("%s: cannot delete a GREY entry", arg);
			ret = 1;
		}
		free(gm.keys[i]);
	}
	free(gm.keys);
	return ret;
}

/*
 * The environment's files must stay the property of the user spamd
 * runs as, or spamd could not open the log files we would create: a root
 * spamdb works on the database as the directory's owner.
 */
static void
become_owner(const char *path)
{
	struct stat	 sb;

	saved_euid = geteuid();
	if (saved_euid != 0 || stat(path, &sb) == -1 || sb.st_uid == 0)
		return;
	if (setegid(sb.st_gid) == -1 || seteuid(sb.st_uid) == -1)
		err(1, "seteuid %u", (unsigned)sb.st_uid);
}

void
spamdb_be_root(int root)
{
	if (saved_euid != 0)
		return;
	if (root) {
		if (seteuid(0) == -1 || setegid(0) == -1)
			err(1, "seteuid 0");
	}
}

int
main(int argc, char *argv[])
{
	struct store	*st;
	const char	*dbpath = PATH_SPAMD_DB, *import = NULL;
	char		 errbuf[512];
	int		 ch, action = ACT_LIST, type = GD_WHITE, greyflag = 0;
	int		 i, errors = 0;
	time_t		 now;

	while ((ch = getopt(argc, argv, "adf:Gi:Tt")) != -1) {
		switch (ch) {
		case 'a':
			action = ACT_ADD;
			break;
		case 'd':
			action = ACT_DEL;
			break;
		case 'f':
			dbpath = optarg;
			break;
		case 'G':
			greyflag = 1;
			break;
		case 'i':
			import = optarg;
			break;
		case 'T':
			type = GD_SPAMTRAP_T;
			break;
		case 't':
			type = GD_TRAPPED_T;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (import != NULL && (action != ACT_LIST || greyflag ||
	    type != GD_WHITE || argc != 0))
		usage();
	if (action == ACT_LIST && (greyflag || type != GD_WHITE))
		usage();
	if (greyflag && action == ACT_ADD)
		errx(2, "cannot add GREY entries");
	if (greyflag && type != GD_WHITE)
		usage();
	if (action != ACT_LIST && argc == 0)
		errx(2, "no addresses specified");

	log_init(1, "spamdb");
	become_owner(dbpath);
	st = gdb_open(dbpath, action == ACT_LIST && import == NULL ?
	    GDB_RDONLY : 0, errbuf, sizeof(errbuf));
	if (st == NULL)
		errx(1, "%s", errbuf);

	if (import != NULL) {
		errors = spamdb_import(st, import);
		st->ops->close(st->h);
		spamdb_fw_flush();
		return errors ? 1 : 0;
	}

	now = time(NULL);
	switch (action) {
	case ACT_LIST:
		if (argc == 0) {
			if (st->ops->walk(st->h, list_cb, NULL) != STORE_OK) {
				warnx("%s: cannot read the database", dbpath);
				errors = 1;
			}
			break;
		}
		for (i = 0; i < argc; i++)
			errors += list_key(st, argv[i]);
		break;
	case ACT_ADD:
		for (i = 0; i < argc; i++)
			errors += add_key(st, type, argv[i], now);
		break;
	case ACT_DEL:
		for (i = 0; i < argc; i++)
			errors += greyflag ? del_grey(st, argv[i]) :
			    del_key(st, type, argv[i]);
		break;
	}
	st->ops->close(st->h);
	spamdb_fw_flush();
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	return errors > 255 ? 255 : errors;
}
