/* manifest: Pod manifests (YAML or JSON files) into validated kd_pod_t.
 *
 * Why: a static pod file is the user's whole interface; every mistake in it
 * must come back as one clear message with the file, the line, the column
 * and the Kubernetes field path, and no input may crash or hang the daemon.
 *
 * What it owns: the libyaml reader (YAML 1.1 scalars as sigs.k8s.io/yaml
 * resolves them, anchors and aliases with an expansion budget, merge keys,
 * duplicate-key detection, size and depth limits) and the pipeline
 * decode -> defaults -> static identity -> validate.
 *
 * How to use:
 *  1. kd_manifest_load_file (path, &opts, &m, &err): -1 only when the file
 *     cannot be read at all (missing, too big, not a regular file).
 *  2. m->error is set when the file as a whole is unusable (syntax error,
 *     bad kind); otherwise m->pods[i] holds each document's pod and its
 *     errors and warnings (positions filled in).
 *  3. kd_manifest_ok (m) tells whether every pod is valid; kd_manifest_print
 *     writes every message; kd_manifest_free releases everything.
 */
#ifndef KUBELETD_MANIFEST_H
#define KUBELETD_MANIFEST_H

#include "kubeletd/api.h"

#define KD_MANIFEST_MAX_BYTES (10 * 1024 * 1024)
#define KD_MANIFEST_MAX_DEPTH 64
#define KD_MANIFEST_MAX_NODES 200000 /* after alias expansion */

typedef struct
{
  const char *node_name; /* applied when make_static; default "localhost" */
  bool make_static;      /* apply kd_pod_make_static */
  int64_t seen_ns;       /* config.seen; 0 = now */
} kd_manifest_opts_t;

typedef struct
{
  kd_pod_t *pod;          /* decoded and defaulted; present even with errors */
  kd_field_errors_t errs; /* errors and warnings, with positions */
  int line;               /* where the document (or List item) starts */
  int col;
} kd_manifest_pod_t;

typedef struct
{
  char *path;  /* as given */
  char *error; /* "web.yaml:3:7: mapping values are not allowed here" or NULL */
  kd_manifest_pod_t *pods;
  size_t n_pods;
} kd_manifest_t;

int kd_manifest_load_file (const char *path, const kd_manifest_opts_t *opts, kd_manifest_t **out,
                           kd_error_t *err) KD_WUR;
/* The same for a buffer; `name` is used in messages and as the source path. */
int kd_manifest_load_buffer (const char *name, const char *buf, size_t len,
                             const kd_manifest_opts_t *opts, kd_manifest_t **out,
                             kd_error_t *err) KD_WUR;
bool kd_manifest_ok (const kd_manifest_t *m);
/* Prints m->error or every pod error and warning, one per line. Returns the
   number of errors printed (warnings not counted). */
size_t kd_manifest_print (const kd_manifest_t *m, FILE *out);
void kd_manifest_free (kd_manifest_t *m);

/* The YAML reader alone: every document of a stream as a kd_doc_t. On a
   syntax or limit error returns -1 with "name:line:col: problem" in err. */
int kd_yaml_parse (const char *name, const char *buf, size_t len, kd_doc_t ***docs, size_t *n_docs,
                   kd_error_t *err) KD_WUR;

/* Writes JSON as YAML (for `-o yaml`), keys in the JSON's order. */
int kd_yaml_emit_json (const json_t *json, FILE *out, kd_error_t *err) KD_WUR;

#endif
