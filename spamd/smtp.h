/*
 * The SMTP dialogue of one client, as a state machine that does no I/O:
 * the engine (engine.c) puts the bytes it reads into the session's input
 * buffer and calls smtp_next(), which consumes complete lines and says
 * what to do (send a reply, record a tuple, close).  The session is
 * allocated only when a client first sends something, so that tarpitted
 * clients that never talk cost nothing but their struct con.
 */
#ifndef SPAMD_SMTP_H
#define SPAMD_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gdata.h"
#include "greymsg.h"

/*
 * A command line, CRLF included.  RFC 5321 allows 512 for commands and
 * 1000 for text lines; longer input is refused (or, in a message,
 * truncated) and the rest of the line is thrown away.
 */
#define SMTP_LINE_MAX	1024
/* Longest reply: only blacklist messages come near it. */
#define SMTP_REPLY_MAX	4096
/* Banner time stamp: ctime(3) text without its newline, then CRLF. */
#define SMTP_TIMELEN	26
/* Bad or useless commands before the final reply. */
#define MAXBADCMD	20
#define MAXBODYLINES	10	/* body lines read from a blacklisted sender */

enum smtp_state {
	SMTP_FIRST,	/* no command yet: HELO/EHLO allowed */
	SMTP_MAIL,	/* greeted (or reset): waiting for MAIL */
	SMTP_RCPT,	/* MAIL or RCPT seen: waiting for (another) RCPT */
	SMTP_MSG,	/* 354 sent: reading the message */
	SMTP_DONE	/* final reply or 221 given: nothing more is read */
};

/* smtp_next() results, or'ed; -1 when out of memory. */
#define SMTP_R_REPLY	0x01	/* a reply is in out.buf */
#define SMTP_R_TUPLE	0x02	/* a RCPT to greylist: smtp_tuple() */
#define SMTP_R_WINDOW	0x04	/* DATA: shrink the rcv window */
#define SMTP_R_CLOSE	0x08	/* close once the reply is written */
#define SMTP_R_STARTTLS	0x10	/* TLS handshake once the reply is written */

/* Session flags. */
#define SMTP_SF_BODY	0x01	/* past the header of the message */
#define SMTP_SF_DISCARD	0x02	/* dropping a too long line */
#define SMTP_SF_SENT	0x04	/* lastrcpt went out with this helo, from */
/*
 * STARTTLS (tls.c).  The engine sets or clears TLSOK before every
 * smtp_next(): TLS is configured, the client is on no list and the cap
 * on TLS sessions has room.  Everything else is plain input lines, so a
 * harness that sets TLSOK reaches the whole STARTTLS dialogue.
 */
#define SMTP_SF_TLSOK	0x08	/* STARTTLS may be offered now */
#define SMTP_SF_OFFERED	0x10	/* EHLO offered STARTTLS */
#define SMTP_SF_TLS	0x20	/* STARTTLS accepted: never again */

/*
 * What the dialogue needs of spamd's settings.  The engine fills one at
 * start and every session points at it; the tests and the fuzzer fill
 * their own.
 */
struct smtp_conf {
	const char	*hostname;	/* -h: in replies and the banner */
	const char	*name;		/* -n: in the banner */
	int		 nreply;	/* -4, -5: code of blacklist replies */
	int		 greylist;	/* 0 with -b: no tuples, DATA goes on */
	int		 maxrcpt;	/* -L rcpt= */
	int		 verbose;	/* -v: log tuples and message headers */
};

/* A reply being built or sent: grows up to SMTP_REPLY_MAX. */
struct smtp_reply {
	char	*buf;
	size_t	 len;
	size_t	 size;
};

/*
 * What the blacklist lookup found for a client: the message of every
 * list it is on, in list order, and the lists' tags for the log.  A
 * message is the list's text: a newline (real, or the two characters
 * \ and n) starts a new reply line, \" and \\ are quotes, %A is the
 * client's address and %% a percent sign.  The blacklist store owns it;
 * it must outlive the connections that point at it.
 */
struct bl_hit {
	const char *const	*msgs;
	size_t			 nmsgs;
	const char		*tags;		/* "nixspam spews" */
};

struct smtp_sess {
	const struct smtp_conf	*conf;
	struct smtp_reply	 out;
	size_t			 ilen;		/* bytes in ibuf */
	uint8_t			 state;	/* enum smtp_state */
	uint8_t			 flags;	/* SMTP_SF_* */
	uint8_t			 badcmd;	/* bad or useless commands so far */
	uint8_t			 bodylines; /* message body lines read */
	char			 helo[GD_FIELD_MAX];
	char			 from[GD_FIELD_MAX];
	char			 rcpt[GD_FIELD_MAX];
	char			 lastrcpt[GD_FIELD_MAX]; /* last tuple sent */
	unsigned int		 nrcpt;		/* RCPTs accepted */
	unsigned int		 rcptover;	/* ... refused at -L rcpt= */
	/* One more byte than is ever read, for the terminating NUL. */
	char			 ibuf[SMTP_LINE_MAX + 1];
};

/* conf must outlive the session. */
struct smtp_sess *smtp_sess_new(const struct smtp_conf *);
void	smtp_sess_free(struct smtp_sess *);

/* Room left in the input buffer; the engine reads into ibuf + ilen. */
size_t	smtp_room(const struct smtp_sess *);
/* Copy as much of buf as fits into the input buffer; returns that. */
size_t	smtp_feed(struct smtp_sess *, const void *buf, size_t len);

/*
 * Consume buffered input up to the next reply.  ip is the client's
 * address as text; bl is what the blacklist lookup found (NULL: on no
 * list).  Returns SMTP_R_* flags (0: need more input) or -1 if a reply
 * could not be allocated.  After a reply, call again only once it has
 * been sent: pipelined commands wait their turn in the buffer.
 */
int	smtp_next(struct smtp_sess *, const char *ip,
	    const struct bl_hit *bl);

/*
 * The tuple of the last accepted RCPT from ip, which connected to dst
 * (af 0: unknown).
 */
void	smtp_tuple(const struct smtp_sess *, const struct addr *ip,
	    const struct addr *dst, struct grey_tuple *);

/* The final reply: 451, or the blacklist text when bl is not NULL. */
int	smtp_final(const struct smtp_conf *, struct smtp_reply *,
	    const char *ip, const struct bl_hit *);

/*
 * Render blacklist messages as one SMTP reply of code `code' (450 or
 * 550): every line "code-text\r\n" but the last, "code text\r\n".
 * 0, or -1 if out of memory.  Text beyond SMTP_REPLY_MAX is cut.
 */
int	smtp_blreply(struct smtp_reply *, int code, const char *ip,
	    const char *const *msgs, size_t nmsgs);

/* "220 host ESMTP name; " into buf; its length, or -1 if too long. */
int	smtp_banner_prefix(const struct smtp_conf *, char *buf, size_t len);
/* The banner's per-connection tail: "Sat Nov 22 11:20:00 2025\r\n". */
void	smtp_banner_time(char tail[SMTP_TIMELEN], time_t);

/*
 * Argument extraction, exposed for the tests.  The argument is stored
 * in the key form of gdata.h (gd_vis): nothing a client sends can put a
 * control byte into the database, a log line or an admin's terminal.
 */
void	smtp_arg_helo(char *dst, size_t len, const char *line);
void	smtp_arg_addr(char *dst, size_t len, const char *line);

#endif
