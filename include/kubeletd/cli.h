/* cli: the kubeletctl commands (get, validate, version) and their printers.
 *
 * Why: kubeletctl is how people look at kubeletd, and they read its output
 * with kubectl's habits: the same columns, the same STATUS words (derived
 * exactly as kubectl's printPod does), the same AGE format, the same
 * "No resources found" line. Keeping the derivation and the printers here,
 * apart from main, lets the unit tests check them on hand-made pods.
 *
 * What it owns: option parsing for the commands, label selectors, the pod
 * table (pkg/cli/print.c), JSON/YAML output, and the commands themselves
 * (pkg/cli/get.c, validate.c, version.c).
 *
 * How to use:
 *  1. main fills a kd_cli_t (kd_cli_take_global_opts removes --socket from
 *     argv wherever it is) and calls kd_cli_run with the remaining argv.
 *  2. Each command returns the process exit status (0 or 1) and has printed
 *     its output to cli->out and any "error: ..." line to cli->err.
 */
#ifndef KUBELETD_CLI_H
#define KUBELETD_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "kubeletd/util.h"

typedef struct
{
  const char *socket; /* --socket; NULL = $KUBELETD_SOCKET or the default */
  FILE *out;
  FILE *err;
} kd_cli_t;

/* ---- argument parsing -------------------------------------------------- */

typedef enum
{
  KD_OPT_FLAG,   /* bool *: no argument */
  KD_OPT_STRING, /* const char **: takes an argument */
} kd_opt_kind_t;

typedef struct
{
  const char *long_name; /* without "--" */
  char short_name;       /* 0 = none */
  kd_opt_kind_t kind;
  void *target;
} kd_cli_opt_t;

/* Parses argv[1..argc-1] (argv[0] is the command word) against opts, in
   cobra's spellings: --name value, --name=value, -n value, -nvalue, -abc for
   flags, "--" ends the options. Positional arguments are collected in order
   into *pos (a NULL-terminated array the caller frees; its strings belong to
   argv). Errors read as cobra's: "unknown flag: --x", "unknown shorthand
   flag: 'x' in -x", "flag needs an argument: --output". */
int kd_cli_parse_args (const kd_cli_opt_t *opts, size_t n_opts, int argc, char **argv, char ***pos,
                       size_t *n_pos, kd_error_t *err) KD_WUR;

/* Removes every --socket PATH / --socket=PATH from argv (before or after the
   command) into cli->socket; returns the new argc, or -1 when --socket has
   no value. */
int kd_cli_take_global_opts (kd_cli_t *cli, int argc, char **argv, kd_error_t *err) KD_WUR;

/* ---- output formats ---------------------------------------------------- */

typedef enum
{
  KD_OUTPUT_TABLE,
  KD_OUTPUT_WIDE,
  KD_OUTPUT_JSON,
  KD_OUTPUT_YAML,
} kd_output_t;

enum
{
  KD_ALLOW_WIDE = 1 << 0, /* json and yaml are always allowed */
};

/* "" or NULL = table. Unknown formats fail with kubectl's message. */
int kd_cli_parse_output (const char *s, unsigned allow, kd_output_t *out, kd_error_t *err) KD_WUR;
/* A deep copy of j with every object's keys sorted, as kubectl prints. */
json_t *kd_json_sorted (const json_t *j);
/* Prints j as kubectl -o json (4 spaces, sorted keys, trailing newline) or
   -o yaml (sorted keys). indent applies to JSON only. */
int kd_cli_print_json (const json_t *j, kd_output_t fmt, int indent, FILE *out,
                       kd_error_t *err) KD_WUR;
/* {"apiVersion":"v1","items":items,"kind":"List","metadata":{"resourceVersion":""}};
   steals items. */
json_t *kd_cli_list (json_t *items);

/* ---- label selectors (k8s.io/apimachinery/pkg/labels) ------------------ */

typedef struct kd_selector kd_selector_t;

/* "app=web,tier!=db", "env in (a,b)", "env notin (c)", "app", "!app",
   "a==b". Empty = everything. */
