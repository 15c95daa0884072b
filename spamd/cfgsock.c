/*
 * The configuration socket: the listeners, one connection at a time and
 * its silence timer.  Two listeners may serve it: the unix socket,
 * whose file is root's alone and whose clients must be root
 * (SO_PEERCRED), and with -P only OpenBSD's 127.0.0.1:8026, whose
 * clients must come from a privileged port.  What is read goes to the streaming parser
 * (cfgparse.c), which keeps nothing beyond one field, so the buffer
 * stays at CFG_BUFSIZE however large the lists.
 *
 * Work is bounded per wake-up (CFG_READS reads) so that a large update
 * does not stall the tarpit: epoll reports the socket again next turn.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blacklist.h"
#include "blfile.h"
#include "cfgparse.h"
#include "cfgsock.h"
#include "evsrc.h"
#include "log.h"

#define CFG_BUFSIZE	65536	/* unparsed input */
#define CFG_TIMEOUT	30	/* seconds of silence before giving up */
#define CFG_READS	16	/* reads per wake-up */
#define CFG_PAUSE	1	/* seconds without accepts after ENFILE etc. */
#define CFG_NAG		10	/* seconds between "refused" log lines */

/* One of our descriptors in the engine's epoll set. */
struct cfgfd {
	struct evsrc	 src;	/* first: the epoll data */
	int		 fd;
};

static int	listen_tcp(int, char *, size_t);
static int	listen_unix(const char *, char *, size_t);
static void	lst_set(struct cfgfd *, int);
static void	lst_want(int);
static void	arm(int);
static int	peer_tcp(const struct sockaddr_in *, socklen_t);
static int	peer_unix(int);
static int	refused(void);
static void	conn_accept(struct evsrc *, uint32_t);
static void	conn_event(struct evsrc *, uint32_t);
static void	timer_event(struct evsrc *, uint32_t);
static void	conn_read(void);
static void	conn_close(const char *);

static unsigned	 nrefused;	/* clients refused so far */

static struct {
	int		 epfd;
	struct cfgfd	 tcpl;		/* TCP listener, -1 if none */
	struct cfgfd	 unixl;		/* unix listener, -1 if none */
	struct cfgfd	 conn;		/* the connection, -1 if none */
	struct cfgfd	 timer;		/* timerfd: its deadline */
	int		 lreg;		/* the listeners are in the epoll set */
	int		 paused;	/* accepts failed: wait for the timer */
	char		 peer[INET6_ADDRSTRLEN + 32];	/* for the log */
	size_t		 off;		/* parsed up to here */
	size_t		 len;		/* bytes in buf */
	int		 eof;
	struct cfgparse	 p;
	char		 buf[CFG_BUFSIZE];
	void		(*saved)(void);	/* new lists are on disk */
} cs = {
	.tcpl = { { conn_accept }, -1 },
	.unixl = { { conn_accept }, -1 },
	.conn = { { conn_event }, -1 },
	.timer = { { timer_event }, -1 },
};

/* 127.0.0.1:port, or -1 with the reason in errbuf. */
static int
listen_tcp(int port, char *errbuf, size_t errlen)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1;
	FILE			*fp;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(errbuf, errlen, "configuration socket: socket: %s",
		    strerror(errno));
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1) {
		snprintf(errbuf, errlen, "configuration port 127.0.0.1:%d: "
		    "%s%s", port, strerror(errno), errno == EADDRINUSE ?
		    " (another spamd, or a squatter; -P 0 turns the TCP "
		    "configuration socket off)" : "");
		close(fd);
		return -1;
	}
	/* Its one credential is void where users may bind low ports. */
	if ((fp = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    "re")) != NULL) {
		if (fscanf(fp, "%d", &one) == 1 && one < 1024)
			log_warnx("configuration port 127.0.0.1:%d: "
			    "ip_unprivileged_port_start is %d, so any user "
			    "may load lists there: use the unix socket (-P 0)",
			    port, one);
		fclose(fp);
	}
	return fd;
}

