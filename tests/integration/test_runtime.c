/* The container runtime from the inside: containers spawned with
 * kd_runtime_spawn (stdout/stderr to pipes, as the shim does) run the test
 * payload, which reports what the container sees.
 *
 * Needs root and kernel features (clone3, overlayfs, openat2); exits 77
 * without them. The program first moves itself into new network, IPC and
 * UTS namespaces (the pod sandbox the shim would be), so that sysctls and
 * the hostname never touch the host. Everything lives under one temporary
 * directory; the containers' mounts live in their own mount namespaces and
 * go away with them. */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "kubeletd/runtime.h"

static char *base_dir;   /* the test's temporary directory */
static char *lower_dir;  /* the busybox rootfs with /bin/kd-payload */
static int n_containers; /* for fresh upper/work directories */

#define DOCKER_DEFAULT_CAPS "00000000a80425fb"

/* ---- helpers --------------------------------------------------------- */

static char **
strv (const char *first, va_list ap, size_t *n)
{
  char **v = xcalloc (32, sizeof (char *));
  *n = 0;
  for (const char *s = first; s != NULL && *n < 31; s = va_arg (ap, const char *))
    v[(*n)++] = xstrdup (s);
  return v;
}

/* A spec for /bin/kd-payload ARGS... on an overlay of the test rootfs,
   with Docker's default capabilities and no seccomp. */
static void
spec_init (kd_ctr_spec_t *s, const char *arg, ...)
{
  va_list ap;
  char *dir;

  memset (s, 0, sizeof (*s));
  s->id = xstrdup ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  s->name = xstrdup ("test");
  va_start (ap, arg);
  {
    size_t n;
    char **rest = strv (arg, ap, &n);
    s->argv = xcalloc (n + 2, sizeof (char *));
    s->argv[0] = xstrdup ("/bin/kd-payload");
    for (size_t i = 0; i < n; i++)
      s->argv[i + 1] = rest[i];
    s->argc = n + 1;
    free (rest);
  }
  va_end (ap);
  s->env = xcalloc (3, sizeof (char *));
  s->env[0] = xstrdup ("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
  s->env[1] = xstrdup ("KD_TEST=1");
  s->n_env = 2;
  dir = xasprintf ("%s/c%d", base_dir, ++n_containers);
  s->upperdir = xasprintf ("%s/upper", dir);
  s->workdir = xasprintf ("%s/work", dir);
  s->rootfs = xasprintf ("%s/merged", dir);
  assert_int_equal (mkdir (dir, 0700), 0);
  assert_int_equal (mkdir (s->upperdir, 0755), 0);
  assert_int_equal (mkdir (s->workdir, 0700), 0);
  assert_int_equal (mkdir (s->rootfs, 0755), 0);
  free (dir);
  s->lowerdirs = xcalloc (2, sizeof (char *));
  s->lowerdirs[0] = xstrdup (lower_dir);
  s->n_lowerdirs = 1;
  s->cap_bounding = s->cap_effective = s->cap_permitted = kd_caps_default ();
  s->seccomp = KD_SECCOMP_UNCONFINED;
  s->stop_signal = SIGTERM;
}

static void
add_mount (kd_ctr_spec_t *s, const char *src, const char *dst, const char *type, const char *data,
           bool ro)
{
  s->mounts = xrealloc (s->mounts, (s->n_mounts + 1) * sizeof (kd_mount_t));
  s->mounts[s->n_mounts++] = (kd_mount_t){ .source = xstrdup (src),
                                           .destination = xstrdup (dst),
                                           .type = xstrdup (type),
                                           .data = data ? xstrdup (data) : NULL,
                                           .readonly = ro };
}

/* Reads both pipes until EOF into out/errout (allocated). */
static void
drain (int ofd, int efd, char **out, char **errout)
{
  kd_buf_t ob = { 0 }, eb = { 0 };
  struct pollfd p[2] = { { .fd = ofd, .events = POLLIN }, { .fd = efd, .events = POLLIN } };
  int open_fds = 2;

  kd_buf_puts (&ob, "");
  kd_buf_puts (&eb, "");
  while (open_fds > 0)
    {
      char buf[4096];
      assert_true (poll (p, 2, 30000) > 0);
      for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP)))
          {
            ssize_t n = read (p[i].fd, buf, sizeof (buf));
            if (n <= 0)
              {
                p[i].fd = -1;
                open_fds--;
              }
            else
              kd_buf_append (i == 0 ? &ob : &eb, buf, (size_t) n);
          }
    }
  *out = kd_buf_steal (&ob);
  *errout = kd_buf_steal (&eb);
}

