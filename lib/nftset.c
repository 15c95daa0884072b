/*
 * The nftables whitelist sets: what spamd, spamlogd and spamdb change in
 * them, on top of the netlink transport (nlbatch.c).
 * Used by: spamd (firewall.c), spamlogd (update.c), spamdb (fw.c).
 *
 * Changes are queued as operations and encoded as one batch when
 * committed.  The two families' sets never interact, so each family's
 * operations are emitted in queue order, and runs of one kind share
 * element messages.  An add is sent as "add, delete, add with timeout",
 * so that the new timeout holds whether the element existed or not.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>		/* before the linux headers, which defer to it */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "log.h"
#include "nftset.h"
#include "nlbatch.h"

/* An op becomes at most three encoded elements. */
#define OPS_MAX		(NLB_BATCH_MAX / (3 * NLB_ELEM_MAXLEN))
/* Larger queues are freed after a commit rather than kept. */
#define KEEP_BYTES	(256 * 1024)
/* Duplicate detection in one message: a power of two > 2 * elements. */
#define DUP_SLOTS	2048
_Static_assert(DUP_SLOTS > 2 * NLB_ELEMS_PER_MSG, "DUP_SLOTS too small");
/* Transactions spent finding refused elements in one commit. */
#define ISOLATE_MAX	64
/* Headers of a GET request with the table and set names. */
#define REQ_LEN		(2 * NFT_NAME_MAXLEN + 128)
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

struct nftset {
	struct nlbatch		*nb;
	char			 table[NFT_TABLE_MAXNAMELEN];
	char			 set4[NFT_SET_MAXNAMELEN];
	char			 set6[NFT_SET_MAXNAMELEN];
	struct op		*ops;		/* the queue */
	size_t			 nops;
	size_t			 opscap;
	size_t			 chunk[NLB_ELEMS_PER_MSG];	/* of a message */
	uint16_t		 dup[DUP_SLOTS];
};

struct setinfo {
	uint32_t	 keytype;
	uint32_t	 keylen;
	uint32_t	 flags;
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
	return error == ENOENT ? " (missing table or set?)" : "";
}

static int
ignore_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return MNL_CB_OK;
}

/*
 * One element message with the n ops of ns->chunk (n == 0: no element
 * list, which for DELSETELEM flushes the set).
 */
static int
put_msg(struct nftset *ns, uint16_t type, uint16_t flags, int af,
    size_t n, int timeouts, const char *what)
{
	const struct op	*op;
	size_t		 i;

	if (nlb_msg_open(ns->nb, type, flags, setname(ns, af), n > 0, what,
	    n > 0 ? ns->chunk[0] : 0, n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		op = &ns->ops[ns->chunk[i]];
		if (nlb_elem(ns->nb, af, op->addr.a,
		    timeouts ? op->timeout_ms : 0, 0) == -1)
			return -1;
	}
	return 0;
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
		if (addr_cmp(&ns->ops[ns->chunk[v - 1]].addr, a) == 0)
			return 1;
		slot = (slot + 1) & (DUP_SLOTS - 1);
	}
	ns->dup[slot] = n + 1;
	return 0;
}

