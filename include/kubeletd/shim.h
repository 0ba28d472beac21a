/* shim: the per-pod process that holds the pod's namespaces and is the
 * parent of its containers, and kubeletd's client for it.
 *
 * Why: containers must keep running and logging while kubeletd is stopped,
 * killed or upgraded (containerd's shim and conmon do this). One small shim
 * per pod is the pod sandbox itself (no pause image): it is created in the
 * pod's new network, IPC and UTS namespaces.
 *
 * The shim (`kubeletd-shim`, a small static executable, shim/):
 *   - `kubeletd-shim start --pod-dir DIR [--hostname H] [--new-net]
 *     [--new-ipc] [--new-uts] [--cgroup-procs FILE]... --ready-fd N`
 *     unshares the requested namespaces, sets the hostname, bind-mounts
 *     its namespace handles at DIR/ns/{net,ipc,uts}, joins the pod cgroup,
 *     detaches (double fork, setsid), becomes a child subreaper, writes
 *     DIR/shim.pid, listens on DIR/shim.sock, then writes "ok\n" (or
 *     "error: <message>\n") on the ready fd and closes it.
 *   - `kubeletd-shim exec --pod-dir DIR --id CID [--env K=V]... -- CMD...`
 *     runs CMD inside the running container CID (kd_runtime_exec_enter);
 *     its stdio is the caller's; exit status is CMD's (126/127 for
 *     failures to enter/exec, with the message on stderr).
 *
 * Files under the pod's run directory DIR (<run-dir>/pods/<uid>/):
 *   shim.pid, shim.sock, ns/{net,ipc,uts} (bind-mounted nsfs handles),
 *   containers/<cid>/config.json   the kd_ctr_spec_t (written by kubeletd)
 *   containers/<cid>/state.json    written by the shim, atomically, fsync'ed:
 *     {"id","pid","status":"running"|"exited","startedAt":ns,
 *      "finishedAt":ns,"exitCode":n,"signal":n,"oomKilled":bool,
 *      "error":"start failure message"}
 *   Exits are recorded in state.json BEFORE they are reported.
 *
 * Protocol on shim.sock: one JSON object per line, both ways.
 *   request  {"seq":N,"op":"create","id":CID}   -> {"seq":N,"ok":true,"pid":P,"startedAt":NS}
 *   request  {"seq":N,"op":"kill","id":CID,"signal":S}  -> {"seq":N,"ok":true}
 *   request  {"seq":N,"op":"state"}  -> {"seq":N,"ok":true,"containers":[<state.json>...]}
 *   request  {"seq":N,"op":"delete","id":CID}  (exited only: forgets it) -> {"seq":N,"ok":true}
 *   request  {"seq":N,"op":"shutdown"}  -> SIGKILL to every container, reply, unmount
 *            the ns handles, remove shim.sock and shim.pid, exit 0
 *   failure  {"seq":N,"ok":false,"error":"message"}
 *   event    {"event":"exit", <state.json fields>}   (unsolicited)
 * The shim serves one client at a time; a new connection replaces the old
 * one (kubeletd restarted). Container stdout/stderr go to spec.log_path in
 * CRI format ("2026-11-30T04:15:10.123456789Z stdout F line"), rotated at
 * spec.log_max_size keeping spec.log_max_files; the shim never blocks a
 * container on kubeletd.
 *
 * How kubeletd uses it (this header's client, on the libuv loop):
 *  1. kd_shim_start () spawns the shim for a new pod and, once it is ready,
 *     connects; or kd_shim_connect () reattaches to a running one at start.
 *  2. kd_shim_create / kill / state / delete / shutdown, each with a reply
 *     callback.
 *  3. callbacks.on_exit for every container exit; callbacks.on_lost when
 *     the shim died (socket EOF and the shim's pidfd readable).
 */
#ifndef KUBELETD_SHIM_H
#define KUBELETD_SHIM_H

#include <jansson.h>
#include <uv.h>

#include "kubeletd/util.h"

typedef struct kd_shim kd_shim_t;

typedef struct
{
  char *id;
  pid_t pid;
  bool running;
  int64_t started_ns;
  int64_t finished_ns;
  int exit_code;
  int signal;
  bool oom_killed;
  char *error; /* start failure */
} kd_shim_ctr_state_t;

typedef struct
{
  void (*on_exit) (kd_shim_t *shim, const kd_shim_ctr_state_t *st, void *data);
  void (*on_lost) (kd_shim_t *shim, void *data);
  void *data;
} kd_shim_callbacks_t;

typedef struct
{
  const char *shim_path; /* the kubeletd-shim executable */
  const char *pod_dir;   /* <run-dir>/pods/<uid> */
  const char *hostname;
  bool new_net;              /* false for hostNetwork */
  bool new_ipc;              /* false for hostIPC */
  bool new_uts;              /* false for hostNetwork */
  char *const *cgroup_procs; /* NULL-terminated, may be NULL */
} kd_shim_opts_t;

/* Reply callbacks: err is NULL on success (owned by the caller of the
   callback: do not release). */
typedef void (*kd_shim_ready_cb) (kd_shim_t *shim, const char *err, void *data);
typedef void (*kd_shim_create_cb) (kd_shim_t *shim, pid_t pid, int64_t started_ns, const char *err,
                                   void *data);
typedef void (*kd_shim_done_cb) (kd_shim_t *shim, const char *err, void *data);
typedef void (*kd_shim_state_cb) (kd_shim_t *shim, const kd_shim_ctr_state_t *states, size_t n,
                                  const char *err, void *data);

/* Spawns and connects; ready is called once (shim NULL... never: the
   handle is returned at once and stays valid until kd_shim_free). */
kd_shim_t *kd_shim_start (uv_loop_t *loop, const kd_shim_opts_t *opts,
                          const kd_shim_callbacks_t *cbs, kd_shim_ready_cb ready, void *data);
/* Reattaches to the shim of pod_dir (after a kubeletd restart). */
kd_shim_t *kd_shim_connect (uv_loop_t *loop, const char *pod_dir, const kd_shim_callbacks_t *cbs,
                            kd_shim_ready_cb ready, void *data);
pid_t kd_shim_pid (const kd_shim_t *shim);
const char *kd_shim_pod_dir (const kd_shim_t *shim);

void kd_shim_create (kd_shim_t *shim, const char *cid, kd_shim_create_cb cb, void *data);
void kd_shim_kill (kd_shim_t *shim, const char *cid, int sig, kd_shim_done_cb cb, void *data);
void kd_shim_state (kd_shim_t *shim, kd_shim_state_cb cb, void *data);
void kd_shim_delete (kd_shim_t *shim, const char *cid, kd_shim_done_cb cb, void *data);
void kd_shim_shutdown (kd_shim_t *shim, kd_shim_done_cb cb, void *data);
/* Closes the connection (the shim keeps running) and frees the handle after
   the close callbacks; pending callbacks are called with an error first. */
void kd_shim_free (kd_shim_t *shim);

/* Parses one state.json object (shared by the shim and the client). */
int kd_shim_state_from_json (const json_t *j, kd_shim_ctr_state_t *st, kd_error_t *err) KD_WUR;
json_t *kd_shim_state_to_json (const kd_shim_ctr_state_t *st);
void kd_shim_state_free (kd_shim_ctr_state_t *st);

#endif
