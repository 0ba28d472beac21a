/* image config: parsing an OCI / Docker image config and Kubernetes' rule
   for Entrypoint/Cmd against a pod's command/args. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/image.h"

#define DIFF1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define DIFF2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char full_config[]
    = "{\"created\":\"2023-05-19T20:19:24.193000001Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
      "\"config\":{\"Entrypoint\":[\"/bin/app\",\"--serve\"],\"Cmd\":[\"--port\",\"80\"],"
      "\"Env\":[\"PATH=/usr/bin:/bin\",\"A=b=c\"],\"WorkingDir\":\"/srv\",\"User\":\"1000:1000\","
      "\"StopSignal\":\"SIGQUIT\",\"Labels\":{\"x\":\"y\"}},"
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DIFF1 "\",\"" DIFF2 "\"]},"
      "\"history\":[{\"created\":\"2023-05-19T20:19:23Z\",\"created_by\":\"/bin/sh -c #(nop) ADD "
      "file:abc in / \"},{\"created_by\":\"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\","
      "\"empty_layer\":true,\"comment\":\"buildkit\"},{\"created_by\":\"COPY app /bin/app\"}]}";

static void
test_config_fields_are_parsed (void **state)
{
  kd_image_config_t cfg;
  kd_error_t err = NULL;

  assert_int_equal (kd_image_config_parse (full_config, strlen (full_config), &cfg, &err), 0);
  assert_int_equal (cfg.n_entrypoint, 2);
  assert_string_equal (cfg.entrypoint[0], "/bin/app");
  assert_string_equal (cfg.entrypoint[1], "--serve");
  assert_int_equal (cfg.n_cmd, 2);
  assert_string_equal (cfg.cmd[1], "80");
  assert_int_equal (cfg.n_env, 2);
  assert_string_equal (cfg.env[1], "A=b=c");
  assert_string_equal (cfg.working_dir, "/srv");
  assert_string_equal (cfg.user, "1000:1000");
  assert_string_equal (cfg.stop_signal, "SIGQUIT");
  assert_string_equal (cfg.architecture, "amd64");
  assert_string_equal (cfg.os, "linux");
  assert_true (cfg.created_ns == 1684527564193000001LL);
  assert_int_equal (cfg.n_diff_ids, 2);
  assert_string_equal (cfg.diff_ids[0], DIFF1);
  assert_string_equal (cfg.diff_ids[1], DIFF2);
  assert_int_equal (cfg.n_history, 3);
  assert_string_equal (cfg.history[0].created, "2023-05-19T20:19:23Z");
  assert_false (cfg.history[0].empty_layer);
  assert_true (cfg.history[1].empty_layer);
  assert_string_equal (cfg.history[1].comment, "buildkit");
  assert_string_equal (cfg.history[2].created_by, "COPY app /bin/app");
  assert_null (cfg.history[2].created);
  kd_image_config_free (&cfg);
  assert_null (cfg.entrypoint);
}

static void
test_null_and_missing_fields_are_empty (void **state)
{
  static const char json[] = "{\"config\":{\"Entrypoint\":null,\"Cmd\":[\"sh\"],\"Env\":null},"
                             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
  kd_image_config_t cfg;
  kd_error_t err = NULL;

  assert_int_equal (kd_image_config_parse (json, strlen (json), &cfg, &err), 0);
  assert_int_equal (cfg.n_entrypoint, 0);
  assert_int_equal (cfg.n_cmd, 1);
  assert_int_equal (cfg.n_env, 0);
  assert_null (cfg.working_dir);
  assert_null (cfg.user);
  assert_null (cfg.stop_signal);
  assert_true (cfg.created_ns == 0);
  assert_int_equal (cfg.n_history, 0);
  kd_image_config_free (&cfg);
}

static void
test_bad_configs_name_the_field (void **state)
{
  static const struct
  {
    const char *json, *msg;
  } cases[] = {
    { "{", NULL },
    { "[]", "image config: not a JSON object" },
    { "{\"config\":{}}", "image config: rootfs is missing" },
    { "{\"config\":{\"Cmd\":\"sh\"},\"rootfs\":{\"diff_ids\":[]}}",
      "image config: config.Cmd must be an array of strings" },
    { "{\"config\":{\"Env\":[1]},\"rootfs\":{\"diff_ids\":[]}}",
      "image config: config.Env[0] must be a string" },
    { "{\"config\":{\"User\":0},\"rootfs\":{\"diff_ids\":[]}}",
      "image config: config.User must be a string" },
    { "{\"rootfs\":{\"diff_ids\":[\"sha256:../../etc\"]}}",
      "image config: rootfs.diff_ids[0] `sha256:../../etc` is not a sha256 digest" },
    { "{\"created\":\"yesterday\",\"rootfs\":{\"diff_ids\":[]}}",
      "image config: created `yesterday` is not an RFC 3339 time" },
    { "{\"rootfs\":{\"diff_ids\":[]},\"history\":[{\"empty_layer\":\"yes\"}]}",
      "image config: history[0].empty_layer must be a boolean" },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      kd_image_config_t cfg;
      kd_error_t err = NULL;
      assert_int_equal (kd_image_config_parse (cases[i].json, strlen (cases[i].json), &cfg, &err),
                        -1);
      if (cases[i].msg)
        assert_string_equal (err->msg, cases[i].msg);
      else
        assert_true (kd_str_has_prefix (err->msg, "image config: "));
      assert_null (cfg.diff_ids);
      kd_error_release (&err);
    }
}

static void
assert_argv (char **argv, const char *const *want, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      assert_non_null (argv[i]);
      assert_string_equal (argv[i], want[i]);
    }
  assert_null (argv[i]);
  for (i = 0; argv[i]; i++)
    free (argv[i]);
  free (argv);
}

static void
test_argv_follows_kubernetes_rule (void **state)
{
  kd_image_config_t cfg;
  kd_error_t err = NULL;
  char *command[] = { "/bin/other", "-x" };
  char *args[] = { "--port", "8080" };

  assert_int_equal (kd_image_config_parse (full_config, strlen (full_config), &cfg, &err), 0);

  /* Neither: Entrypoint + Cmd. */
  {
    static const char *const want[] = { "/bin/app", "--serve", "--port", "80" };
    assert_argv (kd_image_container_argv (&cfg, NULL, 0, NULL, 0), want, 4);
  }
  /* Args only: Entrypoint + args (Cmd ignored). */
  {
    static const char *const want[] = { "/bin/app", "--serve", "--port", "8080" };
    assert_argv (kd_image_container_argv (&cfg, NULL, 0, args, 2), want, 4);
  }
  /* Command only: the command alone (Entrypoint and Cmd ignored). */
  {
    static const char *const want[] = { "/bin/other", "-x" };
    assert_argv (kd_image_container_argv (&cfg, command, 2, NULL, 0), want, 2);
  }
  /* Both: command + args. */
  {
    static const char *const want[] = { "/bin/other", "-x", "--port", "8080" };
    assert_argv (kd_image_container_argv (&cfg, command, 2, args, 2), want, 4);
  }
  kd_image_config_free (&cfg);
}