/* Encode the ops [lo, hi) of the queue as a batch. */
static int
build(struct nftset *ns, size_t lo, size_t hi)
{
	static const int	 afs[] = { AF_INET, AF_INET6 };
	enum op_type		 type;
	size_t			 i, j, n, k;
	int			 af;

	if (nlb_begin(ns->nb) == -1)
		return -1;
	for (k = 0; k < sizeof(afs) / sizeof(afs[0]); k++) {
		af = afs[k];
		for (i = lo; i < hi;) {
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
			for (n = 0, j = i; j < hi &&
			    n < NLB_ELEMS_PER_MSG; j++) {
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
	return nlb_msg_close(ns->nb);
}

/* Name a refused message by its first element. */
static void
report_elem(const struct nlb_msg *m, char *buf, size_t len, void *arg)
{
	const struct nftset	*ns = arg;

	addr_str(&ns->ops[m->first].addr, buf, len);
}

/* The queue is sent and forgotten, whatever happens. */
static void
discard(struct nftset *ns)
{
	int	 saved = errno;

	ns->nops = 0;
	nlb_discard(ns->nb);
	if (ns->opscap * sizeof(*ns->ops) > KEEP_BYTES) {
		free(ns->ops);
		ns->ops = NULL;
		ns->opscap = 0;
	}
	errno = saved;
}

/* Send the ops [lo, hi) as one transaction; quiet: the caller logs. */
static int
send_ops(struct nftset *ns, size_t lo, size_t hi, int quiet)
{
	struct nlb_report	 r = { report_elem, hint, ns, quiet };
	size_t			 nmsgs, len;

	if (build(ns, lo, hi) == -1) {
		log_warn("nft table inet %s: building a batch of %zu changes",
		    ns->table, hi - lo);
		nlb_discard(ns->nb);
		return -1;
	}
	nmsgs = nlb_nmsgs(ns->nb);
	len = nlb_len(ns->nb);
	if (nlb_commit(ns->nb, &r) == -1)
		return -1;
	log_debug("nft table inet %s: %zu changes in %zu messages, "
	    "%zu bytes", ns->table, hi - lo, nmsgs, len);
	return 0;
}

/*
 * The transaction [lo, hi) was refused with error: bisect it, in queue
 * order, so that what the kernel takes is applied and each element it
 * refuses is logged once, with its reason, and left out.  One refused
 * element costs about 2 log2(n) transactions and 2n elements sent;
 * *budget bounds the transactions.
 */
static int
isolate(struct nftset *ns, size_t lo, size_t hi, int error, int *budget,
    size_t *out)
{
	const struct op	*op;
	char		 a[INET6_ADDRSTRLEN];
	size_t		 half[3];
	int		 i, ret = 0;

	if (hi - lo == 1) {
		op = &ns->ops[lo];
		if (op->type == OP_FLUSH) {
			errno = error;
			return -1;
		}
		log_warnx("nft set inet %s %s: %s %s%s refused: %s; left out, "
		    "the other changes applied", ns->table,
		    setname(ns, op->addr.af),
		    op->type == OP_DEL ? "delete of" : "add of",
		    addr_str(&op->addr, a, sizeof(a)),
		    op->type == OP_DEL ? "" : " with its timeout",
		    strerror(error));
		(*out)++;
		return 0;
	}
	half[0] = lo;
	half[1] = lo + (hi - lo) / 2;
	half[2] = hi;
	for (i = 0; i < 2; i++) {
		if (*budget == 0) {
			errno = error;
			return -1;
		}
		(*budget)--;
		if (send_ops(ns, half[i], half[i + 1], 1) == 0)
			continue;
		if (isolate(ns, half[i], half[i + 1], errno, budget, out) == -1)
			ret = -1;
	}
	return ret;
}

static int
commit(struct nftset *ns)
{
	const struct nlb_msg	*m;
	char			 why[512];
	size_t			 out = 0;
	int			 saved, budget = ISOLATE_MAX;

	if (send_ops(ns, 0, ns->nops, 1) == 0)
		return 0;
	saved = errno;
	/* A missing or wrong table or set: say so, nothing to isolate. */
	if (saved == EPERM || saved == ENOMEM || saved == ENOBUFS ||
	    nftset_check(ns, why, sizeof(why)) == -1) {
		if ((m = nlb_refused(ns->nb)) != NULL)
			log_warnx("nft set inet %s %s: %s: %s%s", ns->table,
			    m->set, m->what, strerror(saved), hint(saved));
		else
			log_warnx("nft table inet %s: %zu changes refused: "
			    "%s%s", ns->table, ns->nops, strerror(saved),
			    nlb_hint(saved));
		if (saved != EPERM && saved != ENOMEM && saved != ENOBUFS)
			log_warnx("%s", why);
		errno = saved;
		return -1;
	}
	/* The sets are sound: some element was refused.  Find it. */
	if (isolate(ns, 0, ns->nops, saved, &budget, &out) == -1) {
		saved = errno;
		log_warnx("nft table inet %s: %zu changes refused (%s) and "
		    "%zu elements left out before giving up after %d "
		    "transactions", ns->table, ns->nops, strerror(saved), out,
		    ISOLATE_MAX);
		errno = saved;
		return -1;
	}
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
	/* Past 2^64 ns the kernel refuses the element (ERANGE). */
	op->timeout_ms = timeout_ms > NFTSET_TIMEOUT_MAX ?
	    NFTSET_TIMEOUT_MAX : timeout_ms;
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

struct nftset *
nftset_open(const char *table, const char *set4, const char *set6)
{
	struct nftset	*ns;

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
	if ((ns->nb = nlb_open(table)) == NULL) {
		nftset_close(ns);
		return NULL;
	}
	return ns;
}

void
nftset_close(struct nftset *ns)
{
	int	 saved = errno;

	if (ns == NULL)
		return;
	nlb_close(ns->nb);
	free(ns->ops);
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

uint64_t
nftset_white_timeout(time_t expire, time_t now)
{
	if (expire <= now)
		return 0;
	if ((uint64_t)(expire - now) > NFTSET_TIMEOUT_MAX / 1000)
		return NFTSET_TIMEOUT_MAX;
	return (uint64_t)(expire - now) * 1000;
}

int
nftset_queue_white(struct nftset *ns, const struct addr *a, time_t expire,
    time_t now)
{
	if (expire <= now)
		return 0;
	if (queue(ns, OP_ADD, a, nftset_white_timeout(expire, now)) == -1)
		return -1;
	return 1;
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
	errno = error;		/* callers test it after us */
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
	char		 req[REQ_LEN];
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
	    NLM_F_ACK, nlb_seq(ns->nb));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	memset(&si, 0, sizeof(si));
	if (nlb_request(ns->nb, nlh, set_cb, &si) == -1) {
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
	char		 req[REQ_LEN];
	struct nlmsghdr	*nlh;

	if (errlen > 0)
		*err = '\0';
	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, nlb_seq(ns->nb));
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, ns->table);
	if (nlb_request(ns->nb, nlh, ignore_cb, NULL) == -1) {
		explain(ns, NULL, NULL, errno, err, errlen);
		return -1;
	}
	if (check_set(ns, AF_INET, err, errlen) == -1 ||
	    check_set(ns, AF_INET6, err, errlen) == -1)
		return -1;
	return 0;
}

int
nftset_missing(struct nftset *ns, const char **what)
{
	char		 req[REQ_LEN], err[512];
	struct nlmsghdr	*nlh;

	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, nlb_seq(ns->nb));
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, ns->table);
	if (nlb_request(ns->nb, nlh, ignore_cb, NULL) == -1) {
		*what = "table";
		return errno == ENOENT ? 1 : -1;
	}
	if (check_set(ns, AF_INET, err, sizeof(err)) == -1) {
		*what = setname(ns, AF_INET);
		return errno == ENOENT ? 1 : -1;
	}
	if (check_set(ns, AF_INET6, err, sizeof(err)) == -1) {
		*what = setname(ns, AF_INET6);
		return errno == ENOENT ? 1 : -1;
	}
	return 0;
}

/* Elements of one message of a GETSETELEM dump, counted not parsed. */
static int
count_attr(const struct nlattr *attr, void *arg)
{
	const struct nlattr	*e;
	size_t			*n = arg;

	if (mnl_attr_get_type(attr) != NFTA_SET_ELEM_LIST_ELEMENTS)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(e, attr)
		(*n)++;
	return MNL_CB_OK;
}

static int
count_cb(const struct nlmsghdr *nlh, void *arg)
{
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), count_attr, arg);
}

static int
count_set(struct nftset *ns, int af, size_t *n)
{
	char		 req[REQ_LEN];
	struct nlmsghdr	*nlh;

	*n = 0;
	memset(req, 0, sizeof(req));
	if ((nlh = nlb_put_msg(req, sizeof(req), NFT_MSG_GETSETELEM,
	    NLM_F_DUMP, nlb_seq(ns->nb), ns->table, setname(ns, af))) ==
	    NULL) {
		errno = EMSGSIZE;
		return -1;
	}
	return nlb_request(ns->nb, nlh, count_cb, n);
}

int
nftset_count(struct nftset *ns, size_t *n4, size_t *n6)
{
	if (count_set(ns, AF_INET, n4) == -1 ||
	    count_set(ns, AF_INET6, n6) == -1)
		return -1;
	return 0;
}
