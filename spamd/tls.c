/*
 * STARTTLS: the certificate, the sessions, the handshakes.
 *
 * The pair is read as root before the chroot.  On SIGHUP the engine,
 * chrooted and holding no directory, asks the keeper (keeper.h) to open
 * the two files again and reads the descriptors it passes.  Sessions
 * hold a reference to the context they started with: a reload changes
 * what the next client gets and drops nobody.
 *
 * Every call is non-blocking: OpenSSL reads and writes the client's
 * socket itself and says which event it waits for.  A session costs
 * tens of kilobytes, so their number is capped (-T); buffers are given
 * back whenever a session has nothing in flight (RELEASE_BUFFERS).
 */
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "keeper.h"
#include "log.h"
#include "tls.h"

struct tls_sess {
	TAILQ_ENTRY(tls_sess)	 hsq;	/* handshakes, by deadline */
	SSL			*ssl;
	void			*owner;
	int64_t			 due;	/* ms: end of the handshake */
	int			 inhs;	/* on hsq */
	char			 ip[INET6_ADDRSTRLEN];
};

/* One file of the pair, and its descriptor while it is read. */
struct tls_file {
	const char	*path;		/* as given */
	int		 fd;
};

static TAILQ_HEAD(, tls_sess) hsq = TAILQ_HEAD_INITIALIZER(hsq);
static SSL_CTX		*ctx;		/* NULL: no TLS */
static struct tls_file	 certf = { NULL, -1 };
static struct tls_file	 keyf = { NULL, -1 };
static int		 ntls, maxtls;

static int	no_passphrase(char *, int, int, void *);
static const char *ssl_error(char *, size_t);
static int	file_read(struct tls_file *, char **, size_t *, char *,
		    size_t);
static BIO	*mem_bio(const char *, size_t, const char *, char *, size_t);
static int	load_cert(SSL_CTX *, const char *, size_t, char *, size_t);
static int	load_key(SSL_CTX *, const char *, size_t, char *, size_t);
static SSL_CTX	*ctx_load(char *, size_t);
static void	hs_remove(struct tls_sess *);
static int	sess_error(struct tls_sess *, int, const char *);

/* An encrypted key would make OpenSSL prompt on the terminal. */
static int
no_passphrase(char *buf, int size, int rw, void *arg)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)arg;
	return -1;
}

/* The first error OpenSSL queued, as text; the queue is emptied. */
static const char *
ssl_error(char *buf, size_t len)
{
	unsigned long	 e;

	if ((e = ERR_get_error()) == 0)
		strlcpy(buf, "unknown error", len);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/*
 * The whole file, bounded, into a fresh buffer the caller wipes; from
 * f->fd (which it closes) if the keeper opened it, else by its path.
 */
static int
file_read(struct tls_file *f, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = f->fd) != -1)
		f->fd = -1;
	else if ((fd = open(f->path, O_RDONLY | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TLS_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", f->path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "larger than 1 MB");
		close(fd);
		return -1;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		close(fd);
		return -1;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", f->path,
			    n == 0 ? "changed while read" : strerror(errno));
			explicit_bzero(buf, len);
			free(buf);
			close(fd);
			return -1;
		}
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* A read-only BIO over a file's contents. */
static BIO *
mem_bio(const char *buf, size_t len, const char *path, char *err,
    size_t errlen)
{
	char	 e[256];
	BIO	*bio;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		snprintf(err, errlen, "%s: %s", path, ssl_error(e, sizeof(e)));
	return bio;
}

/* The certificate, then the chain that follows it in the same file. */
static int
load_cert(SSL_CTX *c, const char *buf, size_t len, char *err,
    size_t errlen)
{
	char	 e[256];
	BIO	*bio;
	X509	*x;
	int	 ok = 0;

	if ((bio = mem_bio(buf, len, certf.path, err, errlen)) == NULL)
		return -1;
	if ((x = PEM_read_bio_X509_AUX(bio, NULL, no_passphrase, NULL)) ==
	    NULL || SSL_CTX_use_certificate(c, x) != 1) {
		snprintf(err, errlen, "%s: no certificate: %s", certf.path,
		    ssl_error(e, sizeof(e)));
		goto done;
	}
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) !=
	    NULL) {
		if (SSL_CTX_add0_chain_cert(c, x) != 1) {
			X509_free(x);
			snprintf(err, errlen, "%s: chain: %s", certf.path,
			    ssl_error(e, sizeof(e)));
			goto done;
		}
	}
	/* The end of the file is "no start line"; anything else is bad. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		snprintf(err, errlen, "%s: chain: %s", certf.path,
		    ssl_error(e, sizeof(e)));
		goto done;
	}
	ERR_clear_error();
	ok = 1;
 done:
	BIO_free(bio);
	return ok ? 0 : -1;
}

static int
load_key(SSL_CTX *c, const char *buf, size_t len, char *err, size_t errlen)
{
	char		 e[256];
	BIO		*bio;
	EVP_PKEY	*k = NULL;
	int		 ok = 0;

	if ((bio = mem_bio(buf, len, keyf.path, err, errlen)) == NULL)
		return -1;
	if ((k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) ==
	    NULL || SSL_CTX_use_PrivateKey(c, k) != 1)
		snprintf(err, errlen, "%s: no private key (or one with a "
		    "passphrase): %s", keyf.path, ssl_error(e, sizeof(e)));
	else if (SSL_CTX_check_private_key(c) != 1)
		snprintf(err, errlen, "%s does not match the certificate "
		    "%s: %s", keyf.path, certf.path, ssl_error(e, sizeof(e)));
	else
		ok = 1;
	EVP_PKEY_free(k);
	BIO_free(bio);
	return ok ? 0 : -1;
}

/*
 * A context with the pair read afresh.  TLS 1.2 and up, OpenSSL's
 * default ciphers; no tickets and no session cache (nothing to key or
 * to keep: a sender resumes nothing at a tarpit); no renegotiation.
 */