/*
 * The socket's directory, without symbolic links, into sun_path with
 * the socket's name, if nobody but us (or root) can change what is
 * there: every directory on the way ours or root's, the last one
 * writable by its owner alone, the others also sticky if writable by
 * others (as /tmp).  Otherwise anybody could plant a listener there
 * first, or swap a directory for a link to elsewhere (NEW-I1).
 */
static int
unix_path(const char *path, struct sockaddr_un *sun, char *errbuf,
    size_t errlen)
{
	char		 dir[PATH_MAX], real[PATH_MAX], cur[PATH_MAX], *slash;
	const char	*base, *p;
	struct stat	 st;
	size_t		 n;
	uid_t		 me = geteuid();
	int		 last;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		goto err;
	}
	if ((slash = strrchr(dir, '/')) == NULL) {
		base = path;
		strlcpy(dir, ".", sizeof(dir));
	} else {
		base = path + (slash - dir) + 1;
		*slash = '\0';
		if (dir[0] == '\0')
			strlcpy(dir, "/", sizeof(dir));
	}
	if (*base == '\0' || realpath(dir, real) == NULL) {
		if (*base == '\0')
			errno = EISDIR;
		goto err;
	}
	/* "/", then each longer prefix of real, down to real itself. */
	strlcpy(cur, "/", sizeof(cur));
	for (p = real;;) {
		if (stat(cur, &st) == -1)
			goto err;
		last = strcmp(cur, real) == 0;
		if ((st.st_uid != 0 && st.st_uid != me) ||
		    ((st.st_mode & 022) && (last || !(st.st_mode & S_ISVTX)))) {
			snprintf(errbuf, errlen, "configuration socket %s: %s "
			    "is not %s: anybody could take or move the path "
			    "(/run is safe)", path, cur, st.st_uid != 0 &&
			    st.st_uid != me ? "root's" :
			    "writable by its owner alone");
			return -1;
		}
		if (last)
			break;
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (strcmp(cur, "/") != 0)
			strlcat(cur, "/", sizeof(cur));
		if (strlen(cur) + n >= sizeof(cur)) {
			errno = ENAMETOOLONG;
			goto err;
		}
		strncat(cur, p, n);
		p += n;
	}
	n = strlen(real);
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s%s%s",
	    real, n > 1 ? "/" : "", base) >= sizeof(sun->sun_path)) {
		snprintf(errbuf, errlen, "configuration socket %s: longer "
		    "than %zu bytes", path, sizeof(sun->sun_path) - 1);
		return -1;
	}
	return 0;
 err:
	snprintf(errbuf, errlen, "configuration socket %s: its directory: %s",
	    path, strerror(errno));
	return -1;
}

/*
 * The unix socket, mode 0600.  A file left by a dead spamd (nobody
 * answers) is replaced; one that answers belongs to a running spamd.
 * Anything but a socket is left alone.  The path is used as unix_path
 * resolved it, so that no link changed later moves it.
 */
