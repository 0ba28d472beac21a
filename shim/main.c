/* kubeletd-shim: `start` creates a pod's sandbox and becomes its shim;
 * `exec` runs a command inside one of its containers.
 *
 * `start`, in order (the numbers match the client's side in
 * pkg/shim/client.c):
 *  1. join the pod cgroup (children inherit it), unshare the requested
 *     namespaces, set the hostname;
 *  2. bind-mount /proc/self/ns/{net,ipc,uts} onto DIR/ns/<name> (empty files
 *     first), so the namespaces outlive any process and can be joined;
 *  3. double fork + setsid: the shim leaves kubeletd's process group and
 *     session, and the spawned process exits as soon as the shim exists;
 *  4. the shim becomes a child subreaper, writes DIR/shim.pid, listens on
 *     DIR/shim.sock, and only then writes "ok\n" on the ready fd.
 * Any failure writes "error: <message>\n" on the ready fd and undoes the
 * mounts. Static binary: nothing here may use NSS (no getpwnam). */
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "shim.h"

static const struct
{
  const char *name;
  int flag;
} ns_table[] = {
  { "net", CLONE_NEWNET },
  { "ipc", CLONE_NEWIPC },
  { "uts", CLONE_NEWUTS },
};

void
shim_cleanup_files (const char *pod_dir)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (ns_table); i++)
    {
      cleanup_free char *p = xasprintf ("%s/ns/%s", pod_dir, ns_table[i].name);
      /* Several bind mounts may be stacked there by a crashed earlier start. */
      while (umount2 (p, MNT_DETACH) == 0)
        ;
      unlink (p);
    }
  cleanup_free char *ns = xasprintf ("%s/ns", pod_dir);
  cleanup_free char *sock = xasprintf ("%s/shim.sock", pod_dir);
  cleanup_free char *pid = xasprintf ("%s/shim.pid", pod_dir);
  rmdir (ns);
  unlink (sock);
  unlink (pid);
}

/* kubeletd's process group gets SIGTERM/SIGINT/SIGHUP when it stops; the
   shim must not. A handler rather than SIG_IGN: handlers are reset by
   execve, SIG_IGN would be inherited by every container. */
static void
ignore_signal (int sig)
{
}

static void
report (int fd, const char *msg)
{
  struct sigaction ign = { .sa_handler = SIG_IGN }, old;
  cleanup_free char *line = NULL;

  if (fd < 0)
    return;
  line = msg ? xasprintf ("error: %s\n", msg) : xstrdup ("ok\n");
  for (char *p = line; p[1]; p++)
    if (*p == '\n')
      *p = ' ';
  /* A reader that went away must not kill us with SIGPIPE. */
  sigaction (SIGPIPE, &ign, &old);
  if (write (fd, line, strlen (line)) < 0)
    {
      /* the reader is gone; nothing to tell */
    }
  sigaction (SIGPIPE, &old, NULL);
}

static int
write_procs (const char *file, kd_error_t *err)
{
  char buf[32];
  int fd = open (file, O_WRONLY | O_CLOEXEC);
  int n = snprintf (buf, sizeof (buf), "%d\n", (int) getpid ());

  if (fd < 0)
    return kd_make_error (err, errno, "open `%s`", file);
  if (write (fd, buf, (size_t) n) != n)
    {
      int saved = errno;
      close (fd);
      return kd_make_error (err, saved, "write `%s`", file);
    }
  close (fd);
  return 0;
}

static int
mount_ns_handles (const char *pod_dir, int flags, kd_error_t *err)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (ns_table); i++)
    {
      cleanup_free char *dst = NULL;
      cleanup_free char *src = NULL;
      int fd;

      if (!(flags & ns_table[i].flag))
        continue;
      dst = xasprintf ("%s/ns/%s", pod_dir, ns_table[i].name);
      src = xasprintf ("/proc/self/ns/%s", ns_table[i].name);
      umount2 (dst, MNT_DETACH); /* a stale handle of an earlier shim */
      fd = open (dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
      if (fd < 0)
        return kd_make_error (err, errno, "create `%s`", dst);
      close (fd);
      if (mount (src, dst, NULL, MS_BIND, NULL) < 0)
        return kd_make_error (err, errno, "bind-mount `%s` on `%s`", src, dst);
    }
  return 0;
}

