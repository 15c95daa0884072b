/*
 * Counting the database by state (gcount.h).
 *
 * Used by: spamd, spamdb.
 */
#include <string.h>

#include "gcount.h"

static int	gcount_cb(const char *, size_t, const struct gdata *, void *);

static int
gcount_cb(const char *key, size_t keylen, const struct gdata *gd, void *arg)
{
	struct gcount	*gc = arg;
	enum gd_type	 t = gd_type(key, keylen, gd);

	if (t == GD_META)
		return 0;
	gc->n[t]++;
	if (t == GD_WHITE && gd->expire > gc->now)
		gc->white_live++;
	if (t != GD_GREY && t != GD_WHITE)
		return 0;	/* a trap's times say nothing of mail */
	if (gd->first > 0 && (gc->oldest == 0 || gd->first < gc->oldest))
		gc->oldest = gd->first;
	if (gd->first > gc->newest)
		gc->newest = gd->first;
	if (t == GD_WHITE && gd->pass > gc->now - GCOUNT_DAY &&
	    gd->pass <= gc->now)
		gc->passed_day++;
	return 0;
}

int
gcount_walk(struct store *st, time_t now, struct gcount *gc)
{
	memset(gc, 0, sizeof(*gc));
	gc->now = now;
	if (st->ops->walk(st->h, gcount_cb, gc) != STORE_OK)
		return -1;
	return 0;
}

const char *
gcount_name(int type)
{
	static const char *const	 names[] = {
		"GREY", "WHITE", "TRAPPED", "SPAMTRAP"
	};

	if (type < 0 || type >= GD_META)
		return "?";
	return names[type];
}
