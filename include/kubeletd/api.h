/* api: the v1 Pod model, its JSON shapes, Kubernetes' defaults and validation.
 *
 * Why: every other module speaks in these types; the wire spelling (JSON and
 * YAML) must be exactly the Kubernetes API's, with Go's `omitempty` habits.
 *
 * What it owns: the C structs below and one descriptor table per struct
 * (pkg/api/types.c). The tables drive decoding (from a kd_node_t document
 * tree), JSON encoding, deep free and deep copy, so a field added to a struct
 * and its table is read, written, copied and freed everywhere at once.
 *
 * How to use:
 *  1. Get a document tree (kd_manifest_* from YAML, or kd_node_from_json).
 *  2. kd_pod_decode () fills a kd_pod_t and appends type errors and
 *     unknown-field warnings (with the node positions) to a kd_field_errors_t.
 *  3. kd_pod_set_defaults () applies Kubernetes' defaults.
 *  4. kd_pod_validate () appends validation errors (field paths only;
 *     kd_field_errors_locate () adds positions from the document tree).
 *  5. kd_pod_to_json () for output; kd_pod_free () at the end.
 *
 * Conventions of the structs: `char *` NULL = unset (omitted); int32/int64/
 * bool plain fields are omitted when zero if the table says omitempty;
 * kd_opt_* are Go pointers (omitted only when !set); lists are {v, n};
 * nested optional objects are pointers (NULL = unset).
 */
#ifndef KUBELETD_API_H
#define KUBELETD_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kubeletd/util.h"

/* ---- generic value holders ------------------------------------------- */

typedef struct
{
  bool set;
  int64_t v;
} kd_opt_i64_t;

typedef struct
{
  bool set;
  int32_t v;
} kd_opt_i32_t;

typedef struct
{
  bool set;
  bool v;
} kd_opt_bool_t;

typedef struct
{
  char **v;
  size_t n;
} kd_strv_t;

/* Frees every string and the array; v is empty after. */
void kd_strv_clear (kd_strv_t *v);

typedef struct
{
  int64_t *v;
  size_t n;
} kd_i64v_t;

typedef struct
{
  char *key;
  char *value;
} kd_kv_t;

/* An ordered string map (labels, annotations, nodeSelector, and resource
   lists where the value is a quantity string). */
typedef struct
{
  kd_kv_t *v;
  size_t n;
} kd_strmap_t;

/* intstr.IntOrString. set=false means absent. */
typedef struct
{
  bool set;
  bool is_str;
  int32_t i;
  char *s;
} kd_intstr_t;

/* metav1.Time as nanoseconds since the epoch; 0 = zero time. */
typedef int64_t kd_time_t;

/* ---- the document tree (YAML or JSON), with positions ------------------ */

typedef enum
{
  KD_NODE_NULL,
  KD_NODE_BOOL,
  KD_NODE_INT,
  KD_NODE_FLOAT,
  KD_NODE_STRING,
  KD_NODE_MAP,
  KD_NODE_SEQ,
} kd_node_kind_t;

typedef struct kd_node kd_node_t;
struct kd_node
{
  kd_node_kind_t kind;
  int line; /* 1-based; 0 when unknown (JSON from a socket) */
  int col;  /* 1-based */
  /* Scalars: the text as written (strings unescaped); for NULL "null". */
  char *text;
  size_t text_len;
  int64_t i; /* KD_NODE_INT */
  bool b;    /* KD_NODE_BOOL */
  double f;  /* KD_NODE_FLOAT */
  /* MAP: keys[k] (KD_NODE_STRING scalars) and items[k]; SEQ: items[k]. */
  kd_node_t **keys;
  kd_node_t **items;
  size_t n;
};

/* A document tree and its memory. Nodes may be shared (YAML aliases); all
   memory belongs to the document and goes with kd_doc_free. */
typedef struct kd_doc kd_doc_t;
kd_doc_t *kd_doc_new (void);
void kd_doc_free (kd_doc_t *doc);
kd_node_t *kd_doc_root (const kd_doc_t *doc);
void kd_doc_set_root (kd_doc_t *doc, kd_node_t *root);
/* Allocates a zeroed node / bytes owned by the document. */
kd_node_t *kd_doc_node (kd_doc_t *doc, kd_node_kind_t kind, int line, int col);
void *kd_doc_alloc (kd_doc_t *doc, size_t size);
char *kd_doc_strndup (kd_doc_t *doc, const char *s, size_t n);

