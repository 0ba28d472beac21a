/* Private to pkg/cli: the containers `ps` lists and the filters that pick
 * them (ps.c builds the rows, ps_filter.c matches them).
 *
 * A row is one container status that has a containerID (a container that
 * exists or existed: crictl ps -a lists no other). Its state, in docker's
 * words:
 *   running     state.running                           "Up 5 minutes"
 *   restarting  state.waiting after a run (back-off)    "Restarting (1) 3 seconds ago"
 *   exited      state.terminated                        "Exited (0) 2 hours ago"
 *   created     state.waiting, never run                "Created"
 * Docker counts a restarting container as running, so plain `ps` lists the
 * running and the restarting ones.
 */
#ifndef KUBELETD_CLI_PS_INTERNAL_H
#define KUBELETD_CLI_PS_INTERNAL_H

#include <jansson.h>

#include "kubeletd/cli.h"

typedef enum
{
  KD_PS_CREATED,
  KD_PS_RUNNING,
  KD_PS_RESTARTING,
  KD_PS_EXITED,
} kd_ps_state_t;

typedef struct
{
  const json_t *pod;    /* the v1 Pod */
  const json_t *spec;   /* the container's spec */
  const json_t *status; /* its status */
  const char *id;       /* the bare hex ID (containerID without "kubeletd://") */
  kd_ps_state_t state;
  int64_t exit_code; /* of the last run, for exited and restarting */
  int64_t created_ns;
  size_t order; /* pod order, then init containers, then containers */
} kd_ps_row_t;

bool kd_ps_filter_match (const kd_ps_filter_t *f, const kd_ps_row_t *row);
/* docker: a status filter lists stopped containers without -a. */
bool kd_ps_filter_implies_all (const kd_ps_filter_t *f);

#endif
