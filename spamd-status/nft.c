/*
 * The firewall half of the status: read, over one netlink socket
 * (lib/nlbatch.c, never by running nft), whether the table exists,
 * the elements of the whitelist sets, the sizes of the bypass sets and
 * whether a catch-all redirect rule ("tcp dport 25 redirect to :8025",
 * a redir expression behind no set lookup) is in one of its chains.
 * Without that rule nothing reaches spamd, whatever the sets hold.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>		/* before the linux headers */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "nftset.h"
#include "nlbatch.h"
#include "status.h"

#define REQ_LEN		(2 * NFT_NAME_MAXLEN + 128)

struct elemctx {
	struct alist	*out;		/* addresses, or NULL: count */
	long		 n;		/* elements (interval ends left out) */
	int		 oom;
};

static int
elem_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct elemctx			*ec = arg;
	struct nftnl_set		*s;
	struct nftnl_set_elems_iter	*it;
	struct nftnl_set_elem		*e;
	struct addr			 a;
	const void			*key;
	uint32_t			 klen;

	if ((s = nftnl_set_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0 ||
	    (it = nftnl_set_elems_iter_create(s)) == NULL) {
		nftnl_set_free(s);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	while ((e = nftnl_set_elems_iter_next(it)) != NULL) {
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		    (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
		    NFT_SET_ELEM_INTERVAL_END))
			continue;
		ec->n++;
		if (ec->out == NULL)
			continue;
		key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		if (key == NULL || (klen != 4 && klen != 16))
			continue;
		memset(&a, 0, sizeof(a));
		a.af = klen == 4 ? AF_INET : AF_INET6;
		memcpy(a.a, key, klen);
		if (alist_add(ec->out, &a) == -1)
			ec->oom = 1;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* Elements of set: their number, or -1 (errno ENOENT: no such set). */
static long
set_elems(struct nlbatch *nb, const char *set, struct alist *out)
{
	char		 req[REQ_LEN];
	struct nlmsghdr	*nlh;
	struct elemctx	 ec;

	memset(&ec, 0, sizeof(ec));
	ec.out = out;
	memset(req, 0, sizeof(req));
	if ((nlh = nlb_put_msg(req, sizeof(req), NFT_MSG_GETSETELEM,
	    NLM_F_DUMP, nlb_seq(nb), nlb_table(nb), set)) == NULL) {
		errno = EMSGSIZE;
		return -1;
	}
	if (nlb_request(nb, nlh, elem_cb, &ec) == -1)
		return -1;
	if (ec.oom) {
		errno = ENOMEM;
		return -1;
	}
	return ec.n;
}

struct rulectx {
	struct nftstate	*st;
	int		 redir, lookup, port;
	uint32_t	 immreg;	/* register the last immediate set */
	int		 immport;
};

static int
expr_cb(struct nftnl_expr *e, void *arg)
{
	struct rulectx	*rc = arg;
	const char	*name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const void	*d;
	uint32_t	 len;
	uint16_t	 port;

	if (name == NULL)
		return 0;
	if (strcmp(name, "lookup") == 0)
		rc->lookup = 1;
	else if (strcmp(name, "immediate") == 0 &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
		d = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);
		rc->immport = 0;
		if (d != NULL && len >= sizeof(port)) {
			memcpy(&port, d, sizeof(port));
			rc->immport = ntohs(port);
			rc->immreg = nftnl_expr_get_u32(e,
			    NFTNL_EXPR_IMM_DREG);
		}
	} else if (strcmp(name, "redir") == 0) {
		rc->redir = 1;
		if (nftnl_expr_is_set(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN) &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN) ==
		    rc->immreg)
			rc->port = rc->immport;
	}
	return 0;
}

static int
rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nftstate	*st = arg;
	struct nftnl_rule *r;
	struct rulectx	 rc;
	const char	*chain;

	if ((r = nftnl_rule_alloc()) == NULL)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	memset(&rc, 0, sizeof(rc));
	rc.st = st;
	nftnl_expr_foreach(r, expr_cb, &rc);
	if (rc.redir && !rc.lookup && !st->redirect) {
		st->redirect = 1;
		st->redir_port = rc.port;
		chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		snprintf(st->redir_chain, sizeof(st->redir_chain), "%s",
		    chain != NULL ? chain : "?");
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* The ranges of an interval set pair; -1 when neither exists. */
static long
pair_ranges(struct nlbatch *nb, const char *s4, const char *s6)
{
	long	 a, b;

	a = set_elems(nb, s4, NULL);
	b = set_elems(nb, s6, NULL);
	if (a == -1 && b == -1)
		return -1;
	return (a > 0 ? a : 0) + (b > 0 ? b : 0);
}

int
nft_read(const struct sconf *conf, struct nftstate *st, char *err,
    size_t errlen)
{
	char		 req[REQ_LEN];
	struct nlbatch	*nb;
	struct nlmsghdr	*nlh;
	struct nftnl_rule *r;
	int		 rv = -1;

	memset(st, 0, sizeof(*st));
	st->trusted = st->nospamd = -1;
	if ((nb = nlb_open(conf->table)) == NULL) {
		snprintf(err, errlen, "netlink to nftables: %s",
		    strerror(errno));
		return -1;
	}
	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, nlb_seq(nb));
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, conf->table);
	/* libmnl takes no callback for replies that carry nothing we read. */
	if (nlb_request(nb, nlh, NULL, NULL) == -1) {
		if (errno == ENOENT)
			rv = 0;		/* st->table stays 0 */
		else
			snprintf(err, errlen, "table inet %s: %s%s",
			    conf->table, strerror(errno), errno == EPERM ?
			    " (reading nftables needs CAP_NET_ADMIN)" : "");
		goto done;
	}
	st->table = 1;
	if (set_elems(nb, conf->set4, &st->elems) == -1) {
		if (errno != ENOENT)
			goto seterr;
		st->missing = conf->set4;
	}
	if (set_elems(nb, conf->set6, &st->elems) == -1) {
		if (errno != ENOENT)
			goto seterr;
		if (st->missing == NULL)
			st->missing = conf->set6;
	}
	alist_sort(&st->elems);
	st->trusted = pair_ranges(nb, conf->trust4, conf->trust6);
	st->nospamd = pair_ranges(nb, NFTSET_NOSPAMD4, NFTSET_NOSPAMD6);

	if ((r = nftnl_rule_alloc()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETRULE, NFPROTO_INET,
	    NLM_F_DUMP, nlb_seq(nb));
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, conf->table);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (nlb_request(nb, nlh, rule_cb, st) == -1) {
		snprintf(err, errlen, "rules of table inet %s: %s",
		    conf->table, strerror(errno));
		goto done;
	}
	rv = 0;
	goto done;
seterr:
	snprintf(err, errlen, "sets of table inet %s: %s", conf->table,
	    strerror(errno));
done:
	nlb_close(nb);
	return rv;
}

void
nft_free(struct nftstate *st)
{
	alist_free(&st->elems);
}
