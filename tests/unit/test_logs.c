/* pkg/logs: CRI line parsing, joining of P pieces, the selection (tail,
   since, limit, timestamps), the order of rotated files, and following a
   file as it is written and rotated. Files are made in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "kubeletd/logs.h"

/* 2026-11-30T04:15:10Z plus s seconds */
#define T(s) ((int64_t) (1796012110LL + (s)) * 1000000000LL)

static const kd_logs_opts_t all = { .tail_lines = -1 };

static void
collect (const char *data, size_t len, void *user)
{
  kd_buf_append (user, data, len);
}

static char *
make_dir (void)
{
  char tmpl[] = "/tmp/kd-logs-XXXXXX";
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

/* A CRI line: stream 'o' or 'e', tag 'P' or 'F'. */
static char *
cri (int64_t ts, char stream, char tag, const char *content)
{
  char t[48];

  kd_format_time_nano (ts, t, sizeof (t));
  return xasprintf ("%s %s %c %s\n", t, stream == 'o' ? "stdout" : "stderr", tag, content);
}

static void
append_file (const char *dir, const char *name, const char *text)
{
  char *p = xasprintf ("%s/%s", dir, name);
  int fd = open (p, O_WRONLY | O_CREAT | O_APPEND, 0644);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  close (fd);
  free (p);
}

static void
append_line (const char *dir, const char *name, int64_t ts, char stream, char tag, const char *c)
{
  char *l = cri (ts, stream, tag, c);
  append_file (dir, name, l);
  free (l);
}

/* Everything kd_logs_read writes for the files of instance `restart`. */
static char *
read_instance (const char *dir, int restart, const kd_logs_opts_t *o)
{
  char **files = NULL;
  size_t n = 0;
  kd_error_t err = NULL;
  kd_buf_t out = { 0 };

  assert_int_equal (kd_logs_instance_files (dir, restart, &files, &n, &err), 0);
  assert_int_equal (kd_logs_read (files, n, o, collect, &out, NULL, NULL, &err), 0);
  kd_logs_files_free (files, n);
  return kd_buf_steal (&out);
}

/* Feeds text to a fresh sink and returns its output, flushed. */
static char *
sink_text (const kd_logs_opts_t *o, const char *text)
{
  kd_buf_t out = { 0 };
  kd_logs_sink_t *s = kd_logs_sink_new (o, 0, collect, &out);

  kd_logs_sink_feed (s, text, strlen (text));
  kd_logs_sink_end_file (s);
  kd_logs_sink_flush (s);
  kd_logs_sink_free (s);
  return kd_buf_steal (&out);
}

/* ---- parsing --------------------------------------------------------- */

static void
test_parse_full_and_partial_lines (void **state)
{
  kd_cri_line_t l;
  const char *a = "2026-11-30T04:15:10.123456789Z stdout F hello world";
  const char *b = "2026-11-30T04:15:10.5+01:00 stderr P part";
  const char *c = "2026-11-30T04:15:10Z stdout F:x ";

  assert_int_equal (kd_cri_parse_line (a, strlen (a), &l), 0);
  assert_int_equal (l.ts_ns, T (0) + 123456789);
  assert_int_equal (l.stream, KD_LOG_STDOUT);
  assert_false (l.partial);
  assert_int_equal (l.len, 11);
  assert_memory_equal (l.content, "hello world", 11);

  assert_int_equal (kd_cri_parse_line (b, strlen (b), &l), 0);
  assert_int_equal (l.ts_ns, T (-3600) + 500000000);
  assert_int_equal (l.stream, KD_LOG_STDERR);
  assert_true (l.partial);
  assert_memory_equal (l.content, "part", 4);

  /* Extra tags after ':' and empty content are allowed. */
  assert_int_equal (kd_cri_parse_line (c, strlen (c), &l), 0);
  assert_false (l.partial);
  assert_int_equal (l.len, 0);
}

static void
test_parse_refuses_lines_that_are_not_cri (void **state)
{
  static const char *const bad[] = {
    "hello",
    "2026-11-30T04:15:10Z stdout",
    "2026-11-30T04:15:10Z stdin F x",
    "2026-13-30T04:15:10Z stdout F x",
    "2026-11-30T04:15:10Z stdout X x",
    "2026-11-30T04:15:10Z stdout FF x",
    " stdout F x",
  };
  kd_cri_line_t l;

  for (size_t i = 0; i < KD_ARRAY_SIZE (bad); i++)
    assert_int_equal (kd_cri_parse_line (bad[i], strlen (bad[i]), &l), -1);
}

/* ---- the sink -------------------------------------------------------- */

static void
test_content_only_without_the_cri_prefix (void **state)
{
  char *l1 = cri (T (0), 'o', 'F', "one"), *l2 = cri (T (1), 'e', 'F', "two");
  char *text = xasprintf ("%s%s", l1, l2);
  char *out = sink_text (&all, text);

  assert_string_equal (out, "one\ntwo\n");
  free (out);
  free (text);
  free (l1);
  free (l2);
}

static void
test_partial_pieces_are_joined_per_stream (void **state)
{
  /* stdout's line is cut in three pieces with a stderr line in between:
     the stderr line is whole first, the stdout one joined after. */
  char *p1 = cri (T (0), 'o', 'P', "abc"), *e = cri (T (1), 'e', 'F', "err");
  char *p2 = cri (T (2), 'o', 'P', "def"), *p3 = cri (T (3), 'o', 'F', "ghi");
  char *text = xasprintf ("%s%s%s%s", p1, e, p2, p3);
  kd_logs_opts_t ts = all;
  char *out = sink_text (&all, text), *out_ts;

  assert_string_equal (out, "err\nabcdefghi\n");
  /* The prefix is the time of the first piece, once per line. */
  ts.timestamps = true;
  out_ts = sink_text (&ts, text);
  assert_string_equal (out_ts, "2026-11-30T04:15:11.000000000Z err\n"
                               "2026-11-30T04:15:10.000000000Z abcdefghi\n");
  free (out);
  free (out_ts);
  free (text);
  free (p1);
  free (e);
  free (p2);
  free (p3);
}

static void
test_unended_partial_line_is_written_without_newline_at_the_end (void **state)
{
  char *a = cri (T (0), 'o', 'F', "a"), *p = cri (T (1), 'o', 'P', "no newline");
  char *text = xasprintf ("%s%s", a, p);
  char *out = sink_text (&all, text);

  assert_string_equal (out, "a\nno newline");
  free (out);
  free (text);
  free (a);
  free (p);
}

static void
test_lines_not_in_cri_format_are_skipped (void **state)
{
  char *a = cri (T (0), 'o', 'F', "a"), *b = cri (T (1), 'o', 'F', "b");
  char *text = xasprintf ("%sgarbage line\n\n%s", a, b);
  char *out = sink_text (&all, text);

  assert_string_equal (out, "a\nb\n");
  free (out);
  free (text);
  free (a);
  free (b);
}

static void
test_sink_keeps_an_unfinished_physical_line_for_the_next_feed (void **state)
{
  char *l = cri (T (0), 'o', 'F', "split across reads");
  kd_buf_t out = { 0 };
  kd_logs_sink_t *s = kd_logs_sink_new (&all, 0, collect, &out);
  size_t half = strlen (l) / 2;

  kd_logs_sink_feed (s, l, half);
  assert_int_equal (out.len, 0);
  kd_logs_sink_feed (s, l + half, strlen (l) - half);
  assert_string_equal (out.s, "split across reads\n");
  kd_logs_sink_free (s);
  kd_buf_free (&out);
  free (l);
}

static void
test_limit_bytes_cuts_the_output_mid_line (void **state)
{
  char *a = cri (T (0), 'o', 'F', "12345"), *b = cri (T (1), 'o', 'F', "67890");
  char *text = xasprintf ("%s%s", a, b);
  kd_logs_opts_t o = { .tail_lines = -1, .limit_bytes = 8 };
  char *out = sink_text (&o, text);

  assert_string_equal (out, "12345\n67");
  /* The prefix counts as well. */
  o.timestamps = true;
  o.limit_bytes = 33;
  free (out);
  out = sink_text (&o, text);
  assert_string_equal (out, "2026-11-30T04:15:10.000000000Z 12");
  free (out);
  free (text);
  free (a);
  free (b);
}

/* ---- files ----------------------------------------------------------- */

static void
test_instance_files_are_rotated_oldest_first_then_live (void **state)
{
  char *dir = make_dir ();
  char **files = NULL;
  size_t n = 0;
  kd_error_t err = NULL;

  append_file (dir, "1.log", "");
  append_file (dir, "1.log.20261130-041512", "");
  append_file (dir, "1.log.20261130-041510.0001", "");
  append_file (dir, "1.log.20261130-041510", "");
  append_file (dir, "1.log.20261130-041509.gz", "");
  append_file (dir, "0.log", "");
  append_file (dir, "10.log", "");
  append_file (dir, "1.log.tmp", "");
  append_file (dir, "x.log", "");

  assert_int_equal (kd_logs_instance_files (dir, 1, &files, &n, &err), 0);
  assert_int_equal (n, 4);
  assert_true (kd_str_has_suffix (files[0], "/1.log.20261130-041510"));
  assert_true (kd_str_has_suffix (files[1], "/1.log.20261130-041510.0001"));
  assert_true (kd_str_has_suffix (files[2], "/1.log.20261130-041512"));
  assert_true (kd_str_has_suffix (files[3], "/1.log"));
  kd_logs_files_free (files, n);

  assert_int_equal (kd_logs_latest_restart (dir), 10);
  assert_int_equal (kd_logs_instance_files (dir, 7, &files, &n, &err), 0);
  assert_int_equal (n, 0);
  kd_logs_files_free (files, n);
  remove_dir (dir);
}

static void
test_missing_directory_has_no_files (void **state)
{
  char **files = NULL;
  size_t n = 9;
  kd_error_t err = NULL;

  assert_int_equal (kd_logs_instance_files ("/nonexistent/kd-logs", 0, &files, &n, &err), 0);
  assert_int_equal (n, 0);
  assert_int_equal (kd_logs_latest_restart ("/nonexistent/kd-logs"), -1);
  free (files);
}

static void
test_read_goes_across_rotated_files_in_order (void **state)
{
  char *dir = make_dir (), *out;

  append_line (dir, "0.log.20261130-041510", T (0), 'o', 'F', "line 1");
  append_line (dir, "0.log.20261130-041510", T (1), 'o', 'P', "line ");
  /* a line cut by the rotation goes on in the next file */
  append_line (dir, "0.log.20261130-041511", T (2), 'o', 'F', "2");
  append_line (dir, "0.log.20261130-041511", T (3), 'o', 'F', "line 3");
  append_line (dir, "0.log", T (4), 'o', 'F', "line 4");
  append_line (dir, "1.log", T (5), 'o', 'F', "next instance");

  out = read_instance (dir, 0, &all);
  assert_string_equal (out, "line 1\nline 2\nline 3\nline 4\n");
  free (out);
  out = read_instance (dir, 1, &all);
  assert_string_equal (out, "next instance\n");
  free (out);
  remove_dir (dir);
}

static void
test_tail_takes_the_last_whole_lines_across_files (void **state)
{
  char *dir = make_dir (), *out;
  kd_logs_opts_t o = all;

  append_line (dir, "0.log.20261130-041510", T (0), 'o', 'F', "1");
  append_line (dir, "0.log.20261130-041510", T (1), 'o', 'F', "2");
  append_line (dir, "0.log.20261130-041510", T (2), 'o', 'P', "3a");
  append_line (dir, "0.log", T (3), 'o', 'P', "3b");
  append_line (dir, "0.log", T (3), 'o', 'F', "3c");
  append_line (dir, "0.log", T (4), 'e', 'F', "4");

  o.tail_lines = 2;
  out = read_instance (dir, 0, &o);
  assert_string_equal (out, "3a3b3c\n4\n");
  free (out);
  o.tail_lines = 3;
  out = read_instance (dir, 0, &o);
  assert_string_equal (out, "2\n3a3b3c\n4\n");
  free (out);
  o.tail_lines = 0;
  out = read_instance (dir, 0, &o);
  assert_string_equal (out, "");
  free (out);
  o.tail_lines = 100;
  out = read_instance (dir, 0, &o);
  assert_string_equal (out, "1\n2\n3a3b3c\n4\n");
  free (out);
  remove_dir (dir);
}

static void
test_since_drops_older_lines_and_combines_with_tail (void **state)
{
  char *dir = make_dir (), *out;
  kd_logs_opts_t o = all;

  for (int i = 0; i < 6; i++)
    {
      char c[8];
      snprintf (c, sizeof (c), "%d", i);
      append_line (dir, i < 3 ? "2.log.20261130-041510" : "2.log", T (i * 10), 'o', 'F', c);
    }
  o.since_ns = T (20); /* a line at exactly the time is kept */
  out = read_instance (dir, 2, &o);
  assert_string_equal (out, "2\n3\n4\n5\n");
  free (out);
  /* tail counts among the lines that pass since */
  o.tail_lines = 10;
  out = read_instance (dir, 2, &o);
  assert_string_equal (out, "2\n3\n4\n5\n");
  free (out);
  o.tail_lines = 1;
  out = read_instance (dir, 2, &o);
  assert_string_equal (out, "5\n");
  free (out);
  o.since_ns = T (1000);
  o.tail_lines = -1;
  out = read_instance (dir, 2, &o);
  assert_string_equal (out, "");
  free (out);
  remove_dir (dir);
}

static void
test_read_with_timestamps_and_limit (void **state)
{
  char *dir = make_dir (), *out;
  kd_logs_opts_t o = { .tail_lines = 1, .timestamps = true, .limit_bytes = 1000 };

  append_line (dir, "0.log", T (0), 'o', 'F', "first");
  append_line (dir, "0.log", T (0) + 42, 'e', 'F', "second");
  out = read_instance (dir, 0, &o);
  assert_string_equal (out, "2026-11-30T04:15:10.000000042Z second\n");
  free (out);
  o.tail_lines = -1;
  o.timestamps = false;
  o.limit_bytes = 6;
  out = read_instance (dir, 0, &o);
  assert_string_equal (out, "first\n");
  free (out);
  remove_dir (dir);
}

static void
test_live_read_hands_over_the_open_file_and_pending_pieces (void **state)
{
  char *dir = make_dir ();
  char **files = NULL;
  size_t n = 0;
  kd_error_t err = NULL;
  kd_buf_t out = { 0 };
  kd_logs_sink_t *s = NULL;
  int fd = -1;
  char buf[256];
  ssize_t r;

  append_line (dir, "0.log", T (0), 'o', 'F', "done");
  append_line (dir, "0.log", T (1), 'o', 'P', "waiting ");
  assert_int_equal (kd_logs_instance_files (dir, 0, &files, &n, &err), 0);
  assert_int_equal (kd_logs_read (files, n, &all, collect, &out, &s, &fd, &err), 0);
  assert_non_null (s);
  assert_true (fd >= 0);
  assert_string_equal (out.s, "done\n");
  /* what is appended later is read from the handed-over descriptor */
  append_line (dir, "0.log", T (2), 'o', 'F', "for this");
  r = read (fd, buf, sizeof (buf));
  assert_true (r > 0);
  kd_logs_sink_feed (s, buf, (size_t) r);
  assert_string_equal (out.s, "done\nwaiting for this\n");
  close (fd);
  kd_logs_sink_free (s);
  kd_logs_files_free (files, n);
  kd_buf_free (&out);
  remove_dir (dir);
}

/* ---- following ------------------------------------------------------- */

typedef struct
{
  uv_loop_t loop;
  uv_timer_t step_timer;
  char *dir;
  kd_buf_t out;
  int step;
  bool done;
  bool ended; /* what the `ended` callback answers */
  kd_logs_follower_t *f;
  const char *before; /* what the follower wrote before the first step */
} follow_test_t;

static void
on_done (void *data)
{
  follow_test_t *t = data;

  t->done = true;
  kd_logs_follower_free (t->f);
  t->f = NULL;
}

static bool
on_ended (void *data)
{
  return ((follow_test_t *) data)->ended;
}

static void
check_out (follow_test_t *t, const char *rest)
{
  char *want = xasprintf ("%s%s", t->before, rest);

  assert_string_equal (t->out.s ? t->out.s : "", want);
  free (want);
}

/* The writer's script, one step per timer tick: each step checks what
   the previous one made the follower write. */
static void
on_step (uv_timer_t *h)
{
  follow_test_t *t = h->data;
  char *a, *b;

  if (t->done)
    t->step = 99;
  switch (t->step++)
    {
    case 0:
      check_out (t, "");
      append_line (t->dir, "0.log", T (1), 'o', 'F', "new 1");
      append_line (t->dir, "0.log", T (2), 'o', 'P', "half ");
      break;
    case 1:
      check_out (t, "new 1\n");
      /* a rotation: the shim renames the file and starts a new one */
      a = xasprintf ("%s/0.log", t->dir);
      b = xasprintf ("%s/0.log.20261130-041515", t->dir);
      assert_int_equal (rename (a, b), 0);
      free (a);
      free (b);
      append_line (t->dir, "0.log", T (3), 'o', 'F', "and half");
      append_line (t->dir, "0.log", T (4), 'e', 'F', "after rotation");
      break;
    case 2:
      check_out (t, "new 1\nhalf and half\nafter rotation\n");
      /* the container restarted: this instance is over */
      append_line (t->dir, "1.log", T (5), 'o', 'F', "next");
      break;
    default:
      uv_timer_stop (h);
      uv_close ((uv_handle_t *) h, NULL);
      return;
    }
}

static void
emit_to_test (const char *data, size_t len, void *user)
{
  follow_test_t *t = user;
  kd_buf_append (&t->out, data, len);
}

/* A follower of instance 0 of a fresh dir holding one line, "old". */
static void
follow_start (follow_test_t *t, const kd_logs_opts_t *o, bool ended)
{
  kd_logs_follow_opts_t fo = { 0 };
  kd_error_t err = NULL;

  memset (t, 0, sizeof (*t));
  assert_int_equal (uv_loop_init (&t->loop), 0);
  t->dir = make_dir ();
  t->ended = ended;
  t->before = o->tail_lines == 0 ? "" : "old\n";
  append_line (t->dir, "0.log", T (0), 'o', 'F', "old");
  fo.loop = &t->loop;
  fo.dir = t->dir;
  fo.restart = 0;
  fo.opts = *o;
  fo.emit = emit_to_test;
  fo.done = on_done;
  fo.ended = on_ended;
  fo.data = t;
  assert_int_equal (kd_logs_follower_new (&fo, &t->f, &err), 0);
}

static void
follow_run (follow_test_t *t)
{
  uv_timer_init (&t->loop, &t->step_timer);
  t->step_timer.data = t;
  uv_timer_start (&t->step_timer, on_step, 100, 100);
  kd_logs_follower_run (t->f);
  uv_run (&t->loop, UV_RUN_DEFAULT);
}

static void
follow_teardown (follow_test_t *t)
{
  kd_logs_follower_free (t->f);
  uv_run (&t->loop, UV_RUN_DEFAULT);
  assert_int_equal (uv_loop_close (&t->loop), 0);
  kd_buf_free (&t->out);
  remove_dir (t->dir);
}

static void
test_follow_streams_appends_across_rotation_until_next_restart (void **state)
{
  follow_test_t t;

  follow_start (&t, &all, false);
  follow_run (&t);
  assert_true (t.done);
  assert_true (t.step >= 3);
  assert_string_equal (t.out.s, "old\nnew 1\nhalf and half\nafter rotation\n");
  follow_teardown (&t);
}

static void
test_follow_of_an_ended_instance_is_a_plain_read (void **state)
{
  follow_test_t t;

  follow_start (&t, &all, true);
  kd_logs_follower_run (t.f);
  assert_true (t.done);
  assert_string_equal (t.out.s, "old\n");
  follow_teardown (&t);
}

static void
test_follow_ends_when_the_owner_says_the_instance_ended (void **state)
{
  follow_test_t t;

  follow_start (&t, &all, false);
  kd_logs_follower_run (t.f);
  assert_false (t.done);
  t.ended = true;
  uv_run (&t.loop, UV_RUN_DEFAULT); /* the state check fires within a second */
  assert_true (t.done);
  assert_string_equal (t.out.s, "old\n");
  follow_teardown (&t);
}

static void
test_follow_stops_at_the_byte_limit (void **state)
{
  follow_test_t t;
  kd_logs_opts_t lim = { .tail_lines = -1, .limit_bytes = 7 };

  follow_start (&t, &lim, false);
  follow_run (&t);
  assert_true (t.done);
  assert_string_equal (t.out.s, "old\nnew");
  follow_teardown (&t);
}

static void
test_follow_with_tail_starts_from_the_last_lines (void **state)
{
  follow_test_t t;
  kd_logs_opts_t tail = { .tail_lines = 0 };

  follow_start (&t, &tail, false);
  follow_run (&t);
  assert_true (t.done);
  /* nothing of before, everything after (the step checks are for the
     full output, so only the end result is compared here) */
  assert_string_equal (t.out.s, "new 1\nhalf and half\nafter rotation\n");
  follow_teardown (&t);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_full_and_partial_lines),
    cmocka_unit_test (test_parse_refuses_lines_that_are_not_cri),
    cmocka_unit_test (test_content_only_without_the_cri_prefix),
    cmocka_unit_test (test_partial_pieces_are_joined_per_stream),
    cmocka_unit_test (test_unended_partial_line_is_written_without_newline_at_the_end),
    cmocka_unit_test (test_lines_not_in_cri_format_are_skipped),
    cmocka_unit_test (test_sink_keeps_an_unfinished_physical_line_for_the_next_feed),
    cmocka_unit_test (test_limit_bytes_cuts_the_output_mid_line),
    cmocka_unit_test (test_instance_files_are_rotated_oldest_first_then_live),
    cmocka_unit_test (test_missing_directory_has_no_files),
    cmocka_unit_test (test_read_goes_across_rotated_files_in_order),
    cmocka_unit_test (test_tail_takes_the_last_whole_lines_across_files),
    cmocka_unit_test (test_since_drops_older_lines_and_combines_with_tail),
    cmocka_unit_test (test_read_with_timestamps_and_limit),
    cmocka_unit_test (test_live_read_hands_over_the_open_file_and_pending_pieces),
    cmocka_unit_test (test_follow_streams_appends_across_rotation_until_next_restart),
    cmocka_unit_test (test_follow_of_an_ended_instance_is_a_plain_read),
    cmocka_unit_test (test_follow_ends_when_the_owner_says_the_instance_ended),
    cmocka_unit_test (test_follow_stops_at_the_byte_limit),
    cmocka_unit_test (test_follow_with_tail_starts_from_the_last_lines),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
