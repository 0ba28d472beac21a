/* kd_runtime_spawn: clone3 into new namespaces, the container's setup in
 * the child, and the sync socket over which the child reports each step.
 *
 * The sync protocol (SOCK_SEQPACKET, one message per send, close-on-exec):
 *   sync 1  child -> parent  KD_SYNC_READY: setup done, about to execve.
 *   sync 2  the socket reaches EOF: execve succeeded (close-on-exec).
 *   any     child -> parent  KD_SYNC_ERROR {errno, "<step>: <call> `<arg>`"}:
 *           the child failed (before or at execve) and exits 127.
 * EOF before sync 1 means the child died during setup.
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime-internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum
{
  KD_SYNC_READY = 1,
  KD_SYNC_ERROR = 2,
};

typedef struct
{
  int32_t type;
  int32_t status; /* errno */
  char msg[2048];
} kd_sync_msg_t;

/* ---- child side ------------------------------------------------------ */

static void
sync_send (int fd, int type, int status, const char *msg)
{
  kd_sync_msg_t m = { .type = type, .status = status };
  if (msg != NULL)
    snprintf (m.msg, sizeof (m.msg), "%s", msg);
  while (send (fd, &m, sizeof (m), MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;
}

/* Signals: a clean slate for the container (the shim blocks and handles
   some; ignored dispositions would survive execve). */
static void
reset_signals (void)
{
  sigset_t all;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
}

static int
setup_stdio (const int stdio[3], kd_error_t *err)
{
  int fds[3];

  /* Above 2 first, so that dup2 cannot clobber a source not yet used. */
  for (int i = 0; i < 3; i++)
    {
      int src = stdio[i] >= 0 ? stdio[i] : open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (src < 0)
        return kd_make_error (err, errno, "stdio: open `/dev/null`");
      fds[i] = fcntl (src, F_DUPFD_CLOEXEC, 3);
      if (fds[i] < 0)
        return kd_make_error (err, errno, "stdio: dup `%d`", src);
    }
  for (int i = 0; i < 3; i++)
    if (dup2 (fds[i], i) < 0)
      return kd_make_error (err, errno, "stdio: dup2 `%d`", i);
  return 0;
}

static int
set_oom_score_adj (int adj, kd_error_t *err)
{
  char buf[16];
  cleanup_close int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  int n = snprintf (buf, sizeof (buf), "%d", adj);

  if (fd < 0)
    return kd_make_error (err, errno, "oom_score_adj: open `/proc/self/oom_score_adj`");
  /* Lowering it needs CAP_SYS_RESOURCE, which a node may not give us:
     then the container keeps the shim's score rather than failing. */
  if (write (fd, buf, (size_t) n) < 0 && errno != EACCES && errno != EPERM)
    return kd_make_error (err, errno, "oom_score_adj: write `%d`", adj);
  return 0;
}

static int
child_setup (const kd_ctr_spec_t *spec, const int stdio[3], int sync_fd, bool new_cgroupns,
             scmp_filter_ctx seccomp, char **path, kd_error_t *err)
{
  if (setup_stdio (stdio, err) < 0)
    return -1;
  if (setsid () < 0)
    return kd_make_error (err, errno, "setsid");
  if (spec->tty && ioctl (0, TIOCSCTTY, 0) < 0)
    return kd_make_error (err, errno, "tty: ioctl `TIOCSCTTY`");
  reset_signals ();
  /* Nothing of the shim's (sockets, log pipes) leaks into the container. */
  if (syscall (SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return kd_make_error (err, errno, "close_range");
  /* The cgroup first, then the cgroup namespace: its root is the cgroup
     the process is in when it is created. */
  if (kd_rt_join_cgroups (spec, err) < 0)
    return -1;
  if (new_cgroupns && unshare (CLONE_NEWCGROUP) < 0)
    return kd_make_error (err, errno, "unshare `CLONE_NEWCGROUP`");
  if (set_oom_score_adj (spec->oom_score_adj, err) < 0)
    return -1;
  if (kd_rt_setup_rootfs (spec, err) < 0)
    return -1;
  return kd_rt_finalize (spec, seccomp, spec->argv, spec->env, path, err);
}

static void __attribute__ ((noreturn))
child_main (const kd_ctr_spec_t *spec, const int stdio[3], int sync_fd, bool new_cgroupns,
            scmp_filter_ctx seccomp)
{
  kd_error_t err = NULL;
  char *path = NULL;

  if (child_setup (spec, stdio, sync_fd, new_cgroupns, seccomp, &path, &err) < 0)
    {
      sync_send (sync_fd, KD_SYNC_ERROR, err->status, err->msg);
      _exit (127);
    }
  /* sync 1 */
  sync_send (sync_fd, KD_SYNC_READY, 0, NULL);
  execve (path, spec->argv, spec->env);
  {
    int e = errno;
    char msg[1024];
    snprintf (msg, sizeof (msg), "exec `%s`: %s", spec->argv[0], strerror (e));
    sync_send (sync_fd, KD_SYNC_ERROR, e, msg);
  }
  _exit (127);
}

/* ---- parent side ----------------------------------------------------- */

/* Reads one message; 0 on EOF, 1 with a message. */
static int
sync_recv (int fd, kd_sync_msg_t *m, kd_error_t *err)
{
  ssize_t n;
  do
    n = recv (fd, m, sizeof (*m), 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return kd_make_error (err, errno, "sync: recv");
  if (n == 0)
    return 0;
  if ((size_t) n != sizeof (*m))
    return kd_make_error (err, EPROTO, "sync: short message");
  m->msg[sizeof (m->msg) - 1] = '\0';
  return 1;
}

static void
kill_and_reap (int pidfd)
{
  siginfo_t si;
  syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  while (waitid (P_PIDFD, (id_t) pidfd, &si, WEXITED) < 0 && errno == EINTR)
    ;
}

static int
child_error (const kd_sync_msg_t *m, kd_error_t *err)
{
  kd_make_error (err, 0, "%s", m->msg);
  if (err != NULL && *err != NULL)
    (*err)->status = m->status;
  return -1;
}

int
kd_runtime_spawn (const kd_ctr_spec_t *spec, const int stdio[3], pid_t *pid, int *pidfd,
                  kd_error_t *err)
{
  struct clone_args args = { 0 };
  scmp_filter_ctx seccomp = NULL;
  cleanup_close int parent_fd = -1, child_fd = -1, cfd = -1;
  kd_sync_msg_t *m = NULL;
  bool new_cgroupns;
  int sv[2], r;
  long ret;

  if (spec->argv == NULL || spec->argc == 0 || spec->argv[0] == NULL)
    return kd_make_error (err, EINVAL, "spawn: no command");
  /* Compiled here: a bad Localhost profile fails before anything exists. */
  if (kd_rt_seccomp_build (spec, &seccomp, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      r = kd_make_error (err, errno, "spawn: socketpair");
      goto out;
    }
  parent_fd = sv[0];
  /* Above the stdio numbers, which the child overwrites. */
  child_fd = fcntl (sv[1], F_DUPFD_CLOEXEC, 3);
  close (sv[1]);
  if (child_fd < 0)
    {
      r = kd_make_error (err, errno, "spawn: dup");
      goto out;
    }

  /* With cgroups to join, the child unshares its cgroup namespace after
     joining them (clone3's CLONE_INTO_CGROUP is v2 only); else at clone. */
  new_cgroupns = spec->n_cgroup_procs > 0;
  args.flags = CLONE_PIDFD | CLONE_NEWNS | (spec->host_pid ? 0 : CLONE_NEWPID)
               | (new_cgroupns ? 0 : CLONE_NEWCGROUP);
  args.pidfd = (uint64_t) (uintptr_t) &cfd;
  args.exit_signal = SIGCHLD;
  ret = syscall (SYS_clone3, &args, sizeof (args));
  if (ret < 0)
    {
      r = kd_make_error (err, errno, "spawn: clone3");
      goto out;
    }
  if (ret == 0)
    {
      close (parent_fd);
      child_main (spec, stdio, child_fd, new_cgroupns, seccomp);
    }
  close (steal_fd (&child_fd));

  m = xmalloc (sizeof (*m));
  r = sync_recv (parent_fd, m, err);
  if (r == 0)
    r = kd_make_error (err, 0, "container init exited during setup");
  else if (r > 0 && m->type == KD_SYNC_ERROR)
    r = child_error (m, err);
  else if (r > 0)
    {
      /* sync 1 received; sync 2 is EOF at execve, or an error from it. */
      r = sync_recv (parent_fd, m, err);
      if (r > 0)
        r = m->type == KD_SYNC_ERROR ? child_error (m, err)
                                     : kd_make_error (err, EPROTO, "sync: unexpected message");
    }
  if (r < 0)
    {
      kill_and_reap (cfd);
      goto out;
    }
  *pid = (pid_t) ret;
  *pidfd = steal_fd (&cfd);
  r = 0;
out:
  free (m);
  if (seccomp != NULL)
    seccomp_release (seccomp);
  return r;
}