static int
listen_on (const char *path, kd_error_t *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;

  if (strlen (path) >= sizeof (sa.sun_path))
    return kd_make_error (err, 0, "socket path `%s` is too long", path);
  strcpy (sa.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return kd_make_error (err, errno, "socket");
  unlink (path);
  if (bind (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0)
    return kd_make_error (err, errno, "bind `%s`", path);
  if (chmod (path, 0600) < 0)
    return kd_make_error (err, errno, "chmod `%s`", path);
  if (listen (fd, 8) < 0)
    return kd_make_error (err, errno, "listen `%s`", path);
  return steal_fd (&fd);
}

/* 4. The shim proper: after the double fork. */
static void __attribute__ ((noreturn)) become_shim (const char *pod_dir, int ready_fd)
{
  cleanup_free char *pidfile = xasprintf ("%s/shim.pid", pod_dir);
  cleanup_free char *sock = xasprintf ("%s/shim.sock", pod_dir);
  cleanup_free char *logfile = xasprintf ("%s/shim.log", pod_dir);
  cleanup_free char *pid = xasprintf ("%d\n", (int) getpid ());
  kd_error_t err = NULL;
  int fd, lfd = -1;

  fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd >= 0)
    {
      dup2 (fd, 0);
      dup2 (fd, 1);
      close (fd);
    }
  /* The shim's own warnings (rare) go to a file beside its socket. */
  fd = open (logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      dup2 (fd, 2);
      close (fd);
    }
  if (chdir ("/") < 0 || prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    kd_make_error (&err, errno, "become a subreaper");
  else if (kd_write_file_atomic (pidfile, pid, strlen (pid), 0644, &err) >= 0)
    lfd = listen_on (sock, &err);
  if (lfd < 0)
    {
      report (ready_fd, err->msg);
      shim_cleanup_files (pod_dir);
      _exit (1);
    }
  report (ready_fd, NULL);
  close (ready_fd);
  shim_server_run (pod_dir, lfd);
}

static int
cmd_start (int argc, char **argv)
{
  static const struct option opts[] = {
    { "pod-dir", required_argument, NULL, 'd' },  { "hostname", required_argument, NULL, 'h' },
    { "new-net", no_argument, NULL, 'n' },        { "new-ipc", no_argument, NULL, 'i' },
    { "new-uts", no_argument, NULL, 'u' },        { "cgroup-procs", required_argument, NULL, 'c' },
    { "ready-fd", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 },
  };
  struct sigaction sa = { .sa_handler = ignore_signal, .sa_flags = SA_RESTART };
  const char *pod_dir = NULL, *hostname = NULL;
  char **procs = xcalloc ((size_t) argc + 1, sizeof (char *));
  size_t n_procs = 0;
  int flags = 0, ready_fd = -1, c;
  kd_error_t err = NULL;
  pid_t a;

  while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1)
    switch (c)
      {
      case 'd':
        pod_dir = optarg;
        break;
      case 'h':
        hostname = optarg;
        break;
      case 'n':
        flags |= CLONE_NEWNET;
        break;
      case 'i':
        flags |= CLONE_NEWIPC;
        break;
      case 'u':
        flags |= CLONE_NEWUTS;
        break;
      case 'c':
        procs[n_procs++] = optarg;
        break;
      case 'r':
        ready_fd = atoi (optarg);
        break;
      default:
        free (procs);
        return 2;
      }
  if (ready_fd >= 0)
    fcntl (ready_fd, F_SETFD, FD_CLOEXEC);
  if (pod_dir == NULL || pod_dir[0] != '/')
    {
      report (ready_fd, "start: --pod-dir must be an absolute path");
      free (procs);
      return 2;
    }
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);

  /* A live shim already owns this pod directory: starting a second one
     would steal its socket and namespace handles. */
  {
    cleanup_free char *pidfile = xasprintf ("%s/shim.pid", pod_dir);
    cleanup_free char *text = NULL;
    long old;
    if (kd_read_file (pidfile, 64, &text, NULL, NULL) == 0 && (old = strtol (text, NULL, 10)) > 0
        && kill ((pid_t) old, 0) == 0)
      {
        /* Not `goto fail`: the files belong to the running shim. */
        kd_make_error (&err, 0, "a shim (pid %ld) already runs for `%s`", old, pod_dir);
        report (ready_fd, err->msg);
        kd_error_release (&err);
        free (procs);
        return 1;
      }
  }

  /* 1. */
  {
    cleanup_free char *ns = xasprintf ("%s/ns", pod_dir);
    cleanup_free char *ctrs = xasprintf ("%s/containers", pod_dir);
    if (kd_mkdir_p (ns, 0755, &err) < 0 || kd_mkdir_p (ctrs, 0755, &err) < 0)
      goto fail;
  }
  for (size_t i = 0; i < n_procs; i++)
    if (write_procs (procs[i], &err) < 0)
      goto fail;
  if (flags && unshare (flags) < 0)
    {
      kd_make_error (&err, errno, "unshare");
      goto fail;
    }
  if (hostname && (flags & CLONE_NEWUTS) && sethostname (hostname, strlen (hostname)) < 0)
    {
      kd_make_error (&err, errno, "sethostname `%s`", hostname);
      goto fail;
    }
  /* 2. */
  if (mount_ns_handles (pod_dir, flags, &err) < 0)
    goto fail;

  /* 3. */
  a = fork ();
  if (a < 0)
    {
      kd_make_error (&err, errno, "fork");
      goto fail;
    }
  if (a == 0)
    {
      pid_t s;
      setsid ();
      s = fork ();
      if (s < 0)
        {
          kd_make_error (&err, errno, "fork");
          report (ready_fd, err->msg);
          shim_cleanup_files (pod_dir);
          _exit (1);
        }
      if (s == 0)
        become_shim (pod_dir, ready_fd);
      _exit (0);
    }
  free (procs);
  if (ready_fd >= 0)
    close (ready_fd);
  while (waitpid (a, &c, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED (c) ? WEXITSTATUS (c) : 1;

fail:
  report (ready_fd, err->msg);
  shim_cleanup_files (pod_dir);
  kd_error_release (&err);
  free (procs);
  return 1;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "start") == 0)
    return cmd_start (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "exec") == 0)
    return shim_exec_main (argc - 1, argv + 1);
  fprintf (stderr, "usage: kubeletd-shim start --pod-dir DIR [--hostname H] [--new-net] [--new-ipc]"
                   " [--new-uts] [--cgroup-procs FILE]... --ready-fd N\n"
                   "       kubeletd-shim exec --pod-dir DIR --id CID [--env K=V]... -- CMD...\n");
  return 2;
}
