/*
 * Privilege drop.  The SMTP engine keeps nothing; the greylister and
 * spamlogd keep CAP_NET_ADMIN for netlink, which is what setresuid()
 * would otherwise take away, hence PR_SET_KEEPCAPS and capset(2).
 * capset is called through syscall(2): libcap is not one of the suite's
 * libraries and this is its only use.
 * Used by: spamd, spamlogd, spamd-setup.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

void
priv_drop(const struct passwd *pw, const char *chroot_dir, uint64_t caps)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	int				 cap;

	if (chroot_dir != NULL) {
		if (chroot(chroot_dir) == -1)
			fatal("chroot %s", chroot_dir);
		if (chdir("/") == -1)
			fatal("chdir / in %s", chroot_dir);
	}

	/* The bounding set can only shrink while CAP_SETPCAP is ours. */
	for (cap = 0; cap <= 63; cap++) {
		if (caps & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EINVAL)
			fatal("prctl PR_CAPBSET_DROP %d", cap);
	}
	if (caps != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		fatal("prctl PR_SET_KEEPCAPS");

	if (setgroups(1, &pw->pw_gid) == -1)
		fatal("setgroups %s", pw->pw_name);
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1)
		fatal("setresgid %s", pw->pw_name);
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("setresuid %s", pw->pw_name);

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	data[0].effective = data[0].permitted = (uint32_t)caps;
	data[1].effective = data[1].permitted = (uint32_t)(caps >> 32);
	if (syscall(SYS_capset, &hdr, data) == -1)
		fatal("capset");
	if (caps != 0 && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		fatal("prctl PR_SET_KEEPCAPS off");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl PR_SET_NO_NEW_PRIVS");
}
