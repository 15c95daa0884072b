/*
 * spamd.conf parser.  The file is split into records (logical lines),
 * records into fields, tc= references are expanded, and the lists named
 * by `all' are checked and decoded.  Everything is strict where getcap
 * would silently misread a file: a blank at the start of a line outside
 * a record, a comment inside a continued record, an unknown capability,
 * a record named twice and an unterminated quote are errors, each with
 * its file and line.  The first error stops the parse.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rfile.h"
#include "spamdconf.h"

#define MAXDEPTH	32	/* tc= nesting */
/* Records one list's tc= expansion visits: "a:tc=b:tc=b:" doubles. */
#define MAXVISITS	10000
#define MAXFIELDS	4096	/* fields of one list, tc= expanded */

struct field {
	const char	*p;	/* in the record's text, not NUL-terminated */
	size_t		 len;
	int		 line;
};

struct rec {
	char		*text;
	size_t		 len;
	struct field	*fields;	/* fields[0]: the names */
	size_t		 nfields;
	int		 line;
};

struct parser {
	const char	*name;
	char		*err;
	size_t		 errlen;
	struct rec	*recs;
	size_t		 nrecs;
	size_t		 recscap;
};

/* A list's fields after tc= expansion. */
struct flat {
	const struct field *f[MAXFIELDS];
	size_t		 n;
	size_t		 visits;	/* records expanded */
};