static int
listen_unix(const char *path, char *errbuf, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd, r;

	if (unix_path(path, &sun, errbuf, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(errbuf, errlen, "configuration socket %s: socket: "
		    "%s", path, strerror(errno));
		return -1;
	}
	if (lstat(sun.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(errbuf, errlen, "configuration socket %s: "
			    "exists and is not a socket", path);
			goto fail;
		}
		/* Non-blocking: a live listener accepts or is busy. */
		r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		if (r == 0 || errno == EAGAIN || errno == EINPROGRESS) {
			snprintf(errbuf, errlen, "configuration socket %s: "
			    "in use by a running spamd (-U chooses another "
			    "path)", path);
			goto fail;
		}
		if (errno != ECONNREFUSED) {
			snprintf(errbuf, errlen, "configuration socket %s: "
			    "connect: %s", path, strerror(errno));
			goto fail;
		}
		close(fd);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			snprintf(errbuf, errlen, "configuration socket %s: "
			    "socket: %s", path, strerror(errno));
			return -1;
		}
		log_info("configuration socket %s: replacing the file of a "
		    "spamd no longer running", path);
		if (unlink(sun.sun_path) == -1 && errno != ENOENT) {
			snprintf(errbuf, errlen, "configuration socket %s: "
			    "unlink: %s", path, strerror(errno));
			goto fail;
		}
	} else if (errno != ENOENT) {
		snprintf(errbuf, errlen, "configuration socket %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	/* Born 0600: no window in which others may connect. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1 || listen(fd, 8) == -1) {
		snprintf(errbuf, errlen, "configuration socket %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	return fd;
 fail:
	close(fd);
	return -1;
}

int
cfgsock_listen(const char *path, int port, char *errbuf, size_t errlen)
{
	if (path != NULL &&
	    (cs.unixl.fd = listen_unix(path, errbuf, errlen)) == -1)
		return -1;
	if (port != 0 &&
	    (cs.tcpl.fd = listen_tcp(port, errbuf, errlen)) == -1) {
		cfgsock_close();
		return -1;
	}
	return 0;
}

void
cfgsock_close(void)
{
	if (cs.tcpl.fd != -1 && close(cs.tcpl.fd) == -1)
		log_warn("close configuration listener");
	if (cs.unixl.fd != -1 && close(cs.unixl.fd) == -1)
		log_warn("close configuration listener");
	cs.tcpl.fd = cs.unixl.fd = -1;
}

void
cfgsock_init(int epfd, void (*saved)(void))
{
	cs.epfd = epfd;
	cs.saved = saved;
	/* What the last run was given is loaded before the chroot. */
	cfgparse_init(&cs.p);
	if (cs.tcpl.fd == -1 && cs.unixl.fd == -1)
		return;
	if ((cs.timer.fd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC)) == -1)
		fatal("timerfd_create");
	if (evsrc_ctl(epfd, EPOLL_CTL_ADD, cs.timer.fd, EPOLLIN,
	    &cs.timer.src) == -1)
		fatal("epoll_ctl config timer");
	lst_want(1);
}

static void
conn_event(struct evsrc *src, uint32_t ev)
{
	(void)src;
	(void)ev;
	if (cs.conn.fd != -1)
		conn_read();
}

static void
timer_event(struct evsrc *src, uint32_t ev)
{
	uint64_t	 ticks;

	(void)src;
	(void)ev;
	if (read(cs.timer.fd, &ticks, sizeof(ticks)) == -1 &&
	    errno != EAGAIN)
		log_warn("config timer");
	if (cs.conn.fd != -1)
		conn_close("timed out");
	else if (cs.paused) {
		cs.paused = 0;
		lst_want(1);
	}
}

static void
lst_set(struct cfgfd *l, int op)
{
	if (l->fd == -1)
		return;
	if (evsrc_ctl(cs.epfd, op, l->fd, EPOLLIN, &l->src) == -1)
		fatal("epoll_ctl config listener");
}

/* One client at a time: the listeners are polled only while idle. */
static void
lst_want(int want)
{
	int	 op = want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL;

	if (want == cs.lreg)
		return;
	lst_set(&cs.tcpl, op);
	lst_set(&cs.unixl, op);
	cs.lreg = want;
}

/* (Re)start the silence deadline; 0 disarms. */
static void
arm(int secs)
{
	struct itimerspec	 it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = secs;
	if (timerfd_settime(cs.timer.fd, 0, &it, NULL) == -1)
		fatal("timerfd_settime");
}

/*
 * Count a refused client, and whether to log it: anybody may knock, so
 * one line per CFG_NAG seconds.
 */
static int
refused(void)
{
	static time_t	 lastnag;

	nrefused++;
	return log_nag(&lastnag, CFG_NAG);
}

/* TCP: the only credential is a source port only root may bind. */
static int
peer_tcp(const struct sockaddr_in *sin, socklen_t len)
{
	char	 ip[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)) == NULL)
		strlcpy(ip, "?", sizeof(ip));
	if (len != sizeof(*sin) || sin->sin_family != AF_INET ||
	    ntohs(sin->sin_port) >= 1024) {
		if (refused())
			log_warnx("config connection from %s port %u "
			    "refused: not from a privileged port (spamd-setup "
			    "must run as root); %u refused so far", ip,
			    ntohs(sin->sin_port), nrefused);
		return -1;
	}
	snprintf(cs.peer, sizeof(cs.peer), "%s:%u", ip, ntohs(sin->sin_port));
	return 0;
}

