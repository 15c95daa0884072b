/*
 * The SPF record of a TXT answer (RFC 7208 4.5): the strings of each
 * TXT record joined, and exactly one of them starting "v=spf1".  The
 * answer is untrusted: records are joined in a bounded buffer.
 */
#include <sys/types.h>

#include <ares.h>
#include <stdio.h>
#include <string.h>

#include "spf.h"

int
spf_txt(const unsigned char *abuf, int alen, char *rec, char *why,
    size_t whylen)
{
	struct ares_txt_ext	*txt = NULL, *t;
	char			 cur[SPF_RECMAX];
	size_t			 len = 0;
	int			 nspf = 0, toolong = 0, rc;

	rec[0] = '\0';
	if ((rc = ares_parse_txt_reply_ext(abuf, alen, &txt)) != ARES_SUCCESS) {
		if (rc == ARES_ENODATA) {
			snprintf(why, whylen, "no SPF record");
			return 0;
		}
		snprintf(why, whylen, "bad TXT answer: %s", ares_strerror(rc));
		return -1;
	}
	for (t = txt; t != NULL; t = t->next) {
		if (t->record_start) {
			if (len > 0 && spf_is_record(cur, len)) {
				nspf++;
				memcpy(rec, cur, len + 1);
			}
			len = 0;
			cur[0] = '\0';
		}
		if (len + t->length >= sizeof(cur)) {
			if (spf_is_record(cur, len) || len == 0)
				toolong = 1;
			continue;
		}
		memcpy(cur + len, t->txt, t->length);
		len += t->length;
		cur[len] = '\0';
	}
	if (len > 0 && spf_is_record(cur, len)) {
		nspf++;
		memcpy(rec, cur, len + 1);
	}
	ares_free_data(txt);
	if (toolong) {
		snprintf(why, whylen, "SPF record longer than %d bytes",
		    SPF_RECMAX - 1);
		return -1;
	}
	if (nspf == 0) {
		snprintf(why, whylen, "no SPF record");
		return 0;
	}
	if (nspf > 1) {
		snprintf(why, whylen, "%d SPF records", nspf);
		return -1;
	}
	return 1;
}
