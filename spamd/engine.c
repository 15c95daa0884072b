/*
 * The SMTP engine: one epoll loop over the listening sockets, the
 * clients and the socket to the greylister, each an event source
 * (evsrc.h).  smtp.c decides what to say; this file decides when.
 * Tarpitting is nothing but deadlines: every stuttering connection
 * waits the same interval between bytes, so a FIFO ordered by insertion
 * is ordered by deadline, and so is the FIFO of connections ordered by
 * last activity (for the idle timeout).  The cost of a timer tick
 * therefore does not grow with the number of connections.  Deadlines
 * are CLOCK_MONOTONIC milliseconds.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "blacklist.h"
#include "cfgsock.h"
#include "con.h"
#include "dnsrep.h"
#include "engine.h"
#include "evsrc.h"
#include "greymsg.h"
#include "greytrap.h"
#include "stats.h"
#include "log.h"
#include "mono.h"
#include "proxyin.h"
#include "relay.h"
#include "smtp.h"
#include "spamd.h"
#include "spfq.h"
#include "srctab.h"
#include "syncfwd.h"
#include "tls.h"
#include "trusted.h"
#include "whiteset.h"

/*
 * From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>,
 * which do not mix well with <netinet/in.h>.
 */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST		80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST	80
#endif

#define SPAREFDS	32	/* epoll, listeners, greylister, syslog... */
#define PAUSE_MS	1000	/* accept back-off when out of fds */
#define ACCEPT_BURST	64	/* accepts per wake-up */
#define MAXEVENTS	256
#define NAG_SECS	10	/* log repeated trouble every 10 s */
#define WHITE_WAIT_MS	10000	/* -R: longest wait for the WHITE list */

TAILQ_HEAD(conq, con);

/* A listening socket. */
struct lst {
	struct evsrc	 src;	/* first: the epoll data */
	int		 fd;
};

static int		 epfd = -1;
static struct lst	 lsts[MAXLISTEN];
static int		 nlsts;
static int		 listening;	/* listeners in the epoll set */
static int64_t		 paused;	/* ms: no accepts until, or 0 */
static int		 gfd = -1;	/* to the greylister, -1 with -b */
static struct evsrc	 greysrc;	/* gfd as an event source */
static unsigned long	 grey_dropped;	/* tuples the greylister missed */
static int		 nclients;
static int		 fdroom;	/* descriptors for clients and relays */
static int		 nblack;	/* blacklisted clients connected */
static struct conq	 stutq = TAILQ_HEAD_INITIALIZER(stutq);
static struct conq	 idleq = TAILQ_HEAD_INITIALIZER(idleq);
static struct conq	 lifeq = TAILQ_HEAD_INITIALIZER(lifeq);
static struct srctab	*srcs;		/* connections per source */
static struct smtp_conf	 smtpconf;	/* what every session reads */
static char		 banner[HOST_NAME_MAX + 320];
static size_t		 bannerlen;
static int64_t		 now;		/* ms, set every loop turn */
static int		 inbatch;	/* handing out epoll events */
static struct evsrc	*deadq;		/* engine_free'd in this batch */
static volatile sig_atomic_t quit;
static volatile sig_atomic_t reload;	/* SIGHUP */

static void	sighandler(int);
static void	setup_signals(sigset_t *);
static void	setup_nofile(void);
static void	setup_smtp(void);
static void	listen_update(void);
static void	lst_accept(struct evsrc *, uint32_t);
static void	grey_event(struct evsrc *, uint32_t);
static void	grey_send(struct con *);
static void	black_saved(void);
static int	bl_lookup(struct con *);
static void	con_pregreet(struct con *);
static void	con_new(int, const struct sockaddr *, socklen_t);
static int	con_refuse(struct con *);
static void	con_expire(struct con *);
static void	con_origdst(struct con *);
static const char *con_ip(const struct con *, char *);
static int	con_stuttering(const struct con *);
static void	stut_queue(struct con *, int64_t);
static void	stut_remove(struct con *);
static int	out_iov(const struct con *, struct iovec *);
static int	con_outwait(struct con *);
static int	con_flush(struct con *);
static void	con_byte(struct con *, int64_t);
static int	con_begin_output(struct con *);
static void	con_written(struct con *);
static void	con_process(struct con *);
static void	con_read(struct con *);
static void	con_event(struct evsrc *, uint32_t);
static void	con_tls_start(struct con *);
static void	con_tls_handshake(struct con *);
static void	run_timers(void);
static int	next_timeout(void);
static void	shutdown_engine(void) __attribute__((noreturn));

static void
sighandler(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		quit = sig;
}

/* Signals are let in only while waiting (waitmask), so none is missed. */
static void
setup_signals(sigset_t *waitmask)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction SIGPIPE");
	/*
	 * A `kill -USR1' sent to every spamd process must not end the
	 * engine (and its blacklists); SIGHUP re-reads the TLS pair.
	 */
	if (sigaction(SIGUSR1, &sa, NULL) == -1 ||
	    sigaction(SIGUSR2, &sa, NULL) == -1)
		fatal("sigaction");
	loopsig_init(sighandler, sigs, sizeof(sigs) / sizeof(sigs[0]),
	    waitmask);
}

/*
 * Every client is a descriptor: take all the kernel allows, and keep
 * maxcon within it so that accept never hits EMFILE in normal running.
 */
