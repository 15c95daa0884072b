/*
 * relayload: the load and the stand-in MTA of bench/relay.
 *
 *	relayload sink PORT discard|smtp
 *		An MTA on 127.0.0.1:PORT, one epoll loop.  A PROXY v2 header
 *		(from spamd -R) is skipped; a direct client sends none.
 *		discard: reads until the client's FIN, then writes the byte
 *		count and closes.  smtp: "220 sink" at once, "221 bye" and
 *		close when the client's QUIT comes.
 *	relayload stream HOST PORT SRC BYTES
 *		One connection from SRC: BYTES written, FIN, the sink's count
 *		read back.  Prints "stream BYTES SECONDS MBPS".
 *	relayload sessions HOST PORT SRCS C SECONDS
 *		C sessions at a time, each from the next of SRCS
 *		(a.b.c.d-e): banner, QUIT, 221, close.  Prints "sessions N
 *		SECONDS PER_SECOND".
 *	relayload hold HOST PORT SRCS N
 *		N connections that each wait for the banner and then idle.
 *		Prints "held N" when no more come and stays until killed.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const uint8_t pp2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static double
now(void)
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

/* The sink's per-connection state, indexed by fd. */
struct sc {
	uint64_t	 n;		/* bytes counted */
	uint16_t	 skip;		/* header bytes still to skip */
	uint8_t		 hdr;		/* header bytes looked at so far */
	uint8_t		 open;
	uint8_t		 hbuf[16];
	char		 tail[8];	/* smtp: the last bytes, for QUIT */
};

static int
sink(int port, int smtp)
{
	static char		 buf[1 << 20];
	struct sockaddr_in	 sin;
	struct epoll_event	 e, evs[256];
	struct sc		*s;
	int			 lfd, ep, fd, i, n, one = 1;
	size_t			 maxfd = 65536, off, k;
	ssize_t			 r;

	if ((s = calloc(maxfd, sizeof(*s))) == NULL)
		err(1, "calloc");
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1)
		err(1, "sink: listen on port %d", port);
	ep = epoll_create1(0);
	e.events = EPOLLIN;
	e.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					if ((size_t)fd >= maxfd) {
						close(fd);
						continue;
					}
					memset(&s[fd], 0, sizeof(s[fd]));
					s[fd].open = 1;
					e.events = EPOLLIN;
					e.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
					if (smtp)
						(void)write(fd, "220 sink\r\n",
						    10);
				}
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r == -1 && errno == EAGAIN)
				continue;
			if (r <= 0) {
				if (!smtp && r == 0) {
					char	 msg[32];
					int	 m = snprintf(msg, sizeof(msg),
					    "%llu\r\n",
					    (unsigned long long)s[fd].n);
					(void)write(fd, msg, m);
				}
				close(fd);
				s[fd].open = 0;
				continue;
			}
			off = 0;
			/*
			 * A PROXY v2 header: 16 bytes, then its length; the
			 * first byte off the signature says there is none.
			 */
			while (s[fd].hdr < 16 && off < (size_t)r) {
				s[fd].hbuf[s[fd].hdr] = buf[off++];
				if (s[fd].hdr < 12 &&
				    s[fd].hbuf[s[fd].hdr] != pp2sig[s[fd].hdr]) {
					s[fd].n += s[fd].hdr + 1;
					s[fd].hdr = 255;
					break;
				}
				if (++s[fd].hdr == 16)
					s[fd].skip = (s[fd].hbuf[14] << 8) |
					    s[fd].hbuf[15];
			}
			if (s[fd].hdr < 16)
				continue;
			k = (size_t)r - off;
			if (s[fd].skip > 0) {
				size_t sk = s[fd].skip < k ? s[fd].skip : k;

				s[fd].skip -= sk;
				off += sk;
				k -= sk;
			}
			s[fd].n += k;
			if (smtp) {
				/* QUIT\r\n at the end of what came. */
				if (r >= 6 && memcmp(buf + r - 6, "QUIT\r\n",
				    6) == 0) {
					(void)write(fd, "221 bye\r\n", 9);
					close(fd);
					s[fd].open = 0;
				}
			}
		}
	}
}

