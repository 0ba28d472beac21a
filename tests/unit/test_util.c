/* util: the error contract, durations, sizes, times, buffers, files, locks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "kubeletd/util.h"

static int
fail_open (const char *path, kd_error_t *err)
{
  errno = ENOENT;
  return kd_make_error (err, errno, "open `%s`", path);
}

static void
test_error_wrap_prefixes_context (void **state)
{
  kd_error_t err = NULL;
  assert_int_equal (fail_open ("/nope", &err), -1);
  assert_int_equal (err->status, ENOENT);
  kd_error_wrap (&err, "pod %s", "web-node1");
  assert_string_equal (err->msg, "pod web-node1: open `/nope`: No such file or directory");
  /* A second error does not overwrite the first. */
  kd_make_error (&err, 0, "other");
  assert_string_equal (err->msg, "pod web-node1: open `/nope`: No such file or directory");
  kd_error_release (&err);
  assert_null (err);
}

static void
test_duration_go_syntax (void **state)
{
  static const struct
  {
    const char *in;
    int64_t ms;
  } ok[] = {
    { "0", 0 },        { "500ms", 500 },   { "10s", 10000 }, { "5m", 300000 },
    { "1h", 3600000 }, { "1m30s", 90000 }, { "1.5s", 1500 }, { "2h45m", 9900000 },
    { "-1s", -1000 },  { "1000us", 1 },    { ".5s", 500 },
  };
  static const char *bad[] = { "", "10", "s", "10x", "1s2", "--1s", "1 s", "abc" };
  int64_t v;

  for (size_t i = 0; i < KD_ARRAY_SIZE (ok); i++)
    {
      assert_int_equal (kd_parse_duration_ms (ok[i].in, &v), 0);
      assert_int_equal (v, ok[i].ms);
    }
  for (size_t i = 0; i < KD_ARRAY_SIZE (bad); i++)
    assert_int_equal (kd_parse_duration_ms (bad[i], &v), -1);
}

static void
test_bytes_suffixes (void **state)
{
  int64_t v;
  assert_int_equal (kd_parse_bytes ("10Mi", &v), 0);
  assert_int_equal (v, 10 * 1024 * 1024);
  assert_int_equal (kd_parse_bytes ("1G", &v), 0);
  assert_int_equal (v, 1000000000);
  assert_int_equal (kd_parse_bytes ("512", &v), 0);
  assert_int_equal (v, 512);
  assert_int_equal (kd_parse_bytes ("1.5Ki", &v), 0);
  assert_int_equal (v, 1536);
  assert_int_equal (kd_parse_bytes ("10MB", &v), -1);
  assert_int_equal (kd_parse_bytes ("-1", &v), -1);
  assert_int_equal (kd_parse_bytes ("", &v), -1);
}

static void
test_time_round_trip (void **state)
{
  char buf[64];
  int64_t ns;

  assert_int_equal (kd_parse_time ("2026-11-30T04:15:10Z", &ns), 0);
  kd_format_time (ns, buf, sizeof buf);
  assert_string_equal (buf, "2026-11-30T04:15:10Z");
  assert_int_equal (kd_parse_time ("2026-11-30T04:15:10.123456789Z", &ns), 0);
  kd_format_time_nano (ns, buf, sizeof buf);
  assert_string_equal (buf, "2026-11-30T04:15:10.123456789Z");
  assert_int_equal (kd_parse_time ("2026-11-30T05:15:10+01:00", &ns), 0);
  kd_format_time (ns, buf, sizeof buf);
  assert_string_equal (buf, "2026-11-30T04:15:10Z");
  assert_int_equal (kd_parse_time ("2026-11-30", &ns), -1);
  assert_int_equal (kd_parse_time ("2026-13-30T04:15:10Z", &ns), -1);
  assert_int_equal (kd_parse_time ("2026-11-30T04:15:10", &ns), -1);
  assert_int_equal (kd_parse_time ("2026-11-30T04:15:10Zjunk", &ns), -1);
}

static void
test_buf_grows_and_steals (void **state)
{
  kd_buf_t b = { 0 };
  for (int i = 0; i < 1000; i++)
    kd_buf_printf (&b, "%d,", i % 10);
  assert_int_equal (b.len, 2000);
  cleanup_free char *s = kd_buf_steal (&b);
  assert_int_equal (strlen (s), 2000);
  assert_null (b.s);
  cleanup_free char *empty = kd_buf_steal (&b);
  assert_string_equal (empty, "");
}

