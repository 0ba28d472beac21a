/* kubeletctl's image printers: docker's sizes, ages, names and the images
   and history tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/cli.h"

#define SEC 1000000000LL
#define NOW (1700000000LL * SEC)

static void
expect_str (char *got, const char *want)
{
  assert_string_equal (got, want);
  free (got);
}

static void
test_sizes_are_decimal_with_three_digits_like_docker (void **state)
{
  expect_str (kd_cli_human_size (0), "0B");
  expect_str (kd_cli_human_size (512), "512B");
  expect_str (kd_cli_human_size (1234), "1.23kB");
  expect_str (kd_cli_human_size (4263541), "4.26MB");
  expect_str (kd_cli_human_size (50000000), "50MB");
  expect_str (kd_cli_human_size (1500000000), "1.5GB");
}

static void
test_ages_read_like_docker (void **state)
{
  char t[40];

  expect_str (kd_cli_human_ago (NULL, NOW), "N/A");
  kd_format_time (NOW - 30 * SEC, t, sizeof (t));
  expect_str (kd_cli_human_ago (t, NOW), "30 seconds ago");
  kd_format_time (NOW - 90 * SEC, t, sizeof (t));
  expect_str (kd_cli_human_ago (t, NOW), "About a minute ago");
  kd_format_time (NOW - 3600 * SEC, t, sizeof (t));
  expect_str (kd_cli_human_ago (t, NOW), "About an hour ago");
  kd_format_time (NOW - 2 * 86400 * SEC, t, sizeof (t));
  expect_str (kd_cli_human_ago (t, NOW), "2 days ago");
  kd_format_time (NOW - 21 * 86400 * SEC, t, sizeof (t));
  expect_str (kd_cli_human_ago (t, NOW), "3 weeks ago");
  kd_format_time (NOW - 800 * 86400 * SEC, t, sizeof (t));
  expect_str (kd_cli_human_ago (t, NOW), "2 years ago");
}

static void
test_docker_hub_names_are_shown_short (void **state)
{
  expect_str (kd_cli_familiar_name ("docker.io/library/busybox"), "busybox");
  expect_str (kd_cli_familiar_name ("docker.io/bitnami/redis"), "bitnami/redis");
  expect_str (kd_cli_familiar_name ("127.0.0.1:5000/test/busybox"), "127.0.0.1:5000/test/busybox");
  expect_str (kd_cli_short_id ("sha256:0123456789abcdef0123", false), "0123456789ab");
  expect_str (kd_cli_short_id ("sha256:0123456789abcdef0123", true), "sha256:0123456789abcdef0123");
}

static char *
print_images (const char *json, bool quiet, bool digests)
{
  json_t *j = json_loads (json, 0, NULL);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);

  assert_non_null (j);
  kd_cli_print_images (j, quiet, digests, false, NOW, f);
  fclose (f);
  json_decref (j);
  return buf;
}

static void
test_images_table_has_a_row_per_tag_and_none_for_nameless (void **state)
{
  const char *list
      = "[{\"id\":\"sha256:aaaaaaaaaaaabbbb\",\"repoTags\":[\"docker.io/library/busybox:1.35\","
        "\"docker.io/library/busybox:latest\"],\"repoDigests\":[\"docker.io/library/"
        "busybox@sha256:dd\"],\"size\":4263541,\"created\":null},"
        "{\"id\":\"sha256:ccccccccccccdddd\",\"repoTags\":[],\"repoDigests\":[],\"size\":512,"
        "\"created\":null}]";

  expect_str (print_images (list, false, false),
              "REPOSITORY   TAG       IMAGE ID       CREATED   SIZE\n"
              "busybox      1.35      aaaaaaaaaaaa   N/A       4.26MB\n"
              "busybox      latest    aaaaaaaaaaaa   N/A       4.26MB\n"
              "<none>       <none>    cccccccccccc   N/A       512B\n");
  /* One ID per image (crictl images -q), so `rmi $(images -q)` names each once. */
  expect_str (print_images (list, true, false), "aaaaaaaaaaaa\ncccccccccccc\n");
  expect_str (print_images (list, false, true),
              "REPOSITORY   TAG       DIGEST      IMAGE ID       CREATED   SIZE\n"
              "busybox      1.35      sha256:dd   aaaaaaaaaaaa   N/A       4.26MB\n"
              "busybox      latest    sha256:dd   aaaaaaaaaaaa   N/A       4.26MB\n"
              "<none>       <none>    <none>      cccccccccccc   N/A       512B\n");
}

static void
test_history_truncates_created_by_to_45_characters (void **state)
{
  json_t *rows = json_loads (
      "[{\"id\":\"sha256:aaaaaaaaaaaabbbb\",\"created\":null,\"createdBy\":\"/bin/sh -c #(nop) "
      "COPY file:0123456789abcdef0123456789 in /\",\"size\":1234,\"comment\":\"\"},"
      "{\"id\":\"<missing>\",\"created\":null,\"createdBy\":\"short\",\"size\":0,\"comment\":\"c\"}"
      "]",
      0, NULL);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);

  kd_cli_print_history (rows, false, false, NOW, f);
  fclose (f);
  json_decref (rows);
  expect_str (
      buf,
      "IMAGE          CREATED   CREATED BY                                      SIZE      COMMENT\n"
      "aaaaaaaaaaaa   N/A       /bin/sh -c #(nop) COPY file:0123456789abcdef…   1.23kB    \n"
      "<missing>      N/A       short                                           0B        c\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_sizes_are_decimal_with_three_digits_like_docker),
    cmocka_unit_test (test_ages_read_like_docker),
    cmocka_unit_test (test_docker_hub_names_are_shown_short),
    cmocka_unit_test (test_images_table_has_a_row_per_tag_and_none_for_nameless),
    cmocka_unit_test (test_history_truncates_created_by_to_45_characters),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
