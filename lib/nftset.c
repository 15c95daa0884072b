/*
 * The nftables whitelist sets, over libmnl and libnftnl.
 *
 * Changes are queued as operations and sent as one batch (BEGIN, element
 * messages, END) that the kernel applies as one transaction.  The kernel
 * runs a batch inside our sendmsg(), so when that returns every reply is
 * already queued on the socket.  Only the last element message asks for
 * an acknowledgement: errors come back for every failing message anyway,
 * in order, and one ack per message would overflow the receive buffer on
 * large batches.
 *
 * Element messages are encoded here with libmnl's bounded attribute
 * calls, without one allocation per element; libnftnl builds the headers
 * and parses what the kernel sends back.
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

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "log.h"
#include "nftset.h"
#include "nlsock.h"

/*
 * Elements per element message.  The element list is one netlink nest
 * with a 16-bit length: about 2,300 IPv4 elements with timeouts fit, and
 * past that the kernel fails every message with a misleading ENOENT.
 */
#define ELEMS_PER_MSG	1000
/* One encoded element at most: an IPv6 key and a timeout take 40. */
#define ELEM_MAXLEN	64
_Static_assert(ELEMS_PER_MSG * ELEM_MAXLEN < UINT16_MAX,
    "element list must fit a netlink nest");
/* Headers of one message with the table and set names. */
#define MSG_MAXHDR	(2 * NFT_NAME_MAXLEN + 128)
/* The largest batch built: socket buffer sizes are ints. */
#define BATCH_MAX	(256UL * 1024 * 1024)
/* An op becomes at most three encoded elements. */
#define OPS_MAX		(BATCH_MAX / (3 * ELEM_MAXLEN))
/* Replies: the largest nf_tables message is a little over 64 KiB. */
#define RBUF_LEN	(UINT16_MAX + 8192)
/* Room for the error replies of a large failed batch (NETLINK_CAP_ACK). */
#define SOCK_RCVBUF	(1024 * 1024)
/* Larger buffers are freed after a commit rather than kept. */
#define KEEP_BYTES	(256 * 1024)
/* Duplicate detection in one message: a power of two > 2 * ELEMS_PER_MSG. */
#define DUP_SLOTS	2048
/* Failing messages named in the log, per batch. */
#define MAX_REPORT	1
/* How long to wait for replies the kernel has not queued yet. */
#define ACK_WAIT_MS	2000
/* nft's datatype numbers of ipv4_addr and ipv6_addr */
#define NFT_TYPE_IPADDR		7
#define NFT_TYPE_IP6ADDR	8

enum op_type {
	OP_FLUSH,	/* empty the set */
	OP_PUT,		/* add after a flush: no refresh needed */
	OP_ADD,		/* add, delete, add with timeout: a refresh */
	OP_DEL		/* add, delete: an absent element is no error */
};

struct op {
	struct addr	 addr;		/* OP_FLUSH: only af */
	uint64_t	 timeout_ms;
	enum op_type	 type;
};

/* What an element message of the batch carried, to name a failure. */
struct msginfo {
	const char	*what;
	uint32_t	 seq;
	int		 af;
	size_t		 first;		/* index in ops of its first element */
	size_t		 count;
};

struct nftset {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;		/* next sequence number */
	int			 sndbuf;	/* as getsockopt reports it */
	char			 table[NFT_TABLE_MAXNAMELEN];
	char			 set4[NFT_SET_MAXNAMELEN];
	char			 set6[NFT_SET_MAXNAMELEN];
	struct op		*ops;		/* the queue */
	size_t			 nops;
	size_t			 opscap;
	struct msginfo		*msgs;		/* the batch's element messages */
	size_t			 nmsgs;
	size_t			 msgscap;
	char			*buf;		/* the batch */
	size_t			 buflen;
	size_t			 bufcap;
	size_t			 lastmsg;	/* offset of the last message */
	size_t			 chunk[ELEMS_PER_MSG];	/* ops of one message */
	uint16_t		 dup[DUP_SLOTS];
	char			 rbuf[RBUF_LEN] __attribute__((aligned(8)));
};

struct setinfo {
	uint32_t	 keytype;
	uint32_t	 keylen;
	uint32_t	 flags;
	int		 found;
};

struct listctx {
	int		(*cb)(const struct addr *, uint64_t, uint64_t, void *);
	void		*arg;
	int		 stopped;
};

struct lookupctx {
	uint64_t	 timeout_ms;
	uint64_t	 expires_ms;
	int		 found;
};

static const char *
setname(const struct nftset *ns, int af)
{
	return af == AF_INET ? ns->set4 : ns->set6;
}

static const char *
hint(int error)
{
	switch (error) {
	case EPERM:
		return " (CAP_NET_ADMIN is needed)";
	case ENOENT:
		return " (missing table or set?)";
	default:
		return "";
	}
}

