/*
 * The PROXY header parser (spamd/proxyhdr.c): good v1 and v2 headers
 * give their addresses and exact length, every proper prefix of a good
 * header asks for more, and bad ones (signature, version, command,
 * family, lengths, addresses, ports, TLVs, v1 over 107 bytes) are
 * refused as soon as the bytes show it.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "proxyhdr.h"
#include "tap.h"

static const uint8_t	sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static const uint8_t	zeros[PROXYHDR_MAX];

static enum proxyhdr_res
parse(const void *buf, size_t len, struct proxyhdr *h)
{
	const char	*why;
	enum proxyhdr_res r;

	r = proxyhdr_parse(buf, len, h, &why);
	if (r == PH_ERROR && why == NULL)
		printf("not ok - an error without a reason\n");
	return r;
}

/* Every proper prefix is PH_MORE; the whole is PH_DONE of len bytes. */
static int
prefixes_more(const uint8_t *buf, size_t len)
{
	struct proxyhdr	 h;
	size_t		 i;

	for (i = 0; i < len; i++)
		if (parse(buf, i, &h) != PH_MORE)
			return 0;
	return 1;
}

static int
is(const struct addr *a, const char *text)
{
	char	 buf[INET6_ADDRSTRLEN];

	return strcmp(addr_str(a, buf, sizeof(buf)), text) == 0;
}

/* A v2 header: cmd, fam, address block of alen bytes, extra bytes. */
static size_t
v2(uint8_t *buf, int cmd, int fam, const uint8_t *ab, size_t alen,
    const uint8_t *extra, size_t elen)
{
	memcpy(buf, sig, 12);
	buf[12] = (uint8_t)(0x20 | cmd);
	buf[13] = (uint8_t)fam;
	buf[14] = (uint8_t)((alen + elen) >> 8);
	buf[15] = (uint8_t)(alen + elen);
	memcpy(buf + 16, ab, alen);
	memcpy(buf + 16 + alen, extra, elen);
	return 16 + alen + elen;
}

