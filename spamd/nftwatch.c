/*
 * spamd -F (nftwatch.h).  The file is read into memory at start, as
 * root, and again at SIGHUP: a reload after a flush needs no access to
 * /etc then, and loads what was loaded last even if the file has been
 * half edited since.  nft's own parser (libnftables) loads it, since it
 * is the administrator's nft syntax, includes and all.
 *
 * nftables announces every change on NFNLGRP_NFTABLES; we look only for
 * deleted tables and sets of our table, then ask the kernel whether the
 * table and both whitelist sets are still there.  Element events (ours
 * and spamlogd's) are read and dropped.  A socket that overflowed
 * (ENOBUFS: a reconcile of many elements does that) may have lost the
 * one event that mattered, so it is a reason to check as well.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

#include "firewall.h"
#include "log.h"
#include "nftset.h"
#include "nftwatch.h"
#include "rfile.h"

#define NW_FILE_MAX	(1024 * 1024)	/* the largest ruleset we read */
#define NW_RCVBUF	(1024 * 1024)	/* events between two reads */
#define NW_READS_MAX	64		/* datagrams per wakeup */
#define NW_NAG_SECS	60		/* a failure goes on: say so again */

static const char	*nw_file;	/* -F */
static char		*nw_text;	/* its content, as last read */
static const char	*nw_table = NFTSET_TABLE;
static const char	*nw_set4, *nw_set6;
static struct nftset	*nw_ns;		/* for the existence check */
static struct mnl_socket *nw_nl;	/* the event subscription */
static time_t		 nw_next;	/* monotonic: next check */
static int		 nw_lost;	/* missing, and a reload failed */
static const char	*nw_suspect;	/* why to check: an event, a loss */
static int		 nw_deleted;	/* events: ours deleted (maybe made anew) */
static uint64_t		 nw_reloads;

static int	nw_run(char *, size_t);
static int	nw_event(const struct nlmsghdr *, void *);
static void	nw_check(struct store *, const char *, int);

/* Load nw_text: one nft transaction, applied whole or not at all. */
static int
nw_run(char *err, size_t errlen)
{
	struct nft_ctx	*ctx;
	const char	*e, *nl;
	size_t		 len;
	int		 rv;

	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		snprintf(err, errlen, "%s: no nft context", nw_file);
		return -1;
	}
	/* Nothing to a terminal: errors come back to us. */
	if (nft_ctx_buffer_output(ctx) != 0 ||
	    nft_ctx_buffer_error(ctx) != 0) {
		snprintf(err, errlen, "%s: nft output buffers", nw_file);
		nft_ctx_free(ctx);
		return -1;
	}
	rv = nft_run_cmd_from_buffer(ctx, nw_text);
	if (rv != 0) {
		/* The first line says it; the rest draw carets. */
		e = nft_ctx_get_error_buffer(ctx);
		if (e == NULL || *e == '\0')
			e = "refused";
		len = (nl = strchr(e, '\n')) != NULL ? (size_t)(nl - e) :
		    strlen(e);
		snprintf(err, errlen, "%s: %.*s", nw_file, (int)len, e);
	}
	nft_ctx_free(ctx);
	return rv == 0 ? 0 : -1;
}

int
nftwatch_load(const char *file, const char *table, const char *set4,
    const char *set6, char *err, size_t errlen)
{
	struct nftset	*ns;
	const char	*what;
	int		 r;

	nw_file = file;
	if (table != NULL)
		nw_table = table;
	nw_set4 = set4;
	nw_set6 = set6;
	if ((nw_text = rfile_read(file, NW_FILE_MAX, NULL, err,
	    errlen)) == NULL || nw_run(err, errlen) == -1)
		return -1;
	/* Else every check would find them missing and load it again. */
	if ((ns = nftset_open(table, set4, set6)) == NULL) {
		snprintf(err, errlen, "%s: loaded, but cannot open netlink "
		    "to check it", file);
		return -1;
	}
	r = nftset_missing(ns, &what);
	nftset_close(ns);
	if (r != 0) {
		snprintf(err, errlen, "%s: loaded, but %s of nft table inet "
		    "%s %s (see -N)", file, strcmp(what, "table") == 0 ?
		    "no table" : what, nw_table, r == 1 ? "is missing" :
		    "cannot be checked");
		return -1;
	}
	return 0;
}

