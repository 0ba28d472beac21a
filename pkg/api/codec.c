/* The descriptor-driven codec: free, copy and JSON encoding of the Pod model,
   driven by the tables of types.c (decoding is in decode.c). Encoding follows
   Go's encoding/json on the k8s.io/api structs: `omitempty` leaves zero
   values out, structs are always printed, nil pointers without omitempty
   print null. */

#include "codec-internal.h"

#define AT(base, off, T)  ((T *) (void *) ((char *) (base) + (off)))
#define CAT(base, off, T) ((const T *) (const void *) ((const char *) (base) + (off)))

/* ---- free and copy ----------------------------------------------------- */

static void free_fields (const kd_type_t *type, void *obj);

void
kd_strv_clear (kd_strv_t *v)
{
  for (size_t i = 0; i < v->n; i++)
    free (v->v[i]);
  free (v->v);
  v->v = NULL;
  v->n = 0;
}

static void
strmap_free (kd_strmap_t *m)
{
  size_t i;

  for (i = 0; i < m->n; i++)
    {
      free (m->v[i].key);
      free (m->v[i].value);
    }
  free (m->v);
  m->v = NULL;
  m->n = 0;
}

void
kd_api_free_field (const kd_field_t *f, void *base)
{
  switch (f->kind)
    {
    case KD_T_STRING:
    case KD_T_QUANTITY:
      free (*AT (base, f->offset, char *));
      *AT (base, f->offset, char *) = NULL;
      break;
    case KD_T_OPT_STRING:
      free (*AT (base, f->offset, char *));
      *AT (base, f->offset, char *) = NULL;
      *AT (base, f->aux_offset, bool) = false;
      break;
    case KD_T_INTSTR:
      free (AT (base, f->offset, kd_intstr_t)->s);
      memset (AT (base, f->offset, kd_intstr_t), 0, sizeof (kd_intstr_t));
      break;
    case KD_T_STRV:
      kd_strv_clear (AT (base, f->offset, kd_strv_t));
      break;
    case KD_T_I64V:
      free (AT (base, f->offset, kd_i64v_t)->v);
      memset (AT (base, f->offset, kd_i64v_t), 0, sizeof (kd_i64v_t));
      break;
    case KD_T_STRMAP:
    case KD_T_RESOURCES:
      strmap_free (AT (base, f->offset, kd_strmap_t));
      break;
    case KD_T_OBJECT:
      {
        void **p = AT (base, f->offset, void *);

        if (*p)
          {
            free_fields (f->type, *p);
            free (*p);
            *p = NULL;
          }
        break;
      }
    case KD_T_STRUCT:
    case KD_T_INLINE:
      free_fields (f->type, AT (base, f->offset, void));
      break;
    case KD_T_LIST:
      {
        char **p = AT (base, f->offset, char *);
        size_t *n = AT (base, f->aux_offset, size_t);
        size_t i;

        for (i = 0; *p && i < *n; i++)
          free_fields (f->type, *p + i * f->type->size);
        free (*p);
        *p = NULL;
        *n = 0;
        break;
      }
    case KD_T_INT32:
      *AT (base, f->offset, int32_t) = 0;
      break;
    case KD_T_INT64:
    case KD_T_TIME:
      *AT (base, f->offset, int64_t) = 0;
      break;
    case KD_T_BOOL:
    case KD_T_PRESENT:
      *AT (base, f->offset, bool) = false;
      break;
    case KD_T_OPT_INT32:
      memset (AT (base, f->offset, kd_opt_i32_t), 0, sizeof (kd_opt_i32_t));
      break;
    case KD_T_OPT_INT64:
      memset (AT (base, f->offset, kd_opt_i64_t), 0, sizeof (kd_opt_i64_t));
      break;
    case KD_T_OPT_BOOL:
      memset (AT (base, f->offset, kd_opt_bool_t), 0, sizeof (kd_opt_bool_t));
      break;
    }
}

static void
free_fields (const kd_type_t *type, void *obj)
{
  size_t i;

  for (i = 0; i < type->n_fields; i++)
    kd_api_free_field (&type->fields[i], obj);
}

void
kd_type_free (const kd_type_t *type, void *obj)
{
  if (obj == NULL)
    return;
  free_fields (type, obj);
  memset (obj, 0, type->size);
}

static char *
strdup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

static void copy_fields (const kd_type_t *type, void *dst, const void *src);

/* dst already holds a shallow copy of src; replace the shared pointers with
   copies. */