static void
setup_nofile(void)
{
	struct rlimit	 rl;
	rlim_t		 cur;
	int		 newmax;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit RLIMIT_NOFILE");
	if (rl.rlim_cur < rl.rlim_max) {
		cur = rl.rlim_cur;
		/* An infinite hard limit still stops at fs.nr_open. */
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 :
		    rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_warn("setrlimit RLIMIT_NOFILE %llu",
			    (unsigned long long)rl.rlim_cur);
			rl.rlim_cur = cur;
		}
	}
	fdroom = rl.rlim_cur > INT_MAX ? INT_MAX - SPAREFDS :
	    (int)rl.rlim_cur - SPAREFDS;
	if ((rlim_t)conf.maxcon + SPAREFDS > rl.rlim_cur) {
		newmax = rl.rlim_cur > SPAREFDS + 1 ?
		    (int)(rl.rlim_cur - SPAREFDS) : 1;
		log_warnx("maxcon %d needs %d file descriptors but the limit "
		    "is %llu: using maxcon %d", conf.maxcon,
		    conf.maxcon + SPAREFDS, (unsigned long long)rl.rlim_cur,
		    newmax);
		conf.maxcon = newmax;
	}
}

/* What the dialogue (smtp.c) needs of conf, and the banner's prefix. */
static void
setup_smtp(void)
{
	int	 n;

	smtpconf.hostname = conf.hostname;
	smtpconf.name = conf.name;
	smtpconf.nreply = conf.nreply;
	smtpconf.greylist = conf.greylist;
	smtpconf.maxrcpt = conf.maxrcpt;
	smtpconf.verbose = conf.verbose;
	if ((n = smtp_banner_prefix(&smtpconf, banner, sizeof(banner))) == -1)
		fatalx("banner too long");
	bannerlen = n;
}

/*
 * Room for one more client: under -c, and a descriptor for it besides
 * those relayed sessions hold (their MTA sockets and pipes, relay.c),
 * so that a relayed client is not accepted only to get a 421.
 */
static int
con_room(void)
{
	return nclients < conf.maxcon && nclients + relay_nfds() < fdroom;
}

/*
 * Listen only while there is room: when full (or out of descriptors)
 * the listeners leave the epoll set and new clients wait in the
 * kernel's accept queue instead of being accepted and dropped.
 */
static void
listen_update(void)
{
	int	 want, i;

	want = con_room() && paused == 0 && !quit;
	if (want == listening)
		return;
	for (i = 0; i < nlsts; i++) {
		if (evsrc_ctl(epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
		    lsts[i].fd, EPOLLIN, &lsts[i].src) == 0)
			continue;
		if (!want)
			fatal("epoll_ctl: remove listener");
		/* Out of epoll watches (ENOSPC, ENOMEM): retry later. */
		log_warn("epoll_ctl: add listener");
		while (--i >= 0)
			if (epoll_ctl(epfd, EPOLL_CTL_DEL, lsts[i].fd,
			    NULL) == -1)
				fatal("epoll_ctl: remove listener");
		paused = now + PAUSE_MS;
		return;
	}
	listening = want;
	if (!want && paused == 0 && !quit)
		log_debug("%d connections: not accepting more", nclients);
}

static void
lst_accept(struct evsrc *src, uint32_t ev)
{
	static time_t		 lastnag;
	const struct lst	*l = (struct lst *)src;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, i;

	(void)ev;
	/* Taken out of the epoll set earlier in this batch of events. */
	if (!listening)
		return;
	for (i = 0; i < ACCEPT_BURST && con_room(); i++) {
		sslen = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			con_new(fd, (struct sockaddr *)&ss, sslen);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
		case ETIMEDOUT:
		case EHOSTUNREACH:
		case ENETUNREACH:
		case ENETDOWN:
		case EHOSTDOWN:
		case ENONET:
		case EOPNOTSUPP:
			/* That client's trouble, not ours. */
			log_debug("accept: %s", strerror(errno));
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/*
			 * Out of descriptors or memory: the listener would
			 * stay readable and the loop would spin, so stop
			 * listening for a while, or until a client leaves.
			 */
			if (log_nag(&lastnag, NAG_SECS))
				log_warn("accept (%d clients): pausing "
				    "accepts", nclients);
			paused = now + PAUSE_MS;
			listen_update();
			return;
		default:
			if (log_nag(&lastnag, NAG_SECS))
				log_warn("accept");
			return;
		}
	}
}

/*
 * The greylister sends the greytrap list (greytrap.c).  A bad record is
 * logged and dropped; end of file means it has gone away, and without
 * it no tuple can be recorded: exit.
 */
static void
grey_event(struct evsrc *src, uint32_t ev)
{
	struct grey_msg	 m;
	int		 i;

	(void)src;
	for (i = 0; i < 256; i++) {
		switch (greymsg_recv(gfd, &m, "the greylister")) {
		case GMR_EOF:
			fatalx("greylister has exited");
		case GMR_ERROR:
			fatal("recv from greylister");
		case GMR_NONE:
			if (ev & (EPOLLHUP | EPOLLERR))
				fatalx("greylister has hung up");
			return;
		case GMR_DROPPED:
			break;
		case GMR_RECORD:
			if ((m.type >= GM_WHITE_BEGIN &&
			    m.type <= GM_WHITE_END ? whiteset_msg(&m) :
			    greytrap_msg(&m)) == -1)
				log_warnx("dropped a malformed record of type "
				    "%u from the greylister", m.type);
			/* -R: the WHITE list is in, clients may come. */
			else if (m.type == GM_WHITE_END && paused != 0) {
				paused = 0;
				listen_update();
			}
			break;
		}
	}
}

