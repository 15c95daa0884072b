/*
 * Records from the SMTP engine to the greylister.  They travel over a
 * SOCK_SEQPACKET socketpair, one record per message, always of exactly
 * this size; the greylister refuses any other size, an unknown type, an
 * unterminated string or an address that does not parse, and logs it.
 */
#ifndef SPAMD_GREYMSG_H
#define SPAMD_GREYMSG_H

#include <netinet/in.h>
#include <stdint.h>

#include "gdata.h"

#define GREYMSG_VERSION	1

enum greymsg_type {
	GM_TUPLE = 1		/* a RCPT was accepted: greylist the tuple */
};

struct grey_msg {
	uint8_t	version;		/* GREYMSG_VERSION */
	uint8_t	type;			/* enum greymsg_type */
	uint8_t	pad[2];
	char	ip[INET6_ADDRSTRLEN];	/* client address, canonical text */
	char	dst[INET6_ADDRSTRLEN];	/* original destination, "" unknown */
	char	helo[GD_FIELD_MAX];
	char	from[GD_FIELD_MAX];
	char	to[GD_FIELD_MAX];
};

#endif
