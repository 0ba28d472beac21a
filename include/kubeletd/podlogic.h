/* podlogic: the pure rules a pod worker applies, as the kubelet applies them.
 *
 * Why: the pod worker (a state machine on the loop) decides when to restart,
 * how long to back off, what the API shows and which events to record. Those
 * decisions are Kubernetes semantics with exact texts and numbers; keeping
 * them in pure functions over explicit inputs (times are arguments, never
 * read from a clock) makes them testable to the nanosecond and the byte.
 *
 * What it owns:
 *  - status.c: the runtime view of a pod (kd_pod_record_t) turned into a v1
 *    PodStatus (the kubelet's generateAPIPodStatus, getPhase and
 *    status/generate.go), with transition times kept across calls.
 *  - backoff.c: client-go's flowcontrol.Backoff as the kubelet configures it
 *    for CrashLoopBackOff and for image pulls, and the restart decision.
 *  - events.c: a bounded per-node list of v1 Events with the event
 *    recorder's de-duplication (count, lastTimestamp), for GET /events and
 *    `kubeletctl describe`.
 *  - ctrspec.c: a container's kd_ctr_spec_t (runtime.h) from the pod, the
 *    image config and the paths the worker prepared: argv, env with $(VAR)
 *    expansion and the downward API, user and groups from the image's
 *    /etc/passwd and /etc/group, capabilities, seccomp, mounts in
 *    containerd's order, oom_score_adj.
 *
 * How to use (from the pod worker):
 *  1. Keep one kd_ctr_record_t per container (init, sidecar and app) and a
 *     kd_pod_record_t per pod; after any change call kd_pod_compute_status
 *     with the previous status and `now`, and publish the result.
 *  2. On a container exit: kd_should_restart; if yes, kd_crashloop_check
 *     decides between "restart now" and "wait" (then show CrashLoopBackOff
 *     with kd_crashloop_message and arm a timer for the returned delay).
 *  3. Before a pull: kd_image_backoff_check; after a failed pull
 *     kd_backoff_next.
 *  4. kd_events_record for every kubelet event; kd_events_to_json for
 *     GET /events.
 *  5. kd_ctrspec_build before kd_ctr_spec_save; on failure the container's
 *     waiting reason is the returned reason with err's message.
 */
#ifndef KUBELETD_PODLOGIC_H
#define KUBELETD_PODLOGIC_H

#include <jansson.h>

#include "kubeletd/api.h"
#include "kubeletd/image.h"
#include "kubeletd/runtime.h"
#include "kubeletd/util.h"

/* ---- reasons and messages (the kubelet's texts) ------------------------ */

#define KD_REASON_CONTAINER_CREATING   "ContainerCreating"
#define KD_REASON_POD_INITIALIZING     "PodInitializing"
#define KD_REASON_CRASH_LOOP_BACK_OFF  "CrashLoopBackOff"
#define KD_REASON_ERR_IMAGE_PULL       "ErrImagePull"
#define KD_REASON_IMAGE_PULL_BACK_OFF  "ImagePullBackOff"
#define KD_REASON_INVALID_IMAGE_NAME   "InvalidImageName"
#define KD_REASON_ERR_IMAGE_NEVER_PULL "ErrImageNeverPull"
#define KD_REASON_CREATE_CONFIG_ERROR  "CreateContainerConfigError"
#define KD_REASON_CREATE_ERROR         "CreateContainerError"
#define KD_REASON_COMPLETED            "Completed"
#define KD_REASON_ERROR                "Error"
#define KD_REASON_OOM_KILLED           "OOMKilled"
#define KD_REASON_START_ERROR          "StartError"
#define KD_REASON_DEADLINE_EXCEEDED    "DeadlineExceeded"
/* status.message of a pod failed by activeDeadlineSeconds */
#define KD_MSG_DEADLINE_EXCEEDED "Pod was active on the node longer than the specified deadline"

/* ---- the runtime view of a pod (status.c) ------------------------------ */

typedef enum
{
  KD_CTR_WAITING = 0,
  KD_CTR_RUNNING,
  KD_CTR_TERMINATED,
} kd_ctr_state_kind_t;

typedef struct
{
  kd_ctr_state_kind_t kind;
  /* waiting: the reason and message to show (CrashLoopBackOff, ErrImagePull,
     ...; NULL = the default ContainerCreating/PodInitializing);
     terminated: NULL = "Completed" for exit 0, "Error" otherwise (use
     kd_terminated_reason for OOMKilled and StartError). */
  char *reason;
  char *message;
  int32_t exit_code;
  int32_t signal;
  kd_time_t started_at;
  kd_time_t finished_at;
  char *container_id; /* terminated: the run's "kubeletd://<64 hex>" */
} kd_ctr_state_rec_t;

