/* Descriptor tables for the v1 Pod model.

   Each table lists a struct's fields in the order of the Go struct in
   k8s.io/api/core/v1/types.go (that order is the JSON output order), with the
   JSON key and the `omitempty` habit of the Go tag:
     - `O` (KD_F_OMITEMPTY): the tag says omitempty and the Go type is a
       string, number, bool, slice, map or pointer, so a zero value is left out;
     - no flag: always emitted (`containerPort`, `restartCount`, `name`...);
     - KD_T_STRUCT fields are always emitted, as Go ignores omitempty for
       structs (`resources: {}`, `lastState: {}`);
     - `N` (KD_F_NULLABLE): a metav1.Time that prints null when zero, or a
       resource.Quantity that prints "0" when zero. */

#include "codec-internal.h"

#define O KD_F_OMITEMPTY
#define N KD_F_NULLABLE

#define FIELD(name, kind, flags, st, member)                                                       \
  {                                                                                                \
    name, kind, flags, offsetof (st, member), 0, NULL                                              \
  }
#define SUB(name, kind, flags, st, member, type)                                                   \
  {                                                                                                \
    name, kind, flags, offsetof (st, member), 0, type                                              \
  }
#define LIST(name, flags, st, member, count, type)                                                 \
  {                                                                                                \
    name, KD_T_LIST, flags, offsetof (st, member), offsetof (st, count), type                      \
  }
#define OPTSTR(name, flags, st, member, set)                                                       \
  {                                                                                                \
    name, KD_T_OPT_STRING, flags, offsetof (st, member), offsetof (st, set), NULL                  \
  }
#define TYPE(var, goname, st, table)                                                               \
  {                                                                                                \
    goname, sizeof (st), table, KD_ARRAY_SIZE (table)                                              \
  }

/* ---- metadata ---------------------------------------------------------- */

static const kd_field_t object_meta_fields[] = {
  FIELD ("name", KD_T_STRING, O, kd_object_meta_t, name),
  FIELD ("generateName", KD_T_STRING, O, kd_object_meta_t, generate_name),
  FIELD ("namespace", KD_T_STRING, O, kd_object_meta_t, namespace_),
  FIELD ("uid", KD_T_STRING, O, kd_object_meta_t, uid),
  FIELD ("resourceVersion", KD_T_STRING, O, kd_object_meta_t, resource_version),
  FIELD ("generation", KD_T_OPT_INT64, O, kd_object_meta_t, generation),
  /* `omitempty,omitzero` since Kubernetes 1.34: a zero time is left out. */
  FIELD ("creationTimestamp", KD_T_TIME, O, kd_object_meta_t, creation_timestamp),
  FIELD ("deletionTimestamp", KD_T_TIME, O, kd_object_meta_t, deletion_timestamp),
  FIELD ("deletionGracePeriodSeconds", KD_T_OPT_INT64, O, kd_object_meta_t,
         deletion_grace_period_seconds),
  FIELD ("labels", KD_T_STRMAP, O, kd_object_meta_t, labels),
  FIELD ("annotations", KD_T_STRMAP, O, kd_object_meta_t, annotations),
};
static const kd_type_t object_meta_type
    = TYPE (object_meta_type, "ObjectMeta", kd_object_meta_t, object_meta_fields);

/* ---- env --------------------------------------------------------------- */

static const kd_field_t object_field_selector_fields[] = {
  FIELD ("apiVersion", KD_T_STRING, O, kd_object_field_selector_t, api_version),
  FIELD ("fieldPath", KD_T_STRING, 0, kd_object_field_selector_t, field_path),
};
static const kd_type_t object_field_selector_type
    = TYPE (object_field_selector_type, "ObjectFieldSelector", kd_object_field_selector_t,
            object_field_selector_fields);

static const kd_field_t resource_field_selector_fields[] = {
  FIELD ("containerName", KD_T_STRING, O, kd_resource_field_selector_t, container_name),
  FIELD ("resource", KD_T_STRING, 0, kd_resource_field_selector_t, resource),
  /* A resource.Quantity value: Go prints "0" when it is zero. */
  FIELD ("divisor", KD_T_QUANTITY, N, kd_resource_field_selector_t, divisor),
};
static const kd_type_t resource_field_selector_type
    = TYPE (resource_field_selector_type, "ResourceFieldSelector", kd_resource_field_selector_t,
            resource_field_selector_fields);