static void
v1_good(void)
{
	struct proxyhdr	 h;
	const char	*s;
	char		 buf[256];

	s = "PROXY TCP4 198.51.100.7 192.0.2.25 40123 25\r\nEHLO x\r\n";
	ok(parse(s, strlen(s), &h) == PH_DONE && h.version == 1 &&
	    h.len == 45 && !h.local && is(&h.src, "198.51.100.7") &&
	    is(&h.dst, "192.0.2.25") && h.sport == 40123 && h.dport == 25,
	    "v1 TCP4: addresses, ports, length without the SMTP bytes");
	ok(prefixes_more((const uint8_t *)s, 45), "v1: every prefix waits");
	s = "PROXY TCP6 2001:db8::7 2001:db8::25 65535 0\r\n";
	ok(parse(s, strlen(s), &h) == PH_DONE && h.len == strlen(s) &&
	    is(&h.src, "2001:db8::7") && is(&h.dst, "2001:db8::25") &&
	    h.sport == 65535 && h.dport == 0, "v1 TCP6");
	s = "PROXY TCP6 ::ffff:198.51.100.7 ::ffff:192.0.2.25 1 25\r\n";
	ok(parse(s, strlen(s), &h) == PH_DONE && h.src.af == AF_INET &&
	    is(&h.src, "198.51.100.7"), "v1 TCP6 of a mapped IPv4: IPv4");
	s = "PROXY UNKNOWN ffff:f...f ffff:f...f 65535 65535\r\n";
	ok(parse(s, strlen(s), &h) == PH_DONE && h.local &&
	    h.len == strlen(s), "v1 UNKNOWN: local, the rest ignored");
	s = "PROXY UNKNOWN\r\n";
	ok(parse(s, strlen(s), &h) == PH_DONE && h.local, "v1 UNKNOWN alone");
	/* The longest: 107 bytes with CRLF. */
	snprintf(buf, sizeof(buf), "PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
	ok(strlen(buf) == 104 && parse(buf, strlen(buf), &h) == PH_DONE,
	    "v1 at its longest TCP6 form");
}

static void
v1_bad(void)
{
	static const char *const bad[] = {
		"PROXY TCP4 198.51.100.7 192.0.2.25 40123\r\n",
		"PROXY TCP4 198.51.100.7 192.0.2.25 40123 25 1\r\n",
		"PROXY TCP4 198.51.100.7 192.0.2.25 40123 25 \r\n",
		"PROXY TCP4  198.51.100.7 192.0.2.25 40123 25\r\n",
		"PROXY TCP4 198.51.100.256 192.0.2.25 40123 25\r\n",
		"PROXY TCP4 198.51.100 192.0.2.25 40123 25\r\n",
		"PROXY TCP4 2001:db8::7 192.0.2.25 40123 25\r\n",
		"PROXY TCP6 198.51.100.7 2001:db8::25 40123 25\r\n",
		"PROXY TCP4 198.51.100.7 192.0.2.25 65536 25\r\n",
		"PROXY TCP4 198.51.100.7 192.0.2.25 040123 25\r\n",
		"PROXY TCP4 198.51.100.7 192.0.2.25 -1 25\r\n",
		"PROXY TCP4 198.51.100.7 192.0.2.25 +1 25\r\n",
		"PROXY UDP4 198.51.100.7 192.0.2.25 40123 25\r\n",
		"PROXY tcp4 198.51.100.7 192.0.2.25 40123 25\r\n",
		"PROXY\r\n",
		"PROXY \r\n",
		"PROXY TCP4 198.51.100.7 192.0.2.25 40123 25\n",
		"PROXY TCP4 198.51.100.7\r192.0.2.25 40123 25\r\n",
		"PROXY TCP4 198.51.100.7\t192.0.2.25 40123 25\r\n",
		"proxy TCP4 198.51.100.7 192.0.2.25 40123 25\r\n",
		"EHLO mail.example.org\r\n",
		"PROXYTCP4 198.51.100.7 192.0.2.25 40123 25\r\n",
	};
	struct proxyhdr	 h;
	char		 buf[300];
	size_t		 i;
	int		 n = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], strlen(bad[i]), &h) == PH_ERROR)
			n++;
		else
			printf("# taken: %s", bad[i]);
	ok(n == (int)(sizeof(bad) / sizeof(bad[0])),
	    "v1: %d of %zu bad headers refused", n,
	    sizeof(bad) / sizeof(bad[0]));
	/* 107 bytes without CRLF: no more waiting. */
	memset(buf, 'A', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	ok(parse(buf, 106, &h) == PH_MORE && parse(buf, 107, &h) == PH_ERROR,
	    "v1: 106 bytes without CRLF wait, 107 are refused");
	memcpy(buf + 105, "\r\n", 2);
	ok(parse(buf, 107, &h) == PH_DONE, "v1: CRLF at 106-107 is taken");
	memcpy(buf + 105, "A\r\n", 3);
	ok(parse(buf, 108, &h) == PH_ERROR, "v1: CRLF at 107-108 refused");
	ok(parse("PROXY TCP4 1.2\x01", 15, &h) == PH_ERROR,
	    "v1: a control byte is refused before CRLF");
	ok(parse("GET ", 4, &h) == PH_ERROR && parse("P", 1, &h) == PH_MORE &&
	    parse("PROXX", 5, &h) == PH_ERROR,
	    "signature: refused at the first wrong byte");
}

static void
v2_good(void)
{
	static const uint8_t a4[12] = { 198, 51, 100, 7, 192, 0, 2, 25,
	    0x9c, 0xbb, 0, 25 };
	static const uint8_t tlv[] = { 0x04, 0, 3, 0, 0, 0, 0x01, 0, 2,
	    'h', '2' };
	struct proxyhdr	 h;
	uint8_t		 buf[2048], a6[36], tail[4] = "EHLO";
	size_t		 n;

	n = v2(buf, 1, 0x11, a4, 12, NULL, 0);
	memcpy(buf + n, tail, 4);
	ok(parse(buf, n + 4, &h) == PH_DONE && h.version == 2 &&
	    h.len == 28 && !h.local && is(&h.src, "198.51.100.7") &&
	    is(&h.dst, "192.0.2.25") && h.sport == 40123 && h.dport == 25,
	    "v2 TCP4: addresses, ports, length without the SMTP bytes");
	ok(prefixes_more(buf, n), "v2: every prefix waits");
	n = v2(buf, 1, 0x11, a4, 12, tlv, sizeof(tlv));
	ok(parse(buf, n, &h) == PH_DONE && h.len == n &&
	    is(&h.src, "198.51.100.7"), "v2 TCP4 with TLVs skipped");
	memset(a6, 0, sizeof(a6));
	inet_pton(AF_INET6, "2001:db8::7", a6);
	inet_pton(AF_INET6, "2001:db8::25", a6 + 16);
	a6[32] = 0x12; a6[33] = 0x34; a6[34] = 0; a6[35] = 25;
	n = v2(buf, 1, 0x21, a6, 36, NULL, 0);
	ok(parse(buf, n, &h) == PH_DONE && h.len == 52 &&
	    is(&h.src, "2001:db8::7") && is(&h.dst, "2001:db8::25") &&
	    h.sport == 0x1234 && h.dport == 25, "v2 TCP6");
	n = v2(buf, 0, 0x00, NULL, 0, NULL, 0);
	ok(parse(buf, n, &h) == PH_DONE && h.local && h.len == 16,
	    "v2 LOCAL: local, 16 bytes");
	n = v2(buf, 0, 0x31, a6, 36, tlv, sizeof(tlv));
	ok(parse(buf, n, &h) == PH_DONE && h.local && h.len == n,
	    "v2 LOCAL with any family and block: skipped whole");
	n = v2(buf, 1, 0x00, NULL, 0, NULL, 0);
	ok(parse(buf, n, &h) == PH_DONE && h.local,
	    "v2 PROXY of family UNSPEC: local");
	n = v2(buf, 1, 0x11, a4, 12, zeros, PROXYHDR_MAX - 28 - 3);
	buf[28] = 0x04;		/* one NOOP TLV to the end */
	buf[29] = (uint8_t)((PROXYHDR_MAX - 31) >> 8);
	buf[30] = (uint8_t)(PROXYHDR_MAX - 31);
	ok(n == PROXYHDR_MAX - 3 && parse(buf, n, &h) == PH_ERROR,
	    "v2: TLV running past the header refused");
	n = v2(buf, 1, 0x11, a4, 12, zeros, PROXYHDR_MAX - 28);
	buf[28] = 0x04;
	buf[29] = (uint8_t)((PROXYHDR_MAX - 31) >> 8);
	buf[30] = (uint8_t)(PROXYHDR_MAX - 31);
	ok(n == PROXYHDR_MAX && parse(buf, n, &h) == PH_DONE,
	    "v2 of PROXYHDR_MAX bytes taken");
}