static int	perr(struct parser *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	add_rec(struct parser *, int);
static int	rec_append(struct rec *, const char *, size_t);
static int	split_records(struct parser *, const char *, size_t);
static int	split_fields(struct parser *, struct rec *, const int *,
		    const size_t *, size_t);
static int	field_is(const struct field *, const char *);
static int	name_ok(const char *, size_t);
static int	rec_has_name(const struct rec *, const char *, size_t);
static struct rec *find_rec(struct parser *, const char *, size_t);
static int	flatten(struct parser *, struct rec *, struct flat *, int);
static int	blank(const char *, size_t);
static const struct field *cap(const struct flat *, const char *);
static char	*decode(const char *, size_t);
static int	check_list(struct parser *, struct rec *,
		    struct sdconf_list *);
static int	add_list(struct parser *, struct sdconf *, struct rec *,
		    const char *, size_t, int);

static int
perr(struct parser *ps, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (ps->errlen == 0)
		return -1;
	if (line > 0)
		n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->name, line);
	else
		n = snprintf(ps->err, ps->errlen, "%s: ", ps->name);
	if (n < 0 || (size_t)n >= ps->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
add_rec(struct parser *ps, int line)
{
	struct rec	*r;
	size_t		 cap;

	if (ps->nrecs == ps->recscap) {
		cap = ps->recscap == 0 ? 16 : ps->recscap * 2;
		if ((r = reallocarray(ps->recs, cap, sizeof(*r))) == NULL)
			return perr(ps, 0, "%s", strerror(errno));
		ps->recs = r;
		ps->recscap = cap;
	}
	r = &ps->recs[ps->nrecs++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	return 0;
}

static int
rec_append(struct rec *r, const char *p, size_t n)
{
	char	*t;

	if ((t = realloc(r->text, r->len + n + 1)) == NULL)
		return -1;
	memcpy(t + r->len, p, n);
	r->len += n;
	t[r->len] = '\0';
	r->text = t;
	return 0;
}

/*
 * Physical lines into records.  Where each physical line's text begins
 * in its record is kept (lineoff/lineno) so that fields know their line.
 */
static int
split_records(struct parser *ps, const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len, *nl, *s;
	size_t		*lineoff = NULL, nlines = 0, capl = 0, *tmpo;
	int		*lineno = NULL, *tmpn, line = 0, cont = 0, ret = -1;
	size_t		 n;
	struct rec	*r = NULL;

	while (p < end) {
		line++;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		s = p;
		n = nl - p;
		p = nl < end ? nl + 1 : end;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (memchr(s, '\0', n) != NULL) {
			perr(ps, line, "NUL byte in the file");
			goto done;
		}
		if (!cont) {
			if (blank(s, n))
				continue;
			if (s[0] == '#')
				continue;
			if (s[0] == ' ' || s[0] == '\t') {
				perr(ps, line, "line starts with a blank "
				    "outside a record (is the backslash "
				    "missing at the end of the line before?)");
				goto done;
			}
			if (add_rec(ps, line) == -1)
				goto done;
			r = &ps->recs[ps->nrecs - 1];
			nlines = 0;
		} else {
			/* A continued line: its leading blanks go. */
			while (n > 0 && (*s == ' ' || *s == '\t')) {
				s++;
				n--;
			}
			if (n > 0 && *s == '#') {
				perr(ps, line, "comment inside a record (the "
				    "line before ends with a backslash)");
				goto done;
			}
		}
		cont = n > 0 && s[n - 1] == '\\';
		if (cont)
			n--;
		if (nlines == capl) {
			capl = capl == 0 ? 16 : capl * 2;
			tmpo = reallocarray(lineoff, capl, sizeof(*lineoff));
			tmpn = reallocarray(lineno, capl, sizeof(*lineno));
			if (tmpo != NULL)
				lineoff = tmpo;
			if (tmpn != NULL)
				lineno = tmpn;
			if (tmpo == NULL || tmpn == NULL) {
				perr(ps, 0, "%s", strerror(errno));
				goto done;
			}
		}
		lineoff[nlines] = r->len;
		lineno[nlines++] = line;
		if (rec_append(r, s, n) == -1) {
			perr(ps, 0, "%s", strerror(errno));
			goto done;
		}
		if (!cont || p == end) {
			cont = 0;
			if (split_fields(ps, r, lineno, lineoff, nlines) == -1)
				goto done;
		}
	}
	ret = 0;
 done:
	free(lineoff);
	free(lineno);
	return ret;
}

/* Fields split on colons outside double quotes. */
static int
split_fields(struct parser *ps, struct rec *r, const int *lineno,
    const size_t *lineoff, size_t nlines)
{
	struct field	*f;
	size_t		 i, k, start = 0, l = 0, cap = 0;
	int		 quoted = 0, qline = 0;

	for (i = 0; i <= r->len; i++) {
		while (l + 1 < nlines && lineoff[l + 1] <= i)
			l++;
		if (i < r->len && r->text[i] == '\\' && i + 1 < r->len) {
			i++;	/* \" does not end a quote */
			continue;
		}
		if (i < r->len && r->text[i] == '"') {
			if (!quoted)
				qline = lineno[l];
			quoted = !quoted;
			continue;
		}
		if (i < r->len && (quoted || r->text[i] != ':'))
			continue;
		if (quoted)
			return perr(ps, qline, "quote not closed");
		if (r->nfields == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((f = reallocarray(r->fields, cap,
			    sizeof(*f))) == NULL)
				return perr(ps, 0, "%s", strerror(errno));
			r->fields = f;
		}
		f = &r->fields[r->nfields];
		f->p = r->text + start;
		f->len = i - start;
		/* Blanks around a field are layout; empty fields vanish. */
		while (f->len > 0 && (*f->p == ' ' || *f->p == '\t')) {
			f->p++;
			f->len--;
		}
		while (f->len > 0 && (f->p[f->len - 1] == ' ' ||
		    f->p[f->len - 1] == '\t'))
			f->len--;
		/* The line where the field starts. */
		for (f->line = lineno[0], k = 0; k < nlines &&
		    lineoff[k] <= (size_t)(f->p - r->text); k++)
			f->line = lineno[k];
		if (f->len > 0 || r->nfields == 0)
			r->nfields++;
		start = i + 1;
	}
	return 0;
}

/* Is the field the capability `name' (of any kind)? */
static int
field_is(const struct field *f, const char *name)
{
	size_t	 n = strlen(name);

	return f->len >= n && memcmp(f->p, name, n) == 0 &&
	    (f->len == n || f->p[n] == '=' || f->p[n] == '#' ||
	    f->p[n] == '@');
}

/* List names become tags on spamd's configuration socket. */
static int
name_ok(const char *p, size_t n)
{
	size_t	 i;

	if (n == 0 || n > SPAMDCONF_NAMEMAX)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f || strchr(";\"\\%!=#@", p[i]))
			return 0;
	return 1;
}

static int
rec_has_name(const struct rec *r, const char *name, size_t n)
{
	const char	*p = r->fields[0].p, *e = p + r->fields[0].len, *bar;

	while (p < e) {
		if ((bar = memchr(p, '|', e - p)) == NULL)
			bar = e;
		if ((size_t)(bar - p) == n && memcmp(p, name, n) == 0)
			return 1;
		p = bar + 1;
	}
	return 0;
}

static struct rec *
find_rec(struct parser *ps, const char *name, size_t n)
{
	size_t	 i;

	for (i = 0; i < ps->nrecs; i++)
		if (rec_has_name(&ps->recs[i], name, n))
			return &ps->recs[i];
	return NULL;
}

/* Is s[0..n) empty or all blanks?  s need not be NUL-terminated. */
static int
blank(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* The fields of r in getcap's order, tc= references replaced. */
static int
flatten(struct parser *ps, struct rec *r, struct flat *fl, int depth)
{
	const struct field	*f;
	struct rec		*t;
	size_t			 i;

	if (depth > MAXDEPTH)
		return perr(ps, r->line, "tc= references nest deeper than "
		    "%d (a loop?)", MAXDEPTH);
	if (++fl->visits > MAXVISITS)
		return perr(ps, r->line, "tc= references expand to more "
		    "than %d records", MAXVISITS);
	for (i = 1; i < r->nfields; i++) {
		f = &r->fields[i];
		if (f->len > 3 && memcmp(f->p, "tc=", 3) == 0) {
			if ((t = find_rec(ps, f->p + 3, f->len - 3)) == NULL)
				return perr(ps, f->line, "tc=%.*s: no such "
				    "record", (int)(f->len - 3), f->p + 3);
			if (flatten(ps, t, fl, depth + 1) == -1)
				return -1;
			continue;
		}
		if (fl->n == MAXFIELDS)
			return perr(ps, f->line, "more than %d fields",
			    MAXFIELDS);
		fl->f[fl->n++] = f;
	}
	return 0;
}

/* The first occurrence of a capability, NULL if absent or cancelled. */
static const struct field *
cap(const struct flat *fl, const char *name)
{
	size_t	 i, n = strlen(name);

	for (i = 0; i < fl->n; i++) {
		if (!field_is(fl->f[i], name))
			continue;
		if (fl->f[i]->len > n && fl->f[i]->p[n] == '@')
			return NULL;
		return fl->f[i];
	}
	return NULL;
}

/* A string value with getcap's escapes decoded; NULL if out of memory. */
static char *
decode(const char *p, size_t n)
{
	const char	*e = p + n;
	char		*out, *o;
	int		 v, i;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (o = out; p < e;) {
		if (*p == '^' && p + 1 < e) {
			p++;
			*o++ = *p == '?' ? 0x7f : (*p & 037);
			p++;
		} else if (*p == '\\' && p + 1 < e) {
			p++;
			if (*p >= '0' && *p <= '7') {
				for (v = 0, i = 0; i < 3 && p < e &&
				    *p >= '0' && *p <= '7'; i++)
					v = v * 8 + (*p++ - '0');
				*o++ = (char)v;
				continue;
			}
			switch (*p) {
			case 'b': case 'B':
				*o++ = '\b';
				break;
			case 't': case 'T':
				*o++ = '\t';
				break;
			case 'n': case 'N':
				*o++ = '\n';
				break;
			case 'f': case 'F':
				*o++ = '\f';
				break;
			case 'r': case 'R':
				*o++ = '\r';
				break;
			case 'e': case 'E':
				*o++ = 033;
				break;
			case 'c': case 'C':
				*o++ = ':';
				break;
			default:
				*o++ = *p;	/* \\, \^, \" and the rest */
				break;
			}
			p++;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

const char *
sdconf_method_name(enum sdconf_method m)
{
	switch (m) {
	case SDCONF_FILE:
		return "file";
	case SDCONF_HTTP:
		return "http";
	case SDCONF_HTTPS:
		return "https";
	case SDCONF_FTP:
		return "ftp";
	case SDCONF_EXEC:
		return "exec";
	}
	return "?";
}

/* Check one list record and decode it into l. */
static int
check_list(struct parser *ps, struct rec *r, struct sdconf_list *l)
{
	static const char *const known[] = {
		"black", "white", "msg", "method", "file"
	};
	static const char *const strs[] = { "msg", "method", "file" };
	struct flat		*fl;
	const struct field	*black, *white, *f, *msg, *method, *file;
	const char		*v;
	size_t			 i, k, n, vlen;
	int			 ret = -1;

	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		return perr(ps, 0, "%s", strerror(errno));
	if (flatten(ps, r, fl, 0) == -1)
		goto done;
	for (i = 0; i < fl->n; i++) {
		f = fl->f[i];
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (field_is(f, known[k]))
				break;
		if (k == sizeof(known) / sizeof(known[0])) {
			n = strcspn(f->p, "=#@:");
			perr(ps, f->line, "list %s: unknown capability \"%.*s\" "
			    "(known: black, white, msg=, method=, file=, tc=)",
			    l->name, (int)(n < f->len ? n : f->len), f->p);
			goto done;
		}
		n = strlen(known[k]);
		if (f->len > n && f->p[n] == '@')
			continue;
		if (k < 2 && f->len != n) {
			perr(ps, f->line, "list %s: \"%s\" takes no value",
			    l->name, known[k]);
			goto done;
		}
		if (k >= 2 && (f->len == n || f->p[n] != '=')) {
			perr(ps, f->line, "list %s: \"%s\" needs a value "
			    "(%s=...)", l->name, known[k], known[k]);
			goto done;
		}
	}
	black = cap(fl, "black");
	white = cap(fl, "white");
	if (black != NULL && white != NULL) {
		perr(ps, white->line, "list %s is both black and white",
		    l->name);
		goto done;
	}
	if (black == NULL && white == NULL) {
		perr(ps, r->line, "list %s must have :black: or :white:",
		    l->name);
		goto done;
	}
	l->type = black != NULL ? SDCONF_BLACK : SDCONF_WHITE;

	msg = cap(fl, strs[0]);
	method = cap(fl, strs[1]);
	file = cap(fl, strs[2]);
	l->method = SDCONF_FILE;
	if (method != NULL) {
		v = method->p + 7;
		vlen = method->len - 7;
		for (k = SDCONF_FILE; k <= SDCONF_EXEC; k++)
			if (strlen(sdconf_method_name(k)) == vlen &&
			    memcmp(sdconf_method_name(k), v, vlen) == 0)
				break;
		if (k > SDCONF_EXEC) {
			perr(ps, method->line, "list %s: unknown method "
			    "\"%.*s\" (http, https, ftp, file or exec)",
			    l->name, (int)vlen, v);
			goto done;
		}
		l->method = k;
	}
	if (file == NULL || file->len == 5) {
		perr(ps, file != NULL ? file->line : r->line,
		    "list %s: no file= (%s)", l->name,
		    l->method == SDCONF_EXEC ? "the command to run" :
		    l->method == SDCONF_FILE ? "the path of the list" :
		    "host and path of the URL, without the scheme");
		goto done;
	}
	if ((l->file = decode(file->p + 5, file->len - 5)) == NULL) {
		perr(ps, 0, "%s", strerror(errno));
		goto done;
	}
	/* Quotes let a URL with a port keep its colon. */
	n = strlen(l->file);
	if (n >= 2 && l->file[0] == '"' && l->file[n - 1] == '"') {
		memmove(l->file, l->file + 1, n - 2);
		l->file[n - 2] = '\0';
	}
	if (l->file[0] == '\0') {
		perr(ps, file->line, "list %s: empty file=", l->name);
		goto done;
	}
	if (l->type == SDCONF_BLACK) {
		if (msg == NULL || msg->len == 4) {
			perr(ps, r->line, "black list %s: no msg= (the "
			    "reply, in double quotes, or a file holding it)",
			    l->name);
			goto done;
		}
		if ((l->msg = decode(msg->p + 4, msg->len - 4)) == NULL) {
			perr(ps, 0, "%s", strerror(errno));
			goto done;
		}
		n = strlen(l->msg);
		if (l->msg[0] == '"') {
			if (n < 2 || l->msg[n - 1] != '"') {
				perr(ps, msg->line, "list %s: msg= starts "
				    "with a quote but does not end with one",
				    l->name);
				goto done;
			}
			memmove(l->msg, l->msg + 1, n - 2);
			l->msg[n - 2] = '\0';
		} else {
			l->msgfile = l->msg;
			l->msg = NULL;
		}
	}
	ret = 0;
 done:
	free(fl);
	return ret;
}

/* Add the list named name[0..n) unless it is there already. */
static int
add_list(struct parser *ps, struct sdconf *sc, struct rec *all,
    const char *name, size_t n, int line)
{
	struct sdconf_list	*l;
	struct rec		*r;
	size_t			*o, i;

	if (!name_ok(name, n))
		return perr(ps, line, "all: \"%.*s\" is not a list name "
		    "(1 to %d characters, no blanks or any of ;\"\\%%!=#@)",
		    (int)n, name, SPAMDCONF_NAMEMAX);
	if ((r = find_rec(ps, name, n)) == NULL)
		return perr(ps, line, "all: list \"%.*s\" has no record",
		    (int)n, name);
	if (r == all)
		return perr(ps, line, "all: names itself");
	for (i = 0; i < sc->nlists; i++)
		if (strlen(sc->lists[i].name) == n &&
		    memcmp(sc->lists[i].name, name, n) == 0)
			break;
	if (i == sc->nlists) {
		l = reallocarray(sc->lists, sc->nlists + 1, sizeof(*l));
		if (l == NULL)
			return perr(ps, 0, "%s", strerror(errno));
		sc->lists = l;
		l = &sc->lists[sc->nlists++];
		memset(l, 0, sizeof(*l));
		l->line = r->line;
		if ((l->name = strndup(name, n)) == NULL)
			return perr(ps, 0, "%s", strerror(errno));
		if (check_list(ps, r, l) == -1)
			return -1;
	}
	if ((o = reallocarray(sc->order, sc->norder + 1, sizeof(*o))) == NULL)
		return perr(ps, 0, "%s", strerror(errno));
	sc->order = o;
	sc->order[sc->norder++] = i;
	return 0;
}

int
sdconf_parse(const char *name, const char *buf, size_t len,
    struct sdconf *sc, char *err, size_t errlen)
{
	struct parser	 ps;
	struct rec	*all = NULL, *r;
	const char	*p, *e, *bar;
	size_t		 i, j, k, n;
	int		 ret = -1;

	memset(sc, 0, sizeof(*sc));
	memset(&ps, 0, sizeof(ps));
	ps.name = name;
	ps.err = err;
	ps.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if (split_records(&ps, buf, len) == -1)
		goto done;

	/* Every name once: getcap would silently take the first. */
	for (i = 0; i < ps.nrecs; i++) {
		r = &ps.recs[i];
		p = r->fields[0].p;
		e = p + r->fields[0].len;
		for (; p <= e; p = bar + 1) {
			if ((bar = memchr(p, '|', e - p)) == NULL)
				bar = e;
			if (bar == p) {
				perr(&ps, r->line, "empty record name");
				goto done;
			}
			for (j = 0; j < i; j++)
				if (rec_has_name(&ps.recs[j], p, bar - p)) {
					perr(&ps, r->line, "record \"%.*s\" "
					    "already defined at line %d",
					    (int)(bar - p), p,
					    ps.recs[j].line);
					goto done;
				}
		}
	}
	if ((all = find_rec(&ps, "all", 3)) == NULL) {
		perr(&ps, 0, "no \"all\" record (it names the lists to "
		    "load, in order)");
		goto done;
	}
	/* `all' is a list of names split on colons and blanks. */
	for (k = 1; k < all->nfields; k++) {
		p = all->fields[k].p;
		e = p + all->fields[k].len;
		while (p < e) {
			p += strspn(p, " \t");
			if (p >= e)
				break;
			n = strcspn(p, " \t:");
			if (n > (size_t)(e - p))
				n = e - p;
			if (add_list(&ps, sc, all, p, n,
			    all->fields[k].line) == -1)
				goto done;
			p += n;
		}
	}
	ret = 0;
 done:
	for (i = 0; i < ps.nrecs; i++) {
		free(ps.recs[i].text);
		free(ps.recs[i].fields);
	}
	free(ps.recs);
	if (ret == -1)
		sdconf_free(sc);
	return ret;
}

int
sdconf_load(const char *path, struct sdconf *sc, char *err, size_t errlen)
{
	char		*buf;
	size_t		 len;
	int		 ret;

	memset(sc, 0, sizeof(*sc));
	if ((buf = rfile_read(path, SPAMDCONF_MAXSIZE, &len, err,
	    errlen)) == NULL)
		return -1;
	ret = sdconf_parse(path, buf, len, sc, err, errlen);
	free(buf);
	return ret;
}

void
sdconf_free(struct sdconf *sc)
{
	size_t	 i;

	for (i = 0; i < sc->nlists; i++) {
		free(sc->lists[i].name);
		free(sc->lists[i].file);
		free(sc->lists[i].msg);
		free(sc->lists[i].msgfile);
	}
	free(sc->lists);
	free(sc->order);
	memset(sc, 0, sizeof(*sc));
}
