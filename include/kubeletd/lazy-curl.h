/* libcurl (registry pulls, the manifest URL source, httpGet probes, the client), loaded at first use: see kubeletd/lazy.h.
   Include this instead of the library's header; calls keep their names. */
#ifndef KUBELETD_LAZY_CURL_H
#define KUBELETD_LAZY_CURL_H

#include <curl/curl.h>

#include "kubeletd/lazy.h"

#define KD_LAZY_CURL_FUNCS(X)                                                                      \
  X (curl_global_init)                                                                             \
  X (curl_easy_init)                                                                               \
  X (curl_easy_setopt)                                                                             \
  X (curl_easy_getinfo)                                                                            \
  X (curl_easy_perform)                                                                            \
  X (curl_easy_cleanup)                                                                            \
  X (curl_easy_reset)                                                                              \
  X (curl_easy_strerror)                                                                           \
  X (curl_easy_header)                                                                             \
  X (curl_easy_escape)                                                                             \
  X (curl_free)                                                                                    \
  X (curl_slist_append)                                                                            \
  X (curl_slist_free_all)                                                                          \
  X (curl_multi_init)                                                                              \
  X (curl_multi_setopt)                                                                            \
  X (curl_multi_add_handle)                                                                        \
  X (curl_multi_remove_handle)                                                                     \
  X (curl_multi_assign)                                                                            \
  X (curl_multi_socket_action)                                                                     \
  X (curl_multi_info_read)                                                                         \
  X (curl_multi_cleanup)                                                                           \
  X (curl_url)                                                                                     \
  X (curl_url_set)                                                                                 \
  X (curl_url_get)                                                                                 \
  X (curl_url_cleanup)

typedef struct
{
  KD_LAZY_CURL_FUNCS (KD_LAZY_SLOT)
} kd_lazy_curl_t;

/* The table, loaded on the first call (any thread); aborts with the
   loader's message when libcurl.so.4 cannot be loaded. */
const kd_lazy_curl_t *kd_lazy_curl (void);

#ifndef KD_LAZY_NO_MACROS
#undef curl_global_init
#define curl_global_init (kd_lazy_curl ()->curl_global_init)
#undef curl_easy_init
#define curl_easy_init (kd_lazy_curl ()->curl_easy_init)
#undef curl_easy_setopt
#define curl_easy_setopt (kd_lazy_curl ()->curl_easy_setopt)
#undef curl_easy_getinfo
#define curl_easy_getinfo (kd_lazy_curl ()->curl_easy_getinfo)
#undef curl_easy_perform
#define curl_easy_perform (kd_lazy_curl ()->curl_easy_perform)
#undef curl_easy_cleanup
#define curl_easy_cleanup (kd_lazy_curl ()->curl_easy_cleanup)
#undef curl_easy_reset
#define curl_easy_reset (kd_lazy_curl ()->curl_easy_reset)
#undef curl_easy_strerror
#define curl_easy_strerror (kd_lazy_curl ()->curl_easy_strerror)
#undef curl_easy_header
#define curl_easy_header (kd_lazy_curl ()->curl_easy_header)
#undef curl_easy_escape
#define curl_easy_escape (kd_lazy_curl ()->curl_easy_escape)
#undef curl_free
#define curl_free (kd_lazy_curl ()->curl_free)
#undef curl_slist_append
#define curl_slist_append (kd_lazy_curl ()->curl_slist_append)
#undef curl_slist_free_all
#define curl_slist_free_all (kd_lazy_curl ()->curl_slist_free_all)
#undef curl_multi_init
#define curl_multi_init (kd_lazy_curl ()->curl_multi_init)
#undef curl_multi_setopt
#define curl_multi_setopt (kd_lazy_curl ()->curl_multi_setopt)
#undef curl_multi_add_handle
#define curl_multi_add_handle (kd_lazy_curl ()->curl_multi_add_handle)
#undef curl_multi_remove_handle
#define curl_multi_remove_handle (kd_lazy_curl ()->curl_multi_remove_handle)
#undef curl_multi_assign
#define curl_multi_assign (kd_lazy_curl ()->curl_multi_assign)
#undef curl_multi_socket_action
#define curl_multi_socket_action (kd_lazy_curl ()->curl_multi_socket_action)
#undef curl_multi_info_read
#define curl_multi_info_read (kd_lazy_curl ()->curl_multi_info_read)
#undef curl_multi_cleanup
#define curl_multi_cleanup (kd_lazy_curl ()->curl_multi_cleanup)
#undef curl_url
#define curl_url (kd_lazy_curl ()->curl_url)
#undef curl_url_set
#define curl_url_set (kd_lazy_curl ()->curl_url_set)
#undef curl_url_get
#define curl_url_get (kd_lazy_curl ()->curl_url_get)
#undef curl_url_cleanup
#define curl_url_cleanup (kd_lazy_curl ()->curl_url_cleanup)
#endif

#endif