typedef struct
{
  char *name;
  char *container_id; /* current (or last) run, "kubeletd://<64 hex>"; NULL: never created */
  kd_ctr_state_rec_t state;
  bool has_last; /* last_state holds the previous terminated run */
  kd_ctr_state_rec_t last_state;
  int32_t restart_count;
  bool ready;   /* readiness probe result (true when there is no readiness probe) */
  bool started; /* startup probe passed, or no startup probe */
  char *image;  /* the image as the runtime names it; NULL = the spec's */
  char *image_id;
} kd_ctr_record_t;

typedef struct
{
  bool sandbox_ready; /* the shim runs and the network is set up */
  char **pod_ips;     /* primary first */
  size_t n_pod_ips;
  char **host_ips; /* the node's addresses, primary first */
  size_t n_host_ips;
  kd_time_t start_time; /* when the worker first saw the pod */
  /* records for spec.initContainers (sidecars included) and
     spec.containers, matched by name; a container without a record is
     waiting in its default state */
  kd_ctr_record_t *init;
  size_t n_init;
  kd_ctr_record_t *app;
  size_t n_app;
  bool deadline_exceeded; /* activeDeadlineSeconds passed: the pod fails */
} kd_pod_record_t;

/* The terminated reason containerd gives: "OOMKilled" (the cgroup counted an
   OOM kill), "StartError" (the start failed; exit code 128), "Completed"
   (exit 0) or "Error". */
const char *kd_terminated_reason (int32_t exit_code, bool oom_killed, bool start_error);

/* Fills *out (zeroed first; free with kd_type_free (&kd_type_pod_status,
   out)) from the pod's spec and the records, the kubelet's way. prev (may be
   NULL) is the status published last: its conditions keep their
   lastTransitionTime while their status does not change, a terminal phase
   is never left, startTime is kept once set, and the reason/message of an
   unchanged phase are kept. */
void kd_pod_compute_status (const kd_pod_t *pod, const kd_pod_record_t *rec,
                            const kd_pod_status_t *prev, int64_t now_ns, kd_pod_status_t *out);

/* The kubelet's phase rule alone (getPhase, for a static pod: no terminal
   shortcut) over the container statuses already computed. */
const char *kd_pod_phase (const kd_pod_t *pod, const kd_pod_status_t *st);

/* format.Pod: "web-node1_default(<uid>)". Caller frees. */
char *kd_pod_format (const kd_pod_t *pod);

/* ---- back-off (backoff.c) ----------------------------------------------- */

/* client-go util/flowcontrol.Backoff, one entry per key, without jitter (the
   kubelet uses none):
     Next(t, now):   no entry, or expired (t - lastUpdate > reset) → backoff =
                     initial; else backoff = min(2 * backoff, max);
                     lastUpdate = now.
     InBackOffSince(t, now): entry, not expired at t, and now - t < backoff.
     InBackOffSinceUpdate(t): entry, not expired at t, t - lastUpdate < backoff.
   The kubelet's crash-loop back-off sets reset to a fixed 600 s
   (HasExpiredFunc: "reset after the container ran for 10 minutes"), whatever
   max is; the image pull back-off keeps flowcontrol's 2 * max. */
typedef struct
{
  int64_t initial_ns;
  int64_t max_ns;
  int64_t reset_ns; /* an entry older than this (since its last update) starts over */
} kd_backoff_cfg_t;

typedef struct
{
  bool set;
  int64_t backoff_ns;
  int64_t last_update_ns;
} kd_backoff_t;

#define KD_CRASHLOOP_INITIAL_NS     (10LL * 1000000000LL)
#define KD_CRASHLOOP_MAX_NS         (300LL * 1000000000LL)
#define KD_CRASHLOOP_RESET_NS       (600LL * 1000000000LL)
#define KD_IMAGE_BACKOFF_INITIAL_NS (10LL * 1000000000LL)
#define KD_IMAGE_BACKOFF_MAX_NS     (300LL * 1000000000LL)

/* --crashloop-backoff-initial/max (<= 0: the defaults); reset 600 s. */
kd_backoff_cfg_t kd_backoff_crashloop_cfg (int64_t initial_ns, int64_t max_ns);
/* 10 s doubling to 300 s, reset after 2 * max. */
kd_backoff_cfg_t kd_backoff_image_cfg (void);

void kd_backoff_next (const kd_backoff_cfg_t *cfg, kd_backoff_t *b, int64_t event_ns,
                      int64_t now_ns);
bool kd_backoff_in_backoff_since (const kd_backoff_cfg_t *cfg, const kd_backoff_t *b,
                                  int64_t event_ns, int64_t now_ns);
