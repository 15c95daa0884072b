/*
 * Handing the black lists to spamd over its configuration socket, in
 * OpenBSD's line grammar (cfgproto.h), all on one connection, ended by
 * "!only" with the name of every black list of spamd.conf so that
 * spamd drops the lists no longer configured.  The
 * socket only serves privileged ports, so as root we bind one.  spamd
 * answers "applied N refused M" once it has read everything: the
 * lists are in force when cfgsend_wait() returns.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgproto.h"
#include "log.h"
#include "setup.h"

#define RESV_HIGH	1023	/* privileged ports tried, downwards */
#define RESV_LOW	600
#define ANSWER_WAIT	120	/* seconds for spamd to digest the lists */

struct out {
	int	 fd;		/* -1: standard output */
	int	 failed;
	size_t	 len;
	char	 buf[65536];
};

static void	out_put(struct out *, const char *, size_t);
static void	out_str(struct out *, const char *);
static void	out_flush(struct out *);
static void	put_msg(struct out *, const char *, const char *);
static void	put_family(struct out *, const struct cidr_list *);
static void	put_list(struct out *, const struct slist *);
static int	cfg_connect(const struct cfgdest *);
static int	cfg_connect_tcp(int);
static int	cfg_connect_unix(const char *);
static int	read_answer(int);

