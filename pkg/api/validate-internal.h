/* validate-internal: what the three validation files share.
 *
 * Why: Kubernetes' validation is a tree of small checks that each return
 * explanation strings ("must be no more than 63 characters") which the caller
 * turns into field errors with its own path. The same split is kept here:
 * kd_msgs_* fill a kd_msgs_t with the explanations, kd_v_* append field
 * errors with Kubernetes' types and value renderings.
 *
 * How to use:
 *  1. Build the field path with xasprintf ("%s.ports[%zu]", base, i).
 *  2. For a format check call kd_v_dns1123_label (errs, path, value) and the
 *     like, or fill a kd_msgs_t yourself and hand it to kd_v_invalid_msgs.
 *  3. For the rest use kd_v_required / kd_v_invalid / kd_v_not_supported ...
 *     which render the value the way Go's field.Error does (strings quoted,
 *     numbers plain, no value for Required and Forbidden).
 *
 * The rules follow Kubernetes 1.33 with its default feature gates
 * (RelaxedEnvironmentVariableValidation, RelaxedDNSSearchValidation and
 * PodLifecycleSleepActionAllowZero on).
 */
#ifndef KD_API_VALIDATE_INTERNAL_H
#define KD_API_VALIDATE_INTERNAL_H

#include "kubeletd/api.h"

/* ---- explanation lists (validate_names.c) ------------------------------ */

typedef struct
{
  char *v[8];
  size_t n;
} kd_msgs_t;

void kd_msgs_add (kd_msgs_t *m, const char *fmt, ...) KD_PRINTF (2, 3);
void kd_msgs_free (kd_msgs_t *m);

void kd_msgs_dns1123_label (const char *s, kd_msgs_t *m);
void kd_msgs_dns1123_subdomain (const char *s, kd_msgs_t *m);
/* The relaxed form used for dnsConfig.searches ('_' allowed). */
void kd_msgs_dns1123_subdomain_us (const char *s, kd_msgs_t *m);
void kd_msgs_qualified_name (const char *s, kd_msgs_t *m);
void kd_msgs_label_value (const char *s, kd_msgs_t *m);
void kd_msgs_env_name (const char *s, kd_msgs_t *m);
void kd_msgs_port_name (const char *s, kd_msgs_t *m);
void kd_msgs_http_header_name (const char *s, kd_msgs_t *m);

/* netutils.ParseIPSloppy: IPv4 (leading zeros allowed) or IPv6. */
bool kd_is_valid_ip (const char *s);
/* IsValidSysctlName: at most 253 characters, segments joined by '.' or '/'. */
bool kd_is_valid_sysctl_name (const char *s);
/* The regex Kubernetes prints for a bad sysctl name. */
extern const char kd_sysctl_regex[];

/* validatePathNoBacksteps: no ".." element. */
void kd_v_no_backsteps (const char *p, const char *path, kd_field_errors_t *errs);
/* validateLocalDescendingPath: relative and no "..". */
void kd_v_local_descending_path (const char *p, const char *path, kd_field_errors_t *errs);

/* ---- field error helpers (validate_names.c) ---------------------------- */

/* Appends one Invalid error per message with value quoted; frees m. */
void kd_v_invalid_msgs (kd_field_errors_t *errs, const char *path, const char *value, kd_msgs_t *m);
void kd_v_dns1123_label (kd_field_errors_t *errs, const char *path, const char *value);
void kd_v_dns1123_subdomain (kd_field_errors_t *errs, const char *path, const char *value);
void kd_v_qualified_name (kd_field_errors_t *errs, const char *path, const char *value);
/* ValidateLabels: keys and values, all errors on `path` itself. */
void kd_v_labels (kd_field_errors_t *errs, const char *path, const kd_strmap_t *labels);
/* ValidateAnnotations: keys (case-insensitive) and the 256 KiB total. */
void kd_v_annotations (kd_field_errors_t *errs, const char *path, const kd_strmap_t *ann);
/* validation.IsValidIP. */
void kd_v_ip (kd_field_errors_t *errs, const char *path, const char *value);

void kd_v_required (kd_field_errors_t *errs, const char *path, const char *detail);
void kd_v_forbidden (kd_field_errors_t *errs, const char *path, const char *detail);
/* Invalid with a string value (quoted; NULL renders as ""). */
void kd_v_invalid (kd_field_errors_t *errs, const char *path, const char *value,
                   const char *detail);
void kd_v_invalid_int (kd_field_errors_t *errs, const char *path, int64_t value,
                       const char *detail);
/* Invalid with a value already rendered (NULL: none shown). */
void kd_v_invalid_raw (kd_field_errors_t *errs, const char *path, const char *rendered,
                       const char *detail);
void kd_v_duplicate (kd_field_errors_t *errs, const char *path, const char *value);
void kd_v_not_found (kd_field_errors_t *errs, const char *path, const char *value);
/* NotSupported: `Unsupported value: "x": supported values: "a", "b"`. */
void kd_v_not_supported (kd_field_errors_t *errs, const char *path, const char *value,
                         const char *const *supported, size_t n);
/* Go's %#v of a []string: []string{"a", "b"}. Caller frees. */
char *kd_v_render_strv (const kd_strv_t *v);

/* Whether s (NULL: no) is one of list[0..n). */
bool kd_v_in_list (const char *s, const char *const *list, size_t n);
#define IN_LIST(s, list) kd_v_in_list ((s), (list), KD_ARRAY_SIZE (list))
#define NOT_SUPPORTED(errs, path, value, list)                                                     \
  kd_v_not_supported ((errs), (path), (value), (list), KD_ARRAY_SIZE (list))

static inline bool
is_empty (const char *s)
{
  return s == NULL || *s == '\0';
}

/* ---- quantities (validate_container.c) --------------------------------- */

/* -1, 0, 1 like resource.Quantity.Cmp. */
int kd_v_quantity_cmp (const kd_quantity_t *a, const kd_quantity_t *b);
/* The message Kubernetes gives for text that is not a quantity. */
extern const char kd_quantity_regex_msg[];

/* ---- containers (validate_container.c) --------------------------------- */

/* The volumes a mount may name: those that validated cleanly. */
typedef struct
{
  const char **names;
  size_t n;
} kd_volset_t;

/* validateContainers / validateInitContainers for one list. `init` selects
   the init-container rules (whose names must also differ from every app
   container's). */
void kd_v_containers (const kd_pod_spec_t *spec, bool init, const kd_volset_t *vols,
                      kd_field_errors_t *errs);
/* validateContainersOnlyForPod: no whitespace around the image. */
void kd_v_containers_image_space (const kd_pod_spec_t *spec, bool init, kd_field_errors_t *errs);
/* ValidateSecurityContext for a container (validate.c). */
void kd_v_security_context (const kd_security_context_t *sc, const char *base,
                            kd_field_errors_t *errs);
/* validateSeccompProfileField, for pod and container security contexts
   (validate.c). */
void kd_v_seccomp_profile (const kd_seccomp_profile_t *sp, const char *base,
                           kd_field_errors_t *errs);
/* The static-pod refusals inside containers (env from secrets/configMaps). */
void kd_v_containers_static (const kd_pod_spec_t *spec, kd_field_errors_t *errs);

#endif