static const kd_field_t env_var_source_fields[] = {
  SUB ("fieldRef", KD_T_OBJECT, O, kd_env_var_source_t, field_ref, &object_field_selector_type),
  SUB ("resourceFieldRef", KD_T_OBJECT, O, kd_env_var_source_t, resource_field_ref,
       &resource_field_selector_type),
  FIELD ("configMapKeyRef", KD_T_PRESENT, 0, kd_env_var_source_t, config_map_key_ref),
  FIELD ("secretKeyRef", KD_T_PRESENT, 0, kd_env_var_source_t, secret_key_ref),
};
static const kd_type_t env_var_source_type
    = TYPE (env_var_source_type, "EnvVarSource", kd_env_var_source_t, env_var_source_fields);

static const kd_field_t env_var_fields[] = {
  FIELD ("name", KD_T_STRING, 0, kd_env_var_t, name),
  FIELD ("value", KD_T_STRING, O, kd_env_var_t, value),
  SUB ("valueFrom", KD_T_OBJECT, O, kd_env_var_t, value_from, &env_var_source_type),
};
static const kd_type_t env_var_type = TYPE (env_var_type, "EnvVar", kd_env_var_t, env_var_fields);

/* ---- ports, resources, mounts ------------------------------------------ */

static const kd_field_t container_port_fields[] = {
  FIELD ("name", KD_T_STRING, O, kd_container_port_t, name),
  FIELD ("hostPort", KD_T_INT32, O, kd_container_port_t, host_port),
  FIELD ("containerPort", KD_T_INT32, 0, kd_container_port_t, container_port),
  FIELD ("protocol", KD_T_STRING, O, kd_container_port_t, protocol),
  FIELD ("hostIP", KD_T_STRING, O, kd_container_port_t, host_ip),
};
static const kd_type_t container_port_type
    = TYPE (container_port_type, "ContainerPort", kd_container_port_t, container_port_fields);

static const kd_field_t resource_requirements_fields[] = {
  FIELD ("limits", KD_T_RESOURCES, O, kd_resource_requirements_t, limits),
  FIELD ("requests", KD_T_RESOURCES, O, kd_resource_requirements_t, requests),
};
static const kd_type_t resource_requirements_type
    = TYPE (resource_requirements_type, "ResourceRequirements", kd_resource_requirements_t,
            resource_requirements_fields);

static const kd_field_t volume_mount_fields[] = {
  FIELD ("name", KD_T_STRING, 0, kd_volume_mount_t, name),
  FIELD ("readOnly", KD_T_BOOL, O, kd_volume_mount_t, read_only),
  FIELD ("mountPath", KD_T_STRING, 0, kd_volume_mount_t, mount_path),
  FIELD ("subPath", KD_T_STRING, O, kd_volume_mount_t, sub_path),
  FIELD ("mountPropagation", KD_T_STRING, O, kd_volume_mount_t, mount_propagation),
  FIELD ("subPathExpr", KD_T_STRING, O, kd_volume_mount_t, sub_path_expr),
};
static const kd_type_t volume_mount_type
    = TYPE (volume_mount_type, "VolumeMount", kd_volume_mount_t, volume_mount_fields);

/* ---- probes and lifecycle hooks ---------------------------------------- */

static const kd_field_t exec_action_fields[] = {
  FIELD ("command", KD_T_STRV, O, kd_exec_action_t, command),
};
static const kd_type_t exec_action_type
    = TYPE (exec_action_type, "ExecAction", kd_exec_action_t, exec_action_fields);

static const kd_field_t http_header_fields[] = {
  FIELD ("name", KD_T_STRING, 0, kd_http_header_t, name),
  FIELD ("value", KD_T_STRING, 0, kd_http_header_t, value),
};
static const kd_type_t http_header_type
    = TYPE (http_header_type, "HTTPHeader", kd_http_header_t, http_header_fields);

static const kd_field_t http_get_action_fields[] = {
  FIELD ("path", KD_T_STRING, O, kd_http_get_action_t, path),
  FIELD ("port", KD_T_INTSTR, 0, kd_http_get_action_t, port),
  FIELD ("host", KD_T_STRING, O, kd_http_get_action_t, host),
  FIELD ("scheme", KD_T_STRING, O, kd_http_get_action_t, scheme),
  LIST ("httpHeaders", O, kd_http_get_action_t, http_headers, n_http_headers, &http_header_type),
};
static const kd_type_t http_get_action_type
    = TYPE (http_get_action_type, "HTTPGetAction", kd_http_get_action_t, http_get_action_fields);