/* Spawns the spec, collects its output and exit status. Returns the spawn
   result; on failure *msg is the error message. */
static int
run (const kd_ctr_spec_t *s, char **out, int *status, char **msg)
{
  int o[2], e[2], stdio[3], pidfd = -1, r;
  kd_error_t err = NULL;
  cleanup_free char *errout = NULL;
  siginfo_t si = { 0 };
  pid_t pid = -1;

  assert_int_equal (pipe2 (o, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (e, O_CLOEXEC), 0);
  stdio[0] = -1;
  stdio[1] = o[1];
  stdio[2] = e[1];
  r = kd_runtime_spawn (s, stdio, &pid, &pidfd, &err);
  close (o[1]);
  close (e[1]);
  if (r < 0)
    {
      *msg = xstrdup (err->msg);
      kd_error_release (&err);
      close (o[0]);
      close (e[0]);
      return r;
    }
  drain (o[0], e[0], out, &errout);
  close (o[0]);
  close (e[0]);
  assert_int_equal (waitid (P_PIDFD, (id_t) pidfd, &si, WEXITED), 0);
  close (pidfd);
  *status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
  if (*errout != '\0')
    fprintf (stderr, "container stderr: %s", errout);
  return 0;
}

/* Runs and expects success with exit 0; returns stdout. */
static char *
run_ok (const kd_ctr_spec_t *s)
{
  char *out = NULL, *msg = NULL;
  int status = -1;

  if (run (s, &out, &status, &msg) < 0)
    fail_msg ("spawn: %s", msg);
  assert_int_equal (status, 0);
  return out;
}

static char *
run_fail (const kd_ctr_spec_t *s)
{
  char *out = NULL, *msg = NULL;
  int status = -1;

  if (run (s, &out, &status, &msg) == 0)
    fail_msg ("spawn succeeded, exit %d, output: %s", status, out);
  return msg;
}

/* The value of "Key:\t..." in payload status output. */
static char *
status_field (const char *out, const char *key)
{
  cleanup_free char *k = xasprintf ("%s:\t", key);
  const char *p = strstr (out, k);
  if (p == NULL)
    fail_msg ("no %s in: %s", key, out);
  p += strlen (k);
  return xstrndup (p, strcspn (p, "\n"));
}

/* mountinfo: the fstype and mount options of the mount at mnt (the last one
   listed there, which is the visible one). */
static bool
find_mount (const char *mountinfo, const char *mnt, char **fstype, char **opts)
{
  cleanup_free char *copy = xstrdup (mountinfo);
  char *save = NULL;
  bool found = false;

  for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char m[4096], o[1024], t[64];
      const char *sep = strstr (line, " - ");
      if (sep == NULL || sscanf (line, "%*s %*s %*s %*s %4095s %1023s", m, o) != 2
          || sscanf (sep + 3, "%63s", t) != 1 || strcmp (m, mnt) != 0)
        continue;
      free (*fstype);
      free (*opts);
      *fstype = xstrdup (t);
      *opts = xstrdup (o);
      found = true;
    }
  return found;
}