static SSL_CTX *
ctx_load(char *err, size_t errlen)
{
	SSL_CTX	*c;
	char	*cbuf = NULL, *kbuf = NULL, e[256];
	size_t	 clen = 0, klen = 0;
	int	 ok = 0;

	if ((c = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", ssl_error(e,
		    sizeof(e)));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_num_tickets(c, 0) != 1) {
		snprintf(err, errlen, "TLS settings: %s", ssl_error(e,
		    sizeof(e)));
		goto done;
	}
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_default_passwd_cb(c, no_passphrase);
	if (file_read(&certf, &cbuf, &clen, err, errlen) == -1 ||
	    file_read(&keyf, &kbuf, &klen, err, errlen) == -1 ||
	    load_cert(c, cbuf, clen, err, errlen) == -1 ||
	    load_key(c, kbuf, klen, err, errlen) == -1)
		goto done;
	ok = 1;
 done:
	if (kbuf != NULL) {
		explicit_bzero(kbuf, klen);
		free(kbuf);
	}
	free(cbuf);
	if (!ok) {
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

/* What the log says about a pair: subject and end of validity. */
static void
log_pair(const char *what)
{
	X509	*x;
	BIO	*bio;
	char	 subj[256], until[64];
	int	 n = 0;

	subj[0] = until[0] = '\0';
	if ((x = SSL_CTX_get0_certificate(ctx)) != NULL) {
		X509_NAME_oneline(X509_get_subject_name(x), subj,
		    sizeof(subj));
		if ((bio = BIO_new(BIO_s_mem())) != NULL) {
			if (ASN1_TIME_print(bio, X509_get0_notAfter(x)) == 1)
				n = BIO_read(bio, until, sizeof(until) - 1);
			BIO_free(bio);
		}
		until[n > 0 ? n : 0] = '\0';
	}
	log_info("TLS: %s %s (%s, valid until %s), at most %d sessions",
	    what, certf.path, subj, until, maxtls);
}

int
tls_init(const char *cert, const char *key, int max, char *err,
    size_t errlen)
{
	char	 e[256];

	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
		snprintf(err, errlen, "OpenSSL: %s", ssl_error(e, sizeof(e)));
		return -1;
	}
	certf.path = cert;
	keyf.path = key;
	maxtls = max;
	if ((ctx = ctx_load(err, errlen)) == NULL)
		return -1;
	log_pair("certificate");
	return 0;
}

void
tls_forget(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}

void
tls_reload(void)
{
	SSL_CTX	*c;
	char	 err[512];

	if (ctx == NULL)
		return;
	if (keeper_tls(&certf.fd, &keyf.fd, err, sizeof(err)) == -1 ||
	    (c = ctx_load(err, sizeof(err))) == NULL) {
		/* Either may still be open if the other failed. */
		if (certf.fd != -1)
			(void)close(certf.fd);
		if (keyf.fd != -1)
			(void)close(keyf.fd);
		certf.fd = keyf.fd = -1;
		log_warnx("TLS: reload failed, still serving the old "
		    "certificate: %s", err);
		return;
	}
	/* Sessions hold their own reference to the old context. */
	SSL_CTX_free(ctx);
	ctx = c;
	log_pair("reloaded");
}

