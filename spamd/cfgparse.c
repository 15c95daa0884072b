/*
 * The configuration socket's lines (cfgproto.h), parsed as they stream
 * in; see cfgparse.h.  The caller does the I/O.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blacklist.h"
#include "cfgparse.h"
#include "log.h"

static void	line_reset(struct cfgparse *);
static void	only_free(struct cfgparse *);
static void	refuse(struct cfgparse *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	finish(struct cfgparse *);
static void	only_apply(struct cfgparse *);
static int	token(struct cfgparse *, const char *, size_t, int);

void
cfgparse_init(struct cfgparse *p)
{
	memset(p, 0, sizeof(*p));
	bl_stage_init(&p->stage);
	p->st = PS_TAG;
	p->line = 1;
}

void
cfgparse_end(struct cfgparse *p, size_t rest)
{
	/* A refused line (PS_SKIP) has been counted already. */
	if (p->st != PS_SKIP && (p->st != PS_TAG || rest > 0))
		refuse(p, 0, "no newline at the end");
}

void
cfgparse_clear(struct cfgparse *p)
{
	line_reset(p);
	only_free(p);
}

static void
only_free(struct cfgparse *p)
{
	size_t	 i;

	for (i = 0; i < p->nonly; i++)
		free(p->only[i]);
	p->nonly = 0;
}

static void
line_reset(struct cfgparse *p)
{
	bl_stage_free(&p->stage);
	bl_stage_init(&p->stage);
	p->st = PS_TAG;
	p->tag[0] = p->msg[0] = '\0';
	p->seen = 0;
	p->left = p->count = 0;
}

/*
 * Refuse the current line.  atnl: its newline has been read already;
 * otherwise the rest of it is skipped.
 */
static void
refuse(struct cfgparse *p, int atnl, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	if (++p->refused <= CFG_LOGMAX)
		log_warnx("config line %lu%s%s refused: %s", p->line,
		    p->tag[0] != '\0' ? " for list " : "", p->tag, p->why);
	only_free(p);
	line_reset(p);
	if (atnl)
		p->line++;
	else
		p->st = PS_SKIP;
}

/* A complete list line: make it the list. */
static void
finish(struct cfgparse *p)
{
	size_t	 n4 = p->stage.v4.n, n6 = p->stage.v6.n;

	if (bl_install(p->tag, p->msg, BL_CONFIG, &p->stage) == -1) {
		refuse(p, 1, "%s", errno == E2BIG ? "more addresses than the "
		    "limit" : errno == ENOSPC ? "too many lists" :
		    strerror(errno));
		return;
	}
	bl_stage_init(&p->stage);
	p->applied++;
	if (!bl_is_quiet())
		log_info("blacklist %s: %zu IPv4 and %zu IPv6 entries",
		    p->tag, n4, n6);
	line_reset(p);
	p->line++;
}

static void
only_apply(struct cfgparse *p)
{
	size_t	 gone;

	gone = bl_keep_only(p->only, p->nonly);
	p->removed += gone;
	log_debug("config: %zu lists named, %zu removed", p->nonly, gone);
	only_free(p);
	line_reset(p);
	p->line++;
}

/*
 * One field t[0..n) ended by sep (';' or '\n').  Returns -1 if the line
 * was refused (and the field's newline, if any, dealt with).
 */