static int
dial(const char *host, int port, const char *src, int nonblock)
{
	struct sockaddr_in	 sin, me;
	int			 fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		errx(1, "%s: not an IPv4 address", host);
	if ((fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK :
	    0), 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	inet_pton(AF_INET, src, &me.sin_addr);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1)
		err(1, "bind %s", src);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
stream(const char *host, int port, const char *src, long long bytes)
{
	static char	 buf[1 << 20];
	char		 reply[64];
	long long	 left = bytes;
	double		 t0, t1;
	ssize_t		 n;
	int		 fd;

	memset(buf, 'x', sizeof(buf));
	if ((fd = dial(host, port, src, 0)) == -1)
		err(1, "connect");
	t0 = now();
	while (left > 0) {
		n = write(fd, buf, left < (long long)sizeof(buf) ? left :
		    (long long)sizeof(buf));
		if (n == -1)
			err(1, "write");
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	n = read(fd, reply, sizeof(reply) - 1);
	t1 = now();
	if (n <= 0)
		errx(1, "no count from the sink");
	reply[n] = '\0';
	if (strtoll(reply, NULL, 10) != bytes)
		errx(1, "sink counted %s, sent %lld", reply, bytes);
	printf("stream %lld %.3f %.1f\n", bytes, t1 - t0,
	    bytes / (t1 - t0) / 1e6);
	return 0;
}

/* a.b.c.d-e: the e - d + 1 addresses. */
static int
srcs(const char *spec, char (*out)[32], int max)
{
	char		 base[16];
	const char	*dash = strchr(spec, '-'), *dot;
	int		 lo, hi, i, n = 0;

	if (dash == NULL) {
		snprintf(out[0], 32, "%s", spec);
		return 1;
	}
	dot = strrchr(spec, '.');
	if (dot == NULL || dot > dash)
		errx(1, "%s: expected a.b.c.d-e", spec);
	snprintf(base, sizeof(base), "%.*s", (int)(dot - spec), spec);
	lo = atoi(dot + 1);
	hi = atoi(dash + 1);
	for (i = lo; i <= hi && n < max; i++)
		snprintf(out[n++], 32, "%s.%d", base, i);
	return n;
}

/* A session of `sessions' or `hold': 0 banner awaited, 1 221 awaited. */
struct cl {
	int	 st;
	int	 got;
	char	 b[64];
};

static int
sessions(const char *host, int port, const char *spec, int c, double secs,
    int hold)
{
	static char		 src[256][32];
	struct epoll_event	 e, evs[512];
	struct cl		*cl;
	double			 t0, end, last;
	long long		 done = 0, failed = 0, held = 0;
	int			 ns, ep, i, n, fd, next = 0, open = 0;
	ssize_t			 r;

	ns = srcs(spec, src, 256);
	if ((cl = calloc(65536, sizeof(*cl))) == NULL)
		err(1, "calloc");
	ep = epoll_create1(0);
	t0 = now();
	end = t0 + secs;
	last = t0;
	for (;;) {
		while (hold ? open < 1000 && open + held < c :
		    open < c && now() < end) {
			fd = dial(host, port, src[next++ % ns], 1);
			if (fd == -1) {
				failed++;
				break;
			}
			memset(&cl[fd], 0, sizeof(cl[fd]));
			e.events = EPOLLIN;
			e.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
			open++;
		}
		if (hold && held >= c)
			break;
		if (!hold && open == 0 && now() >= end)
			break;
		if (!hold && now() > end + 10)
			break;		/* the rest never answered */
		n = epoll_wait(ep, evs, 512, 1000);
		if (n == 0 && hold && now() - last > 5)
			break;		/* no more come */
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			r = read(fd, cl[fd].b + cl[fd].got,
			    sizeof(cl[fd].b) - 1 - cl[fd].got);
			if (r == -1 && errno == EAGAIN)
				continue;
			if (r <= 0) {
				failed++;
				close(fd);
				open--;
				continue;
			}
			cl[fd].got += r;
			cl[fd].b[cl[fd].got] = '\0';
			if (strchr(cl[fd].b, '\n') == NULL)
				continue;
			last = now();
			if (cl[fd].st == 0 && strncmp(cl[fd].b, "220", 3) ==
			    0) {
				if (hold) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					open--;
					held++;
					continue;
				}
				cl[fd].st = 1;
				cl[fd].got = 0;
				(void)write(fd, "QUIT\r\n", 6);
				continue;
			}
			if (cl[fd].st == 1 && strncmp(cl[fd].b, "221", 3) == 0)
				done++;
			else
				failed++;
			close(fd);
			open--;
		}
	}
	if (hold) {
		printf("held %lld failed %lld\n", held, failed);
		fflush(stdout);
		pause();
		return 0;
	}
	printf("sessions %lld %.3f %.1f failed %lld\n", done, now() - t0,
	    done / (now() - t0), failed);
	return 0;
}

int
main(int argc, char *argv[])
{
	signal(SIGPIPE, SIG_IGN);
	nofile();
	if (argc == 4 && strcmp(argv[1], "sink") == 0)
		return sink(atoi(argv[2]), strcmp(argv[3], "smtp") == 0);
	if (argc == 6 && strcmp(argv[1], "stream") == 0)
		return stream(argv[2], atoi(argv[3]), argv[4],
		    atoll(argv[5]));
	if (argc == 7 && strcmp(argv[1], "sessions") == 0)
		return sessions(argv[2], atoi(argv[3]), argv[4],
		    atoi(argv[5]), atof(argv[6]), 0);
	if (argc == 6 && strcmp(argv[1], "hold") == 0)
		return sessions(argv[2], atoi(argv[3]), argv[4],
		    atoi(argv[5]), 0, 1);
	fprintf(stderr, "usage: relayload sink PORT discard|smtp\n"
	    "       relayload stream HOST PORT SRC BYTES\n"
	    "       relayload sessions HOST PORT SRCS C SECONDS\n"
	    "       relayload hold HOST PORT SRCS N\n");
	return 2;
}
