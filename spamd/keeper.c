/*
 * The keeper; see keeper.h.  One request at a time: the engine sends a
 * kmsg (with the file to store for KP_SAVE) and waits for the kmsg of
 * the same sequence number, with the pair's descriptors for KP_TLS.
 * Both ends refuse a record of another size and close descriptors they
 * did not ask for.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "blfile.h"
#include "keeper.h"
#include "log.h"
#include "priv.h"
#include "spamd.h"
#include "tls.h"
#include "trusted.h"

#define KP_SAVE		1	/* store the blacklists file passed */
#define KP_TLS		2	/* open the TLS pair and pass it */
#define KP_TRUSTED	3	/* open the trusted file (trusted.h) */
#define KP_NOSPAMD	4	/* ... the nospamd file */
#define KP_WAIT_MS	30000	/* longest wait for an answer (fsync) */

struct kmsg {
	uint32_t	 seq;
	uint8_t		 type;
	uint8_t		 ok;		/* answer: done */
	uint8_t		 pad[2];
	char		 err[240];	/* answer: why not */
};

static int		 kfd = -1;	/* engine: to the keeper */
static uint32_t		 kseq;
static const char	*kcert, *kkey;

static void	keeper_main(int, const struct passwd *)
		    __attribute__((noreturn));

/* One record and up to two descriptors. */
static int
ksend(int fd, const struct kmsg *m, const int *fds, int nfds)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)m;
	iov.iov_len = sizeof(*m);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	while (sendmsg(fd, &msg, MSG_NOSIGNAL) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/*
 * One record: its size, and the descriptors that came with it in
 * fds[0..*nfds) (at most 2; any beyond are closed).  0 at the end of
 * the stream, 1 for a record, -1 on error or a record of another size.
 */
static int
krecv(int fd, struct kmsg *m, int *fds, int *nfds)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 n;
	int		 got[4];
	size_t		 i, k;

	*nfds = 0;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = m;
	iov.iov_len = sizeof(*m);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) == -1)
		if (errno != EINTR)
			return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (k > 4)
			k = 4;
		memcpy(got, CMSG_DATA(c), k * sizeof(int));
		for (i = 0; i < k; i++) {
			if (*nfds < 2)
				fds[(*nfds)++] = got[i];
			else
				(void)close(got[i]);
		}
	}
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof(*m) || (msg.msg_flags & MSG_TRUNC)) {
		while (*nfds > 0)
			(void)close(fds[--(*nfds)]);
		errno = EPROTO;
		return -1;
	}
	m->err[sizeof(m->err) - 1] = '\0';
	return 1;
}

static void
close_fds(int *fds, int n)
{
	while (n > 0)
		(void)close(fds[--n]);
}

void
keeper_start(const struct passwd *pw, const char *cert, const char *key)
{
	int	 sp[2];

	kcert = cert;
	kkey = key;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("keeper: socketpair");
	switch (fork()) {
	case -1:
		fatal("keeper: fork");
	case 0:
		close(sp[0]);
		keeper_main(sp[1], pw);
		/* NOTREACHED */
	}
	close(sp[1]);
	kfd = sp[0];
}

/* Engine: one request and its answer, within KP_WAIT_MS. */
static int
keeper_call(int type, int sendfd, int *fds, int want, char *err,
    size_t errlen)
{
	struct pollfd	 pfd;
	struct kmsg	 m;
	int		 got[2], ngot, r;

	if (kfd == -1) {
		snprintf(err, errlen, "no keeper process");
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.seq = ++kseq;
	m.type = type;
	if (ksend(kfd, &m, &sendfd, sendfd == -1 ? 0 : 1) == -1) {
		snprintf(err, errlen, "to the keeper: %s", strerror(errno));
		return -1;
	}
	pfd.fd = kfd;
	pfd.events = POLLIN;
	for (;;) {
		/* A reload or a save is rare: waiting here is simplest. */
		if ((r = poll(&pfd, 1, KP_WAIT_MS)) == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "the keeper did not answer%s%s",
			    r == -1 ? ": " : "", r == -1 ? strerror(errno) :
			    "");
			return -1;
		}
		if ((r = krecv(kfd, &m, got, &ngot)) <= 0) {
			snprintf(err, errlen, "from the keeper: %s", r == 0 ?
			    "it has exited" : strerror(errno));
			return -1;
		}
		if (m.seq == kseq)
			break;
		close_fds(got, ngot);	/* a late answer to a call given up */
	}
	if (want == -1) {	/* one descriptor or none */
		if (m.ok && ngot <= 1) {
			fds[0] = ngot == 1 ? got[0] : -1;
			return 0;
		}
		want = 1;
	}
	if (!m.ok || ngot != want) {
		close_fds(got, ngot);
		snprintf(err, errlen, "%s", m.ok ? "the keeper sent no file" :
		    m.err);
		return -1;
	}
	if (want > 0)
		memcpy(fds, got, want * sizeof(int));
	return 0;
}

int
keeper_save(int fd, char *err, size_t errlen)
{
	return keeper_call(KP_SAVE, fd, NULL, 0, err, errlen);
}