void
nftwatch_open(void)
{
	int	 group = NFNLGRP_NFTABLES, rcvbuf = NW_RCVBUF;

	if (nw_text == NULL)
		return;
	if ((nw_ns = nftset_open(nw_table, nw_set4, nw_set6)) == NULL)
		log_warnx("-F %s: cannot open netlink to check the table; "
		    "it is loaded again at SIGHUP only", nw_file);
	if ((nw_nl = mnl_socket_open2(NETLINK_NETFILTER,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(nw_nl, 0, MNL_SOCKET_AUTOPID) == -1 ||
	    mnl_socket_setsockopt(nw_nl, NETLINK_ADD_MEMBERSHIP, &group,
	    sizeof(group)) == -1) {
		log_warn("-F %s: nftables events; checking every %d s "
		    "instead", nw_file, NFTWATCH_CHECK);
		if (nw_nl != NULL)
			mnl_socket_close(nw_nl);
		nw_nl = NULL;
		return;
	}
	if (setsockopt(mnl_socket_get_fd(nw_nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcvbuf, sizeof(rcvbuf)) == -1 &&
	    setsockopt(mnl_socket_get_fd(nw_nl), SOL_SOCKET, SO_RCVBUF,
	    &rcvbuf, sizeof(rcvbuf)) == -1)
		log_warn("-F %s: event socket buffer", nw_file);
	nw_next = 0;		/* check at once: events before this are lost */
}

int
nftwatch_fd(void)
{
	return nw_nl != NULL ? mnl_socket_get_fd(nw_nl) : -1;
}

/*
 * Our table deleted, or one of our whitelist sets: worth a check.  They
 * may be back already, made anew in the same transaction (an nftables
 * configuration that flushes the ruleset and includes ours): empty then.
 */
static int
nw_event(const struct nlmsghdr *nlh, void *arg)
{
	const struct nfgenmsg	*nfg;
	const struct nlattr	*a;
	const char		*table = NULL, *set = NULL;
	const char		*set4, *set6;
	int			 type;

	(void)arg;
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return MNL_CB_OK;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (type != NFT_MSG_DELTABLE && type != NFT_MSG_DELSET)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)))
		return MNL_CB_OK;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != NFPROTO_INET)
		return MNL_CB_OK;
	/* NFTA_TABLE_NAME and NFTA_SET_TABLE are both 1. */
	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) != 0)
			continue;
		if (mnl_attr_get_type(a) == NFTA_TABLE_NAME)
			table = mnl_attr_get_str(a);
		else if (type == NFT_MSG_DELSET &&
		    mnl_attr_get_type(a) == NFTA_SET_NAME)
			set = mnl_attr_get_str(a);
	}
	if (table == NULL || strcmp(table, nw_table) != 0)
		return MNL_CB_OK;
	set4 = nw_set4 != NULL ? nw_set4 : NFTSET_SET4;
	set6 = nw_set6 != NULL ? nw_set6 : NFTSET_SET6;
	if (type == NFT_MSG_DELSET && (set == NULL ||
	    (strcmp(set, set4) != 0 && strcmp(set, set6) != 0)))
		return MNL_CB_OK;
	nw_suspect = "nftables event";
	nw_deleted = 1;
	return MNL_CB_OK;
}

void
nftwatch_read(struct store *st)
{
	static char	 buf[64 * 1024];
	static time_t	 nag;
	ssize_t		 n;
	int		 i;

	if (nw_nl == NULL)
		return;
	for (i = 0; i < NW_READS_MAX; i++) {
		if ((n = mnl_socket_recvfrom(nw_nl, buf, sizeof(buf))) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				/* Lost some: look. */
				nw_suspect = "events lost";
				continue;
			}
			if (errno != EINTR && log_nag(&nag, NW_NAG_SECS))
				log_warn("-F %s: reading nftables events",
				    nw_file);
			if (errno != EINTR)
				break;
			continue;
		}
		(void)mnl_cb_run(buf, (size_t)n, 0, 0, nw_event, NULL);
	}
	if (nw_suspect != NULL) {
		nw_check(st, nw_suspect, nw_deleted);
		nw_suspect = NULL;
		nw_deleted = 0;
	}
}

