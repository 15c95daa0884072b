/*
 * spamlogd: whitelist maintenance from logged SMTP connections.
 *
 * main() opens, as root, what needs privilege: the NFLOG group (libpcap
 * "nflog:N"), the netlink socket to the nft sets and the database (as
 * _spamd, who owns its files).  Then it drops to _spamd keeping only
 * CAP_NET_ADMIN, which the sets and a re-bind of the group need, and
 * loops: poll the group, decode what came (capture.c, nflog.c), write
 * the batch to the database and the sets (update.c).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
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
#include "priv.h"
#include "sdnotify.h"
#include "spamlogd.h"

#define RCVBUF		(8 * 1024 * 1024)	/* bursts wait here */
#define READ_MAX	4096	/* records per round before writing */
#define DROPS_EVERY	10	/* seconds between overflow checks */
#define REOPEN_MAX	60	/* longest wait between re-binds */

struct sl_stats		 stats;

static volatile sig_atomic_t	 quit, dumpstats;
static pcap_t			*pc;
static char			*nft_table, *nft_set4, *nft_set6;
static struct sync_key		 synckey;		/* -k */

static void	usage(void) __attribute__((noreturn));
static void	parse_group(const char *, char *, size_t);
static void	log_stats(const char *);
static void	sighandler(int);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: spamlogd [-DdIv] [-f dbpath] [-i interface] "
	    "[-l nflog:group]\n\t[-N table:set:set6] [-W whiteexp] "
	    "[-k keyfile] [-Y synctarget]\n");
	exit(1);
}

/* -l nflog:N or N: the libpcap device of one NFLOG group. */
static void
parse_group(const char *arg, char *dev, size_t len)
{
	const char	*errstr, *num = arg;
	long long	 g;

	if (strncmp(arg, "nflog:", 6) == 0)
		num = arg + 6;
	g = strtonum(num, 0, 65535, &errstr);
	if (errstr != NULL)
		errx(1, "-l %s: expected nflog:N, N a group from 0 to 65535",
		    arg);
	snprintf(dev, len, "nflog:%lld", g);
}

static void
log_stats(const char *when)
{
	log_info("%s: %llu packets: %llu inbound, %llu outbound, "
	    "%llu ignored, %llu malformed, %llu coalesced; WHITE entries: "
	    "%llu extended, %llu new; left alone: %llu not WHITE, "
	    "%llu TRAPPED; errors: %llu database, %llu firewall; "
	    "%llu buffer overflows; %llu sent to sync peers", when,
	    (unsigned long long)stats.packets,
	    (unsigned long long)stats.inbound,
	    (unsigned long long)stats.outbound,
	    (unsigned long long)stats.ignored,
	    (unsigned long long)stats.malformed,
	    (unsigned long long)stats.coalesced,
	    (unsigned long long)stats.extended,
	    (unsigned long long)stats.created,
	    (unsigned long long)stats.notwhite,
	    (unsigned long long)stats.trapped,
	    (unsigned long long)stats.dberrors,
	    (unsigned long long)stats.fwerrors,
	    (unsigned long long)stats.drops,
	    (unsigned long long)stats.synced);
}

static void
sighandler(int sig)
{
	if (sig == SIGUSR1 || sig == SIGHUP) {
		dumpstats = 1;
		return;
	}
	quit = 1;
	/* libpcap retries reads interrupted by a signal: tell it not to. */
	if (pc != NULL)
		pcap_breakloop(pc);
}