/* The value of key in a MAP node, or NULL. */
const kd_node_t *kd_node_get (const kd_node_t *map, const char *key);
/* Converts jansson JSON into a document (positions 0). */
kd_doc_t *kd_node_from_json (const json_t *json);
/* Finds the deepest node along a Kubernetes field path
   ("spec.containers[1].ports[0].containerPort", "metadata.labels[app]"). */
const kd_node_t *kd_node_find_path (const kd_node_t *root, const char *path);

/* ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----- */

typedef enum
{
  KD_FE_REQUIRED,      /* "Required value" */
  KD_FE_INVALID,       /* "Invalid value" */
  KD_FE_UNSUPPORTED,   /* "Unsupported value" */
  KD_FE_DUPLICATE,     /* "Duplicate value" */
  KD_FE_FORBIDDEN,     /* "Forbidden" */
  KD_FE_TOO_LONG,      /* "Too long" */
  KD_FE_TOO_MANY,      /* "Too many" */
  KD_FE_NOT_FOUND,     /* "Not found" */
  KD_FE_NOT_SUPPORTED, /* prints "Unsupported value" too: Go has one type for both */
  KD_FE_WARNING,       /* not an error: a warning such as an unknown field */
} kd_fe_type_t;

typedef struct
{
  kd_fe_type_t type;
  char *field;  /* "spec.containers[1].ports[0].containerPort" */
  char *value;  /* already rendered as Go's %#v-like form: `70000`, `"foo"`;
                   NULL = no value shown */
  char *detail; /* "must be between 1 and 65535, inclusive"; may be NULL */
  int line;     /* 0 = unknown */
  int col;
} kd_field_error_t;

typedef struct
{
  kd_field_error_t *v;
  size_t n;
  size_t cap;
} kd_field_errors_t;

/* Appends an error. value may be NULL. detail is printf-formatted (NULL for
   none). Returns the new entry. */
kd_field_error_t *kd_fe_add (kd_field_errors_t *errs, kd_fe_type_t type, const char *field,
                             const char *value, const char *detail_fmt, ...) KD_PRINTF (5, 6);
/* Convenience renderers for `value`: a quoted Go string, an integer. The
   returned strings are owned by the caller. */
char *kd_fe_quote (const char *s);
char *kd_fe_int (int64_t v);
/* Number of entries that are errors (not warnings). */
size_t kd_fe_count_errors (const kd_field_errors_t *errs);
/* Fills line/col of entries that have none by looking the path up in root. */
void kd_fe_locate (kd_field_errors_t *errs, const kd_node_t *root);
/* "file:line:col: field: Invalid value: 70000: detail" (file may be NULL;
   ":line:col" left out when unknown; warnings read "file:l:c: warning: ...").
   Caller frees. */
char *kd_fe_format (const kd_field_error_t *e, const char *file);
void kd_fe_free (kd_field_errors_t *errs);

/* ---- the Pod model ----------------------------------------------------- */

typedef struct
{
  char *name;
  char *generate_name;
  char *namespace_;
  char *uid;
  char *resource_version;
  kd_opt_i64_t generation;
  kd_time_t creation_timestamp; /* omitted when 0 (omitzero since Kubernetes 1.34) */
  kd_time_t deletion_timestamp; /* omitted when 0 */
  kd_opt_i64_t deletion_grace_period_seconds;
  kd_strmap_t labels;
  kd_strmap_t annotations;
} kd_object_meta_t;

typedef struct
{
  char *api_version; /* default "v1" */
  char *field_path;
} kd_object_field_selector_t;

typedef struct
{
  char *container_name;
  char *resource;
  char *divisor; /* a quantity; emitted as "0" when unset, like Go */
} kd_resource_field_selector_t;

typedef struct
{
  kd_object_field_selector_t *field_ref;
  kd_resource_field_selector_t *resource_field_ref;
  /* Present only to be refused for static pods; never emitted. */
  bool config_map_key_ref;
  bool secret_key_ref;
} kd_env_var_source_t;

typedef struct
{
  char *name;
  char *value;
  kd_env_var_source_t *value_from;
} kd_env_var_t;