/*
 * One tuple per accepted RCPT; with SPF-aware passing by way of the
 * resolver (spfq.c), which hands it to engine_tuple() with its SPF.
 */
static void
grey_send(struct con *c)
{
	struct grey_tuple	 t;

	/* A balancer's health check (-X, LOCAL) is nobody to record. */
	if (gfd == -1 || (c->flags & CF_LOCAL))
		return;
	smtp_tuple(c->sess, &c->addr, &c->dst, &t);
	if (spfq_ask(&t) == 0)
		return;
	engine_tuple(&t);
}

/* One record to the greylister; never block the engine on it. */
void
engine_tuple(const struct grey_tuple *t)
{
	static time_t		 lastnag;
	struct grey_msg		 m;
	char			 ip[INET6_ADDRSTRLEN];

	if (gfd == -1)
		return;
	greymsg_init(&m, GM_TUPLE);
	m.tuple = *t;
	if (greymsg_send(gfd, &m) == 0) {
		stats_tuple(1);
		return;
	}
	switch (errno) {
	case EAGAIN:
	case ENOBUFS:
		stats_tuple(0);
		grey_dropped++;
		if (log_nag(&lastnag, NAG_SECS))
			log_warnx("greylister is not keeping up: %lu tuples "
			    "dropped so far (latest %s %s -> %s)", grey_dropped,
			    addr_str(&t->ip, ip, sizeof(ip)), m.tuple.from,
			    m.tuple.to);
		break;
	case EPIPE:
	case ECONNRESET:
		fatalx("greylister has exited");
	default:
		if (log_nag(&lastnag, NAG_SECS))
			log_warn("send to greylister");
	}
}

/* cfgsock.c saved new blacklists: the greylister drops listed WHITE. */
static void
black_saved(void)
{
	struct grey_msg	 m;

	if (gfd == -1)
		return;
	greymsg_init(&m, GM_BLACK);
	if (greymsg_send(gfd, &m) == -1)
		log_warn("greylister not told of the new blacklists; "
		    "listed WHITE hosts stay until the next load");
}

/*
 * The lists loaded through the configuration socket (blacklist.c).
 * Sets c->bl to what the lookup found.
 */
static int
bl_lookup(struct con *c)
{
	c->bl = bl_match(&c->addr);
	return c->bl != NULL;
}

/*
 * Hosts the greylister trapped get the internal list spamd-greytrap
 * from their next connection on, when no loaded list matched already.
 */
static const char *const	 trapmsgs[] = { GREYTRAP_MSG };
static const struct bl_hit	 traphit = { trapmsgs, 1, GREYTRAP_NAME };

static int
trap_lookup(struct con *c)
{
	if (!greytrap_lookup(&c->addr, time(NULL)))
		return 0;
	c->bl = &traphit;
	return 1;
}

/*
 * The pregreet test, just before the banner's last byte goes out (once
 * it is out, an honest client may answer at once): a greylisted client
 * whose bytes wait in the kernel spoke before it was greeted, as bots
 * do and MTAs do not.  While the banner was out only a hang-up was
 * asked of epoll, so one peek is the whole cost, not a syscall a
 * stuttered byte.  The client is tarpitted as a trapped host from now
 * on (no tuple) and the greylister traps it (GM_PREGREET).  Not for
 * blacklisted clients (tarpitted already), nor with -b or without a
 * greylister, nor for relayed ones (the banner is the MTA's).
 */
static void
con_pregreet(struct con *c)
{
	struct grey_msg	 m;
	char		 ip[INET6_ADDRSTRLEN], b;

	if (!conf.pregreet || gfd == -1 || c->phase != CP_SMTP ||
	    (c->flags & CF_BLACK) || c->tls != NULL)
		return;
	if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
		return;
	con_ip(c, ip);
	log_info("%s: pregreet: wrote before the banner ended, trapped", ip);
	con_listed(c, &traphit);
	greymsg_init(&m, GM_PREGREET);
	m.ip = c->addr;
	if (greymsg_send(gfd, &m) == -1)
		log_warn("%s: pregreet not sent to the greylister", ip);
}

/*
 * One source (an address, an IPv6 /64) may hold only -L conn= slots,
 * so that it cannot take all of maxcon: more get a 421 at once and are
 * closed.  1 if fd was refused (and closed).
 */
