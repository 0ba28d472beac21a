/* The v1 PodStatus of a pod from the worker's runtime records.

   Follows the kubelet's generateAPIPodStatus:
     1. container statuses (convertToAPIContainerStatuses): every container
        of the spec gets one; without a record it waits with reason
        PodInitializing when the pod has init containers, else
        ContainerCreating; app statuses are sorted by name, init statuses
        keep the spec's order; started/ready as the probe manager sets them
        (a regular init container is ready once it exited 0);
     2. the phase (getPhase; static pods never take the terminal shortcut);
        a terminal phase is never left; the reason and message of an
        unchanged phase are kept; activeDeadlineSeconds makes it Failed
        with DeadlineExceeded;
     3. the conditions in the kubelet's order PodReadyToStartContainers,
        Initialized, Ready, ContainersReady, PodScheduled (status/generate.go),
        lastTransitionTime kept while the condition's status stays (the
        status manager's updateLastTransitionTime);
     4. qosClass, startTime, podIP(s), hostIP(s) (hostNetwork pods get the
        node's addresses as pod IPs). */
#include "kubeletd/podlogic.h"

char *
kd_pod_format (const kd_pod_t *pod)
{
  const char *ns = pod->metadata.namespace_ ? pod->metadata.namespace_ : "default";
  return xasprintf ("%s_%s(%s)", pod->metadata.name ? pod->metadata.name : "", ns,
                    pod->metadata.uid ? pod->metadata.uid : "");
}

