/* cgroup: layout detection from mountinfo text and from a directory tree,
 * limits written into a fake tree (v1, hybrid, v2), stats and OOM parsing,
 * and the kubelet's formulas. No root needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>

#include "../../pkg/cgroup/cgroup-internal.h"

/* This machine's cgroup lines plus unrelated mounts. */
static const char hybrid_mountinfo[]
    = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
      "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
      "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static char *
make_tmpdir (void)
{
  char tmpl[] = "/tmp/kd-test-cgroup-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  return xstrdup (tmpl);
}

static void
rm_rf (const char *dir)
{
  cleanup_free char *cmd = xasprintf ("rm -rf '%s'", dir);
  assert_int_equal (system (cmd), 0);
}

static void
put_file (const char *dir, const char *name, const char *text)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  FILE *f = fopen (p, "w");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
}

static char *
get_file (const char *dir, const char *name)
{
  char *text = NULL;
  kd_error_t err = NULL;
  if (kd_cgroup_read (dir, name, &text, &err) < 0)
    {
      kd_error_release (&err);
      return NULL;
    }
  return text;
}

static void
assert_file (const char *dir, const char *name, const char *want)
{
  cleanup_free char *got = get_file (dir, name);
  if (got == NULL)
    fail_msg ("%s/%s is missing", dir, name);
  assert_string_equal (got, want);
}

static bool
exists (const char *dir, const char *name)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  return access (p, F_OK) == 0;
}

static void
mkdirs (const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf ("%s/%s", root, rel);
  kd_error_t err = NULL;
  assert_int_equal (kd_mkdir_p (p, 0755, &err), 0);
}

/* ---- detection from mountinfo ------------------------------------------ */

static void
test_mountinfo_hybrid_uses_v1_controllers_and_unified (void **state)
{
  kd_cgroup_layout_t *l = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_cgroup_layout_from_mountinfo ("/sys/fs/cgroup/", hybrid_mountinfo, &l, &err),
                    0);
  assert_int_equal (kd_cgroup_mode (l), KD_CGROUP_HYBRID);
  assert_string_equal (l->cpu, "/sys/fs/cgroup/cpu");
  assert_string_equal (l->cpuacct, "/sys/fs/cgroup/cpuacct");
  assert_string_equal (l->memory, "/sys/fs/cgroup/memory");
  assert_string_equal (l->pids, "/sys/fs/cgroup/pids");
  assert_string_equal (l->unified, "/sys/fs/cgroup/unified");
  assert_false (l->plain);
  kd_cgroup_layout_free (l);
}

static void
test_mountinfo_comounted_cpu_cpuacct_is_v1 (void **state)
{
  static const char text[]
      = "31 23 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
        "33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 /kubepods/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
  kd_cgroup_layout_t *l = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_cgroup_layout_from_mountinfo ("/sys/fs/cgroup", text, &l, &err), 0);
  assert_int_equal (kd_cgroup_mode (l), KD_CGROUP_V1);
  assert_string_equal (l->cpu, "/sys/fs/cgroup/cpu,cpuacct");
  assert_string_equal (l->cpuacct, "/sys/fs/cgroup/cpu,cpuacct");
  assert_string_equal (l->memory, "/sys/fs/cgroup/memory");
  assert_null (l->unified);
  kd_cgroup_layout_free (l);
}