int
keeper_tls(int *certfd, int *keyfd, char *err, size_t errlen)
{
	int	 fds[2];

	if (keeper_call(KP_TLS, -1, fds, 2, err, errlen) == -1)
		return -1;
	*certfd = fds[0];
	*keyfd = fds[1];
	return 0;
}

int
keeper_bypass(int which, int *fd, char *err, size_t errlen)
{
	int	 fds[1];

	/* ok with no descriptor: there is no file. */
	if (keeper_call(which == BYPASS_NOSPAMD ? KP_NOSPAMD : KP_TRUSTED,
	    -1, fds, -1, err, errlen) == -1)
		return -1;
	*fd = fds[0];
	return 0;
}

/* Keeper: a regular file of the pair, opened without blocking. */
static int
open_pair_file(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Keep only fds 0-2, the socket and the database directory: the
 * engine's listeners, its socket to the greylister and the rest stay
 * with their owners.
 */
static void
keeper_fds(int sock)
{
	int	 keep[2], i, from;

	keep[0] = sock;
	keep[1] = blfile_dirfd();
	if (keep[1] != -1 && keep[1] < keep[0]) {
		keep[1] = keep[0];
		keep[0] = blfile_dirfd();
	}
	closelog();
	for (from = 3, i = 0; i < 2; i++) {
		if (keep[i] == -1)
			continue;
		if (keep[i] > from && close_range(from, keep[i] - 1, 0) == -1)
			fatal("keeper: close_range");
		from = keep[i] + 1;
	}
	if (close_range(from, ~0U, 0) == -1)
		fatal("keeper: close_range");
	log_init(conf.debug, "spamd");
}

static void
keeper_main(int sock, const struct passwd *pw)
{
	struct kmsg	 m;
	const char	*path;
	uint64_t	 caps;
	int		 fds[2], n, r;

	keeper_fds(sock);
	log_procname("keeper");
	setproctitle("keeper");
	/* Signals for the engine or the greylister are not for us. */
	if (signal(SIGHUP, SIG_IGN) == SIG_ERR ||
	    signal(SIGUSR1, SIG_IGN) == SIG_ERR ||
	    signal(SIGUSR2, SIG_IGN) == SIG_ERR ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("keeper: signal");
	tls_forget();
	caps = 0;
	if (pw != NULL && kcert != NULL) {
		/* A unit's CapabilityBoundingSet may leave it out. */
		if (prctl(PR_CAPBSET_READ, CAP_DAC_READ_SEARCH, 0, 0, 0) == 1)
			caps = 1ULL << CAP_DAC_READ_SEARCH;
		else
			log_warnx("keeper: no CAP_DAC_READ_SEARCH: SIGHUP "
			    "reads the TLS pair as _spamd only");
	}
	if (pw != NULL)
		priv_drop(pw, NULL, caps);
	for (;;) {
		if ((r = krecv(sock, &m, fds, &n)) == 0)
			exit(0);	/* the engine has gone */
		if (r == -1) {
			if (errno != EPROTO)
				fatal("keeper: recvmsg");
			log_warnx("keeper: a record of the wrong size dropped");
			continue;
		}
		m.ok = 0;
		m.err[0] = '\0';
		switch (m.type) {
		case KP_SAVE:
			if (n == 1 && blfile_store(fds[0], m.err,
			    sizeof(m.err)) == 0)
				m.ok = 1;
			else if (n != 1)
				snprintf(m.err, sizeof(m.err), "no file sent");
			close_fds(fds, n);
			r = ksend(sock, &m, NULL, 0);
			break;
		case KP_TLS:
			close_fds(fds, n);
			n = 0;
			if (kcert == NULL)
				snprintf(m.err, sizeof(m.err), "no TLS pair");
			else if ((fds[0] = open_pair_file(kcert, m.err,
			    sizeof(m.err))) == -1)
				;
			else if ((fds[1] = open_pair_file(kkey, m.err,
			    sizeof(m.err))) == -1)
				close(fds[0]);
			else {
				m.ok = 1;
				n = 2;
			}
			r = ksend(sock, &m, fds, n);
			close_fds(fds, n);
			break;
		case KP_TRUSTED:
		case KP_NOSPAMD:
			/* No file: ok and no descriptor, an empty list. */
			close_fds(fds, n);
			n = 0;
			path = m.type == KP_TRUSTED ? conf.trusted :
			    conf.nospamd;
			if (path == NULL)
				snprintf(m.err, sizeof(m.err), "no %s file",
				    m.type == KP_TRUSTED ? "trusted" :
				    "nospamd");
			else if ((errno = 0, fds[0] = open_pair_file(
			    path, m.err, sizeof(m.err))) != -1) {
				m.ok = 1;
				n = 1;
			} else if (errno == ENOENT) {
				m.ok = 1;
				m.err[0] = '\0';
			}
			r = ksend(sock, &m, fds, n);
			close_fds(fds, n);
			break;
		default:
			close_fds(fds, n);
			snprintf(m.err, sizeof(m.err), "unknown request %d",
			    m.type);
			r = ksend(sock, &m, NULL, 0);
		}
		if (r == -1)
			fatal("keeper: sendmsg");
	}
}
