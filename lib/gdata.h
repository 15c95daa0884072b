/*
 * The greylist record: what the database stores under every key, and
 * its on-disk codec.  Records are encoded field by field in network byte
 * order behind a version byte, never as a struct dump, and are accepted
 * on read only at their exact size.
 *
 * Keys are byte strings without a terminating NUL, as in OpenBSD:
 *	GREY		"ip\nhelo\nfrom\nto"
 *	WHITE, TRAPPED	"ip"			(pcount >= 0, pcount == -1)
 *	SPAMTRAP	"user@domain"		(pcount == -2, lower case)
 * Keys starting with a NUL byte are the suite's own metadata and are
 * never listed.  The key builders and parsers are here too, so that
 * every program spells a key the same way.
 *
 * Used by: spamd, spamdb, spamlogd.
 */
#ifndef SPAMD_GDATA_H
#define SPAMD_GDATA_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define GD_VERSION	1
#define GD_RECSIZE	33	/* version + 3 x int64 + 2 x int32 */

#define GD_TRAPPED	-1	/* pcount of a TRAPPED address */
#define GD_SPAMTRAP	-2	/* pcount of a SPAMTRAP address */

/* Largest key: ip, helo, from and to with separators. */
#define GD_FIELD_MAX	512	/* buffer for helo, from or to, with NUL */
#define GD_KEY_MAX	(64 + 3 * GD_FIELD_MAX)

struct gdata {
	int64_t	first;		/* when the entry was first seen */
	int64_t	pass;		/* when it passed (or will pass) */
	int64_t	expire;		/* when it goes away */
	int32_t	bcount;		/* times blocked */
	int32_t	pcount;		/* times passed; GD_TRAPPED; GD_SPAMTRAP */
};

enum gd_type {
	GD_GREY,
	GD_WHITE,
	GD_TRAPPED_T,
	GD_SPAMTRAP_T,
	GD_META
};

void		gd_encode(const struct gdata *, uint8_t buf[GD_RECSIZE]);
/* 0 on success, -1 when len or version is wrong. */
int		gd_decode(const void *buf, size_t len, struct gdata *);
/* What kind of entry a key and its record are. */
enum gd_type	gd_type(const char *key, size_t keylen, const struct gdata *);

/*
 * The one text form of a tuple's helo, from and to, and of a spamtrap,
 * in keys: bytes 0x21-0x7e stand for themselves, except '|' (spamdb's
 * field separator) and '\\'; every other byte is a \ooo octal escape,
 * as vis(3) makes it.  So no key holds a control byte, a blank or a
 * bar, ASCII stays as it was, and every path that brings text in (the
 * SMTP dialogue, a peer's GREY, spamdb's arguments and imports, the
 * allowed domains) turns it into this form here; the sync wire, as in
 * OpenBSD, carries the raw bytes (gd_unvis).
 */
/*
 * n raw bytes of src in that form into dst (len bytes, NUL added);
 * what does not fit is cut at a whole escape.  Returns the length.
 */
size_t		gd_vis(char *dst, size_t len, const char *src, size_t n);
/*
 * The raw bytes of a field in that form: its length, or -1 if it does
 * not fit or a byte would be NUL or a newline (neither can travel in a
 * GREY entry).  A '\\' that starts no \ooo stands for itself.
 */
int		gd_unvis(char *dst, size_t len, const char *src);
/*
 * Text an admin wrote, raw or escaped as spamdb lists it (a \ooo is
 * read as its byte, any other byte as itself), in that form: its
 * length, or -1 if it does not fit.
 */
int		gd_canon(char *dst, size_t len, const char *src, size_t n);
/*
 * Whether s (slen bytes, that form) ends in suf, ignoring ASCII case,
 * at a whole byte: "51.example" is no suffix of "a@\251.example".
 */
int		gd_suffix(const char *s, size_t slen, const char *suf,
		    size_t suflen);

/*
 * Build the key "ip\nhelo\nfrom\nto", ip in canonical text; returns
 * its length, or -1 if it does not fit or ip is not an address.
 */
int		grey_key(char *buf, size_t len, const struct addr *ip,
		    const char *helo, const char *from, const char *to);
/*
 * grey_key() of fields an admin wrote (gd_canon): NULL, or what is
 * wrong with them.
 */
const char	*gd_textkey(char *key, size_t len, const struct addr *ip,
		    const char *helo, const char *from, const char *to);
/*
 * A GREY key from a tuple as the listing shows it, "ip|helo|from|to"
 * (only from may hold a raw bar).  NULL, or what is wrong with arg.
 */
const char	*gd_tuplekey(char *key, size_t len, const char *arg);
/*
 * A recipient as the client sent it ("<User@Example.ORG>") in the form
 * SPAMTRAP keys take: angle brackets dropped, lower case
 * ("user@example.org").  Returns its length, or -1 if empty or too
 * long.  Any recipient has one, so -A can judge its domain.
 */
int		grey_trapkey(char *buf, size_t len, const char *to);
/*
 * The SPAMTRAP key of inlen bytes of in, raw or escaped (gd_canon):
 * grey_trapkey's form, and it must be an email address without blanks
 * or control characters (a NUL among them), shorter than GD_FIELD_MAX
 * in that form.  NULL, or what is wrong.
 */
const char	*gd_trapkey(char *key, size_t len, const char *in,
		    size_t inlen);

#endif