static int
con_refuse(struct con *c)
{
	static time_t		 lastnag;
	static unsigned long	 refused;
	char			 ip[INET6_ADDRSTRLEN], msg[HOST_NAME_MAX + 80];
	int			 n;

	if (srctab_count(srcs, &c->addr) < (unsigned int)conf.maxsrccon)
		return 0;
	stats_limit(srctab_count_src(srcs, &c->addr) <
	    (unsigned int)conf.maxsrccon ? SL_NETCONN : SL_CONN, 1);
	refused++;
	con_ip(c, ip);
	if (log_nag(&lastnag, NAG_SECS))
		log_warnx("%s: refused: %d connections from its %s already "
		    "(%lu refused so far)", ip,
		    conf.maxsrccon, c->addr.af == AF_INET6 ? "/64" : "address",
		    refused);
	n = snprintf(msg, sizeof(msg), "421 4.7.0 %s Too many connections "
	    "from your network, try again later\r\n", conf.hostname);
	/* A fresh socket has room; if not, the client hears nothing. */
	if (n > 0 && (size_t)n < sizeof(msg) &&
	    send(c->fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("%s: send 421: %s", ip, strerror(errno));
	con_close(c, NULL);
	return 1;
}

/*
 * A new socket: a struct con from the start, so that it counts against
 * -c while a PROXY header is awaited.  Its real client is known at once
 * or, with -X, once the header is read (proxyin.c); con_begin goes on
 * from there.
 */
static void
con_new(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct con	*c;
	struct addr	 a;

	if (addr_from_sa(&a, sa, salen) == -1) {
		log_warnx("connection of address family %d refused",
		    sa->sa_family);
		if (close(fd) == -1)
			log_warn("close");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("connection");
		if (close(fd) == -1)
			log_warn("close");
		return;
	}
	c->src.ev = con_event;
	c->fd = fd;
	c->addr = a;
	c->start = c->lastio = now;
	nclients++;
	TAILQ_INSERT_TAIL(&idleq, c, idq);
	if (!con_room())
		listen_update();
	if (proxyin_expected(&a)) {
		c->phase = CP_PROXY;
		proxyin_begin(c);
	} else
		con_begin(c);
}

void
con_begin(struct con *c)
{
	static time_t	 lastt = -1;
	static char	 lasttail[SMTP_TIMELEN];
	char		 ip[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	time_t		 t;
	int		 trusted = trusted_match(&c->addr);

	/* Trusted networks are never refused by -L conn= (trusted.h). */
	if (!trusted && con_refuse(c))
		return;
	/* Cannot fail: at most maxcon sources, and room for as many. */
	if (srctab_add(srcs, &c->addr, 1) == -1)
		fatalx("per-source table full");
	c->flags |= CF_SRC;
	if (c->dst.af == 0)
		con_origdst(c);
	/* ctime once per second, not once per client. */
	if ((t = time(NULL)) != lastt) {
		smtp_banner_time(lasttail, t);
		lastt = t;
	}
	memcpy(c->tail, lasttail, SMTP_TIMELEN);

	/* Trusted: never stuttered nor tarpitted, whatever lists it. */
	if (trusted)
		c->flags |= CF_NOSTUTTER;
	if (!(c->flags & CF_NOSTUTTER) && (bl_lookup(c) || trap_lookup(c))) {
		c->flags |= CF_BLACK;
		if (++nblack > conf.maxblack)
			c->flags |= CF_NOSTUTTER;
	}
	c->phase = CP_SMTP;
	stats_open(c);
	c->flags |= CF_OPEN;
	con_ip(c, ip);
	log_info("%s: connected (%d/%d)%s%s", ip, nclients, nblack,
	    c->bl != NULL ? ", lists: " : "",
	    c->bl != NULL && c->bl->tags != NULL ? c->bl->tags : "");
	if (trusted)
		log_debug("%s: trusted network: not stuttered, whitelisted "
		    "at its first tuple", ip);
	if (c->dst.af != 0)
		log_debug("%s: original destination %s port %u", ip,
		    addr_str(&c->dst, dst, sizeof(dst)), c->dport);
	if (relay_wanted(c)) {
		relay_start(c);
		return;
	}
	if (dnsrep_hold(c)) {
		c->phase = CP_HOLD;
		return;
	}
	con_greet(c);
}

void
con_greet(struct con *c)
{
	c->phase = CP_SMTP;
	if (!(c->flags & CF_BLACK) && conf.greylist) {
		/* Accepted in order of start: a FIFO by deadline. */
		TAILQ_INSERT_TAIL(&lifeq, c, lfq);
		c->flags |= CF_LIFEQ;
	}
	c->flags |= CF_OUT | CF_BANNER;
	if (con_begin_output(c) == 1)
		con_written(c);
}

/* An event for a source engine_free has taken: nothing to do. */
static void
ev_gone(struct evsrc *src, uint32_t ev)
{
	(void)src;
	(void)ev;
}

void
engine_free(struct evsrc *src)
{
	if (!inbatch) {
		free(src);
		return;
	}
	src->ev = ev_gone;
	src->dead = deadq;
	deadq = src;
}

int64_t
engine_now(void)
{
	return now;
}

int
engine_epfd(void)
{
	return epfd;
}

int
engine_greyfd(void)
{
	return gfd;
}

void
con_listed(struct con *c, const struct bl_hit *h)
{
	if ((c->flags & CF_BLACK) || h == NULL)
		return;
	stats_leave(c);
	c->bl = h;
	c->flags |= CF_BLACK;
	if (++nblack > conf.maxblack)
		c->flags |= CF_NOSTUTTER;
	/* Blacklisted sessions have no time limit (con_greet). */
	if (c->flags & CF_LIFEQ) {
		TAILQ_REMOVE(&lifeq, c, lfq);
		c->flags &= ~CF_LIFEQ;
	}
	stats_open(c);
}

/*
 * A greylisted session over -L session= seconds: it has had every
 * chance to give its tuple.  Say so unless a reply is half written.
 */
static void
con_expire(struct con *c)
{
	char	 msg[HOST_NAME_MAX + 64];
	int	 n;

	n = snprintf(msg, sizeof(msg), "421 4.4.2 %s Session too long, "
	    "closing\r\n", conf.hostname);
	stats_limit(SL_SESSION, 1);
	if (!(c->flags & CF_OUT) && n > 0 && (size_t)n < sizeof(msg) &&
	    send(c->fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		log_debug("send 421: %s", strerror(errno));
	con_close(c, "session time limit");
}

/*
 * Where the client meant to go: the NAT original destination when
 * nftables redirected it (IPv4, then IPv6), else the socket's own
 * address (TPROXY, or no firewall at all).
 */
static void
con_origdst(struct con *c)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;

	memset(&ss, 0, sizeof(ss));
	/* The kernel wants the exact size of the address it returns. */
	len = sizeof(*sin);
	if (c->addr.af == AF_INET &&
	    getsockopt(c->fd, SOL_IP, SO_ORIGINAL_DST, sin, &len) == 0)
		goto found;
	len = sizeof(*sin6);
	if (c->addr.af == AF_INET6 &&
	    getsockopt(c->fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, sin6, &len) == 0)
		goto found;
	len = sizeof(ss);
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("getsockname");
		return;
	}
 found:
	if (addr_from_sa(&c->dst, (struct sockaddr *)&ss, len) == -1) {
		memset(&c->dst, 0, sizeof(c->dst));
		return;
	}
	c->dport = ntohs(ss.ss_family == AF_INET ? sin->sin_port :
	    sin6->sin6_port);
}

static const char *
con_ip(const struct con *c, char *buf)
{
	return addr_str(&c->addr, buf, INET6_ADDRSTRLEN);
}

/*
 * Ask epoll for ev on c.  On failure the connection is closed and -1
 * returned: callers must not touch c after -1.
 */
int
con_setev(struct con *c, uint32_t ev)
{
	if ((c->flags & CF_REG) && c->ev == ev)
		return 0;
	if (evsrc_ctl(epfd, (c->flags & CF_REG) ? EPOLL_CTL_MOD :
	    EPOLL_CTL_ADD, c->fd, ev, &c->src) == -1) {
		log_warn("epoll_ctl");
		con_close(c, "epoll_ctl failed");
		return -1;
	}
	c->flags |= CF_REG;
	c->ev = ev;
	return 0;
}

/*
 * Stutter blacklisted clients (and, in -b mode, every client) for the
 * whole dialogue unless too many of them are connected; greylisted
 * clients only for their first grey_stutter seconds.
 */
static int
con_stuttering(const struct con *c)
{
	if (conf.stutter == 0 || (c->flags & CF_NOSTUTTER))
		return 0;
	if ((c->flags & CF_BLACK) || !conf.greylist)
		return 1;
	return now - c->start < (int64_t)conf.grey_stutter * 1000;
}

void
con_touch(struct con *c)
{
	c->lastio = now;
	TAILQ_REMOVE(&idleq, c, idq);
	TAILQ_INSERT_TAIL(&idleq, c, idq);
}

/*
 * Every due is "some earlier due or now, plus the one stutter
 * interval", so appending keeps the queue sorted; the clamp only guards
 * that invariant.
 */
static void
stut_queue(struct con *c, int64_t due)
{
	struct con	*last;

	if ((last = TAILQ_LAST(&stutq, conq)) != NULL && due < last->due)
		due = last->due;
	c->due = due;
	TAILQ_INSERT_TAIL(&stutq, c, stq);
	c->flags |= CF_STUTQ;
}

static void
stut_remove(struct con *c)
{
	if (c->flags & CF_STUTQ) {
		TAILQ_REMOVE(&stutq, c, stq);
		c->flags &= ~CF_STUTQ;
	}
}

/* The unsent output as at most two pieces. */
static int
out_iov(const struct con *c, struct iovec *iov)
{
	const struct smtp_reply	*r;
	size_t			 pos = c->opos;
	int			 n = 0;

	if (!(c->flags & CF_BANNER)) {
		r = &c->sess->out;
		iov[0].iov_base = r->buf + pos;
		iov[0].iov_len = r->len - pos;
		return iov[0].iov_len > 0;
	}
	if (pos < bannerlen) {
		iov[n].iov_base = banner + pos;
		iov[n++].iov_len = bannerlen - pos;
		pos = bannerlen;
	}
	pos -= bannerlen;
	if (pos < SMTP_TIMELEN) {
		iov[n].iov_base = (char *)c->tail + pos;
		iov[n++].iov_len = SMTP_TIMELEN - pos;
	}
	return n;
}

/* Output is blocked by the kernel: wait for room. */
static int
con_outwait(struct con *c)
{
	return con_setev(c, EPOLLOUT | ((c->flags & CF_RDHUP) ? 0 :
	    EPOLLRDHUP));
}

/*
 * Write all pending output.  1: all written; 0: the rest waits for
 * EPOLLOUT; -1: the connection was closed.
 */
static int
con_flush(struct con *c)
{
	struct msghdr	 msg;
	struct iovec	 iov[2];
	uint32_t	 wev;	/* always EPOLLOUT: see tls_write */
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	if ((msg.msg_iovlen = out_iov(c, iov)) == 0)
		return 1;
	if (c->flags & CF_BANNER)
		con_pregreet(c);	/* the rest of it goes now */
	if (c->tls != NULL)
		n = tls_write(c->tls, iov[0].iov_base, iov[0].iov_len, &wev);
	else
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return con_outwait(c);
		con_close(c, strerror(errno));
		return -1;
	}
	c->opos += n;
	con_touch(c);
	if (out_iov(c, iov) == 0)
		return 1;
	return con_outwait(c);
}

/*
 * One stuttered byte; base is the deadline it was due at (or now), so
 * that bytes keep their rhythm even when the loop runs late.
 */
static void
con_byte(struct con *c, int64_t base)
{
	struct iovec	 iov[2];
	int64_t		 due;
	uint32_t	 wev;
	ssize_t		 n;
	int		 niov;

	if ((niov = out_iov(c, iov)) == 0) {
		con_written(c);
		return;
	}
	/* The banner's last byte. */
	if ((c->flags & CF_BANNER) && niov == 1 && iov[0].iov_len == 1)
		con_pregreet(c);
	/* Over TLS, a byte is a record of its own: the tarpit holds. */
	if (c->tls != NULL)
		n = tls_write(c->tls, iov[0].iov_base, 1, &wev);
	else
		n = send(c->fd, iov[0].iov_base, 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			con_outwait(c);
		else
			con_close(c, strerror(errno));
		return;
	}
	c->opos++;
	stats_stuttered();
	con_touch(c);
	if (out_iov(c, iov) == 0) {
		con_written(c);
		return;
	}
	/*
	 * Late by a whole interval (the loop stalled): the next byte one
	 * interval from now, or run_timers() would send it in this same
	 * pass, and the rest of the reply with it.
	 */
	due = base + conf.stutter;
	stut_queue(c, due > now ? due : now + conf.stutter);
	con_setev(c, (c->flags & CF_RDHUP) ? 0 : EPOLLRDHUP);
}

/*
 * A reply (or the banner) is ready.  Stuttered, its first byte goes one
 * interval later; meanwhile only a hang-up is of interest.  Returns 1
 * when it was all written at once (the caller goes on), 0 when the
 * rest waits, -1 when the connection was closed.
 */
static int
con_begin_output(struct con *c)
{
	c->opos = 0;
	c->flags |= CF_OUT;
	if (con_stuttering(c)) {
		stut_queue(c, now + conf.stutter);
		con_setev(c, (c->flags & CF_RDHUP) ? 0 : EPOLLRDHUP);
		return 0;
	}
	return con_flush(c);
}

/* All output is out: close, or go on with the dialogue. */
static void
con_written(struct con *c)
{
	c->flags &= ~(CF_OUT | CF_BANNER);
	if (c->flags & CF_CLOSE)
		con_close(c, NULL);
	else if (c->flags & CF_STARTTLS)
		con_tls_start(c);
	else
		con_process(c);
}

/*
 * Run the dialogue on what is buffered, one reply at a time: pipelined
 * commands wait in the buffer (or in the kernel) until the previous
 * reply is out.  Unstuttered replies are written at once, so this loops
 * rather than recursing through con_written().
 */
static void
con_process(struct con *c)
{
	char	 ip[INET6_ADDRSTRLEN];
	int	 r, offered;

	for (;;) {
		if (c->sess == NULL) {
			con_setev(c, EPOLLIN);
			return;
		}
		if (c->bl == NULL && c->tls == NULL && tls_can_offer())
			c->sess->flags |= SMTP_SF_TLSOK;
		else
			c->sess->flags &= ~SMTP_SF_TLSOK;
		offered = c->sess->flags & SMTP_SF_OFFERED;
		if ((r = smtp_next(c->sess, con_ip(c, ip), c->bl)) == -1) {
			log_warn("%s: reply", ip);
			con_close(c, "out of memory");
			return;
		}
		if (!offered && (c->sess->flags & SMTP_SF_OFFERED))
			stats_tls(STLS_OFFERED);
		if (r & SMTP_R_TUPLE)
			grey_send(c);
		if ((r & SMTP_R_WINDOW) && conf.window > 0 &&
		    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &conf.window,
		    sizeof(conf.window)) == -1)
			log_debug("%s: setsockopt SO_RCVBUF %d: %s", ip,
			    conf.window, strerror(errno));
		if (!(r & SMTP_R_REPLY)) {
			/* Decrypted input epoll cannot know of. */
			if (c->tls != NULL && tls_pending(c->tls))
				con_read(c);
			else
				con_setev(c, EPOLLIN);
			return;
		}
		if (r & SMTP_R_CLOSE)
			c->flags |= CF_CLOSE;
		if (r & SMTP_R_STARTTLS)
			c->flags |= CF_STARTTLS;
		if (con_begin_output(c) != 1)
			return;
		c->flags &= ~CF_OUT;
		if (c->flags & CF_CLOSE) {
			con_close(c, NULL);
			return;
		}
		if (c->flags & CF_STARTTLS) {
			con_tls_start(c);
			return;
		}
	}
}

static void
con_read(struct con *c)
{
	uint32_t ev = EPOLLIN;
	ssize_t	 n;

	if (c->sess == NULL && (c->sess = smtp_sess_new(&smtpconf)) == NULL) {
		log_warn("session");
		con_close(c, "out of memory");
		return;
	}
	if (smtp_room(c->sess) == 0) {
		/* Cannot happen: smtp_next() never leaves a full buffer. */
		con_process(c);
		return;
	}
	if (c->tls != NULL)
		n = tls_read(c->tls, c->sess->ibuf + c->sess->ilen,
		    smtp_room(c->sess), &ev);
	else
		n = read(c->fd, c->sess->ibuf + c->sess->ilen,
		    smtp_room(c->sess));
	if (n == 0) {
		con_close(c, "closed by peer");
		return;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR) {
			con_setev(c, ev);
			return;
		}
		con_close(c, strerror(errno));
		return;
	}
	c->sess->ilen += n;
	con_touch(c);
	con_process(c);
}

