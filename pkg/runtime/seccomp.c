/* seccomp: Docker's default profile (seccomp_table.c) and Localhost
 * profiles in the OCI/Docker JSON format, compiled with libseccomp in the
 * parent and loaded by the child as (nearly) the last step before execve. */
#include <jansson.h>
#include <sys/utsname.h>

#include "runtime-internal.h"

static bool
in_list (const char *csv, const char *word)
{
  size_t n = strlen (word);
  for (const char *p = csv; p != NULL && *p != '\0';)
    {
      const char *end = strchrnul (p, ',');
      if ((size_t) (end - p) == n && strncmp (p, word, n) == 0)
        return true;
      p = *end == ',' ? end + 1 : end;
    }
  return false;
}

/* "4.8" <= the running kernel? */
static bool
kernel_at_least (const char *version)
{
  struct utsname u;
  int maj = 0, min = 0, kmaj = 0, kmin = 0;

  if (version == NULL)
    return true;
  if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &kmaj, &kmin) != 2
      || sscanf (version, "%d.%d", &maj, &min) < 1)
    return true;
  return kmaj > maj || (kmaj == maj && kmin >= min);
}

static int
add_arch (scmp_filter_ctx ctx, uint32_t arch, kd_error_t *err)
{
  int r = seccomp_arch_add (ctx, arch);
  if (r < 0 && r != -EEXIST)
    return kd_make_error (err, -r, "seccomp: seccomp_arch_add `%#x`", arch);
  return 0;
}

static enum scmp_compare
scmp_op (kd_sc_op_t op)
{
  switch (op)
    {
    case KD_SC_NE:
      return SCMP_CMP_NE;
    case KD_SC_LT:
      return SCMP_CMP_LT;
    case KD_SC_LE:
      return SCMP_CMP_LE;
    case KD_SC_EQ:
      return SCMP_CMP_EQ;
    case KD_SC_GE:
      return SCMP_CMP_GE;
    case KD_SC_GT:
      return SCMP_CMP_GT;
    case KD_SC_MASKED_EQ:
      return SCMP_CMP_MASKED_EQ;
    }
  abort ();
}

/* One syscall name with its conditions. Names this architecture does not
   have are skipped (the profiles list every architecture's names). */
static int
add_rule (scmp_filter_ctx ctx, uint32_t default_action, const char *name, uint32_t action,
          const kd_sc_arg_t *args, size_t n_args, kd_error_t *err)
{
  struct scmp_arg_cmp cmp[6];
  int nr = seccomp_syscall_resolve_name (name);
  int r;

  if (nr == __NR_SCMP_ERROR)
    return 0;
  if (action == default_action)
    return 0;
  if (n_args > KD_ARRAY_SIZE (cmp))
    return kd_make_error (err, EINVAL, "seccomp: rule `%s`: too many args", name);
  for (size_t i = 0; i < n_args; i++)
    {
      cmp[i].arg = args[i].index;
      cmp[i].op = scmp_op (args[i].op);
      cmp[i].datum_a = args[i].value;
      cmp[i].datum_b = args[i].value_two;
    }
  r = seccomp_rule_add_array (ctx, action, nr, (unsigned) n_args, cmp);
  if (r < 0)
    return kd_make_error (err, -r, "seccomp: seccomp_rule_add `%s`", name);
  return 0;
}

