/*
 * The sync socket: one UDP socket for sending and receiving, as in
 * OpenBSD, with multicast on one interface.  Multicast loopback is off,
 * so a host does not hear its own updates.
 * Used by: spamd, spamlogd.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "syncnet.h"

/* Receive buffer: some 5,000 datagrams of the kernel's accounting. */
#define SYNC_RCVBUF	(4 * 1024 * 1024)

struct syncnet {
	int			 fd;
	int			 listening;
	struct sockaddr_in	 to[SYNCNET_MAXTARGETS + 1];
	int			 nto;
	uint32_t		 counter;
};

/* A -Y target naming a host: its IPv4 address.  0, or -1 if not one. */
static int
resolve4(const char *host, struct sockaddr_in *sin)
{
	struct addrinfo	 hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	memcpy(sin, res->ai_addr, sizeof(*sin));
	sin->sin_port = htons(SYNC_PORT);
	freeaddrinfo(res);
	return 0;
}

/* "iface[:ttl]": the interface's index and the ttl.  0, or -1. */
static int
parse_iface(const char *arg, unsigned int *ifindex, int *ttl, char *name,
    size_t namelen, char *err, size_t errlen)
{
	const char	*colon, *errstr;
	size_t		 n;

	colon = strchr(arg, ':');
	n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	if (n == 0 || n >= namelen || n >= IF_NAMESIZE) {
		snprintf(err, errlen, "%s: not a host or interface", arg);
		return -1;
	}
	memcpy(name, arg, n);
	name[n] = '\0';
	*ttl = 1;
	if (colon != NULL) {
		*ttl = (int)strtonum(colon + 1, 1, 255, &errstr);
		if (errstr != NULL) {
			snprintf(err, errlen, "%s: ttl %s", arg, errstr);
			return -1;
		}
	}
	if ((*ifindex = if_nametoindex(name)) == 0) {
		snprintf(err, errlen, "%s: neither an IPv4 host nor an "
		    "interface", name);
		return -1;
	}
	return 0;
}

