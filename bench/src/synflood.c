/*
 * synflood: send TCP SYNs to port 25 at a steady rate through a raw
 * socket, for bench/spamlogd.  The SYNs cross a veth into the namespace
 * under test, where a log rule hands each to spamlogd's NFLOG group.
 *
 *	synflood [-6] -m in|out -r pps -t secs -n hosts -h host0 -p peer
 *
 * The hosts are host0, host0+1, ... host0+hosts-1, in turn: with -m in
 * they are the sources and peer the destination (remote hosts
 * connecting to our MTA), with -m out the destinations and peer the
 * source (our MTA connecting out).  Prints
 *
 *	synflood: sent=N secs=S pps=R
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64
#define PKTMAX	60	/* IPv6 + TCP */

static uint8_t	 pkts[BATCH][PKTMAX];

static double
now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t
sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Host n of the range starting at base (4 or 16 bytes). */
static void
host(uint8_t *out, const uint8_t *base, size_t alen, uint32_t n)
{
	uint32_t	 v;

	memcpy(out, base, alen);
	memcpy(&v, out + alen - 4, 4);
	v = htonl(ntohl(v) + n);
	memcpy(out + alen - 4, &v, 4);
}

/* A SYN from src to dst port 25, checksummed (conntrack checks it). */
static size_t
syn(uint8_t *p, int v6, const uint8_t *src, const uint8_t *dst,
    uint16_t sport, uint32_t seq)
{
	uint8_t		*tcp;
	uint32_t	 sum;
	size_t		 alen = v6 ? 16 : 4, hl = v6 ? 40 : 20;
	uint16_t	 c;

	memset(p, 0, PKTMAX);
	if (v6) {
		p[0] = 0x60;
		p[5] = 20;		/* payload length */
		p[6] = IPPROTO_TCP;
		p[7] = 64;
		memcpy(p + 8, src, 16);
		memcpy(p + 24, dst, 16);
	} else {
		p[0] = 0x45;
		p[3] = 40;		/* the kernel fills in id and checksum */
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
	}
	tcp = p + hl;
	tcp[0] = sport >> 8;
	tcp[1] = sport & 0xff;
	tcp[3] = 25;
	tcp[4] = seq >> 24;
	tcp[5] = (seq >> 16) & 0xff;
	tcp[6] = (seq >> 8) & 0xff;
	tcp[7] = seq & 0xff;
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;			/* SYN */
	tcp[14] = 0xfa;			/* window 64240 */
	tcp[15] = 0xf0;
	sum = sum16(src, alen, 0);
	sum = sum16(dst, alen, sum);
	sum += IPPROTO_TCP + 20;
	sum = sum16(tcp, 20, sum);
	c = fold(sum);
	tcp[16] = c >> 8;
	tcp[17] = c & 0xff;
	return hl + 20;
}

static void
usage(void)
{
	fprintf(stderr, "usage: synflood [-6] -m in|out -r pps -t secs "
	    "-n hosts -h host0 -p peer\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct mmsghdr		 msgs[BATCH];
	struct iovec		 iov[BATCH];
	struct sockaddr_storage	 to[BATCH];
	uint8_t			 base[16], peer[16], h[16];
	const char		*errstr, *mode = NULL, *h0 = NULL, *p0 = NULL;
	double			 t0, t, secs = 0, rate = 0;
	uint64_t		 sent = 0, want;
	uint32_t		 nhosts = 0, i = 0;
	size_t			 alen;
	int			 ch, v6 = 0, s, k, r, out;

	while ((ch = getopt(argc, argv, "6h:m:n:p:r:t:")) != -1) {
		switch (ch) {
		case '6':
			v6 = 1;
			break;
		case 'h':
			h0 = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'n':
			nhosts = strtonum(optarg, 1, 1 << 24, &errstr);
			if (errstr != NULL)
				errx(1, "-n %s: %s", optarg, errstr);
			break;
		case 'p':
			p0 = optarg;
			break;
		case 'r':
			rate = strtonum(optarg, 1, 100000000, &errstr);
			if (errstr != NULL)
				errx(1, "-r %s: %s", optarg, errstr);
			break;
		case 't':
			secs = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(1, "-t %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	if (mode == NULL || h0 == NULL || p0 == NULL || nhosts == 0 ||
	    rate == 0 || secs == 0)
		usage();
	if (strcmp(mode, "in") != 0 && strcmp(mode, "out") != 0)
		usage();
	out = strcmp(mode, "out") == 0;
	alen = v6 ? 16 : 4;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, h0, base) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, p0, peer) != 1)
		errx(1, "bad address");

	/* IPPROTO_RAW: we write the IP header (IP_HDRINCL implied). */
	if ((s = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW)) ==
	    -1)
		err(1, "socket");

	memset(msgs, 0, sizeof(msgs));
	memset(to, 0, sizeof(to));
	want = (uint64_t)(rate * secs);
	t0 = now();
	while (sent < want) {
		/* Ahead of the schedule: sleep until the next batch is due. */
		t = now() - t0;
		if (sent > t * rate) {
			struct timespec ts;
			double	 d = sent / rate - t;

			ts.tv_sec = (time_t)d;
			ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
		}
		for (k = 0; k < BATCH && sent + k < want; k++) {
			host(h, base, alen, i);
			iov[k].iov_base = pkts[k];
			iov[k].iov_len = out ?
			    syn(pkts[k], v6, peer, h, 1024 + i % 60000, i) :
			    syn(pkts[k], v6, h, peer, 1024 + i % 60000, i);
			if (v6) {
				struct sockaddr_in6 *s6 = (void *)&to[k];

				s6->sin6_family = AF_INET6;
				memcpy(&s6->sin6_addr, out ? h : peer, 16);
			} else {
				struct sockaddr_in *s4 = (void *)&to[k];

				s4->sin_family = AF_INET;
				memcpy(&s4->sin_addr, out ? h : peer, 4);
			}
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
			msgs[k].msg_hdr.msg_name = &to[k];
			msgs[k].msg_hdr.msg_namelen = v6 ?
			    sizeof(struct sockaddr_in6) :
			    sizeof(struct sockaddr_in);
			if (++i == nhosts)
				i = 0;
		}
		if ((r = sendmmsg(s, msgs, (unsigned int)k, 0)) == -1) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			err(1, "sendmmsg");
		}
		sent += (uint64_t)r;
		/* A short send re-sends the rest with the next hosts. */
	}
	t = now() - t0;
	printf("synflood: sent=%llu secs=%.3f pps=%.0f\n",
	    (unsigned long long)sent, t, sent / t);
	return 0;
}
