/*
 * libFuzzer harness: the Postfix log reader of spamdb -m
 * (spamdb/maillog.c), which reads a log that clients wrote into (their
 * names, addresses, recipients).  The input is cut into lines as the
 * reader's loop cuts them (at newlines, at most ML_LINE_MAX - 1 bytes)
 * and each line is parsed alone and fed to a reader.
 *
 * Checked: a client line names a queue id and an address that stand in
 * the line as "QID: client=...[address]", a delivery line holds
 * ", status=sent"; the reader reports only addresses some client line
 * gave, no more clients than client lines, no more messages than
 * delivery lines, each client's first delivery not after its last.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../spamdb/maillog.c"

#define LINES_MAX	512

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_line(const char *line, const struct ml_rec *r)
{
	char	 ip[INET6_ADDRSTRLEN], pat[ML_QID_MAX + 16];
	size_t	 n = strlen(r->qid);

	if (r->kind != ML_CLIENT && r->kind != ML_SENT)
		return;
	if (n < 5 || n >= ML_QID_MAX)
		abort();
	if (r->kind == ML_SENT) {
		snprintf(pat, sizeof(pat), "%s: to=<", r->qid);
		if (strstr(line, pat) == NULL ||
		    strstr(line, ", status=sent") == NULL)
			abort();
		return;
	}
	snprintf(pat, sizeof(pat), "%s: client=", r->qid);
	if (strstr(line, pat) == NULL)
		abort();
	addr_str(&r->addr, ip, sizeof(ip));
	if (r->addr.af == AF_INET && strstr(line, ip) == NULL &&
	    strcasestr(line, "ffff") == NULL)
		abort();	/* IPv4 shows as itself, or mapped */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct addr	 seen[LINES_MAX];
	static char		 line[ML_LINE_MAX];
	struct maillog		*ml;
	const struct ml_client	*c;
	const struct ml_stats	*st;
	struct ml_rec		 r;
	const uint8_t		*nl;
	size_t			 n, i, j, nseen = 0, nsent = 0, nlines = 0;
	unsigned long		 msgs = 0;
	time_t			 now = 1796538322;

	/* The window starts a day ago: lines before count as old. */
	if ((ml = ml_new(now, now - 86400)) == NULL)
		return 0;
	while (len > 0 && nlines < LINES_MAX) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		memcpy(line, data, n < sizeof(line) ? n : sizeof(line) - 1);
		line[n < sizeof(line) ? n : sizeof(line) - 1] = '\0';
		data += nl != NULL ? n + 1 : n;
		len -= nl != NULL ? n + 1 : n;
		nlines++;
		ml_parse(line, now, &r);
		check_line(line, &r);
		if (r.kind == ML_CLIENT)
			seen[nseen++] = r.addr;
		if (r.kind == ML_SENT)
			nsent++;
		ml_line(ml, line);
	}
	st = ml_stats(ml);
	if (st->lines != nlines || st->clients != nseen ||
	    ml_nclients(ml) > nseen || st->sent > nsent)
		abort();
	for (i = 0; i < ml_nclients(ml); i++) {
		c = ml_client(ml, i);
		if (c->first > c->last || c->msgs == 0)
			abort();
		msgs += c->msgs;
		for (j = 0; j < nseen; j++)
			if (addr_cmp(&seen[j], &c->addr) == 0)
				break;
		if (j == nseen || is_local(&c->addr))
			abort();
	}
	if (msgs + st->old + st->over != st->sent)
		abort();
	ml_free(ml);
	return 0;
}
