/*
 * The netlink transport to nf_tables, over libmnl and libnftnl.
 * Used by: lib/nftset.c (spamd, spamlogd, spamdb), spamd-setup
 * (nftblack.c), regress/tools/nftset-tool.
 *
 * A batch is BEGIN, element messages, END, applied by the kernel as one
 * transaction inside our sendmsg(): when that returns, every reply is
 * already queued on the socket.  Only the last element message asks for
 * an acknowledgement: errors come back for every failing message anyway,
 * in order, and one ack per message would overflow the receive buffer
 * on large batches.  Element messages are encoded with libmnl's bounded
 * attribute calls, without one allocation per element; libnftnl builds
 * the batch and message headers.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>		/* before the linux headers, which defer to it */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libnftnl/common.h>

#include "log.h"
#include "nlbatch.h"

_Static_assert(NLB_ELEMS_PER_MSG * NLB_ELEM_MAXLEN < UINT16_MAX,
    "element list must fit a netlink nest");
/* Headers of one message with the table and set names. */
#define MSG_MAXHDR	(2 * NFT_NAME_MAXLEN + 128)
/* Replies: the largest nf_tables message is a little over 64 KiB. */
#define RBUF_LEN	(UINT16_MAX + 8192)
/* Room for the error replies of a large failed batch (NETLINK_CAP_ACK). */
#define SOCK_RCVBUF	(1024 * 1024)
/* netlink refuses a message over the send buffer minus its overhead */
#define SND_OVERHEAD	4096
#define SND_SLACK	65536
/* Larger buffers are freed after a batch rather than kept. */
#define KEEP_BYTES	(256 * 1024)
/* Failing messages named in the log, per batch. */
#define MAX_REPORT	1
/* How long to wait for replies the kernel has not queued yet. */
#define ACK_WAIT_MS	2000

struct nlbatch {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;		/* next sequence number */
	int			 sndbuf;	/* as getsockopt reports it */
	char			 table[NFT_TABLE_MAXNAMELEN];
	char			*buf;		/* the batch */
	size_t			 len;
	size_t			 cap;
	uint32_t		 begin;		/* its BEGIN sequence number */
	int			 open;		/* a message is open */
	size_t			 msgoff;	/* offset of the open message */
	size_t			 listoff;	/* its element list, or 0 */
	size_t			 room;		/* bytes reserved for it */
	size_t			 nelem;		/* its elements */
	size_t			 nmax;		/* and how many it may hold */
	size_t			 lastoff;	/* offset of the last message */
	struct nlb_msg		*msgs;		/* the batch's element messages */
	size_t			 nmsgs;
	size_t			 msgscap;
	struct nlb_msg		 refused;	/* of the last commit */
	int			 hasrefused;
	char			 rbuf[RBUF_LEN] __attribute__((aligned(8)));
};

const struct nlb_msg *
nlb_refused(const struct nlbatch *b)
{
	return b->hasrefused ? &b->refused : NULL;
}

const char *
nlb_hint(int error)
{
	return error == EPERM ? " (CAP_NET_ADMIN is needed)" : "";
}

struct nlbatch *
nlb_open(const char *table)
{
	struct nlbatch	*b;
	socklen_t	 sl;
	int		 one = 1, rcv = SOCK_RCVBUF, fd;

	if (*table == '\0' || strlen(table) >= NFT_TABLE_MAXNAMELEN) {
		log_warnx("nft: bad table name");
		errno = EINVAL;
		return NULL;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		log_warn("nft: calloc");
		return NULL;
	}
	strlcpy(b->table, table, sizeof(b->table));
	if ((b->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL) {
		if (errno == EPROTONOSUPPORT)
			log_warn("nft: netfilter netlink socket (the kernel "
			    "lacks CONFIG_NETFILTER_NETLINK and nf_tables)");
		else
			log_warn("nft: netfilter netlink socket");
		goto fail;
	}
	if (mnl_socket_bind(b->nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		log_warn("nft: bind netlink socket");
		goto fail;
	}
	b->portid = mnl_socket_get_portid(b->nl);
	fd = mnl_socket_get_fd(b->nl);
	/* Error replies without a copy of the failed message (>= 4.3). */
	if (mnl_socket_setsockopt(b->nl, NETLINK_CAP_ACK, &one,
	    sizeof(one)) == -1)
		log_debug("nft: NETLINK_CAP_ACK: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
	    sizeof(rcv)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) == -1)
		log_warn("nft: SO_RCVBUF %d", rcv);
	sl = sizeof(b->sndbuf);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &b->sndbuf, &sl) == -1) {
		log_warn("nft: getsockopt SO_SNDBUF");
		goto fail;
	}
	b->seq = (uint32_t)time(NULL);
	return b;
 fail:
	nlb_close(b);
	return NULL;
}