const char *
kd_terminated_reason (int32_t exit_code, bool oom_killed, bool start_error)
{
  if (start_error)
    return KD_REASON_START_ERROR;
  if (oom_killed)
    return KD_REASON_OOM_KILLED;
  return exit_code == 0 ? KD_REASON_COMPLETED : KD_REASON_ERROR;
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

static const kd_ctr_record_t *
find_record (const kd_ctr_record_t *v, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (kd_str_eq (v[i].name, name))
      return &v[i];
  return NULL;
}

static void
fill_state (kd_container_state_t *st, const kd_ctr_state_rec_t *r)
{
  switch (r->kind)
    {
    case KD_CTR_RUNNING:
      st->running = xcalloc (1, sizeof (*st->running));
      st->running->started_at = r->started_at;
      break;
    case KD_CTR_TERMINATED:
      st->terminated = xcalloc (1, sizeof (*st->terminated));
      st->terminated->exit_code = r->exit_code;
      st->terminated->signal = r->signal;
      st->terminated->reason
          = xstrdup (r->reason ? r->reason : kd_terminated_reason (r->exit_code, false, false));
      st->terminated->message = dup_or_null (r->message);
      st->terminated->started_at = r->started_at;
      st->terminated->finished_at = r->finished_at;
      st->terminated->container_id = dup_or_null (r->container_id);
      break;
    case KD_CTR_WAITING:
    default:
      st->waiting = xcalloc (1, sizeof (*st->waiting));
      st->waiting->reason = dup_or_null (r->reason);
      st->waiting->message = dup_or_null (r->message);
      break;
    }
}

static void
fill_container_status (kd_container_status_t *cs, const kd_container_t *c, const kd_ctr_record_t *r,
                       bool pod_has_init, bool is_init)
{
  const char *def = pod_has_init ? KD_REASON_POD_INITIALIZING : KD_REASON_CONTAINER_CREATING;
  bool regular_init = is_init && !kd_container_is_sidecar (c);

  cs->name = xstrdup (c->name ? c->name : "");
  cs->image = xstrdup (r && r->image ? r->image : (c->image ? c->image : ""));
  cs->image_id = xstrdup (r && r->image_id ? r->image_id : "");
  cs->started.set = true;
  if (r == NULL)
    {
      cs->state.waiting = xcalloc (1, sizeof (*cs->state.waiting));
      cs->state.waiting->reason = xstrdup (def);
      return;
    }
  cs->container_id = dup_or_null (r->container_id);
  cs->restart_count = r->restart_count;
  if (r->state.kind == KD_CTR_WAITING && r->state.reason == NULL)
    {
      kd_ctr_state_rec_t w = r->state;
      w.reason = (char *) def;
      fill_state (&cs->state, &w);
    }
  else
    fill_state (&cs->state, &r->state);
  if (r->has_last)
    fill_state (&cs->last_state, &r->last_state);

  bool running = r->state.kind == KD_CTR_RUNNING;
  /* probe manager UpdatePodStatus: started only while running; a regular
     init container is ready once it succeeded */
  cs->started.v = running && r->started;
  if (regular_init)
    cs->ready = r->state.kind == KD_CTR_TERMINATED && r->state.exit_code == 0;
  else
    cs->ready = running && r->started && r->ready;
}

static int
cmp_status_name (const void *a, const void *b)
{
  const kd_container_status_t *x = a, *y = b;
  return strcmp (x->name, y->name);
}

static const kd_container_status_t *
find_status (const kd_pod_status_t *st, const char *name)
{
  for (size_t i = 0; i < st->n_container_statuses; i++)
    if (kd_str_eq (st->container_statuses[i].name, name))
      return &st->container_statuses[i];
  for (size_t i = 0; i < st->n_init_container_statuses; i++)
    if (kd_str_eq (st->init_container_statuses[i].name, name))
      return &st->init_container_statuses[i];
  return NULL;
}

const char *
kd_pod_phase (const kd_pod_t *pod, const kd_pod_status_t *st)
{
  const kd_pod_spec_t *spec = &pod->spec;
  const char *policy = spec->restart_policy ? spec->restart_policy : "Always";
  int pending_init = 0, pending_sidecar = 0, failed_init = 0;
  int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  bool has_initialized = false;

  for (size_t i = 0; i < spec->n_init_containers; i++)
    {
      const kd_container_t *c = &spec->init_containers[i];
      const kd_container_status_t *cs = find_status (st, c->name);
      if (kd_container_is_sidecar (c))
        {
          if (cs == NULL)
            unknown++;
          else if (cs->state.running)
            {
              if (!cs->started.set || !cs->started.v)
                pending_sidecar++;
              running++;
            }
          else if (cs->state.terminated)
            ; /* a stopped sidecar does not count for the phase */
          else if (cs->state.waiting)
            {
              if (!cs->last_state.terminated)
                {
                  pending_sidecar++;
                  waiting++;
                }
            }
          else
            {
              pending_sidecar++;
              unknown++;
            }
          continue;
        }
      if (cs == NULL || cs->state.running)
        pending_init++;
      else if (cs->state.terminated)
        {
          if (cs->state.terminated->exit_code != 0)
            failed_init++;
        }
      else if (cs->state.waiting && cs->last_state.terminated)
        {
          if (cs->last_state.terminated->exit_code != 0)
            failed_init++;
        }
      else
        pending_init++;
    }

  for (size_t i = 0; i < spec->n_containers; i++)
    {
      const kd_container_status_t *cs = find_status (st, spec->containers[i].name);
      if (cs == NULL)
        unknown++;
      else if (cs->state.running)
        {
          running++;
          has_initialized = true; /* HasAnyActiveRegularContainerStarted */
        }
      else if (cs->state.terminated)
        {
          stopped++;
          if (cs->state.terminated->exit_code == 0)
            succeeded++;
        }
      else if (cs->state.waiting && cs->last_state.terminated)
        stopped++;
      else if (cs->state.waiting)
        waiting++;
      else
        unknown++;
    }

  if (failed_init > 0 && strcmp (policy, "Never") == 0)
    return "Failed";
  if (pending_init > 0 || (pending_sidecar > 0 && !has_initialized) || waiting > 0)
    return "Pending";
  if (running > 0 && unknown == 0)
    return "Running";
  if (running == 0 && stopped > 0 && unknown == 0)
    {
      if (strcmp (policy, "Always") == 0)
        return "Running"; /* every container is restarting */
      if (stopped == succeeded)
        return "Succeeded";
      if (strcmp (policy, "Never") == 0)
        return "Failed";
      return "Running"; /* OnFailure: the failed ones restart */
    }
  return "Pending";
}

/* Go's %s of a []string: "[a b]". */
static char *
go_list (char **names, size_t n)
{
  kd_buf_t b = { 0 };
  kd_buf_putc (&b, '[');
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        kd_buf_putc (&b, ' ');
      kd_buf_puts (&b, names[i]);
    }
  kd_buf_putc (&b, ']');
  return kd_buf_steal (&b);
}

