/*
 * The records between the engine and the greylister (spamd/greymsg.c):
 * only exactly one record of our version passes, checked alone and
 * received over a SOCK_SEQPACKET socketpair as the two processes do.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "greymsg.h"
#include "tap.h"


static union {
	struct grey_msg	m;
	char		raw[sizeof(struct grey_msg) + 1];
} rec;

static void
check(void)
{
	size_t	 n = sizeof(struct grey_msg);

	memset(&rec, 0, sizeof(rec));
	rec.m.version = GREYMSG_VERSION;
	rec.m.type = GM_TUPLE;
	ok(greymsg_check(&rec, n, "test") == 0, "sizeof: taken");
	ok(greymsg_check(&rec, n - 1, "test") == -1, "sizeof-1: dropped");
	ok(greymsg_check(&rec, n + 1, "test") == -1, "sizeof+1: dropped");
	ok(greymsg_check(&rec, 0, "test") == -1, "0 bytes: dropped");
	rec.m.version = GREYMSG_VERSION + 1;
	ok(greymsg_check(&rec, n, "test") == -1, "wrong version: dropped");
}

static void
recv_all(void)
{
	struct grey_msg	 m;
	size_t		 n = sizeof(struct grey_msg);
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == -1) {
		perror("socketpair");
		ok(0, "socketpair");
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.m.version = GREYMSG_VERSION;
	rec.m.type = GM_TRAP_ADD;
	addr_parse(&rec.m.ip, "192.0.2.1");
	ok(greymsg_recv(sp[0], &m, "test") == GMR_NONE, "nothing sent: none");
	if (send(sp[1], &rec, n, 0) == -1 ||
	    send(sp[1], &rec, n - 1, 0) == -1 ||
	    send(sp[1], &rec, n + 1, 0) == -1)
		perror("send");
	memset(&m, 0, sizeof(m));
	ok(greymsg_recv(sp[0], &m, "test") == GMR_RECORD &&
	    m.type == GM_TRAP_ADD && addr_cmp(&m.ip, &rec.m.ip) == 0,
	    "sizeof: received whole");
	ok(greymsg_recv(sp[0], &m, "test") == GMR_DROPPED,
	    "sizeof-1: dropped");
	ok(greymsg_recv(sp[0], &m, "test") == GMR_DROPPED,
	    "sizeof+1: dropped, not cut to size");
	rec.m.version = 0;
	if (send(sp[1], &rec, n, 0) == -1)
		perror("send");
	ok(greymsg_recv(sp[0], &m, "test") == GMR_DROPPED,
	    "wrong version: dropped");
	close(sp[1]);
	ok(greymsg_recv(sp[0], &m, "test") == GMR_EOF, "peer closed: eof");
	close(sp[0]);
}

int
main(void)
{
	check();
	recv_all();
	return tap_done();
}