static void
out_flush(struct out *o)
{
	size_t	 off = 0;
	ssize_t	 n;

	if (o->failed || o->len == 0) {
		o->len = 0;
		return;
	}
	if (o->fd == -1) {
		if (fwrite(o->buf, 1, o->len, stdout) != o->len) {
			log_warn("standard output");
			o->failed = 1;
		}
		o->len = 0;
		return;
	}
	while (off < o->len) {
		if ((n = write(o->fd, o->buf + off, o->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("sending to spamd");
			o->failed = 1;
			break;
		}
		off += n;
	}
	o->len = 0;
}

static void
out_put(struct out *o, const char *p, size_t n)
{
	size_t	 k;

	while (n > 0) {
		if (o->len == sizeof(o->buf))
			out_flush(o);
		k = sizeof(o->buf) - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
}

static void
out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/*
 * The message between double quotes: newlines become \n, quotes and
 * backslashes are escaped, other control characters dropped (they
 * would end up in an SMTP reply).  Too long a message is cut.
 */
static void
put_msg(struct out *o, const char *name, const char *msg)
{
	char	 esc[SPAMD_CFG_MSGMAX + 1], two[3];
	size_t	 len = 0, n;
	const char *add;

	for (; *msg != '\0'; msg++) {
		add = two;
		two[1] = two[2] = '\0';
		switch (*msg) {
		case '\n':
			add = "\\n";
			break;
		case '"':
			add = "\\\"";
			break;
		case '\\':
			add = "\\\\";
			break;
		case '\t':
			two[0] = ' ';
			break;
		default:
			if ((unsigned char)*msg < ' ' || *msg == 0x7f)
				continue;
			two[0] = *msg;
			break;
		}
		n = strlen(add);
		if (len + n > SPAMD_CFG_MSGMAX) {
			log_warnx("list %s: message longer than %d bytes, cut",
			    name, SPAMD_CFG_MSGMAX);
			break;
		}
		memcpy(esc + len, add, n);
		len += n;
	}
	out_put(o, "\"", 1);
	out_put(o, esc, len);
	out_put(o, "\"", 1);
}

/* ";inet;N;a/b;..." with the fewest CIDR blocks; nothing if empty. */
static void
put_family(struct out *o, const struct cidr_list *l)
{
	struct cidr_ip	 ip;
	uint8_t		 b[16];
	char		 a[CIDR_STRLEN], num[32];
	size_t		 i;
	int		 bits, n;

	if (l->n == 0)
		return;
	snprintf(num, sizeof(num), ";%s;%zu", l->af == AF_INET ? "inet" :
	    "inet6", cidr_list_nblocks(l));
	out_str(o, num);
	for (i = 0; i < l->n; i++) {
		ip = l->r[i].start;
		do {
			bits = cidr_first_block(l->af, &ip, &l->r[i].end);
			cidr_ip_to_bytes(l->af, &ip, b);
			a[0] = ';';
			if (inet_ntop(l->af, b, a + 1, sizeof(a) - 1) == NULL)
				fatal("inet_ntop");
			n = strlen(a);
			snprintf(a + n, sizeof(a) - n, "/%d", bits);
			out_str(o, a);
		} while (cidr_next_block(l->af, &ip, bits,
		    &l->r[i].end) == 0);
	}
}

static void
put_list(struct out *o, const struct slist *sl)
{
	out_str(o, sl->conf->name);
	out_put(o, ";", 1);
	put_msg(o, sl->conf->name, sl->msg != NULL ? sl->msg : "");
	if (sl->v4.n == 0 && sl->v6.n == 0)
		out_str(o, ";inet;0");
	put_family(o, &sl->v4);
	put_family(o, &sl->v6);
	out_put(o, "\n", 1);
}

static int
cfg_connect(const struct cfgdest *dst)
{
	if (dst->port != 0)
		return cfg_connect_tcp(dst->port);
	return cfg_connect_unix(dst->path);
}

/*
 * The socket's file might have been replaced by anyone able to write
 * its directory; the kernel's record of who called listen() cannot
 * be: spamd's main process, as root, before it dropped privileges.
 */
static int
cfg_connect_unix(const char *path)
{
	struct sockaddr_un	 sun;
	struct ucred		 uc;
	socklen_t		 len = sizeof(uc);
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("spamd's socket %s: longer than %zu bytes", path,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("spamd's socket %s (%s)", path, errno == EACCES ?
		    "spamd-setup must run as root" : "is spamd running?");
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1) {
		log_warn("spamd's socket %s: SO_PEERCRED", path);
		close(fd);
		return -1;
	}
	if (uc.uid != 0) {
		log_warnx("spamd's socket %s: opened by uid %lu (pid %ld), "
		    "not root: not spamd, lists not sent", path,
		    (unsigned long)uc.uid, (long)uc.pid);
		close(fd);
		return -1;
	}
	return fd;
}

static int
cfg_connect_tcp(int cfgport)
{
	struct sockaddr_in	 sin, me;
	int			 fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	/* spamd serves privileged ports only: the one proof of root. */
	if (geteuid() == 0) {
		memset(&me, 0, sizeof(me));
		me.sin_family = AF_INET;
		me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		for (port = RESV_HIGH; port >= RESV_LOW; port--) {
			me.sin_port = htons(port);
			if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0)
				break;
			if (errno != EADDRINUSE) {
				log_warn("bind to port %d", port);
				break;
			}
		}
	} else
		log_warnx("not root: spamd will refuse the lists");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(cfgport);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		log_warn("spamd on 127.0.0.1 port %d (is it running?)",
		    cfgport);
		close(fd);
		return -1;
	}
	return fd;
}

/* spamd's verdict; 0 if everything was applied. */
static int
read_answer(int fd)
{
	struct pollfd	 pfd;
	char		 ans[128];
	size_t		 len = 0;
	ssize_t		 n;
	unsigned	 applied, refused;
	int		 r;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (len < sizeof(ans) - 1) {
		if ((r = poll(&pfd, 1, ANSWER_WAIT * 1000)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return -1;
		}
		if (r == 0) {
			log_warnx("spamd did not answer within %d seconds",
			    ANSWER_WAIT);
			return -1;
		}
		if ((n = read(fd, ans + len, sizeof(ans) - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("reading spamd's answer");
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	ans[len] = '\0';
	if (sscanf(ans, "applied %u refused %u", &applied, &refused) != 2) {
		log_warnx("spamd gave no answer (an old spamd, or it refused "
		    "the connection: see its log)");
		return -1;
	}
	log_debug("spamd: %u lines applied, %u refused", applied, refused);
	if (refused > 0) {
		log_warnx("spamd refused %u line%s: see its log", refused,
		    refused > 1 ? "s" : "");
		return -1;
	}
	return 0;
}

int
cfgsend_lists(const struct cfgdest *dst, struct slist *const *res,
    size_t nres, char *const *names, size_t nnames, int dryrun, int *fdp)
{
	struct out	*o;
	size_t		 i;
	int		 ret = -1;

	if ((o = calloc(1, sizeof(*o))) == NULL) {
		log_warn("calloc");
		return -1;
	}
	o->fd = -1;
	if (!dryrun && (o->fd = cfg_connect(dst)) == -1)
		goto done;
	for (i = 0; i < nres && !o->failed; i++)
		put_list(o, res[i]);
	out_str(o, "!only");
	for (i = 0; i < nnames; i++) {
		out_put(o, ";", 1);
		out_str(o, names[i]);
	}
	out_put(o, "\n", 1);
	out_flush(o);
	if (o->failed)
		goto done;
	if (dryrun) {
		if (fflush(stdout) == EOF) {
			log_warn("standard output");
			goto done;
		}
		ret = 0;
		goto done;
	}
	if (shutdown(o->fd, SHUT_WR) == -1) {
		log_warn("shutdown");
		goto done;
	}
	*fdp = o->fd;
	o->fd = -1;
	ret = 0;
 done:
	if (o->fd != -1)
		close(o->fd);
	free(o);
	return ret;
}

int
cfgsend_wait(int fd)
{
	int	 ret;

	ret = read_answer(fd);
	close(fd);
	return ret;
}
