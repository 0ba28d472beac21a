/* execstream: the frames of an exec answer, encoded and decoded across any
   split of the body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/execstream.h"

typedef struct
{
  kd_buf_t out, err;
  int exits;
  int exit_code;
  int frames;
  int stop_after; /* 0: never */
} sink_t;

static bool
collect (kd_exec_stream_t stream, const char *data, size_t len, void *user)
{
  sink_t *s = user;

  s->frames++;
  if (stream == KD_EXEC_STDOUT)
    kd_buf_append (&s->out, data, len);
  else if (stream == KD_EXEC_STDERR)
    kd_buf_append (&s->err, data, len);
  else
    {
      s->exits++;
      assert_int_equal (kd_exec_parse_exit (data, len, &s->exit_code), 0);
    }
  return s->stop_after == 0 || s->frames < s->stop_after;
}

static void
sink_free (sink_t *s)
{
  kd_buf_free (&s->out);
  kd_buf_free (&s->err);
}

/* A body of three frames: "hello\n" on stdout, "oops" on stderr, exit 3. */
static void
sample (kd_buf_t *b)
{
  kd_exec_frame_encode (b, KD_EXEC_STDOUT, "hello\n", 6);
  kd_exec_frame_encode (b, KD_EXEC_STDERR, "oops", 4);
  kd_exec_frame_encode_exit (b, 3);
}

static void
test_frame_header_is_stream_then_big_endian_length (void **state)
{
  unsigned char h[KD_EXEC_FRAME_HEADER];
  kd_buf_t b = { 0 };

  kd_exec_frame_header (h, KD_EXEC_STDERR, 0x01020304u);
  assert_int_equal (h[0], 2);
  assert_int_equal (h[1], 1);
  assert_int_equal (h[2], 2);
  assert_int_equal (h[3], 3);
  assert_int_equal (h[4], 4);

  kd_exec_frame_encode_exit (&b, 127);
  assert_int_equal (b.len, KD_EXEC_FRAME_HEADER + 3);
  assert_memory_equal (b.s,
                       "\x03\x00\x00\x00\x03"
                       "127",
                       b.len);
  kd_buf_free (&b);
}

static void
test_decoder_whole_body_gives_frames_in_order (void **state)
{
  kd_buf_t b = { 0 };
  sink_t s = { 0 };
  kd_exec_decoder_t d;

  sample (&b);
  kd_exec_decoder_init (&d, collect, &s);
  assert_int_equal (kd_exec_decoder_feed (&d, b.s, b.len, NULL), 0);
  assert_true (kd_exec_decoder_done (&d));
  assert_int_equal (s.frames, 3);
  assert_string_equal (s.out.s, "hello\n");
  assert_string_equal (s.err.s, "oops");
  assert_int_equal (s.exits, 1);
  assert_int_equal (s.exit_code, 3);
  kd_exec_decoder_free (&d);
  sink_free (&s);
  kd_buf_free (&b);
}

static void
test_decoder_any_split_point_gives_the_same_frames (void **state)
{
  kd_buf_t b = { 0 };

  sample (&b);
  /* Every cut in two, and byte by byte: chunk boundaries are not frames. */
  for (size_t cut = 0; cut <= b.len; cut++)
    {
      sink_t s = { 0 };
      kd_exec_decoder_t d;

      kd_exec_decoder_init (&d, collect, &s);
      assert_int_equal (kd_exec_decoder_feed (&d, b.s, cut, NULL), 0);
      assert_int_equal (kd_exec_decoder_done (&d),
                        cut == 0 || cut == 11 || cut == 20 || cut == b.len);
      assert_int_equal (kd_exec_decoder_feed (&d, b.s + cut, b.len - cut, NULL), 0);
      assert_true (kd_exec_decoder_done (&d));
      assert_string_equal (s.out.s, "hello\n");
      assert_string_equal (s.err.s, "oops");
      assert_int_equal (s.exit_code, 3);
      kd_exec_decoder_free (&d);
      sink_free (&s);
    }
  {
    sink_t s = { 0 };
    kd_exec_decoder_t d;

    kd_exec_decoder_init (&d, collect, &s);
    for (size_t i = 0; i < b.len; i++)
      assert_int_equal (kd_exec_decoder_feed (&d, b.s + i, 1, NULL), 0);
    assert_int_equal (s.frames, 3);
    assert_string_equal (s.out.s, "hello\n");
    kd_exec_decoder_free (&d);
    sink_free (&s);
  }
  kd_buf_free (&b);
}

