/* Private to the pod manager and worker (manager.c, worker.c, sandbox_up.c,
   containers.c, probes_glue.c, checkpoint.c, routes.c).

   Lifetime: a worker is referenced by every asynchronous operation in
   flight (shim requests, CNI calls, image ensures, hooks); w_ref/w_unref
   count them, and the worker's memory goes when it is finished (w->gone)
   and the last reference and the last handle close are back. Callbacks
   check w->gone (and a container's run generation) before acting. */
#ifndef KUBELETD_WORKER_INTERNAL_H
#define KUBELETD_WORKER_INTERNAL_H

#include "kubeletd/cgroup.h"
#include "kubeletd/cni.h"
#include "kubeletd/podmgr.h"
#include "kubeletd/probe.h"
#include "kubeletd/sandbox.h"
#include "kubeletd/shim.h"

#define KD_MIN_GRACE_S          2
#define KD_STOP_SAFETY_MS       10000 /* after SIGKILL: give up waiting for the exit */
#define KD_SANDBOX_RETRY_MS     2000
#define KD_SANDBOX_RETRY_MAX_MS 30000

typedef struct kd_pod_worker kd_pod_worker_t;

typedef enum
{
  C_IDLE = 0, /* not running; step () starts it when its turn comes */
  C_BACKOFF,  /* a timer restarts it (CrashLoopBackOff, ImagePullBackOff, create errors) */
  C_PULLING,  /* image ensure in flight */
  C_CREATING, /* shim create in flight */
  C_RUNNING,  /* running (postStart may still run) */
  C_DONE,     /* exited and will not run again */
} kd_ctr_phase_t;

typedef enum
{
  T_NONE,
  T_RESTART,     /* back-off over: start again */
  T_PULL_RETRY,  /* image back-off over: show ImagePullBackOff then retry */
  T_KILL,        /* grace over: SIGKILL */
  T_KILL_SAFETY, /* SIGKILL sent long ago: consider it gone */
} kd_ctr_timer_t;

typedef struct
{
  kd_pod_worker_t *w;
  const kd_container_t *spec; /* into w->pod */
  bool is_init;
  bool is_sidecar;
  size_t index;
  kd_ctr_record_t *rec; /* into w->rec */
  kd_ctr_phase_t phase;
  uint64_t gen; /* bumped at every run; stale callbacks compare */
  char *cid;    /* the current (or last) run's 64 hex */
  kd_cgroup_t *cg;
  kd_image_t *img; /* used (+1) while a run exists */
  kd_backoff_t backoff;
  kd_backoff_t img_backoff;
  bool ever_started;
  bool succeeded; /* regular init container exited 0 */
  bool poststart_done;
  /* stop */
  bool stopping;    /* a kill is in progress for this run */
  bool no_restart;  /* the pod is stopping or terminal: this exit is final */
  int64_t grace_ms; /* for the current stop */
  kd_hook_t *hook;
  void *hook_op; /* the hook's callback data (freed on cancel) */
  uint64_t hook_gen;
  /* timer */
  uv_timer_t timer;
  bool timer_init;
  kd_ctr_timer_t timer_kind;
  /* probes */
  kd_prober_t *startup;
  kd_prober_t *liveness;
  kd_prober_t *readiness;
  void *pctx[3];            /* the probers' callback contexts, by kd_probe_kind_t */
  kd_probe_target_t target; /* filled while running */
  char *probe_ip;
  char *full_name; /* format.Pod, for hook messages */
} kd_ctr_t;

typedef enum
{
  W_WAITING,  /* a predecessor with the same name is still stopping */
  W_SANDBOX,  /* setting the sandbox up */
  W_RUNNING,  /* the sandbox is up: containers run */
  W_STOPPING, /* containers stopping, then teardown */
  W_TEARDOWN, /* sandbox teardown in flight */
  W_STOPPED,
} kd_worker_state_t;

