/*
 * Asking DNS for every domain at once, with c-ares: one channel, one
 * poll loop, up to SPF_INFLIGHT queries outstanding and the rest
 * queued, so a walk takes about as many round trips as the deepest
 * chain of includes, not as many as there are lookups.  c-ares reads
 * /etc/resolv.conf and does the timeouts and retries.
 *
 * Each domain given (struct spf_root) keeps the SPF records it walked
 * as a tree of nodes: a name that is its own ancestor is a loop; one
 * met again on another branch was walked already and is skipped.
 * Answers are untrusted: addresses are taken from fixed arrays, names
 * are checked, and each domain is bounded in lookups, records and
 * networks.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aresloop.h"
#include "spfwalk.h"

enum qkind { Q_SPF, Q_MX, Q_ADDR };

struct query {
	struct spf_root	*root;
	struct query	*next;		/* in the queue */
	enum qkind	 kind;
	int		 type;		/* ns_t_txt, ns_t_mx, ns_t_a, ... */
	int		 node;		/* the record that asked for it */
	int		 c4, c6;	/* prefix lengths for addresses */
	char		 mech[16];	/* for messages: "include", "a", ... */
	char		 name[SPF_NAMEMAX];
};

/* What a record's callbacks need: its root and its node. */
struct ctx {
	struct spf_root	*root;
	int		 node;
};

static ares_channel	 ch;
static struct query	*qhead, **qtail = &qhead;
static int		 inflight;
static struct cidr_list	 nets4, nets6;