static void
test_decoder_empty_payload_frame (void **state)
{
  kd_buf_t b = { 0 };
  sink_t s = { 0 };
  kd_exec_decoder_t d;

  kd_exec_frame_encode (&b, KD_EXEC_STDOUT, "", 0);
  kd_exec_frame_encode_exit (&b, 0);
  kd_exec_decoder_init (&d, collect, &s);
  assert_int_equal (kd_exec_decoder_feed (&d, b.s, b.len, NULL), 0);
  assert_int_equal (s.frames, 2);
  assert_int_equal (s.exit_code, 0);
  kd_exec_decoder_free (&d);
  sink_free (&s);
  kd_buf_free (&b);
}

static void
test_decoder_refuses_unknown_stream_and_huge_length (void **state)
{
  sink_t s = { 0 };
  kd_exec_decoder_t d;
  kd_error_t err = NULL;

  kd_exec_decoder_init (&d, collect, &s);
  assert_true (kd_exec_decoder_feed (&d, "\x04\x00\x00\x00\x00", 5, &err) < 0);
  assert_non_null (strstr (err->msg, "unknown stream 4"));
  kd_error_release (&err);
  kd_exec_decoder_free (&d);

  /* Split inside the header: the check happens once it is whole. */
  kd_exec_decoder_init (&d, collect, &s);
  assert_int_equal (kd_exec_decoder_feed (&d, "\x01\x7f", 2, &err), 0);
  assert_true (kd_exec_decoder_feed (&d, "\xff\xff\xff", 3, &err) < 0);
  assert_non_null (strstr (err->msg, "too large"));
  kd_error_release (&err);
  kd_exec_decoder_free (&d);
  assert_int_equal (s.frames, 0);
}

static void
test_decoder_callback_false_stops_feeding (void **state)
{
  kd_buf_t b = { 0 };
  sink_t s = { .stop_after = 1 };
  kd_exec_decoder_t d;

  sample (&b);
  kd_exec_decoder_init (&d, collect, &s);
  assert_true (kd_exec_decoder_feed (&d, b.s, b.len, NULL) < 0);
  assert_int_equal (s.frames, 1);
  /* Stopped for good. */
  assert_true (kd_exec_decoder_feed (&d, b.s, b.len, NULL) < 0);
  assert_int_equal (s.frames, 1);
  kd_exec_decoder_free (&d);
  sink_free (&s);
  kd_buf_free (&b);
}

static void
test_exit_payload_is_decimal_0_to_255 (void **state)
{
  int code = -1;

  assert_int_equal (kd_exec_parse_exit ("0", 1, &code), 0);
  assert_int_equal (code, 0);
  assert_int_equal (kd_exec_parse_exit ("255", 3, &code), 0);
  assert_int_equal (code, 255);
  assert_true (kd_exec_parse_exit ("256", 3, &code) < 0);
  assert_true (kd_exec_parse_exit ("", 0, &code) < 0);
  assert_true (kd_exec_parse_exit ("-1", 2, &code) < 0);
  assert_true (kd_exec_parse_exit ("1x", 2, &code) < 0);
  assert_true (kd_exec_parse_exit ("1000", 4, &code) < 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_frame_header_is_stream_then_big_endian_length),
    cmocka_unit_test (test_decoder_whole_body_gives_frames_in_order),
    cmocka_unit_test (test_decoder_any_split_point_gives_the_same_frames),
    cmocka_unit_test (test_decoder_empty_payload_frame),
    cmocka_unit_test (test_decoder_refuses_unknown_stream_and_huge_length),
    cmocka_unit_test (test_decoder_callback_false_stops_feeding),
    cmocka_unit_test (test_exit_payload_is_decimal_0_to_255),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
