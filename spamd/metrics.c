/*
 * The greylister writes the metrics file (metrics.h).  Names start with
 * spamd_, counters end in _total; every family has its HELP and TYPE.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "firewall.h"
#include "dnssite.h"
#include "gcount.h"
#include "gsync.h"
#include "log.h"
#include "metrics.h"
#include "nftwatch.h"
#include "spamd.h"

/* Tuples by result, indexed by result - GREY_FAIL (GREY_FAIL is -1). */
#define M_RESULT(r)	((r) - GREY_FAIL)
#define M_NRESULTS	M_RESULT(GREY_REFUSED + 1)

static struct stats_rec	 m_eng;		/* the engine's last snapshot */
static uint64_t		 m_tuples[M_NRESULTS];
static uint64_t		 m_trapped, m_promoted;
static uint64_t		 m_pregreet, m_spfpass;	/* issue 22 */
static struct gcount	 m_count;
static int		 m_counted;	/* m_count holds a walk */
static time_t		 m_next;	/* monotonic: next write */
static struct dnsstats	 m_dns_st;	/* the engine's DNS counters */

/*
 * Pass delays, first attempt to pass, in buckets of minutes to hours:
 * passtime is 25 minutes by default and greyexp 4 hours, but -G may
 * say days.
 */
static const unsigned int m_delay_le[] = {
	60, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400
};
#define M_NDELAY	(sizeof(m_delay_le) / sizeof(m_delay_le[0]))
static uint64_t		 m_delay[M_NDELAY + 1];	/* the last: +Inf */
static uint64_t		 m_delay_sum;
static uint64_t		 m_grey_expired, m_grey_unretried;
static uint64_t		 m_limit[SL_N];		/* greylister's own */
static long long	 m_setn = -1;		/* set elements, -1: unknown */

static void	m_admin(FILE *);
static void	m_family(FILE *, const char *, const char *, const char *);
static void	m_label(FILE *, const char *);
static void	m_lists(FILE *, int);
static void	m_one(FILE *, const char *, const char *, const char *,
		    uint64_t);
static int	m_write(FILE *);
static void	m_dns(FILE *);

void
metrics_engine(const struct grey_msg *m)
{
	memcpy(&m_eng, &m->stats, sizeof(m_eng));
	/* Tags come from a process we do not trust: terminate them. */
	for (size_t i = 0; i <= STATS_MAXLISTS; i++)
		m_eng.list[i].tag[STATS_TAGLEN - 1] = '\0';
}

void
metrics_dns(const struct grey_msg *m)
{
	memcpy(&m_dns_st, &m->dns, sizeof(m_dns_st));
}

void
metrics_tuple(enum grey_result r)
{
	if (r >= GREY_FAIL && r <= GREY_REFUSED)
		m_tuples[M_RESULT(r)]++;
}

void
metrics_trapped(void)
{
	m_trapped++;
}

void
metrics_promoted(void)
{
	m_promoted++;
}

void
metrics_pass(time_t delay)
{
	size_t	 i;

	if (delay < 0)
		delay = 0;
	for (i = 0; i < M_NDELAY && (uint64_t)delay > m_delay_le[i]; i++)
		;
	m_delay[i]++;
	m_delay_sum += (uint64_t)delay;
}

void
metrics_grey_expired(int retried)
{
	m_grey_expired++;
	if (!retried)
		m_grey_unretried++;
}

void
metrics_limit(enum stats_limit l)
{
	if (l >= 0 && l < SL_N)
		m_limit[l]++;
}

void
metrics_pregreet(void)
{
	m_pregreet++;
}

void
metrics_spfpass(void)
{
	m_spfpass++;
}

void
metrics_scan(struct store *st, time_t now)
{
	if (conf.metrics == NULL)
		return;
	if (gcount_walk(st, now, &m_count) == -1) {
		log_warnx("metrics: cannot count the entries of %s",
		    conf.dbpath);
		return;
	}
	m_counted = 1;
	m_setn = fw_elements();
}

static void
m_family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP spamd_%s %s\n# TYPE spamd_%s %s\n", name, help,
	    name, type);
}

/* A tag goes into a label value: only what cannot break the quotes. */
static void
m_label(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '"' && *s != '\\' && *s != '\n')
			fputc(*s, fp);
}