int kd_selector_parse (const char *s, kd_selector_t **out, kd_error_t *err) KD_WUR;
/* labels: a JSON object of strings (NULL = no labels). */
bool kd_selector_matches (const kd_selector_t *sel, const json_t *labels);
void kd_selector_free (kd_selector_t *sel);

/* ---- pod table (kubectl's printPod) ------------------------------------ */

/* Go's duration.HumanDuration: "5s", "3m20s", "15m", "5h3m", "2d3h",
   "400d", "3y5d"; "<invalid>" when more than a second in the future. */
char *kd_human_duration (int64_t ns);
/* translateTimestampSince: "<unknown>" for a missing or zero timestamp. */
char *kd_cli_age (const char *rfc3339, int64_t now_ns);

typedef struct
{
  char *name;
  char *ready;    /* "1/2" */
  char *status;   /* "Running", "Init:0/1", "CrashLoopBackOff", ... */
  char *restarts; /* "3 (5m ago)" */
  char *age;
  char *ip;   /* status.podIPs[0].ip or "<none>" */
  char *node; /* spec.nodeName or "<none>" */
  char *nominated_node;
  char *readiness_gates;
} kd_pod_row_t;

/* Derives the row of a v1 Pod (JSON) as kubectl printPod does. */
void kd_pod_row (const json_t *pod, int64_t now_ns, kd_pod_row_t *row);
void kd_pod_row_free (kd_pod_row_t *row);

/* A table printed like kubectl's tabwriter (min width 6, padding 3; the last
   column is not padded). */
typedef struct
{
  char **cells; /* n_rows * n_cols, row-major */
  size_t n_cols;
  size_t n_rows;
  size_t cap;
} kd_table_t;

void kd_table_init (kd_table_t *t, size_t n_cols);
/* Adds one row of n_cols strings (copied). */
void kd_table_add (kd_table_t *t, const char *const *cells);
void kd_table_print (const kd_table_t *t, FILE *out);
void kd_table_free (kd_table_t *t);

/* Prints pods (a JSON array of v1 Pods) as the `get pods` table. */
void kd_cli_print_pods (const json_t *pods, bool wide, bool all_namespaces, bool no_headers,
                        int64_t now_ns, FILE *out);

/* ---- images (pkg/cli/images.c, pull.c): docker's columns and words ---- */

/* go-units HumanSizeWithPrecision (n, 3): "512B", "1.23kB", "4.26MB". */
char *kd_cli_human_size (int64_t bytes);
/* go-units HumanDuration + " ago": "2 days ago", "About an hour ago";
   "N/A" for a missing time. */
char *kd_cli_human_ago (const char *rfc3339, int64_t now_ns);
/* "docker.io/library/busybox" -> "busybox", "docker.io/x/y" -> "x/y". */
char *kd_cli_familiar_name (const char *repo);
/* 12 hex digits without "sha256:", or the whole id with no_trunc. */
char *kd_cli_short_id (const char *id, bool no_trunc);
/* `images` of GET /images' array: REPOSITORY TAG [DIGEST] IMAGE ID CREATED SIZE. */
void kd_cli_print_images (const json_t *images, bool quiet, bool digests, bool no_trunc,
                          int64_t now_ns, FILE *out);
/* `history` of GET /images/<ref>/history: IMAGE CREATED CREATED BY SIZE COMMENT. */
void kd_cli_print_history (const json_t *rows, bool no_trunc, bool quiet, int64_t now_ns,
                           FILE *out);

/* ---- ps (pkg/cli/ps.c, ps_filter.c): docker's container list ---------- */

typedef struct kd_ps_filter kd_ps_filter_t;

/* Adds one `-f KEY=VALUE` to *f (allocated on first use). Keys: id (prefix
   of the container ID), name (a regular expression, as docker matches
   names), pod (the exact pod name, or NAMESPACE/NAME), label (pod label `K`
   or `K=V`), status (created, running, exited, waiting, restarting),
   exited (an exit code), ancestor (an image by name, name:tag, name@digest
   or digest/ID prefix). Repeating a key ORs its values, except label whose
   values must all match (docker's MatchKVList); different keys AND.
   Errors read as docker's ("invalid filter 'x'", "invalid filter
   'status=x'", "strconv.Atoi: parsing \"x\": invalid syntax"). */