static void	fail(struct spf_root *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	vnote(struct spf_root *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	ask(struct spf_root *, enum qkind, int, int, const char *,
		    const char *, int, int);
static void	answer(void *, int, int, unsigned char *, int);
static void	got_txt(struct query *, unsigned char *, int);
static void	walk_record(struct spf_root *, int, const char *,
		    const char *);
static void	got_mx(struct query *, unsigned char *, int);
static void	got_addr(struct query *, unsigned char *, int);
static void	add_net(struct spf_root *, int, const struct cidr_range *);
static void	v_record(void *, const char *, const char *);
static void	v_hosts(void *, int, const char *, int, int);
static void	v_net(void *, int, const struct cidr_range *);
static void	v_warn(void *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	v_note(void *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	v_error(void *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* The first failure of a domain is its reason; later ones with -v. */
static void
fail(struct spf_root *r, const char *fmt, ...)
{
	char	 buf[sizeof(r->why)];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!r->failed) {
		r->failed = 1;
		strlcpy(r->why, buf, sizeof(r->why));
	} else if (verbose)
		fprintf(stderr, "spfwalk: %s: also: %s\n", r->name, buf);
}

static void
vnote(struct spf_root *r, const char *fmt, ...)
{
	va_list	 ap;

	if (!verbose)
		return;
	fprintf(stderr, "spfwalk: %s: ", r->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
walk_init(const char *servers, int timeout_ms, int tries)
{
	struct ares_options	 o;
	int			 mask = 0, rc;

	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		fprintf(stderr, "spfwalk: c-ares: %s\n", ares_strerror(rc));
		return -1;
	}
	memset(&o, 0, sizeof(o));
	/* Answers larger than 512 bytes without falling back to TCP. */
	o.flags = ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH;
	o.ednspsz = 1232;
	mask |= ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
	if (timeout_ms > 0) {
		o.timeout = timeout_ms;
		mask |= ARES_OPT_TIMEOUTMS;
	}
	if (tries > 0) {
		o.tries = tries;
		mask |= ARES_OPT_TRIES;
	}
	if ((rc = ares_init_options(&ch, &o, mask)) != ARES_SUCCESS) {
		fprintf(stderr, "spfwalk: resolver: %s\n", ares_strerror(rc));
		return -1;
	}
	if (servers != NULL &&
	    (rc = ares_set_servers_ports_csv(ch, servers)) != ARES_SUCCESS) {
		fprintf(stderr, "spfwalk: -s %s: %s\n", servers,
		    ares_strerror(rc));
		return -1;
	}
	cidr_list_init(&nets4, AF_INET);
	cidr_list_init(&nets6, AF_INET6);
	return 0;
}

void
walk_done(void)
{
	ares_destroy(ch);
	ares_library_cleanup();
	cidr_list_free(&nets4);
	cidr_list_free(&nets6);
}

const struct cidr_list *
walk_nets(int af)
{
	cidr_list_normalize(af == AF_INET ? &nets4 : &nets6);
	return af == AF_INET ? &nets4 : &nets6;
}

void
walk_start(struct spf_root *r)
{
	r->nnodes = 1;
	strlcpy(r->nodes[0].name, r->name, sizeof(r->nodes[0].name));
	r->nodes[0].parent = -1;
	ask(r, Q_SPF, ns_t_txt, 0, "", r->name, 32, 128);
}

/* Queue a query of root r, counted against its bound. */
static void
ask(struct spf_root *r, enum qkind kind, int type, int node,
    const char *mech, const char *name, int c4, int c6)
{
	struct query	*q;

	if (++r->lookups > SPF_MAXLOOKUPS) {
		if (r->lookups == SPF_MAXLOOKUPS + 1)
			fail(r, "more than %d DNS lookups", SPF_MAXLOOKUPS);
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		fail(r, "%s", strerror(errno));
		return;
	}
	q->root = r;
	q->kind = kind;
	q->type = type;
	q->node = node;
	q->c4 = c4;
	q->c6 = c6;
	strlcpy(q->mech, mech, sizeof(q->mech));
	strlcpy(q->name, name, sizeof(q->name));
	*qtail = q;
	qtail = &q->next;
}

void
walk_run(void)
{
	struct pollfd	 pfd[ARESLOOP_MAXFDS];
	struct query	*q;
	int64_t		 due;
	int		 n, ms;

	for (;;) {
		while (qhead != NULL && inflight < SPF_INFLIGHT) {
			q = qhead;
			if ((qhead = q->next) == NULL)
				qtail = &qhead;
			inflight++;
			ares_query(ch, q->name, ns_c_in, q->type, answer, q);
		}
		if (inflight == 0 && qhead == NULL &&
		    spf_check_running() == 0)
			return;
		n = aresloop_fds(ch, pfd);
		ms = aresloop_wait(ch, 1000);
		/* -c: the checks' time bound. */
		if ((due = spf_check_next()) != -1 && due - mono_ms() < ms)
			ms = due > mono_ms() ? (int)(due - mono_ms()) : 0;
		if (poll(pfd, n, ms) == -1) {
			if (errno == EINTR)
				continue;
			perror("spfwalk: poll");
			exit(1);
		}
		aresloop_run(ch, pfd, n);
		spf_check_expire(mono_ms());
	}
}

/* -c: check_host() of r->name for ip (lib/spfcheck.c), on our channel. */
static void
checked(void *arg, enum spf_result res, const char *why)
{
	struct spf_root	*r = arg;

	r->result = res;
	strlcpy(r->why, why, sizeof(r->why));
}

void
walk_check(struct spf_root *r, const struct addr *ip, int ms)
{
	r->result = SPF_R_TEMPERROR;
	if (spf_check(ch, r->name, ip, mono_ms(), ms, checked, r) == -1)
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
}

static const char *
reason(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
		return "NXDOMAIN";
	case ARES_ENODATA:
		return "no data";
	case ARES_ETIMEOUT:
		return "timeout";
	case ARES_ESERVFAIL:
		return "SERVFAIL";
	case ARES_EREFUSED:
		return "REFUSED";
	case ARES_ECONNREFUSED:
		return "connection refused";
	default:
		return ares_strerror(status);
	}
}

/* Where in the walk a query is, for messages: "include:x" or "". */
static void
where(const struct query *q, char *buf, size_t len)
{
	if (q->kind == Q_SPF && q->node == 0 && q->mech[0] == '\0')
		buf[0] = '\0';
	else
		snprintf(buf, len, "%s:%s: ", q->mech, q->name);
}

static void
answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query	*q = arg;
	char		 w[SPF_NAMEMAX + 32];

	(void)timeouts;
	inflight--;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED)
		goto done;
	where(q, w, sizeof(w));
	if (status != ARES_SUCCESS) {
		if (q->kind == Q_SPF && status == ARES_ENODATA)
			fail(q->root, "%sno SPF record", w);
		else if (q->kind == Q_SPF || (status != ARES_ENOTFOUND &&
		    status != ARES_ENODATA))
			fail(q->root, "%s%s", w, reason(status));
		else		/* a host without addresses: no network */
			vnote(q->root, "%s%s", w, reason(status));
		goto done;
	}
	switch (q->kind) {
	case Q_SPF:
		got_txt(q, abuf, alen);
		break;
	case Q_MX:
		got_mx(q, abuf, alen);
		break;
	case Q_ADDR:
		got_addr(q, abuf, alen);
		break;
	}
 done:
	free(q);
}

/* The one SPF record of the answer (lib/spftxt.c), walked. */
static void
got_txt(struct query *q, unsigned char *abuf, int alen)
{
	char	 rec[SPF_RECMAX], w[300], why[128];

	where(q, w, sizeof(w));
	if (spf_txt(abuf, alen, rec, why, sizeof(why)) != 1) {
		fail(q->root, "%s%s", w, why);
		return;
	}
	walk_record(q->root, q->node, rec, q->name);
}

/* The terms of rec, the record of domain, node of root r. */
static void
walk_record(struct spf_root *r, int node, const char *rec,
    const char *domain)
{
	struct spf_visit	 v;
	struct ctx		 c;

	c.root = r;
	c.node = node;
	v.record = v_record;
	v.hosts = v_hosts;
	v.net = v_net;
	v.warn = v_warn;
	v.note = v_note;
	v.error = v_error;
	v.arg = &c;
	spf_parse(rec, domain, &v);
}

static void
got_mx(struct query *q, unsigned char *abuf, int alen)
{
	struct ares_mx_reply	*mx = NULL, *m;
	int			 n = 0, rc;

	if ((rc = ares_parse_mx_reply(abuf, alen, &mx)) != ARES_SUCCESS) {
		if (rc != ARES_ENODATA)
			fail(q->root, "mx:%s: bad MX answer: %s", q->name,
			    ares_strerror(rc));
		return;
	}
	for (m = mx; m != NULL; m = m->next) {
		if (++n > SPF_MAXMX) {
			fail(q->root, "mx:%s: more than %d exchanges",
			    q->name, SPF_MAXMX);
			break;
		}
		if (!spf_name_ok(m->host)) {
			fail(q->root, "mx:%s: bad exchange name", q->name);
			continue;
		}
		ask(q->root, Q_ADDR, ns_t_a, q->node, "mx", m->host, q->c4,
		    q->c6);
		ask(q->root, Q_ADDR, ns_t_aaaa, q->node, "mx", m->host,
		    q->c4, q->c6);
	}
	ares_free_data(mx);
}

static void
got_addr(struct query *q, unsigned char *abuf, int alen)
{
	struct ares_addrttl	 a4[SPF_MAXADDRS];
	struct ares_addr6ttl	 a6[SPF_MAXADDRS];
	struct cidr_range	 r;
	struct cidr_ip		 ip;
	int			 i, n = SPF_MAXADDRS, rc;

	if (q->type == ns_t_a)
		rc = ares_parse_a_reply(abuf, alen, NULL, a4, &n);
	else
		rc = ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n);
	if (rc != ARES_SUCCESS) {
		if (rc != ARES_ENODATA)
			fail(q->root, "%s:%s: bad answer: %s", q->mech,
			    q->name, ares_strerror(rc));
		return;
	}
	for (i = 0; i < n; i++) {
		if (q->type == ns_t_a) {
			cidr_ip_from_bytes(AF_INET, &a4[i].ipaddr, &ip);
			cidr_block(AF_INET, &ip, q->c4, &r);
			add_net(q->root, AF_INET, &r);
		} else {
			cidr_ip_from_bytes(AF_INET6, &a6[i].ip6addr, &ip);
			cidr_block(AF_INET6, &ip, q->c6, &r);
			add_net(q->root, AF_INET6, &r);
		}
	}
}

static void
add_net(struct spf_root *r, int af, const struct cidr_range *range)
{
	if (++r->nets > SPF_MAXNETS) {
		if (r->nets == SPF_MAXNETS + 1)
			fail(r, "more than %d networks", SPF_MAXNETS);
		return;
	}
	if (cidr_list_add(af == AF_INET ? &nets4 : &nets6, range) == -1)
		fail(r, "%s", strerror(errno));
}

/* include: or redirect=: a loop, a record walked already, or a new one. */
static void
v_record(void *arg, const char *mech, const char *domain)
{
	struct ctx	*c = arg;
	struct spf_root	*r = c->root;
	char		 path[sizeof(r->why)];
	int		 i, k;

	for (k = c->node; k != -1; k = r->nodes[k].parent)
		if (strcasecmp(r->nodes[k].name, domain) == 0)
			break;
	if (k != -1) {
		/* The chain from the repeated name down to here. */
		strlcpy(path, domain, sizeof(path));
		for (i = c->node; i != k; i = r->nodes[i].parent) {
			char	 tmp[sizeof(path) + SPF_NAMEMAX + 8];

			snprintf(tmp, sizeof(tmp), "%s -> %s",
			    r->nodes[i].name, path);
			strlcpy(path, tmp, sizeof(path));
		}
		fail(r, "loop: %s -> %s", domain, path);
		return;
	}
	for (i = 0; i < r->nnodes; i++)
		if (strcasecmp(r->nodes[i].name, domain) == 0) {
			vnote(r, "%s:%s walked already", mech, domain);
			return;
		}
	if (r->nnodes == SPF_MAXNODES) {
		fail(r, "more than %d SPF records", SPF_MAXNODES);
		return;
	}
	strlcpy(r->nodes[r->nnodes].name, domain, sizeof(r->nodes[0].name));
	r->nodes[r->nnodes].parent = c->node;
	ask(r, Q_SPF, ns_t_txt, r->nnodes++, mech, domain, 32, 128);
}

static void
v_hosts(void *arg, int mx, const char *domain, int c4, int c6)
{
	struct ctx	*c = arg;

	if (mx)
		ask(c->root, Q_MX, ns_t_mx, c->node, "mx", domain, c4, c6);
	else {
		ask(c->root, Q_ADDR, ns_t_a, c->node, "a", domain, c4, c6);
		ask(c->root, Q_ADDR, ns_t_aaaa, c->node, "a", domain, c4, c6);
	}
}

static void
v_net(void *arg, int af, const struct cidr_range *range)
{
	struct ctx	*c = arg;

	add_net(c->root, af, range);
}

/* "spfwalk: domain given: record: ..." on standard error. */
static void
v_say(const struct ctx *c, const char *fmt, va_list ap)
{
	fprintf(stderr, "spfwalk: %s: %s: ", c->root->name,
	    c->root->nodes[c->node].name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void
v_warn(void *arg, const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	v_say(arg, fmt, ap);
	va_end(ap);
}

static void
v_note(void *arg, const char *fmt, ...)
{
	va_list		 ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	v_say(arg, fmt, ap);
	va_end(ap);
}

static void
v_error(void *arg, const char *fmt, ...)
{
	struct ctx	*c = arg;
	char		 buf[300];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fail(c->root, "%s: %s", c->root->nodes[c->node].name, buf);
}
