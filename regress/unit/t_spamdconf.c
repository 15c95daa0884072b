/*
 * The spamd.conf parser (spamd-setup/spamdconf.c): OpenBSD's example file, the
 * getcap details (continuations, quotes, escapes, tc=, cancelled
 * capabilities), and broken files, each refused with its line.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/wait.h>

#include "../../spamd-setup/spamdconf.c"
#include "tap.h"


static char	 err[512];

static int
parse(const char *text, struct sdconf *sc)
{
	return sdconf_parse("test.conf", text, strlen(text), sc, err,
	    sizeof(err));
}

/* A broken file must fail with an error containing `want'. */
static int
broken(const char *text, const char *want)
{
	struct sdconf	 sc;

	if (parse(text, &sc) == 0) {
		sdconf_free(&sc);
		printf("# accepted\n");
		return 0;
	}
	if (strstr(err, want) == NULL) {
		printf("# error was: %s\n# want: %s\n", err, want);
		return 0;
	}
	return sc.nlists == 0 && sc.lists == NULL;
}

static const struct sdconf_list *
nth(const struct sdconf *sc, size_t i)
{
	return &sc->lists[sc->order[i]];
}

static const char openbsd[] =
    "# spamd.conf, as OpenBSD ships it\n"
    "\n"
    "all:\\\n"
    "\t:nixspam:override:myblack:override:\n"
    "\n"
    "# Nixspam recent sources list.\n"
    "nixspam:\\\n"
    "\t:black:\\\n"
    "\t:msg=\"Your address %A is in the nixspam list\\n\\\n"
    "\tSee http://www.heise.de/ix/nixspam/dnsbl_en/ for details\":\\\n"
    "\t:method=https:\\\n"
    "\t:file=www.openbsd.org/spamd/nixspam.gz:\n"
    "\n"
    "override:\\\n"
    "\t:white:\\\n"
    "\t:method=file:\\\n"
    "\t:file=/etc/mail/override.txt:\n"
    "\n"
    "myblack:\\\n"
    "\t:black:\\\n"
    "\t:msg=/etc/mail/myblackmsg.txt:\\\n"
    "\t:method=file:\\\n"
    "\t:file=/etc/mail/myblack.txt:\n";

static void
t_openbsd(void)
{
	struct sdconf			 sc;
	const struct sdconf_list	*l;
	int				 r;

	r = parse(openbsd, &sc);
	ok(r == 0, "OpenBSD's example parses %s", err);
	if (r != 0)
		return;
	ok(sc.norder == 4 && sc.nlists == 3, "all: 4 entries, 3 lists");
	ok(strcmp(nth(&sc, 0)->name, "nixspam") == 0 &&
	    strcmp(nth(&sc, 1)->name, "override") == 0 &&
	    strcmp(nth(&sc, 2)->name, "myblack") == 0 &&
	    nth(&sc, 3) == nth(&sc, 1), "in the order of all, repeats kept");
	l = nth(&sc, 0);
	ok(l->type == SDCONF_BLACK && l->method == SDCONF_HTTPS &&
	    strcmp(l->file, "www.openbsd.org/spamd/nixspam.gz") == 0,
	    "nixspam: black, https, its file");
	ok(l->msg != NULL && strcmp(l->msg, "Your address %A is in the "
	    "nixspam list\nSee http://www.heise.de/ix/nixspam/dnsbl_en/ for "
	    "details") == 0 && l->msgfile == NULL,
	    "quoted message: quotes gone, \\n decoded, colon kept, "
	    "continuation blanks dropped");
	ok(l->line == 7, "record line %d", l->line);
	l = nth(&sc, 1);
	ok(l->type == SDCONF_WHITE && l->method == SDCONF_FILE &&
	    strcmp(l->file, "/etc/mail/override.txt") == 0 &&
	    l->msg == NULL && l->msgfile == NULL, "override: white, file");
	l = nth(&sc, 2);
	ok(l->type == SDCONF_BLACK && l->msg == NULL && l->msgfile != NULL &&
	    strcmp(l->msgfile, "/etc/mail/myblackmsg.txt") == 0,
	    "unquoted msg= names a file");
	sdconf_free(&sc);
}

