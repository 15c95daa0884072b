/*
 * spamdb: list and edit spamd's database, while spamd runs.
 *
 * It opens the same transactional Berkeley DB environment as spamd and
 * spamlogd, so every change is one transaction next to theirs.  A
 * process that dies holding the environment makes the next opener run
 * recovery, which spamd would have to survive: so spamdb never dies in
 * the middle, it catches SIGINT, SIGTERM, SIGHUP and SIGQUIT, ignores
 * SIGPIPE, and stops at the next entry.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdb.h"
#include "log.h"
#include "opt.h"
#include "paths.h"
#include "spamdb.h"

#define ACT_LIST	0
#define ACT_ADD		1
#define ACT_DEL		2

#define DAYONE_FILES	64	/* -m files at most */
#define DAYONE_DAYS	36	/* -D: as long as a WHITE entry lives */

volatile sig_atomic_t	spamdb_quit;

static uid_t		saved_euid;

static void	usage(void) __attribute__((noreturn));
static void	on_signal(int);
static void	signals(void);
static void	make_dir(const char *);
static void	become_owner(const char *);
static void	be_root(void);
static void	check_path(const char *, int);

static void
usage(void)
{
	fprintf(stderr, "usage: spamdb [-adGTt] [-f dbdir] [keys ...]\n"
	    "       spamdb [-f dbdir] -i file\n"
	    "       spamdb [-f dbdir] -s\n"
	    "       spamdb [-v] [-D days] [-f dbdir] -m maillog [-m maillog ...]\n"
	    "       spamdb [-f dbdir] -u age\n");
	exit(2);
}

static void
on_signal(int sig)
{
	spamdb_quit = sig;
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;	/* let Berkeley DB finish its call */
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGQUIT, &sa, NULL) == -1)
		err(1, "sigaction");
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		err(1, "sigaction");
}

/*
 * -i on a machine where spamd never ran: make the directory, for the
 * user spamd runs as when we are root, so spamd can open what we write.
 */
static void
make_dir(const char *path)
{
	struct passwd	*pw;

	if (mkdir(path, 0750) == -1) {
		if (errno == EEXIST)
			return;
		err(1, "create database directory %s", path);
	}
	if (geteuid() != 0 || (pw = getpwnam(SPAMD_USER)) == NULL)
		return;
	if (chown(path, pw->pw_uid, pw->pw_gid) == -1)
		err(1, "chown %s to %s", path, SPAMD_USER);
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

/* Back to root for the nft sets, if become_owner left it. */
static void
be_root(void)
{
	if (saved_euid != 0 || geteuid() == 0)
		return;
	if (seteuid(0) == -1 || setegid(0) == -1)
		err(1, "seteuid 0");
}

/* What gdb_open would call "not a directory" may be OpenBSD's file. */
static void
check_path(const char *path, int import)
{
	struct stat	 sb;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT && !import)
			errx(1, "database %s: no such directory (spamd "
			    "creates it when it first starts)", path);
		return;		/* gdb_open says what is wrong */
	}
	if (S_ISDIR(sb.st_mode))
		return;
	if (S_ISREG(sb.st_mode))
		errx(1, "database %s: a file, not a directory: spamd keeps a "
		    "Berkeley DB environment in a directory%s", path,
		    import ? "" : " (to move an OpenBSD database, list it "
		    "with OpenBSD's spamdb and load that with spamdb -i)");
	errx(1, "database %s: not a directory", path);
}

