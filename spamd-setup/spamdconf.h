/*
 * spamd.conf, the list of blacklists and whitelists spamd-setup loads,
 * in the capability-file format of getcap(3), as OpenBSD's:
 *
 *	all:\
 *		:nixspam:override:
 *	nixspam:\
 *		:black:\
 *		:msg="Your address %A is in the nixspam list\n\
 *		See http://www.heise.de/ix/nixspam/dnsbl_en/ for details":\
 *		:method=https:\
 *		:file=www.openbsd.org/spamd/nixspam.gz:
 *
 * A record is a logical line: a backslash at the end of a line joins the
 * next one, whose leading blanks are dropped.  Fields are separated by
 * colons (not inside double quotes); the first field is the record's
 * names, separated by '|'.  String values take getcap's escapes.  Lines
 * starting with '#' outside a record are comments.  Errors are reported
 * as "file:line: what is wrong".
 */
#ifndef SPAMD_SPAMDCONF_H
#define SPAMD_SPAMDCONF_H

#include <stddef.h>

#include "cfgproto.h"

#define SPAMDCONF_PATH	"/etc/mail/spamd.conf"
/* A configuration file larger than this is refused. */
#define SPAMDCONF_MAXSIZE	(1024 * 1024)
/* Longest list name: names are the tags spamd logs and matches. */
#define SPAMDCONF_NAMEMAX	SPAMD_CFG_TAGMAX

enum sdconf_type {
	SDCONF_BLACK = 1,
	SDCONF_WHITE
};

enum sdconf_method {
	SDCONF_FILE,
	SDCONF_HTTP,
	SDCONF_HTTPS,
	SDCONF_FTP,
	SDCONF_EXEC
};

struct sdconf_list {
	char			*name;
	enum sdconf_type	 type;
	enum sdconf_method	 method;
	char			*file;	/* path, URL without scheme, command */
	char			*msg;	/* black: the text, or NULL */
	char			*msgfile; /* black: file with the text, or NULL */
	int			 line;	/* where its record starts */
};

struct sdconf {
	struct sdconf_list	*lists;	/* each once, in order of first use */
	size_t			 nlists;
	size_t			*order;	/* the `all' entry: indexes in lists */
	size_t			 norder;
};

/*
 * Read and check a file; `name' (the path, or a label) prefixes error
 * messages.  0, or -1 with "name:line: reason" in err and *sc empty.
 */
int	sdconf_load(const char *path, struct sdconf *, char *err,
	    size_t errlen);
int	sdconf_parse(const char *name, const char *buf, size_t len,
	    struct sdconf *, char *err, size_t errlen);
void	sdconf_free(struct sdconf *);
const char *sdconf_method_name(enum sdconf_method);

#endif