typedef struct
{
  char *name;
  int32_t host_port;      /* omitempty */
  int32_t container_port; /* always emitted */
  char *protocol;         /* default "TCP" */
  char *host_ip;
} kd_container_port_t;

typedef struct
{
  kd_strmap_t limits; /* resource name -> quantity text */
  kd_strmap_t requests;
} kd_resource_requirements_t;

typedef struct
{
  char *name;
  bool read_only;
  char *mount_path;
  char *sub_path;
  char *mount_propagation;
  char *sub_path_expr;
} kd_volume_mount_t;

typedef struct
{
  kd_strv_t command;
} kd_exec_action_t;

typedef struct
{
  char *name;
  char *value;
} kd_http_header_t;

typedef struct
{
  char *path; /* default "/" */
  kd_intstr_t port;
  char *host;
  char *scheme; /* default "HTTP" */
  kd_http_header_t *http_headers;
  size_t n_http_headers;
} kd_http_get_action_t;

typedef struct
{
  kd_intstr_t port;
  char *host;
} kd_tcp_socket_action_t;

typedef struct
{
  int32_t port;  /* always emitted */
  char *service; /* *string: NULL omitted, "" emitted */
  bool service_set;
} kd_grpc_action_t;

typedef struct
{
  int64_t seconds; /* always emitted */
} kd_sleep_action_t;

/* ProbeHandler / LifecycleHandler: at most one member set. */
typedef struct
{
  kd_exec_action_t *exec;
  kd_http_get_action_t *http_get;
  kd_tcp_socket_action_t *tcp_socket;
  kd_grpc_action_t *grpc;   /* probes only */
  kd_sleep_action_t *sleep; /* lifecycle only */
} kd_handler_t;

typedef struct
{
  kd_handler_t handler;          /* inline in JSON */
  int32_t initial_delay_seconds; /* omitempty */
  int32_t timeout_seconds;       /* default 1 */
  int32_t period_seconds;        /* default 10 */
  int32_t success_threshold;     /* default 1 */
  int32_t failure_threshold;     /* default 3 */
  kd_opt_i64_t termination_grace_period_seconds;
} kd_probe_t;

typedef struct
{
  kd_handler_t *post_start;
  kd_handler_t *pre_stop;
  char *stop_signal;
} kd_lifecycle_t;

typedef struct
{
  kd_strv_t add;
  kd_strv_t drop;
} kd_capabilities_t;

typedef struct
{
  char *type; /* RuntimeDefault | Unconfined | Localhost */
  char *localhost_profile;
} kd_seccomp_profile_t;

typedef struct
{
  kd_capabilities_t *capabilities;
  kd_opt_bool_t privileged;
  kd_opt_i64_t run_as_user;
  kd_opt_i64_t run_as_group;
  kd_opt_bool_t run_as_non_root;
  kd_opt_bool_t read_only_root_filesystem;
  kd_opt_bool_t allow_privilege_escalation;
  char *proc_mount;
  kd_seccomp_profile_t *seccomp_profile;
} kd_security_context_t;

typedef struct
{
  char *name;
  char *image;
  kd_strv_t command;
  kd_strv_t args;
  char *working_dir;
  kd_container_port_t *ports;
  size_t n_ports;
  kd_env_var_t *env;
  size_t n_env;
  kd_resource_requirements_t resources; /* always emitted ({} when empty) */
  char *restart_policy;                 /* init containers: "Always" = sidecar */
  kd_volume_mount_t *volume_mounts;
  size_t n_volume_mounts;
  kd_probe_t *liveness_probe;
  kd_probe_t *readiness_probe;
  kd_probe_t *startup_probe;
  kd_lifecycle_t *lifecycle;
  char *termination_message_path;   /* default "/dev/termination-log" */
  char *termination_message_policy; /* default "File" */
  char *image_pull_policy;          /* default by tag */
  kd_security_context_t *security_context;
  bool stdin_;
  bool stdin_once;
  bool tty;
} kd_container_t;

typedef struct
{
  char *path;
  char *type; /* *HostPathType; defaulted to "" (emitted as "") */
  bool type_set;
} kd_host_path_t;

typedef struct
{
  char *medium;     /* "" or "Memory" */
  char *size_limit; /* *Quantity */
} kd_empty_dir_t;

