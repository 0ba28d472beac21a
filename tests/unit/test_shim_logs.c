/* The shim's CRI log writer (shim/logs.c, compiled in here since the shim is
 * not part of libkd): the line format, P pieces for long and unterminated
 * lines, separate pending lines per stream, rotation, and write errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "../../shim/logs.c"

#define T0 ((int64_t) 1000000005) /* 1970-01-01T00:00:01.000000005Z */

static char *
read_all (const char *path)
{
  char *data = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_read_file (path, 1 << 24, &data, NULL, &err), 0);
  return data;
}

static char *
make_dir (void)
{
  char tmpl[] = "/tmp/kd-shim-logs-XXXXXX";
  assert_non_null (mkdtemp (tmpl));
  return xstrdup (tmpl);
}

static void
remove_dir (char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;

  while (d && (de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      {
        char *p = xasprintf ("%s/%s", dir, de->d_name);
        unlink (p);
        free (p);
      }
  if (d)
    closedir (d);
  rmdir (dir);
  free (dir);
}

static shim_log_t *
open_in (const char *dir, int64_t max_size, int max_files, char **path)
{
  shim_log_t *l = NULL;
  kd_error_t err = NULL;

  *path = xasprintf ("%s/0.log", dir);
  assert_int_equal (shim_log_open (*path, max_size, max_files, &l, &err), 0);
  return l;
}

static void
test_full_lines_are_written_in_cri_format (void **state)
{
  char *dir = make_dir (), *path, *data;
  shim_log_t *l = open_in (dir, 0, 5, &path);

  shim_log_feed (l, SHIM_STDOUT, "hello\nworld\n", 12, T0);
  shim_log_feed (l, SHIM_STDERR, "oops\n", 5, T0);
  shim_log_feed (l, SHIM_STDOUT, "\n", 1, T0);
  shim_log_close (l);
  data = read_all (path);
  assert_string_equal (data, "1970-01-01T00:00:01.000000005Z stdout F hello\n"
                             "1970-01-01T00:00:01.000000005Z stdout F world\n"
                             "1970-01-01T00:00:01.000000005Z stderr F oops\n"
                             "1970-01-01T00:00:01.000000005Z stdout F \n");
  free (data);
  free (path);
  remove_dir (dir);
}

static void
test_line_split_across_reads_is_one_line (void **state)
{
  char *dir = make_dir (), *path, *data;
  shim_log_t *l = open_in (dir, 0, 5, &path);

  shim_log_feed (l, SHIM_STDOUT, "hel", 3, T0);
  shim_log_feed (l, SHIM_STDOUT, "lo", 2, T0);
  shim_log_feed (l, SHIM_STDOUT, "\nnext", 5, T0);
  shim_log_eof (l, SHIM_STDOUT, T0);
  shim_log_close (l);
  data = read_all (path);
  assert_string_equal (data, "1970-01-01T00:00:01.000000005Z stdout F hello\n"
                             "1970-01-01T00:00:01.000000005Z stdout P next\n");
  free (data);
  free (path);
  remove_dir (dir);
}

static void
test_streams_keep_separate_pending_lines (void **state)
{
  char *dir = make_dir (), *path, *data;
  shim_log_t *l = open_in (dir, 0, 5, &path);

  shim_log_feed (l, SHIM_STDOUT, "a", 1, T0);
  shim_log_feed (l, SHIM_STDERR, "b\n", 2, T0);
  shim_log_feed (l, SHIM_STDOUT, "c\n", 2, T0);
  shim_log_close (l);
  data = read_all (path);
  assert_string_equal (data, "1970-01-01T00:00:01.000000005Z stderr F b\n"
                             "1970-01-01T00:00:01.000000005Z stdout F ac\n");
  free (data);
  free (path);
  remove_dir (dir);
}

/* Counts lines and checks each piece's tag and length. */
static void
check_pieces (const char *data, const char *tags, const size_t *lens, size_t n)
{
  const char *p = data;

  for (size_t i = 0; i < n; i++)
    {
      const char *nl = strchr (p, '\n');
      const char *content;
      assert_non_null (nl);
      assert_memory_equal (p, "1970-01-01T00:00:01.000000005Z stdout ", 38);
      assert_int_equal (p[38], tags[i]);
      content = p + 40;
      assert_int_equal ((size_t) (nl - content), lens[i]);
      for (const char *c = content; c < nl; c++)
        assert_int_equal (*c, 'x');
      p = nl + 1;
    }
  assert_string_equal (p, "");
}

static void
test_long_line_is_cut_into_partial_pieces (void **state)
{
  char *dir = make_dir (), *path, *data;
  shim_log_t *l = open_in (dir, 0, 5, &path);
  size_t n = 2 * SHIM_LOG_MAX_LINE + 100;
  char *big = xmalloc (n + 1);
  const size_t lens[] = { SHIM_LOG_MAX_LINE, SHIM_LOG_MAX_LINE, 100 };

  memset (big, 'x', n);
  big[n] = '\n';
  /* In odd-sized reads, as a pipe delivers them. */
  for (size_t off = 0; off < n + 1; off += 1000)
    shim_log_feed (l, SHIM_STDOUT, big + off, n + 1 - off < 1000 ? n + 1 - off : 1000, T0);
  shim_log_close (l);
  data = read_all (path);
  check_pieces (data, "PPF", lens, 3);
  free (data);
  free (big);
  free (path);
  remove_dir (dir);
}

static void
test_line_of_exactly_the_maximum_is_full (void **state)
{
  char *dir = make_dir (), *path, *data;
  shim_log_t *l = open_in (dir, 0, 5, &path);
  char *big = xmalloc (SHIM_LOG_MAX_LINE + 1);
  const size_t lens[] = { SHIM_LOG_MAX_LINE };

  memset (big, 'x', SHIM_LOG_MAX_LINE);
  big[SHIM_LOG_MAX_LINE] = '\n';
  shim_log_feed (l, SHIM_STDOUT, big, SHIM_LOG_MAX_LINE, T0);
  shim_log_feed (l, SHIM_STDOUT, big + SHIM_LOG_MAX_LINE, 1, T0);
  shim_log_close (l);
  data = read_all (path);
  check_pieces (data, "F", lens, 1);
  free (data);
  free (big);
  free (path);
  remove_dir (dir);
}

static void
test_final_line_without_newline_is_partial_at_eof (void **state)
{
  char *dir = make_dir (), *path, *data;
  shim_log_t *l = open_in (dir, 0, 5, &path);

  shim_log_feed (l, SHIM_STDERR, "done\nno newline", 15, T0);
  shim_log_eof (l, SHIM_STDERR, T0);
  shim_log_eof (l, SHIM_STDOUT, T0); /* nothing pending: nothing written */
  shim_log_close (l);
  data = read_all (path);
  assert_string_equal (data, "1970-01-01T00:00:01.000000005Z stderr F done\n"
                             "1970-01-01T00:00:01.000000005Z stderr P no newline\n");
  free (data);
  free (path);
  remove_dir (dir);
}

static bool
is_rotated (const char *name)
{
  return is_rotated_name (name, "0.log");
}

static void
test_rotation_by_size_keeps_max_files (void **state)
{
  char *dir = make_dir (), *path, *data;
  shim_log_t *l = open_in (dir, 300, 3, &path);
  size_t rotated = 0, others = 0;
  DIR *d;
  struct dirent *de;
  char line[64];

  /* Each entry is 30 + 9 + 12 = 51 bytes: 5 per file of 300. */
  for (int i = 0; i < 40; i++)
    {
      snprintf (line, sizeof (line), "line-%06d\n", i);
      shim_log_feed (l, SHIM_STDOUT, line, strlen (line), T0);
    }
  assert_int_equal (shim_log_errors (l), 0);
  shim_log_close (l);

  d = opendir (dir);
  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' || strcmp (de->d_name, "0.log") == 0)
        continue;
      if (is_rotated (de->d_name))
        rotated++;
      else
        others++;
    }
  closedir (d);
  /* max-files counts the live file: 0.log and two rotated ones. */
  assert_int_equal (rotated, 2);
  assert_int_equal (others, 0);
  data = read_all (path);
  assert_true (strlen (data) <= 300);
  assert_non_null (strstr (data, "stdout F line-000039\n"));
  assert_null (strstr (data, "line-000030\n"));
  free (data);
  free (path);
  remove_dir (dir);
}

static void
test_rotated_names_follow_the_kubelet_timestamp (void **state)
{
  assert_true (is_rotated_name ("0.log.20261130-041510", "0.log"));
  assert_true (is_rotated_name ("0.log.20261130-041510.0003", "0.log"));
  assert_false (is_rotated_name ("0.log.20261130-041510.gz.tmp", "1.log"));
  assert_false (is_rotated_name ("0.log.2026113-0041510", "0.log"));
  assert_false (is_rotated_name ("0.log", "0.log"));
}

static void
test_write_errors_are_counted_not_fatal (void **state)
{
  shim_log_t *l = NULL;
  kd_error_t err = NULL;

  /* /dev/full: every write fails with ENOSPC, like a full disk. */
  assert_int_equal (shim_log_open ("/dev/full", 0, 5, &l, &err), 0);
  shim_log_feed (l, SHIM_STDOUT, "a\nb\n", 4, T0);
  shim_log_feed (l, SHIM_STDERR, "c", 1, T0);
  shim_log_eof (l, SHIM_STDERR, T0);
  assert_int_equal (shim_log_errors (l), 3);
  shim_log_close (l);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_full_lines_are_written_in_cri_format),
    cmocka_unit_test (test_line_split_across_reads_is_one_line),
    cmocka_unit_test (test_streams_keep_separate_pending_lines),
    cmocka_unit_test (test_long_line_is_cut_into_partial_pieces),
    cmocka_unit_test (test_line_of_exactly_the_maximum_is_full),
    cmocka_unit_test (test_final_line_without_newline_is_partial_at_eof),
    cmocka_unit_test (test_rotation_by_size_keeps_max_files),
    cmocka_unit_test (test_rotated_names_follow_the_kubelet_timestamp),
    cmocka_unit_test (test_write_errors_are_counted_not_fatal),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
