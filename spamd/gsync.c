/*
 * The greylister's sync: sending our updates, and the checks a peer's
 * datagram passes before the greylister applies it.
 *
 * The replay guard remembers the HMAC of every datagram accepted in the
 * last SYNC_SKEW seconds in a fixed table (no allocation by what peers
 * send): a datagram seen again is dropped, and an entry whose timestamp
 * is further than SYNC_SKEW from our clock is dropped, so a datagram
 * cannot be played back later than the table remembers it.  OpenBSD
 * senders put their clock in every entry and a counter in every
 * datagram, so no honest datagram repeats.
 */
#include <sys/types.h>

#include <errno.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "gsync.h"

/* Accepted datagrams remembered: a power of two. */
#define SEEN_SLOTS	65536
#define SEEN_PROBES	8
/* One log line a minute per kind of refusal. */
#define LOG_EVERY	60

struct seen {
	uint8_t	mac[SYNC_MACLEN];
	time_t	when;
};

static struct syncnet		*gs_net;
static const struct sync_key	*gs_key;
static struct sync_counts	 gs_counts;
static struct seen		 gs_seen[SEEN_SLOTS];
static time_t			 gs_lastlog[SYNC_NERR + 3];

void
gsync_init(struct syncnet *sn, const struct sync_key *k)
{
	gs_net = sn;
	gs_key = k;
}

int
gsync_sending(void)
{
	return gs_net != NULL && syncnet_sending(gs_net);
}

static void
gs_send(const struct sync_entry *e)
{
	char	 ip[INET6_ADDRSTRLEN];

	if (syncnet_send(gs_net, gs_key, e) == 0)
		gs_counts.sent++;
	else
		log_debug("sync: %s not sent: %s",
		    addr_str(&e->ip, ip, sizeof(ip)), strerror(errno));
}

/* An entry of ip stamped now: 0, or -1 if there is nothing to send. */
static int
gs_entry(struct sync_entry *e, enum sync_type type, const struct addr *ip,
    time_t now)
{
	if (!gsync_sending())
		return -1;
	memset(e, 0, sizeof(*e));
	e->ip = *ip;
	e->type = type;
	e->timestamp = (uint32_t)now;
	return 0;
}

void
gsync_grey(const struct grey_tuple *t, time_t now)
{
	struct sync_entry	 e;
	char			 helo[GD_FIELD_MAX], from[GD_FIELD_MAX];
	char			 to[GD_FIELD_MAX], ip[INET6_ADDRSTRLEN];

	if (gs_entry(&e, SYNC_GREY, &t->ip, now) == -1)
		return;
	/* OpenBSD peers send and store raw bytes: so does the wire. */
	if (gd_unvis(helo, sizeof(helo), t->helo) == -1 ||
	    gd_unvis(from, sizeof(from), t->from) == -1 ||
	    gd_unvis(to, sizeof(to), t->to) == -1) {
		log_debug("sync: tuple of %s not sent: a NUL or newline in "
		    "a field", addr_str(&t->ip, ip, sizeof(ip)));
		return;
	}
	e.helo = helo;
	e.from = from;
	e.to = to;
	gs_send(&e);
}

void
gsync_trapped(const struct addr *ip, time_t expire, time_t now)
{
	struct sync_entry	 e;

	if (gs_entry(&e, SYNC_TRAPPED, ip, now) == -1)
		return;
	e.expire = (uint32_t)expire;
	gs_send(&e);
}

/* A host whitelisted here by DNS reputation (-D), as OpenBSD's WHITE. */
void
gsync_white(const struct addr *ip, time_t expire, time_t now)
{
	struct sync_entry	 e;

	if (gs_entry(&e, SYNC_WHITE, ip, now) == -1)
		return;
	e.expire = (uint32_t)expire;
	gs_send(&e);
}

/* Say why, once a minute per reason. */
static void
gs_refused(int why, const char *what, const char *from)
{
	if (!log_nag(&gs_lastlog[why], LOG_EVERY))
		return;
	log_warnx("sync: datagram from %s refused: %s (%llu refused so far "
	    "for this reason)", from, what, (unsigned long long)(why <
	    SYNC_NERR ? gs_counts.rejected[why] : why == SYNC_NERR ?
	    gs_counts.replayed : gs_counts.stale));
}