static int
build_default (const kd_ctr_spec_t *spec, scmp_filter_ctx *out, kd_error_t *err)
{
  const uint32_t def = SCMP_ACT_ERRNO (EPERM);
  const char *arch = kd_go_arch ();
  scmp_filter_ctx ctx = seccomp_init (def);

  if (ctx == NULL)
    return kd_make_error (err, ENOMEM, "seccomp: seccomp_init");
    /* The profile's archMap: the native architecture and its compat ones. */
#if defined(__x86_64__)
  if (add_arch (ctx, SCMP_ARCH_X86, err) < 0 || add_arch (ctx, SCMP_ARCH_X32, err) < 0)
    goto fail;
#elif defined(__aarch64__)
  if (add_arch (ctx, SCMP_ARCH_ARM, err) < 0)
    goto fail;
#elif defined(__s390x__)
  if (add_arch (ctx, SCMP_ARCH_S390, err) < 0)
    goto fail;
#endif
  for (size_t i = 0; i < kd_seccomp_default_n_rules; i++)
    {
      const kd_seccomp_rule_t *r = &kd_seccomp_default_rules[i];
      uint32_t action
          = r->action == KD_SC_ALLOW ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO ((uint32_t) r->errno_ret);

      /* Docker enables the capability groups from the bounding set. */
      if ((spec->cap_bounding & r->caps_required) != r->caps_required)
        continue;
      if (spec->cap_bounding & r->caps_excluding)
        continue;
      if (r->arches != NULL && !in_list (r->arches, arch))
        continue;
      if (r->not_arches != NULL && in_list (r->not_arches, arch))
        continue;
      if (!kernel_at_least (r->min_kernel))
        continue;
      for (const char *const *n = r->names; *n != NULL; n++)
        if (add_rule (ctx, def, *n, action, r->args, r->n_args, err) < 0)
          goto fail;
    }
  *out = ctx;
  return 0;
fail:
  seccomp_release (ctx);
  return -1;
}

/* ---- Localhost profiles (OCI / Docker JSON) -------------------------- */

