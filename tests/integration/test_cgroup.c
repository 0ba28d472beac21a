/* cgroup on this host's real hierarchies (root): limits as the kernel sees
 * them, a process joined and accounted, an OOM kill counted, a fork loop
 * stopped by pids.max, and destroy killing and removing everything.
 *
 * Everything lives under a private parent "kd-test-<pid>" in every
 * hierarchy, removed (processes killed first) by the group teardown and
 * again at exit, so a failing assertion leaves nothing behind. Exits 77
 * when not root or when no cgroup hierarchy is mounted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kubeletd/cgroup.h"

static kd_cgroup_layout_t *layout;
static char base[64];
static int seq;

static void
remove_base (void)
{
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;

  if (layout == NULL || base[0] == '\0')
    return;
  if (kd_cgroup_open (layout, base, &cg, &err) < 0)
    {
      kd_error_release (&err); /* already gone */
      return;
    }
  if (kd_cgroup_destroy (cg, &err) < 0)
    {
      fprintf (stderr, "cleanup: %s\n", err->msg);
      kd_error_release (&err);
    }
}

static int
group_setup (void **state)
{
  kd_error_t err = NULL;

  if (kd_cgroup_detect ("/sys/fs/cgroup", &layout, &err) < 0)
    {
      fprintf (stderr, "detect: %s\n", err->msg);
      kd_error_release (&err);
      return -1;
    }
  snprintf (base, sizeof (base), "kd-test-%d", (int) getpid ());
  atexit (remove_base);
  /* Orphaned grandchildren come back to this process, to be reaped by pid. */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  return 0;
}

static int
group_teardown (void **state)
{
  remove_base ();
  kd_cgroup_layout_free (layout);
  layout = NULL;
  return 0;
}

static char *
new_path (const char *what)
{
  return xasprintf ("%s/kubepods/pod%d%s%s", base, ++seq, what ? "/" : "", what ? what : "");
}

static char *
slurp (const char *path)
{
  char *text = NULL;
  kd_error_t err = NULL;
  if (kd_read_file (path, 1 << 20, &text, NULL, &err) < 0)
    {
      kd_error_release (&err);
      return NULL;
    }
  text[strcspn (text, "\n")] = '\0';
  return text;
}

static void
assert_host_file (const char *mount, const char *rel, const char *file, const char *want)
{
  cleanup_free char *p = xasprintf ("%s/%s/%s", mount, rel, file);
  cleanup_free char *got = slurp (p);
  if (got == NULL)
    fail_msg ("cannot read %s", p);
  if (strcmp (got, want) != 0)
    fail_msg ("%s: got `%s`, want `%s`", p, got, want);
}

static bool
dir_exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

static char **
copy_dirs (kd_cgroup_t *cg)
{
  char *const *procs = kd_cgroup_procs_files (cg);
  size_t n = 0;
  char **dirs;

  while (procs[n])
    n++;
  dirs = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    dirs[i] = xstrndup (procs[i], strlen (procs[i]) - strlen ("/cgroup.procs"));
  return dirs;
}

