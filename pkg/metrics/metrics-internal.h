/* Private to pkg/metrics: the registry's data (registry.c) that the
   renderer (render.c) and the built-in catalog (catalog.c) share.

   A family keeps its series sorted by label values taken in label-name
   order (order[]), which is the order the exposition lists them in, so a
   lookup is a binary search and rendering needs no sort. */
#ifndef KD_METRICS_INTERNAL_H
#define KD_METRICS_INTERNAL_H

#include <pthread.h>

#include "kubeletd/metrics.h"

typedef struct
{
  char **values; /* n_labels, in declaration order */
  double value;  /* counter, gauge */
  double sum;    /* histogram */
  uint64_t count;
  uint64_t *buckets; /* histogram: per bucket, not cumulative; the last is +Inf */
} kd_series_t;

typedef struct
{
  char *name;
  char *help;
  kd_metric_type_t type;
  char **label_names;
  size_t n_labels;
  size_t order[KD_METRICS_MAX_LABELS]; /* label indexes sorted by label name */
  double *bounds;                      /* histogram upper bounds, +Inf not included */
  size_t n_bounds;
  kd_series_t **series;
  size_t n_series, cap_series;
  bool overflow_logged;
} kd_family_t;

struct kd_metrics_registry
{
  pthread_mutex_t lock;
  size_t max_series;
  kd_family_t **families; /* sorted by name */
  size_t n_families, cap_families;
};

/* The family that counts series dropped by the cardinality bound. */
#define KD_METRICS_DROPPED "kubeletd_metrics_series_dropped_total"

/* catalog.c: registers the built-in families. */
void kd_metrics_catalog_register (kd_metrics_registry_t *r);

#endif