static void
copy_field (const kd_field_t *f, void *dst, const void *src)
{
  size_t i;

  switch (f->kind)
    {
    case KD_T_STRING:
    case KD_T_QUANTITY:
    case KD_T_OPT_STRING:
      *AT (dst, f->offset, char *) = strdup_or_null (*CAT (src, f->offset, char *));
      break;
    case KD_T_INTSTR:
      AT (dst, f->offset, kd_intstr_t)->s = strdup_or_null (CAT (src, f->offset, kd_intstr_t)->s);
      break;
    case KD_T_STRV:
      {
        const kd_strv_t *s = CAT (src, f->offset, kd_strv_t);
        kd_strv_t *d = AT (dst, f->offset, kd_strv_t);

        d->v = s->n ? xcalloc (s->n, sizeof (char *)) : NULL;
        for (i = 0; i < s->n; i++)
          d->v[i] = strdup_or_null (s->v[i]);
        break;
      }
    case KD_T_I64V:
      {
        const kd_i64v_t *s = CAT (src, f->offset, kd_i64v_t);
        kd_i64v_t *d = AT (dst, f->offset, kd_i64v_t);

        d->v = s->n ? xmalloc (s->n * sizeof (int64_t)) : NULL;
        if (s->n)
          memcpy (d->v, s->v, s->n * sizeof (int64_t));
        break;
      }
    case KD_T_STRMAP:
    case KD_T_RESOURCES:
      {
        const kd_strmap_t *s = CAT (src, f->offset, kd_strmap_t);
        kd_strmap_t *d = AT (dst, f->offset, kd_strmap_t);

        d->v = s->n ? xcalloc (s->n, sizeof (kd_kv_t)) : NULL;
        for (i = 0; i < s->n; i++)
          {
            d->v[i].key = strdup_or_null (s->v[i].key);
            d->v[i].value = strdup_or_null (s->v[i].value);
          }
        break;
      }
    case KD_T_OBJECT:
      {
        const void *s = *CAT (src, f->offset, void *);

        if (s)
          {
            void *d = xmalloc (f->type->size);

            kd_type_copy (f->type, d, s);
            *AT (dst, f->offset, void *) = d;
          }
        break;
      }
    case KD_T_STRUCT:
    case KD_T_INLINE:
      copy_fields (f->type, AT (dst, f->offset, void), CAT (src, f->offset, void));
      break;
    case KD_T_LIST:
      {
        const char *s = *CAT (src, f->offset, char *);
        size_t n = *CAT (src, f->aux_offset, size_t);
        char *d = NULL;

        if (s && n)
          {
            d = xmalloc (n * f->type->size);
            for (i = 0; i < n; i++)
              kd_type_copy (f->type, d + i * f->type->size, s + i * f->type->size);
          }
        *AT (dst, f->offset, char *) = d;
        *AT (dst, f->aux_offset, size_t) = d ? n : 0;
        break;
      }
    default:
      break; /* plain values came with the shallow copy */
    }
}

static void
copy_fields (const kd_type_t *type, void *dst, const void *src)
{
  size_t i;

  for (i = 0; i < type->n_fields; i++)
    copy_field (&type->fields[i], dst, src);
}

void
kd_type_copy (const kd_type_t *type, void *dst, const void *src)
{
  memcpy (dst, src, type->size);
  copy_fields (type, dst, src);
}

/* ---- encode ------------------------------------------------------------ */

static json_t *
encode_time (kd_time_t t)
{
  char buf[64];

  kd_format_time (t, buf, sizeof (buf));
  return json_string (buf);
}

/* Quantities print in their canonical form, as resource.Quantity does. */
static json_t *
encode_quantity (const char *s)
{
  kd_quantity_t q;

  if (kd_quantity_parse (s, &q) == 0)
    {
      cleanup_free char *c = kd_quantity_canonical (&q);

      return json_string (c);
    }
  return json_string (s);
}

static void encode_fields (const kd_type_t *type, const void *obj, json_t *out);