static const kd_field_t tcp_socket_action_fields[] = {
  FIELD ("port", KD_T_INTSTR, 0, kd_tcp_socket_action_t, port),
  FIELD ("host", KD_T_STRING, O, kd_tcp_socket_action_t, host),
};
static const kd_type_t tcp_socket_action_type = TYPE (
    tcp_socket_action_type, "TCPSocketAction", kd_tcp_socket_action_t, tcp_socket_action_fields);

static const kd_field_t grpc_action_fields[] = {
  FIELD ("port", KD_T_INT32, 0, kd_grpc_action_t, port),
  /* `json:"service"` on a *string: null when unset, "" when set empty. */
  OPTSTR ("service", 0, kd_grpc_action_t, service, service_set),
};
static const kd_type_t grpc_action_type
    = TYPE (grpc_action_type, "GRPCAction", kd_grpc_action_t, grpc_action_fields);

static const kd_field_t sleep_action_fields[] = {
  FIELD ("seconds", KD_T_INT64, 0, kd_sleep_action_t, seconds),
};
static const kd_type_t sleep_action_type
    = TYPE (sleep_action_type, "SleepAction", kd_sleep_action_t, sleep_action_fields);

/* ProbeHandler and LifecycleHandler share kd_handler_t but not their keys:
   `grpc` is for probes only, `sleep` for hooks only. */
static const kd_field_t probe_handler_fields[] = {
  SUB ("exec", KD_T_OBJECT, O, kd_handler_t, exec, &exec_action_type),
  SUB ("httpGet", KD_T_OBJECT, O, kd_handler_t, http_get, &http_get_action_type),
  SUB ("tcpSocket", KD_T_OBJECT, O, kd_handler_t, tcp_socket, &tcp_socket_action_type),
  SUB ("grpc", KD_T_OBJECT, O, kd_handler_t, grpc, &grpc_action_type),
};
static const kd_type_t probe_handler_type
    = TYPE (probe_handler_type, "ProbeHandler", kd_handler_t, probe_handler_fields);

static const kd_field_t lifecycle_handler_fields[] = {
  SUB ("exec", KD_T_OBJECT, O, kd_handler_t, exec, &exec_action_type),
  SUB ("httpGet", KD_T_OBJECT, O, kd_handler_t, http_get, &http_get_action_type),
  SUB ("tcpSocket", KD_T_OBJECT, O, kd_handler_t, tcp_socket, &tcp_socket_action_type),
  SUB ("sleep", KD_T_OBJECT, O, kd_handler_t, sleep, &sleep_action_type),
};
static const kd_type_t lifecycle_handler_type
    = TYPE (lifecycle_handler_type, "LifecycleHandler", kd_handler_t, lifecycle_handler_fields);

static const kd_field_t probe_fields[] = {
  SUB ("", KD_T_INLINE, 0, kd_probe_t, handler, &probe_handler_type),
  FIELD ("initialDelaySeconds", KD_T_INT32, O, kd_probe_t, initial_delay_seconds),
  FIELD ("timeoutSeconds", KD_T_INT32, O, kd_probe_t, timeout_seconds),
  FIELD ("periodSeconds", KD_T_INT32, O, kd_probe_t, period_seconds),
  FIELD ("successThreshold", KD_T_INT32, O, kd_probe_t, success_threshold),
  FIELD ("failureThreshold", KD_T_INT32, O, kd_probe_t, failure_threshold),
  FIELD ("terminationGracePeriodSeconds", KD_T_OPT_INT64, O, kd_probe_t,
         termination_grace_period_seconds),
};
static const kd_type_t probe_type = TYPE (probe_type, "Probe", kd_probe_t, probe_fields);

static const kd_field_t lifecycle_fields[] = {
  SUB ("postStart", KD_T_OBJECT, O, kd_lifecycle_t, post_start, &lifecycle_handler_type),
  SUB ("preStop", KD_T_OBJECT, O, kd_lifecycle_t, pre_stop, &lifecycle_handler_type),
  FIELD ("stopSignal", KD_T_STRING, O, kd_lifecycle_t, stop_signal),
};
static const kd_type_t lifecycle_type
    = TYPE (lifecycle_type, "Lifecycle", kd_lifecycle_t, lifecycle_fields);

