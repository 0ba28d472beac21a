/* kubeletctl ps: docker's columns and words on hand-made pods (a web pod
   with a sidecar and an init container, a crash-looping pod, a pod with an
   exited container and one never created), and every filter, alone and
   combined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/cli.h"

static json_t *
js (const char *s)
{
  cleanup_free char *d = xstrdup (s);
  json_error_t jerr;
  json_t *j;

  for (char *p = d; *p; p++)
    if (*p == '\'')
      *p = '"';
  j = json_loads (d, 0, &jerr);
  if (j == NULL)
    fail_msg ("bad test JSON: %s: %s", jerr.text, d);
  return j;
}

static int64_t
ts (const char *s)
{
  int64_t ns = 0;
  assert_int_equal (kd_parse_time (s, &ns), 0);
  return ns;
}

#define HEX_WEB  "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
#define HEX_LOG  "bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222"
#define HEX_INIT "cccccccccccc3333333333333333333333333333333333333333333333333333"
#define HEX_CRSH "dddddddddddd4444444444444444444444444444444444444444444444444444"
#define HEX_JOB  "eeeeeeeeeeee5555555555555555555555555555555555555555555555555555"

#define DIGEST "sha256:9999999999999999999999999999999999999999999999999999999999999999"

#define PODS                                                                                       \
  "[{'metadata':{'name':'web-node1','namespace':'default','creationTimestamp':"                    \
  "'2024-01-01T00:00:00Z','labels':{'app':'web','tier':'front'}},'spec':{'initContainers':[{"      \
  "'name':'setup','image':'busybox:1.36','command':['sh','-c','mkdir -p /www']}],"                 \
  "'containers':[{'name':'web','image':'docker.io/library/busybox:1.36','args':['httpd','-f',"     \
  "'-p','8080'],'ports':[{'containerPort':8080,'hostPort':8080,'protocol':'TCP'},{"                \
  "'containerPort':8081,'protocol':'TCP'},{'containerPort':53,'hostPort':5353,'protocol':'UDP'}]," \
  "'readinessProbe':{'httpGet':{'port':8080}}},{'name':'log','image':'busybox','command':['sh',"   \
  "'-c','while true; do date; sleep 1; done']}]},'status':{'phase':'Running',"                     \
  "'initContainerStatuses':[{'name':'setup','containerID':'kubeletd://" HEX_INIT "','imageID':"    \
  "'docker.io/library/busybox@sha256:1234abcd','state':{'terminated':{'exitCode':0,'startedAt':"   \
  "'2024-01-01T00:00:01Z','finishedAt':'2024-01-01T00:00:02Z'}}}],'containerStatuses':[{'name':"   \
  "'web','containerID':'kubeletd://" HEX_WEB "','imageID':'docker.io/library/busybox@"             \
  "sha256:1234abcd','ready':true,'started':true,'state':{'running':{'startedAt':"                  \
  "'2024-01-01T00:00:03Z'}}},{'name':'log','containerID':'kubeletd://" HEX_LOG "','imageID':"      \
  "'docker.io/library/busybox@sha256:5678','ready':true,'started':true,'state':{'running':{"       \
  "'startedAt':'2024-01-01T00:00:04Z'}}}]}},"                                                      \
  "{'metadata':{'name':'crash-node1','namespace':'default','creationTimestamp':"                   \
  "'2024-01-01T00:00:00Z','labels':{'app':'crash'}},'spec':{'containers':[{'name':'crash',"        \
  "'image':'registry.local:5000/tools/crash:v2@" DIGEST "'}]},'status':{'containerStatuses':[{"    \
  "'name':'crash','containerID':'kubeletd://" HEX_CRSH "','imageID':'registry.local:5000/tools/"   \
  "crash@" DIGEST "','restartCount':4,'state':{'waiting':{'reason':'CrashLoopBackOff'}},"          \
  "'lastState':{'terminated':{'exitCode':1,'startedAt':'2024-01-01T00:09:00Z','finishedAt':"       \
  "'2024-01-01T00:09:57Z'}}}]}},"                                                                  \
  "{'metadata':{'name':'job-node1','namespace':'batch','creationTimestamp':"                       \
  "'2024-01-01T00:00:00Z'},'spec':{'containers':[{'name':'a','image':'alpine:3.19'},{'name':"      \
  "'b','image':'alpine:3.19'}]},'status':{'containerStatuses':[{'name':'a','containerID':"         \
  "'kubeletd://" HEX_JOB "','imageID':'docker.io/library/alpine@sha256:4242','state':{"            \
  "'terminated':{'exitCode':2,'startedAt':'2024-01-01T00:05:00Z','finishedAt':"                    \
  "'2024-01-01T00:07:00Z'}}},{'name':'b','containerID':'','state':{'waiting':{'reason':"           \
  "'ErrImagePull'}}}]}}]"

/* What the image store would answer for an image's config. */
static const json_t *
fake_image_config (const char *image_id, const char *image, void *data)
{
  json_t *configs = data;
  return json_object_get (configs, image_id);
}