static bool
has_line (const char *out, const char *line)
{
  size_t n = strlen (line);
  for (const char *p = out; p != NULL && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
      return true;
  return false;
}

static uint64_t
our_cap_bounding (void)
{
  cleanup_free char *text = NULL, *v = NULL;
  size_t len;
  kd_error_t err = NULL;

  assert_int_equal (kd_read_file ("/proc/self/status", 1 << 16, &text, &len, &err), 0);
  v = status_field (text, "CapBnd");
  return strtoull (v, NULL, 16);
}

/* ---- tests ----------------------------------------------------------- */

static void
test_container_process_is_pid_1 (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL;

  spec_init (&s, "pid", NULL);
  out = run_ok (&s);
  assert_string_equal (out, "pid=1 ppid=0\n");
  kd_ctr_spec_free (&s);
}

static void
test_mount_table_has_overlay_root_and_the_standard_mounts (void **state)
{
  static const struct
  {
    const char *mnt, *type;
    bool ro;
  } want[] = {
    { "/", "overlay", false },      { "/proc", "proc", false },
    { "/dev", "tmpfs", false },     { "/dev/pts", "devpts", false },
    { "/dev/shm", "tmpfs", false }, { "/dev/mqueue", "mqueue", false },
    { "/sys", "sysfs", true },      { "/sys/fs/cgroup", NULL, true },
    { "/proc/sys", "proc", true },  { "/proc/keys", NULL, false },
  };
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL;

  spec_init (&s, "mounts", NULL);
  out = run_ok (&s);
  for (size_t i = 0; i < KD_ARRAY_SIZE (want); i++)
    {
      cleanup_free char *type = NULL, *opts = NULL;
      if (!find_mount (out, want[i].mnt, &type, &opts))
        fail_msg ("no mount at %s in:\n%s", want[i].mnt, out);
      if (want[i].type != NULL)
        assert_string_equal (type, want[i].type);
      assert_int_equal (kd_str_has_prefix (opts, "ro"), want[i].ro);
    }
  /* Nothing of the host's root is left. */
  assert_null (strstr (out, " /work"));
  kd_ctr_spec_free (&s);
}

static void
test_rootfs_used_as_is_without_lowerdirs (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *type = NULL, *opts = NULL;

  spec_init (&s, "mounts", NULL);
  free (s.rootfs);
  s.rootfs = xstrdup (lower_dir);
  free (s.lowerdirs[0]);
  s.lowerdirs[0] = NULL;
  s.n_lowerdirs = 0;
  out = run_ok (&s);
  assert_true (find_mount (out, "/", &type, &opts));
  assert_string_not_equal (type, "overlay");
  kd_ctr_spec_free (&s);
}

static void
test_masked_paths_are_empty_and_proc_sys_is_read_only (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *kcore = NULL, *keys = NULL, *acpi = NULL, *sysrq = NULL;

  /* /proc/kcore is /dev/null-like where the kernel has one. */
  spec_init (&s, "read", access ("/proc/kcore", F_OK) == 0 ? "/proc/kcore" : "/proc/timer_list",
             NULL);
  kcore = run_ok (&s);
  assert_string_equal (kcore, ""); /* /dev/null over it */
  kd_ctr_spec_free (&s);

  spec_init (&s, "read", "/proc/keys", NULL);
  keys = run_ok (&s);
  assert_string_equal (keys, "");
  kd_ctr_spec_free (&s);

  spec_init (&s, "ls", "/sys/firmware", NULL);
  acpi = run_ok (&s);
  assert_string_equal (acpi, ""); /* an empty read-only tmpfs */
  kd_ctr_spec_free (&s);

  spec_init (&s, "write", "/proc/sys/kernel/domainname", "x", NULL);
  {
    char *msg = NULL;
    int st;
    assert_int_equal (run (&s, &sysrq, &st, &msg), 0);
    assert_int_equal (st, 1);
    assert_string_equal (sysrq, "write /proc/sys/kernel/domainname: Read-only file system\n");
  }
  kd_ctr_spec_free (&s);
}

static void
test_dev_has_the_nodes_and_links (void **state)
{
  static const char *const want[]
      = { "null",  "zero",   "full",   "tty",  "random", "urandom", "fd",
          "stdin", "stdout", "stderr", "ptmx", "pts",    "shm",     "mqueue" };
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *w = NULL;

  spec_init (&s, "ls", "/dev", NULL);
  out = run_ok (&s);
  for (size_t i = 0; i < KD_ARRAY_SIZE (want); i++)
    if (!has_line (out, want[i]))
      fail_msg ("no /dev/%s in:\n%s", want[i], out);
  assert_false (has_line (out, "kmsg")); /* not privileged: no host devices */
  kd_ctr_spec_free (&s);

  spec_init (&s, "write", "/dev/null", "x", NULL);
  w = run_ok (&s);
  assert_string_equal (w, "write /dev/null: ok\n");
  kd_ctr_spec_free (&s);
}

static void
check_caps (uint64_t caps, const char *want_bnd, const char *want_eff)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *bnd = NULL, *eff = NULL;

  spec_init (&s, "status", NULL);
  s.cap_bounding = s.cap_effective = s.cap_permitted = caps;
  out = run_ok (&s);
  bnd = status_field (out, "CapBnd");
  eff = status_field (out, "CapEff");
  assert_string_equal (bnd, want_bnd);
  assert_string_equal (eff, want_eff);
  kd_ctr_spec_free (&s);
}

static void
test_default_capabilities_are_dockers_14 (void **state)
{
  int cap;
  assert_int_equal (__builtin_popcountll (kd_caps_default ()), 14);
  check_caps (kd_caps_default (), DOCKER_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS);
  assert_int_equal (kd_caps_from_name ("NET_ADMIN", &cap), 0);
  assert_int_equal (cap, 12);
  assert_int_equal (kd_caps_from_name ("CAP_SYS_ADMIN", &cap), 0);
  assert_int_equal (cap, 21);
  assert_int_equal (kd_caps_from_name ("NOPE", &cap), -1);
}