/*
 * Read one datagram from the kernel into ns->rbuf: its length, 0 for
 * one not sent by the kernel, or -1.
 */
static ssize_t
recv_reply(struct nftset *ns, int flags)
{
	struct sockaddr_nl	 sa;
	struct iovec		 iov;
	struct msghdr		 msg;
	ssize_t			 n;

	iov.iov_base = ns->rbuf;
	iov.iov_len = sizeof(ns->rbuf);
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &sa;
	msg.msg_namelen = sizeof(sa);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if ((n = recvmsg(mnl_socket_get_fd(ns->nl), &msg, flags)) == -1)
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
drain(struct nftset *ns)
{
	int	 i;

	for (i = 0; i < 10000; i++) {
		if (recv_reply(ns, MSG_DONTWAIT) == -1 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
	}
	if (i > 0)
		log_debug("nft table inet %s: dropped %d stale replies",
		    ns->table, i);
}

/*
 * Send one request and feed its replies to cb until the kernel says it
 * is done.  libmnl checks sequence number and port id of every reply.
 */
static int
request(struct nftset *ns, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	uint32_t	 seq = nlh->nlmsg_seq;
	ssize_t		 n;
	int		 ret;

	drain(ns);
	if (mnl_socket_sendto(ns->nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	do {
		n = mnl_socket_recvfrom(ns->nl, ns->rbuf, sizeof(ns->rbuf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		ret = mnl_cb_run(ns->rbuf, n, seq, ns->portid, cb, arg);
	} while (ret > 0);
	return ret == -1 ? -1 : 0;
}

static int
ignore_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_OK;
}

/* Start an element message for set in buf: NULL if room is too small. */
static struct nlmsghdr *
elem_msg(char *buf, size_t room, uint16_t type, uint16_t flags,
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

/* Append one element to an open element list: 0, or -1 if no room. */
static int
elem_put(struct nlmsghdr *nlh, size_t room, const struct addr *a,
    uint64_t timeout_ms)
{
	struct nlattr	*elem, *key;
	uint64_t	 be;

	if ((elem = mnl_attr_nest_start_check(nlh, room, NFTA_LIST_ELEM)) ==
	    NULL)
		return -1;
	if (timeout_ms != 0) {
		be = htobe64(timeout_ms);
		if (!mnl_attr_put_check(nlh, room, NFTA_SET_ELEM_TIMEOUT,
		    sizeof(be), &be))
			return -1;
	}
	if ((key = mnl_attr_nest_start_check(nlh, room, NFTA_SET_ELEM_KEY)) ==
	    NULL)
		return -1;
	if (!mnl_attr_put_check(nlh, room, NFTA_DATA_VALUE, addr_len(a),
	    a->a))
		return -1;
	mnl_attr_nest_end(nlh, key);
	mnl_attr_nest_end(nlh, elem);
	return 0;
}

/* Make room for need more bytes of batch. */
static int
reserve(struct nftset *ns, size_t need)
{
	size_t	 cap;
	char	*p;

	if (need <= ns->bufcap - ns->buflen)
		goto zero;
	if (need > BATCH_MAX - ns->buflen) {
		errno = EMSGSIZE;
		return -1;
	}
	cap = ns->bufcap != 0 ? ns->bufcap : 16384;
	while (cap - ns->buflen < need)
		cap *= 2;
	if (cap > BATCH_MAX)
		cap = BATCH_MAX;
	if ((p = realloc(ns->buf, cap)) == NULL)
		return -1;
	ns->buf = p;
	ns->bufcap = cap;
 zero:
	/* libmnl leaves attribute padding as it finds it */
	memset(ns->buf + ns->buflen, 0, need);
	return 0;
}

static int
note_msg(struct nftset *ns, const char *what, uint32_t seq, int af,
    size_t first, size_t count)
{
	struct msginfo	*m;
	size_t		 cap;

	if (ns->nmsgs == ns->msgscap) {
		cap = ns->msgscap != 0 ? ns->msgscap * 2 : 16;
		m = reallocarray(ns->msgs, cap, sizeof(*m));
		if (m == NULL)
			return -1;
		ns->msgs = m;
		ns->msgscap = cap;
	}
	m = &ns->msgs[ns->nmsgs++];
	m->what = what;
	m->seq = seq;
	m->af = af;
	m->first = first;
	m->count = count;
	return 0;
}

/*
 * Append one element message with the n ops of ns->chunk (n == 0: no
 * element list, which for DELSETELEM flushes the set).
 */
static int
put_msg(struct nftset *ns, uint16_t type, uint16_t flags, int af,
    size_t n, int timeouts, const char *what)
{
	struct nlmsghdr	*nlh;
	struct nlattr	*list;
	const struct op	*op;
	size_t		 room, i;
	uint32_t	 seq;

	if (reserve(ns, MSG_MAXHDR + n * ELEM_MAXLEN) == -1)
		return -1;
	room = ns->bufcap - ns->buflen;
	seq = ns->seq++;
	nlh = elem_msg(ns->buf + ns->buflen, room, type, flags, seq,
	    ns->table, setname(ns, af));
	if (nlh == NULL)
		goto full;
	if (n > 0) {
		list = mnl_attr_nest_start_check(nlh, room,
		    NFTA_SET_ELEM_LIST_ELEMENTS);
		if (list == NULL)
			goto full;
		for (i = 0; i < n; i++) {
			op = &ns->ops[ns->chunk[i]];
			if (elem_put(nlh, room, &op->addr,
			    timeouts ? op->timeout_ms : 0) == -1)
				goto full;
		}
		mnl_attr_nest_end(nlh, list);
	}
	ns->lastmsg = ns->buflen;
	ns->buflen += NLMSG_ALIGN(nlh->nlmsg_len);
	return note_msg(ns, what, seq, af, n > 0 ? ns->chunk[0] : 0, n);
 full:
	/* The reservation above covers the worst case: a bug. */
	log_warnx("nft set inet %s %s: message of %zu elements overflows",
	    ns->table, setname(ns, af), n);
	errno = EMSGSIZE;
	return -1;
}

/* The messages for n queued ops of one type and family. */
static int
put_chunk(struct nftset *ns, enum op_type type, int af, size_t n)
{
	switch (type) {
	case OP_PUT:
		return put_msg(ns, NFT_MSG_NEWSETELEM, NLM_F_CREATE, af, n, 1,
		    "add");
	case OP_ADD:
		/* Present for sure, then gone, then back with its timeout. */
		if (put_msg(ns, NFT_MSG_NEWSETELEM, NLM_F_CREATE, af, n, 0,
		    "add") == -1 ||
		    put_msg(ns, NFT_MSG_DELSETELEM, 0, af, n, 0,
		    "refresh") == -1)
			return -1;
		return put_msg(ns, NFT_MSG_NEWSETELEM, NLM_F_CREATE, af, n, 1,
		    "add");
	case OP_DEL:
		/* A delete of an absent element would abort the batch. */
		if (put_msg(ns, NFT_MSG_NEWSETELEM, NLM_F_CREATE, af, n, 0,
		    "delete") == -1)
			return -1;
		return put_msg(ns, NFT_MSG_DELSETELEM, 0, af, n, 0, "delete");
	case OP_FLUSH:
		break;
	}
	return put_msg(ns, NFT_MSG_DELSETELEM, 0, af, 0, 0, "flush");
}

/*
 * Is op i's address already among the n ops of the chunk?  If not, note
 * it.  A second delete of one element in one message fails with ENOENT.
 */
static int
chunk_has(struct nftset *ns, size_t n, size_t i)
{
	const struct addr	*a = &ns->ops[i].addr;
	size_t			 slot;
	uint16_t		 v;

	slot = addr_hash(a, 0) & (DUP_SLOTS - 1);
	while ((v = ns->dup[slot]) != 0) {
		if (memcmp(ns->ops[ns->chunk[v - 1]].addr.a, a->a,
		    addr_len(a)) == 0)
			return 1;
		slot = (slot + 1) & (DUP_SLOTS - 1);
	}
	ns->dup[slot] = n + 1;
	return 0;
}

/*
 * Encode the queue as a batch.  The sets of the two families never
 * interact, so each family's ops are emitted in queue order, and runs of
 * one kind of op share messages.
 */
static int
build(struct nftset *ns, uint32_t *beginp, uint32_t *endp)
{
	static const int	 afs[] = { AF_INET, AF_INET6 };
	struct nlmsghdr		*nlh;
	enum op_type		 type;
	size_t			 i, j, n, k;
	int			 af;

	ns->buflen = 0;
	ns->nmsgs = 0;
	if (reserve(ns, MSG_MAXHDR) == -1)
		return -1;
	*beginp = ns->seq++;
	nlh = nftnl_batch_begin(ns->buf, *beginp);
	ns->buflen += NLMSG_ALIGN(nlh->nlmsg_len);

	for (k = 0; k < sizeof(afs) / sizeof(afs[0]); k++) {
		af = afs[k];
		for (i = 0; i < ns->nops;) {
			if (ns->ops[i].addr.af != af) {
				i++;
				continue;
			}
			type = ns->ops[i].type;
			if (type == OP_FLUSH) {
				if (put_chunk(ns, type, af, 0) == -1)
					return -1;
				i++;
				continue;
			}
			memset(ns->dup, 0, sizeof(ns->dup));
			for (n = 0, j = i; j < ns->nops && n < ELEMS_PER_MSG;
			    j++) {
				if (ns->ops[j].addr.af != af)
					continue;
				if (ns->ops[j].type != type)
					break;
				if (type != OP_PUT && chunk_has(ns, n, j))
					break;
				ns->chunk[n++] = j;
			}
			if (put_chunk(ns, type, af, n) == -1)
				return -1;
			i = j;
		}
	}

	nlh = (struct nlmsghdr *)(ns->buf + ns->lastmsg);
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (reserve(ns, MSG_MAXHDR) == -1)
		return -1;
	*endp = ns->seq++;
	nlh = nftnl_batch_end(ns->buf + ns->buflen, *endp);
	ns->buflen += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

/* The whole batch must go in one sendmsg: make the send buffer fit. */
static int
fit_sndbuf(struct nftset *ns, size_t len)
{
	int	 got;

	if (ns->sndbuf > 0 && (size_t)ns->sndbuf >= len + 4096)
		return 0;
	if ((got = nl_fit_sndbuf(ns->nl, len)) == -1) {
		if (errno == EMSGSIZE)
			log_warnx("nft table inet %s: batch of %zu bytes "
			    "exceeds the socket send buffer (CAP_NET_ADMIN "
			    "lifts the limit)", ns->table, len);
		else
			log_warn("nft table inet %s: socket send buffer",
			    ns->table);
		return -1;
	}
	ns->sndbuf = got;
	return 0;
}

static const struct msginfo *
find_msg(const struct nftset *ns, uint32_t seq)
{
	size_t	 lo = 0, hi = ns->nmsgs, mid;

	/* sequence numbers grow through the batch (modulo 2^32) */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ns->msgs[mid].seq == seq)
			return &ns->msgs[mid];
		if ((int32_t)(ns->msgs[mid].seq - seq) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
report(const struct nftset *ns, uint32_t seq, int error)
{
	const struct msginfo	*m;
	char			 a[INET6_ADDRSTRLEN];

	if ((m = find_msg(ns, seq)) == NULL)
		log_warnx("nft table inet %s: batch refused: %s%s", ns->table,
		    strerror(error), hint(error));
	else if (m->count == 0)
		log_warnx("nft set inet %s %s: %s: %s%s", ns->table,
		    setname(ns, m->af), m->what, strerror(error), hint(error));
	else
		log_warnx("nft set inet %s %s: %s of %zu element%s (%s%s): "
		    "%s%s", ns->table, setname(ns, m->af), m->what, m->count,
		    m->count == 1 ? "" : "s", m->count == 1 ? "" : "first ",
		    addr_str(&ns->ops[m->first].addr, a, sizeof(a)),
		    strerror(error), hint(error));
}

/*
 * Collect the replies to the batch [begin, end].  It is over when the
 * reply to its last message is in (errors come in message order), or a
 * reply to BEGIN or END (the batch as a whole was refused).
 */
static int
collect(struct nftset *ns, uint32_t begin, uint32_t end)
{
	const struct nlmsghdr	*nlh;
	const struct nlmsgerr	*e;
	struct pollfd		 pfd;
	uint32_t		 last, seq;
	ssize_t			 n;
	int			 len, done = 0, waited = 0, lost = 0;
	int			 nfail = 0, first = 0;

	last = ((struct nlmsghdr *)(ns->buf + ns->lastmsg))->nlmsg_seq;
	while (!done) {
		if ((n = recv_reply(ns, MSG_DONTWAIT)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost = 1;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_warn("nft table inet %s: reading replies",
				    ns->table);
				return -1;
			}
			if (waited)
				break;
			/* Not expected: the kernel answers within sendmsg. */
			pfd.fd = mnl_socket_get_fd(ns->nl);
			pfd.events = POLLIN;
			if (poll(&pfd, 1, ACK_WAIT_MS) == -1 && errno != EINTR) {
				log_warn("nft table inet %s: poll", ns->table);
				return -1;
			}
			waited = 1;
			continue;
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)ns->rbuf; mnl_nlmsg_ok(nlh, len);
		    nlh = mnl_nlmsg_next(nlh, &len)) {
			seq = nlh->nlmsg_seq;
			if (nlh->nlmsg_pid != ns->portid ||
			    seq - begin > end - begin ||
			    nlh->nlmsg_type != NLMSG_ERROR) {
				log_debug("nft table inet %s: stray reply "
				    "type %u seq %u", ns->table,
				    nlh->nlmsg_type, seq);
				continue;
			}
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				log_warnx("nft table inet %s: short reply",
				    ns->table);
				errno = EBADMSG;
				return -1;
			}
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error != 0) {
				if (nfail++ < MAX_REPORT)
					report(ns, seq, -e->error);
				if (first == 0)
					first = -e->error;
			}
			if (seq == last || seq == begin || seq == end)
				done = 1;
		}
	}
	if (nfail > MAX_REPORT)
		log_debug("nft table inet %s: %d more failed messages",
		    ns->table, nfail - MAX_REPORT);
	if (first != 0) {
		errno = first;
		return -1;
	}
	if (!done) {
		log_warnx("nft table inet %s: no acknowledgement for the "
		    "batch%s", ns->table, lost ? " (replies lost)" : "");
		errno = lost ? ENOBUFS : EPROTO;
		return -1;
	}
	return 0;
}

/* The queue is sent and forgotten, whatever happens. */
static void
discard(struct nftset *ns)
{
	int	 saved = errno;

	ns->nops = 0;
	ns->nmsgs = 0;
	ns->buflen = 0;
	if (ns->opscap * sizeof(*ns->ops) > KEEP_BYTES) {
		free(ns->ops);
		ns->ops = NULL;
		ns->opscap = 0;
	}
	if (ns->msgscap * sizeof(*ns->msgs) > KEEP_BYTES) {
		free(ns->msgs);
		ns->msgs = NULL;
		ns->msgscap = 0;
	}
	if (ns->bufcap > KEEP_BYTES) {
		free(ns->buf);
		ns->buf = NULL;
		ns->bufcap = 0;
	}
	errno = saved;
}

static int
commit(struct nftset *ns)
{
	char		 why[512];
	uint32_t	 begin, end;
	int		 saved;

	if (build(ns, &begin, &end) == -1) {
		log_warn("nft table inet %s: building a batch of %zu changes",
		    ns->table, ns->nops);
		return -1;
	}
	if (fit_sndbuf(ns, ns->buflen) == -1)
		return -1;
	drain(ns);
	if (mnl_socket_sendto(ns->nl, ns->buf, ns->buflen) == -1) {
		log_warn("nft table inet %s: sending a batch of %zu bytes%s",
		    ns->table, ns->buflen, hint(errno));
		return -1;
	}
	if (collect(ns, begin, end) == -1) {
		saved = errno;
		/* Say what exactly is missing or wrong, if anything. */
		if ((saved == ENOENT || saved == EINVAL) &&
		    nftset_check(ns, why, sizeof(why)) == -1)
			log_warnx("%s", why);
		errno = saved;
		return -1;
	}
	log_debug("nft table inet %s: %zu changes in %zu messages, "
	    "%zu bytes", ns->table, ns->nops, ns->nmsgs, ns->buflen);
	return 0;
}

static int
queue(struct nftset *ns, enum op_type type, const struct addr *a,
    uint64_t timeout_ms)
{
	struct op	*op;
	size_t		 cap;

	if (a->af != AF_INET && a->af != AF_INET6) {
		log_warnx("nft table inet %s: address family %d", ns->table,
		    a->af);
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (ns->nops == ns->opscap) {
		if (ns->nops >= OPS_MAX) {
			log_warnx("nft table inet %s: more than %zu changes "
			    "in one batch", ns->table, (size_t)OPS_MAX);
			errno = E2BIG;
			return -1;
		}
		cap = ns->opscap != 0 ? ns->opscap * 2 : 16;
		if (cap > OPS_MAX)
			cap = OPS_MAX;
		if ((op = reallocarray(ns->ops, cap, sizeof(*op))) == NULL) {
			log_warn("nft table inet %s: queue", ns->table);
			return -1;
		}
		ns->ops = op;
		ns->opscap = cap;
	}
	op = &ns->ops[ns->nops++];
	op->addr = *a;
	op->timeout_ms = timeout_ms;
	op->type = type;
	return 0;
}

static int
idle(struct nftset *ns)
{
	if (ns->nops == 0)
		return 0;
	log_warnx("nft table inet %s: %zu changes queued and not committed",
	    ns->table, ns->nops);
	errno = EBUSY;
	return -1;
}

int
nftset_parse_names(const char *arg, char **table, char **set4, char **set6,
    char *err, size_t errlen)
{
	char	*s, *f[3];
	size_t	 i;

	if ((s = strdup(arg)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if ((f[i] = strsep(&s, ":")) == NULL)
			continue;
		if (strlen(f[i]) >= NFT_NAME_MAXLEN) {
			snprintf(err, errlen, "name too long");
			return -1;
		}
		if (strspn(f[i], "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
		    strlen(f[i])) {
			snprintf(err, errlen, "names may hold letters, digits, "
			    "'_', '-' and '.' only");
			return -1;
		}
		if (*f[i] == '\0')
			f[i] = NULL;
	}
	if (s != NULL) {
		snprintf(err, errlen, "expected table:set:set6");
		return -1;
	}
	*table = f[0];
	*set4 = f[1];
	*set6 = f[2];
	return 0;
}

struct nftset *
nftset_open(const char *table, const char *set4, const char *set6)
{
	struct nftset	*ns;
	socklen_t	 sl;
	int		 one = 1, rcv = SOCK_RCVBUF, fd;

	table = table != NULL ? table : NFTSET_TABLE;
	set4 = set4 != NULL ? set4 : NFTSET_SET4;
	set6 = set6 != NULL ? set6 : NFTSET_SET6;
	if (*table == '\0' || *set4 == '\0' || *set6 == '\0' ||
	    strlen(table) >= NFT_TABLE_MAXNAMELEN ||
	    strlen(set4) >= NFT_SET_MAXNAMELEN ||
	    strlen(set6) >= NFT_SET_MAXNAMELEN) {
		log_warnx("nft: bad table or set name");
		errno = EINVAL;
		return NULL;
	}
	if ((ns = calloc(1, sizeof(*ns))) == NULL) {
		log_warn("nft: calloc");
		return NULL;
	}
	strlcpy(ns->table, table, sizeof(ns->table));
	strlcpy(ns->set4, set4, sizeof(ns->set4));
	strlcpy(ns->set6, set6, sizeof(ns->set6));

	if ((ns->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL) {
		if (errno == EPROTONOSUPPORT)
			log_warn("nft: netfilter netlink socket (the kernel "
			    "lacks CONFIG_NETFILTER_NETLINK and nf_tables)");
		else
			log_warn("nft: netfilter netlink socket");
		goto fail;
	}
	if (mnl_socket_bind(ns->nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		log_warn("nft: bind netlink socket");
		goto fail;
	}
	ns->portid = mnl_socket_get_portid(ns->nl);
	fd = mnl_socket_get_fd(ns->nl);
	/* Error replies without a copy of the failed message (>= 4.3). */
	if (mnl_socket_setsockopt(ns->nl, NETLINK_CAP_ACK, &one,
	    sizeof(one)) == -1)
		log_debug("nft: NETLINK_CAP_ACK: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
	    sizeof(rcv)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) == -1)
		log_warn("nft: SO_RCVBUF %d", rcv);
	sl = sizeof(ns->sndbuf);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &ns->sndbuf, &sl) == -1) {
		log_warn("nft: getsockopt SO_SNDBUF");
		goto fail;
	}
	ns->seq = (uint32_t)time(NULL);
	return ns;
 fail:
	nftset_close(ns);
	return NULL;
}

void
nftset_close(struct nftset *ns)
{
	int	 saved = errno;

	if (ns == NULL)
		return;
	if (ns->nl != NULL && mnl_socket_close(ns->nl) == -1)
		log_warn("nft: close netlink socket");
	free(ns->ops);
	free(ns->msgs);
	free(ns->buf);
	free(ns);
	errno = saved;
}

void
nftset_begin(struct nftset *ns)
{
	discard(ns);
}

int
nftset_queue_add(struct nftset *ns, const struct addr *a,
    uint64_t timeout_ms)
{
	return queue(ns, OP_ADD, a, timeout_ms);
}

int
nftset_queue_del(struct nftset *ns, const struct addr *a)
{
	return queue(ns, OP_DEL, a, 0);
}

int
nftset_commit(struct nftset *ns)
{
	int	 ret;

	if (ns->nops == 0)
		return 0;
	ret = commit(ns);
	discard(ns);
	return ret;
}

int
nftset_add(struct nftset *ns, const struct addr *a, uint64_t timeout_ms)
{
	if (idle(ns) == -1 || queue(ns, OP_ADD, a, timeout_ms) == -1)
		return -1;
	return nftset_commit(ns);
}

int
nftset_del(struct nftset *ns, const struct addr *a)
{
	if (idle(ns) == -1 || queue(ns, OP_DEL, a, 0) == -1)
		return -1;
	return nftset_commit(ns);
}

int
nftset_replace(struct nftset *ns, const struct nftset_elem *elems, size_t n)
{
	struct addr	 any;
	size_t		 i;

	if (idle(ns) == -1)
		return -1;
	memset(&any, 0, sizeof(any));
	any.af = AF_INET;
	if (queue(ns, OP_FLUSH, &any, 0) == -1)
		goto fail;
	any.af = AF_INET6;
	if (queue(ns, OP_FLUSH, &any, 0) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (queue(ns, OP_PUT, &elems[i].addr, elems[i].timeout_ms) ==
		    -1)
			goto fail;
	return nftset_commit(ns);
 fail:
	discard(ns);
	return -1;
}

static int
set_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct setinfo	*si = arg;
	struct nftnl_set *s;

	if ((s = nftnl_set_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	si->keytype = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
	si->keylen = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
	si->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	si->found = 1;
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* Turn a failed request into advice for the administrator. */
static void
explain(const struct nftset *ns, const char *set, const char *type,
    int error, char *err, size_t errlen)
{
	switch (error) {
	case EPERM:
		snprintf(err, errlen, "no permission to use nftables: "
		    "CAP_NET_ADMIN is needed");
		break;
	case EINVAL:
	case EOPNOTSUPP:
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		if (set != NULL)
			goto other;
		/* what nfnetlink answers when nf_tables is not there */
		snprintf(err, errlen, "the kernel has no nf_tables for the "
		    "inet family (CONFIG_NF_TABLES, CONFIG_NF_TABLES_INET): "
		    "%s", strerror(error));
		break;
	case ENOENT:
		if (set == NULL)
			snprintf(err, errlen, "no nft table inet %s: load the "
			    "ruleset (nft -f spamd.nft; the example is "
			    "etc/spamd.nft)", ns->table);
		else
			snprintf(err, errlen, "nft table inet %s has no set "
			    "%s: load the ruleset (nft -f spamd.nft; the "
			    "example is etc/spamd.nft) or: nft add set inet "
			    "%s %s '{ type %s; flags timeout; }'", ns->table,
			    set, ns->table, set, type);
		break;
	default:
 other:
		snprintf(err, errlen, "nft table inet %s%s%s: %s", ns->table,
		    set != NULL ? " set " : "", set != NULL ? set : "",
		    strerror(error));
		break;
	}
}

static int
check_set(struct nftset *ns, int af, char *err, size_t errlen)
{
	char		 req[MSG_MAXHDR];
	struct setinfo	 si;
	struct nftnl_set *s;
	struct nlmsghdr	*nlh;
	const char	*set = setname(ns, af), *type;
	uint32_t	 keytype, keylen, bad;

	type = af == AF_INET ? "ipv4_addr" : "ipv6_addr";
	keytype = af == AF_INET ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR;
	keylen = af == AF_INET ? 4 : 16;
	if ((s = nftnl_set_alloc()) == NULL ||
	    nftnl_set_set_str(s, NFTNL_SET_TABLE, ns->table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, set) < 0) {
		snprintf(err, errlen, "nft set %s: %s", set, strerror(errno));
		if (s != NULL)
			nftnl_set_free(s);
		return -1;
	}
	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETSET, NFPROTO_INET,
	    NLM_F_ACK, ns->seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	memset(&si, 0, sizeof(si));
	if (request(ns, nlh, set_cb, &si) == -1) {
		explain(ns, set, type, errno, err, errlen);
		return -1;
	}
	if (!si.found) {
		snprintf(err, errlen, "nft set inet %s %s: no reply",
		    ns->table, set);
		errno = EPROTO;
		return -1;
	}
	if (si.keylen != keylen || (si.keytype != 0 && si.keytype != keytype)) {
		snprintf(err, errlen, "nft set inet %s %s has keys of type %u "
		    "and %u bytes, not %s: delete it and load the ruleset "
		    "(see etc/spamd.nft)", ns->table, set, si.keytype,
		    si.keylen, type);
		errno = EINVAL;
		return -1;
	}
	if ((si.flags & NFT_SET_TIMEOUT) == 0) {
		snprintf(err, errlen, "nft set inet %s %s lacks \"flags "
		    "timeout\": delete it and load the ruleset (see "
		    "etc/spamd.nft)", ns->table, set);
		errno = EINVAL;
		return -1;
	}
	bad = si.flags & (NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
	    NFT_SET_INTERVAL | NFT_SET_MAP | NFT_SET_OBJECT | NFT_SET_CONCAT);
	if (bad != 0) {
		snprintf(err, errlen, "nft set inet %s %s is not a plain "
		    "address set (flags 0x%x): delete it and load the "
		    "ruleset (see etc/spamd.nft)", ns->table, set, bad);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
nftset_check(struct nftset *ns, char *err, size_t errlen)
{
	char		 req[MSG_MAXHDR];
	struct nlmsghdr	*nlh;

	if (errlen > 0)
		*err = '\0';
	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, ns->seq++);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, ns->table);
	if (request(ns, nlh, ignore_cb, NULL) == -1) {
		explain(ns, NULL, NULL, errno, err, errlen);
		return -1;
	}
	if (check_set(ns, AF_INET, err, errlen) == -1 ||
	    check_set(ns, AF_INET6, err, errlen) == -1)
		return -1;
	return 0;
}

static int
elem_addr(struct nftnl_set_elem *e, struct addr *a)
{
	const void	*key;
	uint32_t	 len;

	if ((key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len)) == NULL ||
	    (len != 4 && len != 16))
		return -1;
	memset(a, 0, sizeof(*a));
	a->af = len == 4 ? AF_INET : AF_INET6;
	memcpy(a->a, key, len);
	return 0;
}

static uint64_t
elem_u64(struct nftnl_set_elem *e, uint16_t attr)
{
	return nftnl_set_elem_is_set(e, attr) ?
	    nftnl_set_elem_get_u64(e, attr) : 0;
}

/* Parse a NEWSETELEM reply and call fn per element. */
static int
each_elem(const struct nlmsghdr *nlh, int (*fn)(struct nftnl_set_elem *,
    void *), void *arg)
{
	struct nftnl_set		*s;
	struct nftnl_set_elems_iter	*it;
	struct nftnl_set_elem		*e;
	int				 ret = MNL_CB_OK;

	if ((s = nftnl_set_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if ((it = nftnl_set_elems_iter_create(s)) == NULL) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	while ((e = nftnl_set_elems_iter_next(it)) != NULL)
		fn(e, arg);
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return ret;
}

static int
list_elem(struct nftnl_set_elem *e, void *arg)
{
	struct listctx	*lc = arg;
	struct addr	 a;

	if (lc->stopped || elem_addr(e, &a) == -1)
		return 0;
	if (lc->cb(&a, elem_u64(e, NFTNL_SET_ELEM_TIMEOUT),
	    elem_u64(e, NFTNL_SET_ELEM_EXPIRATION), lc->arg) != 0)
		lc->stopped = 1;
	return 0;
}

static int
list_cb(const struct nlmsghdr *nlh, void *arg)
{
	return each_elem(nlh, list_elem, arg);
}

static int
list_one(struct nftset *ns, int af, struct listctx *lc)
{
	char		 req[MSG_MAXHDR];
	struct nlmsghdr	*nlh;

	memset(req, 0, sizeof(req));
	nlh = elem_msg(req, sizeof(req), NFT_MSG_GETSETELEM, NLM_F_DUMP,
	    ns->seq++, ns->table, setname(ns, af));
	if (nlh == NULL) {
		errno = EMSGSIZE;
		return -1;
	}
	if (request(ns, nlh, list_cb, lc) == -1) {
		if (errno != EINTR)
			log_warn("nft set inet %s %s: list%s", ns->table,
			    setname(ns, af), hint(errno));
		return -1;
	}
	return 0;
}

int
nftset_list(struct nftset *ns, int af,
    int (*cb)(const struct addr *, uint64_t, uint64_t, void *), void *arg)
{
	struct listctx	 lc;

	memset(&lc, 0, sizeof(lc));
	lc.cb = cb;
	lc.arg = arg;
	if (af != AF_INET6 && list_one(ns, AF_INET, &lc) == -1)
		return -1;
	if (af != AF_INET && !lc.stopped && list_one(ns, AF_INET6, &lc) == -1)
		return -1;
	return 0;
}

static int
lookup_elem(struct nftnl_set_elem *e, void *arg)
{
	struct lookupctx	*lk = arg;

	lk->timeout_ms = elem_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	lk->expires_ms = elem_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	lk->found = 1;
	return 0;
}

static int
lookup_cb(const struct nlmsghdr *nlh, void *arg)
{
	return each_elem(nlh, lookup_elem, arg);
}

int
nftset_lookup(struct nftset *ns, const struct addr *a, uint64_t *timeout_ms,
    uint64_t *expires_ms)
{
	char			 req[MSG_MAXHDR + ELEM_MAXLEN];
	char			 as[INET6_ADDRSTRLEN];
	struct lookupctx	 lk;
	struct nlmsghdr		*nlh;
	struct nlattr		*list;

	if (a->af != AF_INET && a->af != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	memset(req, 0, sizeof(req));
	nlh = elem_msg(req, sizeof(req), NFT_MSG_GETSETELEM, NLM_F_ACK,
	    ns->seq++, ns->table, setname(ns, a->af));
	if (nlh == NULL ||
	    (list = mnl_attr_nest_start_check(nlh, sizeof(req),
	    NFTA_SET_ELEM_LIST_ELEMENTS)) == NULL ||
	    elem_put(nlh, sizeof(req), a, 0) == -1) {
		errno = EMSGSIZE;
		return -1;
	}
	mnl_attr_nest_end(nlh, list);
	memset(&lk, 0, sizeof(lk));
	if (request(ns, nlh, lookup_cb, &lk) == -1) {
		if (errno != ENOENT)
			log_warn("nft set inet %s %s: get %s%s", ns->table,
			    setname(ns, a->af), addr_str(a, as, sizeof(as)),
			    hint(errno));
		return -1;
	}
	if (!lk.found) {
		errno = ENOENT;
		return -1;
	}
	if (timeout_ms != NULL)
		*timeout_ms = lk.timeout_ms;
	if (expires_ms != NULL)
		*expires_ms = lk.expires_ms;
	return 0;
}
