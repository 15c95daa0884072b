/*
 * Interval sets of addresses, on the netlink transport (lib/nlbatch.c):
 * the blacklist sets of blacklist-only mode (-b) and the nospamd sets
 * of the networks that never meet spamd.
 *
 * An interval set holds a range [a, b] as two elements: a, and b+1 with
 * the INTERVAL_END flag; a range that reaches the last address has no
 * end element.  Like nft, we also send an end element at address 0 when
 * the first range does not start there, which marks everything below it
 * as outside the set.  The batch is a flush of each set, then the
 * elements in ascending order.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>		/* before the linux headers */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <errno.h>
#include <string.h>

#include <libnftnl/set.h>

#include "log.h"
#include "nftblack.h"
#include "nlbatch.h"

static const char *
hint(int error)
{
	switch (error) {
	case ENOENT:
		return " (load the ruleset: nft -f spamd.nft; the "
		    "examples are etc/spamd.nft and etc/spamd-black.nft)";
	case EINVAL:
	case EOPNOTSUPP:
		return " (are they interval sets of addresses?  See "
		    "etc/spamd.nft)";
	case EEXIST:
		return " (overlapping ranges: a bug)";
	default:
		return "";
	}
}

/* One element; end: it is the first address after an interval. */
static int
elem(struct nlbatch *b, const char *set, int af, const struct cidr_ip *ip,
    int end, size_t *n)
{
	uint8_t		 k[16];

	if (nlb_msg_count(b) == NLB_ELEMS_PER_MSG || *n == 0) {
		if (nlb_msg_open(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, set, 1,
		    "add", *n, NLB_ELEMS_PER_MSG) == -1)
			return -1;
	}
	cidr_ip_to_bytes(af, ip, k);
	if (nlb_elem(b, af, k, 0, end ? NFT_SET_ELEM_INTERVAL_END : 0) == -1)
		return -1;
	(*n)++;
	return 0;
}

static int
add_set(struct nlbatch *b, const char *set, const struct cidr_list *l)
{
	struct cidr_ip	 zero, next;
	size_t		 i, n = 0;

	memset(&zero, 0, sizeof(zero));
	if (l->n > 0 && cidr_cmp(&l->r[0].start, &zero) != 0 &&
	    elem(b, set, l->af, &zero, 1, &n) == -1)
		return -1;
	for (i = 0; i < l->n; i++) {
		if (elem(b, set, l->af, &l->r[i].start, 0, &n) == -1)
			return -1;
		next = l->r[i].end;
		/* The last range may run to the end of the space. */
		if (l->af == AF_INET ? next.lo == 0xffffffffULL :
		    next.hi == UINT64_MAX && next.lo == UINT64_MAX)
			break;
		if (++next.lo == 0)
			next.hi++;
		if (elem(b, set, l->af, &next, 1, &n) == -1)
			return -1;
	}
	return 0;
}

int
nftblack_load(const char *table, const char *set4, const char *set6,
    const struct cidr_list *v4, const struct cidr_list *v6)
{
	struct nlb_report	 r = { NULL, hint, NULL, 0 };
	struct nlbatch		*b;
	size_t			 len;
	int			 ret = -1;

	table = table != NULL ? table : NFTBLACK_TABLE;
	set4 = set4 != NULL ? set4 : NFTBLACK_SET4;
	set6 = set6 != NULL ? set6 : NFTBLACK_SET6;
	if ((b = nlb_open(table)) == NULL)
		return -1;
	if (nlb_begin(b) == -1 ||
	    nlb_msg_open(b, NFT_MSG_DELSETELEM, 0, set4, 0, "flush", 0,
	    0) == -1 ||
	    nlb_msg_open(b, NFT_MSG_DELSETELEM, 0, set6, 0, "flush", 0,
	    0) == -1 ||
	    add_set(b, set4, v4) == -1 || add_set(b, set6, v6) == -1 ||
	    nlb_msg_close(b) == -1) {
		log_warn("nft: building the batch");
		goto done;
	}
	len = nlb_len(b);
	if (nlb_commit(b, &r) == -1) {
		log_warnx("nft sets inet %s %s and %s not loaded", table,
		    set4, set6);
		goto done;
	}
	log_debug("nft sets inet %s %s, %s: %zu and %zu ranges, %zu bytes",
	    table, set4, set6, v4->n, v6->n, len);
	ret = 0;
 done:
	nlb_close(b);
	return ret;
}

static int
set_exists(struct nlbatch *b, const char *set)
{
	char			 req[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set	*s;
	struct nlmsghdr		*nlh;
	int			 rc;

	if ((s = nftnl_set_alloc()) == NULL)
		return -1;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, nlb_table(b)) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, set) < 0) {
		nftnl_set_free(s);
		return -1;
	}
	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETSET, NFPROTO_INET,
	    NLM_F_ACK, nlb_seq(b));
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	rc = nlb_request(b, nlh, NULL, NULL);
	return rc;
}

int
nftblack_exists(const char *table, const char *set4, const char *set6)
{
	struct nlbatch	*b;
	int		 ret;

	if ((b = nlb_open(table != NULL ? table : NFTBLACK_TABLE)) == NULL)
		return -1;
	ret = set_exists(b, set4) == 0 && set_exists(b, set6) == 0 ? 0 : -1;
	nlb_close(b);
	return ret;
}
