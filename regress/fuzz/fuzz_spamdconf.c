/*
 * libFuzzer harness: spamd.conf (spamd-setup/spamdconf.c), the getcap
 * file spamd-setup reads: continuations, quotes, escapes, tc= chains.
 * libFuzzer's copy of the file is exact-size, so ASan sees any read
 * past its end.
 *
 * Checked: a refused file leaves an error and nothing else; an accepted
 * one gives lists that are whole (a name, a type, a method, a file, a
 * black list's message or message file, nothing of the kind for a white
 * one), each named once, in an order that points at them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spamdconf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct sdconf *sc)
{
	const struct sdconf_list	*l;
	size_t				 i, j, n;

	if (sc->norder < sc->nlists)
		abort();
	for (i = 0; i < sc->norder; i++)
		if (sc->order[i] >= sc->nlists)
			abort();
	for (i = 0; i < sc->nlists; i++) {
		l = &sc->lists[i];
		if (l->name == NULL || (n = strlen(l->name)) == 0 ||
		    n > SPAMDCONF_NAMEMAX || strpbrk(l->name, " \t:|") != NULL)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(sc->lists[j].name, l->name) == 0)
				abort();
		for (j = 0; j < sc->norder; j++)
			if (sc->order[j] == i)
				break;
		if (j == sc->norder)
			abort();
		if (l->method < SDCONF_FILE || l->method > SDCONF_EXEC ||
		    sdconf_method_name(l->method) == NULL ||
		    l->file == NULL || l->file[0] == '\0')
			abort();
		if (l->type == SDCONF_BLACK) {
			if ((l->msg == NULL) == (l->msgfile == NULL))
				abort();
		} else if (l->type != SDCONF_WHITE || l->msg != NULL ||
		    l->msgfile != NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sdconf	 sc;
	char		 err[512];

	if (sdconf_parse("fuzz.conf", (const char *)data, len, &sc, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0' || sc.lists != NULL || sc.nlists != 0 ||
		    sc.order != NULL || sc.norder != 0)
			abort();
		return 0;
	}
	check(&sc);
	sdconf_free(&sc);
	return 0;
}