static char *
ps (const char *const *filters, bool all, bool quiet, bool no_trunc, kd_error_t *errp)
{
  json_t *pods = js (PODS);
  json_t *configs = js ("{'docker.io/library/alpine@sha256:4242':{'Entrypoint':null,'Cmd':"
                        "['/bin/sh']},'registry.local:5000/tools/crash@" DIGEST "':{"
                        "'Entrypoint':['/crash'],'Cmd':['--hard','now please']}}");
  kd_ps_filter_t *f = NULL;
  kd_ps_opts_t o = { .all = all, .quiet = quiet, .no_trunc = no_trunc };
  char *s = NULL;
  size_t n = 0;
  FILE *out;

  for (size_t i = 0; filters && filters[i]; i++)
    if (kd_ps_filter_add (&f, filters[i], errp) < 0)
      {
        json_decref (pods);
        json_decref (configs);
        kd_ps_filter_free (f);
        return NULL;
      }
  o.filter = f;
  o.image_config = fake_image_config;
  o.image_config_data = configs;
  out = open_memstream (&s, &n);
  kd_cli_print_ps (pods, &o, ts ("2024-01-01T00:10:00Z"), out);
  fclose (out);
  kd_ps_filter_free (f);
  json_decref (pods);
  json_decref (configs);
  return s;
}

static const char PS_WANT[]
    = "CONTAINER ID   IMAGE                                COMMAND                  CREATED        "
      "      STATUS                         PORTS                                                  "
      "  NAME      POD\n"
      "dddddddddddd   registry.local:5000/tools/crash:v2   \"/crash --hard 'now …\"   About a "
      "minute ago   Restarting (1) 3 seconds ago                                                   "
      "         crash     crash-node1\n"
      "bbbbbbbbbbbb   busybox                              \"sh -c 'while true; …\"   9 minutes "
      "ago        Up 9 minutes                                                                     "
      "       log       web-node1\n"
      "aaaaaaaaaaaa   busybox:1.36                         \"httpd -f -p 8080\"       9 minutes "
      "ago        Up 9 minutes (healthy)         0.0.0.0:8080->8080/tcp, 8081/tcp, "
      "0.0.0.0:5353->53/udp   web       web-node1\n";

static const char PS_ALL_WANT[]
    = "CONTAINER ID   IMAGE                                COMMAND                  CREATED        "
      "      STATUS                         PORTS                                                  "
      "  NAME      POD\n"
      "dddddddddddd   registry.local:5000/tools/crash:v2   \"/crash --hard 'now …\"   About a "
      "minute ago   Restarting (1) 3 seconds ago                                                   "
      "         crash     crash-node1\n"
      "eeeeeeeeeeee   alpine:3.19                          \"/bin/sh\"                5 minutes "
      "ago        Exited (2) 3 minutes ago                                                         "
      "       a         job-node1\n"
      "bbbbbbbbbbbb   busybox                              \"sh -c 'while true; …\"   9 minutes "
      "ago        Up 9 minutes                                                                     "
      "       log       web-node1\n"
      "aaaaaaaaaaaa   busybox:1.36                         \"httpd -f -p 8080\"       9 minutes "
      "ago        Up 9 minutes (healthy)         0.0.0.0:8080->8080/tcp, 8081/tcp, "
      "0.0.0.0:5353->53/udp   web       web-node1\n"
      "cccccccccccc   busybox:1.36                         \"sh -c 'mkdir -p /ww…\"   9 minutes "
      "ago        Exited (0) 9 minutes ago                                                         "
      "       setup     web-node1\n";