/* ---- security ---------------------------------------------------------- */

static const kd_field_t capabilities_fields[] = {
  FIELD ("add", KD_T_STRV, O, kd_capabilities_t, add),
  FIELD ("drop", KD_T_STRV, O, kd_capabilities_t, drop),
};
static const kd_type_t capabilities_type
    = TYPE (capabilities_type, "Capabilities", kd_capabilities_t, capabilities_fields);

static const kd_field_t seccomp_profile_fields[] = {
  FIELD ("type", KD_T_STRING, 0, kd_seccomp_profile_t, type),
  FIELD ("localhostProfile", KD_T_STRING, O, kd_seccomp_profile_t, localhost_profile),
};
static const kd_type_t seccomp_profile_type
    = TYPE (seccomp_profile_type, "SeccompProfile", kd_seccomp_profile_t, seccomp_profile_fields);

static const kd_field_t security_context_fields[] = {
  SUB ("capabilities", KD_T_OBJECT, O, kd_security_context_t, capabilities, &capabilities_type),
  FIELD ("privileged", KD_T_OPT_BOOL, O, kd_security_context_t, privileged),
  FIELD ("runAsUser", KD_T_OPT_INT64, O, kd_security_context_t, run_as_user),
  FIELD ("runAsGroup", KD_T_OPT_INT64, O, kd_security_context_t, run_as_group),
  FIELD ("runAsNonRoot", KD_T_OPT_BOOL, O, kd_security_context_t, run_as_non_root),
  FIELD ("readOnlyRootFilesystem", KD_T_OPT_BOOL, O, kd_security_context_t,
         read_only_root_filesystem),
  FIELD ("allowPrivilegeEscalation", KD_T_OPT_BOOL, O, kd_security_context_t,
         allow_privilege_escalation),
  FIELD ("procMount", KD_T_STRING, O, kd_security_context_t, proc_mount),
  SUB ("seccompProfile", KD_T_OBJECT, O, kd_security_context_t, seccomp_profile,
       &seccomp_profile_type),
};
static const kd_type_t security_context_type = TYPE (
    security_context_type, "SecurityContext", kd_security_context_t, security_context_fields);

static const kd_field_t sysctl_fields[] = {
  FIELD ("name", KD_T_STRING, 0, kd_sysctl_t, name),
  FIELD ("value", KD_T_STRING, 0, kd_sysctl_t, value),
};
static const kd_type_t sysctl_type = TYPE (sysctl_type, "Sysctl", kd_sysctl_t, sysctl_fields);

static const kd_field_t pod_security_context_fields[] = {
  FIELD ("runAsUser", KD_T_OPT_INT64, O, kd_pod_security_context_t, run_as_user),
  FIELD ("runAsGroup", KD_T_OPT_INT64, O, kd_pod_security_context_t, run_as_group),
  FIELD ("runAsNonRoot", KD_T_OPT_BOOL, O, kd_pod_security_context_t, run_as_non_root),
  FIELD ("supplementalGroups", KD_T_I64V, O, kd_pod_security_context_t, supplemental_groups),
  FIELD ("fsGroup", KD_T_OPT_INT64, O, kd_pod_security_context_t, fs_group),
  LIST ("sysctls", O, kd_pod_security_context_t, sysctls, n_sysctls, &sysctl_type),
  FIELD ("fsGroupChangePolicy", KD_T_STRING, O, kd_pod_security_context_t, fs_group_change_policy),
  SUB ("seccompProfile", KD_T_OBJECT, O, kd_pod_security_context_t, seccomp_profile,
       &seccomp_profile_type),
};
static const kd_type_t pod_security_context_type
    = TYPE (pod_security_context_type, "PodSecurityContext", kd_pod_security_context_t,
            pod_security_context_fields);

/* ---- containers -------------------------------------------------------- */

