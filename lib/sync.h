/*
 * The spamd sync protocol's datagrams, byte for byte as OpenBSD's
 * spamd(8) sends and checks them, so that Linux and OpenBSD MX hosts can
 * share one greylist.  Used by: spamd (sends GREY and TRAPPED, receives
 * everything), spamlogd (sends WHITE).
 *
 * A datagram is a 32-byte header, TLV entries and an END TLV, all
 * integers big-endian:
 *	header	u8 version (2), u8 af, u16 length, u32 counter,
 *		u8 hmac[20], u8 pad[4]
 *	GREY	u16 type 1, u16 len, u32 timestamp, ip, u16 from_len,
 *		u16 to_len, u16 helo_len, from\0 to\0 helo\0, zero padding
 *		to a multiple of 16
 *	WHITE, TRAPPED
 *		u16 type 2 or 3, u16 len, u32 timestamp, u32 expire, ip
 *	END	u16 type 0, u16 len 4
 * The HMAC-SHA1 covers the whole datagram with its hmac field zeroed;
 * its key is the 40 lower-case hex digits of the SHA-1 of the key file.
 *
 * IPv6, beyond OpenBSD: a datagram whose af is 24 (OpenBSD's AF_INET6)
 * carries 16-byte addresses in the same TLVs (GREY fixed part 30 bytes,
 * WHITE and TRAPPED 28).  OpenBSD drops such datagrams unread, as it
 * drops every af but 2, so they are harmless in a mixed fleet.
 */
#ifndef SPAMD_SYNC_H
#define SPAMD_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define SYNC_PORT	8025		/* spamd-sync/udp */
#define SYNC_GROUP	"224.0.1.240"
#define SYNC_VERSION	2
#define SYNC_AF_INET	2
#define SYNC_AF_INET6	24		/* OpenBSD's AF_INET6 */
#define SYNC_HDRLEN	32
#define SYNC_MAXLEN	1408		/* OpenBSD's receive buffer */
#define SYNC_MACLEN	20
#define SYNC_KEYLEN	40		/* hex digits of a SHA-1 */
#define PATH_SPAMD_KEY	"/etc/mail/spamd.key"

enum sync_type {
	SYNC_END = 0,
	SYNC_GREY = 1,
	SYNC_WHITE = 2,
	SYNC_TRAPPED = 3
};

struct sync_entry {
	enum sync_type	 type;
	struct addr	 ip;
	uint32_t	 timestamp;	/* the sender's clock, low 32 bits */
	uint32_t	 expire;	/* WHITE, TRAPPED */
	const char	*helo;		/* GREY: NUL-terminated strings */
	const char	*from;
	const char	*to;
};

struct sync_key {
	char	 hex[SYNC_KEYLEN + 1];
	size_t	 len;			/* 0: the empty key */
};

/* Why a datagram was refused. */
enum sync_err {
	SYNC_OK = 0,
	SYNC_ESHORT,		/* shorter than a header, or than its length */
	SYNC_ELONG,		/* longer than SYNC_MAXLEN */
	SYNC_EVERSION,		/* not version 2 */
	SYNC_EAF,		/* neither af 2 nor 24 */
	SYNC_EMAC,		/* the HMAC does not match */
	SYNC_ETLV,		/* a malformed or unknown entry */
	SYNC_NERR
};

/*
 * The key of a key file.  0; 1 when the file does not exist (the empty
 * key, as OpenBSD); -1 with the reason in err.
 */
int		 sync_key_load(const char *path, struct sync_key *,
		    char *err, size_t errlen);
void		 sync_key_empty(struct sync_key *);

/*
 * Encode one entry into buf as a signed datagram: its length, or -1
 * with errno EMSGSIZE (over SYNC_MAXLEN or len), EAFNOSUPPORT, or EINVAL
 * (an unknown type, or a GREY string missing).
 */
ssize_t		 sync_encode(uint8_t *buf, size_t len,
		    const struct sync_key *, uint32_t counter,
		    const struct sync_entry *);

/*
 * Check a datagram and, only if all of it is sound, call cb for each
 * entry in order (the strings point into buf, which is modified: its
 * hmac field is zeroed).  Returns SYNC_OK or the reason it was refused;
 * a GREY string must be NUL-terminated within its length, hold no other
 * NUL and no newline.
 */
enum sync_err	 sync_decode(uint8_t *buf, size_t len,
		    const struct sync_key *,
		    void (*cb)(const struct sync_entry *, void *), void *arg);
/* sync_decode's checks alone, on a copy: buf is left as it was. */
enum sync_err	 sync_check(const uint8_t *buf, size_t len,
		    const struct sync_key *);
const char	*sync_strerror(enum sync_err);

#endif