void
nlb_close(struct nlbatch *b)
{
	int	 saved = errno;

	if (b == NULL)
		return;
	if (b->nl != NULL && mnl_socket_close(b->nl) == -1)
		log_warn("nft: close netlink socket");
	free(b->buf);
	free(b->msgs);
	free(b);
	errno = saved;
}

const char *
nlb_table(const struct nlbatch *b)
{
	return b->table;
}

uint32_t
nlb_seq(struct nlbatch *b)
{
	return b->seq++;
}

/* Make room for need more bytes of batch, zeroed. */
static int
reserve(struct nlbatch *b, size_t need)
{
	size_t	 cap;
	char	*p;

	if (need <= b->cap - b->len)
		goto zero;
	if (need > NLB_BATCH_MAX - b->len) {
		errno = EMSGSIZE;
		return -1;
	}
	cap = b->cap != 0 ? b->cap : 16384;
	while (cap - b->len < need)
		cap *= 2;
	if (cap > NLB_BATCH_MAX)
		cap = NLB_BATCH_MAX;
	if ((p = realloc(b->buf, cap)) == NULL)
		return -1;
	b->buf = p;
	b->cap = cap;
 zero:
	/* libmnl leaves attribute padding as it finds it */
	memset(b->buf + b->len, 0, need);
	return 0;
}

void
nlb_discard(struct nlbatch *b)
{
	int	 saved = errno;

	b->len = 0;
	b->nmsgs = 0;
	b->open = 0;
	if (b->cap > KEEP_BYTES) {
		free(b->buf);
		b->buf = NULL;
		b->cap = 0;
	}
	if (b->msgscap * sizeof(*b->msgs) > KEEP_BYTES) {
		free(b->msgs);
		b->msgs = NULL;
		b->msgscap = 0;
	}
	errno = saved;
}

int
nlb_begin(struct nlbatch *b)
{
	struct nlmsghdr	*nlh;

	nlb_discard(b);
	if (reserve(b, MSG_MAXHDR) == -1)
		return -1;
	b->begin = b->seq++;
	nlh = nftnl_batch_begin(b->buf, b->begin);
	b->len = NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

struct nlmsghdr *
nlb_put_msg(char *buf, size_t room, uint16_t type, uint16_t flags,
    uint32_t seq, const char *table, const char *set)
{
	struct nlmsghdr	*nlh;

	if (room < MSG_MAXHDR)
		return NULL;
	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, seq);
	if (!mnl_attr_put_strz_check(nlh, room, NFTA_SET_ELEM_LIST_TABLE,
	    table) ||
	    !mnl_attr_put_strz_check(nlh, room, NFTA_SET_ELEM_LIST_SET, set))
		return NULL;
	return nlh;
}

int
nlb_put_elem(struct nlmsghdr *nlh, size_t room, int af, const void *key,
    uint64_t timeout_ms, uint32_t flags)
{
	struct nlattr	*elem, *k;
	uint64_t	 be64;
	uint32_t	 be32;

	if ((elem = mnl_attr_nest_start_check(nlh, room, NFTA_LIST_ELEM)) ==
	    NULL)
		return -1;
	if (flags != 0) {
		be32 = htobe32(flags);
		if (!mnl_attr_put_check(nlh, room, NFTA_SET_ELEM_FLAGS,
		    sizeof(be32), &be32))
			return -1;
	}
	if (timeout_ms != 0) {
		be64 = htobe64(timeout_ms);
		if (!mnl_attr_put_check(nlh, room, NFTA_SET_ELEM_TIMEOUT,
		    sizeof(be64), &be64))
			return -1;
	}
	if ((k = mnl_attr_nest_start_check(nlh, room, NFTA_SET_ELEM_KEY)) ==
	    NULL)
		return -1;
	if (!mnl_attr_put_check(nlh, room, NFTA_DATA_VALUE,
	    af == AF_INET ? 4 : 16, key))
		return -1;
	mnl_attr_nest_end(nlh, k);
	mnl_attr_nest_end(nlh, elem);
	return 0;
}

