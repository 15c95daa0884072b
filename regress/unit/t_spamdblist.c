/*
 * spamdb's listing (spamdb/list.c): one record a line of printable
 * ASCII, whatever a key holds.  Keys in the key form (gdata.h) come out
 * byte for byte, plain ASCII as OpenBSD's spamdb prints it; raw bytes a
 * peer or an older version stored (UTF-8, '|', control bytes) come out
 * escaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdata.h"
#include "spamdb.h"
#include "tap.h"

volatile sig_atomic_t	spamdb_quit;

/* The listing of one entry, in a static buffer. */
static const char *
line(const char *key, int32_t pcount)
{
	static char	 out[4 * GD_KEY_MAX + 128];
	struct gdata	 gd = { 1, 2, 3, 4, pcount };
	FILE		*fp;

	if ((fp = fmemopen(out, sizeof(out), "w")) == NULL) {
		perror("fmemopen");
		exit(1);
	}
	spamdb_print(fp, key, strlen(key), &gd);
	fclose(fp);
	return out;
}

int
main(void)
{
	const char	*s;

	s = line("192.0.2.1\nmx.example.net\n<a@example.net>\n<b@example.org>",
	    0);
	ok(strcmp(s, "GREY|192.0.2.1|mx.example.net|<a@example.net>|"
	    "<b@example.org>|1|2|3|4|0\n") == 0,
	    "plain ASCII tuple: OpenBSD's line, byte for byte");
	s = line("192.0.2.1\nh\\303\\251\n<j\\303\\251\\174x@b>\n<c@d>", 0);
	ok(strcmp(s, "GREY|192.0.2.1|h\\303\\251|<j\\303\\251\\174x@b>|"
	    "<c@d>|1|2|3|4|0\n") == 0,
	    "a tuple in the key form: as it is");
	s = line("192.0.2.1\nh\x01\xc3\xa9\n<j\xc3\xa9|x@b>\n<c@d\n>", 0);
	ok(strcmp(s, "GREY|192.0.2.1|h\\001\\303\\251|<j\\303\\251\\174x@b>|"
	    "<c@d\\012>|1|2|3|4|0\n") == 0,
	    "raw UTF-8, a bar, control bytes: escaped, one line");
	s = line("tr\xc3\xa9p@b|c.example", GD_SPAMTRAP);
	ok(strcmp(s, "SPAMTRAP|tr\\303\\251p@b\\174c.example\n") == 0,
	    "a raw spamtrap: escaped");
	s = line("trap@example.org", GD_SPAMTRAP);
	ok(strcmp(s, "SPAMTRAP|trap@example.org\n") == 0,
	    "a plain spamtrap: as OpenBSD prints it");
	return tap_done();
}
