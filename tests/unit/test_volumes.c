/* Volumes: hostPath type checks, emptyDir, and subPath resolution that
   cannot leave its volume. Mount tests need root and are skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "kubeletd/sandbox.h"
#include "sandbox-test-pod.h"

static char tmp[64];

static int
setup (void **state)
{
  strcpy (tmp, "/tmp/kd-test-vol-XXXXXX");
  assert_non_null (mkdtemp (tmp));
  umask (022);
  return 0;
}

static int
teardown (void **state)
{
  char *cmd = xasprintf ("umount -R -l %s 2>/dev/null; rm -rf %s", tmp, tmp);
  assert_int_equal (system (cmd), 0);
  free (cmd);
  return 0;
}

static char *
p (const char *rel)
{
  return xasprintf ("%s/%s", tmp, rel);
}

static void
expect_error (int r, kd_error_t *err, const char *msg)
{
  assert_true (r < 0);
  assert_non_null (*err);
  assert_string_equal ((*err)->msg, msg);
  kd_error_release (err);
}

static void
test_hostpath_directory_or_create_makes_0755_dir (void **state)
{
  cleanup_free char *d = p ("a/b/c");
  kd_error_t err = NULL;
  struct stat st;
  assert_int_equal (kd_sandbox_hostpath_check (d, "DirectoryOrCreate", &err), 0);
  assert_int_equal (stat (d, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0755);
}

static void
test_hostpath_file_or_create_makes_0644_file_but_needs_parent (void **state)
{
  cleanup_free char *f = p ("f");
  cleanup_free char *orphan = p ("nodir/f");
  cleanup_free char *msg = xasprintf ("open %s: No such file or directory", orphan);
  kd_error_t err = NULL;
  struct stat st;
  assert_int_equal (kd_sandbox_hostpath_check (f, "FileOrCreate", &err), 0);
  assert_int_equal (stat (f, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0644);
  expect_error (kd_sandbox_hostpath_check (orphan, "FileOrCreate", &err), &err, msg);
}

static void
test_hostpath_types_are_checked_with_kubelet_messages (void **state)
{
  cleanup_free char *f = p ("file");
  cleanup_free char *d = p ("dir");
  cleanup_free char *s = p ("sock");
  cleanup_free char *m1 = xasprintf ("hostPath type check failed: %s is not a directory", f);
  cleanup_free char *m2 = xasprintf ("hostPath type check failed: %s is not a file", d);
  cleanup_free char *m3 = xasprintf ("hostPath type check failed: %s is not a socket file", f);
  cleanup_free char *m4 = xasprintf ("hostPath type check failed: %s is not a character device", f);
  cleanup_free char *m5
      = xasprintf ("hostPath type check failed: %s is not a block device", "/dev/null");
  cleanup_free char *m6 = xasprintf ("hostPath type check failed: %s is not a directory", d);
  cleanup_free char *m7 = xasprintf ("hostPath type check failed: %s is not a file", f);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  kd_error_t err = NULL;
  int fd;

  close (open (f, O_CREAT | O_WRONLY, 0644));
  mkdir (d, 0755);
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  strcpy (sa.sun_path, s);
  assert_int_equal (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0);

  assert_int_equal (kd_sandbox_hostpath_check (d, "Directory", &err), 0);
  assert_int_equal (kd_sandbox_hostpath_check (f, "File", &err), 0);
  assert_int_equal (kd_sandbox_hostpath_check (s, "Socket", &err), 0);
  assert_int_equal (kd_sandbox_hostpath_check ("/dev/null", "CharDevice", &err), 0);
  assert_int_equal (kd_sandbox_hostpath_check (f, "", &err), 0);
  expect_error (kd_sandbox_hostpath_check (f, "Directory", &err), &err, m1);
  expect_error (kd_sandbox_hostpath_check (d, "File", &err), &err, m2);
  expect_error (kd_sandbox_hostpath_check (f, "Socket", &err), &err, m3);
  expect_error (kd_sandbox_hostpath_check (f, "CharDevice", &err), &err, m4);
  expect_error (kd_sandbox_hostpath_check ("/dev/null", "BlockDevice", &err), &err, m5);
  /* The *OrCreate types check what exists. */
  unlink (f);
  close (open (f, O_CREAT | O_WRONLY, 0644));
  rmdir (d);
  mkdir (d, 0755);
  expect_error (kd_sandbox_hostpath_check (f, "DirectoryOrCreate", &err), &err, m1);
  expect_error (kd_sandbox_hostpath_check (d, "FileOrCreate", &err), &err, m2);
  /* A missing path is neither. */
  {
    cleanup_free char *gone = p ("gone");
    cleanup_free char *mg = xasprintf ("hostPath type check failed: %s is not a directory", gone);
    expect_error (kd_sandbox_hostpath_check (gone, "Directory", &err), &err, mg);
  }
  expect_error (kd_sandbox_hostpath_check (d, "Bogus", &err), &err,
                "Bogus is an invalid volume type");
  (void) m6;
  (void) m7;
  close (fd);
}