static void
con_event(struct evsrc *src, uint32_t ev)
{
	struct con	*c = (struct con *)src;

	switch (c->phase) {
	case CP_PROXY:
		proxyin_event(c, ev);
		return;
	case CP_RELAY:
		relay_event(c, ev);
		return;
	case CP_HOLD:
		/* Silent until the verdict: only a hang-up matters. */
		if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
			con_close(c, "hung up while held");
		return;
	}
	if (ev & (EPOLLERR | EPOLLHUP)) {
		con_close(c, (ev & EPOLLERR) ? "connection error" :
		    "hung up");
		return;
	}
	if (c->flags & CF_TLSHS) {
		con_tls_handshake(c);
		return;
	}
	if (c->flags & CF_OUT) {
		if ((ev & EPOLLRDHUP) && !(c->flags & CF_RDHUP)) {
			/*
			 * The peer sent FIN.  It may still read (a half
			 * close), so the reply goes on; if it is gone for
			 * good, the next byte draws a reset and EPOLLERR.
			 * Stop asking, or level triggering would spin.
			 */
			c->flags |= CF_RDHUP;
			if (con_setev(c, c->ev & ~EPOLLRDHUP) == -1)
				return;
		}
		if ((ev & EPOLLOUT) && (c->ev & EPOLLOUT)) {
			if (con_stuttering(c))
				con_byte(c, now);
			else if (con_flush(c) == 1)
				con_written(c);
		}
		return;
	}
	/* EPOLLOUT here: a TLS read that has to write first. */
	if (ev & (EPOLLIN | EPOLLOUT))
		con_read(c);
}