/* A family of one sample. */
static void
m_one(FILE *fp, const char *name, const char *type, const char *help,
    uint64_t v)
{
	m_family(fp, name, type, help);
	fprintf(fp, "spamd_%s %" PRIu64 "\n", name, v);
}

/* Per-list connections: open now, or (total) since start. */
static void
m_lists(FILE *fp, int total)
{
	const char	*name = total ? "blacklist_connections_total" :
			    "blacklist_connections";
	int		 i;

	m_family(fp, name, total ? "counter" : "gauge", total ?
	    "Connections from hosts on each blacklist." :
	    "Connections open now from hosts on each blacklist.");
	for (i = 0; i <= STATS_MAXLISTS && m_eng.list[i].tag[0]; i++) {
		fprintf(fp, "spamd_%s{list=\"", name);
		m_label(fp, m_eng.list[i].tag);
		fprintf(fp, "\"} %" PRIu64 "\n", total ?
		    m_eng.list[i].total : m_eng.list[i].now);
	}
}

/* Delays, expiries, limits, STARTTLS and the sets against the database. */
static void
m_admin(FILE *fp)
{
	static const char *const limits[SL_N] = {
		[SL_RCPT] = "rcpt", [SL_CONN] = "conn",
		[SL_NETCONN] = "netconn", [SL_SESSION] = "session",
		[SL_GREY] = "grey", [SL_NETGREY] = "netgrey",
		[SL_FREE] = "free"
	};
	uint64_t	 n;
	size_t		 i;

	m_family(fp, "pass_delay_seconds", "histogram",
	    "Seconds from a tuple's first attempt to the retry that passed.");
	for (n = 0, i = 0; i < M_NDELAY; i++) {
		n += m_delay[i];
		fprintf(fp, "spamd_pass_delay_seconds_bucket{le=\"%u\"} %"
		    PRIu64 "\n", m_delay_le[i], n);
	}
	n += m_delay[M_NDELAY];
	fprintf(fp, "spamd_pass_delay_seconds_bucket{le=\"+Inf\"} %" PRIu64
	    "\n", n);
	fprintf(fp, "spamd_pass_delay_seconds_sum %" PRIu64 "\n", m_delay_sum);
	fprintf(fp, "spamd_pass_delay_seconds_count %" PRIu64 "\n", n);
	m_one(fp, "grey_expired_total", "counter",
	    "GREY tuples that expired without passing.", m_grey_expired);
	m_one(fp, "grey_expired_unretried_total", "counter",
	    "GREY tuples that expired never tried again: greylisting stopped "
	    "them.", m_grey_unretried);
	m_family(fp, "limit_hits_total", "counter",
	    "Clients that ran into a -L limit, by limit.");
	for (i = 0; i < SL_N; i++)
		fprintf(fp, "spamd_limit_hits_total{limit=\"%s\"} %" PRIu64
		    "\n", limits[i], m_eng.limit[i] + m_limit[i]);
	m_one(fp, "starttls_offered_total", "counter",
	    "EHLO replies that offered STARTTLS.", m_eng.tls[STLS_OFFERED]);
	m_one(fp, "starttls_used_total", "counter",
	    "STARTTLS handshakes completed.", m_eng.tls[STLS_USED]);
	m_one(fp, "starttls_failed_total", "counter",
	    "STARTTLS handshakes that failed or timed out.",
	    m_eng.tls[STLS_FAILED]);
	if (!m_counted || m_setn < 0)
		return;
	m_one(fp, "white_set_elements", "gauge",
	    "Elements in the nft whitelist sets, after the last scan.",
	    (uint64_t)m_setn);
	m_family(fp, "white_set_drift", "gauge",
	    "Set elements minus live WHITE entries after the last scan: not "
	    "0 when something else changed the sets.");
	fprintf(fp, "spamd_white_set_drift %lld\n",
	    m_setn - (long long)m_count.white_live);
}

