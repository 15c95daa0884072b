/*
 * spamd: greylisting and tarpitting SMTP daemon.
 *
 * main() parses the options, opens what needs privilege (listening
 * sockets, the database, the netlink socket) and splits into two
 * processes: the SMTP engine (engine.c), which talks to the network as
 * _spamd with no capabilities inside an empty chroot, and the greylister
 * (greyproc.c), which owns the database and the nft sets and keeps only
 * CAP_NET_ADMIN.  They talk over a SOCK_SEQPACKET socketpair.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "blfile.h"
#include "cfgsock.h"
#include "dnssite.h"
#include "firewall.h"
#include "gdb.h"
#include "gsync.h"
#include "keeper.h"
#include "log.h"
#include "nftset.h"
#include "nftwatch.h"
#include "opt.h"
#include "priv.h"
#include "proxyin.h"
#include "relay.h"
#include "resolver.h"
#include "sdnotify.h"
#include "spamd.h"
#include "srctab.h"
#include "tls.h"
#include "trusted.h"
#include "trapdom.h"

#define PATH_CHROOT	"/var/empty"	/* the SMTP engine's empty root */
#define GREY_SNDBUF	(8 * 1024 * 1024)	/* engine to greylister */

struct spamd_conf conf;
static struct sync_key synckey;	/* -k */

static void	usage(void) __attribute__((noreturn));
static long long numopt(const char *, const char *, long long, long long);
static void	parse_grey(const char *);
static int	parse_stutter(const char *);
static void	parse_limits(const char *);
static void	parse_dnssite(const char *);

static char	*nft_table, *nft_set4, *nft_set6;	/* -N */
static const char *nft_file;				/* -F */
static int	open_listener(int, const struct sockaddr *, socklen_t);
static int	open_listeners(int *);
static void	make_chroot(void);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: spamd [-45bdv] [-A alloweddomains] [-B maxblack] [-c maxcon]\n"
	    "\t[-F rulesetfile] [-f dbpath]"
	    " [-G passtime:greyexp:whiteexp[:trapexp]]\n"
	    "\t[-h hostname] [-L limit=value[,...]] [-l address]"
	    " [-M address] [-N table:set:set6]\n"
	    "\t[-n name] [-P cfgport] [-p port] [-R address:port]"
	    " [-S secs] [-s delay]\n"
	    "\t[-U cfgsocket] [-w window] [-k keyfile] [-m metricsfile]\n"
	    "\t[-Y synctarget] [-y synclisten]\n"
	    "\t[-C certfile -K keyfile [-T maxtls]] [-D site]\n"
	    "\t[-t trustedfile] [-X network] [-x nospamdfile]\n");
	exit(1);
}

/* strtonum with a message that names the option. */
static long long
numopt(const char *opt, const char *arg, long long min, long long max)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(arg, min, max, &errstr);
	if (errstr != NULL)
		errx(1, "-%s %s: value is %s (allowed %lld to %lld)",
		    opt, arg, errstr, min, max);
	return v;
}

/* -G passtime:greyexp:whiteexp, minutes:hours:hours or with units. */
static void
parse_grey(const char *arg)
{
	char	 buf[128], *p, *f[4];
	int	 n;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		errx(1, "-G %s: too long", arg);
	p = buf;
	for (n = 0; n < 4; n++) {
		if ((f[n] = strsep(&p, ":")) == NULL)
			break;
	}
	if (n < 3 || p != NULL)
		errx(1, "-G %s: expected passtime:greyexp:whiteexp[:trapexp]",
		    arg);
	/* trapexp counts in hours, as greyexp and whiteexp. */
	if (n == 4 && (duration_parse(f[3], 60 * 60, &conf.gc.trapexp) == -1 ||
	    conf.gc.trapexp <= 0))
		errx(1, "-G %s: bad trapexp \"%s\"", arg, f[3]);
	if (duration_parse(f[0], 60, &conf.gc.passtime) == -1)
		errx(1, "-G %s: bad passtime \"%s\"", arg, f[0]);
	if (duration_parse(f[1], 60 * 60, &conf.gc.greyexp) == -1)
		errx(1, "-G %s: bad greyexp \"%s\"", arg, f[1]);
	if (duration_parse(f[2], 60 * 60, &conf.gc.whiteexp) == -1)
		errx(1, "-G %s: bad whiteexp \"%s\"", arg, f[2]);
	if (conf.gc.greyexp <= conf.gc.passtime)
		errx(1, "-G %s: greyexp must be longer than passtime, "
		    "or no tuple could ever pass", arg);
	if (conf.gc.whiteexp <= 0)
		errx(1, "-G %s: whiteexp must not be zero", arg);
}

