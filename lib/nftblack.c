/*
 * Interval sets for blacklist-only mode, over libmnl and libnftnl.
 *
 * An interval set holds a range [a, b] as two elements: a, and b+1 with
 * the INTERVAL_END flag; a range that reaches the last address has no
 * end element.  Like nft, we also send an end element at address 0 when
 * the first range does not start there, which marks everything below it
 * as outside the set.  The batch is BEGIN, a flush of each set, the
 * elements in ascending order (at most ELEMS_PER_MSG per message, as the
 * element list is a netlink nest with a 16-bit length), END; only the
 * last message asks for an acknowledgement, errors come back anyway.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>		/* before the linux headers */
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
#include "nftblack.h"
#include "nlsock.h"

#define ELEMS_PER_MSG	1000
#define ELEM_MAXLEN	48	/* nest, flags, key nest, 16-byte key */
#define MSG_MAXHDR	(2 * NFT_NAME_MAXLEN + 128)
#define BATCH_MAX	(512UL * 1024 * 1024)
#define RBUF_LEN	(UINT16_MAX + 8192)
#define SOCK_RCVBUF	(1024 * 1024)
#define ACK_WAIT_MS	5000

struct batch {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 last;		/* offset of the last message */
	uint32_t	 seq;
	uint32_t	 first;		/* sequence numbers of the batch */
	const char	*table;
	/* the open element message */
	struct nlmsghdr	*nlh;
	struct nlattr	*list;
	const char	*set;
	size_t		 nelem;
};

static int	reserve(struct batch *, size_t);
static int	msg_open(struct batch *, uint16_t, uint16_t, const char *);
static void	msg_close(struct batch *);
static int	elem(struct batch *, const char *, int,
		    const struct cidr_ip *, int);
static int	add_set(struct batch *, const char *,
		    const struct cidr_list *);
static int	collect(struct mnl_socket *, uint32_t, char *, uint32_t,
		    uint32_t, uint32_t);
static const char *hint(int);

static int
reserve(struct batch *b, size_t need)
{
	size_t	 cap, nlhoff = 0, listoff = 0;
	char	*p;

	if (need <= b->cap - b->len)
		goto zero;
	if (need > BATCH_MAX - b->len) {
		errno = EMSGSIZE;
		return -1;
	}
	cap = b->cap != 0 ? b->cap : 65536;
	while (cap - b->len < need)
		cap *= 2;
	if (b->nlh != NULL) {
		nlhoff = (char *)b->nlh - b->buf;
		listoff = (char *)b->list - b->buf;
	}
	if ((p = realloc(b->buf, cap)) == NULL)
		return -1;
	b->buf = p;
	b->cap = cap;
	if (b->nlh != NULL) {
		b->nlh = (struct nlmsghdr *)(b->buf + nlhoff);
		b->list = (struct nlattr *)(b->buf + listoff);
	}
 zero:
	/* libmnl leaves attribute padding as it finds it */
	memset(b->buf + b->len, 0, need);
	return 0;
}

/* Start an element message for set; with elements when list is set. */
static int
msg_open(struct batch *b, uint16_t type, uint16_t flags, const char *set)
{
	size_t	 room;

	if (reserve(b, MSG_MAXHDR + ELEMS_PER_MSG * ELEM_MAXLEN) == -1)
		return -1;
	room = b->cap - b->len;
	b->nlh = nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET,
	    flags, b->seq++);
	if (!mnl_attr_put_strz_check(b->nlh, room, NFTA_SET_ELEM_LIST_TABLE,
	    b->table) ||
	    !mnl_attr_put_strz_check(b->nlh, room, NFTA_SET_ELEM_LIST_SET,
	    set)) {
		errno = EMSGSIZE;
		return -1;
	}
	b->set = set;
	b->nelem = 0;
	b->list = NULL;
	if (type == NFT_MSG_NEWSETELEM &&
	    (b->list = mnl_attr_nest_start_check(b->nlh, room,
	    NFTA_SET_ELEM_LIST_ELEMENTS)) == NULL) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static void