typedef struct
{
  char *name;
  kd_host_path_t *host_path;
  kd_empty_dir_t *empty_dir;
  /* Present only to be refused for static pods; never emitted. */
  bool config_map;
  bool secret;
  bool persistent_volume_claim;
  bool projected;
  bool other_source; /* any other volume source key seen (nfs, csi, ...) */
  char *other_source_name;
} kd_volume_t;

typedef struct
{
  char *ip;
  kd_strv_t hostnames;
} kd_host_alias_t;

typedef struct
{
  char *name;
  char *value; /* *string */
} kd_dns_option_t;

typedef struct
{
  kd_strv_t nameservers;
  kd_strv_t searches;
  kd_dns_option_t *options;
  size_t n_options;
} kd_dns_config_t;

typedef struct
{
  char *name;
  char *value;
} kd_sysctl_t;

typedef struct
{
  kd_opt_i64_t run_as_user;
  kd_opt_i64_t run_as_group;
  kd_opt_bool_t run_as_non_root;
  kd_i64v_t supplemental_groups;
  kd_opt_i64_t fs_group;
  kd_sysctl_t *sysctls;
  size_t n_sysctls;
  char *fs_group_change_policy;
  kd_seccomp_profile_t *seccomp_profile;
} kd_pod_security_context_t;

typedef struct
{
  char *key;
  char *operator_;
  char *value;
  char *effect;
  kd_opt_i64_t toleration_seconds;
} kd_toleration_t;

typedef struct
{
  kd_volume_t *volumes;
  size_t n_volumes;
  kd_container_t *init_containers;
  size_t n_init_containers;
  kd_container_t *containers;
  size_t n_containers;
  char *restart_policy;                          /* default "Always" */
  kd_opt_i64_t termination_grace_period_seconds; /* default 30 */
  kd_opt_i64_t active_deadline_seconds;
  char *dns_policy; /* default "ClusterFirst" */
  kd_strmap_t node_selector;
  char *service_account_name;
  char *node_name;
  bool host_network;
  bool host_pid;
  bool host_ipc;
  kd_opt_bool_t share_process_namespace;
  kd_pod_security_context_t *security_context; /* defaulted to {} */
  char *hostname;
  char *subdomain;
  char *scheduler_name; /* default "default-scheduler" */
  kd_toleration_t *tolerations;
  size_t n_tolerations;
  kd_host_alias_t *host_aliases;
  size_t n_host_aliases;
  char *priority_class_name;
  kd_opt_i32_t priority;
  kd_dns_config_t *dns_config;
  kd_opt_bool_t enable_service_links; /* default true */
  char *preemption_policy;            /* set by the Priority admission plugin, not by v1 defaults */
} kd_pod_spec_t;

/* ---- status ------------------------------------------------------------ */

typedef struct
{
  char *type;
  char *status;                   /* "True" | "False" | "Unknown" */
  kd_time_t last_probe_time;      /* null when 0 */
  kd_time_t last_transition_time; /* null when 0 */
  char *reason;
  char *message;
} kd_pod_condition_t;

typedef struct
{
  char *reason;
  char *message;
} kd_state_waiting_t;

typedef struct
{
  kd_time_t started_at;
} kd_state_running_t;

typedef struct
{
  int32_t exit_code; /* always emitted */
  int32_t signal;    /* omitempty */
  char *reason;
  char *message;
  kd_time_t started_at;  /* null when 0 */
  kd_time_t finished_at; /* null when 0 */
  char *container_id;
} kd_state_terminated_t;

typedef struct
{
  kd_state_waiting_t *waiting;
  kd_state_running_t *running;
  kd_state_terminated_t *terminated;
} kd_container_state_t;

typedef struct
{
  char *name;
  kd_container_state_t state;      /* always emitted */
  kd_container_state_t last_state; /* always emitted ({} when empty) */
  bool ready;                      /* always emitted */
  int32_t restart_count;           /* always emitted */
  char *image;                     /* always emitted */
  char *image_id;                  /* "imageID", always emitted */
  char *container_id;              /* "containerID", omitempty */
  kd_opt_bool_t started;
} kd_container_status_t;

typedef struct
{
  char *ip;
} kd_pod_ip_t;