static const kd_field_t container_fields[] = {
  FIELD ("name", KD_T_STRING, 0, kd_container_t, name),
  FIELD ("image", KD_T_STRING, O, kd_container_t, image),
  FIELD ("command", KD_T_STRV, O, kd_container_t, command),
  FIELD ("args", KD_T_STRV, O, kd_container_t, args),
  FIELD ("workingDir", KD_T_STRING, O, kd_container_t, working_dir),
  LIST ("ports", O, kd_container_t, ports, n_ports, &container_port_type),
  LIST ("env", O, kd_container_t, env, n_env, &env_var_type),
  SUB ("resources", KD_T_STRUCT, 0, kd_container_t, resources, &resource_requirements_type),
  FIELD ("restartPolicy", KD_T_STRING, O, kd_container_t, restart_policy),
  LIST ("volumeMounts", O, kd_container_t, volume_mounts, n_volume_mounts, &volume_mount_type),
  SUB ("livenessProbe", KD_T_OBJECT, O, kd_container_t, liveness_probe, &probe_type),
  SUB ("readinessProbe", KD_T_OBJECT, O, kd_container_t, readiness_probe, &probe_type),
  SUB ("startupProbe", KD_T_OBJECT, O, kd_container_t, startup_probe, &probe_type),
  SUB ("lifecycle", KD_T_OBJECT, O, kd_container_t, lifecycle, &lifecycle_type),
  FIELD ("terminationMessagePath", KD_T_STRING, O, kd_container_t, termination_message_path),
  FIELD ("terminationMessagePolicy", KD_T_STRING, O, kd_container_t, termination_message_policy),
  FIELD ("imagePullPolicy", KD_T_STRING, O, kd_container_t, image_pull_policy),
  SUB ("securityContext", KD_T_OBJECT, O, kd_container_t, security_context, &security_context_type),
  FIELD ("stdin", KD_T_BOOL, O, kd_container_t, stdin_),
  FIELD ("stdinOnce", KD_T_BOOL, O, kd_container_t, stdin_once),
  FIELD ("tty", KD_T_BOOL, O, kd_container_t, tty),
};
const kd_type_t kd_type_container
    = TYPE (kd_type_container, "Container", kd_container_t, container_fields);

/* ---- volumes ----------------------------------------------------------- */

static const kd_field_t host_path_fields[] = {
  FIELD ("path", KD_T_STRING, 0, kd_host_path_t, path),
  /* *HostPathType: left out when nil, "" printed when set to "". */
  OPTSTR ("type", O, kd_host_path_t, type, type_set),
};
static const kd_type_t host_path_type
    = TYPE (host_path_type, "HostPathVolumeSource", kd_host_path_t, host_path_fields);

static const kd_field_t empty_dir_fields[] = {
  FIELD ("medium", KD_T_STRING, O, kd_empty_dir_t, medium),
  FIELD ("sizeLimit", KD_T_QUANTITY, O, kd_empty_dir_t, size_limit),
};
static const kd_type_t empty_dir_type
    = TYPE (empty_dir_type, "EmptyDirVolumeSource", kd_empty_dir_t, empty_dir_fields);

/* VolumeSource is inline in Go; the sources a static pod may not use are only
   recorded as present so validation can refuse them by name. */
static const kd_field_t volume_fields[] = {
  FIELD ("name", KD_T_STRING, 0, kd_volume_t, name),
  SUB ("hostPath", KD_T_OBJECT, O, kd_volume_t, host_path, &host_path_type),
  SUB ("emptyDir", KD_T_OBJECT, O, kd_volume_t, empty_dir, &empty_dir_type),
  FIELD ("secret", KD_T_PRESENT, 0, kd_volume_t, secret),
  FIELD ("persistentVolumeClaim", KD_T_PRESENT, 0, kd_volume_t, persistent_volume_claim),
  FIELD ("configMap", KD_T_PRESENT, 0, kd_volume_t, config_map),
  FIELD ("projected", KD_T_PRESENT, 0, kd_volume_t, projected),
  FIELD ("otherSource", KD_T_BOOL, KD_F_INTERNAL, kd_volume_t, other_source),
  FIELD ("otherSourceName", KD_T_STRING, KD_F_INTERNAL, kd_volume_t, other_source_name),
};
static const kd_type_t volume_type = TYPE (volume_type, "Volume", kd_volume_t, volume_fields);

/* The other members of core/v1 VolumeSource, in the Go order. */
static const char *const other_volume_sources[] = {
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "gitRepo",
  "nfs",
  "iscsi",
  "glusterfs",
  "rbd",
  "flexVolume",
  "cinder",
  "cephfs",
  "flocker",
  "downwardAPI",
  "fc",
  "azureFile",
  "vsphereVolume",
  "quobyte",
  "azureDisk",
  "photonPersistentDisk",
  "portworxVolume",
  "scaleIO",
  "storageos",
  "csi",
  "ephemeral",
  "image",
};

