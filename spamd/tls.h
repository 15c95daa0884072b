/*
 * STARTTLS for the SMTP engine (-C, -K): OpenSSL's libssl on the
 * engine's non-blocking sockets.  smtp.c holds the dialogue (EHLO offers
 * STARTTLS, STARTTLS answers 220 and starts over); this file holds the
 * certificate, the sessions and their handshakes; engine.c only calls
 * in here where it would otherwise read(), send() or close().
 */
#ifndef SPAMD_TLS_H
#define SPAMD_TLS_H

#include <sys/types.h>

#include <stdint.h>

#define TLS_MAXDEFAULT	1000	/* default -T: concurrent TLS sessions */
#define TLS_HANDSHAKE_MS 15000	/* a handshake longer than this ends */
#define TLS_FILE_MAX	(1024 * 1024)	/* largest certificate or key file */

struct tls_sess;

/*
 * Before privileges are dropped: load the pair and keep descriptors of
 * the directories that hold them, for tls_reload() inside the chroot.
 * maxtls caps concurrent sessions.  -1 with a message in err.
 */
int	tls_init(const char *cert, const char *key, int maxtls, char *err,
	    size_t errlen);
/* In a process that does no TLS (the greylister): close what init kept. */
void	tls_forget(void);
/* SIGHUP: read the pair again; a bad one keeps the old, with an error. */
void	tls_reload(void);

/* TLS is configured and the cap has room: STARTTLS may be offered. */
int	tls_can_offer(void);

/*
 * A session on fd, after the 220 to STARTTLS; owner is handed back by
 * tls_hs_expired().  NULL (logged) on failure.
 */
struct tls_sess *tls_sess_new(int fd, const char *ip, void *owner,
	    int64_t now);
/* Send close_notify if it can go at once, and free. NULL is fine. */
void	tls_sess_free(struct tls_sess *);

/*
 * Drive the handshake: 1 done, 0 in progress (*ev: the epoll events to
 * wait for), -1 failed (logged).
 */
int	tls_handshake(struct tls_sess *, uint32_t *ev);

/*
 * As read(2) and send(2) on a non-blocking socket: -1 with errno
 * EAGAIN means wait for *ev; other errors are logged.  Writes are
 * partial: one byte is one record (the stutter).
 */
ssize_t	tls_read(struct tls_sess *, void *, size_t, uint32_t *ev);
ssize_t	tls_write(struct tls_sess *, const void *, size_t, uint32_t *ev);
/* Decrypted bytes already read from the socket: epoll will not say. */
int	tls_pending(const struct tls_sess *);

/* Handshake deadlines: the earliest (INT64_MAX: none), and the owner
 * of one that has passed (logged), or NULL. */
int64_t	tls_hs_due(void);
void	*tls_hs_expired(int64_t now);

#endif