struct syncnet *
syncnet_open(const char *listen, char *const *targets, int ntargets,
    char *err, size_t errlen)
{
	struct syncnet		*sn;
	struct sockaddr_in	 sin;
	struct ip_mreqn		 mr;
	char			 mif[IF_NAMESIZE] = "", lif[IF_NAMESIZE];
	const char		*mtarget = NULL;
	unsigned int		 mindex = 0, lindex = 0;
	int			 i, ttl = 1, lttl, one = 1, zero = 0;
	int			 rcvbuf = SYNC_RCVBUF;

	if (ntargets > SYNCNET_MAXTARGETS) {
		snprintf(err, errlen, "more than %d sync targets",
		    SYNCNET_MAXTARGETS);
		return NULL;
	}
	if ((sn = calloc(1, sizeof(*sn))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	sn->fd = -1;
	for (i = 0; i < ntargets; i++) {
		if (resolve4(targets[i], &sn->to[sn->nto]) == 0) {
			sn->nto++;
			continue;
		}
		/* As OpenBSD: anything else is iface[:ttl]; the last wins. */
		if (parse_iface(targets[i], &mindex, &ttl, mif, sizeof(mif),
		    err, errlen) == -1)
			goto fail;
		mtarget = targets[i];
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (listen != NULL && inet_pton(AF_INET, listen, &sin.sin_addr) != 1) {
		if (parse_iface(listen, &lindex, &lttl, lif, sizeof(lif), err,
		    errlen) == -1)
			goto fail;
		/*
		 * As OpenBSD, the arguments as given: -y em0 with
		 * -Y em0:2 is refused, -y em0:2 with -Y em0:2 is not.
		 */
		if (mindex != 0 && strcmp(listen, mtarget) != 0) {
			snprintf(err, errlen, "multicast interface does not "
			    "match: -y %s, -Y %s", listen, mtarget);
			goto fail;
		}
	}
	/*
	 * Only a listener takes 8025.  A send-only socket (spamlogd's,
	 * multicast or not) takes any port: bound to 8025 next to spamd's
	 * -y socket, the kernel would hand it the unicast updates meant
	 * for spamd.
	 */
	sin.sin_port = listen != NULL ? htons(SYNC_PORT) : 0;
	if ((sn->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(sn->fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1) {
		snprintf(err, errlen, "sync socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(sn->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		snprintf(err, errlen, "sync socket: bind %s:%d/udp: %s",
		    inet_ntoa(sin.sin_addr), ntohs(sin.sin_port),
		    strerror(errno));
		goto fail;
	}
	memset(&mr, 0, sizeof(mr));
	inet_pton(AF_INET, SYNC_GROUP, &mr.imr_multiaddr);
	if (lindex != 0) {
		mr.imr_ifindex = (int)lindex;
		if (setsockopt(sn->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
		    sizeof(mr)) == -1) {
			snprintf(err, errlen, "sync socket: join %s on %s: %s",
			    SYNC_GROUP, lif, strerror(errno));
			goto fail;
		}
	}
	if (mindex != 0) {
		mr.imr_ifindex = (int)mindex;
		if (setsockopt(sn->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr,
		    sizeof(mr)) == -1 ||
		    setsockopt(sn->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
		    sizeof(ttl)) == -1 ||
		    setsockopt(sn->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero,
		    sizeof(zero)) == -1) {
			snprintf(err, errlen, "sync socket: multicast on %s: "
			    "%s", mif, strerror(errno));
			goto fail;
		}
		/* The group is one more target. */
		sn->to[sn->nto].sin_family = AF_INET;
		sn->to[sn->nto].sin_port = htons(SYNC_PORT);
		sn->to[sn->nto++].sin_addr = mr.imr_multiaddr;
	}
	/* Room for a burst of updates while the greylister is busy. */
	if (listen != NULL &&
	    setsockopt(sn->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1 &&
	    setsockopt(sn->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		log_warn("sync socket: SO_RCVBUF %d", rcvbuf);
	sn->listening = listen != NULL;
	return sn;
 fail:
	syncnet_close(sn);
	return NULL;
}

int
syncnet_target(char **targets, int *n, char *arg)
{
	if (*n >= SYNCNET_MAXTARGETS)
		return -1;
	targets[(*n)++] = arg;
	return 0;
}

struct syncnet *
syncnet_setup(const char *keyfile, struct sync_key *key, const char *listen,
    char *const *targets, int ntargets, char *err, size_t errlen)
{
	char	 why[256];

	/*
	 * A missing key file is an error, not the empty key as on OpenBSD:
	 * with it anybody may forge updates.  -k none asks for it.
	 */
	if (strcmp(keyfile, SYNCNET_NOKEY) == 0) {
		sync_key_empty(key);
		log_warnx("sync: -k %s: the empty key, as OpenBSD uses "
		    "without a key file: anybody can forge updates",
		    SYNCNET_NOKEY);
	} else switch (sync_key_load(keyfile, key, why, sizeof(why))) {
	case -1:
		snprintf(err, errlen, "sync key: %s", why);
		return NULL;
	case 1:
		snprintf(err, errlen, "sync key: no key file %s (make one: "
		    "dd if=/dev/urandom of=%s bs=2048 count=1; or -k %s for "
		    "the empty key, which lets anybody forge updates)",
		    keyfile, keyfile, SYNCNET_NOKEY);
		return NULL;
	}
	return syncnet_open(listen, targets, ntargets, err, errlen);
}

void
syncnet_close(struct syncnet *sn)
{
	if (sn == NULL)
		return;
	if (sn->fd != -1)
		close(sn->fd);
	free(sn);
}

int
syncnet_fd(const struct syncnet *sn)
{
	return sn->listening ? sn->fd : -1;
}

int
syncnet_sending(const struct syncnet *sn)
{
	return sn->nto > 0;
}

int
syncnet_send(struct syncnet *sn, const struct sync_key *k,
    const struct sync_entry *e)
{
	uint8_t	 buf[SYNC_MAXLEN];
	ssize_t	 n;
	int	 i;

	if (sn->nto == 0)
		return 0;
	if ((n = sync_encode(buf, sizeof(buf), k, sn->counter, e)) == -1)
		return -1;
	sn->counter++;
	/* A target that does not take it loses it, as in OpenBSD. */
	for (i = 0; i < sn->nto; i++)
		(void)sendto(sn->fd, buf, (size_t)n, MSG_DONTWAIT,
		    (struct sockaddr *)&sn->to[i], sizeof(sn->to[i]));
	return 0;
}

ssize_t
syncnet_recv(struct syncnet *sn, uint8_t *buf, size_t len, struct addr *from)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	ssize_t			 n;

	n = recvfrom(sn->fd, buf, len, MSG_DONTWAIT | MSG_TRUNC,
	    (struct sockaddr *)&sin, &sl);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	if (addr_from_sa(from, (struct sockaddr *)&sin, sl) == -1)
		memset(from, 0, sizeof(*from));
	/* MSG_TRUNC gives the real length: say "too long" as one more. */
	return (size_t)n > len ? (ssize_t)len + 1 : n;
}
