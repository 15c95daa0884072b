/*
 * connload: hold many TCP connections to a tarpit and time every byte it
 * trickles out, for bench/connections.
 *
 *	connload -a addr -p port -n conns -b src[,src...] -t start_ms
 *	    -d duration_ms [-i inflight] [-m line] [-s stutter_ms]
 *
 * Opens conns connections to addr:port (IPv4) from the source addresses
 * in turn, at most `inflight' handshakes at a time, and reads whatever
 * comes, one epoll loop for all; with -m each connection first sends
 * `line' and CRLF (a client that talks costs the server more).  Byte k of a connection (k = 1, 2, ...)
 * ideally arrives at t0 + k * stutter; every byte that arrives inside
 * the window [start_ms, start_ms + duration_ms) (CLOCK_REALTIME, ms since
 * the epoch, so that several processes share one window) is recorded
 * as t - k * stutter, and its lateness is that value minus the smallest
 * one of its connection: the delay behind the best rhythm the
 * connection showed.  At the end of the window it prints
 *
 *	connload: conns=N connected=N held=N failed=N closed=N bytes=N
 *	    ramp_s=X samples=N
 *	hist BUCKET COUNT	(lateness in 100 us buckets, non-empty only)
 *
 * "held" are the connections that got at least one byte and were still
 * open at the end; ramp_s is when the last of them got its first byte.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define MAXSRC		64
#define MAXEVENTS	1024
#define BUCKET_US	100
#define NBUCKETS	(600 * 10000)	/* up to 600 s */

enum cstate { C_NONE, C_CONNECTING, C_OPEN, C_DONE };

struct conn {
	int		 fd;
	uint8_t		 state;
	uint32_t	 nbytes;
};

struct sample {
	uint32_t	 conn;
	int64_t		 off;	/* us: arrival - k * stutter */
};

static struct conn	*conns;
static struct sample	*samples;
static size_t		 nsamples, samplesz;
static struct in_addr	 src[MAXSRC];
static int		 nsrc;

static void	usage(void) __attribute__((noreturn));
static int64_t	clock_us(clockid_t);
static long long numarg(const char *, const char *, long long, long long);
static void	parse_src(char *);
static int	open_one(int, const struct sockaddr_in *, uint32_t);
static void	add_sample(uint32_t, int64_t);
static int	cmp_sample(const void *, const void *);
static void	report(void);

static void
usage(void)
{
	fprintf(stderr, "usage: connload -a addr -p port -n conns "
	    "-b src[,src...] -t start_ms -d duration_ms\n"
	    "\t[-i inflight] [-m line] [-s stutter_ms]\n");
	exit(2);
}

static int64_t
clock_us(clockid_t clk)
{
	struct timespec	 ts;

	if (clock_gettime(clk, &ts) == -1)
		err(1, "clock_gettime");
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
numarg(const char *opt, const char *arg, long long min, long long max)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(arg, min, max, &errstr);
	if (errstr != NULL)
		errx(2, "-%s %s: %s", opt, arg, errstr);
	return v;
}

static void
parse_src(char *arg)
{
	char	*p;

	while ((p = strsep(&arg, ",")) != NULL) {
		if (*p == '\0')
			continue;
		if (nsrc == MAXSRC)
			errx(2, "-b: more than %d source addresses", MAXSRC);
		if (inet_pton(AF_INET, p, &src[nsrc]) != 1)
			errx(2, "-b %s: not an IPv4 address", p);
		nsrc++;
	}
	if (nsrc == 0)
		errx(2, "-b: no source address");
}

/*
 * Start connection i.  The source port is left to connect(), which can
 * then reuse a port towards another destination (IP_BIND_ADDRESS_NO_PORT).
 * Returns 0, or -1 if it failed at once (counted by the caller).
 */
static int
open_one(int epfd, const struct sockaddr_in *dst, uint32_t i)
{
	struct sockaddr_in	 sin;
	struct epoll_event	 ev;
	int			 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		warn("socket");
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = src[i % nsrc];
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one)) == -1)
		warn("setsockopt IP_BIND_ADDRESS_NO_PORT");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		warn("bind");
		close(fd);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) == -1 &&
	    errno != EINPROGRESS) {
		warn("connect");
		close(fd);
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.u32 = i;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		err(1, "epoll_ctl");
	conns[i].fd = fd;
	conns[i].state = C_CONNECTING;
	return 0;
}

static void
add_sample(uint32_t conn, int64_t off)
{
	struct sample	*p;
	size_t		 n;

	if (nsamples == samplesz) {
		n = samplesz == 0 ? 65536 : samplesz * 2;
		if ((p = reallocarray(samples, n, sizeof(*p))) == NULL)
			err(1, "samples");
		samples = p;
		samplesz = n;
	}
	samples[nsamples].conn = conn;
	samples[nsamples].off = off;
	nsamples++;
}

static int
cmp_sample(const void *a, const void *b)
{
	const struct sample	*x = a, *y = b;

	if (x->conn != y->conn)
		return x->conn < y->conn ? -1 : 1;
	return (x->off > y->off) - (x->off < y->off);
}

