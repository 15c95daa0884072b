/*
 * The SMTP engine's counters, sent to the greylister as GM_STATS
 * snapshots (stats.h).  Only the engine touches them; the hooks are
 * cheap enough to run for every connection and every stuttered byte.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "blacklist.h"
#include "con.h"
#include "dnsrep.h"
#include "greymsg.h"
#include "greytrap.h"
#include "log.h"
#include "spamd.h"
#include "stats.h"

static struct stats_rec	 st;
static int64_t		 st_next;	/* ms: next snapshot due */

static enum stats_kind	 st_kind(const struct con *);
static struct stats_list *st_list(const char *, size_t);
static void		 st_lists(const struct con *, int);

static enum stats_kind
st_kind(const struct con *c)
{
	if (c->bl == NULL)
		return SK_GREY;
	if (c->bl->tags != NULL && strcmp(c->bl->tags, GREYTRAP_NAME) == 0)
		return SK_TRAPPED;
	return SK_BLACK;
}

/* The slot of list tag[0..len), made on first use; "other" when full. */
static struct stats_list *
st_list(const char *tag, size_t len)
{
	struct stats_list	*l;
	size_t			 i;

	if (len >= STATS_TAGLEN)
		len = STATS_TAGLEN - 1;
	for (i = 0; i < STATS_MAXLISTS; i++) {
		l = &st.list[i];
		if (l->tag[0] == '\0') {
			memcpy(l->tag, tag, len);
			l->tag[len] = '\0';
			return l;
		}
		if (strncmp(l->tag, tag, len) == 0 && l->tag[len] == '\0')
			return l;
	}
	l = &st.list[STATS_MAXLISTS];
	strlcpy(l->tag, "other", sizeof(l->tag));
	return l;
}

/* Count a blacklisted connection in each list it matched ("a b c"). */
static void
st_lists(const struct con *c, int delta)
{
	struct stats_list	*l;
	const char		*p, *e;

	if (c->bl == NULL || c->bl->tags == NULL)
		return;
	for (p = c->bl->tags; *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		l = st_list(p, (size_t)(e - p));
		if (delta > 0) {
			l->now++;
			l->total++;
		} else if (l->now > 0)
			l->now--;
	}
}

void
stats_open(const struct con *c)
{
	enum stats_kind	 k = st_kind(c);

	st.conn_now[k]++;
	st.conn_total[k]++;
	st_lists(c, 1);
}

void
stats_close(const struct con *c, int64_t now_ms)
{
	enum stats_kind	 k = st_kind(c);

	if (st.conn_now[k] > 0)
		st.conn_now[k]--;
	/* The tarpit proper: blacklisted and trapped clients, stuttered. */
	if (k != SK_GREY && !(c->flags & CF_NOSTUTTER) && conf.stutter > 0 &&
	    now_ms > c->start)
		st.tarpit_ms += (uint64_t)(now_ms - c->start);
	st_lists(c, -1);
}

void
stats_stuttered(void)
{
	st.stutter_bytes++;
}

void
stats_tuple(int sent)
{
	if (sent)
		st.tuples_sent++;
	else
		st.tuples_dropped++;
}

void
stats_limit(enum stats_limit l, unsigned int n)
{
	if (l >= 0 && l < SL_N)
		st.limit[l] += n;
}

void
stats_tls(enum stats_tls e)
{
	if (e >= 0 && e < STLS_N)
		st.tls[e]++;
}

void
stats_proxy(enum stats_proxy what)
{
	st.proxy[what]++;
}

void
stats_tick(int fd, int64_t now_ms, int force)
{
	static int		 warned;
	struct grey_msg		 m;

	if (conf.metrics == NULL || fd == -1)
		return;
	if (!force && now_ms < st_next)
		return;
	st_next = now_ms + STATS_INTERVAL * 1000;
	st.bl_lists = bl_nlists();
	st.bl_loaded = bl_ninstalls();
	greymsg_init(&m, GM_STATS);
	memcpy(&m.stats, &st, sizeof(st));
	/* A lost snapshot is replaced by the next one: never block. */
	if (greymsg_send(fd, &m) == -1 &&
	    errno != EAGAIN && errno != ENOBUFS && !warned) {
		warned = 1;
		log_warn("statistics: send to greylister");
	}
	dnsrep_stats_send(fd);
}

int
stats_timeout(int64_t now_ms, int ms)
{
	int64_t	 left;

	if (conf.metrics == NULL)
		return ms;
	left = st_next > now_ms ? st_next - now_ms : 0;
	if (ms < 0 || left < ms)
		return (int)left;
	return ms;
}

void
stats_relay(int what)
{
	if (what > 0) {
		st.relay_now++;
		st.relay_total++;
	} else if (what < 0) {
		if (st.relay_now > 0)
			st.relay_now--;
	} else
		st.relay_failed++;
}

void
stats_relay_bytes(uint64_t in, uint64_t out)
{
	st.relay_bytes_in += in;
	st.relay_bytes_out += out;
}

void
stats_leave(const struct con *c)
{
	enum stats_kind	 k = st_kind(c);

	if (st.conn_now[k] > 0)
		st.conn_now[k]--;
	st_lists(c, -1);
}