/* Was this datagram seen in the last SYNC_SKEW seconds?  Note it. */
static int
gs_replayed(const uint8_t mac[SYNC_MACLEN], time_t now)
{
	struct seen	*s, *old = NULL;
	uint32_t	 h;
	int		 i;

	memcpy(&h, mac, sizeof(h));	/* an HMAC is as good as a hash */
	for (i = 0; i < SEEN_PROBES; i++) {
		s = &gs_seen[(h + i) & (SEEN_SLOTS - 1)];
		if (s->when != 0 && now - s->when <= SYNC_SKEW &&
		    memcmp(s->mac, mac, SYNC_MACLEN) == 0)
			return 1;
		if (old == NULL || s->when < old->when)
			old = s;
	}
	memcpy(old->mac, mac, SYNC_MACLEN);
	old->when = now;
	return 0;
}

struct gs_batch {
	struct sync_entry	 e[(SYNC_MAXLEN - SYNC_HDRLEN) / 16];
	size_t			 n;
	int			 stale;
};

static void
gs_collect(const struct sync_entry *e, void *arg)
{
	struct gs_batch	*b = arg;

	if (b->n < sizeof(b->e) / sizeof(b->e[0]))
		b->e[b->n++] = *e;
}

void
gsync_recv(uint8_t *buf, size_t len, const char *from, time_t now,
    void (*apply)(const struct sync_entry *, const char *, void *),
    void *arg)
{
	struct gs_batch	 b;
	uint8_t		 mac[SYNC_MACLEN];
	enum sync_err	 err;
	char		 ip[INET6_ADDRSTRLEN];
	int64_t		 skew;
	size_t		 i;

	gs_counts.received++;
	if (gs_key == NULL)
		return;
	if (len >= SYNC_HDRLEN)
		memcpy(mac, buf + 8, sizeof(mac));
	b.n = 0;
	if ((err = sync_decode(buf, len, gs_key, gs_collect, &b)) !=
	    SYNC_OK) {
		gs_counts.rejected[err]++;
		gs_refused(err, sync_strerror(err), from);
		return;
	}
	for (i = 0; i < b.n; i++) {
		skew = (int64_t)b.e[i].timestamp - (int64_t)(uint32_t)now;
		if (skew > SYNC_SKEW || skew < -SYNC_SKEW) {
			gs_counts.stale++;
			gs_refused(SYNC_NERR + 1, "an entry's time is too far "
			    "from ours (clocks out of step, or a replay)",
			    from);
			return;
		}
	}
	if (gs_replayed(mac, now)) {
		gs_counts.replayed++;
		gs_refused(SYNC_NERR, "seen before (a replay)", from);
		return;
	}
	gs_counts.accepted++;
	for (i = 0; i < b.n; i++) {
		if (!gsync_addr_ok(&b.e[i].ip)) {
			gs_counts.bogus++;
			if (log_nag(&gs_lastlog[SYNC_NERR + 2], LOG_EVERY))
				log_warnx("sync: entry from %s for %s "
				    "dropped: no host's address (%llu so "
				    "far)", from, addr_str(&b.e[i].ip, ip,
				    sizeof(ip)),
				    (unsigned long long)gs_counts.bogus);
			continue;
		}
		gs_counts.entries++;
		apply(&b.e[i], from, arg);
	}
}

/*
 * What no peer may put on our lists: the unspecified, loopback,
 * link-local, multicast, broadcast and reserved addresses, and IPv4 in
 * IPv6 clothes (an af-24 datagram carries IPv6 hosts; IPv4 ones come in
 * af 2).
 */
int
gsync_addr_ok(const struct addr *a)
{
	static const uint8_t	 zero[12];
	const uint8_t		*b = a->a;

	if (a->af == AF_INET)
		return b[0] != 0 && b[0] != 127 && b[0] < 224 &&
		    !(b[0] == 169 && b[1] == 254);
	if (a->af != AF_INET6)
		return 0;
	if (memcmp(b, zero, 10) == 0 && ((b[10] == 0 && b[11] == 0) ||
	    (b[10] == 0xff && b[11] == 0xff)))
		return 0;	/* ::/96 (::, ::1), ::ffff:0:0/96 */
	return b[0] != 0xff && !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

void
gsync_counts(struct sync_counts *c)
{
	*c = gs_counts;
}
