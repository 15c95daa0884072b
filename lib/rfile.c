/*
 * Reading a small file whole (rfile.h).
 * Used by: spamd, spamd-setup.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rfile.h"

char *
rfile_read(const char *path, size_t max, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	if (fstat(fd, &st) == -1)
		goto fail_fd;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		if (S_ISREG(st.st_mode) && max % (1024 * 1024) == 0)
			snprintf(err, errlen, "%s: larger than %zu MiB", path,
			    max / (1024 * 1024));
		else
			snprintf(err, errlen, "%s: %s", path,
			    !S_ISREG(st.st_mode) ? "not a regular file" :
			    "too large");
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail_fd;
	/* A file that shrinks meanwhile gives what it still holds. */
	while (len < (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			free(buf);
			errno = saved;
			goto fail_fd;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;

 fail_fd:
	saved = errno;
	close(fd);
	errno = saved;
 fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return NULL;
}