/*
 * -L limit=value[,limit=value...]: the per-client limits, in one option
 * with a sub-grammar, as mount -o: OpenBSD's spamd has no letters for
 * them, and five new letters would be five more to collide with.
 */
static void
parse_limits(const char *arg)
{
	static const struct {
		const char	*name;
		long long	 min, max;
	} lims[] = {
		{ "rcpt", 1, 1000000 },
		{ "conn", 1, 1000000 },
		{ "grey", 1, 100000000 },
		{ "session", 1, 86400 },
		{ "free", 0, 1LL << 40 },
		{ "netconn", 1, 1000000 },
		{ "netgrey", 1, 100000000 },
		{ "dnsblack", -DNSSITE_WEIGHTMAX, DNSSITE_WEIGHTMAX },
		{ "dnswhite", -DNSSITE_WEIGHTMAX, DNSSITE_WEIGHTMAX },
		{ "dnswait", 100, 10000 },
		{ "pregreet", 0, 1 },
		{ "spf", 0, 1 },
	};
	char		 buf[256], *p, *f, *v;
	const char	*errstr;
	long long	 n;
	size_t		 i;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		errx(1, "-L %s: too long", arg);
	for (p = buf; (f = strsep(&p, ",")) != NULL; ) {
		if ((v = strchr(f, '=')) == NULL)
			errx(1, "-L %s: expected limit=value in \"%s\"", arg,
			    f);
		*v++ = '\0';
		for (i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
			if (strcmp(f, lims[i].name) == 0)
				break;
		if (i == sizeof(lims) / sizeof(lims[0]))
			errx(1, "-L %s: unknown limit \"%s\" (rcpt, conn, "
			    "grey, session, free, netconn, netgrey, dnsblack, "
			    "dnswhite, dnswait, pregreet or spf)", arg, f);
		n = strtonum(v, lims[i].min, lims[i].max, &errstr);
		if (errstr != NULL)
			errx(1, "-L %s: %s=%s is %s (allowed %lld to %lld)",
			    arg, f, v, errstr, lims[i].min, lims[i].max);
		switch (i) {
		case 0:
			conf.maxrcpt = (int)n;
			break;
		case 1:
			conf.maxsrccon = (int)n;
			break;
		case 2:
			conf.maxsrcgrey = (int)n;
			break;
		case 3:
			conf.maxsession = (int)n;
			break;
		case 4:
			conf.minfree = n;
			break;
		case 5:
			conf.maxnetcon = (int)n;
			break;
		case 6:
			conf.maxnetgrey = (int)n;
			break;
		case 7:
			conf.dnsblack = (int)n;
			break;
		case 8:
			conf.dnswhite = (int)n;
			break;
		case 9:
			conf.dnswait = (int)n;
			break;
		case 10:
			conf.pregreet = (int)n;
			break;
		case 11:
			conf.spfpass = (int)n;
			break;
		}
	}
}

/* -D domain[=filter][*weight], repeatable (dnssite.h). */
static void
parse_dnssite(const char *arg)
{
	static struct dnssite	 sites[DNS_MAXSITES];
	char			 why[128];

	if (conf.ndnssites == DNS_MAXSITES)
		errx(1, "-D %s: more than %d sites", arg, DNS_MAXSITES);
	if (dnssite_parse(arg, &sites[conf.ndnssites], why,
	    sizeof(why)) == -1)
		errx(1, "-D %s: %s", arg, why);
	conf.dnssites = sites;
	conf.ndnssites++;
}

/* -s secs: whole seconds, or with a unit, "1s" or "100ms"; milliseconds. */
static int
parse_stutter(const char *arg)
{
	const char	*errstr;
	char		 buf[32];
	size_t		 len;
	long long	 v, mult = 1000;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf))
		errx(1, "-s %s: too long", arg);
	len = strlen(buf);
	if (len > 2 && strcmp(buf + len - 2, "ms") == 0) {
		buf[len - 2] = '\0';
		mult = 1;
	} else if (len > 1 && buf[len - 1] == 's')
		buf[len - 1] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		errx(1, "-s %s: expected seconds, or milliseconds as 100ms",
		    arg);
	v = strtonum(buf, 0, 10000 / mult, &errstr);
	if (errstr != NULL)
		errx(1, "-s %s: value is %s (allowed 0 to 10 seconds)", arg,
		    errstr);
	return (int)(v * mult);
}