static const char PS_NO_TRUNC_WANT[]
    = "CONTAINER ID                                                       IMAGE                    "
      "                                                                                    COMMAND "
      "                                       CREATED              STATUS                         "
      "PORTS                                                    NAME      POD\n"
      "dddddddddddd4444444444444444444444444444444444444444444444444444   "
      "registry.local:5000/tools/"
      "crash:v2@sha256:9999999999999999999999999999999999999999999999999999999999999999   \"/crash "
      "--hard 'now please'\"                   About a minute ago   Restarting (1) 3 seconds ago   "
      "                                                         crash     crash-node1\n"
      "eeeeeeeeeeee5555555555555555555555555555555555555555555555555555   alpine:3.19              "
      "                                                                                    "
      "\"/bin/sh\"                                      5 minutes ago        Exited (2) 3 minutes "
      "ago                                                                a         job-node1\n"
      "bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222   busybox                  "
      "                                                                                    \"sh -c "
      "'while true; do date; sleep 1; done'\"   9 minutes ago        Up 9 minutes                  "
      "                                                          log       web-node1\n"
      "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111   "
      "docker.io/library/busybox:1.36                                                              "
      "                 \"httpd -f -p 8080\"                             9 minutes ago        Up 9 "
      "minutes (healthy)         0.0.0.0:8080->8080/tcp, 8081/tcp, 0.0.0.0:5353->53/udp   web      "
      " web-node1\n"
      "cccccccccccc3333333333333333333333333333333333333333333333333333   busybox:1.36             "
      "                                                                                    \"sh -c "
      "'mkdir -p /www'\"                        9 minutes ago        Exited (0) 9 minutes ago      "
      "                                                          setup     web-node1\n";

#define A "aaaaaaaaaaaa\n"
#define B "bbbbbbbbbbbb\n"
#define C "cccccccccccc\n"
#define D "dddddddddddd\n"
#define E "eeeeeeeeeeee\n"

static void
expect_ids (bool all, const char *want, ...)
{
  const char *filters[16];
  size_t n = 0;
  va_list ap;
  cleanup_free char *got = NULL;
  kd_error_t err = NULL;

  va_start (ap, want);
  while (n + 1 < KD_ARRAY_SIZE (filters) && (filters[n] = va_arg (ap, const char *)) != NULL)
    n++;
  va_end (ap);
  filters[n] = NULL;
  got = ps (filters, all, true, false, &err);
  if (got == NULL)
    fail_msg ("filter %s refused: %s", filters[0], err->msg);
  if (strcmp (got, want) != 0)
    fail_msg ("filters starting %s (all=%d): got\n%swant\n%s", filters[0] ? filters[0] : "-", all,
              got, want);
}

static void
test_ps_lists_running_and_restarting_containers_newest_first (void **state)
{
  cleanup_free char *got = ps (NULL, false, false, false, NULL);
  /* The command cut at 19 characters and "…", quoted; docker's ports. */
  assert_string_equal (got, PS_WANT);
}

static void
test_ps_all_adds_exited_but_not_never_created_containers (void **state)
{
  cleanup_free char *got = ps (NULL, true, false, false, NULL);
  assert_string_equal (got, PS_ALL_WANT);
  /* job-node1's "b" waits for its image: it has no container yet. */
  assert_null (strstr (got, "   b   "));
}

static void
test_ps_no_trunc_shows_full_ids_commands_and_images (void **state)
{
  cleanup_free char *got = ps (NULL, true, false, true, NULL);
  assert_string_equal (got, PS_NO_TRUNC_WANT);
}

