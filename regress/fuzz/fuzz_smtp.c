/*
 * libFuzzer harness: the SMTP dialogue (spamd/smtp.c) as a client may
 * hold it, pipelining and overlong lines included, fed in reads of a
 * fuzzed size the way engine.c feeds it.  The first byte picks the
 * mode (greylisting or -b, blacklisted or not, verbose, client address,
 * STARTTLS on offer);
 * a blacklisted client's list message is the input up to its first NUL.
 *
 * Checked: every reply is whole CRLF-ended lines of a 3-digit code, in
 * bounds; smtp_next() only asks for more input when the buffer has no
 * line and has room (or the engine would wait for ever); the tuple
 * makes a GREY key of exactly four fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdata.h"
#include "log.h"
#include "smtp.h"
#include "spamd.h"

struct spamd_conf conf;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_reply(const struct smtp_reply *r)
{
	size_t	 i, start;

	if (r->len < 6 || r->len >= SMTP_REPLY_MAX || r->len >= r->size ||
	    r->buf[r->len] != '\0')
		abort();
	for (start = 0; start < r->len; start = i + 2) {
		for (i = start; i < r->len && r->buf[i] != '\r'; i++)
			if (r->buf[i] == '\n' || r->buf[i] == '\0')
				abort();
		if (i + 1 >= r->len || r->buf[i + 1] != '\n' || i - start < 4)
			abort();
		if (r->buf[start] < '2' || r->buf[start] > '5' ||
		    r->buf[start + 1] < '0' || r->buf[start + 1] > '9' ||
		    r->buf[start + 2] < '0' || r->buf[start + 2] > '9')
			abort();
		/* '-' on every line but the last, ' ' on the last. */
		if (r->buf[start + 3] != (i + 2 == r->len ? ' ' : '-'))
			abort();
	}
}

static void
check_tuple(const struct smtp_sess *s, const char *ip)
{
	struct grey_tuple	 t;
	struct addr		 a, dst;
	char			 key[GD_KEY_MAX], *p;
	int			 n, nl = 0;

	if (addr_parse(&a, ip) == -1 || addr_parse(&dst, "198.51.100.25") == -1)
		abort();
	smtp_tuple(s, &a, &dst, &t);
	if (t.from[0] == '\0' || t.to[0] == '\0' ||
	    addr_cmp(&t.ip, &a) != 0 || addr_cmp(&t.dst, &dst) != 0)
		abort();
	if ((n = grey_key(key, sizeof(key), &t.ip, t.helo, t.from, t.to)) < 0)
		abort();
	for (p = key; (p = memchr(p, '\n', key + n - p)) != NULL; p++)
		nl++;
	if (nl != 3)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const ips[] = { "192.0.2.7",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
	struct smtp_sess	*s;
	struct bl_hit		 hit, *bl = NULL;
	const char		*ip, *msgs[2];
	char			*msg = NULL;
	const uint8_t		*nul;
	size_t			 n, step, rounds = 0;
	uint8_t			 mode;
	int			 r;

	if (len < 2)
		return 0;
	mode = data[0];
	step = data[1] == 0 ? 1 : data[1];
	data += 2;
	len -= 2;
	memset(&conf, 0, sizeof(conf));
	strlcpy(conf.hostname, "mx.example.org", sizeof(conf.hostname));
	strlcpy(conf.name, SPAMD_NAME, sizeof(conf.name));
	conf.greylist = !(mode & 1);
	conf.nreply = mode & 2 ? 550 : 450;
	conf.verbose = (mode & 4) != 0;
	log_setverbose(conf.verbose);
	ip = ips[(mode >> 3) & 1];
	if (mode & 16) {
		/* The list message: up to the first NUL, as a string. */
		nul = memchr(data, '\0', len);
		n = nul == NULL ? len : (size_t)(nul - data);
		if ((msg = strndup((const char *)data, n)) == NULL)
			return 0;
		msgs[0] = msg;
		msgs[1] = "second list\\n%A";
		hit.msgs = msgs;
		hit.nmsgs = mode & 32 ? 2 : 1;
		hit.tags = "fuzz";
		bl = &hit;
		data += n < len ? n + 1 : n;
		len -= n < len ? n + 1 : n;
	}
	if ((s = smtp_sess_new()) == NULL) {
		free(msg);
		return 0;
	}
	for (;;) {
		n = len < step ? len : step;
		n = smtp_feed(s, data, n);
		data += n;
		len -= n;
		/* As the engine: after each reply, go on with what is left. */
		do {
			/* Mode bit 64: TLS on offer, so STARTTLS is reached. */
			if ((mode & 64) && bl == NULL)
				s->flags |= SMTP_SF_TLSOK;
			else
				s->flags &= ~SMTP_SF_TLSOK;
			r = smtp_next(s, ip, bl);
			if (r == -1)
				abort();
			if (r & SMTP_R_REPLY)
				check_reply(&s->out);
			if (r & SMTP_R_TUPLE)
				check_tuple(s, ip);
			if (r & SMTP_R_CLOSE)
				goto done;
			if (++rounds > 100000)
				abort();
		} while (r != 0);
		if (s->ilen >= SMTP_LINE_MAX ||
		    memchr(s->ibuf, '\n', s->ilen) != NULL)
			abort();
		if (len == 0)
			break;
	}
 done:
	smtp_sess_free(s);
	free(msg);
	return 0;
}