static void
t_details(void)
{
	struct sdconf			 sc;
	const struct sdconf_list	*l;
	int				 r;

	r = parse("all:a:b c:\r\n"
	    "a|alias-a:black:msg=\"x: \\\"y\\\" \\\\ \\c ^G \\101\":"
	    "method=exec:file=/bin/echo 192.0.2.1:\r\n"
	    "b:method=http:file=lists.example.org/b.txt:tc=common\r\n"
	    "common:white:method=ftp:file=never\r\n"
	    "c:black:black:msg=\"\":tc=nomethod:file=f:method=http\n"
	    "nomethod:method@:\n", &sc);
	ok(r == 0, "tc=, blanks in all, CRLF, no final newline %s", err);
	if (r != 0)
		return;
	ok(sc.norder == 3, "three lists");
	l = nth(&sc, 0);
	ok(strcmp(l->msg, "x: \"y\" \\ : \007 A") == 0,
	    "escapes: \\\" \\\\ \\c ^G \\101 [%s]", l->msg);
	ok(l->method == SDCONF_EXEC && strcmp(l->file, "/bin/echo "
	    "192.0.2.1") == 0, "exec with arguments");
	l = nth(&sc, 1);
	ok(l->type == SDCONF_WHITE && l->method == SDCONF_HTTP &&
	    strcmp(l->file, "lists.example.org/b.txt") == 0,
	    "tc= gives white; the first method= and file= win");
	l = nth(&sc, 2);
	ok(l->type == SDCONF_BLACK && l->msg != NULL && l->msg[0] == '\0',
	    "empty quoted message");
	ok(l->method == SDCONF_FILE, "method@ (through tc=) cancels a later "
	    "method=");
	ok(l->line == 5, "line of c");
	sdconf_free(&sc);

	r = parse("all:x:\nx:white:file=a:\\\n", &sc);
	ok(r == 0, "backslash on the last line");
	sdconf_free(&sc);

	r = parse("all:\n", &sc);
	ok(r == 0 && sc.norder == 0, "empty all is valid");
	sdconf_free(&sc);

	r = parse("all:\\\n  \\\n\t:x:\nx:white:file=a:\n# end\n", &sc);
	ok(r == 0 && sc.norder == 1, "blank continuation line");
	sdconf_free(&sc);

	r = parse("all:x:\nx:black:msg=\"a\\\"\":file=a:\n", &sc);
	ok(r == 0 && strcmp(nth(&sc, 0)->msg, "a\"") == 0,
	    "escaped quote before the closing one");
	sdconf_free(&sc);

	r = parse("all:x:y:\nx:white:method=http:file=\"h:8080/a\":\n"
	    "y:white:method=http:file=h\\c8080/b:\n", &sc);
	ok(r == 0 && strcmp(nth(&sc, 0)->file, "h:8080/a") == 0 &&
	    strcmp(nth(&sc, 1)->file, "h:8080/b") == 0,
	    "a colon in file=, quoted or as \\c");
	sdconf_free(&sc);

	r = parse("all:x:\nx:white:file=a:method=exec:method=http:\n", &sc);
	ok(r == 0 && nth(&sc, 0)->method == SDCONF_EXEC,
	    "first occurrence wins");
	sdconf_free(&sc);
}