static void
test_capabilities_add_drop_and_all (void **state)
{
  char want[32];
  int net_admin, chown_cap;
  uint64_t caps;

  assert_int_equal (kd_caps_from_name ("NET_ADMIN", &net_admin), 0);
  assert_int_equal (kd_caps_from_name ("chown", &chown_cap), 0);
  caps = (kd_caps_default () | (UINT64_C (1) << net_admin)) & ~(UINT64_C (1) << chown_cap);
  snprintf (want, sizeof (want), "%016llx", (unsigned long long) caps);
  check_caps (caps, want, want);
  /* ALL: everything this process may give (the node may lack some). */
  snprintf (want, sizeof (want), "%016llx", (unsigned long long) our_cap_bounding ());
  check_caps (kd_caps_all (), want, want);
}

static void
test_runtime_default_seccomp_refuses_mount (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *sc = NULL, *nnp = NULL, *m = NULL;

  spec_init (&s, "status", NULL);
  s.seccomp = KD_SECCOMP_RUNTIME_DEFAULT;
  s.no_new_privs = true;
  out = run_ok (&s);
  sc = status_field (out, "Seccomp");
  nnp = status_field (out, "NoNewPrivs");
  assert_string_equal (sc, "2");
  assert_string_equal (nnp, "1");
  kd_ctr_spec_free (&s);

  spec_init (&s, "try-mount", NULL);
  s.seccomp = KD_SECCOMP_RUNTIME_DEFAULT;
  s.no_new_privs = true;
  m = run_ok (&s);
  assert_string_equal (m, "mount: Operation not permitted (errno 1)\n");
  kd_ctr_spec_free (&s);
}

static void
test_runtime_default_without_no_new_privs (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *sc = NULL, *nnp = NULL, *eff = NULL;

  spec_init (&s, "status", NULL);
  s.seccomp = KD_SECCOMP_RUNTIME_DEFAULT;
  out = run_ok (&s);
  sc = status_field (out, "Seccomp");
  nnp = status_field (out, "NoNewPrivs");
  eff = status_field (out, "CapEff");
  assert_string_equal (sc, "2");
  assert_string_equal (nnp, "0");
  assert_string_equal (eff, DOCKER_DEFAULT_CAPS);
  kd_ctr_spec_free (&s);
}

static void
test_sys_admin_enables_mount_in_the_default_profile (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL;
  int sys_admin;

  assert_int_equal (kd_caps_from_name ("SYS_ADMIN", &sys_admin), 0);
  spec_init (&s, "try-mount", NULL);
  s.seccomp = KD_SECCOMP_RUNTIME_DEFAULT;
  s.cap_bounding = s.cap_effective = s.cap_permitted
      = kd_caps_default () | (UINT64_C (1) << sys_admin);
  out = run_ok (&s);
  assert_string_equal (out, "mount: ok\n");
  kd_ctr_spec_free (&s);
}

static void
test_unconfined_has_no_seccomp (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *sc = NULL;

  spec_init (&s, "status", NULL);
  out = run_ok (&s);
  sc = status_field (out, "Seccomp");
  assert_string_equal (sc, "0");
  kd_ctr_spec_free (&s);
}

static void
test_localhost_profile_is_applied (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *path = xasprintf ("%s/profile.json", base_dir);
  cleanup_free char *msg = NULL;
  const char *prof
      = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
        "\"syscalls\":[{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":22}]}";
  kd_error_t err = NULL;
  int sys_admin;

  assert_int_equal (kd_write_file_atomic (path, prof, strlen (prof), 0644, &err), 0);
  assert_int_equal (kd_caps_from_name ("SYS_ADMIN", &sys_admin), 0);
  spec_init (&s, "try-mount", NULL);
  s.seccomp = KD_SECCOMP_LOCALHOST;
  s.seccomp_profile = xstrdup (path);
  s.cap_bounding = s.cap_effective = s.cap_permitted
      = kd_caps_default () | (UINT64_C (1) << sys_admin);
  out = run_ok (&s);
  assert_string_equal (out, "mount: Invalid argument (errno 22)\n");
  kd_ctr_spec_free (&s);

  spec_init (&s, "pid", NULL);
  s.seccomp = KD_SECCOMP_LOCALHOST;
  s.seccomp_profile = xasprintf ("%s/missing.json", base_dir);
  msg = run_fail (&s);
  assert_non_null (strstr (msg, "missing.json`: No such file or directory"));
  kd_ctr_spec_free (&s);
}