msg_close(struct batch *b)
{
	if (b->nlh == NULL)
		return;
	if (b->list != NULL)
		mnl_attr_nest_end(b->nlh, b->list);
	b->last = b->len;
	b->len += NLMSG_ALIGN(b->nlh->nlmsg_len);
	b->nlh = NULL;
	b->list = NULL;
}

/* One element; end: it is the first address after an interval. */
static int
elem(struct batch *b, const char *set, int af, const struct cidr_ip *ip,
    int end)
{
	struct nlattr	*e, *key;
	uint8_t		 k[16];
	uint32_t	 fl = htobe32(NFT_SET_ELEM_INTERVAL_END);
	size_t		 room;

	if (b->nlh == NULL || b->set != set || b->nelem == ELEMS_PER_MSG) {
		msg_close(b);
		if (msg_open(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, set) == -1)
			return -1;
	}
	room = b->cap - ((char *)b->nlh - b->buf);
	cidr_ip_to_bytes(af, ip, k);
	if ((e = mnl_attr_nest_start_check(b->nlh, room,
	    NFTA_LIST_ELEM)) == NULL ||
	    (end && !mnl_attr_put_check(b->nlh, room, NFTA_SET_ELEM_FLAGS,
	    sizeof(fl), &fl)) ||
	    (key = mnl_attr_nest_start_check(b->nlh, room,
	    NFTA_SET_ELEM_KEY)) == NULL ||
	    !mnl_attr_put_check(b->nlh, room, NFTA_DATA_VALUE,
	    af == AF_INET ? 4 : 16, k)) {
		/* The reservation covers a full message: a bug. */
		errno = EMSGSIZE;
		return -1;
	}
	mnl_attr_nest_end(b->nlh, key);
	mnl_attr_nest_end(b->nlh, e);
	b->nelem++;
	return 0;
}

static int
add_set(struct batch *b, const char *set, const struct cidr_list *l)
{
	struct cidr_ip	 zero, next;
	size_t		 i;

	memset(&zero, 0, sizeof(zero));
	if (l->n > 0 && cidr_cmp(&l->r[0].start, &zero) != 0 &&
	    elem(b, set, l->af, &zero, 1) == -1)
		return -1;
	for (i = 0; i < l->n; i++) {
		if (elem(b, set, l->af, &l->r[i].start, 0) == -1)
			return -1;
		next = l->r[i].end;
		/* The last range may run to the end of the space. */
		if (l->af == AF_INET ? next.lo == 0xffffffffULL :
		    next.hi == UINT64_MAX && next.lo == UINT64_MAX)
			break;
		if (++next.lo == 0)
			next.hi++;
		if (elem(b, set, l->af, &next, 1) == -1)
			return -1;
	}
	msg_close(b);
	return 0;
}

static const char *
hint(int error)
{
	switch (error) {
	case EPERM:
		return " (CAP_NET_ADMIN is needed)";
	case ENOENT:
		return " (load the ruleset: nft -f spamd-black.nft; the "
		    "example is etc/spamd-black.nft)";
	case EINVAL:
	case EOPNOTSUPP:
		return " (are they interval sets of addresses?  See "
		    "etc/spamd-black.nft)";
	case EEXIST:
		return " (overlapping ranges: a bug)";
	default:
		return "";
	}
}

/*
 * Read the replies to the batch [begin, end]; last is the message with
 * the acknowledgement.  0, or -1 with errno of the first error.
 */
