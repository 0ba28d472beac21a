/* Private to pkg/manifest: the scalar rules that the reader (yaml.c) and the
   writer (emit.c) share, so that what one writes the other reads back as the
   same type. */
#ifndef KUBELETD_MANIFEST_INTERNAL_H
#define KUBELETD_MANIFEST_INTERNAL_H

#include "kubeletd/manifest.h"

/* What a scalar resolves to under go-yaml v2's YAML 1.1 rules. */
typedef struct
{
  kd_node_kind_t kind; /* NULL, BOOL, INT, FLOAT or STRING */
  bool merge;          /* the plain "<<" merge key */
  bool timestamp;      /* a string only because it looks like a timestamp */
  bool is_uint;        /* an integer above INT64_MAX: in u, and f as a double */
  bool b;
  int64_t i;
  uint64_t u;
  double f;
} kd_scalar_t;

/* Resolves an untagged plain scalar (go-yaml v2 resolve with an empty tag). */
void kd_yaml_resolve_plain (const char *s, size_t len, kd_scalar_t *out);

/* Resolves a scalar carrying an explicit tag (long form, as libyaml reports
   it). Returns false when the text cannot be that type, with *out unset. */
bool kd_yaml_resolve_tagged (const char *tag, const char *s, size_t len, kd_scalar_t *out);

/* Go's strconv.FormatFloat (v, 'g', -1, bits) with bits 32 or 64, and YAML's
   spelling of the special values (".inf", "-.inf", ".nan"). */
void kd_yaml_format_float (double v, int bits, char *buf, size_t size);

/* go-yaml v2 quotes "1:20" on output for readers that still know base-60. */
bool kd_yaml_is_base60_float (const char *s);

/* The libyaml pass of kd_yaml_parse (yaml.c). Returns 0; -1 for an error of
   the reader's own (limits, keys, anchors); -2 for a syntax error from
   libyaml, which JSON input may still get past (yaml-json.c). */
int kd_yaml_parse_events (const char *name, const char *buf, size_t len, kd_doc_t ***docs,
                          size_t *n_docs, kd_error_t *err);

#endif
