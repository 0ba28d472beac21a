/* kubeletctl: STATUS derivation (kubectl's printPod), ages, the table
   layout, label selectors, argument parsing, and the client's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "kubeletd/cli.h"
#include "kubeletd/client.h"

#define SEC INT64_C (1000000000)

/* Pod JSON written with single quotes, for readability. */
static json_t *
pod_json (const char *s)
{
  cleanup_free char *d = xstrdup (s);
  json_error_t jerr;
  json_t *j;
  char *p;

  for (p = d; *p; p++)
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

/* ---- STATUS / READY / RESTARTS ----------------------------------------- */

typedef struct
{
  const char *what;
  const char *pod;
  const char *status;
  const char *ready;
  const char *restarts;
} status_case_t;

#define ONE_C "'spec':{'containers':[{'name':'a'}]}"
#define TWO_C "'spec':{'containers':[{'name':'a'},{'name':'b'}]}"
#define INIT2_C                                                                                    \
  "'spec':{'initContainers':[{'name':'i1'},{'name':'i2'}],'containers':[{'name':'a'}]}"
#define RUN_OK   "{'name':'a','ready':true,'restartCount':0,'state':{'running':{}}}"
#define META     "'metadata':{'name':'p','namespace':'default'}"
#define META_DEL "'metadata':{'name':'p','deletionTimestamp':'2024-01-01T00:09:00Z'}"

static const status_case_t status_cases[] = {
  { "pending without statuses", "{" META "," ONE_C ",'status':{'phase':'Pending'}}", "Pending",
    "0/1", "0" },
  { "running and ready",
    "{" META "," ONE_C ",'status':{'phase':'Running','containerStatuses':[" RUN_OK "]}}", "Running",
    "1/1", "0" },
  { "running but not ready",
    "{" META "," ONE_C
    ",'status':{'phase':'Running','containerStatuses':[{'name':'a','ready':false,"
    "'restartCount':0,'state':{'running':{}}}]}}",
    "Running", "0/1", "0" },
  { "waiting reason",
    "{" META "," ONE_C ",'status':{'phase':'Pending','containerStatuses':[{'name':'a',"
    "'state':{'waiting':{'reason':'ContainerCreating'}}}]}}",
    "ContainerCreating", "0/1", "0" },
  { "crash loop with restarts ago",
    "{" META "," ONE_C
    ",'status':{'phase':'Running','containerStatuses':[{'name':'a','restartCount':5,"
    "'state':{'waiting':{'reason':'CrashLoopBackOff'}},'lastState':{'terminated':{'exitCode':1,"
    "'reason':'Error','finishedAt':'2024-01-01T00:05:00Z'}}}]}}",
    "CrashLoopBackOff", "0/1", "5 (5m ago)" },
  { "terminated reason",
    "{" META "," ONE_C ",'status':{'phase':'Succeeded','containerStatuses':[{'name':'a',"
    "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}",
    "Completed", "0/1", "0" },
  { "terminated by a signal without reason",
    "{" META "," ONE_C ",'status':{'phase':'Failed','containerStatuses':[{'name':'a',"
    "'state':{'terminated':{'exitCode':137,'signal':9}}}]}}",
    "Signal:9", "0/1", "0" },
  { "terminated with an exit code without reason",
    "{" META "," ONE_C ",'status':{'phase':'Failed','containerStatuses':[{'name':'a',"
    "'state':{'terminated':{'exitCode':3}}}]}}",
    "ExitCode:3", "0/1", "0" },
  { "first container's state wins",
    "{" META "," TWO_C ",'status':{'phase':'Running','containerStatuses':[{'name':'a','state':{"
    "'waiting':{'reason':'ErrImagePull'}}},{'name':'b','state':{'terminated':{'exitCode':1,"
    "'reason':'Error'}}}]}}",
    "ErrImagePull", "0/2", "0" },
  { "completed with one still running and Ready",
    "{" META "," TWO_C
    ",'status':{'phase':'Running','conditions':[{'type':'Ready','status':'True'}],"
    "'containerStatuses':[" RUN_OK ",{'name':'b','state':{'terminated':{'exitCode':0,"
    "'reason':'Completed'}}}]}}",
    "Running", "1/2", "0" },
  { "completed with one still running, not Ready",
    "{" META "," TWO_C
    ",'status':{'phase':'Running','conditions':[{'type':'Ready','status':'False'}],"
    "'containerStatuses':[" RUN_OK ",{'name':'b','state':{'terminated':{'exitCode':0,"
    "'reason':'Completed'}}}]}}",
    "NotReady", "1/2", "0" },
  { "init container running",
    "{" META "," INIT2_C ",'status':{'phase':'Pending','initContainerStatuses':["
    "{'name':'i1','state':{'running':{}}},{'name':'i2','state':{'waiting':{"
    "'reason':'PodInitializing'}}}],'containerStatuses':[{'name':'a','state':"
    "{'waiting':{'reason':'PodInitializing'}}}]}}",
    "Init:0/2", "0/1", "0" },
  { "second init container",
    "{" META "," INIT2_C ",'status':{'phase':'Pending','initContainerStatuses':["
    "{'name':'i1','state':{'terminated':{'exitCode':0,'reason':'Completed'}}},"
    "{'name':'i2','state':{'waiting':{'reason':'PodInitializing'}}}]}}",
    "Init:1/2", "0/1", "0" },
  { "init container crash loop",
    "{" META "," INIT2_C ",'status':{'phase':'Pending','initContainerStatuses':[{'name':'i1',"
    "'restartCount':2,'state':{'waiting':{'reason':'CrashLoopBackOff'}},'lastState':{'terminated':{"
    "'exitCode':1,'finishedAt':'2024-01-01T00:09:30Z'}}}]}}",
    "Init:CrashLoopBackOff", "0/1", "2 (30s ago)" },
  { "init container failed with a reason",
    "{" META "," INIT2_C ",'status':{'phase':'Failed','initContainerStatuses':[{'name':'i1',"
    "'state':{'terminated':{'exitCode':1,'reason':'Error'}}}]}}",
    "Init:Error", "0/1", "0" },
  { "init container killed by a signal",
    "{" META "," INIT2_C ",'status':{'phase':'Failed','initContainerStatuses':[{'name':'i1',"
    "'state':{'terminated':{'exitCode':143,'signal':15}}}]}}",
    "Init:Signal:15", "0/1", "0" },
  { "init container exit code",
    "{" META "," INIT2_C ",'status':{'phase':'Failed','initContainerStatuses':[{'name':'i1',"
    "'state':{'terminated':{'exitCode':2}}}]}}",
    "Init:ExitCode:2", "0/1", "0" },
  { "sidecar started and ready counts",
    "{" META
    ",'spec':{'initContainers':[{'name':'s','restartPolicy':'Always'}],'containers':[{'name':"
    "'a'}]},'status':{'phase':'Running','conditions':[{'type':'Initialized','status':'True'}],"
    "'initContainerStatuses':[{'name':'s','started':true,'ready':true,'restartCount':1,'state':{"
    "'running':{}}}],'containerStatuses':[" RUN_OK "]}}",
    "Running", "2/2", "1" },
  { "status reason wins over phase",
    "{" META "," ONE_C ",'status':{'phase':'Failed','reason':'Evicted'}}", "Evicted", "0/1", "0" },
  { "scheduling gated",
    "{" META "," ONE_C ",'status':{'phase':'Pending','conditions':[{'type':"
    "'PodScheduled','status':'False','reason':'SchedulingGated'}]}}",
    "SchedulingGated", "0/1", "0" },
  { "deleting a running pod",
    "{" META_DEL "," ONE_C ",'status':{'phase':'Running','containerStatuses':[" RUN_OK "]}}",
    "Terminating", "1/1", "0" },
  { "deleting a finished pod keeps its status",
    "{" META_DEL "," ONE_C ",'status':{'phase':'Succeeded','containerStatuses':[{'name':'a',"
    "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}",
    "Completed", "0/1", "0" },
  { "deleting a pod on a lost node",
    "{" META_DEL "," ONE_C ",'status':{'phase':'Running','reason':'NodeLost'}}", "Unknown", "0/1",
    "0" },
};

static void
test_pod_status_matches_kubectl_print_pod (void **state)
{
  int64_t now = ts ("2024-01-01T00:10:00Z");
  size_t i;

  for (i = 0; i < KD_ARRAY_SIZE (status_cases); i++)
    {
      const status_case_t *c = &status_cases[i];
      json_t *pod = pod_json (c->pod);
      kd_pod_row_t row;

      kd_pod_row (pod, now, &row);
      if (strcmp (row.status, c->status) != 0 || strcmp (row.ready, c->ready) != 0
          || strcmp (row.restarts, c->restarts) != 0)
        fail_msg ("%s: got STATUS %s READY %s RESTARTS %s, want %s %s %s", c->what, row.status,
                  row.ready, row.restarts, c->status, c->ready, c->restarts);
      kd_pod_row_free (&row);
      json_decref (pod);
    }
}

static void
test_pod_row_wide_columns_default_to_none (void **state)
{
  json_t *pod
      = pod_json ("{'metadata':{'name':'web-node1','creationTimestamp':'2024-01-01T00:00:00Z'},"
                  "'spec':{'nodeName':'node1','containers':[{'name':'a'}]},'status':{"
                  "'phase':'Running','podIP':'10.88.0.9','podIPs':[{'ip':'10.88.0.9'}]}}");
  json_t *bare = pod_json ("{'metadata':{'name':'x'},'spec':{},'status':{}}");
  kd_pod_row_t row;

  kd_pod_row (pod, ts ("2024-01-01T00:03:20Z"), &row);
  assert_string_equal (row.name, "web-node1");
  assert_string_equal (row.age, "3m20s");
  assert_string_equal (row.ip, "10.88.0.9");
  assert_string_equal (row.node, "node1");
  assert_string_equal (row.nominated_node, "<none>");
  assert_string_equal (row.readiness_gates, "<none>");
  kd_pod_row_free (&row);

  kd_pod_row (bare, ts ("2024-01-01T00:03:20Z"), &row);
  assert_string_equal (row.ip, "<none>");
  assert_string_equal (row.node, "<none>");
  assert_string_equal (row.age, "<unknown>");
  assert_string_equal (row.ready, "0/0");
  assert_string_equal (row.status, "");
  kd_pod_row_free (&row);
  json_decref (pod);
  json_decref (bare);
}

/* ---- ages ------------------------------------------------------------- */

static void
test_human_duration_matches_go (void **state)
{
  static const struct
  {
    int64_t sec;
    const char *want;
  } cases[] = {
    { -5, "<invalid>" },
    { -2, "<invalid>" },
    { -1, "0s" },
    { 0, "0s" },
    { 5, "5s" },
    { 119, "119s" },
    { 120, "2m" },
    { 200, "3m20s" },
    { 599, "9m59s" },
    { 600, "10m" },
    { 179 * 60 + 59, "179m" },
    { 3 * 3600, "3h" },
    { 5 * 3600 + 3 * 60, "5h3m" },
    { 8 * 3600 + 59 * 60, "8h" },
    { 47 * 3600, "47h" },
    { 48 * 3600, "2d" },
    { 51 * 3600, "2d3h" },
    { 8 * 86400, "8d" },
    { 400 * 86400, "400d" },
    { 730 * 86400, "2y" },
    { 735 * 86400, "2y5d" },
    { 8 * 365 * 86400, "8y" },
    { 10 * 365 * 86400 + 100 * 86400, "10y" },
  };
  size_t i;

  for (i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      cleanup_free char *got = kd_human_duration (cases[i].sec * SEC);
      if (strcmp (got, cases[i].want) != 0)
        fail_msg ("%" PRId64 "s: got %s, want %s", cases[i].sec, got, cases[i].want);
    }
  {
    /* Sub-second parts are cut, not rounded. */
    cleanup_free char *got = kd_human_duration (119 * SEC + SEC - 1);
    assert_string_equal (got, "119s");
  }
}

static void
test_age_of_missing_timestamp_is_unknown (void **state)
{
  cleanup_free char *a = kd_cli_age (NULL, ts ("2024-01-01T00:00:00Z"));
  cleanup_free char *b = kd_cli_age ("", ts ("2024-01-01T00:00:00Z"));
  cleanup_free char *c = kd_cli_age ("2024-01-01T00:00:00Z", ts ("2024-01-01T00:01:05Z"));
  cleanup_free char *d = kd_cli_age ("garbage", ts ("2024-01-01T00:01:05Z"));

  assert_string_equal (a, "<unknown>");
  assert_string_equal (b, "<unknown>");
  assert_string_equal (c, "65s");
  assert_string_equal (d, "<unknown>");
}

/* ---- table layout ------------------------------------------------------ */

static char *
capture_table (const kd_table_t *t)
{
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream (&s, &n);

  kd_table_print (t, f);
  fclose (f);
  return s;
}

static void
test_table_aligns_columns_with_three_spaces (void **state)
{
  const char *h[] = { "NAME", "READY", "STATUS", "RESTARTS", "AGE" };
  const char *r1[] = { "web-node1", "1/1", "Running", "0", "5s" };
  const char *r2[] = { "db-node1", "0/2", "CrashLoopBackOff", "12 (3m ago)", "2d3h" };
  kd_table_t t;
  cleanup_free char *out = NULL;

  kd_table_init (&t, 5);
  kd_table_add (&t, h);
  kd_table_add (&t, r1);
  kd_table_add (&t, r2);
  out = capture_table (&t);
  assert_string_equal (out, "NAME        READY   STATUS             RESTARTS      AGE\n"
                            "web-node1   1/1     Running            0             5s\n"
                            "db-node1    0/2     CrashLoopBackOff   12 (3m ago)   2d3h\n");
  kd_table_free (&t);
}

static void
test_table_columns_are_at_least_six_wide (void **state)
{
  const char *h[] = { "A", "IP", "Z" };
  const char *r[] = { "x", "y", "z" };
  kd_table_t t;
  cleanup_free char *out = NULL;

  kd_table_init (&t, 3);
  kd_table_add (&t, h);
  kd_table_add (&t, r);
  out = capture_table (&t);
  assert_string_equal (out, "A     IP    Z\n"
                            "x     y     z\n");
  kd_table_free (&t);
}

static void
test_print_pods_wide_and_all_namespaces (void **state)
{
  json_t *pods
      = json_pack ("[o]", pod_json ("{'metadata':{'name':'web-node1','namespace':'kube-system',"
                                    "'creationTimestamp':'2024-01-01T00:00:00Z'},'spec':{"
                                    "'nodeName':'node1','containers':[{'name':'a'}]},'status':{"
                                    "'phase':'Pending'}}"));
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream (&s, &n);

  kd_cli_print_pods (pods, true, true, false, ts ("2024-01-01T00:00:07Z"), f);
  kd_cli_print_pods (pods, false, false, true, ts ("2024-01-01T00:00:07Z"), f);
  fclose (f);
  assert_string_equal (s, "NAMESPACE     NAME        READY   STATUS    RESTARTS   AGE   IP       "
                          "NODE    NOMINATED NODE   "
                          "READINESS GATES\n"
                          "kube-system   web-node1   0/1     Pending   0          7s    <none>   "
                          "node1   <none>           "
                          "<none>\n"
                          "web-node1   0/1   Pending   0     7s\n");
  free (s);
  json_decref (pods);
}

/* ---- label selectors -------------------------------------------------- */

static bool
sel_matches (const char *sel, const char *labels)
{
  kd_selector_t *s = NULL;
  kd_error_t err = NULL;
  json_t *l = pod_json (labels);
  bool r;

  if (kd_selector_parse (sel, &s, &err) < 0)
    fail_msg ("parse %s: %s", sel, err->msg);
  r = kd_selector_matches (s, l);
  kd_selector_free (s);
  json_decref (l);
  return r;
}

static void
test_selector_matches_like_kubernetes (void **state)
{
  const char *web = "{'app':'web','tier':'front','gen':'3'}";

  assert_true (sel_matches ("", web));
  assert_true (sel_matches ("app=web", web));
  assert_true (sel_matches ("app==web", web));
  assert_true (sel_matches ("app=web,tier=front", web));
  assert_true (sel_matches (" app = web , tier = front ", web));
  assert_false (sel_matches ("app=web,tier=back", web));
  assert_false (sel_matches ("app=db", web));
  assert_true (sel_matches ("app!=db", web));
  assert_true (sel_matches ("missing!=x", web));
  assert_false (sel_matches ("app!=web", web));
  assert_true (sel_matches ("app", web));
  assert_false (sel_matches ("missing", web));
  assert_true (sel_matches ("!missing", web));
  assert_false (sel_matches ("!app", web));
  assert_true (sel_matches ("app in (db,web)", web));
  assert_false (sel_matches ("app in (db)", web));
  assert_true (sel_matches ("app notin (db)", web));
  assert_true (sel_matches ("missing notin (db)", web));
  assert_false (sel_matches ("app notin (db, web)", web));
  assert_true (sel_matches ("gen>2", web));
  assert_false (sel_matches ("gen<2", web));
  assert_true (sel_matches ("example.com/role=x", "{'example.com/role':'x'}"));
  assert_false (sel_matches ("app=web", "{}"));
}

static void
test_selector_rejects_bad_syntax (void **state)
{
  static const char *bad[] = {
    "app=web,", "=web", "app=web extra", "app in web", "app in (a", "app=-bad", "gen>x", "app~web",
  };
  size_t i;

  for (i = 0; i < KD_ARRAY_SIZE (bad); i++)
    {
      kd_selector_t *s = NULL;
      kd_error_t err = NULL;

      if (kd_selector_parse (bad[i], &s, &err) == 0)
        fail_msg ("selector `%s` was accepted", bad[i]);
      assert_null (s);
      assert_non_null (err);
      kd_error_release (&err);
    }
}

/* ---- argument parsing -------------------------------------------------- */

static void
test_parse_args_accepts_cobra_spellings (void **state)
{
  const char *out = NULL, *sel = NULL;
  bool all = false, nh = false;
  const kd_cli_opt_t opts[] = {
    { "output", 'o', KD_OPT_STRING, &out },
    { "selector", 'l', KD_OPT_STRING, &sel },
    { "all-namespaces", 'A', KD_OPT_FLAG, &all },
    { "no-headers", 0, KD_OPT_FLAG, &nh },
  };
  char *argv[]
      = { "get", "pods", "-ojson", "--selector=app=web", "-A", "--no-headers", "--", "-x", NULL };
  char **pos = NULL;
  size_t n = 0;
  kd_error_t err = NULL;

  assert_int_equal (kd_cli_parse_args (opts, 4, 8, argv, &pos, &n, &err), 0);
  assert_string_equal (out, "json");
  assert_string_equal (sel, "app=web");
  assert_true (all);
  assert_true (nh);
  assert_int_equal (n, 2);
  assert_string_equal (pos[0], "pods");
  assert_string_equal (pos[1], "-x");
  assert_null (pos[2]);
  free (pos);

  {
    char *argv2[] = { "get", "-o", "yaml", "pods", "web", NULL };
    assert_int_equal (kd_cli_parse_args (opts, 4, 5, argv2, &pos, &n, &err), 0);
    assert_string_equal (out, "yaml");
    assert_int_equal (n, 2);
    assert_string_equal (pos[1], "web");
    free (pos);
  }
}

static void
expect_parse_error (const kd_cli_opt_t *opts, size_t n_opts, char **argv, int argc, const char *msg)
{
  char **pos = NULL;
  size_t n = 0;
  kd_error_t err = NULL;

  assert_int_equal (kd_cli_parse_args (opts, n_opts, argc, argv, &pos, &n, &err), -1);
  assert_non_null (err);
  assert_string_equal (err->msg, msg);
  assert_null (pos);
  kd_error_release (&err);
}

static void
test_parse_args_reports_errors_like_cobra (void **state)
{
  const char *out = NULL;
  bool flag = false;
  const kd_cli_opt_t opts[] = {
    { "output", 'o', KD_OPT_STRING, &out },
    { "all-namespaces", 'A', KD_OPT_FLAG, &flag },
  };
  char *a1[] = { "get", "--bogus", NULL };
  char *a2[] = { "get", "-x", NULL };
  char *a3[] = { "get", "--output", NULL };
  char *a4[] = { "get", "-o", NULL };
  char *a5[] = { "get", "--all-namespaces=maybe", NULL };

  expect_parse_error (opts, 2, a1, 2, "unknown flag: --bogus");
  expect_parse_error (opts, 2, a2, 2, "unknown shorthand flag: 'x' in -x");
  expect_parse_error (opts, 2, a3, 2, "flag needs an argument: --output");
  expect_parse_error (opts, 2, a4, 2, "flag needs an argument: 'o' in -o");
  expect_parse_error (opts, 2, a5, 2,
                      "invalid argument \"maybe\" for \"--all-namespaces\" flag: "
                      "strconv.ParseBool: parsing \"maybe\": invalid syntax");
}

static void
test_socket_option_is_global_before_or_after_the_command (void **state)
{
  kd_cli_t cli = { 0 };
  kd_error_t err = NULL;
  char *a1[] = { "kubeletctl", "--socket", "/a.sock", "get", "pods", NULL };
  char *a2[] = { "kubeletctl", "get", "pods", "--socket=/b.sock", "-o", "wide", NULL };
  char *a3[] = { "kubeletctl", "get", "--socket", NULL };

  assert_int_equal (kd_cli_take_global_opts (&cli, 5, a1, &err), 3);
  assert_string_equal (cli.socket, "/a.sock");
  assert_string_equal (a1[1], "get");
  assert_string_equal (a1[2], "pods");
  assert_null (a1[3]);

  assert_int_equal (kd_cli_take_global_opts (&cli, 6, a2, &err), 5);
  assert_string_equal (cli.socket, "/b.sock");
  assert_string_equal (a2[3], "-o");
  assert_string_equal (a2[4], "wide");

  assert_int_equal (kd_cli_take_global_opts (&cli, 3, a3, &err), -1);
  assert_string_equal (err->msg, "flag needs an argument: --socket");
  kd_error_release (&err);
}

static void
test_socket_path_falls_back_to_env_then_default (void **state)
{
  unsetenv ("KUBELETD_SOCKET");
  assert_string_equal (kd_client_socket_path (NULL), "/run/kubeletd/kubeletd.sock");
  setenv ("KUBELETD_SOCKET", "/env.sock", 1);
  assert_string_equal (kd_client_socket_path (NULL), "/env.sock");
  assert_string_equal (kd_client_socket_path ("/flag.sock"), "/flag.sock");
  setenv ("KUBELETD_SOCKET", "", 1);
  assert_string_equal (kd_client_socket_path (NULL), "/run/kubeletd/kubeletd.sock");
  unsetenv ("KUBELETD_SOCKET");
}

static void
test_output_format_is_checked (void **state)
{
  kd_output_t fmt;
  kd_error_t err = NULL;

  assert_int_equal (kd_cli_parse_output ("wide", KD_ALLOW_WIDE, &fmt, &err), 0);
  assert_int_equal (fmt, KD_OUTPUT_WIDE);
  assert_int_equal (kd_cli_parse_output (NULL, 0, &fmt, &err), 0);
  assert_int_equal (fmt, KD_OUTPUT_TABLE);
  assert_int_equal (kd_cli_parse_output ("wide", 0, &fmt, &err), -1);
  assert_string_equal (err->msg, "unable to match a printer suitable for the output format "
                                 "\"wide\", allowed formats are: json,yaml");
  kd_error_release (&err);
  assert_int_equal (kd_cli_parse_output ("xml", KD_ALLOW_WIDE, &fmt, &err), -1);
  assert_string_equal (err->msg, "unable to match a printer suitable for the output format "
                                 "\"xml\", allowed formats are: json,wide,yaml");
  kd_error_release (&err);
}

/* Runs a command with the given socket; returns its exit code and what it
   wrote. */
static int
run_cli (const char *socket, char **argv, int argc, char **out, char **errs)
{
  size_t n1 = 0, n2 = 0;
  kd_cli_t cli = { .socket = socket };
  int rc;

  cli.out = open_memstream (out, &n1);
  cli.err = open_memstream (errs, &n2);
  rc = kd_cli_run (&cli, argc, argv);
  fclose (cli.out);
  fclose (cli.err);
  return rc;
}

static void
test_get_argument_errors_exit_one (void **state)
{
  static const struct
  {
    const char *args[6];
    const char *err;
  } cases[] = {
    { { "get", NULL }, "error: you must specify the type of resource to get: pods\n" },
    { { "get", "deployments", NULL },
      "error: the server doesn't have a resource type \"deployments\"\n" },
    { { "get", "pods", "web", "-l", "app=web", NULL },
      "error: name cannot be provided when a selector is specified\n" },
    { { "get", "pods", "web", "-A", NULL },
      "error: a resource cannot be retrieved by name across all namespaces\n" },
    { { "get", "pods", "-o", "xml", NULL },
      "error: unable to match a printer suitable for the output format \"xml\", allowed formats "
      "are: json,wide,yaml\n" },
    { { "get", "pods", "-l", "app in web", NULL },
      "error: unable to parse requirement: found 'web', expected: '('\n" },
    { { "get", "pods", "--watch", NULL }, "error: unknown flag: --watch\n" },
    { { "frobnicate", NULL }, "error: unknown command \"frobnicate\" for \"kubeletctl\"\n" },
    { { "validate", NULL }, "error: you must specify at least one manifest file to validate\n" },
    { { "version", "extra", NULL }, "error: unexpected argument \"extra\" for \"version\"\n" },
  };
  size_t i;

  for (i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      cleanup_free char *out = NULL;
      cleanup_free char *errs = NULL;
      int argc = 0;

      while (cases[i].args[argc])
        argc++;
      assert_int_equal (
          run_cli ("/nonexistent/kd.sock", (char **) cases[i].args, argc, &out, &errs), 1);
      assert_string_equal (errs, cases[i].err);
      assert_string_equal (out, "");
    }
}

static void
test_help_is_printed_for_each_command (void **state)
{
  static const char *cmds[] = { "get", "validate", "version" };
  size_t i;

  for (i = 0; i < KD_ARRAY_SIZE (cmds); i++)
    {
      char *argv[] = { (char *) cmds[i], "--help", NULL };
      cleanup_free char *out = NULL;
      cleanup_free char *errs = NULL;

      assert_int_equal (run_cli (NULL, argv, 2, &out, &errs), 0);
      assert_non_null (strstr (out, "Usage:"));
      assert_string_equal (errs, "");
    }
}

/* ---- the client against a missing and a fake daemon ------------------- */

static void
test_missing_socket_gives_the_connect_error (void **state)
{
  char *argv[] = { "get", "pods", NULL };
  cleanup_free char *out = NULL;
  cleanup_free char *errs = NULL;

  assert_int_equal (run_cli ("/nonexistent/kd.sock", argv, 2, &out, &errs), 1);
  assert_string_equal (errs,
                       "error: cannot connect to kubeletd at /nonexistent/kd.sock: No such file "
                       "or directory\n");
  assert_string_equal (out, "");
}

/* Serves one canned HTTP answer per connection, n times, in a child. */
static pid_t
fake_daemon (const char *path, const char *const *answers, size_t n)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  pid_t pid;
  size_t i;

  assert_true (fd >= 0);
  strncpy (addr.sun_path, path, sizeof (addr.sun_path) - 1);
  unlink (path);
  assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof (addr)), 0);
  assert_int_equal (listen (fd, 8), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid > 0)
    {
      close (fd);
      return pid;
    }
  for (i = 0; i < n; i++)
    {
      char req[4096];
      int c = accept (fd, NULL, NULL);

      if (c < 0)
        _exit (1);
      if (read (c, req, sizeof (req)) <= 0)
        _exit (1);
      /* answers[i] is "HTTP/1.1 CODE REASON|BODY". */
      {
        const char *bar = strchr (answers[i], '|');
        cleanup_free char *head = xstrndup (answers[i], (size_t) (bar - answers[i]));
        cleanup_free char *all
            = xasprintf ("%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s",
                         head, strlen (bar + 1), bar + 1);
        if (write (c, all, strlen (all)) < 0)
          _exit (1);
      }
      close (c);
    }
  _exit (0);
}

