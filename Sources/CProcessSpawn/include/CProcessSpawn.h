// The few spawn and pipe calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc
// module does not see. Each wrapper has a portable fallback.
#ifndef C_PROCESS_SPAWN_H
#define C_PROCESS_SPAWN_H

#include <spawn.h>

/// pipe2(fds, O_CLOEXEC), or pipe + FD_CLOEXEC where pipe2 does not exist. Returns 0 or -1 (errno set).
int runbook_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np. Returns 0 or an error number (ENOSYS where unsupported).
int runbook_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child closes every descriptor from
/// `from` up. Returns 0 or an error number (ENOSYS where unsupported).
int runbook_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// POSIX_SPAWN_SETSID, or 0 where the platform has no such flag.
short runbook_spawn_setsid_flag(void);

#endif
