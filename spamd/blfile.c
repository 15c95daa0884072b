/*
 * The blacklists on disk; see blfile.h.  The engine runs chrooted in an
 * empty directory and keeps no descriptor of the database directory:
 * it reads the saved lists before the chroot, and writes new ones into
 * an anonymous file that the keeper (keeper.c), which holds the
 * directory, copies in with openat and renameat.
 *
 * The file is the lines spamd-setup would send, then one trailer line
 * "!saved LENGTH HASH" (FNV-1a of the body).  A file whose trailer does
 * not match is truncated or damaged: it is refused whole, so spamd
 * starts with no lists rather than with part of them.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "blacklist.h"
#include "blfile.h"
#include "cfgparse.h"
#include "keeper.h"
#include "log.h"

#define BLFILE_TMP	BLFILE_NAME ".tmp"
#define TRAILER_FMT	"!saved %020" PRIu64 " %08" PRIx32 "\n"
#define TRAILER_LEN	(7 + 20 + 1 + 8 + 1)
#define IOBUF		65536
/* The largest file taken from the engine: every range of every list. */
#define BLFILE_MAX	((off_t)BL_MAXTOTAL * 64 + (off_t)BL_MAXLISTS * 4096)

static int		 dfd = -1;
static int		 kept;		/* the directory could be opened */
static const char	*dpath = "";

/* A stdio sink that hashes what it writes. */
struct hsink {
	int		 fd;
	uint32_t	 h;
	uint64_t	 len;
};

static ssize_t	hsink_write(void *, const char *, size_t);
static int	write_all(int, const char *, size_t);
static void	damaged(const char *);

void
blfile_open(const char *dir)
{
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("blacklists: directory %s: lists are not kept "
		    "across restarts", dir);
		return;
	}
	dpath = dir;
	kept = 1;
}

void
blfile_close(void)
{
	if (dfd != -1 && close(dfd) == -1)
		log_warn("close %s", dpath);
	dfd = -1;
}