/* ---- pod spec ---------------------------------------------------------- */

static const kd_field_t host_alias_fields[] = {
  FIELD ("ip", KD_T_STRING, 0, kd_host_alias_t, ip),
  FIELD ("hostnames", KD_T_STRV, O, kd_host_alias_t, hostnames),
};
static const kd_type_t host_alias_type
    = TYPE (host_alias_type, "HostAlias", kd_host_alias_t, host_alias_fields);

static const kd_field_t dns_option_fields[] = {
  FIELD ("name", KD_T_STRING, O, kd_dns_option_t, name),
  FIELD ("value", KD_T_STRING, O, kd_dns_option_t, value),
};
static const kd_type_t dns_option_type
    = TYPE (dns_option_type, "PodDNSConfigOption", kd_dns_option_t, dns_option_fields);

static const kd_field_t dns_config_fields[] = {
  FIELD ("nameservers", KD_T_STRV, O, kd_dns_config_t, nameservers),
  FIELD ("searches", KD_T_STRV, O, kd_dns_config_t, searches),
  LIST ("options", O, kd_dns_config_t, options, n_options, &dns_option_type),
};
static const kd_type_t dns_config_type
    = TYPE (dns_config_type, "PodDNSConfig", kd_dns_config_t, dns_config_fields);

static const kd_field_t toleration_fields[] = {
  FIELD ("key", KD_T_STRING, O, kd_toleration_t, key),
  FIELD ("operator", KD_T_STRING, O, kd_toleration_t, operator_),
  FIELD ("value", KD_T_STRING, O, kd_toleration_t, value),
  FIELD ("effect", KD_T_STRING, O, kd_toleration_t, effect),
  FIELD ("tolerationSeconds", KD_T_OPT_INT64, O, kd_toleration_t, toleration_seconds),
};
static const kd_type_t toleration_type
    = TYPE (toleration_type, "Toleration", kd_toleration_t, toleration_fields);

static const kd_field_t pod_spec_fields[] = {
  LIST ("volumes", O, kd_pod_spec_t, volumes, n_volumes, &volume_type),
  LIST ("initContainers", O, kd_pod_spec_t, init_containers, n_init_containers, &kd_type_container),
  LIST ("containers", 0, kd_pod_spec_t, containers, n_containers, &kd_type_container),
  FIELD ("restartPolicy", KD_T_STRING, O, kd_pod_spec_t, restart_policy),
  FIELD ("terminationGracePeriodSeconds", KD_T_OPT_INT64, O, kd_pod_spec_t,
         termination_grace_period_seconds),
  FIELD ("activeDeadlineSeconds", KD_T_OPT_INT64, O, kd_pod_spec_t, active_deadline_seconds),
  FIELD ("dnsPolicy", KD_T_STRING, O, kd_pod_spec_t, dns_policy),
  FIELD ("nodeSelector", KD_T_STRMAP, O, kd_pod_spec_t, node_selector),
  FIELD ("serviceAccountName", KD_T_STRING, O, kd_pod_spec_t, service_account_name),
  FIELD ("nodeName", KD_T_STRING, O, kd_pod_spec_t, node_name),
  FIELD ("hostNetwork", KD_T_BOOL, O, kd_pod_spec_t, host_network),
  FIELD ("hostPID", KD_T_BOOL, O, kd_pod_spec_t, host_pid),
  FIELD ("hostIPC", KD_T_BOOL, O, kd_pod_spec_t, host_ipc),
  FIELD ("shareProcessNamespace", KD_T_OPT_BOOL, O, kd_pod_spec_t, share_process_namespace),
  SUB ("securityContext", KD_T_OBJECT, O, kd_pod_spec_t, security_context,
       &pod_security_context_type),
  FIELD ("hostname", KD_T_STRING, O, kd_pod_spec_t, hostname),
  FIELD ("subdomain", KD_T_STRING, O, kd_pod_spec_t, subdomain),
  FIELD ("schedulerName", KD_T_STRING, O, kd_pod_spec_t, scheduler_name),
  LIST ("tolerations", O, kd_pod_spec_t, tolerations, n_tolerations, &toleration_type),
  LIST ("hostAliases", O, kd_pod_spec_t, host_aliases, n_host_aliases, &host_alias_type),
  FIELD ("priorityClassName", KD_T_STRING, O, kd_pod_spec_t, priority_class_name),
  FIELD ("priority", KD_T_OPT_INT32, O, kd_pod_spec_t, priority),
  SUB ("dnsConfig", KD_T_OBJECT, O, kd_pod_spec_t, dns_config, &dns_config_type),
  FIELD ("enableServiceLinks", KD_T_OPT_BOOL, O, kd_pod_spec_t, enable_service_links),
  FIELD ("preemptionPolicy", KD_T_STRING, O, kd_pod_spec_t, preemption_policy),
};
static const kd_type_t pod_spec_type
    = TYPE (pod_spec_type, "PodSpec", kd_pod_spec_t, pod_spec_fields);

