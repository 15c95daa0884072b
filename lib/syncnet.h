/*
 * The sync protocol's UDP socket: where updates go (-Y) and where they
 * come in (-y), as OpenBSD's spamd and spamlogd take them.  Used by:
 * spamd (sends GREY and TRAPPED, receives), spamlogd (sends WHITE).
 *
 *	-y listen	an IPv4 address to bind port 8025 to, or an interface
 *			name: bind port 8025 on every address and join the
 *			multicast group 224.0.1.240 on that interface
 *	-Y target	repeatable: a host whose IPv4 address gets unicast
 *			datagrams, or iface[:ttl] (ttl 1 to 255, default
 *			1) for multicast sends on iface; the last one wins
 *
 * Sending never blocks: a datagram the socket cannot take now is
 * dropped and counted, so an unreachable peer costs nothing but its
 * updates.
 */
#ifndef SPAMD_SYNCNET_H
#define SPAMD_SYNCNET_H

#include <stddef.h>
#include <stdint.h>

#include "sync.h"

#define SYNCNET_MAXTARGETS	32

struct syncnet;

/*
 * Open the socket (while privileged, before chroot: it resolves names
 * and reads interfaces).  listen may be NULL (send only); targets may
 * be empty (receive only).  NULL with the reason in err.
 */
struct syncnet	*syncnet_open(const char *listen, char *const *targets,
		    int ntargets, char *err, size_t errlen);
void		 syncnet_close(struct syncnet *);
/* One more -Y into targets[*n]: 0, or -1 past SYNCNET_MAXTARGETS. */
int		 syncnet_target(char **targets, int *n, char *arg);
/* -k none: no key file, the empty key (OpenBSD's without one). */
#define SYNCNET_NOKEY	"none"
/*
 * For the daemons: the key of keyfile into *key and then the socket.
 * A missing file is an error; keyfile SYNCNET_NOKEY gives the empty
 * key, with a warning.  NULL with the reason in err.
 */
struct syncnet	*syncnet_setup(const char *keyfile, struct sync_key *key,
		    const char *listen, char *const *targets, int ntargets,
		    char *err, size_t errlen);
/* The socket, to wait for datagrams; -1 when not listening. */
int		 syncnet_fd(const struct syncnet *);
/* Is there anywhere to send to? */
int		 syncnet_sending(const struct syncnet *);
/* Encode and send one entry to every target; 0, or -1 if not encoded. */
int		 syncnet_send(struct syncnet *, const struct sync_key *,
		    const struct sync_entry *);
/*
 * Receive one datagram: its length (len + 1 for one longer than buf),
 * 0 if none is waiting, or -1; from gets the sender's address.
 */
ssize_t		 syncnet_recv(struct syncnet *, uint8_t *buf, size_t len,
		    struct addr *from);

#endif
