/*
 * Reading one SPF record (RFC 7208) term by term: which terms name
 * networks, and which other domains must be asked.  spf_term() reads
 * one term, for spfwalk's walk (spf_parse below) and for spamd's
 * evaluator (spfcheck.c) alike.  Terms that cannot name a network
 * (exists, ptr, macros) are skipped with a note.  The record is
 * untrusted: every term is copied into a bounded buffer or refused,
 * and a network wider than CIDR_SENDER_MIN4 or CIDR_SENDER_MIN6 (a/0
 * and mx//0 included) behind the pass qualifier is skipped with a
 * warning: the addresses it names are greylisted, the safe side, so
 * the domain itself does not fail.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"

static int	prefix(const char *, int, int *);
static int	dual_cidr(char *, int *, int *);
static void	ipnet(const struct spf_visit *, int, const char *,
		    struct spf_term *);
static void	hosts(const struct spf_visit *, int, const char *,
		    const char *, const char *, struct spf_term *);

/* "v=spf1" alone or followed by a blank. */
int
spf_is_record(const char *s, size_t len)
{
	return len >= 6 && strncasecmp(s, "v=spf1", 6) == 0 &&
	    (len == 6 || s[6] == ' ');
}

/* A host name: letters, digits, '-', '_', dots; labels of 1..63. */
int
spf_name_ok(const char *s)
{
	size_t	 len = strlen(s), lab = 0, i;

	if (len == 0 || len >= SPF_NAMEMAX - 1)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (lab == 0 && !(i == len - 1 && i > 0))
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return 0;
		if (++lab > 63)
			return 0;
	}
	return 1;
}