int
tls_can_offer(void)
{
	return ctx != NULL && ntls < maxtls;
}

struct tls_sess *
tls_sess_new(int fd, const char *ip, void *owner, int64_t now)
{
	struct tls_sess	*t;
	char		 e[256];

	if (!tls_can_offer()) {
		log_warnx("%s: TLS: no room for a session", ip);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("%s: TLS session", ip);
		return NULL;
	}
	if ((t->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(t->ssl, fd) != 1) {
		log_warnx("%s: TLS session: %s", ip, ssl_error(e, sizeof(e)));
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	SSL_set_accept_state(t->ssl);
	strlcpy(t->ip, ip, sizeof(t->ip));
	t->owner = owner;
	t->due = now + TLS_HANDSHAKE_MS;
	/* Same timeout for all: appending keeps the queue sorted. */
	TAILQ_INSERT_TAIL(&hsq, t, hsq);
	t->inhs = 1;
	ntls++;
	return t;
}

static void
hs_remove(struct tls_sess *t)
{
	if (t->inhs) {
		TAILQ_REMOVE(&hsq, t, hsq);
		t->inhs = 0;
	}
}

void
tls_sess_free(struct tls_sess *t)
{
	if (t == NULL)
		return;
	hs_remove(t);
	/* close_notify, once, if the socket takes it; never wait. */
	if (SSL_is_init_finished(t->ssl))
		(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
	SSL_free(t->ssl);
	free(t);
	ntls--;
}

/* Log why a call failed and set errno; -1. */
static int
sess_error(struct tls_sess *t, int r, const char *what)
{
	char	 e[256];
	int	 saved = errno;

	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_SYSCALL:
		if (saved == 0) {
			ERR_clear_error();
			log_info("%s: TLS %s: connection closed", t->ip, what);
			saved = ECONNRESET;
		} else
			log_info("%s: TLS %s: %s", t->ip, what,
			    strerror(saved));
		ERR_clear_error();
		break;
	case SSL_ERROR_ZERO_RETURN:
		log_info("%s: TLS %s: closed by peer", t->ip, what);
		saved = ECONNRESET;
		break;
	default:
		log_info("%s: TLS %s: %s", t->ip, what, ssl_error(e,
		    sizeof(e)));
		saved = EPROTO;
	}
	errno = saved;
	return -1;
}

int
tls_handshake(struct tls_sess *t, uint32_t *ev)
{
	int	 r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(t->ssl)) == 1) {
		hs_remove(t);
		log_info("%s: TLS %s %s", t->ip, SSL_get_version(t->ssl),
		    SSL_get_cipher_name(t->ssl));
		return 1;
	}
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*ev = EPOLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*ev = EPOLLOUT;
		return 0;
	}
	hs_remove(t);
	return sess_error(t, r, "handshake failed");
}

ssize_t
tls_read(struct tls_sess *t, void *buf, size_t len, uint32_t *ev)
{
	int	 r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) >
	    0)
		return r;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
		*ev = EPOLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*ev = EPOLLOUT;
		errno = EAGAIN;
		return -1;
	}
	return sess_error(t, r, "read");
}

ssize_t
tls_write(struct tls_sess *t, const void *buf, size_t len, uint32_t *ev)
{
	int	 r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) >
	    0)
		return r;
	/*
	 * Without renegotiation a write never waits for input; if it did,
	 * waiting for EPOLLOUT would spin, so that is an error too.
	 */
	if (SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_WRITE) {
		*ev = EPOLLOUT;
		errno = EAGAIN;
		return -1;
	}
	return sess_error(t, r, "write");
}

int
tls_pending(const struct tls_sess *t)
{
	return SSL_pending(t->ssl) > 0;
}

int64_t
tls_hs_due(void)
{
	struct tls_sess	*t;

	if ((t = TAILQ_FIRST(&hsq)) == NULL)
		return INT64_MAX;
	return t->due;
}

void *
tls_hs_expired(int64_t now)
{
	struct tls_sess	*t;

	if ((t = TAILQ_FIRST(&hsq)) == NULL || t->due > now)
		return NULL;
	hs_remove(t);
	log_info("%s: TLS handshake timed out after %d s", t->ip,
	    TLS_HANDSHAKE_MS / 1000);
	return t->owner;
}
