/* daemon: kubeletd's process: directories and locks, the loop, the modules
 * wired together, the status API routes, and a clean stop.
 *
 * Why: main () only parses flags; everything that lives as long as the
 * process (and must be released in the right order for a clean ASan leak
 * check) has one owner here.
 *
 * What it owns: the locks on <root-dir>/kubeletd.lock and
 * <run-dir>/kubeletd.lock (a second daemon sharing either directory is
 * refused: "another kubeletd holds `<path>`"), the libuv loop, SIGTERM and
 * SIGINT handlers (clean stop), the pod store, the file source and the HTTP
 * server with its routes:
 *   GET /healthz                   200 "ok" (text/plain)
 *   GET /pods                      a v1 PodList, pods by namespace then name
 *   GET /pods/<namespace>/<name>   a v1 Pod, or a 404 v1 Status (NotFound)
 *   GET /version                   version.Info: {"major":"1","minor":"32",
 *                                  "gitVersion":"v1.32.0-kubeletd-<version>",
 *                                  "platform":"linux/amd64", ...};
 *                                  `kubeletctl version` prints it
 *
 * How to use:
 *  1. kd_daemon_run (&cfg, &err): blocks until SIGTERM/SIGINT, returns 0
 *     after a clean stop, negative (err set) when it could not start.
 *  2. Or, for tests: kd_daemon_new, kd_daemon_loop (to drive the loop),
 *     kd_daemon_stop, then kd_daemon_free after the loop has drained.
 */
#ifndef KUBELETD_DAEMON_H
#define KUBELETD_DAEMON_H

#include <uv.h>

#include "kubeletd/config.h"
#include "kubeletd/pod.h"

typedef struct kd_daemon kd_daemon_t;

int kd_daemon_new (const kd_config_t *cfg, kd_daemon_t **out, kd_error_t *err) KD_WUR;
uv_loop_t *kd_daemon_loop (kd_daemon_t *d);
kd_pod_store_t *kd_daemon_store (kd_daemon_t *d);
/* Starts the stop: server closed (socket removed), source and signal
   handles closed. The loop then runs out of work. */
void kd_daemon_stop (kd_daemon_t *d);
/* Runs the loop until it has no more work, closes it and frees d. */
int kd_daemon_free (kd_daemon_t *d, kd_error_t *err) KD_WUR;

int kd_daemon_run (const kd_config_t *cfg, kd_error_t *err) KD_WUR;

#endif
