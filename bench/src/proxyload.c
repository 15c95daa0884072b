/*
 * proxyload: short SMTP sessions at a fixed rate, with or without a
 * PROXY header first, for bench/proxy.
 *
 *	proxyload -a addr -p port -r rate -d duration_ms -b src[,src...]
 *	    [-c clients] [-m plain|v1|v2] [-i inflight]
 *
 * Starts `rate' sessions a second to addr:port (IPv4) for duration_ms,
 * from the source addresses in turn (a balancer's, with -m v1 or v2).
 * The sessions come from `clients' different clients in turn (4096 by
 * default): plain, the source is the first -b address plus 0 to
 * clients - 1 (loopback takes any 127/8 source); v1 and v2 name them
 * in the header (10.0.0.0 plus the same).  A session: connect, the
 * PROXY header (v1 text or v2 binary) in one write, read
 * the banner, QUIT, read the 221, close.  At most `inflight' sessions
 * are open at once; a start that would go over is counted as skipped.
 * At the end:
 *
 *	proxyload: mode=M started=N done=N failed=N skipped=N secs=X
 *	    rate=X p50_ms=X p99_ms=X
 *
 * where the percentiles are of connect-to-221 times.
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
#define MAXEVENTS	512
#define NBUCKETS	100000	/* 10 us buckets: up to 1 s */

enum { M_PLAIN, M_V1, M_V2 };
enum { S_FREE, S_CONNECT, S_BANNER, S_BYE };

struct sess {
	int		 fd;
	int		 state;
	int64_t		 t0;	/* us */
	uint32_t	 n;	/* which session: the header's client */
	size_t		 got;
	char		 buf[512];
};

static struct sess	*ss;
static int		 nss, epfd, mode = M_PLAIN;
static uint32_t		 nclients = 4096;
static uint32_t		 seq;
static uint64_t		 hist[NBUCKETS + 1];
static unsigned long	 started, done, failed, skipped;

static int64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
finish(struct sess *s, int ok)
{
	int64_t	 d;

	if (ok) {
		done++;
		d = (now_us() - s->t0) / 10;
		hist[d > NBUCKETS ? NBUCKETS : d]++;
	} else
		failed++;
	close(s->fd);
	s->state = S_FREE;
}

/* The PROXY header for session n, into buf; its length. */
static size_t
header(uint32_t n, const struct sockaddr_in *dst, uint8_t *buf)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	uint32_t	 src = htonl(0x0a000000u | (n % nclients));
	char		 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (mode == M_V1) {
		inet_ntop(AF_INET, &src, a, sizeof(a));
		inet_ntop(AF_INET, &dst->sin_addr, b, sizeof(b));
		return (size_t)snprintf((char *)buf, 108,
		    "PROXY TCP4 %s %s %u 25\r\n", a, b,
		    1024 + (n % 60000));
	}
	memcpy(buf, sig, 12);
	buf[12] = 0x21;
	buf[13] = 0x11;
	buf[14] = 0;
	buf[15] = 12;
	memcpy(buf + 16, &src, 4);
	memcpy(buf + 20, &dst->sin_addr, 4);
	buf[24] = (uint8_t)((1024 + n % 60000) >> 8);
	buf[25] = (uint8_t)(1024 + n % 60000);
	buf[26] = 0;
	buf[27] = 25;
	return 28;
}

static void
start(const struct sockaddr_in *dst, const struct sockaddr_in *srcs,
    int nsrc)
{
	struct epoll_event	 ev;
	struct sess		*s = NULL;
	struct sockaddr_in	 sin;
	int			 i, one = 1;

	for (i = 0; i < nss; i++)
		if (ss[i].state == S_FREE) {
			s = &ss[i];
			break;
		}
	if (s == NULL) {
		skipped++;
		return;
	}
	started++;
	s->t0 = now_us();
	s->got = 0;
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	sin = srcs[seq % nsrc];
	if (mode == M_PLAIN)
		sin.sin_addr.s_addr = htonl(ntohl(srcs[0].sin_addr.s_addr) +
		    seq % nclients);
	if (bind(s->fd, (const struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind");
	if (connect(s->fd, (const struct sockaddr *)dst, sizeof(*dst)) == -1 &&
	    errno != EINPROGRESS) {
		s->state = S_CONNECT;
		finish(s, 0);
		return;
	}
	s->state = S_CONNECT;
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.ptr = s;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) == -1)
		err(1, "epoll_ctl");
	s->n = seq++;
}

static void
event(struct sess *s, uint32_t evs, const struct sockaddr_in *dst)
{
	struct epoll_event	 ev;
	uint8_t			 hb[128];
	size_t			 hl;
	ssize_t			 n;
	char			*nl;

	if (s->state == S_CONNECT) {
		if (evs & (EPOLLERR | EPOLLHUP)) {
			finish(s, 0);
			return;
		}
		if (mode != M_PLAIN) {
			hl = header(s->n, dst, hb);
			if (write(s->fd, hb, hl) != (ssize_t)hl) {
				finish(s, 0);
				return;
			}
		}
		s->state = S_BANNER;
		ev.events = EPOLLIN;
		ev.data.ptr = s;
		epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
		return;
	}
	n = read(s->fd, s->buf + s->got, sizeof(s->buf) - 1 - s->got);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		finish(s, 0);
		return;
	}
	s->got += (size_t)n;
	s->buf[s->got] = '\0';
	if ((nl = strstr(s->buf, "\r\n")) == NULL) {
		if (s->got == sizeof(s->buf) - 1)
			finish(s, 0);
		return;
	}
	if (s->state == S_BANNER) {
		if (strncmp(s->buf, "220 ", 4) != 0 ||
		    write(s->fd, "QUIT\r\n", 6) != 6) {
			finish(s, 0);
			return;
		}
		s->state = S_BYE;
		s->got = 0;
		return;
	}
	finish(s, strncmp(s->buf, "221 ", 4) == 0);
}

