/*
 * The PROXY protocol header (HAProxy's send-proxy, send-proxy-v2) as
 * bytes: given what has arrived so far, is it a whole header, a good
 * beginning of one, or not a header at all.  No I/O and no engine state,
 * so the fuzz harness and the unit test drive it as proxyin.c does.
 *
 * v1: "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN...\r\n",
 * at most 107 bytes.  v2: a 12-byte signature, version and command,
 * family and transport, a 16-bit length, then the addresses and TLVs.
 */
#ifndef SPAMD_PROXYHDR_H
#define SPAMD_PROXYHDR_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define PROXYHDR_V1MAX	107	/* the longest v1 line, CRLF included */
#define PROXYHDR_V2MIN	16	/* the fixed part of v2 */
/*
 * The longest v2 header accepted: addresses and TLVs well beyond what
 * HAProxy sends (a few hundred bytes with every proxy-v2-option); the
 * format allows 64 KB, which nobody needs to hold for a client.
 */
#define PROXYHDR_MAX	1024

enum proxyhdr_res {
	PH_ERROR = -1,		/* not a header we take: close */
	PH_MORE = 0,		/* all of buf is header so far: wait */
	PH_DONE = 1		/* a whole header of len bytes */
};

struct proxyhdr {
	size_t		 len;		/* bytes of the header */
	int		 version;	/* 1 or 2 */
	int		 local;		/* LOCAL, UNKNOWN: no client in it */
	struct addr	 src;		/* the client (not with local) */
	struct addr	 dst;		/* where it connected to */
	uint16_t	 sport;
	uint16_t	 dport;
};

/*
 * buf[0..len) as the start of a connection.  PH_DONE fills *h; PH_ERROR
 * sets *why to a constant reason.  Never reads past len, and never more
 * than PROXYHDR_MAX bytes: a longer header is an error.
 */
enum proxyhdr_res proxyhdr_parse(const uint8_t *buf, size_t len,
	    struct proxyhdr *h, const char **why);

#endif
