/*
 * Addresses: canonical text for IPv4 and IPv6 (IPv4-mapped IPv6 is shown
 * as plain IPv4), and parsing of literals as the database stores them.
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
/* Canonical text into buf (INET6_ADDRSTRLEN bytes suffice). */
const char *addr_str(const struct addr *, char *buf, size_t len);
/* Canonicalise a literal in place-safe way: 0 or -1 if not an address. */
int	addr_canon(const char *in, char *out, size_t len);
int	addr_len(const struct addr *);	/* 4 or 16 */

#endif
