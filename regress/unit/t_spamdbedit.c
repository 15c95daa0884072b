/*
 * spamdb -T -a and -T -d (spamdb/edit.c) on a store in memory: a UTF-8
 * or '|' spamtrap, written raw or as the listing shows it, is one key
 * in the key form (gdata.h); a spamtrap an older spamdb stored raw
 * (which never trapped) can still be deleted by its listed form.
 */
#include <stdio.h>
#include <string.h>

#include "gdata.h"
#include "spamdb.h"
#include "store_mem.h"
#include "tap.h"

volatile sig_atomic_t	spamdb_quit;

void
spamdb_fw_add(const char *ip, time_t expire, time_t now)
{
	(void)ip;
	(void)expire;
	(void)now;
}

void
spamdb_fw_del(const char *ip)
{
	(void)ip;
}

static int
has(struct store *st, const char *key)
{
	struct gdata	 gd;

	return st->ops->get(st->h, key, strlen(key), &gd) == STORE_OK &&
	    gd.pcount == GD_SPAMTRAP;
}

int
main(void)
{
	struct store	*st;
	struct gdata	 gd = { 1, 0, 0, 1, GD_SPAMTRAP };

	if ((st = store_mem_open()) == NULL)
		return 1;
	ok(spamdb_add(st, GD_SPAMTRAP_T, "<Tr\xc3\xa9p@\xc3\xa9.example>",
	    1000) == 0 && has(st, "tr\\303\\251p@\\303\\251.example"),
	    "-T -a of a raw UTF-8 trap: stored in the key form");
	ok(spamdb_add(st, GD_SPAMTRAP_T, "t|p@example.org", 1000) == 0 &&
	    has(st, "t\\174p@example.org"), "-T -a of a trap with a bar");
	ok(spamdb_del(st, GD_SPAMTRAP_T, "tr\\303\\251p@\\303\\251.example")
	    == 0 && !has(st, "tr\\303\\251p@\\303\\251.example"),
	    "-T -d of the listed form deletes it");
	ok(spamdb_del(st, GD_SPAMTRAP_T, "T|P@example.org") == 0 &&
	    !has(st, "t\\174p@example.org"), "-T -d of the raw form too");

	/* What an older spamdb stored: the raw bytes. */
	st->ops->put(st->h, "old\xc3\xa9@example.org", 17, &gd);
	ok(spamdb_del(st, GD_SPAMTRAP_T, "old\\303\\251@example.org") == 0 &&
	    !has(st, "old\xc3\xa9@example.org"),
	    "-T -d deletes a trap an older spamdb stored raw");
	ok(spamdb_del(st, GD_SPAMTRAP_T, "old\\303\\251@example.org") == 1,
	    "... once: then it is not found");
	return tap_done();
}
