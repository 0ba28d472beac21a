/* pod: helpers shared by the files of pkg/pod. */
#ifndef KUBELETD_POD_INTERNAL_H
#define KUBELETD_POD_INTERNAL_H

#include "kubeletd/podlogic.h"

/* A NULL-terminated "K=V" list: set replaces a variable in place or
   appends it. */
void kd_env_set (kd_strv_t *env, const char *name, const char *value);
void kd_env_set_kv (kd_strv_t *env, const char *kv);

/* The kubelet's variables of the container (declared order). */
int kd_ctrspec_kubelet_env (const kd_ctrspec_input_t *in, kd_strv_t *kenv, kd_error_t *err);
/* containerd's process env: PATH, HOSTNAME, the image's, the kubelet's. */
void kd_ctrspec_process_env (const kd_ctrspec_input_t *in, const kd_strv_t *kenv, kd_strv_t *env);

/* The user and groups (ctrspec_user.c). *reason as kd_ctrspec_build. */
int kd_ctrspec_user (const kd_ctrspec_input_t *in, uint32_t *uid, uint32_t *gid, uint32_t **groups,
                     size_t *n_groups, const char **reason, kd_error_t *err);

#endif