static void
test_argv_empty_entrypoint_string_means_none (void **state)
{
  static const char json[] = "{\"config\":{\"Entrypoint\":[\"\"],\"Cmd\":[\"sh\",\"-c\",\"x\"]},"
                             "\"rootfs\":{\"diff_ids\":[]}}";
  static const char *const want[] = { "sh", "-c", "x" };
  kd_image_config_t cfg;
  kd_error_t err = NULL;

  assert_int_equal (kd_image_config_parse (json, strlen (json), &cfg, &err), 0);
  assert_argv (kd_image_container_argv (&cfg, NULL, 0, NULL, 0), want, 3);
  kd_image_config_free (&cfg);
}

static void
test_argv_with_no_image_config (void **state)
{
  char *command[] = { "echo", "hi" };
  static const char *const want[] = { "echo", "hi" };

  assert_argv (kd_image_container_argv (NULL, command, 2, NULL, 0), want, 2);
  assert_argv (kd_image_container_argv (NULL, NULL, 0, NULL, 0), want, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_config_fields_are_parsed),
    cmocka_unit_test (test_null_and_missing_fields_are_empty),
    cmocka_unit_test (test_bad_configs_name_the_field),
    cmocka_unit_test (test_argv_follows_kubernetes_rule),
    cmocka_unit_test (test_argv_empty_entrypoint_string_means_none),
    cmocka_unit_test (test_argv_with_no_image_config),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
