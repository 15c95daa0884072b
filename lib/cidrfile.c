/*
 * Files of networks; see cidrfile.h.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "cidrfile.h"
#include "log.h"

unsigned long
cidrfile_read(FILE *fp, const char *name, int min4, int min6,
    struct cidr_list *v4, struct cidr_list *v6, unsigned long *wide)
{
	struct cidr_range	 r;
	char			 line[CIDRFILE_LINEMAX], err[128];
	unsigned long		 n = 0, bad = 0;
	size_t			 len;
	int			 af, k, c, min;

	*wide = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		n++;
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			len--;
		else if (!feof(fp)) {
			log_warnx("%s:%lu: line longer than %d bytes", name,
			    n, CIDRFILE_LINEMAX - 2);
			while ((c = getc(fp)) != EOF && c != '\n')
				;
			bad++;
			continue;
		}
		k = cidr_parse_line(line, len, &af, &r, err, sizeof(err));
		if (k == 0)
			continue;
		if (k == -1) {
			if (bad++ < CIDRFILE_SHOWN)
				log_warnx("%s:%lu: %s", name, n, err);
			continue;
		}
		min = af == AF_INET ? min4 : min6;
		if (cidr_range_prefix(af, &r) < min) {
			if ((*wide)++ < CIDRFILE_SHOWN)
				log_warnx("%s:%lu: wider than /%d: left out, "
				    "the rest loads", name, n, min);
			continue;
		}
		if (cidr_list_add(af == AF_INET ? v4 : v6, &r) == -1) {
			log_warn("%s:%lu", name, n);
			bad++;
			break;
		}
	}
	if (ferror(fp)) {
		log_warn("%s", name);
		bad++;
	}
	if (bad > 0)
		return bad;
	cidr_list_normalize(v4);
	cidr_list_normalize(v6);
	if (*wide > CIDRFILE_SHOWN)
		log_warnx("%s: %lu lines wider than /%d (IPv4) or /%d (IPv6) "
		    "left out", name, *wide, min4, min6);
	return 0;
}