/*
 * Unix: the file is root's, mode 0600, but a mode can be changed; the
 * kernel's word on who connected cannot.
 */
static int
peer_unix(int fd)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1) {
		log_warn("config connection: SO_PEERCRED");
		return -1;
	}
	if (uc.uid != 0) {
		if (refused())
			log_warnx("config connection from pid %ld uid %lu "
			    "refused: not root; %u refused so far",
			    (long)uc.pid, (unsigned long)uc.uid, nrefused);
		return -1;
	}
	snprintf(cs.peer, sizeof(cs.peer), "pid %ld", (long)uc.pid);
	return 0;
}

static void
conn_accept(struct evsrc *src, uint32_t ev)
{
	const struct cfgfd	*l = (struct cfgfd *)src;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, ok;

	(void)ev;
	/*
	 * Both listeners were ready in one wake-up and the other one's
	 * client is being served: this one waits in the kernel's queue
	 * until lst_want(1).
	 */
	if (cs.conn.fd != -1)
		return;
	memset(&sin, 0, sizeof(sin));
	if ((fd = accept4(l->fd, (struct sockaddr *)&sin, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno == EAGAIN || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		/*
		 * Out of descriptors or memory: the listener stays readable,
		 * so stop polling it for a while rather than spin.
		 */
		log_warn("config accept: pausing %d s", CFG_PAUSE);
		lst_want(0);
		cs.paused = 1;
		arm(CFG_PAUSE);
		return;
	}
	ok = l == &cs.unixl ? peer_unix(fd) : peer_tcp(&sin, len);
	if (ok == -1) {
		close(fd);
		return;
	}
	if (evsrc_ctl(cs.epfd, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP,
	    &cs.conn.src) == -1) {
		log_warn("epoll_ctl config connection");
		close(fd);
		return;
	}
	cs.conn.fd = fd;
	cs.off = cs.len = 0;
	cs.eof = 0;
	cfgparse_init(&cs.p);
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
		n = read(cs.conn.fd, cs.buf + cs.len, sizeof(cs.buf) - cs.len);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(strerror(errno));
			return;
		}
		if (n == 0)
			cs.eof = 1;
		cs.len += n;
		cs.off += cfgparse_feed(&cs.p, cs.buf + cs.off,
		    cs.len - cs.off);
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

	if (why == NULL)
		cfgparse_end(&cs.p, cs.len - cs.off);
	else
		log_warnx("config connection from %s: %s; line %lu dropped",
		    cs.peer, why, cs.p.line);
	if (cs.p.refused > CFG_LOGMAX)
		log_warnx("config connection from %s: %u more lines refused",
		    cs.peer, cs.p.refused - CFG_LOGMAX);
	log_info("configuration from %s: %u lists applied, %u lines refused, "
	    "%zu lists loaded", cs.peer, cs.p.applied, cs.p.refused,
	    bl_nlists());
	/* On disk before the answer: "applied" means kept across restarts. */
	if (cs.p.applied > 0 || cs.p.removed > 0) {
		blfile_save();
		cs.saved();
	}
	if (why == NULL) {
		/* A short line into an idle socket: it cannot block. */
		n = snprintf(ans, sizeof(ans), "applied %u refused %u\n",
		    cs.p.applied, cs.p.refused);
		if (send(cs.conn.fd, ans, n, MSG_NOSIGNAL | MSG_DONTWAIT) ==
		    -1)
			log_debug("config answer: %s", strerror(errno));
	}
	if (close(cs.conn.fd) == -1)
		log_warn("close config connection");
	cs.conn.fd = -1;
	cfgparse_clear(&cs.p);
	arm(0);
	lst_want(1);
}

