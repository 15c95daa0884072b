/*
 * libFuzzer harness: the configuration socket's parser (spamd/cfgparse.c)
 * fed as cfgsock.c feeds it, in reads of a fuzzed size with the
 * unconsumed rest offered again, then once more in one piece.
 *
 * Checked: the parser never leaves more unconsumed than one message can
 * take (cfgsock.c's buffer would fill and the read of 0 bytes look like
 * the end); how the input is cut into reads changes nothing: the same
 * lines applied and refused, the same lists with the same ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blacklist.h"
#include "cfgparse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The most a field can leave unconsumed: a message and its quotes. */
#define CFG_RESTMAX	(BL_MSGMAX + 2)

struct outcome {
	unsigned long	 line;
	unsigned	 applied, refused;
	size_t		 nlists;
	size_t		 n4[4], n6[4];
	char		 msg[4][BL_MSGMAX + 1];
};

static const char *const tags[4] = { "a", "b", "spews", "nixspam" };

static void
run(const uint8_t *data, size_t len, size_t step, struct outcome *o)
{
	static struct cfgparse	 p;
	const char		*m;
	size_t			 off = 0, end = 0, n, i;

	/* Each connection starts from no list. */
	bl_keep_only(NULL, 0);
	cfgparse_init(&p);
	while (end < len) {
		end += len - end < step ? len - end : step;
		n = cfgparse_feed(&p, (const char *)data + off, end - off);
		if (n > end - off || end - off - n > CFG_RESTMAX)
			abort();
		off += n;
	}
	cfgparse_end(&p, end - off);
	o->line = p.line;
	o->applied = p.applied;
	o->refused = p.refused;
	o->nlists = bl_nlists();
	for (i = 0; i < 4; i++) {
		o->n4[i] = bl_nranges(tags[i], &o->n6[i]);
		if ((m = bl_message(tags[i])) != NULL &&
		    strlcpy(o->msg[i], m, sizeof(o->msg[i])) >=
		    sizeof(o->msg[i]))
			abort();
	}
	cfgparse_clear(&p);
	if (o->nlists > BL_MAXLISTS)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct outcome	 a, b;
	size_t		 step;

	if (len < 1)
		return 0;
	step = data[0] == 0 ? 1 : data[0];
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	run(data + 1, len - 1, step, &a);
	run(data + 1, len - 1, len, &b);
	if (memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