static void
test_empty_dir_is_world_writable_under_pod_dir (void **state)
{
  cleanup_free char *json = xasprintf (
      "{\"metadata\":{\"name\":\"w\",\"uid\":\"u1\"},\"spec\":{\"volumes\":["
      "{\"name\":\"scratch\",\"emptyDir\":{}},"
      "{\"name\":\"host\",\"hostPath\":{\"path\":\"%s/hp\",\"type\":\"DirectoryOrCreate\"}}]}}",
      tmp);
  kd_pod_t *pod = test_pod (json);
  kd_sandbox_volume_t *v = NULL;
  size_t n = 0;
  kd_error_t err = NULL;
  cleanup_free char *want = p ("root/pods/u1/volumes/kubernetes.io~empty-dir/scratch");
  cleanup_free char *root = p ("root");
  cleanup_free char *vols = p ("root/pods/u1/volumes");
  struct stat st;

  assert_int_equal (kd_sandbox_volumes_setup (pod, root, &v, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_string_equal (v[0].path, want);
  assert_false (v[0].tmpfs);
  assert_int_equal (stat (want, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0777);
  assert_int_equal (stat (v[1].path, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (kd_sandbox_volumes_teardown (root, "u1", &err), 0);
  assert_int_not_equal (access (vols, F_OK), 0);
  /* hostPath content is never removed. */
  assert_int_equal (access (v[1].path, F_OK), 0);
  kd_sandbox_volumes_free (v, n);
  kd_pod_free (pod);
}

static void
test_hostpath_type_failure_fails_setup_with_volume_name (void **state)
{
  cleanup_free char *json = xasprintf (
      "{\"metadata\":{\"name\":\"w\",\"uid\":\"u2\"},\"spec\":{\"volumes\":["
      "{\"name\":\"host\",\"hostPath\":{\"path\":\"%s/missing\",\"type\":\"Directory\"}}]}}",
      tmp);
  kd_pod_t *pod = test_pod (json);
  kd_sandbox_volume_t *v = NULL;
  size_t n = 0;
  kd_error_t err = NULL;
  cleanup_free char *root = p ("root");
  cleanup_free char *msg
      = xasprintf ("volume `host`: hostPath type check failed: %s/missing is not a directory", tmp);
  expect_error (kd_sandbox_volumes_setup (pod, root, &v, &n, &err), &err, msg);
  kd_pod_free (pod);
}

static void
test_memory_empty_dir_is_tmpfs_with_size_limit (void **state)
{
  if (geteuid () != 0)
    skip ();
  kd_pod_t *pod = test_pod ("{\"metadata\":{\"name\":\"w\",\"uid\":\"u3\"},\"spec\":{\"volumes\":["
                            "{\"name\":\"mem\",\"emptyDir\":{\"medium\":\"Memory\","
                            "\"sizeLimit\":\"4Mi\"}}]}}");
  kd_sandbox_volume_t *v = NULL;
  size_t n = 0;
  kd_error_t err = NULL;
  cleanup_free char *root = p ("root");
  cleanup_free char *cmd = NULL;

  assert_int_equal (kd_sandbox_volumes_setup (pod, root, &v, &n, &err), 0);
  assert_true (v[0].tmpfs);
  cmd = xasprintf ("findmnt -n -o FSTYPE,OPTIONS %s | grep -q '^tmpfs .*size=4096k'", v[0].path);
  assert_int_equal (system (cmd), 0);
  assert_int_equal (kd_sandbox_volumes_teardown (root, "u3", &err), 0);
  assert_int_not_equal (access (v[0].path, F_OK), 0);
  kd_sandbox_volumes_free (v, n);
  kd_pod_free (pod);
}

/* ---- subPath ---------------------------------------------------------- */

static char *
make_volume (void)
{
  char *vol = p ("vol");
  cleanup_free char *outside = p ("outside");
  cleanup_free char *secret = p ("outside/secret");
  cleanup_free char *inner = p ("vol/inner");
  cleanup_free char *cmd = NULL;
  mkdir (vol, 0755);
  mkdir (outside, 0755);
  mkdir (inner, 0755);
  close (open (secret, O_CREAT | O_WRONLY, 0600));
  cmd = xasprintf ("cd %s && ln -s %s abs && ln -s ../outside rel && ln -s rel chain1 && "
                   "ln -s chain1 chain2 && ln -s inner okl && ln -s /proc/self/root procl",
                   vol, tmp);
  assert_int_equal (system (cmd), 0);
  return vol;
}

static void
expect_escape (const char *vol, const char *sub)
{
  kd_error_t err = NULL;
  cleanup_free char *msg = xasprintf ("subpath \"%s\" not within volume path \"%s\"", sub, vol);
  int fd = kd_sandbox_subpath_open (vol, sub, true, &err);
  assert_true (fd < 0);
  assert_non_null (err);
  assert_true (kd_str_has_prefix (err->msg, msg));
  kd_error_release (&err);
}

static void
test_subpath_escapes_are_refused (void **state)
{
  cleanup_free char *vol = make_volume ();
  kd_error_t err = NULL;

  assert_true (kd_sandbox_subpath_open (vol, "../outside", true, &err) < 0);
  assert_string_equal (err->msg, "subpath \"../outside\": must not contain '..'");
  kd_error_release (&err);
  assert_true (kd_sandbox_subpath_open (vol, "inner/../../outside", true, &err) < 0);
  kd_error_release (&err);
  assert_true (kd_sandbox_subpath_open (vol, "/etc", true, &err) < 0);
  assert_string_equal (err->msg, "subpath \"/etc\": must be a relative path");
  kd_error_release (&err);
  expect_escape (vol, "abs");           /* absolute symlink */
  expect_escape (vol, "abs/outside");   /* through one */
  expect_escape (vol, "rel/secret");    /* relative symlink out */
  expect_escape (vol, "chain2/secret"); /* a chain leading out */
  expect_escape (vol, "procl");         /* a magic link */
}

static void
test_subpath_inside_symlinks_and_missing_dirs_work (void **state)
{
  cleanup_free char *vol = make_volume ();
  cleanup_free char *made = p ("vol/new/dir");
  kd_error_t err = NULL;
  struct stat a, b;
  int fd;

  fd = kd_sandbox_subpath_open (vol, "okl", true, &err);
  assert_true (fd >= 0);
  assert_int_equal (fstat (fd, &a), 0);
  close (fd);
  {
    cleanup_free char *inner = p ("vol/inner");
    assert_int_equal (stat (inner, &b), 0);
    assert_int_equal (a.st_ino, b.st_ino);
  }
  fd = kd_sandbox_subpath_open (vol, "./new//dir", true, &err);
  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (stat (made, &a), 0);
  assert_true (S_ISDIR (a.st_mode));
  /* Without create, missing is an error. */
  assert_true (kd_sandbox_subpath_open (vol, "nope", false, &err) < 0);
  assert_int_equal (err->status, ENOENT);
  kd_error_release (&err);
  /* A dangling symlink is not followed to create its target. */
  {
    cleanup_free char *cmd = xasprintf ("ln -s %s/created-outside %s/dangling", tmp, vol);
    cleanup_free char *target = p ("created-outside");
    assert_int_equal (system (cmd), 0);
    assert_true (kd_sandbox_subpath_open (vol, "dangling", true, &err) < 0);
    kd_error_release (&err);
    assert_int_not_equal (access (target, F_OK), 0);
  }
}

static void
test_subpath_mount_pins_the_checked_object_against_a_later_swap (void **state)
{
  if (geteuid () != 0)
    skip ();
  cleanup_free char *vol = make_volume ();
  cleanup_free char *run = p ("run");
  cleanup_free char *target = kd_sandbox_subpath_target (run, "u9", "app", 0);
  cleanup_free char *data = p ("vol/inner/data");
  cleanup_free char *inner = p ("vol/inner");
  cleanup_free char *moved = p ("vol/inner.old");
  cleanup_free char *seen = NULL;
  cleanup_free char *swap = NULL;
  kd_error_t err = NULL;
  FILE *f = fopen (data, "w");
  fputs ("inside", f);
  fclose (f);

  assert_int_equal (kd_sandbox_subpath_mount (vol, "inner", target, &err), 0);
  /* Swap the checked directory for a symlink to outside: the mount still
     shows what was checked, and a new mount refuses the symlink. */
  assert_int_equal (rename (inner, moved), 0);
  swap = xasprintf ("ln -s %s/outside %s", tmp, inner);
  assert_int_equal (system (swap), 0);
  {
    cleanup_free char *path = xasprintf ("%s/data", target);
    assert_int_equal (kd_read_file (path, 100, &seen, NULL, &err), 0);
    assert_string_equal (seen, "inside");
  }
  {
    cleanup_free char *t2 = kd_sandbox_subpath_target (run, "u9", "app", 1);
    assert_true (kd_sandbox_subpath_mount (vol, "inner", t2, &err) < 0);
    assert_non_null (strstr (err->msg, "not within volume path"));
    kd_error_release (&err);
  }
  assert_int_equal (kd_sandbox_subpaths_cleanup (run, "u9", &err), 0);
  {
    cleanup_free char *sp = p ("run/pods/u9/subpaths");
    assert_int_not_equal (access (sp, F_OK), 0);
  }
}

static void
test_container_mounts_map_volume_mounts_and_subpaths (void **state)
{
  if (geteuid () != 0)
    skip ();
  cleanup_free char *vol = make_volume ();
  cleanup_free char *run = p ("run");
  cleanup_free char *json = xasprintf (
      "{\"metadata\":{\"name\":\"w\",\"uid\":\"u4\"},\"spec\":{\"containers\":[{\"name\":\"app\","
      "\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/data\",\"readOnly\":true},"
      "{\"name\":\"v\",\"mountPath\":\"/sub\",\"subPath\":\"inner\"},"
      "{\"name\":\"v\",\"mountPath\":\"/bad\",\"subPath\":\"abs\"}]}]}}");
  kd_pod_t *pod = test_pod (json);
  kd_sandbox_volume_t vols[1] = { { "v", vol, false } };
  kd_mount_t *m = NULL;
  size_t n = 0;
  kd_error_t err = NULL;

  /* The escaping third mount fails the whole container. */
  assert_true (
      kd_sandbox_container_mounts (pod, &pod->spec.containers[0], vols, 1, run, &m, &n, &err) < 0);
  assert_non_null (
      strstr (err->msg, "container `app`, volumeMount `v`: subpath \"abs\" not within"));
  kd_error_release (&err);
  pod->spec.containers[0].n_volume_mounts = 2;
  assert_int_equal (
      kd_sandbox_container_mounts (pod, &pod->spec.containers[0], vols, 1, run, &m, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_string_equal (m[0].source, vol);
  assert_true (m[0].readonly);
  assert_true (m[0].recursive);
  assert_string_equal (m[1].destination, "/sub");
  {
    cleanup_free char *t = kd_sandbox_subpath_target (run, "u4", "app", 1);
    assert_string_equal (m[1].source, t);
  }
  kd_sandbox_mounts_free (m, n);
  pod->spec.containers[0].n_volume_mounts = 3;
  assert_int_equal (kd_sandbox_subpaths_cleanup (run, "u4", &err), 0);
  kd_pod_free (pod);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_hostpath_directory_or_create_makes_0755_dir, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_hostpath_file_or_create_makes_0644_file_but_needs_parent,
                                     setup, teardown),
    cmocka_unit_test_setup_teardown (test_hostpath_types_are_checked_with_kubelet_messages, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_empty_dir_is_world_writable_under_pod_dir, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_hostpath_type_failure_fails_setup_with_volume_name, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_memory_empty_dir_is_tmpfs_with_size_limit, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_subpath_escapes_are_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_subpath_inside_symlinks_and_missing_dirs_work, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (
        test_subpath_mount_pins_the_checked_object_against_a_later_swap, setup, teardown),
    cmocka_unit_test_setup_teardown (test_container_mounts_map_volume_mounts_and_subpaths, setup,
                                     teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