static int
write_all(int fd, const char *buf, size_t n)
{
	ssize_t	 r;
	size_t	 off = 0;

	while (off < n) {
		if ((r = write(fd, buf + off, n - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += r;
	}
	return 0;
}

static ssize_t
hsink_write(void *cookie, const char *buf, size_t n)
{
	struct hsink	*w = cookie;

	if (write_all(w->fd, buf, n) == -1)
		return -1;
	w->h = fnv1a(buf, n, w->h);
	w->len += n;
	return n;
}

int
blfile_dirfd(void)
{
	return dfd;
}

void
blfile_save(void)
{
	cookie_io_functions_t	 io = { NULL, hsink_write, NULL, NULL };
	struct hsink		 w;
	FILE			*fp;
	char			 trailer[TRAILER_LEN + 1], err[256];
	int			 fd, saved;

	if (!kept)
		return;		/* blfile_open said so */
	if ((fd = memfd_create(BLFILE_NAME, MFD_CLOEXEC)) == -1) {
		log_warn("blacklists: cannot save them: memfd_create");
		return;
	}
	w.fd = fd;
	w.h = FNV1A_BASIS;
	w.len = 0;
	if ((fp = fopencookie(&w, "w", io)) == NULL)
		goto fail;
	if (bl_write(fp) == -1 || fflush(fp) == EOF) {
		saved = errno;
		(void)fclose(fp);
		errno = saved;
		goto fail;
	}
	if (fclose(fp) == EOF)
		goto fail;
	snprintf(trailer, sizeof(trailer), TRAILER_FMT, w.len, w.h);
	if (write_all(fd, trailer, TRAILER_LEN) == -1)
		goto fail;
	if (keeper_save(fd, err, sizeof(err)) == -1) {
		log_warnx("blacklists: cannot save them to %s/%s: %s; the "
		    "previous copy stays", dpath, BLFILE_NAME, err);
		(void)close(fd);
		return;
	}
	(void)close(fd);
	log_debug("blacklists: %zu lists saved to %s/%s (%" PRIu64 " bytes)",
	    bl_nlists(), dpath, BLFILE_NAME, w.len);
	return;
 fail:
	log_warn("blacklists: cannot save them to %s/%s; the previous copy "
	    "stays", dpath, BLFILE_NAME);
	(void)close(fd);
}

int
blfile_store(int src, char *err, size_t errlen)
{
	static char	 buf[IOBUF];
	struct stat	 st;
	off_t		 off;
	ssize_t		 n;
	int		 fd = -1;

	if (dfd == -1) {
		snprintf(err, errlen, "directory not open");
		return -1;
	}
	if (fstat(src, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < TRAILER_LEN || st.st_size > BLFILE_MAX) {
		snprintf(err, errlen, "not a file of a plausible size");
		return -1;
	}
	if ((fd = openat(dfd, BLFILE_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		goto fail;
	for (off = 0; off < st.st_size; off += n) {
		n = pread(src, buf, st.st_size - off < (off_t)sizeof(buf) ?
		    (size_t)(st.st_size - off) : sizeof(buf), off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* shrank meanwhile */
			goto fail;
		}
		if (write_all(fd, buf, n) == -1)
			goto fail;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dfd, BLFILE_TMP, dfd, BLFILE_NAME) == -1)
		goto fail;
	/* The rename itself must reach the disk too. */
	if (fsync(dfd) == -1)
		log_warn("blacklists: fsync %s", dpath);
	return 0;
 fail:
	snprintf(err, errlen, "%s", strerror(errno));
	if (fd != -1)
		(void)close(fd);
	if (unlinkat(dfd, BLFILE_TMP, 0) == -1 && errno != ENOENT)
		log_warn("blacklists: unlink %s/%s", dpath, BLFILE_TMP);
	return -1;
}

static void
damaged(const char *why)
{
	/* The greylister reads the file after the engine, which said it. */
	if (bl_is_quiet())
		return;
	log_warnx("blacklists: saved file %s/%s refused: %s; spamd starts "
	    "with no blacklists until spamd-setup loads them", dpath,
	    BLFILE_NAME, why);
}

void
blfile_load(void)
{
	static char		 buf[IOBUF];
	static struct cfgparse	 p;
	struct stat		 st;
	char			 tr[TRAILER_LEN + 1];
	uint64_t		 len, left;
	uint32_t		 h, want;
	size_t			 n, off;
	ssize_t			 r;
	int			 fd;

	if (dfd == -1)
		return;
	/* O_NONBLOCK: a FIFO planted there must not hang the start. */
	if ((fd = openat(dfd, BLFILE_NAME, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && bl_is_quiet())
			;
		else if (errno == ENOENT)
			log_info("blacklists: none saved in %s; none until "
			    "spamd-setup loads them", dpath);
		else
			log_warn("blacklists: %s/%s: spamd starts with no "
			    "blacklists", dpath, BLFILE_NAME);
		return;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("blacklists: fstat %s/%s", dpath, BLFILE_NAME);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < TRAILER_LEN) {
		damaged("not a regular file, or shorter than its trailer");
		goto out;
	}
	len = (uint64_t)st.st_size - TRAILER_LEN;
	if ((r = pread(fd, tr, TRAILER_LEN, (off_t)len)) != TRAILER_LEN) {
		if (r == -1)
			log_warn("blacklists: read %s/%s", dpath, BLFILE_NAME);
		else
			damaged("short read");
		goto out;
	}
	tr[TRAILER_LEN] = '\0';
	snprintf(buf, sizeof(buf), TRAILER_FMT, len, (uint32_t)0);
	if (strncmp(tr, buf, TRAILER_LEN - 9) != 0 ||
	    sscanf(tr + TRAILER_LEN - 9, "%8" SCNx32, &want) != 1 ||
	    tr[TRAILER_LEN - 1] != '\n') {
		damaged("truncated: no trailer matching its length");
		goto out;
	}
	/* First the whole body is checked, and only then applied. */
	for (h = FNV1A_BASIS, left = len; left > 0; left -= r) {
		n = left < sizeof(buf) ? left : sizeof(buf);
		if ((r = read(fd, buf, n)) <= 0) {
			if (r == -1 && errno == EINTR) {
				r = 0;
				continue;
			}
			damaged(r == -1 ? strerror(errno) : "short read");
			goto out;
		}
		h = fnv1a(buf, r, h);
	}
	if (h != want) {
		damaged("its hash does not match: damaged");
		goto out;
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		log_warn("blacklists: lseek %s/%s", dpath, BLFILE_NAME);
		goto out;
	}
	cfgparse_init(&p);
	for (off = 0, n = 0, left = len; left > 0; left -= r) {
		if (off > 0) {
			memmove(buf, buf + off, n - off);
			n -= off;
			off = 0;
		}
		r = read(fd, buf + n, left < sizeof(buf) - n ? left :
		    sizeof(buf) - n);
		if (r <= 0) {
			if (r == -1 && errno == EINTR) {
				r = 0;
				continue;
			}
			log_warn("blacklists: read %s/%s", dpath, BLFILE_NAME);
			p.refused++;
			break;
		}
		n += r;
		off += cfgparse_feed(&p, buf, n);
	}
	cfgparse_end(&p, n - off);
	if (p.refused > 0) {
		bl_keep_only(NULL, 0);
		damaged("lines refused");
	} else if (!bl_is_quiet())
		log_info("blacklists: %u lists loaded from %s/%s", p.applied,
		    dpath, BLFILE_NAME);
	cfgparse_clear(&p);
 out:
	if (close(fd) == -1)
		log_warn("close %s/%s", dpath, BLFILE_NAME);
}
