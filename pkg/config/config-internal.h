/* Private to pkg/config: the settings both the flags (flags.c) and the
   KubeletConfiguration file (kubeletconfig.c) can give, so one value parser
   serves both and "flags win" is a lookup in a bool array. */
#ifndef KUBELETD_CONFIG_INTERNAL_H
#define KUBELETD_CONFIG_INTERNAL_H

#include "kubeletd/config.h"

typedef enum
{
  KD_SET_POD_MANIFEST_PATH,
  KD_SET_MANIFEST_URL,
  KD_SET_FILE_CHECK_FREQUENCY,
  KD_SET_HTTP_CHECK_FREQUENCY,
  KD_SET_POD_CIDR,
  KD_SET_MAX_PODS,
  KD_SET_POD_PIDS_LIMIT,
  KD_SET_CONTAINER_LOG_MAX_SIZE,
  KD_SET_CONTAINER_LOG_MAX_FILES,
  KD_SET_CGROUP_ROOT,
  KD_SET_SECCOMP_DEFAULT,
  KD_SET_LOGGING_FORMAT,
  KD_SET_VERBOSITY,
  KD_SET_CRASHLOOP_BACKOFF_MAX,
  /* flag-only settings */
  KD_SET_CRASHLOOP_BACKOFF_INITIAL,
  KD_SET_ROOT_DIR,
  KD_SET_RUN_DIR,
  KD_SET_POD_LOGS_DIR,
  KD_SET_SOCKET,
  KD_SET_SOCKET_GROUP,
  KD_SET_HOSTNAME_OVERRIDE,
  KD_SET_CNI_CONF_DIR,
  KD_SET_CNI_BIN_DIR,
  KD_SET_REGISTRY_MIRROR,
  KD_SET_INSECURE_REGISTRY,
  KD_SET_IMAGE_GC_HIGH_THRESHOLD,
  KD_SET_IMAGE_GC_LOW_THRESHOLD,
  KD_SET_NETWORK_BRIDGE,
  KD_SET_SHIM_PATH,
  KD_SET_STOP_PODS_ON_EXIT,
  KD_SET_CONFIG,
  KD_SET_KUBECONFIG,
  KD_SET_HELP,
  KD_SET_VERSION,
  KD_SET__COUNT,
} kd_setting_t;

/* Parses `value` for setting `id` into cfg. On failure the message is the
   reason alone (`time: invalid duration "x"`); callers add the flag name or
   the file position. */
int kd_config_set_value (kd_config_t *cfg, kd_setting_t id, const char *value,
                         kd_error_t *err) KD_WUR;

/* Applies a KubeletConfiguration file to cfg, leaving alone each setting
   whose flags_set[id] is true (the flag was given: flags win). */
int kd_config_apply_file (kd_config_t *cfg, const char *path, const bool *flags_set,
                          kd_error_t *err) KD_WUR;

#endif
