/*
 * The configuration socket: a streaming parser of OpenBSD's list lines
 * (see cfgsock.h).  Nothing is buffered beyond one field: a list's
 * ranges go straight into a staging list as they arrive, and a line is
 * installed (blacklist.c) when its newline arrives, so the socket's
 * buffer stays at CFG_BUFSIZE however large the lists.  A malformed line
 * is refused, logged and skipped; the lines around it still count.
 *
 * Work is bounded per wake-up (CFG_READS reads) so that a large update
 * does not stall the tarpit: epoll reports the socket again next turn.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blacklist.h"
#include "cfgsock.h"
#include "log.h"

#define CFG_BUFSIZE	65536	/* unparsed input */
#define CFG_TOKMAX	128	/* a tag, a family, a count or an address */
#define CFG_TIMEOUT	30	/* seconds of silence before giving up */
#define CFG_READS	16	/* reads per wake-up */
#define CFG_LOGMAX	10	/* refused lines logged per connection */

enum pstate {
	PS_TAG,		/* a line's first field */
	PS_MSG,		/* after "tag;": '"', or the newline */
	PS_AFTERMSG,	/* after the closing quote: ';' or newline */
	PS_AF,		/* "inet", "inet6", or the end */
	PS_COUNT,	/* how many addresses follow */
	PS_ADDR,	/* address/bits */
	PS_ONLY,	/* the tags of "!only" */
	PS_SKIP		/* a refused line, up to its newline */
};

static struct {
	int		 epfd;
	int		 lfd;
	int		 cfd;		/* the connection, -1 if none */
	int		 tfd;		/* timerfd: its deadline */
	int		 lreg;		/* lfd is in the epoll set */
	char		 peer[INET6_ADDRSTRLEN + 8];
	size_t		 off;		/* parsed up to here */
	size_t		 len;		/* bytes in buf */
	enum pstate	 st;
	unsigned long	 line;
	unsigned long	 left;		/* addresses still announced */
	unsigned long	 count;		/* ... out of */
	int		 af;
	int		 seen;		/* families given: 1 v4, 2 v6 */
	int		 eof;
	unsigned	 applied;
	unsigned	 refused;
	struct bl_stage	 stage;
	char		*only[BL_MAXLISTS];
	size_t		 nonly;
	char		 tag[BL_TAGMAX + 1];
	char		 msg[BL_MSGMAX + 1];
	char		 buf[CFG_BUFSIZE];
} cs = { .lfd = -1, .cfd = -1, .tfd = -1 };

static void	lst_want(int);
static void	arm(int);
static void	conn_accept(void);
static void	conn_read(void);
static void	conn_close(const char *);
static void	line_reset(void);
static void	refuse(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	finish(void);
static void	only_apply(void);
static int	token(const char *, size_t, int);
static void	parse(void);

int
cfgsock_listen(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1;

	if (cs.lfd != -1)
		return cs.lfd;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	cs.lfd = fd;
	return fd;
}

void
cfgsock_close(void)
{
	if (cs.lfd != -1 && close(cs.lfd) == -1)
		log_warn("close configuration listener");
	cs.lfd = -1;
}

void
cfgsock_init(int epfd)
{
	struct epoll_event	 ev;

	cs.epfd = epfd;
	bl_stage_init(&cs.stage);
	if (cs.lfd == -1 && cfgsock_listen(SPAMD_CFG_PORT) == -1) {
		/* Another spamd may hold it; greylisting works without. */
		log_warn("configuration socket 127.0.0.1:%d: no blacklists "
		    "can be loaded", SPAMD_CFG_PORT);
		return;
	}
	if ((cs.tfd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC)) == -1)
		fatal("timerfd_create");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &cs.tfd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, cs.tfd, &ev) == -1)
		fatal("epoll_ctl config timer");
	lst_want(1);
}

int
cfgsock_owns(const void *p)
{
	return p == &cs.lfd || p == &cs.cfd || p == &cs.tfd;
}

void
cfgsock_event(void *p, uint32_t ev)
{
	uint64_t	 ticks;

	if (p == &cs.lfd)
		conn_accept();
	else if (p == &cs.cfd) {
		if (cs.cfd != -1)
			conn_read();
	} else if (p == &cs.tfd) {
		if (read(cs.tfd, &ticks, sizeof(ticks)) == -1 &&
		    errno != EAGAIN)
			log_warn("config timer");
		if (cs.cfd != -1)
			conn_close("timed out");
	}
	(void)ev;
}

