/*
 * greyload: greylisted SMTP sessions as fast as a server takes them, for
 * bench/tuplecost; and the ceiling, a server that answers the same
 * dialogue and does nothing else.
 *
 *	greyload client -a addr -p port -c conc -n sessions [-s first]
 *	greyload server -p port
 *
 * client: keeps conc sessions going until sessions have ended, one
 * epoll loop; each connects from a loopback source of its own
 * (127.1.x.y), reads the banner, says HELO, MAIL FROM, RCPT TO with a
 * recipient of its own (a new tuple: s<first + i>@example.net) and DATA,
 * and expects 451 and the server's close.  Prints
 *
 *	greyload: sessions=N greylisted=N failed=N secs=X rate=X
 *
 * server: listens on 127.0.0.1:port and answers that dialogue as spamd
 * does (banner, 250s, 451 at DATA, close), one epoll loop, until killed.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXEVENTS	256
#define LINEMAX		512

/* Client states: the reply awaited, then the command that follows. */
enum cstep { S_BANNER, S_HELO, S_MAIL, S_RCPT, S_DATA, S_CLOSE };

/* Each step's expected reply and the command that follows it. */
static const struct {
	const char	*code;
	const char	*cmd;		/* with the session number */
} steps[] = {
	[S_BANNER] = { "220", "HELO load%u.example.org\r\n" },
	[S_HELO] = { "250", "MAIL FROM:<load%u@example.org>\r\n" },
	[S_MAIL] = { "250", "RCPT TO:<s%u@example.net>\r\n" },
	[S_RCPT] = { "250", "DATA\r\n" },
	[S_DATA] = { "451", NULL },
};

struct sess {
	int		 fd;
	enum cstep	 step;
	unsigned int	 id;
	size_t		 len;
	char		 buf[LINEMAX];
};

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
sendall(int fd, const char *s)
{
	size_t	 len = strlen(s);

	/* Lines this short fit any socket buffer in one write. */
	return write(fd, s, len) == (ssize_t)len ? 0 : -1;
}

/*
 * The last complete line of the reply in buf, if the reply is complete
 * (a line "NNN " ends it), else NULL.
 */
static const char *
reply_done(struct sess *s)
{
	char	*p, *line = s->buf, *eol;

	s->buf[s->len] = '\0';
	while ((eol = strstr(line, "\r\n")) != NULL) {
		if (eol - line >= 4 && line[3] == ' ')
			return line;
		p = eol + 2;
		line = p;
	}
	return NULL;
}

static int
sess_open(struct sess *s, const struct sockaddr_in *dst, unsigned int id,
    int ep)
{
	struct sockaddr_in	 src;
	struct epoll_event	 ev;
	int			 one = 1;

	memset(s, 0, sizeof(*s));
	s->id = id;
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	(void)setsockopt(s->fd, IPPROTO_IP, 24 /* IP_BIND_ADDRESS_NO_PORT */,
	    &one, sizeof(one));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	/* 127.1.0.1 ... : a source per session, no per-source cap hit. */
	src.sin_addr.s_addr = htonl(0x7f010000u | (1 + id % 65000));
	if (bind(s->fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    (connect(s->fd, (const struct sockaddr *)dst, sizeof(*dst)) ==
	    -1 && errno != EINPROGRESS)) {
		close(s->fd);
		return -1;
	}
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = s;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) == -1) {
		close(s->fd);
		return -1;
	}
	s->step = S_BANNER;
	return 0;
}

/* Data arrived: 1 while going, 0 when greylisted and done, -1 failed. */
static int
sess_input(struct sess *s)
{
	const char	*line;
	char		 cmd[128];
	ssize_t		 n;

	if (s->step == S_CLOSE) {
		n = read(s->fd, s->buf, sizeof(s->buf));
		return n == 0 ? 0 : n > 0 ? 1 : errno == EAGAIN ? 1 : -1;
	}
	n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
	if (n == -1 && errno == EAGAIN)
		return 1;
	if (n <= 0)
		return -1;
	s->len += n;
	if ((line = reply_done(s)) == NULL)
		return s->len < sizeof(s->buf) - 1 ? 1 : -1;
	if (s->step > S_DATA || strncmp(line, steps[s->step].code, 3) != 0)
		return -1;
	if (s->step == S_DATA) {
		s->step = S_CLOSE;
		s->len = 0;
		return 1;
	}
	snprintf(cmd, sizeof(cmd), steps[s->step].cmd, s->id);
	s->step++;
	s->len = 0;
	return sendall(s->fd, cmd) == 0 ? 1 : -1;
}

