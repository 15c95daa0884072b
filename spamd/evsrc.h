/*
 * What the engine's epoll data points at.  Every descriptor the engine
 * watches (a client, a listener, the greylister, the sync socket, the
 * configuration socket's listeners, connection and timer) is held in a
 * struct that begins with a struct evsrc, and the loop hands each event
 * to its ev: the loop need not know one kind of source from another.
 */
#ifndef SPAMD_EVSRC_H
#define SPAMD_EVSRC_H

#include <sys/epoll.h>

#include <stdint.h>
#include <string.h>

struct evsrc {
	/* src is the struct evsrc that begins the source's own struct. */
	void	(*ev)(struct evsrc *src, uint32_t events);
	struct evsrc	*dead;	/* engine_free: freed after the batch */
};

/* epoll_ctl(2) with src as the event's data: 0, or -1 and errno. */
static inline int
evsrc_ctl(int epfd, int op, int fd, uint32_t events, struct evsrc *src)
{
	struct epoll_event	 e;

	memset(&e, 0, sizeof(e));
	e.events = events;
	e.data.ptr = src;
	return epoll_ctl(epfd, op, fd, &e);
}

#endif