struct kd_pod_worker
{
  kd_podmgr_t *m;
  kd_pod_worker_t *next;
  kd_pod_worker_t *waiting_for; /* W_WAITING: the predecessor */
  kd_pod_t *pod;                /* owned copy */
  char *uid;
  char *ns;
  char *name;
  kd_worker_state_t state;
  int refs;
  bool gone;     /* freed once refs and handles are back */
  bool detached; /* kubeletd stops, the pod keeps running */
  bool terminal; /* Succeeded or Failed: containers stay stopped */
  bool in_step;

  kd_pod_record_t rec;
  kd_pod_status_t status; /* published last */
  bool has_status;

  kd_ctr_t *ctrs; /* init containers first, then app containers */
  size_t n_ctrs;
  size_t n_init;

  /* sandbox */
  char *run_dir;  /* <run-dir>/pods/<uid> */
  char *root_dir; /* <root-dir>/pods/<uid> */
  char *cg_path;
  kd_shim_t *shim;
  uint64_t shim_gen;
  kd_cgroup_t *pod_cg;
  kd_sandbox_volume_t *vols;
  size_t n_vols;
  bool ports_reserved;
  bool shm_mounted;
  bool net_attached;
  bool sandbox_op; /* a setup or teardown step is in flight */
  int64_t sandbox_retry_ms;
  bool sandbox_changed; /* the shim died: SandboxChanged when it is back */

  /* timers */
  uv_timer_t deadline;
  bool deadline_init;
  uv_timer_t retry; /* sandbox retry */
  bool retry_init;
  int handles; /* open timers (closing ones included) */
  /* checkpoint.c: changes are written at most every
     KD_CHECKPOINT_INTERVAL_MS per pod, off the call that made them */
  uv_timer_t ckpt_timer;
  bool ckpt_timer_init;
  bool ckpt_dirty;
  uint64_t ckpt_written_ms; /* uv_now of the last write */

  /* metrics (kubelet_pod_start_duration_seconds, ..._worker_duration_) */
  uint64_t first_seen_hr; /* uv_hrtime () when the worker was made */
  bool start_observed;    /* every container ran once: observed */
  bool synced;            /* a step ran: "sync" instead of "create" */
};

struct kd_podmgr
{
  uv_loop_t *loop;
  kd_pod_store_t *store;
  kd_image_service_t *images;
  const kd_config_t *cfg;
  char *shim_path;
  char *bridge;
  char *host_ip;
  kd_events_t *events;
  kd_cni_t *cni;
  kd_cni_net_t *net;
  kd_cgroup_layout_t *cgl;
  kd_sandbox_ports_t *ports;
  kd_backoff_cfg_t crash_cfg;
  kd_backoff_cfg_t image_cfg;
  kd_pod_worker_t *workers;
  bool shutting_down;
  bool stop_pods;
  int orphans; /* teardowns of pods nobody wants, in flight */
};

/* manager.c */
void kd_w_ref (kd_pod_worker_t *w);
void kd_w_unref (kd_pod_worker_t *w);
/* The worker has stopped and torn everything down. */
void kd_w_stopped (kd_pod_worker_t *w);
const char *kd_w_pull_policy (const kd_container_t *c);

/* worker.c */
kd_pod_worker_t *kd_w_new (kd_podmgr_t *m, const kd_pod_t *pod);
void kd_w_start (kd_pod_worker_t *w);
void kd_w_arm_deadline (kd_pod_worker_t *w);
void kd_w_step (kd_pod_worker_t *w);
void kd_w_publish (kd_pod_worker_t *w);
void kd_w_stop (kd_pod_worker_t *w);
void kd_w_stop_progress (kd_pod_worker_t *w);
void kd_w_detach (kd_pod_worker_t *w);
void kd_w_event (kd_pod_worker_t *w, kd_ctr_t *c, const char *type, const char *reason,
                 const char *fmt, ...) KD_PRINTF (5, 6);
kd_ctr_t *kd_w_find_cid (kd_pod_worker_t *w, const char *cid);
void kd_w_close_timer (kd_pod_worker_t *w, uv_timer_t *t, bool *init);
int64_t kd_w_pod_grace_ms (const kd_pod_worker_t *w);
void kd_w_shim_lost (kd_pod_worker_t *w);

