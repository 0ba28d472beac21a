/* probe internals: one attempt of a handler (exec, httpGet, tcpSocket,
 * grpc), shared by the prober (thresholds and timers) and the hook runner.
 *
 * An attempt is started with a completion callback and reports exactly one
 * outcome through it, always from a later loop callback (never from inside
 * the start call), unless it is cancelled first. After cancel no callback
 * runs; the attempt frees itself once its handles are closed.
 *
 * Outcomes and texts follow the kubelet's probers (pkg/probe/{exec,http,tcp,
 * grpc}): `errored` is the Go prober's err != nil, which the kubelet's worker
 * does not count towards the thresholds.
 */
#ifndef KUBELETD_PROBE_INTERNAL_H
#define KUBELETD_PROBE_INTERNAL_H

#include <inttypes.h>
#include <strings.h>
#include <uv.h>

#include "kubeletd/probe.h"

/* probe.Result */
typedef enum
{
  KD_OUTCOME_SUCCESS,
  KD_OUTCOME_WARNING,
  KD_OUTCOME_FAILURE,
  KD_OUTCOME_UNKNOWN,
} kd_outcome_t;

/* Lower case, as probe.Result prints: "success", "failure", ... */
const char *kd_outcome_name (kd_outcome_t o);

typedef void (*kd_attempt_cb) (void *data, kd_outcome_t outcome, bool errored, const char *output);

typedef struct kd_attempt kd_attempt_t;
struct kd_attempt
{
  void (*cancel) (kd_attempt_t *a);
};

static inline void
kd_attempt_cancel (kd_attempt_t *a)
{
  if (a)
    a->cancel (a);
}

/* ---- the action: a private copy of a handler and its target ----------- */

typedef enum
{
  KD_ACTION_NONE,
  KD_ACTION_EXEC,
  KD_ACTION_HTTP,
  KD_ACTION_TCP,
  KD_ACTION_GRPC,
  KD_ACTION_SLEEP,
} kd_action_type_t;

typedef struct
{
  char *name;
  int32_t port;
} kd_named_port_t;

typedef struct
{
  kd_action_type_t type;
  /* exec: the command after $(VAR) expansion with the container's static env */
  char **argv;
  size_t argc;
  /* httpGet, tcpSocket */
  char *scheme; /* lower case: "http" / "https" */
  char *host;   /* NULL: the pod IP */
  char *path;
  kd_intstr_t port;
  kd_http_header_t *headers;
  size_t n_headers;
  /* grpc */
  int32_t grpc_port;
  char *grpc_service;
  /* sleep */
  int64_t sleep_seconds;
  /* target */
  char *pod_ip;
  char *shim_path;
  char *pod_dir;
  char *container_id;
  char *container_name;
  char *pod_full_name;
  kd_named_port_t *ports;
  size_t n_ports;
} kd_action_t;

/* expand_env: $(VAR) in an exec command is expanded with the container's env
   (the kubelet does it for probes, not for hooks). */
void kd_action_init (kd_action_t *a, const kd_handler_t *h, const kd_probe_target_t *t,
                     bool expand_env);
void kd_action_clear (kd_action_t *a);

/* probe.ResolveContainerPort: a number, a named container port, or a
   number in a string. On failure returns -1 and *msg holds Go's error text
   (caller frees). */
int kd_action_resolve_port (const kd_action_t *a, const kd_intstr_t *port, char **msg);

/* Starts one attempt of a probe action (exec, http, tcp, grpc). user_agent
   is KD_PROBE_USER_AGENT or KD_LIFECYCLE_USER_AGENT; timeout_ms 0 = none
   (exec hooks). http_any_status: every HTTP response counts as success (the
   lifecycle handler checks transport errors only). Returns NULL with
   *errmsg set when the action cannot start (the kubelet's prober error). */
kd_attempt_t *kd_action_start (uv_loop_t *loop, const kd_action_t *a, const char *user_agent,
                               uint64_t timeout_ms, bool http_any_status, kd_attempt_cb cb,
                               void *data, char **errmsg);

/* ---- engines ----------------------------------------------------------- */

typedef struct
{
  const char *url;         /* absolute */
  const char *host_header; /* NULL: none */
  const kd_http_header_t *headers;
  size_t n_headers;
  const char *user_agent;
  bool any_status;
} kd_http_req_t;

kd_attempt_t *kd_http_start (uv_loop_t *loop, const kd_http_req_t *req, uint64_t timeout_ms,
                             kd_attempt_cb cb, void *data);

kd_attempt_t *kd_tcp_start (uv_loop_t *loop, const char *host, int port, uint64_t timeout_ms,
                            kd_attempt_cb cb, void *data);

/* What one `kubeletd-shim exec` run produced. output is stdout followed by
   stderr (the kubelet appends the CRI's two streams), at most 10 KiB. */
typedef struct
{
  const char *spawn_error; /* not NULL: the process could not run */
  bool timed_out;          /* killed at the timeout */
  int exit_code;           /* 128 + signal when killed by one */
  const char *stderr_text;
  const char *output;
} kd_exec_result_t;

typedef void (*kd_exec_cb) (void *data, const kd_exec_result_t *r);

/* Runs `<shim> exec --pod-dir D --id CID -- argv...` in its own process
   group; at the timeout (0 = none) the group is killed. */
kd_attempt_t *kd_exec_run (uv_loop_t *loop, const kd_action_t *a, uint64_t timeout_ms,
                           kd_exec_cb cb, void *data);

/* Joins argv with spaces (strings.Join (cmd, " ")); caller frees. */
char *kd_exec_join (const kd_action_t *a, const char *sep);

kd_attempt_t *kd_grpc_start (uv_loop_t *loop, const char *host, int port, const char *service,
                             const char *user_agent, uint64_t timeout_ms, kd_attempt_cb cb,
                             void *data);

/* ---- Go's spelling ------------------------------------------------------ */

/* Go's time.Duration String for a whole number of milliseconds ("1s",
   "1m30s", "500ms"). */
/* Go's errno text: strerror with a lower-case first letter. */
void kd_go_errno (int errnum, char *buf, size_t size);
/* net.JoinHostPort */
char *kd_join_host_port (const char *host, int port);

#endif