void
con_close(struct con *c, const char *why)
{
	char	 ip[INET6_ADDRSTRLEN];

	con_ip(c, ip);
	if (why != NULL)
		log_debug("%s: %s", ip, why);
	/* Refused before con_begin was through: no line, no stats. */
	if (c->flags & CF_OPEN) {
		log_info("%s: disconnected after %lld seconds.%s%s", ip,
		    (long long)((now - c->start) / 1000),
		    c->bl != NULL ? " lists: " : "",
		    c->bl != NULL && c->bl->tags != NULL ? c->bl->tags : "");
		stats_close(c, now);
	}
	if (c->sess != NULL)
		stats_limit(SL_RCPT, c->sess->rcptover);
	if (c->flags & CF_TLSHS)
		stats_tls(STLS_FAILED);		/* timed out, refused, cut */
	stut_remove(c);
	TAILQ_REMOVE(&idleq, c, idq);
	if (c->flags & CF_LIFEQ)
		TAILQ_REMOVE(&lifeq, c, lfq);
	if (c->flags & CF_SRC)
		(void)srctab_add(srcs, &c->addr, -1);
	if (c->flags & CF_BLACK)
		nblack--;
	nclients--;
	if (c->phase == CP_PROXY)
		proxyin_free(c);
	relay_free(c);
	dnsrep_free(c);
	tls_sess_free(c->tls);
	/* Closing the only reference also takes it out of the epoll set. */
	if (close(c->fd) == -1)
		log_warn("%s: close", ip);
	smtp_sess_free(c->sess);
	engine_free(&c->src);
	/* A free slot and a free descriptor: accept again. */
	paused = 0;
	listen_update();
}