static void
t_broken(void)
{
	struct sdconf	 sc;
	char		 path[] = "/tmp/t_spamdconf.XXXXXX";
	int		 fd;

	ok(broken("x:white:file=a:\n", "no \"all\" record"), "no all");
	ok(broken("all:x:\n\nx:\\\n\t:method=file:\\\n\t:file=a:\n",
	    "test.conf:3: list x must have :black: or :white:"),
	    "neither black nor white, with its line");
	ok(broken("all:x:\nx:black:white:msg=\"m\":file=a:\n",
	    "test.conf:2: list x is both black and white"), "both");
	ok(broken("all:x:\nx:black:file=a:\n", "test.conf:2: black list x: "
	    "no msg="), "black without msg");
	ok(broken("all:x:\nx:\\\n :white:\\\n :method=gopher:\\\n :file=a:\n",
	    "test.conf:4: list x: unknown method \"gopher\""),
	    "unknown method, on its own line");
	ok(broken("all:x:\nx:white:method=http:\n", "list x: no file="),
	    "no file");
	ok(broken("all:x:\nx:white:file=:\n", "list x: no file="),
	    "empty file");
	ok(broken("all:x:\nx:white:file=\"\":\n", "list x: empty file="),
	    "empty quoted file");
	ok(broken("all:x:\nx:white:file=a:mehtod=http:\n",
	    "unknown capability \"mehtod\""), "typo in a capability");
	ok(broken("all:x:y:\nx:white:file=a:\n",
	    "test.conf:1: all: list \"y\" has no record"), "missing list");
	ok(broken("all:x:\nx:black:msg=\"open:file=a:\n", "test.conf:2: quote "
	    "not closed"), "unterminated quote");
	ok(broken("all:x:\nx:black:msg=\"open\\\n\tmore:file=a:\n",
	    "test.conf:2: quote not closed"),
	    "unterminated quote over two lines");
	ok(broken("all:x:\nx:white:\n\t:file=a:\n", "test.conf:3: line starts "
	    "with a blank outside a record"), "missing backslash");
	ok(broken("all:x:\nx:white:\\\n#\t:method=http:\\\n\t:file=a:\n",
	    "test.conf:3: comment inside a record"), "comment in a record");
	ok(broken("all:x:\nx:white:file=a:\nx|z:white:file=b:\n",
	    "test.conf:3: record \"x\" already defined at line 2"),
	    "record named twice");
	ok(broken("all:x:\nx:tc=y:\ny:tc=x:\n", "nest deeper"), "tc= loop");
	ok(broken("all:x:\nx:tc=nope:\n", "tc=nope: no such record"),
	    "tc= to nothing");
	ok(broken("all:x:\nx:black:msg=\"half:file=a:\"\n", "no file="),
	    "a quote swallowing the rest");
	ok(broken("all:x:\nx:black:msg=\"a\"b\":file=a:\n", "quote"),
	    "stray quote");
	ok(broken("all:x:\nx:black:msg=\\\"a:file=a:\n", "msg= starts with "
	    "a quote but does not end with one"), "escaped opening quote");
	ok(broken("all:all:\n", "names itself"), "all names itself");
	ok(broken("all:x;y:\nx;y:white:file=a:\n", "not a list name"),
	    "';' in a list name");
	ok(broken("all:x:\nx:black=1:white:file=a:\n", "takes no value"),
	    "black=1");
	ok(broken("all:x:\nx:white:file:\n", "needs a value"), "bare file");
	ok(broken("all:x:\n:white:file=a:\n", "empty record name"),
	    "record without a name");
	ok(sdconf_parse("test.conf", "all:x\0:\n", 8, &sc, err,
	    sizeof(err)) == -1 && strstr(err, "test.conf:1: NUL") != NULL,
	    "NUL byte");
	ok(sdconf_load("/nonexistent/spamd.conf", &sc, err,
	    sizeof(err)) == -1 && strstr(err, "/nonexistent/spamd.conf: No "
	    "such file") != NULL, "missing file: %s", err);
	ok(sdconf_load("/", &sc, err, sizeof(err)) == -1 &&
	    strstr(err, "not a regular file") != NULL, "a directory");

	if ((fd = mkstemp(path)) == -1) {
		ok(0, "mkstemp");
		return;
	}
	if (write(fd, openbsd, sizeof(openbsd) - 1) != sizeof(openbsd) - 1)
		ok(0, "write");
	close(fd);
	ok(sdconf_load(path, &sc, err, sizeof(err)) == 0 && sc.nlists == 3,
	    "sdconf_load reads a file");
	sdconf_free(&sc);
	unlink(path);
}

/*
 * L1: a last line of blanks with no newline was read past its end.  The
 * text ends where an inaccessible page begins, so an overread faults.
 */
static void
t_overread(void)
{
	static const char	 text[] = "all:x:\nx:white:file=a:\n   ";
	struct sdconf		 sc;
	long			 pg = sysconf(_SC_PAGESIZE);
	char			*map, *buf;

	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + pg, pg, PROT_NONE) == -1) {
		ok(0, "mmap: %s", strerror(errno));
		return;
	}
	/* Blanks before the text too: strspn would run on into the guard. */
	memset(map, ' ', pg);
	buf = map + pg - (sizeof(text) - 1);
	memcpy(buf, text, sizeof(text) - 1);
	ok(sdconf_parse("test.conf", buf, sizeof(text) - 1, &sc, err,
	    sizeof(err)) == 0 && sc.nlists == 1,
	    "a last line of blanks without a newline is read within bounds");
	sdconf_free(&sc);
	munmap(map, 2 * pg);
}

/* L2: "rI:tc=rI+1:tc=rI+1:" doubles the work at each level. */
static void
t_tc_blowup(void)
{
	char	 text[4096];
	size_t	 len;
	int	 i, ret;

	len = strlcpy(text, "all:r0:\n", sizeof(text));
	for (i = 0; i < 30; i++)
		len += snprintf(text + len, sizeof(text) - len,
		    "r%d:tc=r%d:tc=r%d:\n", i, i + 1, i + 1);
	snprintf(text + len, sizeof(text) - len, "r30:\n");	/* no fields */
	alarm(10);	/* unbounded, this takes hours */
	ret = sdconf_parse("test.conf", text, strlen(text), &(struct sdconf){0},
	    err, sizeof(err));
	alarm(0);
	ok(ret == -1 && strstr(err, "tc= references expand to more than "
	    "10000 records") != NULL, "tc= expansion is bounded: %s", err);
}

int
main(void)
{
	t_openbsd();
	t_details();
	t_broken();
	t_overread();
	t_tc_blowup();
	return tap_done();
}