/* ---- status ------------------------------------------------------------ */

static const kd_field_t pod_condition_fields[] = {
  FIELD ("type", KD_T_STRING, 0, kd_pod_condition_t, type),
  FIELD ("status", KD_T_STRING, 0, kd_pod_condition_t, status),
  FIELD ("lastProbeTime", KD_T_TIME, N, kd_pod_condition_t, last_probe_time),
  FIELD ("lastTransitionTime", KD_T_TIME, N, kd_pod_condition_t, last_transition_time),
  FIELD ("reason", KD_T_STRING, O, kd_pod_condition_t, reason),
  FIELD ("message", KD_T_STRING, O, kd_pod_condition_t, message),
};
static const kd_type_t pod_condition_type
    = TYPE (pod_condition_type, "PodCondition", kd_pod_condition_t, pod_condition_fields);

static const kd_field_t state_waiting_fields[] = {
  FIELD ("reason", KD_T_STRING, O, kd_state_waiting_t, reason),
  FIELD ("message", KD_T_STRING, O, kd_state_waiting_t, message),
};
static const kd_type_t state_waiting_type
    = TYPE (state_waiting_type, "ContainerStateWaiting", kd_state_waiting_t, state_waiting_fields);

static const kd_field_t state_running_fields[] = {
  FIELD ("startedAt", KD_T_TIME, N, kd_state_running_t, started_at),
};
static const kd_type_t state_running_type
    = TYPE (state_running_type, "ContainerStateRunning", kd_state_running_t, state_running_fields);

static const kd_field_t state_terminated_fields[] = {
  FIELD ("exitCode", KD_T_INT32, 0, kd_state_terminated_t, exit_code),
  FIELD ("signal", KD_T_INT32, O, kd_state_terminated_t, signal),
  FIELD ("reason", KD_T_STRING, O, kd_state_terminated_t, reason),
  FIELD ("message", KD_T_STRING, O, kd_state_terminated_t, message),
  FIELD ("startedAt", KD_T_TIME, N, kd_state_terminated_t, started_at),
  FIELD ("finishedAt", KD_T_TIME, N, kd_state_terminated_t, finished_at),
  FIELD ("containerID", KD_T_STRING, O, kd_state_terminated_t, container_id),
};
static const kd_type_t state_terminated_type
    = TYPE (state_terminated_type, "ContainerStateTerminated", kd_state_terminated_t,
            state_terminated_fields);

static const kd_field_t container_state_fields[] = {
  SUB ("waiting", KD_T_OBJECT, O, kd_container_state_t, waiting, &state_waiting_type),
  SUB ("running", KD_T_OBJECT, O, kd_container_state_t, running, &state_running_type),
  SUB ("terminated", KD_T_OBJECT, O, kd_container_state_t, terminated, &state_terminated_type),
};
static const kd_type_t container_state_type
    = TYPE (container_state_type, "ContainerState", kd_container_state_t, container_state_fields);

static const kd_field_t container_status_fields[] = {
  FIELD ("name", KD_T_STRING, 0, kd_container_status_t, name),
  SUB ("state", KD_T_STRUCT, 0, kd_container_status_t, state, &container_state_type),
  SUB ("lastState", KD_T_STRUCT, 0, kd_container_status_t, last_state, &container_state_type),
  FIELD ("ready", KD_T_BOOL, 0, kd_container_status_t, ready),
  FIELD ("restartCount", KD_T_INT32, 0, kd_container_status_t, restart_count),
  FIELD ("image", KD_T_STRING, 0, kd_container_status_t, image),
  FIELD ("imageID", KD_T_STRING, 0, kd_container_status_t, image_id),
  FIELD ("containerID", KD_T_STRING, O, kd_container_status_t, container_id),
  FIELD ("started", KD_T_OPT_BOOL, O, kd_container_status_t, started),
};
const kd_type_t kd_type_container_status = TYPE (kd_type_container_status, "ContainerStatus",
                                                 kd_container_status_t, container_status_fields);