typedef struct
{
  char *phase;
  kd_pod_condition_t *conditions;
  size_t n_conditions;
  char *message;
  char *reason;
  char *host_ip;
  kd_pod_ip_t *host_ips;
  size_t n_host_ips;
  char *pod_ip;
  kd_pod_ip_t *pod_ips;
  size_t n_pod_ips;
  kd_time_t start_time; /* *Time: omitted when 0 */
  kd_container_status_t *init_container_statuses;
  size_t n_init_container_statuses;
  kd_container_status_t *container_statuses;
  size_t n_container_statuses;
  char *qos_class;
} kd_pod_status_t;

typedef struct
{
  char *api_version; /* "v1" */
  char *kind;        /* "Pod" */
  kd_object_meta_t metadata;
  kd_pod_spec_t spec;
  kd_pod_status_t status;
} kd_pod_t;

/* ---- descriptors ------------------------------------------------------- */

typedef enum
{
  KD_T_STRING,     /* char * */
  KD_T_INT32,      /* int32_t */
  KD_T_INT64,      /* int64_t */
  KD_T_BOOL,       /* bool */
  KD_T_OPT_INT32,  /* kd_opt_i32_t */
  KD_T_OPT_INT64,  /* kd_opt_i64_t */
  KD_T_OPT_BOOL,   /* kd_opt_bool_t */
  KD_T_OPT_STRING, /* char * plus a bool at aux_offset: *string */
  KD_T_INTSTR,     /* kd_intstr_t */
  KD_T_TIME,       /* kd_time_t */
  KD_T_QUANTITY,   /* char * holding quantity text; accepts numbers */
  KD_T_STRV,       /* kd_strv_t */
  KD_T_I64V,       /* kd_i64v_t */
  KD_T_STRMAP,     /* kd_strmap_t */
  KD_T_RESOURCES,  /* kd_strmap_t of quantities */
  KD_T_OBJECT,     /* pointer to a struct of `type` */
  KD_T_STRUCT,     /* a struct of `type` embedded by value */
  KD_T_INLINE,     /* a struct embedded by value whose fields sit at this level */
  KD_T_LIST,       /* pointer to an array of `type` at offset, count at aux_offset */
  KD_T_PRESENT,    /* bool set when the key is present; never emitted */
} kd_kind_t;

enum
{
  KD_F_OMITEMPTY = 1 << 0, /* leave out when zero/empty/NULL */
  KD_F_NULLABLE = 1 << 1,  /* KD_T_TIME / KD_T_QUANTITY: emit null/"0" when unset */
  KD_F_INTERNAL = 1 << 2,  /* not a JSON key: never decoded nor emitted, only copied
                              and freed (e.g. kd_volume_t.other_source_name) */
};

typedef struct kd_type kd_type_t;

typedef struct
{
  const char *name; /* JSON key */
  kd_kind_t kind;
  unsigned flags;
  size_t offset;
  size_t aux_offset;     /* KD_T_LIST count, KD_T_OPT_STRING set flag */
  const kd_type_t *type; /* KD_T_OBJECT, KD_T_STRUCT, KD_T_INLINE, KD_T_LIST */
} kd_field_t;

struct kd_type
{
  const char *name; /* Go type name, e.g. "Container" */
  size_t size;
  const kd_field_t *fields;
  size_t n_fields;
};

extern const kd_type_t kd_type_pod;
extern const kd_type_t kd_type_container;
extern const kd_type_t kd_type_pod_status;
extern const kd_type_t kd_type_container_status;

/* Decodes node into obj (of type) appending type errors and unknown-field
   warnings under `path` ("" for the top). Never fails hard: bad fields are
   reported and left unset. */
void kd_decode (const kd_type_t *type, const kd_node_t *node, void *obj, const char *path,
                kd_field_errors_t *errs);
/* Encodes obj (of type) in the API's spelling. Never NULL. */
json_t *kd_encode (const kd_type_t *type, const void *obj);
/* Frees everything obj owns (not obj itself) and zeroes it. */
void kd_type_free (const kd_type_t *type, void *obj);
/* Deep copy of src into dst (dst is overwritten, not freed). */
void kd_type_copy (const kd_type_t *type, void *dst, const void *src);

