/*
 * libFuzzer harness: the line parser of spamdb -i (spamdb/import.c),
 * which reads a listing made on another host.  The file is included so
 * that its static parser is reached as it is; the lines are cut as the
 * import loop cuts them (up to the newline, CR dropped, comments
 * skipped) and given in a buffer of their exact size.
 *
 * Checked: an entry that parses has the key and type its line names (a
 * WHITE line never makes a GREY or a metadata key), a canonical address,
 * and a record that survives the codec.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../spamdb/import.c"

volatile sig_atomic_t	spamdb_quit;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The database and the nft sets are not reached: parse_line only. */
void
spamdb_fw_add(const char *ip, time_t expire, time_t now)
{
	(void)ip;
	(void)expire;
	(void)now;
	abort();
}

void
spamdb_fw_del(const char *ip)
{
	(void)ip;
	abort();
}

static void
check(const char *line, const struct pending *p)
{
	static const struct {
		const char	*word;
		enum gd_type	 type;
	} types[] = {
		{ "WHITE|", GD_WHITE }, { "GREY|", GD_GREY },
		{ "TRAPPED|", GD_TRAPPED_T }, { "SPAMTRAP|", GD_SPAMTRAP_T }
	};
	char		 ip[INET6_ADDRSTRLEN], key[GD_KEY_MAX], *nl;
	uint8_t		 rec[GD_RECSIZE];
	struct gdata	 gd;
	size_t		 i;

	if (p->keylen == 0 || p->keylen >= sizeof(p->key) ||
	    strlen(p->key) != p->keylen)
		abort();
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strncmp(line, types[i].word, strlen(types[i].word)) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0]) ||
	    gd_type(p->key, p->keylen, &p->gd) != types[i].type)
		abort();
	if (types[i].type != GD_SPAMTRAP_T) {
		strlcpy(key, p->key, sizeof(key));
		if ((nl = strchr(key, '\n')) != NULL)
			*nl = '\0';
		if (addr_canon(key, ip, sizeof(ip)) == -1 ||
		    strcmp(ip, key) != 0)
			abort();
	}
	gd_encode(&p->gd, rec);
	if (gd_decode(rec, sizeof(rec), &gd) == -1 ||
	    memcmp(&gd, &p->gd, sizeof(gd)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct pending	 p;
	const uint8_t		*nl;
	char			*line, *orig;
	size_t			 n;

	/* What one fgets(3) into the import's buffer gives. */
	if ((nl = memchr(data, '\n', len)) != NULL)
		len = nl - data;
	if (len > IMPORT_LINE_MAX - 1)
		len = IMPORT_LINE_MAX - 1;
	if ((line = malloc(len + 1)) == NULL)
		return 0;
	memcpy(line, data, len);
	line[len] = '\0';
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n == 0 || line[0] == '#' || (orig = strdup(line)) == NULL) {
		free(line);
		return 0;
	}
	if (parse_line(line, &p, 1700000000) == NULL)
		check(orig, &p);
	free(orig);
	free(line);
	return 0;
}