/*
 * The 220 to STARTTLS is out: the handshake runs on the same socket,
 * driven by its events like the rest; bytes the client sent after
 * STARTTLS (smtp_next dropped them) would have broken it anyway.
 */
static void
con_tls_start(struct con *c)
{
	char	 ip[INET6_ADDRSTRLEN];

	c->flags &= ~CF_STARTTLS;
	if ((c->tls = tls_sess_new(c->fd, con_ip(c, ip), c, now)) == NULL) {
		stats_tls(STLS_FAILED);
		con_close(c, "no TLS session");
		return;
	}
	c->flags |= CF_TLSHS;
	con_tls_handshake(c);
}

static void
con_tls_handshake(struct con *c)
{
	uint32_t	 ev;

	switch (tls_handshake(c->tls, &ev)) {
	case 0:
		con_setev(c, ev);
		return;
	case 1:
		c->flags &= ~CF_TLSHS;
		stats_tls(STLS_USED);
		con_touch(c);
		con_process(c);
		return;
	}
	con_close(c, NULL);	/* tls.c said why */
}

static void
run_timers(void)
{
	struct con	*c;

	while ((c = tls_hs_expired(now)) != NULL)
		con_close(c, NULL);
	relay_expire(now);
	proxyin_expire(now);

	while ((c = TAILQ_FIRST(&stutq)) != NULL && c->due <= now) {
		stut_remove(c);
		if (con_stuttering(c))
			con_byte(c, c->due);
		else if (con_flush(c) == 1)
			con_written(c);
	}
	while ((c = TAILQ_FIRST(&idleq)) != NULL &&
	    c->lastio + (int64_t)MAXTIME * 1000 <= now)
		con_close(c, "idle timeout");
	while ((c = TAILQ_FIRST(&lifeq)) != NULL &&
	    c->start + (int64_t)conf.maxsession * 1000 <= now)
		con_expire(c);
	if (paused != 0 && paused <= now) {
		paused = 0;
		listen_update();
	}
	dnsrep_expire(now);
}

