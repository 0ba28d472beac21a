/* The kubelet's numbers: CPU shares, CFS quota, cgroup v2 weight and the
 * container oom_score_adj (pkg/kubelet/cm/helpers_linux.go and
 * pkg/kubelet/qos/policy.go), plus the QoS-class cgroup paths. */
#include "cgroup-internal.h"

#define MIN_SHARES       2
#define MAX_SHARES       262144
#define SHARES_PER_CPU   1024
#define MILLI_CPU_TO_CPU 1000
#define QUOTA_PERIOD     100000
/* The kernel refuses a CFS quota under 1 ms. */
#define MIN_QUOTA_PERIOD 1000

#define GUARANTEED_OOM_SCORE_ADJ (-997)
#define BESTEFFORT_OOM_SCORE_ADJ 1000

int64_t
kd_cgroup_shares_from_millis (int64_t millis)
{
  int64_t shares;

  /* Zero millicores is the kernel's minimum, as for a BestEffort pod. */
  if (millis <= 0)
    return MIN_SHARES;
  if (millis > INT64_MAX / SHARES_PER_CPU)
    return MAX_SHARES;
  shares = millis * SHARES_PER_CPU / MILLI_CPU_TO_CPU;
  if (shares < MIN_SHARES)
    return MIN_SHARES;
  if (shares > MAX_SHARES)
    return MAX_SHARES;
  return shares;
}

int64_t
kd_cgroup_quota_from_millis (int64_t millis, int64_t period_us)
{
  __int128 quota;

  if (millis <= 0)
    return 0;
  if (period_us <= 0)
    period_us = QUOTA_PERIOD;
  quota = (__int128) millis * period_us / MILLI_CPU_TO_CPU;
  if (quota < MIN_QUOTA_PERIOD)
    return MIN_QUOTA_PERIOD;
  if (quota > INT64_MAX)
    return INT64_MAX;
  return (int64_t) quota;
}

int64_t
kd_cgroup_weight_from_shares (int64_t shares)
{
  /* runc's conversion maps [2, 262144] onto [1, 10000]; 0 stays unset. */
  if (shares <= 0)
    return 0;
  if (shares < MIN_SHARES)
    shares = MIN_SHARES;
  if (shares > MAX_SHARES)
    shares = MAX_SHARES;
  return 1 + ((shares - 2) * 9999) / 262142;
}

int
kd_oom_score_adj (const char *qos_class, int64_t memory_request, int64_t node_memory)
{
  __int128 adj;

  if (kd_str_eq (qos_class, "Guaranteed"))
    return GUARANTEED_OOM_SCORE_ADJ;
  if (kd_str_eq (qos_class, "BestEffort"))
    return BESTEFFORT_OOM_SCORE_ADJ;
  /* Burstable: the larger the share of the node's memory requested, the
     lower the score; never as low as Guaranteed (so at least 1000 - 997)
     and never as high as BestEffort. */
  if (node_memory <= 0)
    return BESTEFFORT_OOM_SCORE_ADJ - 1;
  if (memory_request < 0)
    memory_request = 0;
  adj = 1000 - ((__int128) 1000 * memory_request) / node_memory;
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ)
    return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj == BESTEFFORT_OOM_SCORE_ADJ)
    return BESTEFFORT_OOM_SCORE_ADJ - 1;
  return (int) adj;
}

char *
kd_cgroup_pod_path (const char *cgroup_root, const char *qos_class, const char *pod_uid)
{
  const char *root = (cgroup_root && cgroup_root[0]) ? cgroup_root : "kubepods";
  size_t n;

  while (*root == '/')
    root++;
  n = strlen (root);
  while (n > 0 && root[n - 1] == '/')
    n--;
  /* The kubelet's tree: Guaranteed pods directly under the root, the
     other classes under a parent of their own. "/" puts them at the top. */
  if (kd_str_eq (qos_class, "Burstable"))
    return xasprintf ("%.*s%sburstable/pod%s", (int) n, root, n ? "/" : "", pod_uid);
  if (kd_str_eq (qos_class, "BestEffort"))
    return xasprintf ("%.*s%sbesteffort/pod%s", (int) n, root, n ? "/" : "", pod_uid);
  return xasprintf ("%.*s%spod%s", (int) n, root, n ? "/" : "", pod_uid);
}