static struct nlmsghdr *
open_msg(struct nlbatch *b)
{
	return (struct nlmsghdr *)(b->buf + b->msgoff);
}

int
nlb_msg_open(struct nlbatch *b, uint16_t type, uint16_t flags,
    const char *set, int list, const char *what, size_t first,
    size_t nmax)
{
	struct nlmsghdr	*nlh;
	struct nlattr	*nest;
	struct nlb_msg	*m;
	size_t		 cap;

	if (b->open && nlb_msg_close(b) == -1)
		return -1;
	if (nmax > NLB_ELEMS_PER_MSG) {
		errno = E2BIG;
		return -1;
	}
	if (b->nmsgs == b->msgscap) {
		cap = b->msgscap != 0 ? b->msgscap * 2 : 16;
		if ((m = reallocarray(b->msgs, cap, sizeof(*m))) == NULL)
			return -1;
		b->msgs = m;
		b->msgscap = cap;
	}
	if (reserve(b, MSG_MAXHDR + (list ? nmax * NLB_ELEM_MAXLEN : 0)) ==
	    -1)
		return -1;
	b->msgoff = b->len;
	b->room = b->cap - b->len;
	m = &b->msgs[b->nmsgs];
	m->seq = b->seq++;
	m->set = set;
	m->what = what;
	m->first = first;
	m->count = 0;
	if ((nlh = nlb_put_msg(b->buf + b->len, b->room, type, flags, m->seq,
	    b->table, set)) == NULL) {
		errno = EMSGSIZE;
		return -1;
	}
	b->listoff = 0;
	if (list) {
		if ((nest = mnl_attr_nest_start_check(nlh, b->room,
		    NFTA_SET_ELEM_LIST_ELEMENTS)) == NULL) {
			errno = EMSGSIZE;
			return -1;
		}
		b->listoff = (char *)nest - b->buf;
	}
	b->nelem = 0;
	b->nmax = list ? nmax : 0;
	b->open = 1;
	return 0;
}

int
nlb_elem(struct nlbatch *b, int af, const void *key, uint64_t timeout_ms,
    uint32_t flags)
{
	if (!b->open || b->listoff == 0 || b->nelem >= b->nmax) {
		errno = E2BIG;
		return -1;
	}
	if (nlb_put_elem(open_msg(b), b->room, af, key, timeout_ms, flags) ==
	    -1) {
		/* The reservation covers nmax elements: a bug. */
		log_warnx("nft table inet %s: element overflows its message",
		    b->table);
		errno = EMSGSIZE;
		return -1;
	}
	b->nelem++;
	return 0;
}

size_t
nlb_msg_count(const struct nlbatch *b)
{
	return b->open ? b->nelem : 0;
}

int
nlb_msg_close(struct nlbatch *b)
{
	struct nlmsghdr	*nlh;

	if (!b->open)
		return 0;
	nlh = open_msg(b);
	if (b->listoff != 0)
		mnl_attr_nest_end(nlh, (struct nlattr *)(b->buf + b->listoff));
	b->msgs[b->nmsgs++].count = b->nelem;
	b->lastoff = b->msgoff;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->open = 0;
	return 0;
}

size_t
nlb_nmsgs(const struct nlbatch *b)
{
	return b->nmsgs;
}

size_t
nlb_len(const struct nlbatch *b)
{
	return b->len;
}

/*
 * Read one datagram from the kernel into b->rbuf: its length, 0 for
 * one not sent by the kernel, or -1.
 */
