/* source: where desired pods come from. Now: the static pod files of
 * --pod-manifest-path (kubelet's file source).
 *
 * Why: a static pod file is edited by hand, by editors that write through
 * temp files and renames, by config management in bursts. The source turns
 * that into a calm, complete answer per file: the pods the file wants now,
 * and never a half-written or broken file's view (a file that fails keeps
 * the pods it produced before, so nothing running is lost to a typo).
 *
 * What it owns: per-file results (path, identity from stat, pods), an
 * inotify watch (uv_fs_event) with a 20 ms timer that coalesces bursts, and
 * the full relist timer (--file-check-frequency) that catches anything a
 * watch can miss (a directory created later, a watch lost with its inode).
 *
 * How to use:
 *  1. kd_source_file_new (loop, &opts, cb, data, &src, &err): scans once
 *     before returning (cb runs for every file found), then watches.
 *  2. cb (source, pods, n, data) runs whenever one file's desired set changes:
 *     source is the file's path, pods its complete set (n = 0: the file is
 *     gone). The pods are borrowed for the call (copy what you keep).
 *  3. kd_source_file_close (src) stops everything; src is freed once the
 *     loop has run the close callbacks.
 *
 * Rules (kubelet's): regular files only (symlinks followed), names starting
 * with "." ignored, subfolders not entered, files in name order; the path
 * may also be a single file; a missing path is an empty set until it
 * appears.
 */
#ifndef KUBELETD_SOURCE_H
#define KUBELETD_SOURCE_H

#include <uv.h>

#include "kubeletd/api.h"

typedef struct kd_source_file kd_source_file_t;

typedef void (*kd_source_update_cb) (const char *source, kd_pod_t *const *pods, size_t n,
                                     void *data);

typedef struct
{
  const char *path;      /* --pod-manifest-path: a directory or one file */
  const char *node_name; /* for the static pod names */
  uint64_t relist_ms;    /* --file-check-frequency */
  uint64_t coalesce_ms;  /* default 100 */
} kd_source_file_opts_t;

int kd_source_file_new (uv_loop_t *loop, const kd_source_file_opts_t *opts, kd_source_update_cb cb,
                        void *data, kd_source_file_t **out, kd_error_t *err) KD_WUR;
/* Rescans now (what the relist timer does). */
void kd_source_file_scan (kd_source_file_t *src);
void kd_source_file_close (kd_source_file_t *src);

/* ---- --manifest-url (kubelet's http source) ------------------------------
 *
 * The URL is fetched at start and every --http-check-frequency (20 s) on a
 * libuv pool thread (an easy libcurl transfer with the kubelet's 10 s client
 * timeout), so the loop never waits for the server. The body may be a Pod,
 * a v1 List or PodList, or several YAML documents; every pod goes through
 * the file source's pipeline (static identity with the URL as source path,
 * validation) and carries kubernetes.io/config.source=http. cb reports the
 * complete set under the URL as source whenever it changes. A failed fetch
 * (transport error, a status other than 200) or a body that does not parse
 * or validate keeps the previous pods and is logged; an empty 200 body is an
 * empty set (the kubelet's "zero-length data" rule). */
typedef struct kd_source_http kd_source_http_t;

typedef struct
{
  const char *url;
  const char *node_name;
  uint64_t period_ms;  /* --http-check-frequency; 0 = 20 s */
  uint64_t timeout_ms; /* one fetch; 0 = 10 s */
} kd_source_http_opts_t;

int kd_source_http_new (uv_loop_t *loop, const kd_source_http_opts_t *opts, kd_source_update_cb cb,
                        void *data, kd_source_http_t **out, kd_error_t *err) KD_WUR;
/* Fetches now unless a fetch is in flight. */
void kd_source_http_fetch (kd_source_http_t *src);
/* Stops polling; an in-flight transfer is aborted and src is freed once the
   loop has run the close callbacks and the pool job is back. */
void kd_source_http_close (kd_source_http_t *src);

/* The body of a fetch into pods (the pure part, for tests): -1 with the
   reason when it does not parse or a pod is invalid; an empty body is 0
   pods. *pods is a NULL-terminated array the caller frees with
   kd_source_pods_free. */
int kd_source_http_parse (const char *url, const char *node_name, const char *body, size_t len,
                          kd_pod_t ***pods, size_t *n, kd_error_t *err) KD_WUR;
void kd_source_pods_free (kd_pod_t **pods, size_t n);

#endif