static int
collect(struct mnl_socket *nl, uint32_t portid, char *rbuf, uint32_t begin,
    uint32_t end, uint32_t last)
{
	const struct nlmsghdr	*nlh;
	const struct nlmsgerr	*e;
	struct pollfd		 pfd;
	ssize_t			 n;
	int			 len, first = 0, done = 0, r;

	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	while (!done) {
		if ((r = poll(&pfd, 1, ACK_WAIT_MS)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = mnl_socket_recvfrom(nl, rbuf, RBUF_LEN)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, len);
		    nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_pid != portid ||
			    nlh->nlmsg_seq - begin > end - begin ||
			    nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				errno = EBADMSG;
				return -1;
			}
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error != 0 && first == 0)
				first = -e->error;
			if (nlh->nlmsg_seq == last || nlh->nlmsg_seq == begin ||
			    nlh->nlmsg_seq == end)
				done = 1;
		}
	}
	if (first != 0) {
		errno = first;
		return -1;
	}
	return 0;
}

int
nftblack_load(const char *table, const char *set4, const char *set6,
    const struct cidr_list *v4, const struct cidr_list *v6)
{
	struct mnl_socket	*nl = NULL;
	struct batch		 b;
	struct nlmsghdr		*nlh;
	char			*rbuf = NULL;
	uint32_t		 portid, begin, end, last;
	int			 rcv = SOCK_RCVBUF, one = 1, ret = -1, saved;

	table = table != NULL ? table : NFTBLACK_TABLE;
	set4 = set4 != NULL ? set4 : NFTBLACK_SET4;
	set6 = set6 != NULL ? set6 : NFTBLACK_SET6;
	memset(&b, 0, sizeof(b));
	b.table = table;
	b.seq = (uint32_t)time(NULL);
	if ((rbuf = malloc(RBUF_LEN)) == NULL) {
		log_warn("nft: malloc");
		goto done;
	}

	/* BEGIN, flush, flush, elements, END. */
	if (reserve(&b, MSG_MAXHDR) == -1)
		goto build;
	begin = b.seq++;
	nlh = nftnl_batch_begin(b.buf, begin);
	b.len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (msg_open(&b, NFT_MSG_DELSETELEM, 0, set4) == -1)
		goto build;
	msg_close(&b);
	if (msg_open(&b, NFT_MSG_DELSETELEM, 0, set6) == -1)
		goto build;
	msg_close(&b);
	if (add_set(&b, set4, v4) == -1 || add_set(&b, set6, v6) == -1)
		goto build;
	nlh = (struct nlmsghdr *)(b.buf + b.last);
	nlh->nlmsg_flags |= NLM_F_ACK;
	last = nlh->nlmsg_seq;
	if (reserve(&b, MSG_MAXHDR) == -1)
		goto build;
	end = b.seq++;
	nlh = nftnl_batch_end(b.buf + b.len, end);
	b.len += NLMSG_ALIGN(nlh->nlmsg_len);

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		log_warn("nft: netfilter netlink socket%s", hint(errno));
		goto done;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one,
	    sizeof(one)) == -1)
		log_debug("nft: NETLINK_CAP_ACK: %s", strerror(errno));
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcv, sizeof(rcv)) == -1)
		log_debug("nft: SO_RCVBUFFORCE: %s", strerror(errno));
	if (nl_fit_sndbuf(nl, b.len) == -1) {
		log_warn("nft: a batch of %zu bytes does not fit the socket "
		    "buffer%s", b.len, hint(errno));
		goto done;
	}
	if (mnl_socket_sendto(nl, b.buf, b.len) == -1) {
		log_warn("nft: sending %zu bytes%s", b.len, hint(errno));
		goto done;
	}
	if (collect(nl, portid, rbuf, begin, end, last) == -1) {
		log_warn("nft sets inet %s %s and %s not loaded%s", table, set4,
		    set6, hint(errno));
		goto done;
	}
	log_debug("nft sets inet %s %s, %s: %zu and %zu ranges, %zu bytes",
	    table, set4, set6, v4->n, v6->n, b.len);
	ret = 0;
	goto done;
 build:
	log_warn("nft: building the batch");
 done:
	saved = errno;
	if (nl != NULL)
		mnl_socket_close(nl);
	free(b.buf);
	free(rbuf);
	errno = saved;
	return ret;
}