/*
 * Is it all there?  If not, load the file and refill the sets.  why
 * says what made us look, for the log; deleted, that events saw ours
 * deleted, so what is there now may be new and empty.
 */
static void
nw_check(struct store *st, const char *why, int deleted)
{
	static time_t	 nagcheck, nagload;
	struct timespec	 t0, t1;
	const char	*what;
	char		 err[1024];
	int		 r;

	if (nw_ns == NULL)
		return;
	if ((r = nftset_missing(nw_ns, &what)) == 0) {
		if (nw_lost)
			log_info("nft table inet %s is back, loaded by another "
			    "program; refilling the whitelist sets", nw_table);
		else if (deleted) {
			nw_reloads++;
			log_warnx("nft table inet %s was deleted and made "
			    "again by another program; refilling the "
			    "whitelist sets", nw_table);
		}
		if (nw_lost || deleted)
			fw_reconcile(st, time(NULL));
		nw_lost = 0;
		return;
	}
	if (r == -1) {
		if (log_nag(&nagcheck, NW_NAG_SECS))
			log_warn("-F %s: cannot check nft table inet %s",
			    nw_file, nw_table);
		return;
	}
	/* Once per event, not once per failed try. */
	if (!nw_lost) {
		nw_reloads++;
		if (strcmp(what, "table") == 0)
			log_warnx("nft table inet %s vanished; reloading %s",
			    nw_table, nw_file);
		else
			log_warnx("nft set inet %s %s vanished; reloading %s",
			    nw_table, what, nw_file);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (nw_run(err, sizeof(err)) == 0) {
		if (nftset_missing(nw_ns, &what) == 0)
			err[0] = '\0';
		else
			snprintf(err, sizeof(err), "%s: loaded, but nft "
			    "table inet %s: %s is still missing", nw_file,
			    nw_table, what);
	} else if (nftset_missing(nw_ns, &what) == 0)
		err[0] = '\0';		/* someone else loaded it */
	if (err[0] != '\0') {
		if (!nw_lost)
			nagload = 0;	/* a new event: say it */
		if (log_nag(&nagload, NW_NAG_SECS))
			log_warnx("%s; greylisting goes on in the database, "
			    "trying again every %d s", err, NFTWATCH_CHECK);
		nw_lost = 1;
		return;
	}
	nw_lost = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("-F %s: loaded again in %lld ms (found by: %s); refilling "
	    "the whitelist sets", nw_file, (long long)((t1.tv_sec -
	    t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000), why);
	fw_reconcile(st, time(NULL));
}

time_t
nftwatch_tick(struct store *st, time_t mono)
{
	if (nw_text == NULL)
		return 3600;
	if (mono >= nw_next) {
		nw_next = mono + NFTWATCH_CHECK;
		nw_check(st, "periodic check", 0);
	}
	return nw_next - mono;
}

void
nftwatch_hup(struct store *st)
{
	char	 err[1024], *text, *old = NULL;

	if (nw_text == NULL)
		return;
	if ((text = rfile_read(nw_file, NW_FILE_MAX, NULL, err,
	    sizeof(err))) == NULL)
		log_warnx("SIGHUP: %s; loading the ruleset read before", err);
	else {
		old = nw_text;
		nw_text = text;
	}
	if (nw_run(err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: %s; the rules loaded before stay", err);
		/* A reload after a flush loads what worked last. */
		if (text != NULL) {
			nw_text = old;
			free(text);
		}
		return;
	}
	if (text != NULL)
		free(old);
	log_info("SIGHUP: loaded %s", nw_file);
	nw_lost = 0;
	fw_reconcile(st, time(NULL));
}

uint64_t
nftwatch_reloads(void)
{
	return nw_reloads;
}
