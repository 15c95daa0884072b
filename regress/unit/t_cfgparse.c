/*
 * The configuration socket's parser (spamd/cfgparse.c), fed as
 * cfgsock.c feeds it: good lines, whole and a byte at a time; a bad
 * tag; a message at and over the limit; bad addresses; missing fields;
 * "!only".  A refused line must leave the lists as they were and the
 * lines after it must still count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blacklist.h"
#include "cfgparse.h"
#include "tap.h"

static struct cfgparse	 P;

/*
 * A connection that sends text in reads of at most step bytes and then
 * shuts down; the unconsumed rest is kept and offered again, as
 * cfgsock.c does with its buffer.
 */
static void
conn(const char *text, size_t step)
{
	static char	 buf[65536];
	size_t		 tlen = strlen(text), pos = 0, off = 0, len = 0, n;

	cfgparse_clear(&P);
	cfgparse_init(&P);
	while (pos < tlen) {
		memmove(buf, buf + off, len - off);
		len -= off;
		off = 0;
		n = tlen - pos < step ? tlen - pos : step;
		if (n > sizeof(buf) - len) {
			printf("# test buffer too small\n");
			exit(1);
		}
		memcpy(buf + len, text + pos, n);
		pos += n;
		len += n;
		off += cfgparse_feed(&P, buf + off, len - off);
	}
	cfgparse_end(&P, len - off);
}

/* Did the connection refuse exactly one line, for this reason? */
static int
refused(const char *why)
{
	return P.refused == 1 && P.applied == 0 &&
	    strncmp(P.why, why, strlen(why)) == 0;
}

static size_t
n4(const char *tag)
{
	return bl_nranges(tag, NULL);
}

static size_t
n6(const char *tag)
{
	size_t	 v6 = 0;

	if (bl_nranges(tag, &v6) == (size_t)-1)
		return (size_t)-1;
	return v6;
}

static void
good(void)
{
	const char	*line = "good;\"Go away, %A\\\\\";inet;2;"
	    "192.0.2.0/24;198.51.100.7;inet6;1;2001:db8::/32\n";
	const char	*msg;

	conn(line, 65536);
	ok(P.applied == 1 && P.refused == 0 && P.line == 2,
	    "a good line is applied");
	ok(n4("good") == 2 && n6("good") == 1,
	    "... with its 2 IPv4 and 1 IPv6 ranges");
	msg = bl_message("good");
	ok(msg != NULL && strcmp(msg, "Go away, %A\\\\") == 0,
	    "... and its message, escapes as sent");

	conn("bytes;\"m\";inet;1;192.0.2.1;inet6;1;2001:db8::1\n", 1);
	ok(P.applied == 1 && P.refused == 0 && n4("bytes") == 1 &&
	    n6("bytes") == 1, "the same, fed a byte at a time");

	conn("good;\n", 7);
	ok(P.applied == 1 && n4("good") == 0 && n6("good") == 0,
	    "\"tag;\" empties the list");

	conn("good;\"m\";inet;0\n\nbytes;\"m\";inet;1;192.0.2.9;\n", 3);
	ok(P.applied == 2 && P.refused == 0 && P.line == 4,
	    "a count of 0, an empty line and a trailing ';'");
}

static void
badtag(void)
{
	conn("bad tag;\"m\";inet;1;192.0.2.1\n", 65536);
	ok(refused("bad tag") && n4("bad tag") == (size_t)-1,
	    "a tag with a blank is refused");
	conn("bad\"tag;\n", 65536);
	ok(refused("bad tag"), "a tag with a quote is refused");
	conn("!nonsense;x\n", 65536);
	ok(refused("unknown directive"), "an unknown directive is refused");

	conn("x y;\"m\";inet;1;192.0.2.1\nafter;\"m\";inet;1;192.0.2.2\n",
	    5);
	ok(P.refused == 1 && P.applied == 1 && P.line == 3 &&
	    n4("after") == 1, "the line after a refused one still counts");
}