static int
parse_action (const char *s, json_t *errno_ret, uint32_t *out)
{
  uint32_t e = json_is_integer (errno_ret) ? (uint32_t) json_integer_value (errno_ret) : EPERM;

  if (s == NULL)
    return -1;
  if (strcmp (s, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp (s, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO (e);
  else if (strcmp (s, "SCMP_ACT_KILL") == 0 || strcmp (s, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp (s, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp (s, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (strcmp (s, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE (e);
  else if (strcmp (s, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else
    return -1;
  return 0;
}

static const struct
{
  const char *name;
  kd_sc_op_t op;
} op_names[] = {
  { "SCMP_CMP_NE", KD_SC_NE },
  { "SCMP_CMP_LT", KD_SC_LT },
  { "SCMP_CMP_LE", KD_SC_LE },
  { "SCMP_CMP_EQ", KD_SC_EQ },
  { "SCMP_CMP_GE", KD_SC_GE },
  { "SCMP_CMP_GT", KD_SC_GT },
  { "SCMP_CMP_MASKED_EQ", KD_SC_MASKED_EQ },
};

static const struct
{
  const char *name;
  uint32_t arch;
} arch_names[] = {
  { "SCMP_ARCH_X86", SCMP_ARCH_X86 },         { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
  { "SCMP_ARCH_X32", SCMP_ARCH_X32 },         { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
  { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 }, { "SCMP_ARCH_S390", SCMP_ARCH_S390 },
  { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },     { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
  { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
};

static int
localhost_arches (scmp_filter_ctx ctx, json_t *prof, kd_error_t *err)
{
  json_t *a = json_object_get (prof, "architectures"), *v;
  size_t i;

  json_array_foreach (a, i, v)
  {
    const char *s = json_string_value (v);
    size_t k;
    for (k = 0; k < KD_ARRAY_SIZE (arch_names); k++)
      if (s != NULL && strcmp (s, arch_names[k].name) == 0)
        break;
    if (k == KD_ARRAY_SIZE (arch_names))
      return kd_make_error (err, EINVAL, "architectures[%zu]: unknown `%s`", i, s ? s : "?");
    /* Architectures other than ours that libseccomp cannot combine are
       irrelevant to a process of ours: skip them rather than fail. */
    if (seccomp_arch_add (ctx, arch_names[k].arch) < 0)
      continue;
  }
  return 0;
}

static int
localhost_rule (scmp_filter_ctx ctx, uint32_t def, json_t *sc, size_t idx, kd_error_t *err)
{
  json_t *names = json_object_get (sc, "names"), *args = json_object_get (sc, "args"), *v;
  json_t *one = json_object_get (sc, "name");
  kd_sc_arg_t cmp[6];
  size_t n_args = 0, i;
  uint32_t action;

  if (parse_action (json_string_value (json_object_get (sc, "action")),
                    json_object_get (sc, "errnoRet"), &action)
      < 0)
    return kd_make_error (err, EINVAL, "syscalls[%zu]: bad action", idx);
  json_array_foreach (args, i, v)
  {
    const char *op = json_string_value (json_object_get (v, "op"));
    size_t k;

    if (n_args == KD_ARRAY_SIZE (cmp))
      return kd_make_error (err, EINVAL, "syscalls[%zu]: too many args", idx);
    for (k = 0; k < KD_ARRAY_SIZE (op_names); k++)
      if (op != NULL && strcmp (op, op_names[k].name) == 0)
        break;
    if (k == KD_ARRAY_SIZE (op_names))
      return kd_make_error (err, EINVAL, "syscalls[%zu].args[%zu]: bad op `%s`", idx, i,
                            op ? op : "");
    cmp[n_args].index = (unsigned) json_integer_value (json_object_get (v, "index"));
    cmp[n_args].value = (uint64_t) json_integer_value (json_object_get (v, "value"));
    cmp[n_args].value_two = (uint64_t) json_integer_value (json_object_get (v, "valueTwo"));
    cmp[n_args].op = op_names[k].op;
    if (cmp[n_args].index > 5)
      return kd_make_error (err, EINVAL, "syscalls[%zu].args[%zu]: bad index", idx, i);
    n_args++;
  }
  if (json_is_string (one)
      && add_rule (ctx, def, json_string_value (one), action, cmp, n_args, err) < 0)
    return -1;
  json_array_foreach (names, i, v)
  {
    if (!json_is_string (v))
      return kd_make_error (err, EINVAL, "syscalls[%zu].names[%zu]: not a string", idx, i);
    if (add_rule (ctx, def, json_string_value (v), action, cmp, n_args, err) < 0)
      return -1;
  }
  return 0;
}

static int
build_localhost (const char *path, scmp_filter_ctx *out, kd_error_t *err)
{
  json_error_t jerr;
  json_t *prof, *sc;
  scmp_filter_ctx ctx = NULL;
  uint32_t def;
  size_t i;

  if (path == NULL)
    return kd_make_error (err, EINVAL, "seccomp: Localhost profile without a path");
  prof = json_load_file (path, 0, &jerr);
  if (prof == NULL)
    {
      if (access (path, R_OK) < 0)
        return kd_make_error (err, errno, "seccomp: open `%s`", path);
      return kd_make_error (err, 0, "seccomp: parse `%s`: line %d: %s", path, jerr.line, jerr.text);
    }
  if (parse_action (json_string_value (json_object_get (prof, "defaultAction")),
                    json_object_get (prof, "defaultErrnoRet"), &def)
      < 0)
    {
      kd_make_error (err, EINVAL, "defaultAction");
      goto fail;
    }
  ctx = seccomp_init (def);
  if (ctx == NULL)
    {
      kd_make_error (err, EINVAL, "seccomp_init");
      goto fail;
    }
  if (localhost_arches (ctx, prof, err) < 0)
    goto fail;
  json_array_foreach (json_object_get (prof, "syscalls"), i, sc)
  {
    if (localhost_rule (ctx, def, sc, i, err) < 0)
      goto fail;
  }
  json_decref (prof);
  *out = ctx;
  return 0;
fail:
  if (ctx != NULL)
    seccomp_release (ctx);
  json_decref (prof);
  return kd_error_wrap (err, "seccomp profile `%s`", path);
}

int
kd_rt_seccomp_build (const kd_ctr_spec_t *spec, scmp_filter_ctx *out, kd_error_t *err)
{
  *out = NULL;
  switch (spec->seccomp)
    {
    case KD_SECCOMP_UNCONFINED:
      return 0;
    case KD_SECCOMP_RUNTIME_DEFAULT:
      return build_default (spec, out, err);
    case KD_SECCOMP_LOCALHOST:
      return build_localhost (spec->seccomp_profile, out, err);
    }
  return kd_make_error (err, EINVAL, "seccomp: unknown mode `%d`", (int) spec->seccomp);
}

int
kd_rt_seccomp_load (scmp_filter_ctx ctx, bool no_new_privs, kd_error_t *err)
{
  int r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, no_new_privs ? 1 : 0);
  if (r < 0)
    return kd_make_error (err, -r, "seccomp: seccomp_attr_set `SCMP_FLTATR_CTL_NNP`");
  r = seccomp_load (ctx);
  if (r < 0)
    return kd_make_error (err, -r, "seccomp: seccomp_load");
  return 0;
}
