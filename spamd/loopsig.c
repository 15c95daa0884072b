/*
 * The signal idiom of spamd's two loops, the engine's epoll_pwait and
 * the greylister's ppoll: the handler only sets a flag, and the signals
 * are blocked except inside the wait, so one that comes just before the
 * wait ends it at once instead of waiting out its timeout.
 */
#include <signal.h>
#include <string.h>

#include "log.h"
#include "spamd.h"

void
loopsig_init(void (*handler)(int), const int *sigs, size_t nsigs,
    sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t	 block;
	size_t		 i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	sigemptyset(&block);
	for (i = 0; i < nsigs; i++) {
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction %d", sigs[i]);
		sigaddset(&block, sigs[i]);
	}
	if (sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
		fatal("sigprocmask");
	for (i = 0; i < nsigs; i++)
		sigdelset(waitmask, sigs[i]);
}