static const kd_field_t pod_ip_fields[] = {
  FIELD ("ip", KD_T_STRING, 0, kd_pod_ip_t, ip),
};
static const kd_type_t pod_ip_type = TYPE (pod_ip_type, "PodIP", kd_pod_ip_t, pod_ip_fields);
static const kd_type_t host_ip_type = TYPE (host_ip_type, "HostIP", kd_pod_ip_t, pod_ip_fields);

static const kd_field_t pod_status_fields[] = {
  FIELD ("phase", KD_T_STRING, O, kd_pod_status_t, phase),
  LIST ("conditions", O, kd_pod_status_t, conditions, n_conditions, &pod_condition_type),
  FIELD ("message", KD_T_STRING, O, kd_pod_status_t, message),
  FIELD ("reason", KD_T_STRING, O, kd_pod_status_t, reason),
  FIELD ("hostIP", KD_T_STRING, O, kd_pod_status_t, host_ip),
  LIST ("hostIPs", O, kd_pod_status_t, host_ips, n_host_ips, &host_ip_type),
  FIELD ("podIP", KD_T_STRING, O, kd_pod_status_t, pod_ip),
  LIST ("podIPs", O, kd_pod_status_t, pod_ips, n_pod_ips, &pod_ip_type),
  FIELD ("startTime", KD_T_TIME, O, kd_pod_status_t, start_time),
  LIST ("initContainerStatuses", O, kd_pod_status_t, init_container_statuses,
        n_init_container_statuses, &kd_type_container_status),
  LIST ("containerStatuses", O, kd_pod_status_t, container_statuses, n_container_statuses,
        &kd_type_container_status),
  FIELD ("qosClass", KD_T_STRING, O, kd_pod_status_t, qos_class),
};
const kd_type_t kd_type_pod_status
    = TYPE (kd_type_pod_status, "PodStatus", kd_pod_status_t, pod_status_fields);

/* ---- pod --------------------------------------------------------------- */

static const kd_field_t pod_fields[] = {
  /* TypeMeta is inline: kind comes before apiVersion in Go's output. */
  FIELD ("kind", KD_T_STRING, O, kd_pod_t, kind),
  FIELD ("apiVersion", KD_T_STRING, O, kd_pod_t, api_version),
  SUB ("metadata", KD_T_STRUCT, 0, kd_pod_t, metadata, &object_meta_type),
  SUB ("spec", KD_T_STRUCT, 0, kd_pod_t, spec, &pod_spec_type),
  SUB ("status", KD_T_STRUCT, 0, kd_pod_t, status, &kd_type_pod_status),
};
const kd_type_t kd_type_pod = TYPE (kd_type_pod, "Pod", kd_pod_t, pod_fields);

/* ---- keys the tables cannot express ------------------------------------ */

bool
kd_api_decode_extra_key (const kd_type_t *type, const char *key, const kd_node_t *value, void *obj)
{
  size_t i;

  if (type == &volume_type)
    {
      kd_volume_t *vol = obj;

      for (i = 0; i < KD_ARRAY_SIZE (other_volume_sources); i++)
        if (strcmp (key, other_volume_sources[i]) == 0)
          {
            /* null is an unset pointer in Go: no source at all. */
            if (value && value->kind != KD_NODE_NULL)
              {
                vol->other_source = true;
                if (vol->other_source_name == NULL)
                  vol->other_source_name = xstrdup (key);
              }
            return true;
          }
      return false;
    }
  if (type == &pod_spec_type && strcmp (key, "serviceAccount") == 0)
    {
      kd_pod_spec_t *spec = obj;

      /* The deprecated alias: v1 conversion copies it into
         serviceAccountName when that is empty. */
      if (value && value->kind == KD_NODE_STRING && value->text_len > 0
          && (spec->service_account_name == NULL || spec->service_account_name[0] == '\0'))
        {
          free (spec->service_account_name);
          spec->service_account_name = xstrndup (value->text, value->text_len);
        }
      return true;
    }
  return false;
}