/* Milliseconds until the earliest deadline, -1 if there is none. */
static int
next_timeout(void)
{
	struct con	*c;
	int64_t		 t = INT64_MAX;

	if ((c = TAILQ_FIRST(&stutq)) != NULL)
		t = c->due;
	if ((c = TAILQ_FIRST(&idleq)) != NULL &&
	    c->lastio + (int64_t)MAXTIME * 1000 < t)
		t = c->lastio + (int64_t)MAXTIME * 1000;
	if ((c = TAILQ_FIRST(&lifeq)) != NULL &&
	    c->start + (int64_t)conf.maxsession * 1000 < t)
		t = c->start + (int64_t)conf.maxsession * 1000;
	if (paused != 0 && paused < t)
		t = paused;
	if (tls_hs_due() < t)
		t = tls_hs_due();
	if (relay_due() < t)
		t = relay_due();
	if (proxyin_due() < t)
		t = proxyin_due();
	if (dnsrep_due() < t)
		t = dnsrep_due();
	if (t == INT64_MAX)
		return -1;
	if (t <= now)
		return 0;
	return t - now > INT_MAX ? INT_MAX : (int)(t - now);
}

static void
shutdown_engine(void)
{
	struct con	*c;
	int		 i, n = nclients;

	for (i = 0; i < nlsts; i++)
		if (close(lsts[i].fd) == -1)
			log_warn("close listener");
	nlsts = 0;
	/* Quietly: a line per client would flood the log at shutdown. */
	while ((c = TAILQ_FIRST(&idleq)) != NULL) {
		stats_close(c, now);
		stut_remove(c);
		TAILQ_REMOVE(&idleq, c, idq);
		tls_sess_free(c->tls);
		if (close(c->fd) == -1)
			log_warn("close");
		smtp_sess_free(c->sess);
		free(c);
	}
	log_info("exiting on signal %d, %d connections dropped", (int)quit,
	    n);
	stats_tick(gfd, now, 1);	/* the last snapshot */
	if (grey_dropped > 0)
		log_warnx("%lu tuples were dropped because the greylister did "
		    "not keep up", grey_dropped);
	exit(0);
}

void
engine_run(const int *listenfds, int nlisten, int greyfd)
{
	struct epoll_event	 evs[MAXEVENTS];
	struct evsrc		*src;
	sigset_t		 waitmask;
	int			 i, n;

	if (nlisten < 1 || nlisten > MAXLISTEN)
		fatalx("engine: %d listening sockets", nlisten);
	for (nlsts = 0; nlsts < nlisten; nlsts++) {
		lsts[nlsts].src.ev = lst_accept;
		lsts[nlsts].fd = listenfds[nlsts];
	}
	gfd = greyfd;
	now = mono_ms();
	setup_signals(&waitmask);

	setup_nofile();
	/* Sized by maxcon, never by what clients send. */
	srctab_limits(conf.maxsrccon, conf.maxnetcon, "connections",
	    "-L netconn=");
	if ((srcs = srctab_new(conf.maxcon)) == NULL)
		fatal("per-source table");
	setup_smtp();

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	greysrc.ev = grey_event;
	if (gfd != -1 && evsrc_ctl(epfd, EPOLL_CTL_ADD, gfd,
	    EPOLLIN | EPOLLRDHUP, &greysrc) == -1)
		fatal("epoll_ctl greylister");
	syncfwd_init(epfd, conf.sync, conf.synckey, gfd);
	cfgsock_init(epfd, black_saved);
	/* -R: no WHITE host may meet the tarpit for want of the list. */
	if (conf.relay != NULL && gfd != -1)
		paused = now + WHITE_WAIT_MS;
	dnsrep_init(epfd);
	listen_update();
	log_info("listening for incoming connections (maxcon %d, "
	    "stutter %dms, greylisted %ds, per source %d, session %ds)",
	    conf.maxcon, conf.stutter, conf.grey_stutter, conf.maxsrccon,
	    conf.maxsession);

	for (;;) {
		if (quit)
			shutdown_engine();
		if (reload) {
			reload = 0;
			tls_reload();
			trusted_reload(1);
		}
		n = epoll_pwait(epfd, evs, MAXEVENTS,
		    stats_timeout(now, next_timeout()),
		    &waitmask);
		if (n == -1 && errno != EINTR)
			fatal("epoll_pwait");
		now = mono_ms();
		inbatch = 1;
		for (i = 0; i < n; i++) {
			src = evs[i].data.ptr;
			src->ev(src, evs[i].events);
		}
		inbatch = 0;
		while ((src = deadq) != NULL) {
			deadq = src->dead;
			free(src);
		}
		run_timers();
		stats_tick(gfd, now, 0);
	}
}
