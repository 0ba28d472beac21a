/* kd_runtime_exec_enter: a new process inside a running container.
 *
 * Order: compile the seccomp profile and join the container's cgroups while
 * host paths still mean the host; setns(pidfd, ...) into every namespace of
 * the container's init at once; fork, because a PID namespace applies to
 * children only; in the child the same finalisation as the container's init
 * (user, capabilities, no_new_privs, seccomp, cwd), then execve. The caller
 * waits and exits with the child's status, so the process that called us
 * looks like the command itself. Errors from the child come back on a
 * close-on-exec pipe (EOF = execve succeeded). */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime-internal.h"

typedef struct
{
  int32_t status;
  char msg[2048];
} kd_exec_msg_t;

static void __attribute__ ((noreturn))
exec_child (const kd_ctr_spec_t *spec, scmp_filter_ctx seccomp, char *const argv[],
            char *const env[], int errfd)
{
  /* Our parent as seen from here (0 when it is outside the container's PID
     namespace); a different one later means it died. */
  pid_t parent = getppid ();
  kd_exec_msg_t m = { 0 };
  kd_error_t err = NULL;
  char *path = NULL;
  sigset_t none;

  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  if (kd_rt_finalize (spec, seccomp, argv, env, &path, &err) == 0)
    {
      /* Set after the user switch, which clears it: the command dies with
         the process that runs it (a probe timeout kills that one). */
      prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (getppid () != parent)
        _exit (137);
      execve (path, argv, env);
      kd_make_error (&err, errno, "exec `%s`", argv[0]);
    }
  m.status = err->status;
  snprintf (m.msg, sizeof (m.msg), "%s", err->msg);
  if (write (errfd, &m, sizeof (m)) < 0)
    _exit (126);
  _exit (127);
}

int
kd_runtime_exec_enter (pid_t pid, const kd_ctr_spec_t *spec, char *const argv[], char *const env[],
                       kd_error_t *err)
{
  scmp_filter_ctx seccomp = NULL;
  cleanup_close int pidfd = -1, rd = -1, wr = -1;
  kd_exec_msg_t m;
  int fds[2], flags, status, r = -1;
  ssize_t n;
  pid_t child;

  if (argv == NULL || argv[0] == NULL)
    return kd_make_error (err, EINVAL, "exec: no command");
  if (env == NULL)
    env = spec->env;
  if (kd_rt_seccomp_build (spec, &seccomp, err) < 0)
    return -1;
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    {
      kd_make_error (err, errno, "exec: pidfd_open `%d`", (int) pid);
      goto out;
    }
  if (kd_rt_join_cgroups (spec, err) < 0)
    goto out;
  flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP
          | (spec->host_pid ? 0 : CLONE_NEWPID);
  if (setns (pidfd, flags) < 0)
    {
      kd_make_error (err, errno, "exec: setns `%d`", (int) pid);
      goto out;
    }
  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      kd_make_error (err, errno, "exec: pipe");
      goto out;
    }
  rd = fds[0];
  wr = fds[1];
  child = fork ();
  if (child < 0)
    {
      kd_make_error (err, errno, "exec: fork");
      goto out;
    }
  if (child == 0)
    {
      close (rd);
      exec_child (spec, seccomp, argv, env, wr);
    }
  close (steal_fd (&wr));
  do
    n = read (rd, &m, sizeof (m));
  while (n < 0 && errno == EINTR);
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      {
        kd_make_error (err, errno, "exec: waitpid `%d`", (int) child);
        goto out;
      }
  if (n == (ssize_t) sizeof (m))
    {
      m.msg[sizeof (m.msg) - 1] = '\0';
      kd_make_error (err, 0, "%s", m.msg);
      if (err != NULL && *err != NULL)
        (*err)->status = m.status;
      goto out;
    }
  if (seccomp != NULL)
    seccomp_release (seccomp);
  /* The command ran: its status is ours. */
  if (WIFSIGNALED (status))
    _exit (128 + WTERMSIG (status));
  _exit (WEXITSTATUS (status));
out:
  if (seccomp != NULL)
    seccomp_release (seccomp);
  return r;
}