static void
v2_bad(void)
{
	static const uint8_t a4[12] = { 198, 51, 100, 7, 192, 0, 2, 25,
	    0x9c, 0xbb, 0, 25 };
	static const uint8_t badtlv[] = { 0x04, 0, 4, 0, 0, 0 };
	struct proxyhdr	 h;
	uint8_t		 buf[2048];
	size_t		 n;

	n = v2(buf, 1, 0x11, a4, 12, NULL, 0);
	buf[12] = 0x11;
	ok(parse(buf, 16, &h) == PH_ERROR, "v2: version 1 refused");
	buf[12] = 0x31;
	ok(parse(buf, 16, &h) == PH_ERROR, "v2: version 3 refused");
	buf[12] = 0x22;
	ok(parse(buf, 16, &h) == PH_ERROR, "v2: command 2 refused");
	buf[12] = 0x21;
	buf[7] = 'X';
	ok(parse(buf, n, &h) == PH_ERROR && parse(buf, 7, &h) == PH_MORE &&
	    parse(buf, 8, &h) == PH_ERROR, "v2: wrong signature byte refused");
	n = v2(buf, 1, 0x12, a4, 12, NULL, 0);
	ok(parse(buf, 16, &h) == PH_ERROR, "v2: UDP over IPv4 refused");
	n = v2(buf, 1, 0x31, a4, 12, NULL, 0);
	ok(parse(buf, 16, &h) == PH_ERROR, "v2: UNIX refused");
	n = v2(buf, 1, 0x10, a4, 12, NULL, 0);
	ok(parse(buf, 16, &h) == PH_ERROR, "v2: IPv4 without transport "
	    "refused");
	n = v2(buf, 1, 0x11, a4, 11, NULL, 0);
	ok(parse(buf, 16, &h) == PH_ERROR,
	    "v2: TCP4 with 11 address bytes refused at once");
	n = v2(buf, 1, 0x21, a4, 12, NULL, 0);
	ok(parse(buf, 16, &h) == PH_ERROR,
	    "v2: TCP6 with 12 address bytes refused at once");
	n = v2(buf, 1, 0x11, a4, 12, NULL, 0);
	buf[14] = 0xff;
	buf[15] = 0xff;
	ok(parse(buf, 16, &h) == PH_ERROR, "v2: 64 KB length refused at once");
	buf[14] = (uint8_t)((PROXYHDR_MAX - 15) >> 8);
	buf[15] = (uint8_t)(PROXYHDR_MAX - 15);
	ok(parse(buf, 16, &h) == PH_ERROR,
	    "v2: one byte over PROXYHDR_MAX refused");
	n = v2(buf, 1, 0x11, a4, 12, badtlv, sizeof(badtlv));
	ok(parse(buf, n, &h) == PH_ERROR, "v2: bad TLV length refused");
	n = v2(buf, 1, 0x11, a4, 12, badtlv, 2);
	ok(parse(buf, n, &h) == PH_ERROR, "v2: 2 stray bytes after the "
	    "addresses refused");
}

int
main(void)
{
	v1_good();
	v1_bad();
	v2_good();
	v2_bad();
	return tap_done();
}