/* One client at a time: the listener is polled only while idle. */
static void
lst_want(int want)
{
	struct epoll_event	 ev;

	if (want == cs.lreg || cs.lfd == -1)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &cs.lfd;
	if (epoll_ctl(cs.epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, cs.lfd,
	    &ev) == -1)
		fatal("epoll_ctl config listener");
	cs.lreg = want;
}

/* (Re)start the silence deadline; 0 disarms. */
static void
arm(int secs)
{
	struct itimerspec	 it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = secs;
	if (timerfd_settime(cs.tfd, 0, &it, NULL) == -1)
		fatal("timerfd_settime");
}

static void
conn_accept(void)
{
	struct sockaddr_in	 sin;
	struct epoll_event	 ev;
	socklen_t		 len = sizeof(sin);
	char			 ip[INET_ADDRSTRLEN];
	int			 fd;

	if ((fd = accept4(cs.lfd, (struct sockaddr *)&sin, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("config accept");
		return;
	}
	if (inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip)) == NULL)
		strlcpy(ip, "?", sizeof(ip));
	/* The only credential: binding a port below 1024 takes root. */
	if (len != sizeof(sin) || sin.sin_family != AF_INET ||
	    ntohs(sin.sin_port) >= 1024) {
		log_warnx("config connection from %s port %u refused: not "
		    "from a privileged port (spamd-setup must run as root)",
		    ip, ntohs(sin.sin_port));
		close(fd);
		return;
	}
	snprintf(cs.peer, sizeof(cs.peer), "%s:%u", ip, ntohs(sin.sin_port));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = &cs.cfd;
	if (epoll_ctl(cs.epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_warn("epoll_ctl config connection");
		close(fd);
		return;
	}
	cs.cfd = fd;
	cs.off = cs.len = 0;
	cs.line = 1;
	cs.eof = 0;
	cs.applied = cs.refused = 0;
	line_reset();
	lst_want(0);
	arm(CFG_TIMEOUT);
	log_debug("config connection from %s", cs.peer);
}

static void
conn_read(void)
{
	ssize_t	 n;
	int	 i;

	for (i = 0; i < CFG_READS; i++) {
		if (cs.off > 0) {
			memmove(cs.buf, cs.buf + cs.off, cs.len - cs.off);
			cs.len -= cs.off;
			cs.off = 0;
		}
		n = read(cs.cfd, cs.buf + cs.len, sizeof(cs.buf) - cs.len);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(strerror(errno));
			return;
		}
		if (n == 0)
			cs.eof = 1;
		cs.len += n;
		parse();
		if (cs.eof) {
			conn_close(NULL);
			return;
		}
	}
	arm(CFG_TIMEOUT);
}

/*
 * End the connection.  why == NULL: the client finished its side; what
 * it sent is judged, and the answer written.  Otherwise the line being
 * received is dropped.
 */
