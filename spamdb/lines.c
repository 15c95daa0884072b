/*
 * The imports' reader (import.c, dayone.c): a file line by line into a
 * buffer of the caller's, plain or gzip-compressed whatever its name,
 * "-" the standard input.  A line longer than the buffer is skipped
 * whole and reported once; the newline is dropped.  Reading stops at
 * the next line once a signal set spamdb_quit.
 */
#include <err.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "spamdb.h"

int
spamdb_readlines(const char *path, char *buf, size_t size,
    const struct spamdb_lines *cb)
{
	gzFile		 gz;
	const char	*e;
	size_t		 len;
	unsigned long	 lineno = 0;
	int		 skipping = 0, gerr, fd;

	if (strcmp(path, "-") == 0) {
		if ((fd = dup(STDIN_FILENO)) == -1 ||
		    (gz = gzdopen(fd, "r")) == NULL) {
			warn("standard input");
			return -1;
		}
	} else if ((gz = gzopen(path, "r")) == NULL) {
		warn("%s", path);
		return -1;
	}
	while (!spamdb_quit && gzgets(gz, buf, (int)size) != NULL) {
		len = strlen(buf);
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		else if (!gzeof(gz)) {
			/* Overlong: report once, skip to the next newline. */
			if (!skipping)
				cb->toolong(++lineno, cb->arg);
			skipping = 1;
			continue;
		}
		if (skipping) {
			skipping = 0;
			continue;
		}
		cb->line(buf, len, ++lineno, cb->arg);
	}
	e = gzerror(gz, &gerr);
	if (gerr != Z_OK && gerr != Z_STREAM_END) {
		warnx("%s: %s", path, gerr == Z_ERRNO ? strerror(errno) : e);
		gzclose(gz);
		return -2;
	}
	gzclose(gz);
	return 0;
}