/* sandbox_gc.c: after recovery, the network state of pods that no longer
   exist (cached attachments, IPAM reservations, masquerade chains) is
   released; every worker's pod counts as live. */
void kd_sandbox_gc (kd_podmgr_t *m);
/* The per-plugin CNI timeout: KUBELETD_CNI_TIMEOUT (a duration such as
   "2s" or milliseconds), else 0 for the default. */
int64_t kd_sandbox_cni_timeout_env (void);

/* sandbox_up.c */
void kd_sandbox_up (kd_pod_worker_t *w);
/* Reverse of kd_sandbox_up; calls kd_w_stopped at the end (or done). */
void kd_sandbox_down (kd_pod_worker_t *w, bool then_up);
void kd_sandbox_shim_callbacks (kd_shim_callbacks_t *cbs, kd_pod_worker_t *w);
int kd_sandbox_paths_rebuild (kd_pod_worker_t *w, kd_error_t *err);

/* containers.c */
void kd_ctr_start (kd_ctr_t *c);
void kd_ctr_stop (kd_ctr_t *c, int64_t grace_ms, const char *reason_msg);
void kd_ctr_on_exit (kd_ctr_t *c, const kd_shim_ctr_state_t *st);
void kd_ctr_lost (kd_ctr_t *c, int exit_code, const char *reason, const char *message);
void kd_ctr_release (kd_ctr_t *c);      /* handles, probers, hook, image */
bool kd_ctr_active (const kd_ctr_t *c); /* a run exists or is being made */
void kd_ctr_set_timer (kd_ctr_t *c, kd_ctr_timer_t kind, int64_t ms);
void kd_ctr_adopt (kd_ctr_t *c, const kd_shim_ctr_state_t *st);
void kd_ctr_hook_cancel (kd_ctr_t *c);

/* An asynchronous operation of one run: holds a worker reference; the
   callback's kd_op_end frees it and says whether the run is still the
   same (else NULL). */
typedef struct
{
  kd_ctr_t *c;
  uint64_t gen;
  int64_t t0;
  bool pulling;
} op_t;
op_t *kd_op_new (kd_ctr_t *c);
kd_ctr_t *kd_op_end (op_t *o);
void kd_ctr_waiting (kd_ctr_t *c, const char *reason, const char *message);
/* Creates the run once the image is there (c->img). */
void kd_ctr_create (kd_ctr_t *c);
/* The normalized reference ("docker.io/library/busybox:1.35"). */
char *kd_ctr_image_name (const char *image);

/* probes_glue.c */
void kd_probes_on_started (kd_ctr_t *c);
void kd_probes_stop (kd_ctr_t *c);
void kd_poststart_run (kd_ctr_t *c);

/* checkpoint.c */
/* Marks the checkpoint dirty; it is written on a later loop turn. */
void kd_checkpoint_save (kd_pod_worker_t *w);
/* Writes a pending checkpoint now (kubeletd leaves the pod running). */
void kd_checkpoint_flush (kd_pod_worker_t *w);
/* Drops a pending write and closes the timer (the pod is gone). */
void kd_checkpoint_discard (kd_pod_worker_t *w);
/* Loads the checkpoint into w's records (names matched); false if none. */
bool kd_checkpoint_load (kd_pod_worker_t *w);
/* For a pod nobody wants: what teardown needs. */
typedef struct
{
  char *uid;
  char *ns;
  char *name;
  char *cg_path;
  kd_strv_t cids;
} kd_checkpoint_info_t;
int kd_checkpoint_read_info (const char *root_dir, const char *uid, kd_checkpoint_info_t *info);
void kd_checkpoint_info_free (kd_checkpoint_info_t *info);

/* manager.c: recovery of pods nobody wants any more */
void kd_orphan_teardown (kd_podmgr_t *m, const char *uid, bool alive);

#endif