static void
add_condition (kd_pod_status_t *out, const kd_pod_status_t *prev, int64_t now_ns, const char *type,
               bool status, const char *reason, char *message)
{
  kd_pod_condition_t *c;
  out->conditions = xrealloc (out->conditions, (out->n_conditions + 1) * sizeof (*c));
  c = &out->conditions[out->n_conditions++];
  memset (c, 0, sizeof (*c));
  c->type = xstrdup (type);
  c->status = xstrdup (status ? "True" : "False");
  c->reason = dup_or_null (reason);
  c->message = message; /* owned */
  c->last_transition_time = now_ns;
  for (size_t i = 0; prev && i < prev->n_conditions; i++)
    if (kd_str_eq (prev->conditions[i].type, type)
        && kd_str_eq (prev->conditions[i].status, c->status))
      c->last_transition_time = prev->conditions[i].last_transition_time;
}

static bool
any_regular_started (const kd_pod_t *pod, const kd_pod_status_t *st)
{
  for (size_t i = 0; i < pod->spec.n_containers; i++)
    {
      const kd_container_status_t *cs = find_status (st, pod->spec.containers[i].name);
      if (cs && (cs->state.running || cs->state.terminated))
        return true;
    }
  return false;
}

static void
add_conditions (const kd_pod_t *pod, const kd_pod_record_t *rec, const kd_pod_status_t *prev,
                int64_t now_ns, kd_pod_status_t *out)
{
  const kd_pod_spec_t *spec = &pod->spec;
  bool succeeded = kd_str_eq (out->phase, "Succeeded");
  bool failed = kd_str_eq (out->phase, "Failed");
  size_t n_max = spec->n_init_containers + spec->n_containers;
  cleanup_free char **names = xcalloc (n_max + 1, sizeof (char *));
  size_t n = 0;

  add_condition (out, prev, now_ns, "PodReadyToStartContainers", rec->sandbox_ready, NULL, NULL);

  /* Initialized */
  for (size_t i = 0; i < spec->n_init_containers; i++)
    {
      const kd_container_t *c = &spec->init_containers[i];
      const kd_container_status_t *cs = find_status (out, c->name);
      bool done = kd_container_is_sidecar (c) ? (cs && cs->started.set && cs->started.v)
                                              : (cs && cs->ready);
      if (!done)
        names[n++] = c->name;
    }
  if (succeeded)
    add_condition (out, prev, now_ns, "Initialized", true, "PodCompleted", NULL);
  else if (any_regular_started (pod, out) || n == 0)
    add_condition (out, prev, now_ns, "Initialized", true, NULL, NULL);
  else
    {
      cleanup_free char *l = go_list (names, n);
      add_condition (out, prev, now_ns, "Initialized", false, "ContainersNotInitialized",
                     xasprintf ("containers with incomplete status: %s", l));
    }

  /* ContainersReady, and Ready (a copy of it when not True: no readiness
     gates for static pods) */
  n = 0;
  for (size_t i = 0; i < spec->n_init_containers; i++)
    {
      const kd_container_t *c = &spec->init_containers[i];
      const kd_container_status_t *cs = find_status (out, c->name);
      if (kd_container_is_sidecar (c) && !(cs && cs->ready))
        names[n++] = c->name;
    }
  for (size_t i = 0; i < spec->n_containers; i++)
    {
      const kd_container_status_t *cs = find_status (out, spec->containers[i].name);
      if (!(cs && cs->ready))
        names[n++] = spec->containers[i].name;
    }
  const char *reason = NULL;
  char *msg = NULL;
  bool ready = false;
  if (succeeded)
    reason = "PodCompleted";
  else if (failed)
    reason = "PodFailed";
  else if (n > 0)
    {
      cleanup_free char *l = go_list (names, n);
      reason = "ContainersNotReady";
      msg = xasprintf ("containers with unready status: %s", l);
    }
  else
    ready = true;
  add_condition (out, prev, now_ns, "Ready", ready, reason, msg ? xstrdup (msg) : NULL);
  add_condition (out, prev, now_ns, "ContainersReady", ready, reason, msg);
  add_condition (out, prev, now_ns, "PodScheduled", true, NULL, NULL);
}