/* DNS reputation (-D): the engine's GM_DNSSTATS, per site by its -D. */
static void
m_dns(FILE *fp)
{
	static const int	 bounds[DNSSTATS_NB] = DNSSTATS_BOUNDS;
	static const struct {
		const char	*name, *help;
		size_t		 off;
	} per[] = {
		{ "dns_lookups_total", "DNS reputation lookups sent, by site.",
		    offsetof(struct dnsstats_site, lookups) },
		{ "dns_cached_total", "DNS reputation answers from the "
		    "resolver's cache, by site.",
		    offsetof(struct dnsstats_site, cached) },
		{ "dns_listed_total", "Clients a DNS reputation site listed.",
		    offsetof(struct dnsstats_site, listed) },
		{ "dns_timeouts_total", "DNS reputation lookups unanswered by "
		    "the deadline (counted as not listed), by site.",
		    offsetof(struct dnsstats_site, timeouts) },
		{ "dns_failures_total", "DNS reputation lookups that failed "
		    "(counted as not listed), by site.",
		    offsetof(struct dnsstats_site, failures) },
	};
	uint64_t	 n;
	size_t		 k;
	int		 i;

	if (conf.ndnssites == 0)
		return;
	for (k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
		m_family(fp, per[k].name, "counter", per[k].help);
		for (i = 0; i < conf.ndnssites; i++) {
			memcpy(&n, (const char *)&m_dns_st.site[i] +
			    per[k].off, sizeof(n));
			fprintf(fp, "spamd_%s{site=\"", per[k].name);
			m_label(fp, conf.dnssites[i].spec);
			fprintf(fp, "\"} %" PRIu64 "\n", n);
		}
	}
	m_family(fp, "dns_lookup_seconds", "summary",
	    "Time DNS reputation lookups took, by site.");
	for (i = 0; i < conf.ndnssites; i++) {
		fprintf(fp, "spamd_dns_lookup_seconds_sum{site=\"");
		m_label(fp, conf.dnssites[i].spec);
		fprintf(fp, "\"} %" PRIu64 ".%03u\n",
		    m_dns_st.site[i].ms_sum / 1000,
		    (unsigned)(m_dns_st.site[i].ms_sum % 1000));
		fprintf(fp, "spamd_dns_lookup_seconds_count{site=\"");
		m_label(fp, conf.dnssites[i].spec);
		fprintf(fp, "\"} %" PRIu64 "\n", m_dns_st.site[i].lookups);
	}
	m_family(fp, "dns_verdicts_total", "counter",
	    "DNS reputation verdicts: blacklisted, whitelisted, neither, "
	    "none by the deadline, not asked.");
	n = m_dns_st.asked - m_dns_st.black - m_dns_st.white - m_dns_st.late;
	fprintf(fp, "spamd_dns_verdicts_total{verdict=\"black\"} %" PRIu64
	    "\nspamd_dns_verdicts_total{verdict=\"white\"} %" PRIu64
	    "\nspamd_dns_verdicts_total{verdict=\"neither\"} %" PRIu64
	    "\nspamd_dns_verdicts_total{verdict=\"late\"} %" PRIu64
	    "\nspamd_dns_verdicts_total{verdict=\"unasked\"} %" PRIu64 "\n",
	    m_dns_st.black, m_dns_st.white, n, m_dns_st.late,
	    m_dns_st.unasked);
	m_family(fp, "dns_verdict_seconds", "histogram",
	    "Time from a client's connection to its DNS reputation verdict.");
	for (n = 0, i = 0; i <= DNSSTATS_NB; i++) {
		n += m_dns_st.hist[i];
		if (i < DNSSTATS_NB)
			fprintf(fp, "spamd_dns_verdict_seconds_bucket{le=\""
			    "%d.%03d\"} %" PRIu64 "\n", bounds[i] / 1000,
			    bounds[i] % 1000, n);
		else
			fprintf(fp, "spamd_dns_verdict_seconds_bucket{le=\""
			    "+Inf\"} %" PRIu64 "\n", n);
	}
	fprintf(fp, "spamd_dns_verdict_seconds_sum %" PRIu64 ".%03u\n"
	    "spamd_dns_verdict_seconds_count %" PRIu64 "\n",
	    m_dns_st.ms_sum / 1000, (unsigned)(m_dns_st.ms_sum % 1000), n);
}