static ssize_t
recv_reply(struct nlbatch *b, int flags)
{
	struct sockaddr_nl	 sa;
	struct iovec		 iov;
	struct msghdr		 msg;
	ssize_t			 n;

	iov.iov_base = b->rbuf;
	iov.iov_len = sizeof(b->rbuf);
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &sa;
	msg.msg_namelen = sizeof(sa);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if ((n = recvmsg(mnl_socket_get_fd(b->nl), &msg, flags)) == -1)
		return -1;
	if (msg.msg_flags & MSG_TRUNC) {
		errno = ENOSPC;
		return -1;
	}
	if (msg.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
		return 0;
	return n;
}

/* Throw away replies left over from an earlier, abandoned request. */
static void
drain(struct nlbatch *b)
{
	int	 i;

	for (i = 0; i < 10000; i++) {
		if (recv_reply(b, MSG_DONTWAIT) == -1 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
	}
	if (i > 0)
		log_debug("nft table inet %s: dropped %d stale replies",
		    b->table, i);
}

int
nlb_request(struct nlbatch *b, struct nlmsghdr *nlh, mnl_cb_t cb,
    void *arg)
{
	uint32_t	 seq = nlh->nlmsg_seq;
	ssize_t		 n;
	int		 ret;

	drain(b);
	if (mnl_socket_sendto(b->nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	do {
		n = mnl_socket_recvfrom(b->nl, b->rbuf, sizeof(b->rbuf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		ret = mnl_cb_run(b->rbuf, n, seq, b->portid, cb, arg);
	} while (ret > 0);
	return ret == -1 ? -1 : 0;
}

/*
 * The whole batch must go in one sendmsg: grow the send buffer for it
 * (beyond wmem_max with CAP_NET_ADMIN).
 */
static int
fit_sndbuf(struct nlbatch *b)
{
	socklen_t	 sl;
	int		 fd = mnl_socket_get_fd(b->nl), want, got;

	if (b->sndbuf > 0 && (size_t)b->sndbuf >= b->len + SND_OVERHEAD)
		return 0;
	if (b->len > INT32_MAX - SND_SLACK) {
		errno = EMSGSIZE;
		goto fail;
	}
	want = (int)b->len + SND_SLACK;
	sl = sizeof(got);
	if ((setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want,
	    sizeof(want)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) == -1) ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &sl) == -1) {
		log_warn("nft table inet %s: socket send buffer", b->table);
		return -1;
	}
	b->sndbuf = got;
	if ((size_t)got >= b->len + SND_OVERHEAD)
		return 0;
	errno = EMSGSIZE;
 fail:
	log_warnx("nft table inet %s: batch of %zu bytes exceeds the socket "
	    "send buffer (CAP_NET_ADMIN lifts the limit)", b->table, b->len);
	return -1;
}

static const struct nlb_msg *
find_msg(const struct nlbatch *b, uint32_t seq)
{
	size_t	 lo = 0, hi = b->nmsgs, mid;

	/* sequence numbers grow through the batch (modulo 2^32) */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->msgs[mid].seq == seq)
			return &b->msgs[mid];
		if ((int32_t)(b->msgs[mid].seq - seq) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
report(struct nlbatch *b, uint32_t seq, int error,
    const struct nlb_report *r)
{
	const struct nlb_msg	*m = find_msg(b, seq);
	const char		*h = NULL;
	char			 first[128];

	if (m != NULL && !b->hasrefused) {
		b->refused = *m;
		b->hasrefused = 1;
	}
	if (r != NULL && r->quiet)
		return;
	if (r != NULL && r->hint != NULL)
		h = r->hint(error);
	if (h == NULL || *h == '\0')
		h = nlb_hint(error);
	if (m == NULL)
		log_warnx("nft table inet %s: batch refused: %s%s", b->table,
		    strerror(error), h);
	else if (m->count == 0 || r == NULL || r->elem == NULL)
		log_warnx("nft set inet %s %s: %s: %s%s", b->table, m->set,
		    m->what, strerror(error), h);
	else {
		r->elem(m, first, sizeof(first), r->arg);
		log_warnx("nft set inet %s %s: %s of %zu element%s (%s%s): "
		    "%s%s", b->table, m->set, m->what, m->count,
		    m->count == 1 ? "" : "s", m->count == 1 ? "" : "first ",
		    first, strerror(error), h);
	}
}

/*
 * Collect the replies to the batch [begin, end].  It is over when the
 * reply to its last message is in (errors come in message order), or a
 * reply to BEGIN or END (the batch as a whole was refused).  Replies
 * lost to a full receive buffer (ENOBUFS) are survived: the ack of the
 * last message still says whether the batch went through.
 */
static int
collect(struct nlbatch *b, uint32_t end, uint32_t last,
    const struct nlb_report *r)
{
	const struct nlmsghdr	*nlh;
	const struct nlmsgerr	*e;
	struct pollfd		 pfd;
	uint32_t		 seq, begin = b->begin;
	ssize_t			 n;
	int			 len, done = 0, waited = 0, lost = 0;
	int			 nfail = 0, first = 0;

	while (!done) {
		if ((n = recv_reply(b, MSG_DONTWAIT)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost = 1;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_warn("nft table inet %s: reading replies",
				    b->table);
				return -1;
			}
			if (waited)
				break;
			/* Not expected: the kernel answers within sendmsg. */
			pfd.fd = mnl_socket_get_fd(b->nl);
			pfd.events = POLLIN;
			if (poll(&pfd, 1, ACK_WAIT_MS) == -1 && errno != EINTR) {
				log_warn("nft table inet %s: poll", b->table);
				return -1;
			}
			waited = 1;
			continue;
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)b->rbuf; mnl_nlmsg_ok(nlh, len);
		    nlh = mnl_nlmsg_next(nlh, &len)) {
			seq = nlh->nlmsg_seq;
			if (nlh->nlmsg_pid != b->portid ||
			    seq - begin > end - begin ||
			    nlh->nlmsg_type != NLMSG_ERROR) {
				log_debug("nft table inet %s: stray reply "
				    "type %u seq %u", b->table,
				    nlh->nlmsg_type, seq);
				continue;
			}
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				log_warnx("nft table inet %s: short reply",
				    b->table);
				errno = EBADMSG;
				return -1;
			}
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error != 0) {
				if (nfail++ < MAX_REPORT)
					report(b, seq, -e->error, r);
				if (first == 0)
					first = -e->error;
			}
			if (seq == last || seq == begin || seq == end)
				done = 1;
		}
	}
	if (nfail > MAX_REPORT)
		log_debug("nft table inet %s: %d more failed messages",
		    b->table, nfail - MAX_REPORT);
	if (first != 0) {
		errno = first;
		return -1;
	}
	if (!done) {
		log_warnx("nft table inet %s: no acknowledgement for the "
		    "batch%s", b->table, lost ? " (replies lost)" : "");
		errno = lost ? ENOBUFS : EPROTO;
		return -1;
	}
	return 0;
}

int
nlb_commit(struct nlbatch *b, const struct nlb_report *r)
{
	struct nlmsghdr	*nlh;
	uint32_t	 end, last;
	int		 ret = -1;

	b->hasrefused = 0;
	if (nlb_msg_close(b) == -1)
		goto out;
	if (b->nmsgs == 0) {
		ret = 0;
		goto out;
	}
	nlh = (struct nlmsghdr *)(b->buf + b->lastoff);
	nlh->nlmsg_flags |= NLM_F_ACK;
	last = nlh->nlmsg_seq;
	if (reserve(b, MSG_MAXHDR) == -1) {
		log_warn("nft table inet %s: building a batch", b->table);
		goto out;
	}
	end = b->seq++;
	nlh = nftnl_batch_end(b->buf + b->len, end);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);

	if (fit_sndbuf(b) == -1)
		goto out;
	drain(b);
	if (mnl_socket_sendto(b->nl, b->buf, b->len) == -1) {
		log_warn("nft table inet %s: sending a batch of %zu bytes%s",
		    b->table, b->len, nlb_hint(errno));
		goto out;
	}
	ret = collect(b, end, last, r);
 out:
	nlb_discard(b);
	return ret;
}