static void
free_strv (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

/* Writes pid into every cgroup.procs of cg, as the runtime's child does. */
static void
join (kd_cgroup_t *cg, pid_t pid)
{
  char *const *procs = kd_cgroup_procs_files (cg);
  char buf[32];

  snprintf (buf, sizeof (buf), "%d", (int) pid);
  for (size_t i = 0; procs[i]; i++)
    {
      FILE *f = fopen (procs[i], "w");
      assert_non_null (f);
      assert_true (fputs (buf, f) >= 0);
      assert_int_equal (fclose (f), 0);
    }
}

/* A child that waits for a byte on `go` (EOF: the test died, exit), then
   runs body. */
static pid_t
spawn_waiting (int go[2], void (*body) (int out), int out)
{
  pid_t pid;

  assert_int_equal (pipe (go), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char c;
      close (go[1]);
      alarm (30); /* bounded whatever happens */
      if (read (go[0], &c, 1) != 1)
        _exit (0);
      body (out);
      _exit (0);
    }
  close (go[0]);
  return pid;
}

static void
release (int go[2])
{
  assert_int_equal (write (go[1], "x", 1), 1);
  close (go[1]);
}

static int
wait_signal (pid_t pid)
{
  int st;
  assert_int_equal (waitpid (pid, &st, 0), pid);
  return WIFSIGNALED (st) ? WTERMSIG (st) : -WEXITSTATUS (st);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_detects_this_hosts_layout (void **state)
{
  bool v2_root = access ("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  bool unified = access ("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0;

  if (v2_root)
    assert_int_equal (kd_cgroup_mode (layout), KD_CGROUP_V2);
  else if (unified)
    assert_int_equal (kd_cgroup_mode (layout), KD_CGROUP_HYBRID);
  else
    assert_int_equal (kd_cgroup_mode (layout), KD_CGROUP_V1);
}

static void
test_pod_and_container_limits_land_in_host_files (void **state)
{
  cleanup_free char *pod_path = new_path (NULL);
  cleanup_free char *ctr_path = xasprintf ("%s/c0ffee", pod_path);
  kd_cgroup_limits_t pod_lim = { .memory_limit = 256 << 20,
                                 .cpu_shares = kd_cgroup_shares_from_millis (1000),
                                 .cpu_quota_us = kd_cgroup_quota_from_millis (1000, 100000),
                                 .pids_limit = 200 };
  kd_cgroup_limits_t ctr_lim = { .memory_limit = 64 << 20,
                                 .cpu_shares = kd_cgroup_shares_from_millis (250),
                                 .cpu_quota_us = kd_cgroup_quota_from_millis (250, 100000),
                                 .cpu_period_us = 100000,
                                 .pids_limit = 20 };
  kd_cgroup_t *pod = NULL, *ctr = NULL;
  kd_error_t err = NULL;
  uint64_t kills = 1;

  if (kd_cgroup_create (layout, pod_path, &pod_lim, &pod, &err) < 0)
    fail_msg ("%s", err->msg);
  if (kd_cgroup_create (layout, ctr_path, &ctr_lim, &ctr, &err) < 0)
    fail_msg ("%s", err->msg);

  if (kd_cgroup_mode (layout) == KD_CGROUP_V2)
    {
      assert_host_file ("/sys/fs/cgroup", ctr_path, "memory.max", "67108864");
      assert_host_file ("/sys/fs/cgroup", ctr_path, "cpu.weight", "10");
      assert_host_file ("/sys/fs/cgroup", ctr_path, "cpu.max", "25000 100000");
      assert_host_file ("/sys/fs/cgroup", ctr_path, "pids.max", "20");
      assert_host_file ("/sys/fs/cgroup", pod_path, "memory.max", "268435456");
    }
  else
    {
      assert_host_file ("/sys/fs/cgroup/memory", ctr_path, "memory.limit_in_bytes", "67108864");
      assert_host_file ("/sys/fs/cgroup/cpu", ctr_path, "cpu.shares", "256");
      assert_host_file ("/sys/fs/cgroup/cpu", ctr_path, "cpu.cfs_period_us", "100000");
      assert_host_file ("/sys/fs/cgroup/cpu", ctr_path, "cpu.cfs_quota_us", "25000");
      assert_host_file ("/sys/fs/cgroup/pids", ctr_path, "pids.max", "20");
      assert_host_file ("/sys/fs/cgroup/memory", pod_path, "memory.limit_in_bytes", "268435456");
      assert_host_file ("/sys/fs/cgroup/cpu", pod_path, "cpu.shares", "1024");
      assert_host_file ("/sys/fs/cgroup/cpu", pod_path, "cpu.cfs_quota_us", "100000");
      assert_host_file ("/sys/fs/cgroup/pids", pod_path, "pids.max", "200");
      /* cpuacct has its own mount here: the cgroup is made there too. */
      cleanup_free char *acct = xasprintf ("/sys/fs/cgroup/cpuacct/%s", ctr_path);
      assert_true (dir_exists (acct));
      if (kd_cgroup_mode (layout) == KD_CGROUP_HYBRID)
        {
          cleanup_free char *u = xasprintf ("/sys/fs/cgroup/unified/%s", ctr_path);
          assert_true (dir_exists (u));
        }
    }
  assert_int_equal (kd_cgroup_read_oom_kills (kd_cgroup_oom_file (ctr), &kills, &err), 0);
  assert_int_equal (kills, 0);

  /* An update lowers the limit in place; a pod restart adopts the cgroup. */
  ctr_lim.memory_limit = 48 << 20;
  assert_int_equal (kd_cgroup_update (ctr, &ctr_lim, &err), 0);
  kd_cgroup_free (ctr);
  ctr = NULL;
  assert_int_equal (kd_cgroup_open (layout, ctr_path, &ctr, &err), 0);
  if (kd_cgroup_mode (layout) == KD_CGROUP_V2)
    assert_host_file ("/sys/fs/cgroup", ctr_path, "memory.max", "50331648");
  else
    assert_host_file ("/sys/fs/cgroup/memory", ctr_path, "memory.limit_in_bytes", "50331648");

  assert_int_equal (kd_cgroup_destroy (ctr, &err), 0);
  assert_int_equal (kd_cgroup_destroy (pod, &err), 0);
}

static void
burn_and_touch (int out)
{
  /* 200 ms of CPU time (measured as CPU time, so a busy machine only
     makes it slower) and 16 MiB of touched anonymous memory. */
  struct timespec t0, t1;
  size_t size = 16 << 20;
  volatile char *p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  volatile uint64_t x = 0;

  if (p == MAP_FAILED)
    _exit (2);
  for (size_t i = 0; i < size; i += 4096)
    p[i] = 1;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t0);
  do
    {
      for (int i = 0; i < 100000; i++)
        x += (uint64_t) i;
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t1);
    }
  while ((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec) < 200000000LL);
  (void) x;
  if (write (out, "d", 1) != 1)
    _exit (3);
  pause (); /* until destroy kills it */
}

static void
test_joined_process_is_accounted_and_killed_by_destroy (void **state)
{
  cleanup_free char *path = new_path ("c1");
  kd_cgroup_limits_t lim = { .memory_limit = 128 << 20, .pids_limit = 10 };
  kd_cgroup_t *cg = NULL;
  kd_cgroup_stats_t st;
  kd_error_t err = NULL;
  int go[2], done[2];
  char **dirs;
  char c;
  pid_t pid;

  if (kd_cgroup_create (layout, path, &lim, &cg, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (pipe (done), 0);
  pid = spawn_waiting (go, burn_and_touch, done[1]);
  close (done[1]);
  join (cg, pid);

  /* The kernel agrees: the process is in the cgroup in each hierarchy. */
  {
    cleanup_free char *self = xasprintf ("/proc/%d/cgroup", (int) pid);
    cleanup_free char *text = NULL;
    assert_int_equal (kd_read_file (self, 1 << 16, &text, NULL, &err), 0);
    assert_non_null (strstr (text, path));
  }
  assert_int_equal (kd_cgroup_stats (cg, &st, &err), 0);
  assert_int_equal (st.pids, 1);

  release (go);
  assert_int_equal (read (done[0], &c, 1), 1);
  close (done[0]);
  assert_int_equal (kd_cgroup_stats (cg, &st, &err), 0);
  assert_true (st.cpu_usage_ns >= 100000000ULL);
  assert_true (st.memory_usage >= (16ULL << 20));
  assert_true (st.memory_rss >= (15ULL << 20));
  assert_true (st.memory_working_set <= st.memory_usage);
  assert_true (st.memory_working_set >= (15ULL << 20));
  assert_int_equal (st.pids, 1);

  dirs = copy_dirs (cg);
  if (kd_cgroup_destroy (cg, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (wait_signal (pid), SIGKILL);
  for (size_t i = 0; dirs[i]; i++)
    if (dir_exists (dirs[i]))
      fail_msg ("%s is still there", dirs[i]);
  free_strv (dirs);
}

static void
hog (int out)
{
  /* Touch 1 MiB at a time, far past the limit: the kernel OOM-kills it. */
  for (int i = 0; i < 512; i++)
    {
      char *p = mmap (NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED)
        _exit (2);
      for (size_t j = 0; j < (1 << 20); j += 4096)
        p[j] = (char) j;
    }
  _exit (3); /* not killed: the limit did not hold */
}

static void
test_memory_hog_is_oom_killed_and_counted (void **state)
{
  cleanup_free char *path = new_path ("hog");
  kd_cgroup_limits_t lim = { .memory_limit = 32 << 20 };
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;
  uint64_t kills = 0;
  int go[2];
  pid_t pid;

  if (kd_cgroup_create (layout, path, &lim, &cg, &err) < 0)
    fail_msg ("%s", err->msg);
  pid = spawn_waiting (go, hog, -1);
  join (cg, pid);
  release (go);
  assert_int_equal (wait_signal (pid), SIGKILL);
  assert_int_equal (kd_cgroup_read_oom_kills (kd_cgroup_oom_file (cg), &kills, &err), 0);
  assert_int_equal (kills, 1);
  assert_int_equal (kd_cgroup_destroy (cg, &err), 0);
}

static void
fork_loop (int out)
{
  /* Fork until refused (bounded), report how many children were made and
     their pids, then wait to be killed. */
  pid_t kids[64];
  int n = 0, refused = 0;

  for (; n < 64; n++)
    {
      pid_t k = fork ();
      if (k < 0)
        {
          refused = errno;
          break;
        }
      if (k == 0)
        {
          pause ();
          _exit (0);
        }
      kids[n] = k;
    }
  if (write (out, &refused, sizeof (refused)) != sizeof (refused)
      || write (out, &n, sizeof (n)) != sizeof (n)
      || write (out, kids, sizeof (pid_t) * (size_t) n) != (ssize_t) (sizeof (pid_t) * (size_t) n))
    _exit (3);
  pause ();
}

static void
test_pids_limit_stops_a_fork_loop (void **state)
{
  cleanup_free char *path = new_path ("forks");
  kd_cgroup_limits_t lim = { .pids_limit = 8 };
  kd_cgroup_t *cg = NULL;
  kd_cgroup_stats_t st;
  kd_error_t err = NULL;
  pid_t kids[64], pid;
  int go[2], out[2], refused = 0, n = 0;

  if (kd_cgroup_create (layout, path, &lim, &cg, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (pipe (out), 0);
  pid = spawn_waiting (go, fork_loop, out[1]);
  close (out[1]);
  join (cg, pid);
  release (go);
  assert_int_equal (read (out[0], &refused, sizeof (refused)), sizeof (refused));
  assert_int_equal (read (out[0], &n, sizeof (n)), sizeof (n));
  assert_int_equal (refused, EAGAIN);
  /* The loop's own process counts: 8 tasks in all. */
  assert_int_equal (n, 7);
  assert_int_equal (read (out[0], kids, sizeof (pid_t) * (size_t) n),
                    (ssize_t) (sizeof (pid_t) * (size_t) n));
  close (out[0]);
  assert_int_equal (kd_cgroup_stats (cg, &st, &err), 0);
  assert_int_equal (st.pids, 8);

  /* Destroy kills the loop and every child it made (they come back to
     this subreaper to be reaped). */
  if (kd_cgroup_destroy (cg, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (wait_signal (pid), SIGKILL);
  for (int i = 0; i < n; i++)
    assert_int_equal (wait_signal (kids[i]), SIGKILL);
}

static void
sleeper (int out)
{
  pause ();
}

static void
test_destroying_a_pod_removes_its_containers_everywhere (void **state)
{
  cleanup_free char *pod_path = new_path (NULL);
  cleanup_free char *c1 = xasprintf ("%s/aaaa", pod_path);
  cleanup_free char *c2 = xasprintf ("%s/bbbb", pod_path);
  kd_cgroup_limits_t lim = { .memory_limit = 64 << 20, .pids_limit = 16 };
  kd_cgroup_t *pod = NULL, *a = NULL, *b = NULL;
  kd_error_t err = NULL;
  int g1[2], g2[2], g3[2];
  pid_t p1, p2, p3;
  char **dirs;

  assert_int_equal (kd_cgroup_create (layout, pod_path, &lim, &pod, &err), 0);
  assert_int_equal (kd_cgroup_create (layout, c1, &lim, &a, &err), 0);
  assert_int_equal (kd_cgroup_create (layout, c2, &lim, &b, &err), 0);
  /* A process in the pod itself (the shim's place) and one per container. */
  p1 = spawn_waiting (g1, sleeper, -1);
  p2 = spawn_waiting (g2, sleeper, -1);
  p3 = spawn_waiting (g3, sleeper, -1);
  join (pod, p1);
  join (a, p2);
  join (b, p3);
  release (g1);
  release (g2);
  release (g3);
  kd_cgroup_free (a);
  kd_cgroup_free (b);

  dirs = copy_dirs (pod);
  if (kd_cgroup_destroy (pod, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (wait_signal (p1), SIGKILL);
  assert_int_equal (wait_signal (p2), SIGKILL);
  assert_int_equal (wait_signal (p3), SIGKILL);
  for (size_t i = 0; dirs[i]; i++)
    if (dir_exists (dirs[i]))
      fail_msg ("%s is still there", dirs[i]);
  free_strv (dirs);

  /* Gone already: open says so, and the pod path is free again. */
  assert_int_equal (kd_cgroup_open (layout, pod_path, &pod, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kd_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_detects_this_hosts_layout),
    cmocka_unit_test (test_pod_and_container_limits_land_in_host_files),
    cmocka_unit_test (test_joined_process_is_accounted_and_killed_by_destroy),
    cmocka_unit_test (test_memory_hog_is_oom_killed_and_counted),
    cmocka_unit_test (test_pids_limit_stops_a_fork_loop),
    cmocka_unit_test (test_destroying_a_pod_removes_its_containers_everywhere),
  };

  if (geteuid () != 0)
    {
      fprintf (stderr, "skipped: needs root\n");
      return 77;
    }
  if (access ("/sys/fs/cgroup", F_OK) < 0)
    return 77;
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
