/*
 * The parser of the configuration socket's lines (cfgproto.h).  It does
 * no I/O: cfgsock.c feeds it the bytes it reads, and it installs each
 * list (blacklist.c) when the list's newline arrives.  Nothing is kept
 * beyond one field: ranges go straight into a staging list, so the
 * caller's buffer stays small however large the lists.  A malformed
 * line is refused, logged and skipped; the lines around it still count.
 */
#ifndef SPAMD_CFGPARSE_H
#define SPAMD_CFGPARSE_H

#include <stddef.h>

#include "blacklist.h"

#define CFG_TOKMAX	128	/* a tag, a family, a count or an address */
#define CFG_LOGMAX	10	/* refused lines logged per connection */

enum cfg_pstate {
	PS_TAG,		/* a line's first field */
	PS_MSG,		/* after "tag;": '"', or the newline */
	PS_AFTERMSG,	/* after the closing quote: ';' or newline */
	PS_AF,		/* "inet", "inet6", or the end */
	PS_COUNT,	/* how many addresses follow */
	PS_ADDR,	/* address/bits */
	PS_ONLY,	/* the tags of "!only" */
	PS_SKIP		/* a refused line, up to its newline */
};

struct cfgparse {
	enum cfg_pstate	 st;
	unsigned long	 line;
	unsigned long	 left;		/* addresses still announced */
	unsigned long	 count;		/* ... out of */
	int		 af;
	int		 seen;		/* families given: 1 v4, 2 v6 */
	unsigned	 applied;
	unsigned	 refused;
	unsigned	 removed;	/* lists "!only" removed */
	struct bl_stage	 stage;
	char		*only[BL_MAXLISTS];
	size_t		 nonly;
	char		 tag[BL_TAGMAX + 1];
	char		 msg[BL_MSGMAX + 1];
	char		 why[256];	/* why the last line was refused */
};

/* Start a connection: line 1, nothing applied or refused. */
void	cfgparse_init(struct cfgparse *);
/*
 * Consume what can be consumed of buf[0..len); returns how much.  The
 * rest is an unfinished field, to be offered again with what follows.
 */
size_t	cfgparse_feed(struct cfgparse *, const char *buf, size_t len);
/*
 * The client has finished sending; rest bytes were left unconsumed.
 * An unfinished line is refused.
 */
void	cfgparse_end(struct cfgparse *, size_t rest);
/* Drop the line being received and the tags "!only" gathered. */
void	cfgparse_clear(struct cfgparse *);

#endif
