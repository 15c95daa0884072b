/*
 * Address ranges for blacklists, IPv4 and IPv6: parsing list entries
 * (an address, a CIDR block, or a range "a - b"), sorting and merging,
 * subtracting a white list from a black list, and covering a range with
 * the fewest CIDR blocks.  An address is a 128-bit number in host order
 * (IPv4 in the low 32 bits), so range ends are plain arithmetic and the
 * ends of the address space need no special casing by callers.
 * Used by: spamd (blacklists, config socket), spamd-setup (lists),
 * spfwalk (the addresses an SPF walk finds).
 */
#ifndef SPAMD_CIDR_H
#define SPAMD_CIDR_H

#include <stddef.h>
#include <stdint.h>

/* Longest text of "address/bits" or of one address, NUL included. */
#define CIDR_STRLEN	(46 + 4)
/* Entries one list may hold: a bound on memory, not a format limit. */
#define CIDR_MAXENTRIES	(1UL << 24)

struct cidr_ip {
	uint64_t	hi;
	uint64_t	lo;
};

struct cidr_range {
	struct cidr_ip	start;
	struct cidr_ip	end;		/* inclusive */
};

/* Ranges of one family; "normalized": sorted, disjoint, not adjacent. */
struct cidr_list {
	struct cidr_range *r;
	size_t		 n;
	size_t		 cap;
	int		 af;		/* AF_INET or AF_INET6 */
};

int	cidr_bits(int af);		/* 32 or 128 */
int	cidr_cmp(const struct cidr_ip *, const struct cidr_ip *);
void	cidr_ip_from_bytes(int af, const void *, struct cidr_ip *);
void	cidr_ip_to_bytes(int af, const struct cidr_ip *, void *);
const char *cidr_ip_str(int af, const struct cidr_ip *, char *, size_t);
/* The block of `bits' at ip, host bits cleared.  0, or -1 if bits bad. */
int	cidr_block(int af, const struct cidr_ip *ip, int bits,
	    struct cidr_range *);

/*
 * One address, "addr/bits" (host bits are cleared) or "a - b" (blanks
 * around the dash optional), the whole string.  Returns 0 and the family
 * and range, or -1 with the reason in err.
 */
int	cidr_parse(const char *, int *af, struct cidr_range *,
	    char *err, size_t errlen);

/*
 * One line of an address list: leading blanks are skipped, empty lines
 * and lines starting with '#' or ';' are comments, and text after the
 * entry is ignored if it is separated by a blank, '#', ';' or ','.
 * Returns 1 and the entry, 0 for a comment, -1 with the reason in err.
 */
int	cidr_parse_line(const char *line, size_t len, int *af,
	    struct cidr_range *, char *err, size_t errlen);

void	cidr_list_init(struct cidr_list *, int af);
void	cidr_list_free(struct cidr_list *);
/* Append; -1 (ENOMEM, E2BIG past CIDR_MAXENTRIES). */
int	cidr_list_add(struct cidr_list *, const struct cidr_range *);
/* Sort and merge overlapping and adjacent ranges. */
void	cidr_list_normalize(struct cidr_list *);
/* black -= white, both normalized; black stays normalized.  0 or -1. */
int	cidr_list_subtract(struct cidr_list *black,
	    const struct cidr_list *white);
/* dst |= src; dst is normalized afterwards.  0 or -1. */
int	cidr_list_union(struct cidr_list *dst, const struct cidr_list *src);
/* Number of addresses, saturated at UINT64_MAX (for messages). */
uint64_t cidr_list_size(const struct cidr_list *);

/*
 * The widest network a large sender's SPF record may name, and so the
 * widest line of a nospamd file: prefixes shorter than these are
 * refused by spfwalk and spamd-setup.  The networks big senders publish
 * are /14 and narrower (IPv4) and /32 and narrower (IPv6); a wider one
 * is a mistake or a forged answer, and would let a good share of the
 * Internet past spamd.  See spfwalk(8).
 */
#define CIDR_SENDER_MIN4	12
#define CIDR_SENDER_MIN6	24

/*
 * How wide a range, or all the ranges of a list, are: the prefix length
 * of the smallest CIDR block with as many addresses.  32 (IPv4) or 128
 * (IPv6) for one address, 0 for the whole space; a list of blocks of
 * /N that add up to 2^k blocks gives N - k.  For bounds on what a list
 * may cover.
 */
int	cidr_range_prefix(int af, const struct cidr_range *);
int	cidr_list_prefix(const struct cidr_list *);

/*
 * Covering a range with CIDR blocks: the largest block that starts at
 * *ip and ends at or before end has cidr_first_block() bits; then
 * cidr_next_block() moves *ip past it and returns 0, or 1 once the range
 * (or the address space) is done.
 */
int	cidr_first_block(int af, const struct cidr_ip *ip,
	    const struct cidr_ip *end);
int	cidr_next_block(int af, struct cidr_ip *ip, int bits,
	    const struct cidr_ip *end);
/* Blocks the whole list takes. */
size_t	cidr_list_nblocks(const struct cidr_list *);

#endif