static void
test_mountinfo_v2_at_root_reads_controllers (void **state)
{
  cleanup_free char *root = make_tmpdir ();
  cleanup_free char *text = NULL;
  kd_cgroup_layout_t *l = NULL;
  kd_error_t err = NULL;

  put_file (root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  /* A space in the mount point is escaped in mountinfo; the v1 leftover
     below the v2 root does not count. */
  text = xasprintf ("30 23 0:26 / %s rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
                    "31 30 0:27 / %s/old rw - cgroup cgroup rw,memory\n",
                    root, root);
  assert_int_equal (kd_cgroup_layout_from_mountinfo (root, text, &l, &err), 0);
  assert_int_equal (kd_cgroup_mode (l), KD_CGROUP_V2);
  assert_string_equal (l->unified, root);
  assert_null (l->memory);
  assert_true (l->v2_cpu && l->v2_memory && l->v2_pids);
  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_mountinfo_unescapes_and_ignores_other_roots (void **state)
{
  static const char text[] = "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
                             "50 31 0:29 / /srv/my\\040cg/memory rw - cgroup cgroup rw,memory\n"
                             "51 31 0:29 / /srv/my\\040cg/unified rw - cgroup2 cgroup2 rw\n";
  kd_cgroup_layout_t *l = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_cgroup_layout_from_mountinfo ("/srv/my cg", text, &l, &err), 0);
  assert_int_equal (kd_cgroup_mode (l), KD_CGROUP_HYBRID);
  assert_null (l->cpu);
  assert_string_equal (l->memory, "/srv/my cg/memory");
  kd_cgroup_layout_free (l);

  /* Nothing under /opt: ENOENT, so detect falls back to the tree walk. */
  assert_int_equal (kd_cgroup_layout_from_mountinfo ("/opt", text, &l, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kd_error_release (&err);
  /* A mount point that only shares a prefix is not below the root. */
  assert_int_equal (kd_cgroup_layout_from_mountinfo ("/sys/fs/cg", text, &l, &err), -1);
  kd_error_release (&err);
}

/* ---- fake trees --------------------------------------------------------- */

/* A v1 tree like systemd's: cpu,cpuacct co-mounted with cpu and cpuacct
   symlinks, memory, pids, and optionally a cgroup2 "unified". */
static char *
make_v1_tree (bool hybrid)
{
  char *root = make_tmpdir ();
  cleanup_free char *cc = xasprintf ("%s/cpu,cpuacct", root);
  cleanup_free char *mem = xasprintf ("%s/memory", root);
  cleanup_free char *pids = xasprintf ("%s/pids", root);
  cleanup_free char *l1 = xasprintf ("%s/cpu", root);
  cleanup_free char *l2 = xasprintf ("%s/cpuacct", root);

  mkdirs (root, "cpu,cpuacct");
  mkdirs (root, "memory");
  mkdirs (root, "pids");
  put_file (cc, "cpu.shares", "1024\n");
  put_file (cc, "cpuacct.usage", "0\n");
  put_file (mem, "memory.limit_in_bytes", "9223372036854771712\n");
  put_file (pids, "pids.max", "max\n");
  assert_int_equal (symlink ("cpu,cpuacct", l1), 0);
  assert_int_equal (symlink ("cpu,cpuacct", l2), 0);
  if (hybrid)
    {
      cleanup_free char *u = xasprintf ("%s/unified", root);
      mkdirs (root, "unified");
      put_file (u, "cgroup.controllers", "hugetlb\n");
    }
  return root;
}

static void
test_tree_v1_writes_limits_and_destroy_removes_only_the_cgroup (void **state)
{
  cleanup_free char *root = make_v1_tree (false);
  cleanup_free char *cc = xasprintf ("%s/cpu,cpuacct", root);
  cleanup_free char *cdir = xasprintf ("%s/kubepods/podu1/c1", cc);
  cleanup_free char *mdir = xasprintf ("%s/memory/kubepods/podu1/c1", root);
  cleanup_free char *pdir = xasprintf ("%s/pids/kubepods/podu1/c1", root);
  cleanup_free char *oom = NULL;
  kd_cgroup_limits_t lim = { .memory_limit = 64 << 20,
                             .cpu_shares = 256,
                             .cpu_quota_us = 25000,
                             .cpu_period_us = 100000,
                             .pids_limit = 50 };
  kd_cgroup_layout_t *l = NULL;
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;
  char *const *procs;
  size_t n = 0;

  assert_int_equal (kd_cgroup_layout_from_tree (root, &l, &err), 0);
  assert_int_equal (kd_cgroup_mode (l), KD_CGROUP_V1);
  assert_true (l->plain);
  assert_string_equal (l->cpu, cc);
  assert_string_equal (l->cpuacct, cc);

  assert_int_equal (kd_cgroup_create (l, "kubepods/podu1/c1", &lim, &cg, &err), 0);
  assert_string_equal (kd_cgroup_path (cg), "kubepods/podu1/c1");
  assert_file (mdir, "memory.limit_in_bytes", "67108864");
  assert_file (cdir, "cpu.shares", "256");
  assert_file (cdir, "cpu.cfs_period_us", "100000");
  assert_file (cdir, "cpu.cfs_quota_us", "25000");
  assert_file (pdir, "pids.max", "50");

  /* One cgroup.procs per hierarchy: the co-mounted cpu,cpuacct once. */
  procs = kd_cgroup_procs_files (cg);
  for (; procs[n]; n++)
    ;
  assert_int_equal (n, 3);
  oom = xasprintf ("%s/memory.oom_control", mdir);
  assert_string_equal (kd_cgroup_oom_file (cg), oom);

  assert_int_equal (kd_cgroup_destroy (cg, &err), 0);
  assert_false (exists (cc, "kubepods/podu1/c1"));
  assert_false (exists (root, "memory/kubepods/podu1/c1"));
  assert_true (exists (root, "memory/kubepods/podu1"));
  /* Destroying again is not an error; opening a removed cgroup is ENOENT. */
  assert_int_equal (kd_cgroup_open (l, "kubepods/podu1/c1", &cg, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kd_error_release (&err);

  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_tree_hybrid_tracks_processes_in_unified (void **state)
{
  cleanup_free char *root = make_v1_tree (true);
  cleanup_free char *want = NULL;
  kd_cgroup_limits_t lim = { .memory_limit = 1 << 20 };
  kd_cgroup_layout_t *l = NULL;
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;
  char *const *procs;
  bool found = false;

  assert_int_equal (kd_cgroup_layout_from_tree (root, &l, &err), 0);
  assert_int_equal (kd_cgroup_mode (l), KD_CGROUP_HYBRID);
  assert_int_equal (kd_cgroup_create (l, "kubepods/podu2", &lim, &cg, &err), 0);
  want = xasprintf ("%s/unified/kubepods/podu2/cgroup.procs", root);
  procs = kd_cgroup_procs_files (cg);
  for (size_t i = 0; procs[i]; i++)
    found |= strcmp (procs[i], want) == 0;
  assert_true (found);
  /* Limits stay in v1: nothing v2-style in the unified directory. */
  assert_false (exists (root, "unified/kubepods/podu2/memory.max"));
  assert_true (exists (root, "memory/kubepods/podu2/memory.limit_in_bytes"));
  assert_int_equal (kd_cgroup_destroy (cg, &err), 0);
  assert_false (exists (root, "unified/kubepods/podu2"));
  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_tree_v2_enables_controllers_in_parents_and_writes_v2_files (void **state)
{
  cleanup_free char *root = make_tmpdir ();
  cleanup_free char *kp = xasprintf ("%s/kubepods", root);
  cleanup_free char *pod = xasprintf ("%s/kubepods/podu3", root);
  kd_cgroup_limits_t lim = { .memory_limit = 128 << 20,
                             .cpu_shares = kd_cgroup_shares_from_millis (500),
                             .cpu_quota_us = kd_cgroup_quota_from_millis (500, 100000),
                             .pids_limit = 100 };
  kd_cgroup_layout_t *l = NULL;
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;
  cleanup_free char *oom = NULL;

  put_file (root, "cgroup.controllers", "cpu memory pids\n");
  assert_int_equal (kd_cgroup_layout_from_tree (root, &l, &err), 0);
  assert_int_equal (kd_cgroup_mode (l), KD_CGROUP_V2);
  assert_int_equal (kd_cgroup_create (l, "/kubepods/podu3", &lim, &cg, &err), 0);
  assert_file (root, "cgroup.subtree_control", "+cpu +memory +pids");
  assert_file (kp, "cgroup.subtree_control", "+cpu +memory +pids");
  /* The leaf may hold processes: no controllers for its children yet. */
  assert_false (exists (pod, "cgroup.subtree_control"));
  assert_file (pod, "memory.max", "134217728");
  assert_file (pod, "cpu.weight", "20"); /* 512 shares */
  assert_file (pod, "cpu.max", "50000 100000");
  assert_file (pod, "pids.max", "100");
  assert_null (kd_cgroup_procs_files (cg)[1]);
  oom = xasprintf ("%s/memory.events", pod);
  assert_string_equal (kd_cgroup_oom_file (cg), oom);

  /* An update that drops limits restores the defaults. */
  kd_cgroup_limits_t none = { 0 };
  assert_int_equal (kd_cgroup_update (cg, &none, &err), 0);
  assert_file (pod, "memory.max", "max");
  assert_file (pod, "cpu.weight", "100");
  assert_file (pod, "cpu.max", "max 100000");
  assert_file (pod, "pids.max", "max");

  assert_int_equal (kd_cgroup_destroy (cg, &err), 0);
  assert_false (exists (root, "kubepods/podu3"));
  assert_true (exists (root, "kubepods"));
  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_v1_update_resets_to_unlimited (void **state)
{
  cleanup_free char *root = make_v1_tree (false);
  cleanup_free char *c = xasprintf ("%s/cpu,cpuacct/p", root);
  cleanup_free char *m = xasprintf ("%s/memory/p", root);
  cleanup_free char *p = xasprintf ("%s/pids/p", root);
  kd_cgroup_limits_t lim = { .memory_limit = 4096, .cpu_quota_us = 1000, .pids_limit = 5 };
  kd_cgroup_limits_t none = { 0 };
  kd_cgroup_layout_t *l = NULL;
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_cgroup_layout_from_tree (root, &l, &err), 0);
  assert_int_equal (kd_cgroup_create (l, "p", &lim, &cg, &err), 0);
  assert_false (exists (c, "cpu.shares")); /* 0 = the default, untouched */
  assert_int_equal (kd_cgroup_update (cg, &none, &err), 0);
  assert_file (m, "memory.limit_in_bytes", "-1");
  assert_file (c, "cpu.cfs_quota_us", "-1");
  assert_file (c, "cpu.shares", "1024");
  assert_file (p, "pids.max", "max");
  assert_int_equal (kd_cgroup_destroy (cg, &err), 0);
  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_create_refuses_paths_that_escape (void **state)
{
  cleanup_free char *root = make_v1_tree (false);
  static const char *bad[] = { "", "/", "..", "a/../b", "a//b", "./a", "a/", "a/." };
  kd_cgroup_layout_t *l = NULL;
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_cgroup_layout_from_tree (root, &l, &err), 0);
  for (size_t i = 0; i < KD_ARRAY_SIZE (bad); i++)
    {
      assert_int_equal (kd_cgroup_create (l, bad[i], NULL, &cg, &err), -1);
      assert_int_equal (err->status, EINVAL);
      kd_error_release (&err);
      assert_int_equal (kd_cgroup_open (l, bad[i], &cg, &err), -1);
      kd_error_release (&err);
    }
  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_create_refuses_a_limit_without_its_controller (void **state)
{
  cleanup_free char *root = make_tmpdir ();
  kd_cgroup_limits_t lim = { .pids_limit = 10 };
  kd_cgroup_layout_t *l = NULL;
  kd_cgroup_t *cg = NULL;
  kd_error_t err = NULL;

  put_file (root, "cgroup.controllers", "cpu memory\n");
  assert_int_equal (kd_cgroup_layout_from_tree (root, &l, &err), 0);
  assert_int_equal (kd_cgroup_create (l, "kubepods/x", &lim, &cg, &err), -1);
  assert_int_equal (err->status, ENOTSUP);
  assert_non_null (strstr (err->msg, "pids controller"));
  kd_error_release (&err);
  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_tree_without_hierarchies_is_enoent (void **state)
{
  cleanup_free char *root = make_tmpdir ();
  kd_cgroup_layout_t *l = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_cgroup_detect (root, &l, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kd_error_release (&err);
  assert_int_equal (kd_cgroup_detect ("relative", &l, &err), -1);
  kd_error_release (&err);
  rm_rf (root);
}

/* ---- stats and OOM ------------------------------------------------------ */

static void
test_stats_v1_reads_usage_and_working_set (void **state)
{
  cleanup_free char *root = make_v1_tree (false);
  cleanup_free char *c = xasprintf ("%s/cpu,cpuacct/s", root);
  cleanup_free char *m = xasprintf ("%s/memory/s", root);
  cleanup_free char *p = xasprintf ("%s/pids/s", root);
  kd_cgroup_layout_t *l = NULL;
  kd_cgroup_t *cg = NULL;
  kd_cgroup_stats_t st;
  kd_error_t err = NULL;

  mkdirs (root, "cpu,cpuacct/s");
  mkdirs (root, "memory/s");
  mkdirs (root, "pids/s");
  put_file (c, "cpuacct.usage", "123456789\n");
  put_file (m, "memory.usage_in_bytes", "10485760\n");
  put_file (m, "memory.stat",
            "cache 100\nrss 5\ninactive_file 7\ntotal_cache 4096\n"
            "total_rss 2097152\ntotal_inactive_file 1048576\n");
  put_file (p, "pids.current", "3\n");
  assert_int_equal (kd_cgroup_layout_from_tree (root, &l, &err), 0);
  assert_int_equal (kd_cgroup_open (l, "s", &cg, &err), 0);
  assert_int_equal (kd_cgroup_stats (cg, &st, &err), 0);
  assert_int_equal (st.cpu_usage_ns, 123456789);
  assert_int_equal (st.memory_usage, 10485760);
  assert_int_equal (st.memory_working_set, 10485760 - 1048576);
  assert_int_equal (st.memory_rss, 2097152);
  assert_int_equal (st.pids, 3);
  kd_cgroup_free (cg);

  /* A cgroup whose files vanished reports the error with its path. */
  assert_int_equal (kd_cgroup_open (l, "s", &cg, &err), 0);
  put_file (p, "pids.current", "garbage\n");
  assert_int_equal (kd_cgroup_stats (cg, &st, &err), -1);
  assert_non_null (strstr (err->msg, "pids.current"));
  kd_error_release (&err);
  kd_cgroup_free (cg);
  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_stats_v2_reads_cpu_stat_and_memory_stat (void **state)
{
  cleanup_free char *root = make_tmpdir ();
  cleanup_free char *d = xasprintf ("%s/s", root);
  kd_cgroup_layout_t *l = NULL;
  kd_cgroup_t *cg = NULL;
  kd_cgroup_stats_t st;
  kd_error_t err = NULL;

  put_file (root, "cgroup.controllers", "cpu memory pids\n");
  mkdirs (root, "s");
  put_file (d, "cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
  put_file (d, "memory.current", "8192000\n");
  put_file (d, "memory.stat",
            "anon 4096000\nfile 2000\nkernel 0\ninactive_anon 1\n"
            "inactive_file 192000\n");
  put_file (d, "pids.current", "7\n");
  assert_int_equal (kd_cgroup_layout_from_tree (root, &l, &err), 0);
  assert_int_equal (kd_cgroup_open (l, "s", &cg, &err), 0);
  assert_int_equal (kd_cgroup_stats (cg, &st, &err), 0);
  assert_int_equal (st.cpu_usage_ns, 2500000);
  assert_int_equal (st.memory_usage, 8192000);
  assert_int_equal (st.memory_working_set, 8000000);
  assert_int_equal (st.memory_rss, 4096000);
  assert_int_equal (st.pids, 7);
  kd_cgroup_free (cg);
  kd_cgroup_layout_free (l);
  rm_rf (root);
}

static void
test_oom_kills_from_v1_oom_control_and_v2_events (void **state)
{
  cleanup_free char *dir = make_tmpdir ();
  cleanup_free char *v1 = xasprintf ("%s/memory.oom_control", dir);
  cleanup_free char *v2 = xasprintf ("%s/memory.events", dir);
  cleanup_free char *old = xasprintf ("%s/old", dir);
  cleanup_free char *missing = xasprintf ("%s/nope", dir);
  kd_error_t err = NULL;
  uint64_t kills = 99;

  put_file (dir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  put_file (dir, "memory.events", "low 0\nhigh 0\nmax 17\noom 3\noom_kill 1\noom_group_kill 0\n");
  put_file (dir, "old", "oom_kill_disable 0\nunder_oom 0\n");
  assert_int_equal (kd_cgroup_read_oom_kills (v1, &kills, &err), 0);
  assert_int_equal (kills, 2);
  /* "oom 3" and "oom_group_kill" must not be mistaken for oom_kill. */
  assert_int_equal (kd_cgroup_read_oom_kills (v2, &kills, &err), 0);
  assert_int_equal (kills, 1);
  /* Kernels before 4.13 have no counter in v1: nothing is counted. */
  assert_int_equal (kd_cgroup_read_oom_kills (old, &kills, &err), 0);
  assert_int_equal (kills, 0);
  assert_int_equal (kd_cgroup_read_oom_kills (missing, &kills, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kd_error_release (&err);
  rm_rf (dir);
}

static void
test_keyed_values_and_single_values (void **state)
{
  uint64_t v = 0;

  assert_true (kd_cgroup_keyed_value ("a 1\nab 2\nb 3", "b", &v));
  assert_int_equal (v, 3);
  assert_false (kd_cgroup_keyed_value ("a 1\nab 2\n", "b", &v));
  assert_false (kd_cgroup_keyed_value ("b x\n", "b", &v));
  assert_int_equal (kd_cgroup_parse_u64 ("max\n", &v), 0);
  assert_true (v == UINT64_MAX);
  assert_int_equal (kd_cgroup_parse_u64 ("42\n", &v), 0);
  assert_int_equal (v, 42);
  assert_int_equal (kd_cgroup_parse_u64 ("-1\n", &v), -1);
  assert_int_equal (kd_cgroup_parse_u64 ("", &v), -1);
}

/* ---- formulas ----------------------------------------------------------- */

static void
test_shares_follow_milli_cpu_to_shares (void **state)
{
  assert_int_equal (kd_cgroup_shares_from_millis (0), 2);
  assert_int_equal (kd_cgroup_shares_from_millis (1), 2);
  assert_int_equal (kd_cgroup_shares_from_millis (2), 2);
  assert_int_equal (kd_cgroup_shares_from_millis (100), 102);
  assert_int_equal (kd_cgroup_shares_from_millis (250), 256);
  assert_int_equal (kd_cgroup_shares_from_millis (1000), 1024);
  assert_int_equal (kd_cgroup_shares_from_millis (256000), 262144);
  assert_int_equal (kd_cgroup_shares_from_millis (500000), 262144);
  assert_int_equal (kd_cgroup_shares_from_millis (INT64_MAX), 262144);
}

static void
test_quota_follows_milli_cpu_to_quota_with_1ms_floor (void **state)
{
  assert_int_equal (kd_cgroup_quota_from_millis (0, 100000), 0);
  assert_int_equal (kd_cgroup_quota_from_millis (1, 100000), 1000);
  assert_int_equal (kd_cgroup_quota_from_millis (9, 100000), 1000);
  assert_int_equal (kd_cgroup_quota_from_millis (10, 100000), 1000);
  assert_int_equal (kd_cgroup_quota_from_millis (11, 100000), 1100);
  assert_int_equal (kd_cgroup_quota_from_millis (250, 100000), 25000);
  assert_int_equal (kd_cgroup_quota_from_millis (1500, 100000), 150000);
  assert_int_equal (kd_cgroup_quota_from_millis (500, 50000), 25000);
  assert_int_equal (kd_cgroup_quota_from_millis (500, 0), 50000);
}

static void
test_weight_follows_runc_conversion (void **state)
{
  assert_int_equal (kd_cgroup_weight_from_shares (0), 0);
  assert_int_equal (kd_cgroup_weight_from_shares (2), 1);
  assert_int_equal (kd_cgroup_weight_from_shares (102), 4);
  assert_int_equal (kd_cgroup_weight_from_shares (1024), 39);
  assert_int_equal (kd_cgroup_weight_from_shares (262144), 10000);
}

static void
test_oom_score_adj_follows_kubelet_policy (void **state)
{
  const int64_t node = 10000000000LL; /* 10 GB: exact tenths */

  assert_int_equal (kd_oom_score_adj ("Guaranteed", node / 2, node), -997);
  assert_int_equal (kd_oom_score_adj ("BestEffort", 0, node), 1000);
  assert_int_equal (kd_oom_score_adj ("Burstable", node / 10, node), 900);
  assert_int_equal (kd_oom_score_adj ("Burstable", node / 2, node), 500);
  /* No request: 1000, but a Burstable container stays below BestEffort. */
  assert_int_equal (kd_oom_score_adj ("Burstable", 0, node), 999);
  /* A request near or above the node's memory stays above Guaranteed. */
  assert_int_equal (kd_oom_score_adj ("Burstable", node, node), 3);
  assert_int_equal (kd_oom_score_adj ("Burstable", node * 4, node), 3);
  assert_int_equal (kd_oom_score_adj ("Burstable", node - node / 1000, node), 3);
  assert_int_equal (kd_oom_score_adj ("Burstable", 100LL << 20, node), 990);
  /* Integer division as in Go: 8 GiB / 10 rounds the score up to 901. */
  assert_int_equal (kd_oom_score_adj ("Burstable", (8LL << 30) / 10, 8LL << 30), 901);
}

static void
test_pod_path_uses_qos_parents (void **state)
{
  cleanup_free char *g = kd_cgroup_pod_path ("kubepods", "Guaranteed", "abc");
  cleanup_free char *b = kd_cgroup_pod_path ("/kubepods/", "Burstable", "abc");
  cleanup_free char *e = kd_cgroup_pod_path (NULL, "BestEffort", "abc");
  cleanup_free char *top = kd_cgroup_pod_path ("/", "Guaranteed", "abc");

  assert_string_equal (g, "kubepods/podabc");
  assert_string_equal (b, "kubepods/burstable/podabc");
  assert_string_equal (e, "kubepods/besteffort/podabc");
  assert_string_equal (top, "podabc");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mountinfo_hybrid_uses_v1_controllers_and_unified),
    cmocka_unit_test (test_mountinfo_comounted_cpu_cpuacct_is_v1),
    cmocka_unit_test (test_mountinfo_v2_at_root_reads_controllers),
    cmocka_unit_test (test_mountinfo_unescapes_and_ignores_other_roots),
    cmocka_unit_test (test_tree_v1_writes_limits_and_destroy_removes_only_the_cgroup),
    cmocka_unit_test (test_tree_hybrid_tracks_processes_in_unified),
    cmocka_unit_test (test_tree_v2_enables_controllers_in_parents_and_writes_v2_files),
    cmocka_unit_test (test_v1_update_resets_to_unlimited),
    cmocka_unit_test (test_create_refuses_paths_that_escape),
    cmocka_unit_test (test_create_refuses_a_limit_without_its_controller),
    cmocka_unit_test (test_tree_without_hierarchies_is_enoent),
    cmocka_unit_test (test_stats_v1_reads_usage_and_working_set),
    cmocka_unit_test (test_stats_v2_reads_cpu_stat_and_memory_stat),
    cmocka_unit_test (test_oom_kills_from_v1_oom_control_and_v2_events),
    cmocka_unit_test (test_keyed_values_and_single_values),
    cmocka_unit_test (test_shares_follow_milli_cpu_to_shares),
    cmocka_unit_test (test_quota_follows_milli_cpu_to_quota_with_1ms_floor),
    cmocka_unit_test (test_weight_follows_runc_conversion),
    cmocka_unit_test (test_oom_score_adj_follows_kubelet_policy),
    cmocka_unit_test (test_pod_path_uses_qos_parents),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
