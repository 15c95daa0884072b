/*
 * Getting a list's bytes: read a file, run a command (exec), or fetch a
 * URL with libcurl (http, https, ftp).  The network is read by a child
 * that has given up root for _spamd, so that a flaw in the HTTP or TLS
 * code does not run as root; it pipes the body to us.  Commands run as
 * the caller, as OpenBSD's do: they are the administrator's own.
 * Whatever arrives may be gzip-compressed (zlib inflates it) and is
 * capped at LIST_MAXBYTES, before and after inflating.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "log.h"
#include "priv.h"
#include "setup.h"

#include "paths.h"

#define MAXARGS		64	/* words of an exec command */
#define USER_AGENT	"spamd-setup"

struct child {
	const struct sdconf_list *l;
	const char		*label;
	int			 wfd;
};

static int	read_fd(const char *, int, struct buf *, pid_t);
static int	read_file(const char *, struct buf *);
static int	run_child(const char *, void (*)(struct child *),
		    struct child *, struct buf *);
static void	exec_child(struct child *) __attribute__((noreturn));
static void	curl_child(struct child *) __attribute__((noreturn));
static size_t	curl_write(char *, size_t, size_t, void *);

int
fetch_buf_add(struct buf *b, const void *p, size_t n)
{
	size_t	 cap;
	char	*np;

	if (n > LIST_MAXBYTES - b->len) {
		errno = EFBIG;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap != 0 ? b->cap : 65536;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void
fetch_buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
fetch_label(const struct sdconf_list *l, char *buf, size_t len)
{
	switch (l->method) {
	case SDCONF_FILE:
		snprintf(buf, len, "%s", l->file);
		break;
	case SDCONF_EXEC:
		snprintf(buf, len, "exec %s", l->file);
		break;
	default:
		snprintf(buf, len, "%s://%s", sdconf_method_name(l->method),
		    l->file);
		break;
	}
}

/*
 * Read fd to its end into b.  With a child (pid > 0), stop after
 * FETCH_TIMEOUT seconds and kill it.
 */
static int
read_fd(const char *label, int fd, struct buf *b, pid_t pid)
{
	struct pollfd	 pfd;
	struct timespec	 t0, t;
	char		 tmp[65536];
	ssize_t		 n;
	long		 left;
	int		 r;

	if (clock_gettime(CLOCK_MONOTONIC, &t0) == -1)
		fatal("clock_gettime");
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (pid > 0) {
			if (clock_gettime(CLOCK_MONOTONIC, &t) == -1)
				fatal("clock_gettime");
			left = FETCH_TIMEOUT * 1000L -
			    ((t.tv_sec - t0.tv_sec) * 1000L +
			    (t.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0 ||
			    (r = poll(&pfd, 1, (int)left)) == 0) {
				log_warnx("%s: no end after %d seconds",
				    label, FETCH_TIMEOUT);
				return -1;
			}
			if (r == -1) {
				if (errno == EINTR)
					continue;
				log_warn("%s: poll", label);
				return -1;
			}
		}
		if ((n = read(fd, tmp, sizeof(tmp))) == 0)
			return 0;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("%s: read", label);
			return -1;
		}
		if (fetch_buf_add(b, tmp, n) == -1) {
			log_warn("%s: over %lu MiB", label,
			    LIST_MAXBYTES >> 20);
			return -1;
		}
	}
}

static int
read_file(const char *path, struct buf *b)
{
	struct stat	 st;
	int		 fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	r = read_fd(path, fd, b, 0);
	close(fd);
	return r;
}

/* Run fn in a child that writes the list to a pipe; read it. */
static int
run_child(const char *label, void (*fn)(struct child *), struct child *c,
    struct buf *b)
{
	pid_t	 pid;
	int	 p[2], status, r;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", label);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	switch (pid = fork()) {
	case -1:
		log_warn("%s: fork", label);
		close(p[0]);
		close(p[1]);
		return -1;
	case 0:
		close(p[0]);
		c->wfd = p[1];
		fn(c);
		/* NOTREACHED */
	}
	close(p[1]);
	r = read_fd(label, p[0], b, pid);
	close(p[0]);
	if (r == -1)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_warn("%s: waitpid", label);
			return -1;
		}
	if (r == -1)
		return -1;
	if (WIFSIGNALED(status)) {
		log_warnx("%s: killed by signal %d", label, WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		/* The child said why, for the network. */
		if (c->l->method == SDCONF_EXEC)
			log_warnx("%s: exit status %d", label,
			    WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

/* The command's words on blanks, its standard output to the pipe. */
static void
exec_child(struct child *c)
{
	char	*argv[MAXARGS + 1], *cmd, *w;
	int	 argc = 0, fd;

	if ((cmd = strdup(c->l->file)) == NULL)
		_exit(127);
	while ((w = strsep(&cmd, " \t")) != NULL) {
		if (*w == '\0')
			continue;
		if (argc == MAXARGS) {
			log_warnx("%s: more than %d words", c->label, MAXARGS);
			_exit(127);
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	if (argc == 0) {
		log_warnx("%s: empty command", c->label);
		_exit(127);
	}
	if (dup2(c->wfd, STDOUT_FILENO) == -1 ||
	    (fd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1) {
		log_warn("%s: dup2", c->label);
		_exit(127);
	}
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	log_warn("%s: %s", c->label, argv[0]);
	_exit(127);
}

static size_t
curl_write(char *p, size_t size, size_t n, void *arg)
{
	struct child	*c = arg;
	size_t		 len = size * n, off = 0;
	ssize_t		 w;

	while (off < len) {
		if ((w = write(c->wfd, p + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return 0;	/* curl aborts the transfer */
		}
		off += w;
	}
	return len;
}

static void
curl_child(struct child *c)
{
	struct passwd	*pw;
	char		 url[2048], errbuf[CURL_ERROR_SIZE];
	CURL		*h;
	CURLcode	 rc;

	if (geteuid() == 0) {
		if ((pw = getpwnam(SPAMD_USER)) != NULL)
			priv_drop(pw, NULL, 0);
		else
			log_warnx("no user %s: fetching %s as root",
			    SPAMD_USER, c->label);
	}
	snprintf(url, sizeof(url), "%s://%s", sdconf_method_name(c->l->method),
	    c->l->file);
	errbuf[0] = '\0';
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h = curl_easy_init()) == NULL) {
		log_warnx("%s: cannot initialise libcurl", c->label);
		_exit(1);
	}
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,ftp") !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)LIST_MAXBYTES) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, c) != CURLE_OK) {
		log_warnx("%s: libcurl refuses an option", c->label);
		_exit(1);
	}
	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		log_warnx("%s: %s", c->label, errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(rc));
		_exit(1);
	}
	curl_easy_cleanup(h);
	_exit(0);
}

/* Inflate b in place if it is gzip data (one or more members). */
int
fetch_gunzip(const char *label, struct buf *b)
{
	struct buf	 out;
	z_stream	 zs;
	char		 tmp[65536];
	int		 r;

	if (b->len < 2 || (unsigned char)b->p[0] != 0x1f ||
	    (unsigned char)b->p[1] != 0x8b)
		return 0;
	memset(&out, 0, sizeof(out));
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK) {
		log_warnx("%s: zlib: %s", label, zs.msg ? zs.msg : "init");
		return -1;
	}
	zs.next_in = (Bytef *)b->p;
	zs.avail_in = b->len;
	for (;;) {
		zs.next_out = (Bytef *)tmp;
		zs.avail_out = sizeof(tmp);
		r = inflate(&zs, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END) {
			log_warnx("%s: gzip data: %s", label, r == Z_BUF_ERROR ?
			    "truncated" : zs.msg != NULL ? zs.msg : "corrupt");
			goto fail;
		}
		if (fetch_buf_add(&out, tmp, sizeof(tmp) - zs.avail_out) ==
		    -1) {
			log_warn("%s: inflated", label);
			goto fail;
		}
		if (r != Z_STREAM_END)
			continue;
		/* Another member follows, or only padding. */
		while (zs.avail_in > 0 && *zs.next_in == '\0') {
			zs.next_in++;
			zs.avail_in--;
		}
		if (zs.avail_in == 0)
			break;
		if (inflateReset(&zs) != Z_OK) {
			log_warnx("%s: zlib: reset", label);
			goto fail;
		}
	}
	inflateEnd(&zs);
	fetch_buf_free(b);
	*b = out;
	if (b->p == NULL && fetch_buf_add(b, "", 0) == -1)
		return -1;
	return 0;
 fail:
	inflateEnd(&zs);
	fetch_buf_free(&out);
	return -1;
}

int
fetch_list(const struct sdconf_list *l, const char *label, struct buf *b)
{
	struct child	 c;
	int		 r;

	memset(&c, 0, sizeof(c));
	c.l = l;
	c.label = label;
	switch (l->method) {
	case SDCONF_FILE:
		r = read_file(l->file, b);
		break;
	case SDCONF_EXEC:
		r = run_child(label, exec_child, &c, b);
		break;
	default:
		r = run_child(label, curl_child, &c, b);
		break;
	}
	if (r == 0)
		r = fetch_gunzip(label, b);
	if (r == -1)
		fetch_buf_free(b);
	return r;
}
