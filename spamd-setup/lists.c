/*
 * A fetched list becomes address ranges.  Entries are those of
 * cidr_parse_line(): addresses, CIDR blocks and ranges, IPv4 and IPv6,
 * with comments.  A malformed line is reported with its line number and
 * skipped; but a list that is more malformed than not (an HTML error
 * page, a truncated or binary file) is refused whole, so that a bad
 * download cannot empty a list that was loaded before.
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
	int			 af, k;

	for (; p < e; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', e - p)) == NULL)
			nl = e;
		k = cidr_parse_line(p, nl - p, &af, &r, err, sizeof(err));
		if (k == 0)
			continue;
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

int
slist_load(struct slist *sl)
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