static void
test_get_pods_through_a_daemon (void **state)
{
  char dir[] = "/tmp/kd-test-cli.XXXXXX";
  cleanup_free char *sock = NULL;
  const char *answers[] = {
    "HTTP/1.1 200 OK|{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":["
    "{\"metadata\":{\"name\":\"web-node1\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\"}},"
    "{\"metadata\":{\"name\":\"db-node1\",\"namespace\":\"default\",\"labels\":{\"app\":\"db\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\"}},"
    "{\"metadata\":{\"name\":\"dns-node1\",\"namespace\":\"kube-system\"},"
    "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\"}}]}",
    "HTTP/1.1 404 Not Found|{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
    "\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\","
    "\"code\":404}",
    "HTTP/1.1 404 Not Found|",
    "HTTP/1.1 200 OK|{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}",
  };
  pid_t pid;
  int status;

  assert_non_null (mkdtemp (dir));
  sock = xasprintf ("%s/kd.sock", dir);
  pid = fake_daemon (sock, answers, KD_ARRAY_SIZE (answers));

  {
    char *argv[] = { "get", "pods", "-l", "app", NULL };
    cleanup_free char *out = NULL;
    cleanup_free char *errs = NULL;

    assert_int_equal (run_cli (sock, argv, 4, &out, &errs), 0);
    /* Only namespace default, sorted by name, filtered by the selector. */
    assert_string_equal (out, "NAME        READY   STATUS    RESTARTS   AGE\n"
                              "db-node1    0/1     Pending   0          <unknown>\n"
                              "web-node1   0/1     Pending   0          <unknown>\n");
    assert_string_equal (errs, "");
  }
  {
    char *argv[] = { "get", "pod", "x", NULL };
    cleanup_free char *out = NULL;
    cleanup_free char *errs = NULL;

    assert_int_equal (run_cli (sock, argv, 3, &out, &errs), 1);
    assert_string_equal (errs, "error: pods \"x\" not found\n");
  }
  {
    char *argv[] = { "get", "pods/y", NULL };
    cleanup_free char *out = NULL;
    cleanup_free char *errs = NULL;

    assert_int_equal (run_cli (sock, argv, 2, &out, &errs), 1);
    assert_string_equal (errs, "error: pods \"y\" not found\n");
  }
  {
    char *argv[] = { "get", "pods", "-n", "kube-public", NULL };
    cleanup_free char *out = NULL;
    cleanup_free char *errs = NULL;

    assert_int_equal (run_cli (sock, argv, 4, &out, &errs), 0);
    assert_string_equal (out, "");
    assert_string_equal (errs, "No resources found in kube-public namespace.\n");
  }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  unlink (sock);
  rmdir (dir);
}

static void
test_escape_keeps_names_in_one_segment (void **state)
{
  cleanup_free char *a = kd_client_escape ("web-node1.x_y~");
  cleanup_free char *b = kd_client_escape ("../etc?x=1 y");
  cleanup_free char *c = kd_client_escape ("..");

  assert_string_equal (a, "web-node1.x_y~");
  assert_string_equal (b, "..%2Fetc%3Fx%3D1%20y");
  assert_string_equal (c, "%2E%2E");
}

static void
test_status_message_prefers_the_status_body (void **state)
{
  const char *st = "{\"kind\":\"Status\",\"message\":\"pods \\\"a\\\" not found\",\"code\":404}";
  cleanup_free char *a = kd_client_status_message (404, st, strlen (st));
  cleanup_free char *b = kd_client_status_message (500, "boom\nmore", 9);
  cleanup_free char *c = kd_client_status_message (503, "", 0);

  assert_string_equal (a, "pods \"a\" not found");
  assert_string_equal (b, "the server returned HTTP 500: boom");
  assert_string_equal (c, "the server returned HTTP 503");
}

static void
test_json_output_sorts_keys_and_indents_four (void **state)
{
  json_t *j
      = pod_json ("{'kind':'Pod','apiVersion':'v1','metadata':{'name':'a','labels':{}},'b':[1]}");
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream (&s, &n);
  kd_error_t err = NULL;

  assert_int_equal (kd_cli_print_json (j, KD_OUTPUT_JSON, 4, f, &err), 0);
  fclose (f);
  assert_string_equal (s, "{\n"
                          "    \"apiVersion\": \"v1\",\n"
                          "    \"b\": [\n"
                          "        1\n"
                          "    ],\n"
                          "    \"kind\": \"Pod\",\n"
                          "    \"metadata\": {\n"
                          "        \"labels\": {},\n"
                          "        \"name\": \"a\"\n"
                          "    }\n"
                          "}\n");
  free (s);
  json_decref (j);
}

static void
test_json_output_escapes_html_like_go (void **state)
{
  json_t *j = json_pack ("{s:s}", "cmd", "a<b>&c\xe2\x80\xa8");
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream (&s, &n);
  kd_error_t err = NULL;

  assert_int_equal (kd_cli_print_json (j, KD_OUTPUT_JSON, 4, f, &err), 0);
  fclose (f);
  assert_string_equal (s, "{\n    \"cmd\": \"a\\u003cb\\u003e\\u0026c\\u2028\"\n}\n");
  free (s);
  json_decref (j);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pod_status_matches_kubectl_print_pod),
    cmocka_unit_test (test_pod_row_wide_columns_default_to_none),
    cmocka_unit_test (test_human_duration_matches_go),
    cmocka_unit_test (test_age_of_missing_timestamp_is_unknown),
    cmocka_unit_test (test_table_aligns_columns_with_three_spaces),
    cmocka_unit_test (test_table_columns_are_at_least_six_wide),
    cmocka_unit_test (test_print_pods_wide_and_all_namespaces),
    cmocka_unit_test (test_selector_matches_like_kubernetes),
    cmocka_unit_test (test_selector_rejects_bad_syntax),
    cmocka_unit_test (test_parse_args_accepts_cobra_spellings),
    cmocka_unit_test (test_parse_args_reports_errors_like_cobra),
    cmocka_unit_test (test_socket_option_is_global_before_or_after_the_command),
    cmocka_unit_test (test_socket_path_falls_back_to_env_then_default),
    cmocka_unit_test (test_output_format_is_checked),
    cmocka_unit_test (test_get_argument_errors_exit_one),
    cmocka_unit_test (test_help_is_printed_for_each_command),
    cmocka_unit_test (test_missing_socket_gives_the_connect_error),
    cmocka_unit_test (test_get_pods_through_a_daemon),
    cmocka_unit_test (test_escape_keeps_names_in_one_segment),
    cmocka_unit_test (test_status_message_prefers_the_status_body),
    cmocka_unit_test (test_json_output_sorts_keys_and_indents_four),
    cmocka_unit_test (test_json_output_escapes_html_like_go),
  };

  signal (SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