static double
pct(double p)
{
	uint64_t	 want = (uint64_t)(p * done), c = 0;
	int		 i;

	for (i = 0; i <= NBUCKETS; i++)
		if ((c += hist[i]) > want)
			return i / 100.0;
	return NBUCKETS / 100.0;
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[MAXEVENTS];
	struct sockaddr_in	 dst, srcs[MAXSRC];
	struct rlimit		 rl;
	int64_t			 t0, end, next, t;
	char			*p, *srcarg = NULL;
	long			 rate = 10000, dur = 10000;
	int			 ch, i, n, nsrc = 0, port = 8025;
	const char		*addr = "127.0.0.1";

	nss = 2000;
	while ((ch = getopt(argc, argv, "a:b:c:d:i:m:p:r:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'b':
			srcarg = optarg;
			break;
		case 'c':
			nclients = (uint32_t)atol(optarg);
			break;
		case 'd':
			dur = atol(optarg);
			break;
		case 'i':
			nss = atoi(optarg);
			break;
		case 'm':
			mode = strcmp(optarg, "v1") == 0 ? M_V1 :
			    strcmp(optarg, "v2") == 0 ? M_V2 : M_PLAIN;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			rate = atol(optarg);
			break;
		default:
			errx(1, "usage: proxyload -a addr -p port -r rate "
			    "-d ms -b src[,src] [-c clients] [-m plain|v1|v2] "
			    "[-i n]");
		}
	}
	if (srcarg == NULL || rate <= 0 || dur <= 0 || nss <= 0 ||
	    nclients == 0 || nclients > 1 << 20)
		errx(1, "need -b, positive -r, -d, -i, and -c up to 2^20");
	for (p = strtok(srcarg, ","); p != NULL && nsrc < MAXSRC;
	    p = strtok(NULL, ",")) {
		memset(&srcs[nsrc], 0, sizeof(srcs[0]));
		srcs[nsrc].sin_family = AF_INET;
		if (inet_pton(AF_INET, p, &srcs[nsrc].sin_addr) != 1)
			errx(1, "bad source %s", p);
		nsrc++;
	}
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1)
		errx(1, "bad address %s", addr);
	rl.rlim_cur = rl.rlim_max = (rlim_t)nss + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "setrlimit");
	if ((ss = calloc((size_t)nss, sizeof(*ss))) == NULL)
		err(1, "calloc");
	if ((epfd = epoll_create1(0)) == -1)
		err(1, "epoll_create1");

	/* Starts due every ms, so the rate holds without a burst a second. */
	t0 = now_us();
	end = t0 + dur * 1000;
	next = t0;
	for (;;) {
		t = now_us();
		while (next <= t && next < end) {
			start(&dst, srcs, nsrc);
			next = t0 + (int64_t)((started + skipped) *
			    (1000000.0 / rate));
		}
		if (t >= end + 2000000)
			break;		/* stragglers: 2 s */
		if (t >= end && started == done + failed)
			break;
		n = epoll_wait(epfd, evs, MAXEVENTS, 1);
		if (n == -1 && errno != EINTR)
			err(1, "epoll_wait");
		for (i = 0; i < n; i++)
			event(evs[i].data.ptr, evs[i].events, &dst);
	}
	t = now_us();
	for (i = 0; i < nss; i++)
		if (ss[i].state != S_FREE)
			finish(&ss[i], 0);
	printf("proxyload: mode=%s started=%lu done=%lu failed=%lu "
	    "skipped=%lu secs=%.2f rate=%.0f p50_ms=%.2f p99_ms=%.2f\n",
	    mode == M_V1 ? "v1" : mode == M_V2 ? "v2" : "plain", started,
	    done, failed, skipped, (t - t0) / 1e6,
	    done / (dur / 1000.0), pct(0.50), pct(0.99));
	return 0;
}
