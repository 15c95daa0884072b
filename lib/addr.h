/*
 * Addresses: canonical text for IPv4 and IPv6 (IPv4-mapped IPv6 is shown
 * as plain IPv4), parsing of literals as the database stores them, and
 * the order and hash of binary addresses for trees, arrays and caches.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#ifndef SPAMD_ADDR_H
#define SPAMD_ADDR_H

#include <sys/socket.h>

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct addr {
	int	af;		/* AF_INET or AF_INET6 */
	uint8_t	a[16];		/* 4 or 16 bytes, network order */
};

/* From a socket address; unmaps ::ffff:a.b.c.d.  0 or -1. */
int	addr_from_sa(struct addr *, const struct sockaddr *, socklen_t);
/* Parse a numeric literal (no brackets, no scope).  0 or -1. */
int	addr_parse(struct addr *, const char *);
/*
 * An address from another process or a peer, checked and put in the
 * form addr_from_sa gives (::ffff:a.b.c.d as a.b.c.d, unused bytes
 * zero): 0, or -1 when af is neither AF_INET nor AF_INET6.
 */
int	addr_norm(struct addr *);
/* Canonical text into buf (INET6_ADDRSTRLEN bytes suffice). */
const char *addr_str(const struct addr *, char *buf, size_t len);
/* Canonicalise a literal in place-safe way: 0 or -1 if not an address. */
int	addr_canon(const char *in, char *out, size_t len);
int	addr_len(const struct addr *);	/* 4 or 16 */
/* Order by family, then bytes: <0, 0, >0 as memcmp. */
int	addr_cmp(const struct addr *, const struct addr *);

#define FNV1A_BASIS	2166136261u
/* FNV-1a over len bytes, continuing from h (FNV1A_BASIS to start). */
uint32_t fnv1a(const void *, size_t len, uint32_t h);
/*
 * FNV-1a of the address bytes, from FNV1A_BASIS ^ seed.  A random seed
 * keeps a flood of chosen addresses from piling into one slot.
 */
uint32_t addr_hash(const struct addr *, uint32_t seed);

#endif