int
main(int argc, char *argv[])
{
	struct store	*st;
	const char	*dbpath = PATH_SPAMD_DB, *import = NULL;
	char		 errbuf[512];
	int		 ch, action = ACT_LIST, type = GD_WHITE, greyflag = 0;
	int		 i, flags, errors = 0, summary = 0;
	char		*logs[DAYONE_FILES];
	const char	*errstr;
	int		 nlogs = 0, days = -1, verbose = 0;
	time_t		 now, age = -1;

	while ((ch = getopt(argc, argv, "aD:df:Gi:m:sTtu:v")) != -1) {
		switch (ch) {
		case 'a':
			action = ACT_ADD;
			break;
		case 'D':
			days = (int)strtonum(optarg, 1, 3650, &errstr);
			if (errstr != NULL)
				errx(2, "-D %s: %s (allowed 1 to 3650 days)",
				    optarg, errstr);
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
		case 'm':
			if (nlogs == DAYONE_FILES)
				errx(2, "-m: at most %d files", DAYONE_FILES);
			logs[nlogs++] = optarg;
			break;
		case 's':
			summary = 1;
			break;
		case 'T':
			type = GD_SPAMTRAP_T;
			break;
		case 't':
			type = GD_TRAPPED_T;
			break;
		case 'u':
			if (duration_parse(optarg, 1, &age) == -1)
				errx(2, "-u %s: not a duration (a number of "
				    "seconds, or with s, m, h or d)", optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (nlogs > 0 && (action != ACT_LIST || greyflag || import != NULL ||
	    summary || type != GD_WHITE || argc != 0))
		usage();
	if (nlogs == 0 && (days != -1 || verbose))
		usage();
	if (days == -1)
		days = DAYONE_DAYS;
	if (summary && (action != ACT_LIST || greyflag || import != NULL ||
	    type != GD_WHITE || argc != 0))
		usage();
	if (age != -1 && (summary || nlogs > 0 || action != ACT_LIST ||
	    greyflag || import != NULL || type != GD_WHITE || argc != 0))
		usage();
	if (import != NULL && (action != ACT_LIST || greyflag ||
	    type != GD_WHITE || argc != 0))
		usage();
	if (action == ACT_LIST && (greyflag || type != GD_WHITE))
		usage();
	if (greyflag && action == ACT_ADD)
		errx(2, "cannot add GREY entries");
	if (greyflag && type != GD_WHITE)
		usage();
	for (i = 0; i < argc && *argv[i] == '\0'; i++)
		;
	if (action != ACT_LIST && i == argc)
		errx(2, "no addresses specified");

	log_init(1, "spamdb");
	signals();
	check_path(dbpath, import != NULL || nlogs > 0);
	flags = 0;
	if (action == ACT_LIST && import == NULL)
		flags = GDB_RDONLY;
	if (import != NULL || nlogs > 0) {
		make_dir(dbpath);
		flags = GDB_CREATE;
	}
	become_owner(dbpath);
	if ((st = gdb_open(dbpath, flags, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);

	now = time(NULL);
	if (import != NULL)
		errors = spamdb_import(st, import);
	else if (nlogs > 0)
		errors = spamdb_dayone(st, logs, nlogs, days, verbose, now);
	else if (summary)
		errors = spamdb_summary(st, now);
	else if (age != -1)
		errors = spamdb_list_noretry(st, now - age);
	else if (action == ACT_LIST && argc == 0)
		errors = spamdb_list(st);
	for (i = 0; i < argc && !spamdb_quit; i++) {
		if (*argv[i] == '\0')
			continue;
		switch (action) {
		case ACT_LIST:
			errors += spamdb_list_key(st, argv[i]);
			break;
		case ACT_ADD:
			errors += spamdb_add(st, type, argv[i], now);
			break;
		case ACT_DEL:
			errors += greyflag ? spamdb_del_grey(st, argv[i]) :
			    spamdb_del(st, type, argv[i]);
			break;
		}
	}
	store_close(st);
	errors += spamdb_list_out();
	/* What was committed goes to the sets, interrupted or not. */
	be_root();
	spamdb_fw_flush();
	if (spamdb_quit) {
		warnx("interrupted");
		signal(spamdb_quit, SIG_DFL);
		raise(spamdb_quit);
		return 1;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return 1;	/* the reader has had enough */
		err(1, "stdout");
	}
	if (import != NULL || nlogs > 0)
		return errors ? 1 : 0;
	return errors > 255 ? 255 : errors;
}