static int
m_write(FILE *fp)
{
	static const char *const kinds[SK_N] = {
		"greylisted", "blacklisted", "trapped"
	};
	/* The label of each result, written in this order. */
	static const char *const results[M_NRESULTS] = {
		[M_RESULT(GREY_FAIL)] = "failed",
		[M_RESULT(GREY_NEW)] = "new",
		[M_RESULT(GREY_EARLY)] = "early",
		[M_RESULT(GREY_PASSED)] = "passed",
		[M_RESULT(GREY_WHITE)] = "white",
		[M_RESULT(GREY_TRAPPED)] = "trapped",
		[M_RESULT(GREY_REFUSED)] = "refused"
	};
	struct sync_counts	 sc;
	uint64_t		 ops, fails, rej;
	int			 i;

	m_family(fp, "connections", "gauge",
	    "SMTP connections open now, by kind.");
	for (i = 0; i < SK_N; i++)
		fprintf(fp, "spamd_connections{kind=\"%s\"} %" PRIu64 "\n",
		    kinds[i], m_eng.conn_now[i]);
	m_family(fp, "connections_total", "counter",
	    "SMTP connections accepted, by kind.");
	for (i = 0; i < SK_N; i++)
		fprintf(fp, "spamd_connections_total{kind=\"%s\"} %" PRIu64
		    "\n", kinds[i], m_eng.conn_total[i]);
	m_lists(fp, 0);
	m_lists(fp, 1);
	m_family(fp, "tarpit_seconds_total", "counter",
	    "Seconds blacklisted and trapped clients spent in the tarpit.");
	fprintf(fp, "spamd_tarpit_seconds_total %" PRIu64 ".%03u\n",
	    m_eng.tarpit_ms / 1000, (unsigned)(m_eng.tarpit_ms % 1000));
	m_family(fp, "tuples_total", "counter",
	    "Greylisting tuples processed, by result.");
	for (i = 0; i < M_NRESULTS; i++)
		fprintf(fp, "spamd_tuples_total{result=\"%s\"} %" PRIu64 "\n",
		    results[i], m_tuples[i]);
	fw_counts(&ops, &fails);
	gsync_counts(&sc);
	for (rej = sc.replayed, i = 0; i < SYNC_NERR; i++)
		rej += sc.rejected[i];
	{
		const struct {
			const char	*name, *type, *help;
			uint64_t	 v;
		} one[] = {
		{ "stutter_bytes_total", "counter",
		    "Bytes sent one at a time to stuttered clients.",
		    m_eng.stutter_bytes },
		{ "tuples_dropped_total", "counter",
		    "Tuples the engine dropped because the greylister lagged.",
		    m_eng.tuples_dropped },
		{ "whitelisted_total", "counter",
		    "Hosts whitelisted: passed retries, promotions by scans.",
		    m_tuples[M_RESULT(GREY_PASSED)] + m_promoted },
		{ "trapped_total", "counter",
		    "Hosts trapped for writing to a spamtrap or a bad domain.",
		    m_trapped },
		{ "blacklists_loaded_total", "counter",
		    "Blacklists installed by spamd-setup.",
		    m_eng.bl_loaded },
		{ "blacklists", "gauge",
		    "Blacklists in force.",
		    m_eng.bl_lists },
		{ "nft_operations_total", "counter",
		    "nftables transactions sent to the kernel.",
		    ops },
		{ "nft_failures_total", "counter",
		    "nftables transactions that failed.",
		    fails },
		{ "nft_vanished_total", "counter",
		    "Times the table or a whitelist set vanished and -F's "
		    "ruleset was loaded again.",
		    nftwatch_reloads() },
		{ "sync_sent_total", "counter",
		    "Entries sent to sync peers.",
		    sc.sent },
		{ "sync_received_total", "counter",
		    "Sync datagrams received.",
		    sc.received },
		{ "sync_rejected_total", "counter",
		    "Sync datagrams rejected: forged, malformed, replayed.",
		    rej },
		{ "relay_sessions", "gauge",
		    "Sessions relayed to the MTA (-R) open now.",
		    m_eng.relay_now },
		{ "relay_sessions_total", "counter",
		    "Sessions relayed to the MTA (-R).",
		    m_eng.relay_total },
		{ "relay_failures_total", "counter",
		    "Relays that found the MTA unreachable: the client got a "
		    "421.",
		    m_eng.relay_failed },
		{ "relay_bytes_in_total", "counter",
		    "Bytes relayed from clients to the MTA.",
		    m_eng.relay_bytes_in },
		{ "relay_bytes_out_total", "counter",
		    "Bytes relayed from the MTA to clients.",
		    m_eng.relay_bytes_out },
		{ "pregreet_total", "counter",
		    "Hosts trapped for writing before the banner ended.",
		    m_pregreet },
		{ "spf_passed_total", "counter",
		    "Hosts whitelisted by a retry from another address of "
		    "their SPF domain.",
		    m_spfpass },
		};

		for (i = 0; i < (int)(sizeof(one) / sizeof(one[0])); i++)
			m_one(fp, one[i].name, one[i].type, one[i].help,
			    one[i].v);
	}
	/* For spamd-status: is a sync peer heard from at all? */
	m_family(fp, "sync_accepted_seconds", "gauge",
	    "When a sync peer's datagram was last accepted, in seconds since "
	    "the epoch; 0: none since spamd started.");
	fprintf(fp, "spamd_sync_accepted_seconds %lld\n",
	    (long long)sc.last_accepted);
	{
		static const char *const pxr[SP_N] = {
			[SP_PROXIED] = "proxied", [SP_LOCAL] = "local",
			[SP_BAD] = "malformed", [SP_TIMEOUT] = "timeout",
			[SP_HANGUP] = "hangup"
		};

		m_family(fp, "proxy_headers_total", "counter",
		    "Connections from -X balancers, by how the PROXY header "
		    "ended.");
		for (i = 0; i < SP_N; i++)
			fprintf(fp, "spamd_proxy_headers_total{result=\"%s\"} "
			    "%" PRIu64 "\n", pxr[i], m_eng.proxy[i]);
	}
	if (m_counted) {
		m_family(fp, "entries", "gauge",
		    "Database entries by state, after the last scan.");
		for (i = 0; i < GD_META; i++)
			fprintf(fp, "spamd_entries{state=\"%s\"} %" PRIu64
			    "\n", gcount_name(i), m_count.n[i]);
	}
	m_admin(fp);
	m_dns(fp);
	m_family(fp, "metrics_written_seconds", "gauge",
	    "When spamd wrote this file, in seconds since the epoch.");
	fprintf(fp, "spamd_metrics_written_seconds %lld\n",
	    (long long)time(NULL));
	return ferror(fp) ? -1 : 0;
}