/* "N" with 0 <= N <= max, digits only.  0, or -1. */
static int
prefix(const char *s, int max, int *out)
{
	int	 v = 0;

	if (*s == '\0' || strlen(s) > 3)
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Cut "/c4", "//c6" or "/c4//c6" off the end of s.  The defaults are
 * the full lengths.  0, or -1 if they do not parse.
 */
static int
dual_cidr(char *s, int *c4, int *c6)
{
	char	*p, *q;

	*c4 = 32;
	*c6 = 128;
	if ((p = strchr(s, '/')) == NULL)
		return 0;
	*p++ = '\0';
	if (*p == '/')		/* "//c6" */
		return prefix(p + 1, 128, c6);
	if ((q = strstr(p, "//")) != NULL) {
		*q = '\0';
		if (prefix(q + 2, 128, c6) == -1)
			return -1;
	}
	return prefix(p, 32, c4);
}

static void
ipnet(const struct spf_visit *v, int af, const char *arg, struct spf_term *out)
{
	struct cidr_range	 r;
	struct cidr_ip		 ip;
	unsigned char		 b[16];
	char			 a[INET6_ADDRSTRLEN + 8], *p;
	int			 bits = af == AF_INET ? 32 : 128;

	if (strlcpy(a, arg, sizeof(a)) >= sizeof(a)) {
		v->error(v->arg, "bad ip%c: term", af == AF_INET ? '4' : '6');
		return;
	}
	if ((p = strchr(a, '/')) != NULL) {
		*p++ = '\0';
		if (prefix(p, bits, &bits) == -1) {
			v->error(v->arg, "bad prefix length in ip%c:%s",
			    af == AF_INET ? '4' : '6', arg);
			return;
		}
	}
	if (inet_pton(af, a, b) != 1) {
		v->error(v->arg, "bad address in ip%c:%s",
		    af == AF_INET ? '4' : '6', arg);
		return;
	}
	if (out->qual == '+' &&
	    bits < (af == AF_INET ? CIDR_SENDER_MIN4 : CIDR_SENDER_MIN6)) {
		v->warn(v->arg, "ip%c:%s skipped: wider than /%d",
		    af == AF_INET ? '4' : '6', arg, af == AF_INET ?
		    CIDR_SENDER_MIN4 : CIDR_SENDER_MIN6);
		return;
	}
	cidr_ip_from_bytes(af, b, &ip);
	if (cidr_block(af, &ip, bits, &r) == -1) {
		v->error(v->arg, "bad ip%c:%s", af == AF_INET ? '4' : '6',
		    arg);
		return;
	}
	out->kind = SPF_T_NET;
	out->af = af;
	out->net = r;
}

/* a or mx: rest is "", ":domain", "/c4..." or ":domain/c4...". */
static void
hosts(const struct spf_visit *v, int mx, const char *term, const char *rest,
    const char *domain, struct spf_term *out)
{
	char	 spec[SPF_NAMEMAX + 16], *d;
	int	 c4, c6;

	if (*rest != '\0' && *rest != ':' && *rest != '/') {
		v->note(v->arg, "unknown term %s skipped", term);
		return;
	}
	if (strlcpy(spec, *rest == ':' ? rest + 1 : rest, sizeof(spec)) >=
	    sizeof(spec)) {
		v->error(v->arg, "%s: domain too long", term);
		return;
	}
	if (dual_cidr(spec, &c4, &c6) == -1) {
		v->error(v->arg, "bad prefix length in %s", term);
		return;
	}
	if (out->qual == '+' &&
	    (c4 < CIDR_SENDER_MIN4 || c6 < CIDR_SENDER_MIN6)) {
		v->warn(v->arg, "%s skipped: wider than /%d (IPv4) or /%d "
		    "(IPv6)", term, CIDR_SENDER_MIN4, CIDR_SENDER_MIN6);
		return;
	}
	d = *rest == ':' ? spec : (char *)domain;
	if (strchr(d, '%') != NULL) {
		v->note(v->arg, "%s has a macro, skipped", term);
		return;
	}
	if (!spf_name_ok(d)) {
		v->error(v->arg, "bad domain in %s", term);
		return;
	}
	out->kind = mx ? SPF_T_MX : SPF_T_A;
	out->c4 = c4;
	out->c6 = c6;
	strlcpy(out->domain, d, sizeof(out->domain));
}

/* include:domain or redirect=domain: the domain, checked. */
static void
other(const struct spf_visit *v, const char *t, const char *d,
    enum spf_kind kind, struct spf_term *out)
{
	if (strchr(d, '%') != NULL)
		v->note(v->arg, "%s has a macro, skipped", t);
	else if (!spf_name_ok(d))
		v->error(v->arg, "bad domain in %s", t);
	else {
		out->kind = kind;
		strlcpy(out->domain, d, sizeof(out->domain));
	}
}

void
spf_term(const char *t, const char *domain, const struct spf_visit *v,
    struct spf_term *out)
{
	const char	*name = t;

	memset(out, 0, sizeof(*out));
	out->kind = SPF_T_SKIP;
	out->qual = '+';
	if (*name == '+' || *name == '-' || *name == '~' || *name == '?')
		out->qual = *name++;
	if (strcasecmp(name, "all") == 0)
		out->kind = SPF_T_ALL;
	else if (strncasecmp(name, "include:", 8) == 0)
		other(v, t, name + 8, SPF_T_INCLUDE, out);
	else if (strncasecmp(name, "redirect=", 9) == 0)
		other(v, t, name + 9, SPF_T_REDIRECT, out);
	else if (strncasecmp(name, "ip4:", 4) == 0)
		ipnet(v, AF_INET, name + 4, out);
	else if (strncasecmp(name, "ip6:", 4) == 0)
		ipnet(v, AF_INET6, name + 4, out);
	else if (strncasecmp(name, "a", 1) == 0 &&
	    (name[1] == '\0' || name[1] == ':' || name[1] == '/'))
		hosts(v, 0, t, name + 1, domain, out);
	else if (strncasecmp(name, "mx", 2) == 0 &&
	    (name[2] == '\0' || name[2] == ':' || name[2] == '/'))
		hosts(v, 1, t, name + 2, domain, out);
	else if (strncasecmp(name, "ptr", 3) == 0 ||
	    strncasecmp(name, "exists:", 7) == 0)
		v->note(v->arg, "%s names no network, skipped", t);
	else if (strchr(name, '=') == NULL)
		v->note(v->arg, "unknown term %s skipped", t);
	/* else exp= and unknown modifiers */
}

/*
 * Walk the terms of rec, the record of domain.  Only terms with the
 * pass qualifier authorize anything: a network behind "-", "~" or "?"
 * is not one to let by.  redirect= applies only when the record has no
 * "all" (RFC 7208 6.1), so it is followed last.
 */
void
spf_parse(const char *rec, const char *domain, const struct spf_visit *v)
{
	struct spf_term	 st;
	char		 buf[SPF_RECMAX], redirect[SPF_NAMEMAX], *t, *last;
	int		 all = 0;

	redirect[0] = '\0';
	if (strlcpy(buf, rec, sizeof(buf)) >= sizeof(buf)) {
		v->error(v->arg, "SPF record longer than %d bytes",
		    SPF_RECMAX - 1);
		return;
	}
	t = strtok_r(buf, " ", &last);		/* v=spf1 */
	while ((t = strtok_r(NULL, " ", &last)) != NULL) {
		if (*t == '-' || *t == '~' || *t == '?') {
			if (strcasecmp(t + 1, "all") == 0)
				all = 1;
			else
				v->note(v->arg, "%s: not a pass, skipped", t);
			continue;
		}
		spf_term(t, domain, v, &st);
		switch (st.kind) {
		case SPF_T_SKIP:
			break;
		case SPF_T_ALL:
			all = 1;
			break;
		case SPF_T_INCLUDE:
			v->record(v->arg, "include", st.domain);
			break;
		case SPF_T_REDIRECT:
			strlcpy(redirect, st.domain, sizeof(redirect));
			break;
		case SPF_T_NET:
			v->net(v->arg, st.af, &st.net);
			break;
		case SPF_T_A:
		case SPF_T_MX:
			v->hosts(v->arg, st.kind == SPF_T_MX, st.domain, st.c4,
			    st.c6);
			break;
		}
	}
	if (redirect[0] != '\0') {
		if (all)
			v->note(v->arg, "redirect=%s ignored: the record has "
			    "\"all\"", redirect);
		else
			v->record(v->arg, "redirect", redirect);
	}
}

const char *
spf_result_str(enum spf_result r)
{
	static const char *const s[] = { "none", "neutral", "pass", "fail",
	    "softfail", "temperror", "permerror" };

	return (unsigned)r < sizeof(s) / sizeof(s[0]) ? s[r] : "?";
}

int
spf_from_domain(const char *from, char *dom)
{
	const char	*at, *end;
	size_t		 len, i;

	if ((at = strrchr(from, '@')) == NULL)
		return -1;
	at++;
	if ((end = strchr(at, '>')) == NULL)
		end = at + strlen(at);
	if ((len = (size_t)(end - at)) == 0 || len >= SPF_NAMEMAX)
		return -1;
	for (i = 0; i < len; i++)
		dom[i] = (char)tolower((unsigned char)at[i]);
	dom[len] = '\0';
	/* A trailing dot is the same domain. */
	if (len > 1 && dom[len - 1] == '.')
		dom[len - 1] = '\0';
	return spf_name_ok(dom) ? 0 : -1;
}