int kd_ps_filter_add (kd_ps_filter_t **f, const char *arg, kd_error_t *err) KD_WUR;
void kd_ps_filter_free (kd_ps_filter_t *f);

/* The config object of an image ({"Entrypoint":[..],"Cmd":[..]}), looked up
   by the status' imageID or else the spec's image; NULL when unknown. */
typedef const json_t *(*kd_ps_image_config_fn) (const char *image_id, const char *image,
                                                void *data);

typedef struct
{
  bool all;      /* -a */
  bool quiet;    /* -q: IDs only */
  bool no_trunc; /* full IDs and commands */
  const kd_ps_filter_t *filter;
  kd_ps_image_config_fn image_config; /* NULL: the spec's command only */
  void *image_config_data;
} kd_ps_opts_t;

/* Prints the containers of pods (a JSON array of v1 Pods) as `docker ps`:
   CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAME, POD; newest
   first. */
void kd_cli_print_ps (const json_t *pods, const kd_ps_opts_t *o, int64_t now_ns, FILE *out);

/* ---- describe (pkg/cli/describe.c) -------------------------------------- */

/* Prints a v1 Pod as `kubectl describe pod` does. events: the items of a v1
   EventList (the pod's own are picked out); NULL leaves the Events section
   out (--show-events=false). Times print in the local time zone. */
void kd_cli_describe_pod (const json_t *pod, const json_t *events, int64_t now_ns, FILE *out);

/* GET /pods/<ns>/<name> into *out; a 404 reads `pods "NAME" not found`,
   as the API server says it (pkg/cli/get.c). */
int kd_cli_get_pod (kd_cli_t *cli, const char *ns, const char *name, json_t **out,
                    kd_error_t *err) KD_WUR;

/* ---- commands ---------------------------------------------------------- */

int kd_cli_images (kd_cli_t *cli, int argc, char **argv);
int kd_cli_pull (kd_cli_t *cli, int argc, char **argv);
int kd_cli_rmi (kd_cli_t *cli, int argc, char **argv);
int kd_cli_history (kd_cli_t *cli, int argc, char **argv);
int kd_cli_inspect (kd_cli_t *cli, int argc, char **argv);
int kd_cli_import (kd_cli_t *cli, int argc, char **argv);
/* `image import|ls|pull|rm|history|inspect`. */
int kd_cli_image (kd_cli_t *cli, int argc, char **argv);

int kd_cli_get (kd_cli_t *cli, int argc, char **argv);
/* `top [pods] [--containers]` (pkg/cli/top.c): GET /stats/summary as kubectl top. */
int kd_cli_top (kd_cli_t *cli, int argc, char **argv);
int kd_cli_ps (kd_cli_t *cli, int argc, char **argv);
int kd_cli_describe (kd_cli_t *cli, int argc, char **argv);
/* `logs [-f] [-p] [--tail N] [--timestamps] [--since D] [--since-time T]
   [--limit-bytes N] POD [-c CONTAINER]` (pkg/cli/logs.c). */
int kd_cli_logs (kd_cli_t *cli, int argc, char **argv);
/* `exec [-i] POD [-c CONTAINER] -- CMD ARGS...` (pkg/cli/exec.c): returns
   the command's exit code (1 when the exec itself failed). */
int kd_cli_exec (kd_cli_t *cli, int argc, char **argv);
/* `inspect [--type container|image] NAME...` (pkg/cli/inspect.c): a
   container (id prefix of >= 4 hex digits, POD/CONTAINER or
   NS/POD/CONTAINER) when one answers, else an image (kd_cli_inspect). */
int kd_cli_inspect_any (kd_cli_t *cli, int argc, char **argv);
int kd_cli_validate (kd_cli_t *cli, int argc, char **argv);
int kd_cli_version (kd_cli_t *cli, int argc, char **argv);
/* Dispatches argv[0] (the command word); prints the usage for none or
   --help. */
int kd_cli_run (kd_cli_t *cli, int argc, char **argv);
void kd_cli_usage (FILE *out);

/* Prints "error: <msg>" to cli->err, releases err, returns 1. */
int kd_cli_fail (kd_cli_t *cli, kd_error_t *err);

#endif