static void
test_files_atomic_write_read_limit_lock (void **state)
{
  char dir[] = "/tmp/kd-util-XXXXXX";
  kd_error_t err = NULL;
  cleanup_free char *path = NULL, *deep = NULL, *data = NULL, *lock = NULL;
  size_t len;
  int fd, fd2;

  assert_non_null (mkdtemp (dir));
  deep = xasprintf ("%s/a/b/c", dir);
  assert_int_equal (kd_mkdir_p (deep, 0700, &err), 0);
  path = xasprintf ("%s/a/file", dir);
  assert_int_equal (kd_write_file_atomic (path, "hello", 5, 0600, &err), 0);
  assert_int_equal (kd_read_file (path, 100, &data, &len, &err), 0);
  assert_int_equal (len, 5);
  assert_string_equal (data, "hello");
  free (steal_pointer (&data));
  assert_int_equal (kd_read_file (path, 4, &data, &len, &err), -1);
  assert_non_null (strstr (err->msg, "too large"));
  kd_error_release (&err);
  assert_int_equal (kd_read_file (deep, 100, &data, &len, &err), -1);
  assert_non_null (strstr (err->msg, "not a regular file"));
  kd_error_release (&err);

  lock = xasprintf ("%s/lock", dir);
  fd = kd_lock_file (lock, &err);
  assert_true (fd >= 0);
  /* flock is per open file description: a second open conflicts. */
  fd2 = kd_lock_file (lock, &err);
  assert_int_equal (fd2, -1);
  assert_non_null (strstr (err->msg, "another kubeletd holds"));
  kd_error_release (&err);
  close (fd);

  cleanup_free char *cmd = xasprintf ("rm -rf %s", dir);
  assert_int_equal (system (cmd), 0);
}

/* kd_mkdir_p: an existing folder, one or several missing levels, and a
   file in the way (ENOTDIR at the end or in the middle of the path). */
static void
test_mkdir_p_existing_missing_levels_and_file_in_the_way (void **state)
{
  char dir[] = "/tmp/kd-util-XXXXXX";
  kd_error_t err = NULL;
  struct stat st;
  cleanup_free char *one = NULL, *several = NULL, *slashes = NULL, *file = NULL, *under = NULL,
                    *cmd = NULL;
  int fd;

  assert_non_null (mkdtemp (dir));
  /* existing: the folder itself, with or without a trailing slash */
  assert_int_equal (kd_mkdir_p (dir, 0700, &err), 0);
  cleanup_free char *trailing = xasprintf ("%s//", dir);
  assert_int_equal (kd_mkdir_p (trailing, 0700, &err), 0);
  /* one missing level */
  one = xasprintf ("%s/one", dir);
  assert_int_equal (kd_mkdir_p (one, 0700, &err), 0);
  assert_int_equal (stat (one, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0700);
  /* several missing levels, doubled slashes included */
  several = xasprintf ("%s/x/y//z/w", dir);
  assert_int_equal (kd_mkdir_p (several, 0750, &err), 0);
  assert_int_equal (stat (several, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  slashes = xasprintf ("%s/x/y", dir);
  assert_int_equal (stat (slashes, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (kd_mkdir_p (several, 0750, &err), 0);
  assert_null (err);
  /* a file in the way, as the last component and as a parent */
  file = xasprintf ("%s/file", dir);
  fd = open (file, O_WRONLY | O_CREAT, 0600);
  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (kd_mkdir_p (file, 0700, &err), -1);
  assert_int_equal (err->status, ENOTDIR);
  assert_non_null (strstr (err->msg, file));
  kd_error_release (&err);
  under = xasprintf ("%s/file/a/b", dir);
  assert_int_equal (kd_mkdir_p (under, 0700, &err), -1);
  assert_int_equal (err->status, ENOTDIR);
  kd_error_release (&err);

  cmd = xasprintf ("rm -rf %s", dir);
  assert_int_equal (system (cmd), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_error_wrap_prefixes_context),
    cmocka_unit_test (test_duration_go_syntax),
    cmocka_unit_test (test_bytes_suffixes),
    cmocka_unit_test (test_time_round_trip),
    cmocka_unit_test (test_buf_grows_and_steals),
    cmocka_unit_test (test_files_atomic_write_read_limit_lock),
    cmocka_unit_test (test_mkdir_p_existing_missing_levels_and_file_in_the_way),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
