/*
 * A fetched list becomes address ranges.  Entries are those of
 * cidr_parse_line(): addresses, CIDR blocks and ranges, IPv4 and IPv6,
 * with comments.  A malformed line is reported with its line number and
 * skipped; but a list that is more malformed than not (an HTML error
 * page, a truncated or binary file) is refused whole, so that a bad
 * download cannot empty a list that was loaded before.
 *
 * spamd takes every WHITE host a black list covers off the whitelist
 * for good, so a black list is bounded (setup.h): an entry wider than
 * BLACK_MIN4/6 counts as malformed, and a list wider in all than a
 * block of that size is refused whole unless the caller allows it.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "setup.h"

/* A message file larger than this is cut: the reply has a limit. */
#define MSGFILE_MAX	4096

static int	parse_lines(struct slist *, const char *, size_t);
static char	*read_msgfile(const char *);

static int
parse_lines(struct slist *sl, const char *p, size_t len)
{
	struct cidr_range	 r;
	const char		*e = p + len, *nl;
	char			 err[160];
	unsigned long		 line = 0, good = 0, bad = 0;
	int			 af, k, min;

	for (; p < e; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', e - p)) == NULL)
			nl = e;
		k = cidr_parse_line(p, nl - p, &af, &r, err, sizeof(err));
		if (k == 0)
			continue;
		min = af == AF_INET ? BLACK_MIN4 : BLACK_MIN6;
		if (k == 1 && sl->conf->type == SDCONF_BLACK &&
		    cidr_range_prefix(af, &r) < min) {
			snprintf(err, sizeof(err), "wider than /%d: refused",
			    min);
			k = -1;
		}
		if (k == -1) {
			if (++bad <= BADLINES_SHOWN)
				log_warnx("%s:%lu: %s", sl->label, line, err);
			continue;
		}
		good++;
		if (cidr_list_add(af == AF_INET ? &sl->v4 : &sl->v6,
		    &r) == -1) {
			log_warn("%s:%lu", sl->label, line);
			return -1;
		}
	}
	if (bad > 0 && bad >= good) {
		log_warnx("%s: %lu of %lu entries malformed: not a list, "
		    "skipped", sl->label, bad, bad + good);
		return -1;
	}
	if (bad > BADLINES_SHOWN)
		log_warnx("%s: %lu malformed lines in all, ignored", sl->label,
		    bad);
	else if (bad > 0)
		log_warnx("%s: malformed line%s ignored", sl->label,
		    bad > 1 ? "s" : "");
	return 0;
}

/* The text of a message file, trailing newlines dropped. */
static char *
read_msgfile(const char *path)
{
	char	*buf;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("message file %s", path);
		return NULL;
	}
	if ((buf = malloc(MSGFILE_MAX + 1)) == NULL) {
		log_warn("message file %s", path);
		close(fd);
		return NULL;
	}
	while (len < MSGFILE_MAX &&
	    (n = read(fd, buf + len, MSGFILE_MAX - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("message file %s", path);
			free(buf);
			close(fd);
			return NULL;
		}
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return buf;
}

/* A black list wider in all than a /BLACK_MIN4 or /BLACK_MIN6. */
static int
too_wide(const struct slist *sl)
{
	int	 w4 = cidr_list_prefix(&sl->v4), w6 = cidr_list_prefix(&sl->v6);

	if (w4 >= BLACK_MIN4 && w6 >= BLACK_MIN6)
		return 0;
	log_warnx("list %s: its %s entries add up to more than a /%d: "
	    "refused (-o loads it)", sl->conf->name,
	    w4 < BLACK_MIN4 ? "IPv4" : "IPv6",
	    w4 < BLACK_MIN4 ? BLACK_MIN4 : BLACK_MIN6);
	return 1;
}

int
slist_load(struct slist *sl, int oversize)
{
	const struct sdconf_list	*l = sl->conf;
	struct buf			 b;

	memset(&b, 0, sizeof(b));
	cidr_list_init(&sl->v4, AF_INET);
	cidr_list_init(&sl->v6, AF_INET6);
	sl->ok = 0;
	fetch_label(l, sl->label, sizeof(sl->label));
	if (l->type == SDCONF_BLACK) {
		if (l->msgfile != NULL)
			sl->msg = read_msgfile(l->msgfile);
		else
			sl->msg = strdup(l->msg);
		if (sl->msg == NULL) {
			log_warnx("list %s: no message, skipped", l->name);
			return -1;
		}
	}
	log_debug("getting %s", sl->label);
	if (fetch_list(l, sl->label, &b) == -1) {
		log_warnx("list %s could not be fetched: skipped", l->name);
		return -1;
	}
	if (parse_lines(sl, b.p != NULL ? b.p : "", b.len) == -1) {
		fetch_buf_free(&b);
		cidr_list_free(&sl->v4);
		cidr_list_free(&sl->v6);
		log_warnx("list %s could not be parsed: skipped", l->name);
		return -1;
	}
	fetch_buf_free(&b);
	cidr_list_normalize(&sl->v4);
	cidr_list_normalize(&sl->v6);
	if (l->type == SDCONF_BLACK && !oversize && too_wide(sl)) {
		cidr_list_free(&sl->v4);
		cidr_list_free(&sl->v6);
		log_warnx("list %s skipped", l->name);
		return -1;
	}
	log_debug("%slist %s: %zu IPv4 and %zu IPv6 ranges",
	    l->type == SDCONF_BLACK ? "black" : "white", l->name, sl->v4.n,
	    sl->v6.n);
	sl->ok = 1;
	return 0;
}

void
slist_free(struct slist *sl)
{
	cidr_list_free(&sl->v4);
	cidr_list_free(&sl->v6);
	free(sl->msg);
	sl->msg = NULL;
}
