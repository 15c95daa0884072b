/*
 * The resolver process (resolver.h): one poll loop over the socket to
 * the engine and c-ares's sockets.  Records from the engine go to the
 * handler of their kind (DM_REP: resrep.c); each handler answers by
 * resolver_answer() within its own deadline, and keeps its own timers
 * (resrep_due/resrep_expire).
 *
 * Why a process of its own: the engine is chrooted into an empty
 * directory and must never wait, and DNS answers come from the
 * network, so they are parsed where a bug can reach nothing but this
 * process's memory.  It is not chrooted: c-ares reads /etc/resolv.conf,
 * and reads it again when it changes (checked every RESOLV_CHECK
 * seconds), so a resolver changed by DHCP or an administrator is used
 * without a restart.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/nameser.h>

#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "aresloop.h"
#include "dnsmsg.h"
#include "log.h"
#include "priv.h"
#include "resolver.h"
#include "resrep.h"
#include "resspf.h"
#include "spamd.h"

#define RESOLV_CONF	"/etc/resolv.conf"
#define RESOLV_CHECK	30	/* seconds between looks at it */
#define MSGS_PER_TURN	256	/* records read per wake-up */
#define RESOLVER_SNDBUF	(2 * 1024 * 1024)	/* each way: ~1000 records */
static int		 rfd = -1;	/* to the engine */
static ares_channel	 ch;
static int		 ch_ok;
static int64_t		 now;
static struct stat	 rc_st;		/* resolv.conf when last read */
static int64_t		 rc_next;	/* ms: next look at it */

static void	channel_init(void);
static void	channel_check(void);
static void	engine_read(void);
static void	resolver_main(void) __attribute__((noreturn));

int64_t
resolver_now(void)
{
	return now;
}

ares_channel
resolver_channel(void)
{
	return ch;
}

int
resolver_answer(const struct dns_msg *m)
{
	static time_t	 lastnag;

	if (dnsmsg_send(rfd, m) == 0)
		return 0;
	/* The engine reads as it goes: full means it is stuck. */
	if (errno == EPIPE || errno == ECONNRESET) {
		log_info("the engine has gone: exiting");
		exit(0);
	}
	if (log_nag(&lastnag, 60))
		log_warn("answer to the engine dropped");
	return -1;
}

int
resolver_wanted(void)
{
	return conf.ndnssites > 0 || conf.spfpass;
}

/*
 * (Re)make the channel: queries of the old one end now, as failures.
 * Each try waits half the deadline, so that one lost datagram is
 * asked again in time; the handlers' own deadlines end the wait.
 */
static void
channel_init(void)
{
	struct ares_options	 o;
	int			 rc, mask = 0;

	if (ch_ok) {
		ares_destroy(ch);
		ch_ok = 0;
	}
	if (stat(RESOLV_CONF, &rc_st) == -1)
		memset(&rc_st, 0, sizeof(rc_st));
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.timeout = conf.dnswait / 2 > 50 ? conf.dnswait / 2 : 50;
	o.tries = 2;
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	if ((rc = ares_init_options(&ch, &o, mask)) != ARES_SUCCESS)
		fatalx("resolver: c-ares: %s", ares_strerror(rc));
	ch_ok = 1;
}

/* resolv.conf changed (another file, size or time): read it again. */
static void
channel_check(void)
{
	struct stat	 sb;

	if (now < rc_next)
		return;
	rc_next = now + RESOLV_CHECK * 1000;
	if (stat(RESOLV_CONF, &sb) == -1)
		memset(&sb, 0, sizeof(sb));
	if (sb.st_ino == rc_st.st_ino && sb.st_dev == rc_st.st_dev &&
	    sb.st_size == rc_st.st_size &&
	    sb.st_mtim.tv_sec == rc_st.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == rc_st.st_mtim.tv_nsec)
		return;
	log_info("%s changed: reading it again", RESOLV_CONF);
	channel_init();
}