static void
test_user_and_groups_are_set (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *st = NULL, *eff = NULL;

  spec_init (&s, "getuid", NULL);
  s.uid = 1000;
  s.gid = 1001;
  s.groups = xcalloc (2, sizeof (uint32_t));
  s.groups[0] = 10;
  s.groups[1] = 20;
  s.n_groups = 2;
  out = run_ok (&s);
  assert_string_equal (out, "uid=1000 gid=1001 groups=10,20\n");
  kd_ctr_spec_free (&s);

  /* A non-root user loses its effective capabilities at execve (no
     ambient set), as with Docker. */
  spec_init (&s, "status", NULL);
  s.uid = 1000;
  s.gid = 1000;
  st = run_ok (&s);
  eff = status_field (st, "CapEff");
  assert_string_equal (eff, "0000000000000000");
  kd_ctr_spec_free (&s);
}

static void
test_read_only_rootfs_refuses_writes (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *msg = NULL;
  int st;

  spec_init (&s, "write", "/etc/kd-test", "x", NULL);
  s.readonly_rootfs = true;
  assert_int_equal (run (&s, &out, &st, &msg), 0);
  assert_int_equal (st, 1);
  assert_string_equal (out, "write /etc/kd-test: Read-only file system\n");
  kd_ctr_spec_free (&s);
}

static void
test_hostname_is_the_callers_uts (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL;

  spec_init (&s, "hostname", NULL);
  out = run_ok (&s);
  assert_string_equal (out, "kd-test-pod\n");
  kd_ctr_spec_free (&s);
}

static void
test_start_errors_carry_the_real_cause (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL;

  spec_init (&s, "pid", NULL);
  free (s.argv[0]);
  s.argv[0] = xstrdup ("nope");
  m1 = run_fail (&s);
  assert_string_equal (m1, "exec `nope`: No such file or directory");
  kd_ctr_spec_free (&s);

  spec_init (&s, "pid", NULL);
  s.cwd = xstrdup ("/etc/passwd");
  m2 = run_fail (&s);
  assert_string_equal (m2, "chdir `/etc/passwd`: Not a directory");
  kd_ctr_spec_free (&s);

  /* A user that may not enter the working directory. */
  spec_init (&s, "pid", NULL);
  s.cwd = xstrdup ("/secret");
  s.uid = 1000;
  s.gid = 1000;
  m3 = run_fail (&s);
  assert_string_equal (m3, "chdir `/secret`: Permission denied");
  kd_ctr_spec_free (&s);

  /* A file that is not executable: execve's own failure. */
  spec_init (&s, "pid", NULL);
  free (s.argv[0]);
  s.argv[0] = xstrdup ("/etc/passwd");
  m4 = run_fail (&s);
  assert_string_equal (m4, "exec `/etc/passwd`: Permission denied");
  kd_ctr_spec_free (&s);
}

static void
test_missing_cwd_is_created (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL;

  spec_init (&s, "ls", ".", NULL);
  s.cwd = xstrdup ("/new/work/dir");
  out = run_ok (&s);
  assert_string_equal (out, "");
  kd_ctr_spec_free (&s);
}

