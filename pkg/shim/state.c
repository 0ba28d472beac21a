/* state.json: one container's state as the shim records it and reports it.
 * Compiled into both the shim and libkd, so it uses jansson and util only. */
#include <jansson.h>

#include "kubeletd/shim.h"

json_t *
kd_shim_state_to_json (const kd_shim_ctr_state_t *st)
{
  json_t *j = json_object ();

  json_object_set_new (j, "id", json_string (st->id ? st->id : ""));
  json_object_set_new (j, "pid", json_integer (st->pid));
  json_object_set_new (j, "status", json_string (st->running ? "running" : "exited"));
  json_object_set_new (j, "startedAt", json_integer (st->started_ns));
  json_object_set_new (j, "finishedAt", json_integer (st->finished_ns));
  json_object_set_new (j, "exitCode", json_integer (st->exit_code));
  json_object_set_new (j, "signal", json_integer (st->signal));
  json_object_set_new (j, "oomKilled", json_boolean (st->oom_killed));
  if (st->error)
    json_object_set_new (j, "error", json_string (st->error));
  return j;
}

/* Integers are optional (0 when absent) but must be integers when given. */
static int
get_int (const json_t *j, const char *key, int64_t *out, kd_error_t *err)
{
  json_t *v = json_object_get (j, key);

  *out = 0;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_integer (v))
    return kd_make_error (err, 0, "container state: `%s` is not an integer", key);
  *out = json_integer_value (v);
  return 0;
}

int
kd_shim_state_from_json (const json_t *j, kd_shim_ctr_state_t *st, kd_error_t *err)
{
  const char *id, *status;
  json_t *v;
  int64_t pid, code, sig;

  memset (st, 0, sizeof (*st));
  if (!json_is_object (j))
    return kd_make_error (err, 0, "container state: not an object");
  id = json_string_value (json_object_get (j, "id"));
  if (id == NULL || *id == '\0')
    return kd_make_error (err, 0, "container state: missing `id`");
  status = json_string_value (json_object_get (j, "status"));
  if (status == NULL || (strcmp (status, "running") != 0 && strcmp (status, "exited") != 0))
    return kd_make_error (err, 0, "container state: bad `status`");
  if (get_int (j, "pid", &pid, err) < 0 || get_int (j, "startedAt", &st->started_ns, err) < 0
      || get_int (j, "finishedAt", &st->finished_ns, err) < 0
      || get_int (j, "exitCode", &code, err) < 0 || get_int (j, "signal", &sig, err) < 0)
    return -1;
  v = json_object_get (j, "oomKilled");
  if (v != NULL && !json_is_boolean (v))
    return kd_make_error (err, 0, "container state: `oomKilled` is not a boolean");
  v = json_object_get (j, "error");
  if (v != NULL && !json_is_null (v) && !json_is_string (v))
    return kd_make_error (err, 0, "container state: `error` is not a string");

  st->id = xstrdup (id);
  st->pid = (pid_t) pid;
  st->running = strcmp (status, "running") == 0;
  st->exit_code = (int) code;
  st->signal = (int) sig;
  st->oom_killed = json_is_true (json_object_get (j, "oomKilled"));
  if (json_is_string (v))
    st->error = xstrdup (json_string_value (v));
  return 0;
}

void
kd_shim_state_free (kd_shim_ctr_state_t *st)
{
  if (st == NULL)
    return;
  free (st->id);
  free (st->error);
  st->id = NULL;
  st->error = NULL;
}
