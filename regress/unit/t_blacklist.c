/*
 * spamd's blacklist store (spamd/blacklist.c): lookups at range edges
 * in IPv4 and IPv6, several lists matching one client, replacement,
 * emptying and removal of lists, limits, and the interned hits that
 * connections keep across reloads; and the reply smtp.c renders from
 * them.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blacklist.h"
#include "smtp.h"
#include "tap.h"

/* Install tag with msg and the ranges in spec ("a, b/n, c - d"). */
static int
load(const char *tag, const char *msg, const char *spec)
{
	struct bl_stage		 st;
	struct cidr_range	 r;
	char			 buf[1024], *p, *tok, err[128];
	int			 af;

	bl_stage_init(&st);
	strlcpy(buf, spec, sizeof(buf));
	for (p = buf; (tok = strsep(&p, ",")) != NULL;) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		if (cidr_parse(tok, &af, &r, err, sizeof(err)) == -1) {
			printf("# %s: %s\n", tok, err);
			exit(1);
		}
		bl_stage_add(&st, af, &r);
	}
	return bl_install(tag, msg, BL_CONFIG, &st);
}

static const struct bl_hit *
find(const char *ip)
{
	struct addr	 a;

	if (addr_parse(&a, ip) == -1) {
		printf("# bad address %s\n", ip);
		exit(1);
	}
	return bl_match(&a);
}

static const char *
tags(const char *ip)
{
	const struct bl_hit	*h = find(ip);

	return h == NULL ? "-" : h->tags;
}

int
main(void)
{
	const struct bl_hit	*h, *h2;
	struct smtp_reply	 r;
	struct bl_stage		 st;
	struct cidr_range	 cr;
	char			*keep[2];
	size_t			 n6, i;
	int			 fail;

	ok(find("192.0.2.1") == NULL, "no lists: nobody listed");
	ok(load("one", "One %A", "192.0.2.0/24, 198.51.100.10 - 198.51.100.20,"
	    " 2001:db8::/48") == 0, "install one");
	ok(load("two", "Two\\nsecond line", "198.51.100.15, 198.51.100.0/28, "
	    "2001:db8:0:1::5") == 0, "install two");
	ok(strcmp(tags("192.0.2.0"), "one") == 0 &&
	    strcmp(tags("192.0.2.255"), "one") == 0, "both ends of a /24");
	ok(strcmp(tags("192.0.1.255"), "-") == 0 &&
	    strcmp(tags("192.0.3.0"), "-") == 0, "just outside it");
	ok(strcmp(tags("198.51.100.15"), "one two") == 0,
	    "on two lists, in load order");
	ok(strcmp(tags("198.51.100.5"), "two") == 0 &&
	    strcmp(tags("198.51.100.20"), "one") == 0 &&
	    strcmp(tags("198.51.100.21"), "-") == 0,
	    "overlapping ranges of two lists");
	ok(strcmp(tags("2001:db8:0:1::5"), "one two") == 0 &&
	    strcmp(tags("2001:db8:1::"), "-") == 0 &&
	    strcmp(tags("2001:db8::"), "one") == 0, "IPv6");
	ok(strcmp(tags("::ffff:192.0.2.9"), "one") == 0,
	    "an IPv4-mapped client is looked up as IPv4");
	ok(bl_nranges("two", &n6) == 1 && n6 == 1,
	    "two: 198.51.100.15 merged into 198.51.100.0/28");

	h = find("198.51.100.15");
	ok(h != NULL && h->nmsgs == 2 && strcmp(h->msgs[0], "One %A") == 0 &&
	    strcmp(h->msgs[1], "Two\\nsecond line") == 0,
	    "the hit holds both messages");
	ok(find("198.51.100.12") == h, "the same lists give the same hit");
	memset(&r, 0, sizeof(r));
	ok(smtp_blreply(&r, 450, "198.51.100.15", h->msgs, h->nmsgs) == 0 &&
	    strcmp(r.buf, "450-One 198.51.100.15\r\n450-Two\r\n"
	    "450 second line\r\n") == 0, "rendered as one multi-line reply");
	free(r.buf);

	/* Replace one: a connection's old hit stays valid. */
	ok(load("one", "One again %A", "203.0.113.0/24") == 0,
	    "replace one");
	ok(strcmp(tags("192.0.2.7"), "-") == 0 &&
	    strcmp(tags("203.0.113.7"), "one") == 0, "the new one only");
	ok(strcmp(h->msgs[0], "One %A") == 0 && strcmp(h->tags, "one two") ==
	    0, "the hit taken before the reload still reads");
	h2 = find("198.51.100.15");
	ok(h2 != NULL && h2 != h && strcmp(h2->tags, "two") == 0,
	    "a new connection gets the new hit");
	ok(load("one", "One %A", "192.0.2.0/24, 198.51.100.10 - "
	    "198.51.100.20") == 0 && find("198.51.100.15") == h,
	    "back to the old content: the old hit again, nothing new");

	/* Empty, remove. */
	bl_stage_init(&st);
	ok(bl_install("two", NULL, BL_CONFIG, &st) == 0 &&
	    strcmp(tags("198.51.100.5"), "-") == 0 && bl_nlists() == 2,
	    "an empty list clears it, its tag stays");
	keep[0] = "two";
	ok(bl_keep_only(keep, 1) == 1 && bl_nlists() == 1 &&
	    strcmp(tags("192.0.2.7"), "-") == 0, "!only two removes one");
	ok(bl_keep_only(NULL, 0) == 1 && bl_nlists() == 0, "!only empties");

	/* Limits. */
	ok(load("bad;tag", "x", "192.0.2.1") == -1, "a tag with ';' refused");
	ok(load("", "x", "192.0.2.1") == -1, "an empty tag refused");
	for (i = 0, fail = 0; i < BL_MAXLISTS; i++) {
		char	 tag[16];

		snprintf(tag, sizeof(tag), "l%zu", i);
		if (load(tag, "", "192.0.2.1") == -1)
			fail = 1;
	}
	ok(!fail && bl_nlists() == BL_MAXLISTS, "%d lists", BL_MAXLISTS);
	ok(load("onemore", "", "192.0.2.1") == -1,
	    "one list more is refused");
	h = find("192.0.2.1");
	ok(h != NULL && h->nmsgs == BL_MAXLISTS &&
	    strlen(h->tags) <= 80 && strstr(h->tags, " ...") != NULL,
	    "a client on all of them: tags cut for the log (%zu chars)",
	    h != NULL ? strlen(h->tags) : 0);
	memset(&r, 0, sizeof(r));
	ok(smtp_blreply(&r, 550, "192.0.2.1", h->msgs, h->nmsgs) == 0 &&
	    strcmp(r.buf, "550 Your address 192.0.2.1 is blacklisted\r\n") ==
	    0, "lists without messages: a generic reply");
	free(r.buf);
	bl_keep_only(NULL, 0);

	bl_stage_init(&st);
	memset(&cr, 0, sizeof(cr));
	for (i = 0, fail = 0; i < BL_MAXRANGES; i++) {
		cr.start.lo = cr.end.lo = i * 2;
		if (bl_stage_add(&st, AF_INET, &cr) == -1)
			fail = 1;
	}
	ok(!fail && bl_stage_add(&st, AF_INET, &cr) == -1,
	    "a list of more than %lu ranges is refused",
	    (unsigned long)BL_MAXRANGES);
	ok(bl_install("big", "", BL_CONFIG, &st) == 0 &&
	    strcmp(tags("0.0.0.0"), "big") == 0 &&
	    strcmp(tags("0.0.0.1"), "-") == 0, "the largest list loads");
	return tap_done();
}