static void
test_spec_mounts_bind_tmpfs_and_read_only (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *vol = xasprintf ("%s/vol", base_dir);
  cleanup_free char *file = xasprintf ("%s/hostname", base_dir);
  cleanup_free char *out = NULL, *out2 = NULL, *out3 = NULL, *type = NULL, *opts = NULL;
  cleanup_free char *msg = NULL;
  kd_error_t err = NULL;
  int st;

  assert_int_equal (mkdir (vol, 0755), 0);
  assert_int_equal (kd_write_file_atomic (file, "web-1\n", 6, 0644, &err), 0);

  spec_init (&s, "read", "/etc/hostname", NULL);
  add_mount (&s, vol, "/data/vol", "bind", NULL, false);
  add_mount (&s, file, "/etc/hostname", "bind", NULL, true);
  add_mount (&s, "tmpfs", "/scratch", "tmpfs", "size=1m,mode=1777", false);
  out = run_ok (&s);
  assert_string_equal (out, "web-1\n");
  kd_ctr_spec_free (&s);

  spec_init (&s, "write", "/data/vol/f", "hello", NULL);
  add_mount (&s, vol, "/data/vol", "bind", NULL, false);
  out2 = run_ok (&s);
  kd_ctr_spec_free (&s);
  {
    cleanup_free char *host = xasprintf ("%s/f", vol), *text = NULL;
    size_t len;
    assert_int_equal (kd_read_file (host, 100, &text, &len, &err), 0);
    assert_string_equal (text, "hello");
  }

  spec_init (&s, "write", "/data/vol/g", "x", NULL);
  add_mount (&s, vol, "/data/vol", "bind", NULL, true);
  assert_int_equal (run (&s, &out3, &st, &msg), 0);
  assert_string_equal (out3, "write /data/vol/g: Read-only file system\n");
  kd_ctr_spec_free (&s);
  free (out3);
  out3 = NULL;

  spec_init (&s, "mounts", NULL);
  add_mount (&s, "tmpfs", "/scratch", "tmpfs", "size=1m,mode=1777", false);
  add_mount (&s, "shm", "/dev/shm", "tmpfs", "size=2m", false);
  out3 = run_ok (&s);
  assert_true (find_mount (out3, "/scratch", &type, &opts));
  assert_string_equal (type, "tmpfs");
  assert_non_null (strstr (out3, "/scratch rw,nosuid,nodev"));
  assert_non_null (strstr (out3, "size=1024k"));
  assert_non_null (strstr (out3, "size=2048k"));
  kd_ctr_spec_free (&s);
}

static void
test_namespaced_sysctls_apply_and_others_are_refused (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *msg = NULL;

  spec_init (&s, "read", "/proc/sys/net/ipv4/ip_unprivileged_port_start", NULL);
  s.sysctls = xcalloc (2, sizeof (char *));
  s.sysctls[0] = xstrdup ("net.ipv4.ip_unprivileged_port_start=80");
  s.n_sysctls = 1;
  out = run_ok (&s);
  assert_string_equal (out, "80\n");
  kd_ctr_spec_free (&s);

  spec_init (&s, "pid", NULL);
  s.sysctls = xcalloc (2, sizeof (char *));
  s.sysctls[0] = xstrdup ("kernel.panic=1");
  s.n_sysctls = 1;
  msg = run_fail (&s);
  assert_string_equal (msg,
                       "sysctl `kernel.panic`: not a namespaced sysctl: Operation not permitted");
  kd_ctr_spec_free (&s);
}

static void
test_privileged_gets_all_caps_devices_and_writable_sys (void **state)
{
  kd_ctr_spec_t s;
  cleanup_free char *out = NULL, *bnd = NULL, *mounts = NULL, *devs = NULL, *type = NULL;
  cleanup_free char *opts = NULL;
  char want[32];

  snprintf (want, sizeof (want), "%016llx", (unsigned long long) our_cap_bounding ());
  spec_init (&s, "status", NULL);
  s.privileged = true;
  s.cap_bounding = s.cap_effective = s.cap_permitted = kd_caps_all ();
  out = run_ok (&s);
  bnd = status_field (out, "CapBnd");
  assert_string_equal (bnd, want);
  kd_ctr_spec_free (&s);

  spec_init (&s, "mounts", NULL);
  s.privileged = true;
  s.cap_bounding = s.cap_effective = s.cap_permitted = kd_caps_all ();
  mounts = run_ok (&s);
  assert_true (find_mount (mounts, "/sys", &type, &opts));
  assert_true (kd_str_has_prefix (opts, "rw"));
  assert_false (find_mount (mounts, "/proc/keys", &type, &opts));
  kd_ctr_spec_free (&s);

  spec_init (&s, "ls", "/dev", NULL);
  s.privileged = true;
  s.cap_bounding = s.cap_effective = s.cap_permitted = kd_caps_all ();
  devs = run_ok (&s);
  assert_true (has_line (devs, "kmsg"));
  kd_ctr_spec_free (&s);
}

/* Runs kd_runtime_exec_enter in a forked process, as `kubeletd-shim exec`
   does, and returns what the command printed. */