bool kd_backoff_in_backoff_since_update (const kd_backoff_cfg_t *cfg, const kd_backoff_t *b,
                                         int64_t event_ns);
/* Backoff.GC for one entry: forgets it when now - lastUpdate > reset.
   Returns true when it was forgotten. */
bool kd_backoff_gc (const kd_backoff_cfg_t *cfg, kd_backoff_t *b, int64_t now_ns);

/* The kubelet's doBackOff for a container that exited at finished_ns and
   should restart. Returns true when the restart must wait: *wait_ns is the
   time left (finished + backoff - now) and *shown_ns the back-off shown in
   the CrashLoopBackOff message. Returns false when it restarts now (the
   first restart, or the back-off has passed): the entry has moved on
   (Next at now). */
bool kd_crashloop_check (const kd_backoff_cfg_t *cfg, kd_backoff_t *b, int64_t finished_ns,
                         int64_t now_ns, int64_t *wait_ns, int64_t *shown_ns);

/* Before pulling: true (ImagePullBackOff) while the last failed pull's
   back-off runs; *wait_ns is the time left. After a failed pull call
   kd_backoff_next (cfg, b, now, now); after a success kd_backoff_gc. */
bool kd_image_backoff_check (const kd_backoff_cfg_t *cfg, const kd_backoff_t *b, int64_t now_ns,
                             int64_t *wait_ns);

/* "back-off 20s restarting failed container=web pod=web-node1_default(<uid>)"
   (the CrashLoopBackOff waiting message; Go's duration spelling). */
char *kd_crashloop_message (int64_t backoff_ns, const char *container, const kd_pod_t *pod);

/* Whether a container that exited with exit_code is started again.
   pod_policy is spec.restartPolicy ("Always" when NULL). Sidecars (init
   containers with restartPolicy Always) always restart; an init container
   that succeeded never runs again; otherwise Always: yes, OnFailure: when
   exit_code != 0, Never: no. */
bool kd_should_restart (const char *pod_policy, int32_t exit_code, bool is_init, bool is_sidecar);

/* An init container with restartPolicy: Always. */
bool kd_container_is_sidecar (const kd_container_t *c);

/* ---- events (events.c) ---------------------------------------------------- */

#define KD_EVENT_NORMAL  "Normal"
#define KD_EVENT_WARNING "Warning"

/* The kubelet's event reasons. */
#define KD_EV_PULLING           "Pulling"
#define KD_EV_PULLED            "Pulled"
#define KD_EV_CREATED           "Created"
#define KD_EV_STARTED           "Started"
#define KD_EV_KILLING           "Killing"
#define KD_EV_UNHEALTHY         "Unhealthy"
#define KD_EV_BACKOFF           "BackOff"
#define KD_EV_FAILED            "Failed"
#define KD_EV_INSPECT_FAILED    "InspectFailed"
#define KD_EV_ERR_IMAGE_NEVER   "ErrImageNeverPull"
#define KD_EV_FAILED_MOUNT      "FailedMount"
#define KD_EV_FAILED_SANDBOX    "FailedCreatePodSandBox"
#define KD_EV_SANDBOX_CHANGED   "SandboxChanged"
#define KD_EV_PREEMPTING        "Preempting"
#define KD_EV_EXCEEDED_GRACE    "ExceededGracePeriod"
#define KD_EV_FAILED_POSTSTART  "FailedPostStartHook"
#define KD_EV_FAILED_PRESTOP    "FailedPreStopHook"
#define KD_EV_DEADLINE_EXCEEDED "DeadlineExceeded"

/* The kubelet's message formats (printf). */
#define KD_EVMSG_PULLING         "Pulling image \"%s\""
#define KD_EVMSG_ALREADY_PRESENT "Container image \"%s\" already present on machine"
#define KD_EVMSG_PULL_FAILED     "Failed to pull image \"%s\": %s"
#define KD_EVMSG_PULL_BACKOFF    "Back-off pulling image \"%s\""
#define KD_EVMSG_NEVER_PULL      "Container image \"%s\" is not present with pull policy of Never"
#define KD_EVMSG_CREATED         "Created container: %s"
#define KD_EVMSG_STARTED         "Started container %s"
#define KD_EVMSG_STOPPING        "Stopping container %s"
#define KD_EVMSG_ERROR           "Error: %s"
#define KD_EVMSG_CRASH_BACKOFF   "Back-off restarting failed container %s in pod %s"
#define KD_EVMSG_PROBE_FAILED    "%s probe failed: %s" /* "Liveness", "Readiness", "Startup" */
#define KD_EVMSG_PROBE_RESTART   "Container %s failed %s probe, will be restarted"
#define KD_EVMSG_SANDBOX_CHANGED "Pod sandbox changed, it will be killed and re-created."