/* Lateness of each sample behind the best of its connection. */
static void
report(void)
{
	uint32_t	*hist;
	size_t		 i, j, b;

	if ((hist = calloc(NBUCKETS, sizeof(*hist))) == NULL)
		err(1, "histogram");
	qsort(samples, nsamples, sizeof(*samples), cmp_sample);
	for (i = 0; i < nsamples; i = j) {
		/* Sorted: the first sample of a connection is its best. */
		for (j = i; j < nsamples && samples[j].conn == samples[i].conn;
		    j++) {
			b = (samples[j].off - samples[i].off) / BUCKET_US;
			hist[b < NBUCKETS ? b : NBUCKETS - 1]++;
		}
	}
	for (b = 0; b < NBUCKETS; b++)
		if (hist[b] != 0)
			printf("hist %zu %u\n", b, hist[b]);
	free(hist);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[MAXEVENTS], ev;
	struct sockaddr_in	 dst;
	struct rlimit		 rl;
	struct conn		*c;
	const char		*addr = NULL;
	char			 buf[512], msg[512];
	size_t			 msglen = 0;
	int64_t			 start_ms = -1, dur_ms = -1, stutter_us = 1000000;
	int64_t			 t0, now, wstart, wend, lastfirst = 0, off;
	uint32_t		 n = 0, next = 0, inflight = 0, maxinflight = 500;
	uint32_t		 i, connected = 0, failed = 0, closed = 0, held;
	unsigned long long	 bytes = 0;
	ssize_t			 r;
	socklen_t		 len;
	int			 ch, epfd, port = 0, nev, k, e, timeout;

	while ((ch = getopt(argc, argv, "a:b:d:i:m:n:p:s:t:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'b':
			parse_src(optarg);
			break;
		case 'd':
			dur_ms = numarg("d", optarg, 1, 3600000);
			break;
		case 'i':
			maxinflight = numarg("i", optarg, 1, 100000);
			break;
		case 'm':
			if ((size_t)snprintf(msg, sizeof(msg), "%s\r\n",
			    optarg) >= sizeof(msg))
				errx(2, "-m: line too long");
			msglen = strlen(msg);
			break;
		case 'n':
			n = numarg("n", optarg, 1, 1000000);
			break;
		case 'p':
			port = numarg("p", optarg, 1, 65535);
			break;
		case 's':
			stutter_us = numarg("s", optarg, 1, 60000) * 1000;
			break;
		case 't':
			start_ms = numarg("t", optarg, 0, LLONG_MAX);
			break;
		default:
			usage();
		}
	}
	if (argc != optind || addr == NULL || port == 0 || n == 0 ||
	    nsrc == 0 || start_ms < 0 || dur_ms < 0)
		usage();
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1)
		errx(2, "-a %s: not an IPv4 address", addr);

	/* One descriptor per connection: take all we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "setrlimit");
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)n + 16 > rl.rlim_cur)
		errx(1, "%u connections need more than the %llu descriptors "
		    "allowed: use more processes", n,
		    (unsigned long long)rl.rlim_cur);

	if ((conns = calloc(n, sizeof(*conns))) == NULL)
		err(1, "calloc");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");

	/* The window, moved from the shared wall clock to ours. */
	t0 = clock_us(CLOCK_MONOTONIC);
	wstart = t0 + (start_ms * 1000 - clock_us(CLOCK_REALTIME));
	wend = wstart + dur_ms * 1000;

	for (now = t0; now < wend; ) {
		while (next < n && inflight < maxinflight) {
			if (open_one(epfd, &dst, next) == -1)
				failed++;
			else
				inflight++;
			next++;
		}
		timeout = (int)((wend - now) / 1000) + 1;
		if (timeout > 100)
			timeout = 100;
		if ((nev = epoll_wait(epfd, evs, MAXEVENTS, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		/* One time stamp per wake-up: bytes of a batch arrived together. */
		now = clock_us(CLOCK_MONOTONIC);
		for (k = 0; k < nev; k++) {
			i = evs[k].data.u32;
			c = &conns[i];
			if (c->state == C_CONNECTING) {
				inflight--;
				len = sizeof(e);
				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e,
				    &len) == -1 || e != 0) {
					failed++;
					close(c->fd);
					c->state = C_DONE;
					continue;
				}
				connected++;
				c->state = C_OPEN;
				/* Into an empty socket buffer: it all goes. */
				if (msglen > 0 && write(c->fd, msg, msglen) !=
				    (ssize_t)msglen)
					warn("write");
				memset(&ev, 0, sizeof(ev));
				ev.events = EPOLLIN | EPOLLRDHUP;
				ev.data.u32 = i;
				if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) ==
				    -1)
					err(1, "epoll_ctl");
				continue;
			}
			if (c->state != C_OPEN)
				continue;
			r = read(c->fd, buf, sizeof(buf));
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				closed++;
				close(c->fd);
				c->state = C_DONE;
				continue;
			}
			bytes += r;
			if (c->nbytes == 0)
				lastfirst = now;
			for (; r > 0; r--) {
				c->nbytes++;
				off = now - (int64_t)c->nbytes * stutter_us;
				if (now >= wstart && now < wend)
					add_sample(i, off);
			}
		}
	}

	held = 0;
	for (i = 0; i < n; i++)
		if (conns[i].state == C_OPEN && conns[i].nbytes > 0)
			held++;
	printf("connload: conns=%u connected=%u held=%u failed=%u closed=%u "
	    "bytes=%llu ramp_s=%.3f samples=%zu\n", n, connected, held,
	    failed, closed, bytes,
	    lastfirst == 0 ? 0.0 : (lastfirst - t0) / 1e6, nsamples);
	report();
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	/* Exiting closes every connection at once. */
	return 0;
}