static int
client(int argc, char *argv[])
{
	struct epoll_event	 evs[MAXEVENTS];
	struct sockaddr_in	 dst;
	struct sess		*ss, *s;
	const char		*addr = "127.0.0.1";
	unsigned int		 conc = 50, total = 1000, first = 0, next;
	unsigned int		 done = 0, grey = 0, failed = 0, i;
	double			 t0, secs;
	int			 ch, ep, n, port = 0, r;

	while ((ch = getopt(argc, argv, "a:c:n:p:s:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'c': conc = strtoul(optarg, NULL, 10); break;
		case 'n': total = strtoul(optarg, NULL, 10); break;
		case 'p': port = atoi(optarg); break;
		case 's': first = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (port <= 0 || conc == 0 || total == 0)
		errx(2, "client: -p port, -c and -n above 0");
	if (conc > total)
		conc = total;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1)
		errx(2, "bad address %s", addr);
	nofile();
	if ((ss = calloc(conc, sizeof(*ss))) == NULL)
		err(1, "calloc");
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	t0 = now_s();
	next = 0;
	for (i = 0; i < conc; i++) {
		if (sess_open(&ss[i], &dst, first + next++, ep) == -1) {
			failed++;
			ss[i].fd = -1;
		}
	}
	while (done + failed < total) {
		if ((n = epoll_wait(ep, evs, MAXEVENTS, 10000)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		if (n == 0) {
			warnx("no progress for 10 s");
			break;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			s = evs[i].data.ptr;
			if ((r = sess_input(s)) == 1)
				continue;
			close(s->fd);
			if (r == 0) {
				done++;
				grey++;
			} else
				failed++;
			s->fd = -1;
			while (next < total &&
			    sess_open(s, &dst, first + next++, ep) == -1)
				failed++;
		}
	}
	secs = now_s() - t0;
	printf("greyload: sessions=%u greylisted=%u failed=%u secs=%.3f "
	    "rate=%.1f\n", done + failed, grey, failed, secs,
	    secs > 0 ? grey / secs : 0.0);
	return failed > 0 ? 1 : 0;
}

/* The ceiling: spamd's replies, nothing behind them. */
struct srv {
	int	 fd;
	size_t	 len;
	char	 buf[LINEMAX];
};

static int
srv_input(struct srv *c)
{
	char	*eol, *line;
	ssize_t	 n;
	int	 quit = 0;

	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n == -1 && errno == EAGAIN)
		return 1;
	if (n <= 0)
		return 0;
	c->len += n;
	c->buf[c->len] = '\0';
	line = c->buf;
	while (!quit && (eol = strstr(line, "\r\n")) != NULL) {
		*eol = '\0';
		if (strncasecmp(line, "HELO", 4) == 0 ||
		    strncasecmp(line, "EHLO", 4) == 0)
			quit = sendall(c->fd, "250 Hello, spam sender. Pleased "
			    "to be wasting your time.\r\n");
		else if (strncasecmp(line, "MAIL", 4) == 0)
			quit = sendall(c->fd, "250 You are about to try to "
			    "deliver spam. Your time will be spent, for "
			    "nothing.\r\n");
		else if (strncasecmp(line, "RCPT", 4) == 0)
			quit = sendall(c->fd, "250 This is hurting you more "
			    "than it is hurting me.\r\n");
		else if (strncasecmp(line, "DATA", 4) == 0) {
			(void)sendall(c->fd, "451 Temporary failure, please "
			    "try again later.\r\n");
			quit = 1;
		} else
			quit = sendall(c->fd, "500 5.5.1 Command "
			    "unrecognized\r\n");
		line = eol + 2;
	}
	c->len = strlen(line);
	memmove(c->buf, line, c->len);
	return quit ? 0 : c->len < sizeof(c->buf) - 1;
}

static int
server(int argc, char *argv[])
{
	struct epoll_event	 evs[MAXEVENTS], ev;
	struct sockaddr_in	 sin;
	struct srv		*c;
	char			 banner[256];
	time_t			 t;
	int			 ch, ep, lfd, fd, n, i, port = 0, one = 1;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch != 'p')
			return 2;
		port = atoi(optarg);
	}
	nofile();
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1)
		err(1, "bind/listen 127.0.0.1:%d", port);
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		err(1, "epoll_ctl");
	for (;;) {
		if ((n = epoll_wait(ep, evs, MAXEVENTS, -1)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if ((c = evs[i].data.ptr) != NULL) {
				if (srv_input(c) == 0) {
					close(c->fd);
					free(c);
				}
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL,
			    SOCK_NONBLOCK)) != -1) {
				if ((c = calloc(1, sizeof(*c))) == NULL)
					err(1, "calloc");
				c->fd = fd;
				t = time(NULL);
				snprintf(banner, sizeof(banner), "220 spamd.test "
				    "ESMTP spamd IP-based SPAM blocker; %.24s"
				    "\r\n", ctime(&t));
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				if (sendall(fd, banner) == -1 ||
				    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
					close(fd);
					free(c);
				}
			}
		}
	}
}

int
main(int argc, char *argv[])
{
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return client(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "server") == 0)
		return server(argc - 1, argv + 1);
	fprintf(stderr, "usage: greyload client -p port [-a addr] [-c conc] "
	    "[-n sessions] [-s first]\n       greyload server -p port\n");
	return 2;
}