/* Records from the engine, each to the handler of its kind. */
static void
engine_read(void)
{
	struct dns_msg	 m;
	int		 i;

	for (i = 0; i < MSGS_PER_TURN; i++) {
		switch (dnsmsg_recv(rfd, &m, "the engine")) {
		case DMR_NONE:
			return;
		case DMR_EOF:
			log_debug("the engine has closed its end: exiting");
			exit(0);
		case DMR_ERROR:
			if (errno == ECONNRESET)
				exit(0);
			fatal("resolver: recv");
		case DMR_DROPPED:
			break;
		case DMR_RECORD:
			switch (m.kind) {
			case DM_REP:
				resrep_request(&m);
				break;
			case DM_SPF:
				resspf_request(&m);
				break;
			default:
				log_warnx("dropped a record of kind %u from "
				    "the engine", m.kind);
			}
			break;
		}
	}
}

static void
resolver_main(void)
{
	struct pollfd	 pfd[1 + ARESLOOP_MAXFDS];
	int64_t		 t, due;
	int		 n, ms;

	now = mono_ms();
	channel_init();
	rc_next = now + RESOLV_CHECK * 1000;
	resrep_init();
	log_debug("resolver ready: %d sites, deadline %dms", conf.ndnssites,
	    conf.dnswait);
	for (;;) {
		pfd[0].fd = rfd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		n = 1 + aresloop_fds(ch, pfd + 1);
		/* The nearest of: c-ares's retries, an answer due, resolv.conf. */
		due = rc_next;
		if ((t = resrep_due()) < due)
			due = t;
		if ((t = resspf_due()) < due)
			due = t;
		ms = aresloop_wait(ch, due > now ? (due - now > INT_MAX ?
		    INT_MAX : (int)(due - now)) : 0);
		if (poll(pfd, n, ms) == -1 && errno != EINTR)
			fatal("resolver: poll");
		now = mono_ms();
		aresloop_run(ch, pfd + 1, n - 1);
		if (pfd[0].revents != 0)
			engine_read();
		resrep_expire(now);
		resspf_expire(now);
		channel_check();
	}
}

/*
 * Fork the resolver, detached (a child that forks it and exits at once,
 * so that neither the greylister nor the engine has it as a child to
 * reap).  It keeps only its end of the socket: every other descriptor
 * (listeners, the database, the configuration socket, TLS keys) is
 * closed, syslog opened afresh.
 */
int
resolver_start(const struct passwd *pw)
{
	struct sigaction	 sa;
	pid_t			 pid;
	int			 sp[2], status, fd;

	if (!resolver_wanted())
		return -1;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatalx("c-ares: cannot initialise");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("resolver socketpair");
	/*
	 * A burst of connections must not find the socket full (the
	 * default holds about 130 records): FORCE passes wmem_max as root.
	 */
	for (fd = 0; fd < 2; fd++) {
		status = RESOLVER_SNDBUF;
		if (setsockopt(sp[fd], SOL_SOCKET, SO_SNDBUFFORCE, &status,
		    sizeof(status)) == -1 && setsockopt(sp[fd], SOL_SOCKET,
		    SO_SNDBUF, &status, sizeof(status)) == -1)
			log_warn("resolver socket buffer");
	}
	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		close(sp[1]);
		while (waitpid(pid, &status, 0) == -1)
			if (errno != EINTR)
				fatal("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fatalx("the resolver did not start");
		return sp[0];
	}
	switch (fork()) {
	case -1:
		_exit(1);
	case 0:
		break;
	default:
		_exit(0);
	}
	closelog();
	/* Its socket on descriptor 3, then nothing else above 2. */
	if (sp[1] != 3) {
		if (dup2(sp[1], 3) == -1)
			_exit(1);
	} else if (fcntl(3, F_SETFD, 0) == -1)
		_exit(1);
	if (close_range(4, ~0U, 0) == -1)
		for (fd = 4; fd < 1024; fd++)
			(void)close(fd);
	rfd = 3;
	log_init(conf.debug, "spamd");
	log_setverbose(conf.verbose);
	log_procname("dns");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1 ||
	    sigaction(SIGUSR2, &sa, NULL) == -1)
		fatal("sigaction");
	if (pw != NULL)
		priv_drop(pw, NULL, 0);
	setproctitle("dns resolver");
	resolver_main();
}