/* `Successfully pulled image "busybox" in 1.2s (1.5s including waiting).
   Image size: 1234 bytes.` (durations truncated to milliseconds). */
char *kd_event_pulled_message (const char *image, int64_t pull_ns, int64_t total_ns, int64_t size);

typedef struct
{
  char *name; /* "<pod>.<hex of the first timestamp in ns>" */
  char *namespace_;
  char *pod_name;
  char *pod_uid;
  char *field_path; /* "spec.containers{web}", "spec.initContainers{init}"; NULL: the pod */
  char *type;       /* Normal | Warning */
  char *reason;
  char *message;
  int32_t count;
  kd_time_t first_timestamp;
  kd_time_t last_timestamp;
  uint64_t seq; /* order of the last occurrence */
} kd_event_t;

typedef struct kd_events kd_events_t;

/* cap: events kept (the oldest by last occurrence goes first); 0 = 1000. */
kd_events_t *kd_events_new (const char *node_name, size_t cap);
void kd_events_free (kd_events_t *ev);

/* Records an event about pod (container: a container name of the pod, or
   NULL for the pod itself). The same object, type, reason and message as
   a kept event makes that one count again (count++, lastTimestamp = now).
   Returns the event (valid until the next record). */
const kd_event_t *kd_events_record (kd_events_t *ev, const kd_pod_t *pod, const char *container,
                                    const char *type, const char *reason, int64_t now_ns,
                                    const char *fmt, ...) KD_PRINTF (7, 8);
size_t kd_events_count (const kd_events_t *ev);
/* The events of one pod (by uid), oldest first; *out is allocated (free it,
   not the events). */
size_t kd_events_for_pod (const kd_events_t *ev, const char *uid, const kd_event_t ***out);
/* One v1 Event object. */
json_t *kd_event_to_json (const kd_events_t *ev, const kd_event_t *e);
/* A v1 EventList of every event (or of one namespace when ns is not NULL),
   oldest first. */
json_t *kd_events_to_json (const kd_events_t *ev, const char *ns);

/* ---- the container spec (ctrspec.c) --------------------------------------- */

typedef struct
{
  const char *name;      /* the pod volume's name */
  const char *host_path; /* where it is on the node (a tmpfs mount for medium Memory) */
  bool is_tmpfs;
} kd_volume_path_t;

typedef struct
{
  const kd_pod_t *pod;
  const kd_container_t *ctr;
  bool is_init;
  const char *id; /* 64 hex */
  const kd_image_config_t *image;
  char *const *lowerdirs; /* top first; their /etc/passwd and /etc/group name users */
  size_t n_lowerdirs;
  /* paths prepared by the worker */
  const char *rootfs;
  const char *upperdir;
  const char *workdir;
  const char *log_path;
  int64_t log_max_size;
  int log_max_files;
  const char *hostname;        /* the pod's host name (HOSTNAME; /etc/hostname's content) */
  const char *hosts_file;      /* NULL: no /etc/hosts mount */
  const char *hostname_file;   /* NULL: none */
  const char *resolv_file;     /* NULL: none */
  const char *shm_dir;         /* NULL: none */
  const char *termination_log; /* host file for terminationMessagePath; NULL: none */
  const kd_volume_path_t *volumes;
  size_t n_volumes;
  char *const *cgroup_procs;
  size_t n_cgroup_procs;
  const char *oom_file;
  /* node facts */
  const char *node_name;
  char *const *pod_ips;
  size_t n_pod_ips;
  char *const *host_ips;
  size_t n_host_ips;
  int64_t node_cpu_millis; /* allocatable, for resourceFieldRef without a limit */
  int64_t node_memory;
  int64_t node_ephemeral_storage;
  /* config */
  bool seccomp_default;    /* --seccomp-default */
  const char *seccomp_dir; /* <root-dir>/seccomp */
} kd_ctrspec_input_t;

/* Builds the spec. On failure returns negative, err holds the message and
   *reason the waiting reason: "CreateContainerConfigError" for what the
   kubelet refuses (bad env reference, runAsNonRoot, a missing volume, a bad
   subPath) or "CreateContainerError" for what the runtime refuses (a user or
   group the image does not know, a missing Localhost seccomp profile, an
   unknown capability). */
int kd_ctrspec_build (const kd_ctrspec_input_t *in, kd_ctr_spec_t *out, const char **reason,
                      kd_error_t *err) KD_WUR;

/* expansion.Expand with the kubelet's mapping: $(VAR) from the n "K=V"
   entries of env (the last one of a name wins), $$ → $, anything unknown or
   incomplete kept as written. Caller frees. */
char *kd_expand_vars (const char *in, char *const *env, size_t n_env);

#endif