static void
conn_close(const char *why)
{
	char	 ans[64];
	int	 n;
	size_t	 i;

	/* A refused line (PS_SKIP) has been counted already. */
	if (why == NULL && cs.st != PS_SKIP &&
	    (cs.st != PS_TAG || cs.off < cs.len))
		refuse(0, "no newline at the end");
	if (why != NULL)
		log_warnx("config connection from %s: %s; line %lu dropped",
		    cs.peer, why, cs.line);
	if (cs.refused > CFG_LOGMAX)
		log_warnx("config connection from %s: %u more lines refused",
		    cs.peer, cs.refused - CFG_LOGMAX);
	log_info("configuration from %s: %u lists applied, %u lines refused, "
	    "%zu lists loaded", cs.peer, cs.applied, cs.refused, bl_nlists());
	if (why == NULL) {
		/* A short line into an idle socket: it cannot block. */
		n = snprintf(ans, sizeof(ans), "applied %u refused %u\n",
		    cs.applied, cs.refused);
		if (send(cs.cfd, ans, n, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
			log_debug("config answer: %s", strerror(errno));
	}
	if (close(cs.cfd) == -1)
		log_warn("close config connection");
	cs.cfd = -1;
	line_reset();
	for (i = 0; i < cs.nonly; i++)
		free(cs.only[i]);
	cs.nonly = 0;
	arm(0);
	lst_want(1);
}

static void
line_reset(void)
{
	bl_stage_free(&cs.stage);
	bl_stage_init(&cs.stage);
	cs.st = PS_TAG;
	cs.tag[0] = cs.msg[0] = '\0';
	cs.seen = 0;
	cs.left = cs.count = 0;
}

/*
 * Refuse the current line.  atnl: its newline has been read already;
 * otherwise the rest of it is skipped.
 */
static void
refuse(int atnl, const char *fmt, ...)
{
	char	 why[256];
	va_list	 ap;
	size_t	 i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (++cs.refused <= CFG_LOGMAX)
		log_warnx("config line %lu%s%s refused: %s", cs.line,
		    cs.tag[0] != '\0' ? " for list " : "", cs.tag, why);
	for (i = 0; i < cs.nonly; i++)
		free(cs.only[i]);
	cs.nonly = 0;
	line_reset();
	if (atnl)
		cs.line++;
	else
		cs.st = PS_SKIP;
}

/* A complete list line: make it the list. */
static void
finish(void)
{
	size_t	 n4 = cs.stage.v4.n, n6 = cs.stage.v6.n;

	if (bl_install(cs.tag, cs.msg, BL_CONFIG, &cs.stage) == -1) {
		refuse(1, "%s", errno == E2BIG ? "more addresses than the "
		    "limit" : errno == ENOSPC ? "too many lists" :
		    strerror(errno));
		return;
	}
	bl_stage_init(&cs.stage);
	cs.applied++;
	log_info("blacklist %s: %zu IPv4 and %zu IPv6 entries", cs.tag, n4,
	    n6);
	line_reset();
	cs.line++;
}

static void
only_apply(void)
{
	size_t	 i, gone;

	gone = bl_keep_only(cs.only, cs.nonly);
	log_debug("config: %zu lists named, %zu removed", cs.nonly, gone);
	for (i = 0; i < cs.nonly; i++)
		free(cs.only[i]);
	cs.nonly = 0;
	line_reset();
	cs.line++;
}

/*
 * One field t[0..n) ended by sep (';' or '\n').  Returns -1 if the line
 * was refused (and the field's newline, if any, dealt with).
 */
static int
token(const char *t, size_t n, int sep)
{
	struct cidr_range	 r;
	char			 tmp[CFG_TOKMAX + 1], err[128];
	unsigned long		 v;
	size_t			 i;
	int			 af, nl = sep == '\n';

	memcpy(tmp, t, n);
	tmp[n] = '\0';
	switch (cs.st) {
	case PS_TAG:
		if (n == 0 && nl) {
			cs.line++;		/* an empty line */
			return 0;
		}
		if (strcmp(tmp, "!only") == 0) {
			cs.st = PS_ONLY;
			if (nl)
				only_apply();
			return 0;
		}
		if (tmp[0] == '!') {
			refuse(nl, "unknown directive \"%.64s\"", tmp);
			return -1;
		}
		if (!bl_tag_ok(tmp, n)) {
			refuse(nl, "bad tag \"%.64s\"", tmp);
			return -1;
		}
		strlcpy(cs.tag, tmp, sizeof(cs.tag));
		if (nl) {
			refuse(nl, "no ';' after the tag");
			return -1;
		}
		cs.st = PS_MSG;
		return 0;
	case PS_ONLY:
		if (n > 0) {
			if (!bl_tag_ok(tmp, n) || cs.nonly == BL_MAXLISTS) {
				refuse(nl, "!only: bad tag \"%.64s\" or more "
				    "than %d", tmp, BL_MAXLISTS);
				return -1;
			}
			if ((cs.only[cs.nonly] = strdup(tmp)) == NULL) {
				refuse(nl, "%s", strerror(errno));
				return -1;
			}
			cs.nonly++;
		}
		if (nl)
			only_apply();
		return 0;
	case PS_AF:
		if (n == 0 && nl) {
			finish();		/* a trailing ';' */
			return 0;
		}
		if (strcmp(tmp, "inet") == 0)
			af = AF_INET;
		else if (strcmp(tmp, "inet6") == 0)
			af = AF_INET6;
		else {
			refuse(nl, "expected inet or inet6, not \"%.32s\"",
			    tmp);
			return -1;
		}
		if (cs.seen & (af == AF_INET ? 1 : 2)) {
			refuse(nl, "duplicate %s", tmp);
			return -1;
		}
		if (nl) {
			refuse(nl, "no count after %s", tmp);
			return -1;
		}
		cs.seen |= af == AF_INET ? 1 : 2;
		cs.af = af;
		cs.st = PS_COUNT;
		return 0;
	case PS_COUNT:
		for (v = 0, i = 0; i < n && tmp[i] >= '0' && tmp[i] <= '9' &&
		    v <= BL_MAXRANGES; i++)
			v = v * 10 + (tmp[i] - '0');
		if (n == 0 || i != n || v > BL_MAXRANGES) {
			refuse(nl, "bad count \"%.32s\"", tmp);
			return -1;
		}
		cs.count = cs.left = v;
		if (v == 0) {
			cs.st = PS_AF;
			if (nl)
				finish();
			return 0;
		}
		if (nl) {
			refuse(nl, "%lu addresses announced, none given", v);
			return -1;
		}
		cs.st = PS_ADDR;
		return 0;
	case PS_ADDR:
		if (cidr_parse(tmp, &af, &r, err, sizeof(err)) == -1) {
			refuse(nl, "%s", err);
			return -1;
		}
		if (af != cs.af) {
			refuse(nl, "%s in the %s section", tmp,
			    cs.af == AF_INET ? "inet" : "inet6");
			return -1;
		}
		if (bl_stage_add(&cs.stage, af, &r) == -1) {
			refuse(nl, "more than %lu addresses",
			    (unsigned long)BL_MAXRANGES);
			return -1;
		}
		if (--cs.left == 0) {
			cs.st = PS_AF;
			if (nl)
				finish();
			return 0;
		}
		if (nl) {
			refuse(nl, "%lu addresses announced, %lu given",
			    cs.count, cs.count - cs.left);
			return -1;
		}
		return 0;
	default:
		break;
	}
	refuse(nl, "internal error: state %d", cs.st);
	return -1;
}

/* Consume what can be consumed of buf[off..len). */
static void
parse(void)
{
	const char	*p, *q, *nl;
	size_t		 avail, i, lim;

	for (;;) {
		p = cs.buf + cs.off;
		avail = cs.len - cs.off;
		if (avail == 0)
			return;
		switch (cs.st) {
		case PS_SKIP:
			if ((nl = memchr(p, '\n', avail)) == NULL) {
				cs.off = cs.len;
				return;
			}
			cs.off += nl - p + 1;
			cs.st = PS_TAG;
			cs.line++;
			continue;
		case PS_MSG:
			if (*p == '\n') {
				cs.off++;
				finish();	/* "tag;": emptied */
				continue;
			}
			if (*p != '"') {
				refuse(0, "the message must be in double "
				    "quotes");
				continue;
			}
			/* Up to the closing quote; \" and \\ are escapes. */
			for (i = 1; i < avail; i++) {
				if (p[i] == '\\' && i + 1 < avail &&
				    (unsigned char)p[i + 1] >= ' ' &&
				    p[i + 1] != 0x7f) {
					i++;
					continue;
				}
				if (p[i] == '"' || p[i] == '\n' ||
				    (unsigned char)p[i] < ' ' || p[i] == 0x7f)
					break;
			}
			if (i - 1 > BL_MSGMAX) {
				refuse(0, "message longer than %d bytes",
				    BL_MSGMAX);
				continue;
			}
			if (i == avail)
				return;	/* more to come, or judged at close */
			if (p[i] != '"') {
				refuse(p[i] == '\n', "control character in "
				    "the message");
				if (p[i] == '\n')
					cs.off += i + 1;
				continue;
			}
			memcpy(cs.msg, p + 1, i - 1);
			cs.msg[i - 1] = '\0';
			cs.off += i + 1;
			cs.st = PS_AFTERMSG;
			continue;
		case PS_AFTERMSG:
			cs.off++;
			if (*p == ';')
				cs.st = PS_AF;
			else if (*p == '\n')
				finish();
			else
				refuse(0, "junk after the message");
			continue;
		default:
			break;
		}
		/* A short field up to ';' or the newline. */
		lim = avail < CFG_TOKMAX + 1 ? avail : CFG_TOKMAX + 1;
		for (q = p; q < p + lim && *q != ';' && *q != '\n'; q++)
			;
		if (q == p + lim) {
			if (lim > CFG_TOKMAX) {
				refuse(0, "field longer than %d bytes",
				    CFG_TOKMAX);
				continue;
			}
			return;
		}
		cs.off += q - p + 1;
		token(p, q - p, *q);
	}
}