static void
copy_ips (kd_pod_ip_t **v, size_t *n, char *const *ips, size_t k)
{
  *v = k ? xcalloc (k, sizeof (**v)) : NULL;
  for (size_t i = 0; i < k; i++)
    (*v)[i].ip = xstrdup (ips[i]);
  *n = k;
}

void
kd_pod_compute_status (const kd_pod_t *pod, const kd_pod_record_t *rec, const kd_pod_status_t *prev,
                       int64_t now_ns, kd_pod_status_t *out)
{
  const kd_pod_spec_t *spec = &pod->spec;
  bool has_init = spec->n_init_containers > 0;

  memset (out, 0, sizeof (*out));

  /* 1. container statuses */
  if (spec->n_init_containers)
    out->init_container_statuses
        = xcalloc (spec->n_init_containers, sizeof (*out->init_container_statuses));
  out->n_init_container_statuses = spec->n_init_containers;
  for (size_t i = 0; i < spec->n_init_containers; i++)
    {
      const kd_container_t *c = &spec->init_containers[i];
      fill_container_status (&out->init_container_statuses[i], c,
                             find_record (rec->init, rec->n_init, c->name), has_init, true);
    }
  if (spec->n_containers)
    out->container_statuses = xcalloc (spec->n_containers, sizeof (*out->container_statuses));
  out->n_container_statuses = spec->n_containers;
  for (size_t i = 0; i < spec->n_containers; i++)
    {
      const kd_container_t *c = &spec->containers[i];
      fill_container_status (&out->container_statuses[i], c,
                             find_record (rec->app, rec->n_app, c->name), has_init, false);
    }
  if (out->n_container_statuses > 1)
    qsort (out->container_statuses, out->n_container_statuses, sizeof (kd_container_status_t),
           cmp_status_name);

  /* 2. phase */
  const char *phase = kd_pod_phase (pod, out);
  const char *prev_phase = prev ? prev->phase : NULL;
  bool prev_terminal = kd_str_eq (prev_phase, "Failed") || kd_str_eq (prev_phase, "Succeeded");
  if (prev_terminal && !kd_str_eq (phase, "Failed") && !kd_str_eq (phase, "Succeeded"))
    phase = prev_phase;
  out->phase = xstrdup (phase);
  if (prev && kd_str_eq (phase, prev_phase))
    {
      out->reason = dup_or_null (prev->reason);
      out->message = dup_or_null (prev->message);
    }
  if (rec->deadline_exceeded)
    {
      free (out->phase);
      free (out->reason);
      free (out->message);
      out->phase = xstrdup ("Failed");
      out->reason = xstrdup (KD_REASON_DEADLINE_EXCEEDED);
      out->message = xstrdup (KD_MSG_DEADLINE_EXCEEDED);
    }

  /* 3. conditions */
  add_conditions (pod, rec, prev, now_ns, out);

  /* 4. the rest */
  out->qos_class = xstrdup (kd_pod_qos_class (pod));
  out->start_time = prev && prev->start_time ? prev->start_time : rec->start_time;
  copy_ips (&out->host_ips, &out->n_host_ips, rec->host_ips, rec->n_host_ips);
  if (rec->n_host_ips)
    out->host_ip = xstrdup (rec->host_ips[0]);
  if (rec->n_pod_ips)
    copy_ips (&out->pod_ips, &out->n_pod_ips, rec->pod_ips, rec->n_pod_ips);
  else if (spec->host_network && rec->n_host_ips)
    copy_ips (&out->pod_ips, &out->n_pod_ips, rec->host_ips,
              rec->n_host_ips > 2 ? 2 : rec->n_host_ips);
  if (out->n_pod_ips)
    out->pod_ip = xstrdup (out->pod_ips[0].ip);
}