/* The JSON for one field, or NULL when the field is left out. */
static json_t *
encode_field (const kd_field_t *f, const void *base)
{
  bool omit = f->flags & KD_F_OMITEMPTY;
  size_t i;

  switch (f->kind)
    {
    case KD_T_STRING:
      {
        const char *s = *CAT (base, f->offset, char *);

        if (omit && (s == NULL || s[0] == '\0'))
          return NULL;
        return json_string (s ? s : "");
      }
    case KD_T_OPT_STRING:
      {
        const char *s = *CAT (base, f->offset, char *);

        if (!*CAT (base, f->aux_offset, bool) && s == NULL)
          return omit ? NULL : json_null ();
        return json_string (s ? s : "");
      }
    case KD_T_QUANTITY:
      {
        const char *s = *CAT (base, f->offset, char *);

        if (s && s[0])
          return encode_quantity (s);
        if (f->flags & KD_F_NULLABLE)
          return json_string ("0");
        return omit ? NULL : json_null ();
      }
    case KD_T_INT32:
      {
        int32_t v = *CAT (base, f->offset, int32_t);

        return omit && v == 0 ? NULL : json_integer (v);
      }
    case KD_T_INT64:
      {
        int64_t v = *CAT (base, f->offset, int64_t);

        return omit && v == 0 ? NULL : json_integer (v);
      }
    case KD_T_BOOL:
      {
        bool v = *CAT (base, f->offset, bool);

        return omit && !v ? NULL : json_boolean (v);
      }
    case KD_T_OPT_INT32:
      {
        const kd_opt_i32_t *o = CAT (base, f->offset, kd_opt_i32_t);

        if (!o->set)
          return omit ? NULL : json_null ();
        return json_integer (o->v);
      }
    case KD_T_OPT_INT64:
      {
        const kd_opt_i64_t *o = CAT (base, f->offset, kd_opt_i64_t);

        if (!o->set)
          return omit ? NULL : json_null ();
        return json_integer (o->v);
      }
    case KD_T_OPT_BOOL:
      {
        const kd_opt_bool_t *o = CAT (base, f->offset, kd_opt_bool_t);

        if (!o->set)
          return omit ? NULL : json_null ();
        return json_boolean (o->v);
      }
    case KD_T_INTSTR:
      {
        const kd_intstr_t *is = CAT (base, f->offset, kd_intstr_t);

        /* A zero IntOrString prints as 0 in Go. */
        if (!is->set)
          return omit ? NULL : json_integer (0);
        if (is->is_str)
          return json_string (is->s ? is->s : "");
        return json_integer (is->i);
      }
    case KD_T_TIME:
      {
        kd_time_t t = *CAT (base, f->offset, kd_time_t);

        if (t != 0)
          return encode_time (t);
        if (f->flags & KD_F_NULLABLE)
          return json_null ();
        return omit ? NULL : json_null ();
      }
    case KD_T_STRV:
      {
        const kd_strv_t *sv = CAT (base, f->offset, kd_strv_t);
        json_t *a;

        if (omit && sv->n == 0)
          return NULL;
        a = json_array ();
        for (i = 0; i < sv->n; i++)
          json_array_append_new (a, json_string (sv->v[i] ? sv->v[i] : ""));
        return a;
      }
    case KD_T_I64V:
      {
        const kd_i64v_t *iv = CAT (base, f->offset, kd_i64v_t);
        json_t *a;

        if (omit && iv->n == 0)
          return NULL;
        a = json_array ();
        for (i = 0; i < iv->n; i++)
          json_array_append_new (a, json_integer (iv->v[i]));
        return a;
      }
    case KD_T_STRMAP:
    case KD_T_RESOURCES:
      {
        const kd_strmap_t *m = CAT (base, f->offset, kd_strmap_t);
        json_t *o;

        if (omit && m->n == 0)
          return NULL;
        o = json_object ();
        for (i = 0; i < m->n; i++)
          {
            const char *val = m->v[i].value ? m->v[i].value : "";

            json_object_set_new (o, m->v[i].key,
                                 f->kind == KD_T_RESOURCES ? encode_quantity (val)
                                                           : json_string (val));
          }
        return o;
      }
    case KD_T_OBJECT:
      {
        const void *p = *CAT (base, f->offset, void *);

        if (p == NULL)
          return omit ? NULL : json_null ();
        return kd_encode (f->type, p);
      }
    case KD_T_STRUCT:
      /* Go ignores omitempty on structs: always an object, {} when empty. */
      return kd_encode (f->type, CAT (base, f->offset, void));
    case KD_T_LIST:
      {
        const char *items = *CAT (base, f->offset, char *);
        size_t n = *CAT (base, f->aux_offset, size_t);
        json_t *a;

        if (omit && n == 0)
          return NULL;
        a = json_array ();
        for (i = 0; items && i < n; i++)
          json_array_append_new (a, kd_encode (f->type, items + i * f->type->size));
        return a;
      }
    case KD_T_INLINE:
    case KD_T_PRESENT:
    default:
      return NULL;
    }
}

static void
encode_fields (const kd_type_t *type, const void *obj, json_t *out)
{
  size_t i;

  for (i = 0; i < type->n_fields; i++)
    {
      const kd_field_t *f = &type->fields[i];
      json_t *v;

      if (f->flags & KD_F_INTERNAL || f->kind == KD_T_PRESENT)
        continue;
      if (f->kind == KD_T_INLINE)
        {
          encode_fields (f->type, CAT (obj, f->offset, void), out);
          continue;
        }
      v = encode_field (f, obj);
      if (v)
        json_object_set_new (out, f->name, v);
    }
}

json_t *
kd_encode (const kd_type_t *type, const void *obj)
{
  json_t *out = json_object ();

  if (obj)
    encode_fields (type, obj, out);
  return out;
}

/* ---- pods -------------------------------------------------------------- */

void
kd_pod_decode (const kd_node_t *node, kd_pod_t *pod, kd_field_errors_t *errs)
{
  kd_decode (&kd_type_pod, node, pod, "", errs);
}

json_t *
kd_pod_to_json (const kd_pod_t *pod)
{
  return kd_encode (&kd_type_pod, pod);
}

kd_pod_t *
kd_pod_copy (const kd_pod_t *pod)
{
  kd_pod_t *r = xcalloc (1, sizeof (kd_pod_t));

  if (pod)
    kd_type_copy (&kd_type_pod, r, pod);
  return r;
}

void
kd_pod_free (kd_pod_t *pod)
{
  if (pod == NULL)
    return;
  kd_type_free (&kd_type_pod, pod);
  free (pod);
}
