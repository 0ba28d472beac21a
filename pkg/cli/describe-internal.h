/* Private to pkg/cli: the pieces `describe` and `ps` share.
 *
 * kd_tabw_t reproduces Go's text/tabwriter as kubectl's describers set it
 * up (min width 0, tab width 8, padding 2, spaces, no flags): text is
 * gathered line by line, cells end at a tab, and a column is as wide as its
 * widest cell plus 2 over each run of consecutive lines that have a cell in
 * it. The last cell of a line is never padded. kubectl's PrefixWriter adds
 * two spaces per level before each write; kd_tabw_printf does the same.
 *
 * How to use:
 *  1. kd_tabw_init (&w, out);
 *  2. kd_tabw_printf (&w, level, "Name:\t%s\n", name); ...
 *  3. kd_tabw_flush (&w) where kubectl flushes (before the events table) and
 *     at the end; kd_tabw_free.
 */
#ifndef KUBELETD_CLI_DESCRIBE_INTERNAL_H
#define KUBELETD_CLI_DESCRIBE_INTERNAL_H

#include <jansson.h>
#include <stdio.h>

#include "kubeletd/util.h"

typedef struct
{
  FILE *out;
  kd_buf_t text; /* written since the last flush */
} kd_tabw_t;

void kd_tabw_init (kd_tabw_t *w, FILE *out);
void kd_tabw_printf (kd_tabw_t *w, int level, const char *fmt, ...) KD_PRINTF (3, 4);
/* Formats and writes what was gathered; later text starts new columns. */
void kd_tabw_flush (kd_tabw_t *w);
void kd_tabw_free (kd_tabw_t *w);

/* ---- describe helpers (describe.c, describe_containers.c) ---------------- */

/* A JSON string member or "" (never NULL). */
const char *kd_desc_str (const json_t *obj, const char *key);
/* Go's time.RFC1123Z in the local time zone ("Mon, 02 Jan 2006 15:04:05
   -0700"); Go's zero time for a missing or unparsable value, as kubectl
   prints an unset metav1.Time. */
char *kd_desc_time (const char *rfc3339);
/* The keys of obj, sorted (the caller frees the array, not the keys). */
const char **kd_desc_sorted_keys (const json_t *obj, size_t *n);

/* describeContainers for "Init Containers" or "Containers". */
void kd_desc_containers (kd_tabw_t *w, const char *label, const json_t *pod,
                         const json_t *containers, const json_t *statuses);
/* kubectl's DescribeProbe: "http-get http://:8080/healthz delay=0s timeout=1s
   period=10s #success=1 #failure=3". */
char *kd_desc_probe (const json_t *probe);

#endif