static char *
exec_in (pid_t pid, const kd_ctr_spec_t *s, int *status, const char *arg, ...)
{
  char *argv[8] = { (char *) "/bin/kd-payload" };
  int o[2], e[2], n = 1, ws;
  char *out = NULL, *errout = NULL;
  va_list ap;
  pid_t child;

  va_start (ap, arg);
  for (const char *a = arg; a != NULL && n < 7; a = va_arg (ap, const char *))
    argv[n++] = (char *) a;
  va_end (ap);
  assert_int_equal (pipe2 (o, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (e, O_CLOEXEC), 0);
  child = fork ();
  assert_true (child >= 0);
  if (child == 0)
    {
      kd_error_t err = NULL;
      dup2 (o[1], 1);
      dup2 (e[1], 2);
      if (kd_runtime_exec_enter (pid, s, argv, NULL, &err) < 0)
        fprintf (stderr, "%s\n", err->msg);
      _exit (126);
    }
  close (o[1]);
  close (e[1]);
  drain (o[0], e[0], &out, &errout);
  close (o[0]);
  close (e[0]);
  assert_int_equal (waitpid (child, &ws, 0), child);
  *status = WIFEXITED (ws) ? WEXITSTATUS (ws) : 128 + WTERMSIG (ws);
  if (*errout)
    fprintf (stderr, "exec stderr: %s", errout);
  free (errout);
  return out;
}

static void
test_exec_enters_the_running_container (void **state)
{
  kd_ctr_spec_t s;
  int stdio[3] = { -1, -1, -1 }, pidfd = -1, st = -1;
  pid_t pid = -1;
  kd_error_t err = NULL;
  cleanup_free char *p = NULL, *cmd = NULL, *mounts = NULL, *stat = NULL, *sc = NULL;
  cleanup_free char *type = NULL, *opts = NULL;
  siginfo_t si;

  spec_init (&s, "sleep", "60", NULL);
  s.seccomp = KD_SECCOMP_RUNTIME_DEFAULT;
  s.no_new_privs = true;
  assert_int_equal (kd_runtime_spawn (&s, stdio, &pid, &pidfd, &err), 0);

  p = exec_in (pid, &s, &st, "pid", NULL);
  assert_int_equal (st, 0);
  assert_non_null (strstr (p, "ppid=0")); /* its parent is outside the PID namespace */
  assert_null (strstr (p, "pid=1 "));
  cmd = exec_in (pid, &s, &st, "read", "/proc/1/cmdline", NULL);
  assert_memory_equal (cmd,
                       "/bin/kd-payload\0sleep\0"
                       "60",
                       24);
  mounts = exec_in (pid, &s, &st, "mounts", NULL);
  assert_true (find_mount (mounts, "/", &type, &opts));
  assert_string_equal (type, "overlay");
  stat = exec_in (pid, &s, &st, "status", NULL);
  sc = status_field (stat, "Seccomp");
  assert_string_equal (sc, "2");
  /* The command's exit status is the exec's. */
  free (exec_in (pid, &s, &st, "exit", "7", NULL));
  assert_int_equal (st, 7);
  {
    char *argv[] = { (char *) "nope", NULL };
    pid_t c = fork ();
    int ws;
    if (c == 0)
      {
        kd_error_t e2 = NULL;
        int r = kd_runtime_exec_enter (pid, &s, argv, NULL, &e2);
        _exit (r < 0 && strcmp (e2->msg, "exec `nope`: No such file or directory") == 0 ? 42 : 1);
      }
    assert_int_equal (waitpid (c, &ws, 0), c);
    assert_int_equal (WEXITSTATUS (ws), 42);
  }

  assert_int_equal (syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0), 0);
  assert_int_equal (waitid (P_PIDFD, (id_t) pidfd, &si, WEXITED), 0);
  close (pidfd);
  kd_ctr_spec_free (&s);
}

static void
test_spec_round_trips_through_json (void **state)
{
  kd_ctr_spec_t s, l;
  cleanup_free char *dir = xasprintf ("%s/bundle", base_dir);
  kd_error_t err = NULL;

  spec_init (&s, "echo", "a b", NULL);
  s.uid = 4294967294u;
  s.groups = xcalloc (1, sizeof (uint32_t));
  s.groups[0] = 7;
  s.n_groups = 1;
  s.cap_ambient = UINT64_C (1) << 40;
  s.seccomp = KD_SECCOMP_LOCALHOST;
  s.seccomp_profile = xstrdup ("/p.json");
  s.oom_score_adj = -997;
  s.log_max_size = INT64_C (10) << 20;
  s.log_max_files = 5;
  add_mount (&s, "/a", "/b", "bind", NULL, true);
  s.mounts[0].recursive = true;
  assert_int_equal (mkdir (dir, 0700), 0);
  assert_int_equal (kd_ctr_spec_save (&s, dir, &err), 0);
  assert_int_equal (kd_ctr_spec_load (dir, &l, &err), 0);
  assert_int_equal (l.argc, 3);
  assert_string_equal (l.argv[2], "a b");
  assert_null (l.argv[3]);
  assert_null (l.env[2]);
  assert_int_equal (l.uid, 4294967294u);
  assert_int_equal (l.groups[0], 7);
  assert_true (l.cap_ambient == UINT64_C (1) << 40);
  assert_true (l.cap_bounding == kd_caps_default ());
  assert_int_equal (l.seccomp, KD_SECCOMP_LOCALHOST);
  assert_int_equal (l.oom_score_adj, -997);
  assert_true (l.log_max_size == INT64_C (10) << 20);
  assert_string_equal (l.mounts[0].destination, "/b");
  assert_true (l.mounts[0].readonly && l.mounts[0].recursive);
  assert_string_equal (l.lowerdirs[0], lower_dir);
  kd_ctr_spec_free (&s);
  kd_ctr_spec_free (&l);
}

