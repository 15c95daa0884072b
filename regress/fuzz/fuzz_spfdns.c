/*
 * libFuzzer harness: what spfwalk does with a DNS answer
 * (spfwalk/walk.c, included here for its static functions, and
 * spfwalk/spf.c).  The input is an answer to a TXT, MX, A or AAAA
 * query, handed to answer() as c-ares would: c-ares's parser, then
 * got_txt(), got_mx() or got_addr(), spf_parse() and the bookkeeping
 * of records and lookups; or an SPF record, handed to walk_record().
 * The answer is in a buffer of its exact size, so ASan sees any read
 * past its end.  (c-ares itself is not instrumented, only spfwalk.)
 *
 *	byte 0	the query: 0 TXT, 1 MX, 2 A, 3 AAAA, 4 a record, not DNS;
 *		bits 4-7 a failure status instead of success, when not 0
 *	byte 1	the IPv4 prefix length of an a or mx query
 *	byte 2	the IPv6 prefix length
 *	rest	the DNS message, or the record
 *
 * Checked: no network wider than CIDR_SENDER_MIN4 or CIDR_SENDER_MIN6
 * reaches the list (NEW-M2); a domain never passes its bounds on
 * lookups, records and networks; what was queued is all freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../spfwalk/walk.c"

int	verbose;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int statuses[] = {
	ARES_SUCCESS, ARES_ENODATA, ARES_ENOTFOUND, ARES_ETIMEOUT,
	ARES_ESERVFAIL, ARES_EREFUSED, ARES_EBADRESP, ARES_ECONNREFUSED
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		abort();
	cidr_list_init(&nets4, AF_INET);
	cidr_list_init(&nets6, AF_INET6);
	return 0;
}

/*
 * Every network added is at least as narrow as the floors (merging
 * may make wider ones later, which is fine), and there are no more of
 * them than the bound; then the lists are merged, as for printing.
 */
static void
check_nets(void)
{
	size_t	 i;

	if (nets4.n + nets6.n > SPF_MAXNETS)
		abort();
	for (i = 0; i < nets4.n; i++)
		if (cidr_range_prefix(AF_INET, &nets4.r[i]) < CIDR_SENDER_MIN4)
			abort();
	for (i = 0; i < nets6.n; i++)
		if (cidr_range_prefix(AF_INET6, &nets6.r[i]) <
		    CIDR_SENDER_MIN6)
			abort();
	(void)walk_nets(AF_INET);
	(void)walk_nets(AF_INET6);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct spf_root	 root;
	static const int	 types[] = { ns_t_txt, ns_t_mx, ns_t_a,
				    ns_t_aaaa };
	struct query		*q;
	unsigned char		*msg;
	int			 mode, status, n;

	if (len < 3)
		return 0;
	memset(&root, 0, sizeof(root));
	strlcpy(root.name, "fuzz.test", sizeof(root.name));
	walk_start(&root);		/* queues the first TXT query */
	while ((q = qhead) != NULL) {
		qhead = q->next;
		free(q);
	}
	qtail = &qhead;
	mode = data[0] & 0x0f;
	status = statuses[(data[0] >> 4) % 8];
	if ((msg = malloc(len - 3 + 1)) == NULL)
		return 0;
	memcpy(msg, data + 3, len - 3);
	msg[len - 3] = '\0';

	if (mode % 5 == 4)
		walk_record(&root, 0, (char *)msg, root.name);
	else {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			abort();
		q->root = &root;
		q->kind = mode % 5 == 0 ? Q_SPF : mode % 5 == 1 ? Q_MX :
		    Q_ADDR;
		q->type = types[mode % 5];
		q->node = 0;
		/* As spf.c lets them by: the floors up to full length. */
		q->c4 = CIDR_SENDER_MIN4 + data[1] % (33 - CIDR_SENDER_MIN4);
		q->c6 = CIDR_SENDER_MIN6 + data[2] % (129 - CIDR_SENDER_MIN6);
		strlcpy(q->mech, mode % 5 == 0 ? "" : mode % 5 == 1 ? "mx" :
		    "a", sizeof(q->mech));
		strlcpy(q->name, root.name, sizeof(q->name));
		inflight = 1;
		answer(q, status, 0, msg, (int)(len - 3));
		if (inflight != 0)
			abort();
	}
	free(msg);

	if (root.nnodes > SPF_MAXNODES)
		abort();
	for (n = 0, q = qhead; q != NULL; q = q->next)
		n++;
	if (n > SPF_MAXLOOKUPS)
		abort();
	while ((q = qhead) != NULL) {
		qhead = q->next;
		free(q);
	}
	qtail = &qhead;
	check_nets();
	cidr_list_free(&nets4);
	cidr_list_free(&nets6);
	cidr_list_init(&nets4, AF_INET);
	cidr_list_init(&nets6, AF_INET6);
	return 0;
}