time_t
metrics_tick(time_t mono, int force)
{
	static time_t	 lastnag;
	char		 tmp[PATH_MAX];
	FILE		*fp;
	int		 fd, saved;

	if (conf.metrics == NULL)
		return METRICS_INTERVAL * 60;
	if (!force && mono < m_next)
		return m_next - mono;
	m_next = mono + METRICS_INTERVAL;
	/*
	 * A new name each time, made with O_EXCL: whatever another user
	 * planted in a shared directory (a file, a symlink) is not ours
	 * and cannot stop the write.  0644, as readers expect.
	 */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", conf.metrics) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		goto fail;
	if (fchmod(fd, 0644) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		saved = errno;
		(void)close(fd);
		(void)unlink(tmp);
		errno = saved;
		goto fail;
	}
	if (m_write(fp) == -1 || fflush(fp) == EOF) {
		saved = errno;
		(void)fclose(fp);
		(void)unlink(tmp);
		errno = saved;
		goto fail;
	}
	if (fclose(fp) == EOF || rename(tmp, conf.metrics) == -1) {
		saved = errno;
		(void)unlink(tmp);
		errno = saved;
		goto fail;
	}
	return METRICS_INTERVAL;
fail:
	/* Once a minute at most: a full disk must not flood the log. */
	if (log_nag(&lastnag, 60))
		log_warn("metrics: cannot write %s", conf.metrics);
	return METRICS_INTERVAL;
}

void
metrics_exit(struct store *st, int fd)
{
	struct grey_msg	 m;
	struct timespec	 ts;
	int		 i;

	if (conf.metrics == NULL)
		return;
	for (i = 0; i < 100000; i++) {
		enum greymsg_recv r = greymsg_recv(fd, &m, "the engine");

		if (r == GMR_RECORD && m.type == GM_STATS)
			metrics_engine(&m);
		else if (r == GMR_RECORD && m.type == GM_DNSSTATS)
			metrics_dns(&m);
		else if (r != GMR_RECORD && r != GMR_DROPPED)
			break;
	}
	metrics_scan(st, time(NULL));
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		ts.tv_sec = 0;
	(void)metrics_tick(ts.tv_sec, 1);
}