static void
test_ps_without_containers_prints_the_header_only (void **state)
{
  json_t *none = json_array ();
  kd_ps_opts_t o = { 0 };
  char *s = NULL;
  size_t n = 0;
  FILE *out = open_memstream (&s, &n);

  kd_cli_print_ps (none, &o, 0, out);
  fclose (out);
  json_decref (none);
  assert_string_equal (
      s, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAME      POD\n");
  free (s);
}

static void
test_ps_quiet_prints_ids_only (void **state)
{
  cleanup_free char *got = ps (NULL, false, true, false, NULL);
  cleanup_free char *full = ps (NULL, false, true, true, NULL);

  assert_string_equal (got, D B A);
  assert_string_equal (full, HEX_CRSH "\n" HEX_LOG "\n" HEX_WEB "\n");
}

static void
test_filter_id_matches_a_prefix (void **state)
{
  expect_ids (true, A, "id=aaaa", NULL);
  expect_ids (true, B, "id=kubeletd://bbbbbbbbbbbb2", NULL);
  expect_ids (true, "", "id=1111", NULL);
}

static void
test_filter_name_is_a_regular_expression (void **state)
{
  expect_ids (false, A, "name=we", NULL);
  expect_ids (false, B, "name=^l", NULL);
  expect_ids (true, C, "name=set.p", NULL);
}

static void
test_filter_pod_is_exact (void **state)
{
  expect_ids (false, B A, "pod=web-node1", NULL);
  expect_ids (false, "", "pod=web", NULL);
  expect_ids (true, E, "pod=batch/job-node1", NULL);
  expect_ids (true, "", "pod=default/job-node1", NULL);
}

static void
test_filter_label_by_key_or_key_value_all_must_match (void **state)
{
  expect_ids (true, D B A C, "label=app", NULL);
  expect_ids (false, B A, "label=app=web", NULL);
  expect_ids (false, B A, "label=app=web", "label=tier=front", NULL);
  expect_ids (false, "", "label=app=web", "label=tier=back", NULL);
}

static void
test_filter_status_lists_stopped_containers_without_all (void **state)
{
  expect_ids (false, E C, "status=exited", NULL);
  expect_ids (false, B A, "status=running", NULL);
  expect_ids (false, D, "status=restarting", NULL);
  expect_ids (false, D, "status=waiting", NULL);
  expect_ids (false, "", "status=created", NULL);
  expect_ids (false, D E C, "status=exited", "status=restarting", NULL);
}

static void
test_filter_exited_matches_the_exit_code_of_stopped_containers (void **state)
{
  expect_ids (true, E, "exited=2", NULL);
  expect_ids (true, C, "exited=0", NULL);
  /* Restarting counts as running for docker: its last exit does not match. */
  expect_ids (true, "", "exited=1", NULL);
  /* Without -a only running containers are looked at. */
  expect_ids (false, "", "exited=2", NULL);
}

static void
test_filter_ancestor_by_name_tag_digest_or_id (void **state)
{
  expect_ids (true, B A C, "ancestor=busybox", NULL);
  expect_ids (true, A C, "ancestor=busybox:1.36", NULL);
  expect_ids (true, B, "ancestor=docker.io/library/busybox:latest", NULL);
  expect_ids (true, A C, "ancestor=1234ab", NULL);
  expect_ids (true, B, "ancestor=sha256:5678", NULL);
  expect_ids (true, D, "ancestor=registry.local:5000/tools/crash@" DIGEST, NULL);
  expect_ids (true, D, "ancestor=registry.local:5000/tools/crash:v2", NULL);
  expect_ids (true, E, "ancestor=alpine", NULL);
  expect_ids (true, "", "ancestor=nginx", NULL);
}

static void
test_filters_or_within_a_key_and_across_keys (void **state)
{
  /* name=web OR name=log, AND status=running. */
  expect_ids (true, B A, "name=web", "name=log", "status=running", NULL);
  expect_ids (true, D A, "name=web", "name=crash", NULL);
  expect_ids (true, A, "name=web", "name=crash", "status=running", NULL);
  expect_ids (true, "", "name=web", "name=log", "pod=crash-node1", NULL);
  expect_ids (true, D, "name=web", "name=crash", "label=app=crash", NULL);
}

static void
test_filter_errors_read_as_docker (void **state)
{
  static const struct
  {
    const char *arg, *msg;
  } cases[] = {
    { "foo=bar", "invalid filter 'foo'" },
    { "status=sleeping", "invalid filter 'status=sleeping'" },
    { "exited=x", "strconv.Atoi: parsing \"x\": invalid syntax" },
    { "novalue", "invalid argument \"novalue\" for \"-f, --filter\" flag: bad format of filter "
                 "(expected name=value)" },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      kd_ps_filter_t *f = NULL;
      kd_error_t err = NULL;

      assert_int_equal (kd_ps_filter_add (&f, cases[i].arg, &err), -1);
      assert_string_equal (err->msg, cases[i].msg);
      kd_error_release (&err);
      kd_ps_filter_free (f);
    }
  {
    kd_ps_filter_t *f = NULL;
    kd_error_t err = NULL;
    /* Keys are case-insensitive and blanks around them are dropped. */
    assert_int_equal (kd_ps_filter_add (&f, " Name = web ", &err), 0);
    kd_ps_filter_free (f);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ps_lists_running_and_restarting_containers_newest_first),
    cmocka_unit_test (test_ps_all_adds_exited_but_not_never_created_containers),
    cmocka_unit_test (test_ps_no_trunc_shows_full_ids_commands_and_images),
    cmocka_unit_test (test_ps_without_containers_prints_the_header_only),
    cmocka_unit_test (test_ps_quiet_prints_ids_only),
    cmocka_unit_test (test_filter_id_matches_a_prefix),
    cmocka_unit_test (test_filter_name_is_a_regular_expression),
    cmocka_unit_test (test_filter_pod_is_exact),
    cmocka_unit_test (test_filter_label_by_key_or_key_value_all_must_match),
    cmocka_unit_test (test_filter_status_lists_stopped_containers_without_all),
    cmocka_unit_test (test_filter_exited_matches_the_exit_code_of_stopped_containers),
    cmocka_unit_test (test_filter_ancestor_by_name_tag_digest_or_id),
    cmocka_unit_test (test_filters_or_within_a_key_and_across_keys),
    cmocka_unit_test (test_filter_errors_read_as_docker),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
