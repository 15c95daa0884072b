/*
 * The allowed-domains file.  One suffix per line, blanks around it and
 * `#' comments ignored.  "@example.org" matches that domain only;
 * "example.org" matches it and its subdomains (a plain suffix compare,
 * as OpenBSD; write ".example.org" for subdomains only).  A suffix is
 * raw (UTF-8) or escaped as spamdb lists it, and is kept in the key
 * form the recipients are in (gdata.h), so both match.  The file is
 * read again when its inode, size or mtime changes, checked at most once
 * a second, or after SIGHUP; a file that cannot be read leaves the list
 * as it was and says why once.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gdata.h"
#include "grey.h"
#include "log.h"
#include "trapdom.h"

#define TRAPDOM_LINE	1024

static const char	*td_path;
static char		**td_suffix;
static size_t		 td_n;
static struct stat	 td_st;		/* of the file last read */
static int		 td_have;	/* td_st is valid */
static int		 td_force;
static time_t		 td_checked;
static int		 td_failed;	/* last read failed, said so */

static void
td_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
td_read(const struct stat *sb)
{
	FILE	*f;
	char	 line[TRAPDOM_LINE + 2], *p, *e, **v = NULL, **nv;
	char	 suf[GD_FIELD_MAX];
	size_t	 n = 0, lineno = 0;

	if ((f = fopen(td_path, "r")) == NULL) {
		if (!td_failed)
			log_warn("allowed domains %s", td_path);
		td_failed = 1;
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			log_warnx("allowed domains %s:%zu: line too long, "
			    "file ignored", td_path, lineno);
			goto bad;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line + strspn(line, " \t\r\n");
		e = p + strcspn(p, " \t\r\n");
		*e = '\0';
		if (*p == '\0')
			continue;
		if (gd_canon(suf, sizeof(suf), p, (size_t)(e - p)) == -1) {
			log_warnx("allowed domains %s:%zu: suffix too long, "
			    "file ignored", td_path, lineno);
			goto bad;
		}
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL ||
		    (nv[n] = strdup(suf)) == NULL) {
			log_warn("allowed domains %s", td_path);
			if (nv != NULL)
				v = nv;
			goto bad;
		}
		v = nv;
		n++;
	}
	if (ferror(f)) {
		log_warn("allowed domains %s", td_path);
		goto bad;
	}
	fclose(f);
	td_free(td_suffix, td_n);
	td_suffix = v;
	td_n = n;
	td_st = *sb;
	td_have = 1;
	td_failed = 0;
	log_info("allowed domains: %zu suffixes from %s", n, td_path);
	return;
bad:
	fclose(f);
	td_free(v, n);
	td_st = *sb;		/* not again until it changes */
	td_have = 1;
}

static void
td_check(void)
{
	struct stat	 sb;
	time_t		 now = time(NULL);

	if (!td_force && now == td_checked)
		return;
	td_checked = now;
	if (stat(td_path, &sb) == -1) {
		if (errno != ENOENT && !td_failed)
			log_warn("allowed domains %s", td_path);
		if (td_n > 0)
			log_info("allowed domains %s is gone: no domain "
			    "rule", td_path);
		td_free(td_suffix, td_n);
		td_suffix = NULL;
		td_n = 0;
		td_have = 0;
		td_force = 0;
		return;
	}
	if (!td_force && td_have && sb.st_ino == td_st.st_ino &&
	    sb.st_size == td_st.st_size &&
	    sb.st_mtim.tv_sec == td_st.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == td_st.st_mtim.tv_nsec)
		return;
	td_force = 0;
	td_read(&sb);
}

void
trapdom_init(const char *path)
{
	td_path = path;
	td_force = 1;
	td_check();
}

void
trapdom_reload(void)
{
	td_force = 1;
}

int
trapdom_trap(const char *to)
{
	char	 addr[GD_FIELD_MAX];
	size_t	 i, alen, slen;
	int	 n;

	if (td_path == NULL)
		return 0;
	td_check();
	if (td_n == 0)
		return 0;
	if ((n = grey_trapkey(addr, sizeof(addr), to)) == -1)
		return 0;
	alen = (size_t)n;
	for (i = 0; i < td_n; i++) {
		slen = strlen(td_suffix[i]);
		if (gd_suffix(addr, alen, td_suffix[i], slen))
			return 0;
	}
	return 1;
}