static int
token(struct cfgparse *p, const char *t, size_t n, int sep)
{
	struct cidr_range	 r;
	char			 tmp[CFG_TOKMAX + 1], err[128];
	unsigned long		 v;
	size_t			 i;
	int			 af, nl = sep == '\n';

	memcpy(tmp, t, n);
	tmp[n] = '\0';
	switch (p->st) {
	case PS_TAG:
		if (n == 0 && nl) {
			p->line++;		/* an empty line */
			return 0;
		}
		if (strcmp(tmp, "!only") == 0) {
			p->st = PS_ONLY;
			if (nl)
				only_apply(p);
			return 0;
		}
		if (tmp[0] == '!') {
			refuse(p, nl, "unknown directive \"%.64s\"", tmp);
			return -1;
		}
		if (!bl_tag_ok(tmp, n)) {
			refuse(p, nl, "bad tag \"%.64s\"", tmp);
			return -1;
		}
		strlcpy(p->tag, tmp, sizeof(p->tag));
		if (nl) {
			refuse(p, nl, "no ';' after the tag");
			return -1;
		}
		p->st = PS_MSG;
		return 0;
	case PS_ONLY:
		if (n > 0) {
			if (!bl_tag_ok(tmp, n) || p->nonly == BL_MAXLISTS) {
				refuse(p, nl, "!only: bad tag \"%.64s\" or "
				    "more than %d", tmp, BL_MAXLISTS);
				return -1;
			}
			if ((p->only[p->nonly] = strdup(tmp)) == NULL) {
				refuse(p, nl, "%s", strerror(errno));
				return -1;
			}
			p->nonly++;
		}
		if (nl)
			only_apply(p);
		return 0;
	case PS_AF:
		if (n == 0 && nl) {
			finish(p);		/* a trailing ';' */
			return 0;
		}
		if (strcmp(tmp, "inet") == 0)
			af = AF_INET;
		else if (strcmp(tmp, "inet6") == 0)
			af = AF_INET6;
		else {
			refuse(p, nl, "expected inet or inet6, not \"%.32s\"",
			    tmp);
			return -1;
		}
		if (p->seen & (af == AF_INET ? 1 : 2)) {
			refuse(p, nl, "duplicate %s", tmp);
			return -1;
		}
		if (nl) {
			refuse(p, nl, "no count after %s", tmp);
			return -1;
		}
		p->seen |= af == AF_INET ? 1 : 2;
		p->af = af;
		p->st = PS_COUNT;
		return 0;
	case PS_COUNT:
		for (v = 0, i = 0; i < n && tmp[i] >= '0' && tmp[i] <= '9' &&
		    v <= BL_MAXRANGES; i++)
			v = v * 10 + (tmp[i] - '0');
		if (n == 0 || i != n || v > BL_MAXRANGES) {
			refuse(p, nl, "bad count \"%.32s\"", tmp);
			return -1;
		}
		p->count = p->left = v;
		if (v == 0) {
			p->st = PS_AF;
			if (nl)
				finish(p);
			return 0;
		}
		if (nl) {
			refuse(p, nl, "%lu addresses announced, none given", v);
			return -1;
		}
		p->st = PS_ADDR;
		return 0;
	case PS_ADDR:
		if (cidr_parse(tmp, &af, &r, err, sizeof(err)) == -1) {
			refuse(p, nl, "%s", err);
			return -1;
		}
		if (af != p->af) {
			refuse(p, nl, "%s in the %s section", tmp,
			    p->af == AF_INET ? "inet" : "inet6");
			return -1;
		}
		if (bl_stage_add(&p->stage, af, &r) == -1) {
			refuse(p, nl, "more than %lu addresses",
			    (unsigned long)BL_MAXRANGES);
			return -1;
		}
		if (--p->left == 0) {
			p->st = PS_AF;
			if (nl)
				finish(p);
			return 0;
		}
		if (nl) {
			refuse(p, nl, "%lu addresses announced, %lu given",
			    p->count, p->count - p->left);
			return -1;
		}
		return 0;
	default:
		break;
	}
	refuse(p, nl, "internal error: state %d", p->st);
	return -1;
}

size_t
cfgparse_feed(struct cfgparse *p, const char *buf, size_t len)
{
	const char	*s, *q, *nl;
	size_t		 off = 0, avail, i, lim;

	for (;;) {
		s = buf + off;
		avail = len - off;
		if (avail == 0)
			return off;
		switch (p->st) {
		case PS_SKIP:
			if ((nl = memchr(s, '\n', avail)) == NULL)
				return len;
			off += nl - s + 1;
			p->st = PS_TAG;
			p->line++;
			continue;
		case PS_MSG:
			if (*s == '\n') {
				off++;
				finish(p);	/* "tag;": emptied */
				continue;
			}
			if (*s != '"') {
				refuse(p, 0, "the message must be in double "
				    "quotes");
				continue;
			}
			/* Up to the closing quote; \" and \\ are escapes. */
			for (i = 1; i < avail; i++) {
				if (s[i] == '\\' && i + 1 < avail &&
				    (unsigned char)s[i + 1] >= ' ' &&
				    s[i + 1] != 0x7f) {
					i++;
					continue;
				}
				if (s[i] == '"' || s[i] == '\n' ||
				    (unsigned char)s[i] < ' ' || s[i] == 0x7f)
					break;
			}
			if (i - 1 > BL_MSGMAX) {
				refuse(p, 0, "message longer than %d bytes",
				    BL_MSGMAX);
				continue;
			}
			if (i == avail)
				return off;	/* more to come, or the end */
			if (s[i] != '"') {
				refuse(p, s[i] == '\n', "control character in "
				    "the message");
				if (s[i] == '\n')
					off += i + 1;
				continue;
			}
			memcpy(p->msg, s + 1, i - 1);
			p->msg[i - 1] = '\0';
			off += i + 1;
			p->st = PS_AFTERMSG;
			continue;
		case PS_AFTERMSG:
			off++;
			if (*s == ';')
				p->st = PS_AF;
			else if (*s == '\n')
				finish(p);
			else
				refuse(p, 0, "junk after the message");
			continue;
		default:
			break;
		}
		/* A short field up to ';' or the newline. */
		lim = avail < CFG_TOKMAX + 1 ? avail : CFG_TOKMAX + 1;
		for (q = s; q < s + lim && *q != ';' && *q != '\n'; q++)
			;
		if (q == s + lim) {
			if (lim > CFG_TOKMAX) {
				refuse(p, 0, "field longer than %d bytes",
				    CFG_TOKMAX);
				continue;
			}
			return off;
		}
		off += q - s + 1;
		token(p, s, q - s, *q);
	}
}