/* Pod wrappers. kd_pod_free frees the pod itself too. */
void kd_pod_decode (const kd_node_t *node, kd_pod_t *pod, kd_field_errors_t *errs);
json_t *kd_pod_to_json (const kd_pod_t *pod);
kd_pod_t *kd_pod_copy (const kd_pod_t *pod);
void kd_pod_free (kd_pod_t *pod);

/* ---- quantities (k8s.io/apimachinery/pkg/api/resource) ---------------- */

typedef enum
{
  KD_QFMT_DECIMAL_SI,       /* "100m", "1k", "5G" */
  KD_QFMT_BINARY_SI,        /* "128Mi" */
  KD_QFMT_DECIMAL_EXPONENT, /* "1e3" */
} kd_quantity_format_t;

typedef struct
{
  /* value = mantissa * 10^scale, exact for what Kubernetes accepts here */
  int64_t milli; /* the value in thousandths, saturated at INT64_MAX */
  bool overflow; /* too large for milli (still valid if < 2^63 units) */
  int64_t value; /* the value rounded up to a whole number */
  kd_quantity_format_t format;
  /* The exact value: (negative ? -1 : 1) * mantissa * 10^exponent, kept as
     Go keeps it (int64Amount{value, scale} on the fast path, so the scale is
     not normalized). milli and value round away from zero. */
  bool negative;
  unsigned __int128 mantissa;
  int64_t exponent;
  bool int64_amount; /* Go holds it as an int64Amount (fast path) */
  /* Go's parser keeps the input as the quantity's string when it already
     looks canonical ("100m", "1.500", "+1"); String() and MarshalJSON then
     print it verbatim. */
  bool cached;
  char text[64];
} kd_quantity_t;

/* Parses "100m", "0.5", "128Mi", "1G", "1e3", "+1.5Ki" exactly as
   resource.ParseQuantity does (no surrounding blanks: UnmarshalJSON trims
   them before parsing). Returns 0 or -1. */
int kd_quantity_parse (const char *s, kd_quantity_t *q);
/* What Kubernetes prints for the quantity (Quantity.String / MarshalJSON):
   the kept input text, or the canonical form ("0.5" -> "500m",
   "1000M" -> "1G", "1.5Gi" -> "1536Mi"). Caller frees. */
char *kd_quantity_canonical (const kd_quantity_t *q);
/* Compares the exact values: -1, 0 or 1 (Quantity.Cmp). */
int kd_quantity_cmp (const kd_quantity_t *a, const kd_quantity_t *b);
/* Quantity.RoundUp(Milli): rounds away from zero to thousandths (what
   SetDefaults_ResourceList does to every resource list). */
void kd_quantity_round_up_milli (kd_quantity_t *q);

/* ---- defaults and validation ------------------------------------------- */

/* Kubernetes' SetDefaults_Pod and friends (pkg/apis/core/v1/defaults.go). */
void kd_pod_set_defaults (kd_pod_t *pod);
/* The image pull policy default for an image reference. */
const char *kd_default_pull_policy (const char *image);

/* ValidatePodCreate for the fields this model has, plus the static-pod
   rules (no secret/configMap/PVC/projected volumes, no serviceAccountName,
   no env from secrets or config maps). Appends to errs. */
void kd_pod_validate (const kd_pod_t *pod, kd_field_errors_t *errs);

/* Field helpers used by validation and by other modules. */
bool kd_is_dns1123_label (const char *s);
bool kd_is_dns1123_subdomain (const char *s);
bool kd_is_qualified_name (const char *s);
bool kd_is_c_identifier_env (const char *s); /* env var names */

/* ---- static pods (kubelet pkg/kubelet/config/common.go) ----------------- */

/* Applies the static-pod identity: name "<name>-<node>", namespace default,
   uid = 32-hex hash of the pod's content, node and source path, annotations
   kubernetes.io/config.source=file, config.hash=<uid>, config.seen=<now>,
   spec.nodeName, the NoExecute toleration, status.phase Pending. */
void kd_pod_make_static (kd_pod_t *pod, const char *node_name, const char *source_path,
                         int64_t seen_ns);

/* QoS class of a (defaulted) pod: "Guaranteed", "Burstable", "BestEffort". */
const char *kd_pod_qos_class (const kd_pod_t *pod);

#endif