static void
overlong(void)
{
	static char	 line[BL_MSGMAX + 64];
	char		 field[CFG_TOKMAX + 16];
	size_t		 n;

	n = snprintf(line, sizeof(line), "long;\"");
	memset(line + n, 'a', BL_MSGMAX);
	snprintf(line + n + BL_MSGMAX, sizeof(line) - n - BL_MSGMAX,
	    "\";inet;1;192.0.2.1\n");
	conn(line, 65536);
	ok(P.applied == 1 && bl_message("long") != NULL &&
	    strlen(bl_message("long")) == BL_MSGMAX,
	    "a message of %d bytes is taken", BL_MSGMAX);

	memset(line + n, 'b', BL_MSGMAX + 1);
	snprintf(line + n + BL_MSGMAX + 1, sizeof(line) - n - BL_MSGMAX - 1,
	    "\";inet;1;192.0.2.1\n");
	conn(line, 100);
	ok(refused("message longer than") && bl_message("long") != NULL &&
	    bl_message("long")[0] == 'a',
	    "one byte more is refused, and the list stays as it was");

	conn("long;\"two\nlines\";inet;1;192.0.2.1\n", 65536);
	ok(P.refused == 2 && P.applied == 0 &&
	    strncmp(P.why, "no newline", 10) != 0,
	    "a newline in a message refuses it (and the rest is a 2nd line)");

	memset(field, '1', sizeof(field) - 1);
	field[sizeof(field) - 1] = '\0';
	snprintf(line, sizeof(line), "long;\"m\";inet;1;%s\n", field);
	conn(line, 65536);
	ok(refused("field longer than"), "a field over %d bytes is refused",
	    CFG_TOKMAX);
}

static void
badaddr(void)
{
	conn("addr;\"m\";inet;1;192.0.2.300\n", 65536);
	ok(P.refused == 1 && P.applied == 0 && n4("addr") == (size_t)-1,
	    "an IPv4 address out of range is refused");
	conn("addr;\"m\";inet;1;192.0.2.0/33\n", 65536);
	ok(P.refused == 1 && P.applied == 0 && n4("addr") == (size_t)-1,
	    "a prefix length over 32 is refused");
	conn("addr;\"m\";inet;1;2001:db8::1\n", 65536);
	ok(refused("2001:db8::1 in the inet section"),
	    "an IPv6 address in the inet section is refused");
	conn("addr;\"m\";inet;1;192.0.2.1;inet;1;192.0.2.2\n", 65536);
	ok(refused("duplicate inet"), "a second inet section is refused");
	conn("addr;\"m\";ipx;1;192.0.2.1\n", 65536);
	ok(refused("expected inet or inet6"), "an unknown family is refused");
	conn("addr;\"m\";inet;1x;192.0.2.1\n", 65536);
	ok(refused("bad count"), "a count that is not a number is refused");
}

static void
missing(void)
{
	conn("miss\n", 65536);
	ok(refused("no ';' after the tag"), "a tag alone is refused");
	conn("miss;m;inet;1;192.0.2.1\n", 65536);
	ok(refused("the message must be in double quotes"),
	    "an unquoted message is refused");
	conn("miss;\"m\";inet\n", 65536);
	ok(refused("no count after inet"), "a family without a count");
	conn("miss;\"m\";inet;3\n", 65536);
	ok(refused("3 addresses announced, none given"),
	    "a count without addresses");
	conn("miss;\"m\";inet;2;192.0.2.1\n", 65536);
	ok(refused("2 addresses announced, 1 given"),
	    "fewer addresses than announced");
	conn("miss;\"m\";inet;1;192.0.2.1", 4);
	ok(refused("no newline at the end") && n4("miss") == (size_t)-1,
	    "a last line without its newline is refused");
	conn("lonely", 65536);
	ok(refused("no newline at the end"),
	    "a last line that is only a tag, without its newline");
	conn("miss;\"m\"x\n", 65536);
	ok(refused("junk after the message"), "junk after the message");
	ok(n4("miss") == (size_t)-1, "none of them made a list");
}

static void
only(void)
{
	conn("o1;\"m\";inet;1;192.0.2.1\no2;\"m\";inet;1;192.0.2.2\n"
	    "!only;o1;good\n", 6);
	ok(P.applied == 2 && P.refused == 0 && n4("o1") == 1 &&
	    n4("o2") == (size_t)-1 && n4("good") == 0,
	    "!only removes the lists it does not name");
	conn("!only;o1;bad tag\n", 65536);
	ok(refused("!only: bad tag") && n4("o1") == 1 && n4("good") == 0,
	    "!only with a bad tag removes nothing");
}

int
main(void)
{
	cfgparse_init(&P);
	good();
	badtag();
	overlong();
	badaddr();
	missing();
	only();
	cfgparse_clear(&P);
	return tap_done();
}