static int
open_listener(int af, const struct sockaddr *sa, socklen_t salen)
{
	int	 fd, one = 1, zero = 0;

	if ((fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1)
		err(1, "setsockopt SO_REUSEADDR");
	/* Default: one dual-stack socket serves IPv4 and IPv6 alike. */
	if (af == AF_INET6 && conf.listen_addr == NULL &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
	    sizeof(zero)) == -1)
		err(1, "setsockopt IPV6_V6ONLY");
	if (bind(fd, sa, salen) == -1 || listen(fd, SOMAXCONN) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
open_listeners(int *fds)
{
	struct addrinfo	 hints, *res;
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	char		 port[16];
	int		 error, fd;

	snprintf(port, sizeof(port), "%d", conf.port);
	if (conf.listen_addr != NULL) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		error = getaddrinfo(conf.listen_addr, port, &hints, &res);
		if (error != 0)
			errx(1, "-l %s: not a numeric address: %s",
			    conf.listen_addr, gai_strerror(error));
		fd = open_listener(res->ai_family, res->ai_addr,
		    res->ai_addrlen);
		if (fd == -1)
			err(1, "SMTP port: listen on %s port %s",
			    conf.listen_addr, port);
		freeaddrinfo(res);
		fds[0] = fd;
		return 1;
	}

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_any;
	sin6.sin6_port = htons(conf.port);
	fd = open_listener(AF_INET6, (struct sockaddr *)&sin6, sizeof(sin6));
	if (fd != -1) {
		fds[0] = fd;
		return 1;
	}
	if (errno != EAFNOSUPPORT)
		err(1, "SMTP port: listen on [::] port %s", port);
	/* A kernel without IPv6: fall back to IPv4 alone. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = htons(conf.port);
	fd = open_listener(AF_INET, (struct sockaddr *)&sin, sizeof(sin));
	if (fd == -1)
		err(1, "SMTP port: listen on 0.0.0.0 port %s", port);
	fds[0] = fd;
	return 1;
}

static void
make_chroot(void)
{
	struct stat	 st;

	if (mkdir(PATH_CHROOT, 0755) == -1 && errno != EEXIST)
		err(1, "mkdir %s", PATH_CHROOT);
	if (stat(PATH_CHROOT, &st) == -1)
		err(1, "%s", PATH_CHROOT);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		errx(1, "%s must be a directory owned by root and writable "
		    "by nobody else", PATH_CHROOT);
}

/*
 * The engine before its chroot: the keeper forked to do its file work,
 * the saved blacklists read, and no directory kept open (NEW-M1).
 */
static void
engine_prepare(const struct passwd *pw, const char *cert, const char *key)
{
	keeper_start(pw, cert, key);
	blfile_load();
	blfile_close();
}

extern char **environ;

int
main(int argc, char *argv[])
{
	struct passwd	*pw = NULL;
	struct store	*st = NULL;
	struct rlimit	 rl;
	char		 errbuf[512];
	int		 ch, lfd[MAXLISTEN], nlisten, sp[2], maxcon_max;
	int		 bflag = 0, i, sndbuf, ntargets = 0;
	int		 nonft;		/* -R without nftables */
	long long	 maxblack = -1;
	char		*targets[SYNCNET_MAXTARGETS];
	const char	*synclisten = NULL, *keyfile = PATH_SPAMD_KEY;
	const char	*cfgpath = SPAMD_CFG_PATH;
	int		 cfgport = 0;	/* TCP only with -P (NEW-M4) */
	const char	*tlscert = NULL, *tlskey = NULL;
	int		 maxtls = TLS_MAXDEFAULT;
	pid_t		 pid;

	setproctitle_init(argc, argv, environ);
	memset(&conf, 0, sizeof(conf));
	conf.greylist = 1;
	conf.nreply = 450;
	conf.maxcon = MAXCON;
	conf.port = SPAMD_PORT;
	conf.stutter = STUTTER;
	conf.grey_stutter = GREY_STUTTER;
	conf.dbpath = PATH_SPAMD_DB;
	conf.alloweddomains = PATH_ALLOWEDDOMAINS;
	conf.trusted = PATH_TRUSTED;
	conf.nospamd = PATH_NOSPAMD;
	conf.gc.passtime = PASSTIME;
	conf.gc.greyexp = GREYEXP;
	conf.gc.whiteexp = WHITEEXP;
	conf.gc.trapexp = TRAPEXP;
	conf.maxrcpt = MAXRCPT;
	conf.maxsrccon = MAXSRCCON;
	conf.maxsrcgrey = MAXSRCGREY;
	conf.maxnetcon = MAXNETCON;
	conf.maxnetgrey = MAXNETGREY;
	conf.maxsession = MAXSESSION;
	conf.minfree = MINFREE;
	conf.dnsblack = DNSBLACK;
	conf.dnswhite = DNSWHITE;
	conf.dnswait = RESOLVER_WAIT;
	conf.resolverfd = -1;
	conf.pregreet = 1;
	conf.spfpass = 0;	/* it sends MAIL FROM domains to DNS */
	strlcpy(conf.name, SPAMD_NAME, sizeof(conf.name));
	if (gethostname(conf.hostname, sizeof(conf.hostname)) == -1)
		err(1, "gethostname");

	/* The ceiling for -c: what this process may open, less spares. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	maxcon_max = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > INT_MAX ?
	    INT_MAX - 64 : (int)rl.rlim_max - 64;
	if (maxcon_max < 10)
		errx(1, "file descriptor limit %llu is too low",
		    (unsigned long long)rl.rlim_max);
	if (conf.maxcon > maxcon_max)
		conf.maxcon = maxcon_max;

	while ((ch = getopt(argc, argv,
	    "45A:bB:C:c:D:dF:f:G:h:K:k:L:l:M:m:N:n:P:p:R:S:s:T:t:U:vw:X:x:Y:y:"))
	    != -1) {
		switch (ch) {
		case '4':
			conf.nreply = 450;
			break;
		case '5':
			conf.nreply = 550;
			break;
		case 'A':
			conf.alloweddomains = optarg;
			break;
		case 'b':
			bflag = 1;
			break;
		case 'B':
			maxblack = numopt("B", optarg, 0, INT_MAX);
			break;
		case 'C':
			tlscert = optarg;
			break;
		case 'K':
			tlskey = optarg;
			break;
		case 'T':
			maxtls = numopt("T", optarg, 0, INT_MAX);
			break;
		case 'c':
			conf.maxcon = numopt("c", optarg, 1, maxcon_max);
			break;
		case 'D':
			parse_dnssite(optarg);
			break;
		case 'd':
			conf.debug = 1;
			break;
		case 'F':
			nft_file = optarg;
			break;
		case 'f':
			conf.dbpath = optarg;
			break;
		case 'G':
			parse_grey(optarg);
			break;
		case 'h':
			if (strlcpy(conf.hostname, optarg,
			    sizeof(conf.hostname)) >= sizeof(conf.hostname))
				errx(1, "-h %s: hostname too long", optarg);
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'L':
			parse_limits(optarg);
			break;
		case 'l':
			conf.listen_addr = optarg;
			break;
		case 'M':
			conf.lowprio_mx = optarg;
			break;
		case 'm':
			conf.metrics = optarg;
			break;
		case 'N':
			if (opt_nftnames(optarg, &nft_table, &nft_set4,
			    &nft_set6, errbuf, sizeof(errbuf)) == -1)
				errx(1, "-N %s: %s", optarg, errbuf);
			break;
		case 'n':
			if (strlcpy(conf.name, optarg, sizeof(conf.name)) >=
			    sizeof(conf.name))
				errx(1, "-n %s: name too long", optarg);
			break;
		case 'P':
			cfgport = numopt("P", optarg, 0, 65535);
			break;
		case 'p':
			conf.port = numopt("p", optarg, 1, 65535);
			break;
		case 'R':
			if (relay_parse(optarg, &conf.relay_sa,
			    &conf.relay_salen, errbuf, sizeof(errbuf)) == -1)
				errx(1, "-R %s: %s", optarg, errbuf);
			conf.relay = optarg;
			break;
		case 'S':
			conf.grey_stutter = numopt("S", optarg, 0, 90);
			break;
		case 's':
			conf.stutter = parse_stutter(optarg);
			break;
		case 't':
			conf.trusted = optarg;
			break;
		case 'x':
			conf.nospamd = optarg;
			break;
		case 'U':
			cfgpath = optarg;
			break;
		case 'v':
			conf.verbose = 1;
			break;
		case 'w':
			conf.window = numopt("w", optarg, 1, INT_MAX);
			break;
		case 'X':
			if (proxyin_add(optarg, errbuf, sizeof(errbuf)) == -1)
				errx(1, "-X %s: %s", optarg, errbuf);
			break;
		case 'Y':
			if (syncnet_target(targets, &ntargets, optarg) == -1)
				errx(1, "-Y %s: more than %d sync targets",
				    optarg, SYNCNET_MAXTARGETS);
			break;
		case 'y':
			if (synclisten != NULL)
				errx(1, "-y %s: only one -y", optarg);
			synclisten = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0)
		usage();

	if (conf.dnswhite >= conf.dnsblack)
		errx(1, "-L dnswhite=%d must be below dnsblack=%d", conf.dnswhite,
		    conf.dnsblack);
	if (bflag) {
		conf.greylist = 0;
		conf.maxblack = conf.maxcon;
	} else if (maxblack > conf.maxcon) {
		errx(1, "-B %lld: maxblack must not exceed maxcon (%d)",
		    maxblack, conf.maxcon);
	} else if (maxblack >= 0) {
		conf.maxblack = (int)maxblack;
	} else
		conf.maxblack = conf.maxcon > 100 ? conf.maxcon - 100 : 0;
	if (conf.lowprio_mx != NULL) {
		static char	mx[INET6_ADDRSTRLEN];

		/* Canonical, as the engine reports destinations. */
		if (addr_canon(conf.lowprio_mx, mx, sizeof(mx)) == -1)
			errx(1, "-M %s: not a numeric address",
			    conf.lowprio_mx);
		conf.lowprio_mx = mx;
	}

	log_init(conf.debug, "spamd");
	log_setverbose(conf.verbose);

	if (geteuid() == 0) {
		if ((pw = getpwnam(SPAMD_USER)) == NULL)
			errx(1, "no such user %s (create it: useradd "
			    "--system --no-create-home --shell "
			    "/usr/sbin/nologin %s)", SPAMD_USER, SPAMD_USER);
		make_chroot();
	} else
		log_warnx("not started as root: no privilege separation");

	nlisten = open_listeners(lfd);
	if (conf.metrics != NULL && !conf.greylist) {
		/* The greylister writes the file; -b runs without one. */
		warnx("-m does nothing in blacklist-only mode");
		conf.metrics = NULL;
	}
	/* Read as root: the pair may be readable by root alone. */
	if ((tlscert == NULL) != (tlskey == NULL))
		errx(1, "need key and certificate for TLS (-C and -K)");
	if (tlscert != NULL && tls_init(tlscert, tlskey, maxtls, errbuf,
	    sizeof(errbuf)) == -1)
		errx(1, "TLS: %s", errbuf);
	if ((synclisten != NULL || ntargets > 0) && !conf.greylist)
		warnx("-y and -Y do nothing in blacklist-only mode");
	else if (synclisten != NULL || ntargets > 0) {
		if ((conf.sync = syncnet_setup(keyfile, &synckey, synclisten,
		    targets, ntargets, errbuf, sizeof(errbuf))) == NULL)
			errx(1, "%s", errbuf);
		conf.synckey = &synckey;
	}
	/* spamd-setup's sockets: without them no list could be loaded. */
	if (cfgsock_listen(cfgpath, cfgport, errbuf, sizeof(errbuf)) == -1)
		errx(1, "%s", errbuf);
	if (conf.greylist)
		st = gdb_open_as(conf.dbpath, pw, errbuf, sizeof(errbuf));
	if (conf.greylist && st == NULL)
		errx(1, "%s", errbuf);
	/*
	 * DB_REGISTER ties the environment to the process that opened it:
	 * opened here and used after daemon() and fork(), the next spamdb
	 * would see its opener dead and run recovery under our feet.  So
	 * this open only reports problems on the terminal; the greylister
	 * opens the database again for itself below.
	 */
	if (st != NULL) {
		store_close(st);
		st = NULL;
	}
	/* The saved blacklists: read by each process, written by the keeper. */
	blfile_open(conf.dbpath);
	/* Trusted networks: both processes keep a copy (trusted.h). */
	bypass_init(BYPASS_TRUSTED, conf.trusted);
	bypass_init(BYPASS_NOSPAMD, conf.nospamd);
	/* The table and sets must be there before the first whitelisting. */
	if (nft_file != NULL && nftwatch_load(nft_file, nft_table, nft_set4,
	    nft_set6, errbuf, sizeof(errbuf)) == -1)
		errx(1, "-F %s", errbuf);
	if (nft_file != NULL && !conf.greylist)
		warnx("-F %s: loaded once; without a greylister (-b) nothing "
		    "loads it again", nft_file);

	if (!conf.debug && daemon(0, 0) == -1)
		err(1, "daemon");
	/*
	 * SIGHUP too: until the greylister installs its handler, a
	 * `kill -HUP' must not end the daemon half started.
	 */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    signal(SIGHUP, SIG_IGN) == SIG_ERR)
		fatal("signal");
	/* DNS (-D) in a process of its own, holding nothing else. */
	conf.resolverfd = resolver_start(pw);

	if (!conf.greylist) {
		/* Blacklist-only: the engine alone, with its keeper. */
		engine_prepare(pw, tlscert, tlskey);
		sdnotify_ready();	/* listening; chrooted next */
		if (pw != NULL)
			priv_drop(pw, PATH_CHROOT, 0);
		log_procname("smtp");
		engine_run(lfd, nlisten, -1);
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	/*
	 * Room for a few thousand tuples in flight, so that a greylister
	 * held up by a database lock for a second drops none; the
	 * default holds about 90.  FORCE passes wmem_max as root.
	 */
	sndbuf = GREY_SNDBUF;
	if (setsockopt(sp[1], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
	    sizeof(sndbuf)) == -1 &&
	    setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		log_warn("greylister socket buffer");
	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		close(sp[0]);
		engine_prepare(pw, tlscert, tlskey);
		if (pw != NULL)
			priv_drop(pw, PATH_CHROOT, 0);
		log_procname("smtp");
		setproctitle("smtp engine");
		engine_run(lfd, nlisten, sp[1]);
		/* NOTREACHED */
	}
	close(sp[1]);
	if (conf.resolverfd != -1) {
		close(conf.resolverfd);
		conf.resolverfd = -1;
	}
	for (i = 0; i < nlisten; i++)
		close(lfd[i]);
	tls_forget();
	cfgsock_close();
	/* The greylister keeps the blacklists' directory: it reads them. */
	if ((st = gdb_open_as(conf.dbpath, pw, errbuf, sizeof(errbuf))) ==
	    NULL)
		fatalx("%s", errbuf);
	/*
	 * -R without -N (or -F): the relay passes whitelisted hosts, no
	 * nft set is written and the greylister keeps no capability.
	 */
	nonft = conf.relay != NULL && nft_table == NULL && nft_file == NULL;
	if (!nonft)
		fw_init(nft_table, nft_set4, nft_set6);
	nftwatch_open();
	if (conf.sync != NULL)
		gsync_init(conf.sync, &synckey);
	if (pw != NULL)
		priv_drop(pw, NULL, nonft ? 0 : 1ULL << CAP_NET_ADMIN);
	log_procname("grey");
	setproctitle("[priv] greylister");
	/* The greylister's per-source table counts GREY entries. */
	srctab_limits(conf.maxsrcgrey, conf.maxnetgrey, "GREY entries",
	    "-L netgrey=");
	greyproc_run(st, sp[0], pid);
	/* NOTREACHED */
}
