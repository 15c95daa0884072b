/*
 * The day-one whitelist's reader of Postfix logs (maillog.c): which
 * clients delivered mail.  A client counts when smtpd logged
 * "QID: client=name[addr]" and a delivery agent then logged
 * "QID: to=<...>, ..., status=sent" for the same queue id of the same
 * host and Postfix instance; a client that was rejected, only
 * connected, or whose message was refused after its queue id was given
 * (a header check, a milter) or bounced or stayed deferred, does not.
 *
 * The log is outside input: lines are parsed field by field, what does
 * not parse is counted and skipped, and memory is bounded whatever the
 * log holds (ML_QUEUE_MAX queue ids awaiting delivery, the oldest
 * forgotten first; ML_CLIENTS_MAX clients).  No database here: the
 * caller (dayone.c) writes what it finds.
 */
#ifndef SPAMDB_MAILLOG_H
#define SPAMDB_MAILLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"

#define ML_LINE_MAX	8192	/* longest line read; longer ones skipped */
#define ML_QID_MAX	32	/* queue id with its NUL */
#define ML_QUEUE_MAX	65536	/* queue ids awaiting their delivery */
#define ML_CLIENTS_MAX	262144	/* delivering clients remembered */

enum ml_kind {
	ML_OTHER,	/* a line of no interest */
	ML_BAD,		/* not a syslog line, or a Postfix line that lies */
	ML_CLIENT,	/* smtpd: QID: client=name[addr] */
	ML_SENT		/* QID: to=<...>, ..., status=sent */
};

/* What one line says. */
struct ml_rec {
	enum ml_kind	 kind;
	time_t		 when;
	uint64_t	 src;		/* hash of the host and instance */
	char		 qid[ML_QID_MAX];
	struct addr	 addr;		/* ML_CLIENT */
};

/* A client that delivered mail. */
struct ml_client {
	struct addr	 addr;
	time_t		 first, last;	/* its first and last delivery */
	unsigned long	 msgs;		/* messages delivered */
	int32_t		 next;		/* hash chain */
};

struct ml_stats {
	unsigned long	 lines;		/* read */
	unsigned long	 bad;		/* skipped as malformed */
	unsigned long	 clients;	/* client= lines */
	unsigned long	 local;		/* ... of loopback clients, ignored */
	unsigned long	 sent;		/* messages delivered from a client */
	unsigned long	 old;		/* ... before the window */
	unsigned long	 forgotten;	/* queue ids dropped unresolved */
	unsigned long	 undelivered;	/* ... and those not resolved yet */
	unsigned long	 over;		/* deliveries of clients past the cap */
};

struct maillog;

/*
 * Parse one line (NUL-terminated, no newline).  now dates a
 * traditional syslog time, which has no year: it is taken to be the
 * latest such time not more than a day after now.
 */
enum ml_kind	 ml_parse(const char *line, time_t now, struct ml_rec *);

/* A reader counting deliveries at since or later. */
struct maillog	*ml_new(time_t now, time_t since);
void		 ml_line(struct maillog *, const char *line);
size_t		 ml_nclients(const struct maillog *);
const struct ml_client *ml_client(const struct maillog *, size_t);
const struct ml_stats *ml_stats(struct maillog *);
/* Malformed lines so far. */
unsigned long	 ml_bad(const struct maillog *);
void		 ml_free(struct maillog *);

#endif