int
main(int argc, char *argv[])
{
	struct passwd	*pw = NULL;
	struct store	*st;
	struct nftset	*ns;
	struct sigaction sa;
	struct pollfd	 pfd;
	const char	*dbpath = PATH_SPAMD_DB, *ifname = NULL;
	char		 dev[32], errbuf[512];
	unsigned int	 ifindex = 0;
	time_t		 whiteexp = WHITEEXP_DEF, now, lastdrops = 0;
	time_t		 reopen_at = 0, reopen_wait = 1;
	int		 ch, debug = 0, verbose = 0, inbound_only = 0, n;
	int		 ntargets = 0;
	char		*targets[SYNCNET_MAXTARGETS];
	const char	*keyfile = PATH_SPAMD_KEY;
	struct syncnet	*sn = NULL;

	snprintf(dev, sizeof(dev), "nflog:%d", NFLOG_GROUP);
	while ((ch = getopt(argc, argv, "Ddf:Ii:k:l:N:vW:Y:")) != -1) {
		switch (ch) {
		case 'D':
		case 'd':
			debug = 1;
			break;
		case 'f':
			dbpath = optarg;
			break;
		case 'I':
			inbound_only = 1;
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'l':
			parse_group(optarg, dev, sizeof(dev));
			break;
		case 'N':
			if (opt_nftnames(optarg, &nft_table, &nft_set4,
			    &nft_set6, errbuf, sizeof(errbuf)) == -1)
				errx(1, "-N %s: %s", optarg, errbuf);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'W':
			/* Hours as OpenBSD's, or with a unit. */
			if (duration_parse(optarg, 60 * 60, &whiteexp) == -1 ||
			    whiteexp <= 0 || whiteexp > WHITEEXP_MAX)
				errx(1, "-W %s: whiteexp must be from 1 "
				    "second to 90 days (plain numbers are "
				    "hours)", optarg);
			break;
		case 'Y':
			if (syncnet_target(targets, &ntargets, optarg) == -1)
				errx(1, "-Y %s: more than %d sync targets",
				    optarg, SYNCNET_MAXTARGETS);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0)
		usage();
	if (ifname != NULL && (ifindex = if_nametoindex(ifname)) == 0)
		err(1, "-i %s", ifname);

	log_init(debug, "spamlogd");
	log_setverbose(verbose);

	if (geteuid() == 0) {
		if ((pw = getpwnam(SPAMD_USER)) == NULL)
			errx(1, "no such user %s (create it: useradd "
			    "--system --no-create-home --shell "
			    "/usr/sbin/nologin %s)", SPAMD_USER, SPAMD_USER);
	} else
		log_warnx("not started as root: keeping the privileges "
		    "we have");

	if (ntargets > 0) {
		if ((sn = syncnet_setup(keyfile, &synckey, NULL, targets,
		    ntargets, errbuf, sizeof(errbuf))) == NULL)
			errx(1, "%s", errbuf);
	}
	capture_filter(ifindex, inbound_only);
	if ((pc = capture_open(dev, RCVBUF, errbuf, sizeof(errbuf))) == NULL)
		errx(1, "%s", errbuf);
	if ((ns = nftset_open(nft_table, nft_set4, nft_set6)) == NULL)
		log_warnx("firewall: cannot open netlink to nftables; the "
		    "whitelist sets are left to spamd");
	else if (nftset_check(ns, errbuf, sizeof(errbuf)) == -1)
		log_warnx("firewall: %s; refreshing the sets when they "
		    "appear", errbuf);
	/*
	 * Berkeley DB's DB_REGISTER ties the environment to the process
	 * that opened it: open it in the process that will use it, after
	 * daemon(3), but try it first so that errors reach the terminal.
	 */
	if (!debug) {
		if ((st = gdb_open_as(dbpath, pw, errbuf,
		    sizeof(errbuf))) == NULL)
			errx(1, "%s", errbuf);
		store_close(st);
		if (daemon(0, 0) == -1)
			err(1, "daemon");
	}
	if ((st = gdb_open_as(dbpath, pw, errbuf, sizeof(errbuf))) == NULL)
		fatalx("%s", errbuf);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sighandler;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGQUIT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		fatal("sigaction");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");

	if (pw != NULL)
		priv_drop(pw, NULL, 1ULL << CAP_NET_ADMIN);
	update_init(st, ns, whiteexp, sn, &synckey);
	log_info("reading %s: %s connections, whiteexp %lld s, database %s",
	    dev, inbound_only ? "inbound" : "inbound and outbound",
	    (long long)whiteexp, dbpath);
	sdnotify_ready();

	while (!quit) {
		now = time(NULL);
		if (pc == NULL && now >= reopen_at) {
			if ((pc = capture_open(dev, RCVBUF, errbuf,
			    sizeof(errbuf))) == NULL) {
				reopen_at = now + reopen_wait;
				log_warnx("%s; trying again in %lld s", errbuf,
				    (long long)reopen_wait);
				if ((reopen_wait *= 2) > REOPEN_MAX)
					reopen_wait = REOPEN_MAX;
			} else {
				log_info("reading %s again", dev);
				reopen_wait = 1;
			}
		}
		if (pc != NULL) {
			pfd.fd = pcap_get_selectable_fd(pc);
			pfd.events = POLLIN;
			n = poll(&pfd, 1, 1000);
		} else
			n = poll(NULL, 0, 1000);
		if (n == -1 && errno != EINTR)
			fatal("poll");
		if (n > 0 && capture_read(pc, READ_MAX) == -1) {
			pcap_t	*old = pc;

			log_warnx("%s: read error: %s; binding the group "
			    "again", dev, pcap_geterr(pc));
			capture_drops(pc);
			pc = NULL;	/* before the signal handler sees it */
			pcap_close(old);
			reopen_at = now;
		}
		update_flush();
		if (now - lastdrops >= DROPS_EVERY) {
			capture_drops(pc);
			lastdrops = now;
		}
		if (dumpstats) {
			dumpstats = 0;
			log_stats("statistics");
		}
	}
	sdnotify("STOPPING=1");
	update_flush();
	capture_drops(pc);
	log_stats("exiting");
	if (pc != NULL)
		pcap_close(pc);
	if (ns != NULL)
		nftset_close(ns);
	store_close(st);
	return 0;
}
