/*
 * The one netlink transport to nf_tables: a socket sized for large
 * batches, batches of set-element messages that the kernel applies as
 * one transaction, requests with their replies, and the collection of
 * the kernel's answers to a batch, naming the message that failed.
 * Used by: lib/nftset.c (the whitelist sets of spamd, spamlogd and
 * spamdb), spamd-setup/nftblack.c (the blacklist interval sets) and
 * regress/tools/nftset-tool.c (set dumps and lookups).
 *
 * A handle belongs to one inet table.  Build a batch with nlb_begin,
 * then messages (nlb_msg_open, nlb_elem..., nlb_msg_close), then send
 * it with nlb_commit.  Functions return 0, or -1 with errno set; the
 * transport logs what goes wrong in sending and receiving, and names a
 * refused message with the caller's words.
 */
#ifndef SPAMD_NLBATCH_H
#define SPAMD_NLBATCH_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/*
 * Elements per element message.  The element list is one netlink nest
 * with a 16-bit length: about 2,300 IPv4 elements with timeouts fit, and
 * past that the kernel fails every message with a misleading ENOENT.
 */
#define NLB_ELEMS_PER_MSG	1000
/* One encoded element at most: a flag, a timeout and an IPv6 key. */
#define NLB_ELEM_MAXLEN		64
/* The largest batch built: socket buffer sizes are ints. */
#define NLB_BATCH_MAX		(256UL * 1024 * 1024)

/* What an element message of the batch carried, to name a failure. */
struct nlb_msg {
	uint32_t	 seq;
	const char	*set;
	const char	*what;		/* "add", "delete", "flush", ... */
	size_t		 first;		/* the caller's index of its first */
	size_t		 count;		/* elements; 0 for a flush */
};

/*
 * The caller's words for a refused message, which the transport logs:
 * elem names the first element of m into buf (NULL: elements are not
 * named), hint gives advice for the kernel's errno ("" or NULL: none
 * beyond the transport's own).
 */
struct nlb_report {
	void		 (*elem)(const struct nlb_msg *m, char *buf,
			    size_t len, void *arg);
	const char	*(*hint)(int error);
	void		*arg;
	int		 quiet;		/* log nothing: the caller will */
};

struct nlbatch;

/* A socket for table (inet): open while privileged.  NULL, logged. */
struct nlbatch	*nlb_open(const char *table);
void		 nlb_close(struct nlbatch *);
const char	*nlb_table(const struct nlbatch *);

/* Start a new batch, forgetting anything built and not sent. */
int		 nlb_begin(struct nlbatch *);
/*
 * Open an element message (NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM)
 * for set, closing the one open before, with room for nmax elements
 * (at most NLB_ELEMS_PER_MSG).  With list 0 the message carries no
 * element list: a DELSETELEM without one flushes the set.  what and
 * first name the message in reports; set and what must outlive the
 * batch.
 */
int		 nlb_msg_open(struct nlbatch *, uint16_t type, uint16_t flags,
		    const char *set, int list, const char *what, size_t first,
		    size_t nmax);
/*
 * Append one element with its key (4 or 16 bytes for af), a timeout
 * (0: the set's default) and element flags (NFT_SET_ELEM_*, 0: none).
 * E2BIG past the message's nmax.
 */
int		 nlb_elem(struct nlbatch *, int af, const void *key,
		    uint64_t timeout_ms, uint32_t flags);
/* Elements in the open message, 0 if none is open. */
size_t		 nlb_msg_count(const struct nlbatch *);
int		 nlb_msg_close(struct nlbatch *);
/* Messages and bytes of the batch built so far. */
size_t		 nlb_nmsgs(const struct nlbatch *);
size_t		 nlb_len(const struct nlbatch *);

/*
 * End the batch, send it in one sendmsg() and read every answer.  The
 * first refused message is logged in the words of report (may be NULL)
 * and errno is the kernel's.  The batch is gone afterwards, whatever
 * the outcome.
 */
int		 nlb_commit(struct nlbatch *, const struct nlb_report *);
/*
 * The first message refused by the last nlb_commit, or NULL (none, or
 * the batch as a whole was refused).  For callers that report quietly.
 */
const struct nlb_msg *nlb_refused(const struct nlbatch *);
/* The transport's own advice for an errno ("" for none). */
const char	*nlb_hint(int error);
/* Forget the batch, and free large buffers rather than keeping them. */
void		 nlb_discard(struct nlbatch *);

/*
 * A request outside batches (GET, dump): nlb_seq gives its sequence
 * number; nlb_request sends nlh and feeds the replies to cb until the
 * kernel is done.  errno is the kernel's on an error reply.
 */
uint32_t	 nlb_seq(struct nlbatch *);
int		 nlb_request(struct nlbatch *, struct nlmsghdr *nlh,
		    mnl_cb_t cb, void *arg);

/* Append one element to an element list being built by the caller. */
int		 nlb_put_elem(struct nlmsghdr *, size_t room, int af,
		    const void *key, uint64_t timeout_ms, uint32_t flags);
/* Header, table and set of an element message in buf: NULL if no room. */
struct nlmsghdr	*nlb_put_msg(char *buf, size_t room, uint16_t type,
		    uint16_t flags, uint32_t seq, const char *table,
		    const char *set);

#endif