/* ---- setup ----------------------------------------------------------- */

static int
skip_test (const char *why)
{
  fprintf (stderr, "test_runtime: skipped: %s\n", why);
  return 77;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_spec_round_trips_through_json),
    cmocka_unit_test (test_container_process_is_pid_1),
    cmocka_unit_test (test_mount_table_has_overlay_root_and_the_standard_mounts),
    cmocka_unit_test (test_rootfs_used_as_is_without_lowerdirs),
    cmocka_unit_test (test_masked_paths_are_empty_and_proc_sys_is_read_only),
    cmocka_unit_test (test_dev_has_the_nodes_and_links),
    cmocka_unit_test (test_default_capabilities_are_dockers_14),
    cmocka_unit_test (test_capabilities_add_drop_and_all),
    cmocka_unit_test (test_runtime_default_seccomp_refuses_mount),
    cmocka_unit_test (test_runtime_default_without_no_new_privs),
    cmocka_unit_test (test_sys_admin_enables_mount_in_the_default_profile),
    cmocka_unit_test (test_unconfined_has_no_seccomp),
    cmocka_unit_test (test_localhost_profile_is_applied),
    cmocka_unit_test (test_user_and_groups_are_set),
    cmocka_unit_test (test_read_only_rootfs_refuses_writes),
    cmocka_unit_test (test_hostname_is_the_callers_uts),
    cmocka_unit_test (test_start_errors_carry_the_real_cause),
    cmocka_unit_test (test_missing_cwd_is_created),
    cmocka_unit_test (test_spec_mounts_bind_tmpfs_and_read_only),
    cmocka_unit_test (test_namespaced_sysctls_apply_and_others_are_refused),
    cmocka_unit_test (test_privileged_gets_all_caps_devices_and_writable_sys),
    cmocka_unit_test (test_exec_enters_the_running_container),
  };
  const char *src = getenv ("KD_SOURCE_DIR");
  const char *payload = getenv ("KD_PAYLOAD");
  cleanup_free char *cmd = NULL, *secret = NULL, *rm = NULL;
  char tmpl[] = "/tmp/kd-runtime-test-XXXXXX";
  int r;

  if (geteuid () != 0)
    return skip_test ("needs root");
  if (src == NULL || payload == NULL || access (payload, X_OK) < 0)
    return skip_test ("KD_SOURCE_DIR and KD_PAYLOAD must be set (run through ctest)");
  if (access ("/proc/filesystems", R_OK) < 0 || system ("grep -qw overlay /proc/filesystems") != 0)
    return skip_test ("no overlayfs");
  /* The pod sandbox: our own network, IPC and UTS namespaces. */
  if (unshare (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
    return skip_test ("unshare of net/ipc/uts namespaces");
  if (sethostname ("kd-test-pod", strlen ("kd-test-pod")) < 0)
    return skip_test ("sethostname");
  if (mkdtemp (tmpl) == NULL)
    return 1;
  base_dir = tmpl;
  lower_dir = xasprintf ("%s/rootfs", base_dir);
  cmd = xasprintf ("bash '%s/tests/lib/rootfs.sh' '%s'", src, lower_dir);
  if (system (cmd) != 0)
    {
      fprintf (stderr, "test_runtime: building the rootfs failed\n");
      return 1;
    }
  secret = xasprintf ("%s/secret", lower_dir);
  if (mkdir (secret, 0700) < 0)
    return 1;
  r = cmocka_run_group_tests (tests, NULL, NULL);
  rm = xasprintf ("rm -rf '%s'", base_dir);
  if (system (rm) != 0)
    fprintf (stderr, "test_runtime: could not remove %s\n", base_dir);
  free (lower_dir);
  return r;
}
