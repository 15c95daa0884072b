/*
 * The allowed-domains file (spamd/trapdom.c) against recipients as the
 * SMTP engine stores them (escaped, gdata.h): a UTF-8 suffix written
 * raw or escaped matches, a bar in a suffix matches, and no suffix
 * matches from inside an escape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdata.h"
#include "tap.h"
#include "trapdom.h"

int
main(void)
{
	char	 path[] = "/tmp/t_trapdom.XXXXXX";
	FILE	*f;
	int	 fd;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		perror("mkstemp");
		return 1;
	}
	fputs("# raw UTF-8, escaped, a bar, digits\n"
	    "\xc3\xa9.example\n"
	    "@\\303\\244x.example  # escaped as spamdb lists it\n"
	    "@a|b.example\n"
	    "51.example\n", f);
	if (fclose(f) == EOF) {
		perror(path);
		return 1;
	}
	trapdom_init(path);
	ok(trapdom_trap("<j@\\303\\251.example>") == 0,
	    "a raw UTF-8 suffix matches the stored recipient");
	ok(trapdom_trap("<j@Sub.\\303\\251.EXAMPLE>") == 0,
	    "... and its subdomains, ASCII case ignored");
	ok(trapdom_trap("<j@\\303\\244x.example>") == 0,
	    "an escaped UTF-8 suffix matches");
	ok(trapdom_trap("<j@\\303\\244y.example>") == 1,
	    "another UTF-8 domain is outside");
	ok(trapdom_trap("<x\\174y@a\\174b.example>") == 0,
	    "a suffix with a bar matches a recipient with one");
	ok(trapdom_trap("<j@\\251.example>") == 1,
	    "no suffix matches from inside an escape (\\251 is no 51)");
	ok(trapdom_trap("<j@x51.example>") == 0,
	    "... but the same digits as text do");
	ok(trapdom_trap("<j@other.example>") == 1,
	    "a domain not listed is outside");
	unlink(path);
	return tap_done();
}
