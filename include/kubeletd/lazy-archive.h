/* libarchive (layer unpacking, image import), loaded at first use: see kubeletd/lazy.h.
   Include this instead of the library's header; calls keep their names. */
#ifndef KUBELETD_LAZY_ARCHIVE_H
#define KUBELETD_LAZY_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "kubeletd/lazy.h"

#define KD_LAZY_ARCHIVE_FUNCS(X)                                                                   \
  X (archive_error_string)                                                                         \
  X (archive_set_error)                                                                            \
  X (archive_read_new)                                                                             \
  X (archive_read_free)                                                                            \
  X (archive_read_support_format_tar)                                                              \
  X (archive_read_support_format_raw)                                                              \
  X (archive_read_support_filter_all)                                                              \
  X (archive_read_open)                                                                            \
  X (archive_read_open_fd)                                                                         \
  X (archive_read_open_filename)                                                                   \
  X (archive_read_next_header)                                                                     \
  X (archive_read_data)                                                                            \
  X (archive_read_data_block)                                                                      \
  X (archive_write_disk_new)                                                                       \
  X (archive_write_disk_set_options)                                                               \
  X (archive_write_header)                                                                         \
  X (archive_write_data_block)                                                                     \
  X (archive_write_finish_entry)                                                                   \
  X (archive_write_close)                                                                          \
  X (archive_write_free)                                                                           \
  X (archive_entry_filetype)                                                                       \
  X (archive_entry_pathname)                                                                       \
  X (archive_entry_set_pathname)                                                                   \
  X (archive_entry_hardlink)                                                                       \
  X (archive_entry_set_hardlink)                                                                   \
  X (archive_entry_symlink)                                                                        \
  X (archive_entry_size)                                                                           \
  X (archive_entry_rdevmajor)                                                                      \
  X (archive_entry_rdevminor)                                                                      \
  X (archive_entry_xattr_clear)                                                                    \
  X (archive_entry_xattr_add_entry)                                                                \
  X (archive_entry_xattr_count)                                                                    \
  X (archive_entry_xattr_reset)                                                                    \
  X (archive_entry_xattr_next)

typedef struct
{
  KD_LAZY_ARCHIVE_FUNCS (KD_LAZY_SLOT)
} kd_lazy_archive_t;

/* The table, loaded on the first call (any thread); aborts with the
   loader's message when libarchive.so.13 cannot be loaded. */
const kd_lazy_archive_t *kd_lazy_archive (void);

#ifndef KD_LAZY_NO_MACROS
#undef archive_error_string
#define archive_error_string (kd_lazy_archive ()->archive_error_string)
#undef archive_set_error
#define archive_set_error (kd_lazy_archive ()->archive_set_error)
#undef archive_read_new
#define archive_read_new (kd_lazy_archive ()->archive_read_new)
#undef archive_read_free
#define archive_read_free (kd_lazy_archive ()->archive_read_free)
#undef archive_read_support_format_tar
#define archive_read_support_format_tar (kd_lazy_archive ()->archive_read_support_format_tar)
#undef archive_read_support_format_raw
#define archive_read_support_format_raw (kd_lazy_archive ()->archive_read_support_format_raw)
#undef archive_read_support_filter_all
#define archive_read_support_filter_all (kd_lazy_archive ()->archive_read_support_filter_all)
#undef archive_read_open
#define archive_read_open (kd_lazy_archive ()->archive_read_open)
#undef archive_read_open_fd
#define archive_read_open_fd (kd_lazy_archive ()->archive_read_open_fd)
#undef archive_read_open_filename
#define archive_read_open_filename (kd_lazy_archive ()->archive_read_open_filename)
#undef archive_read_next_header
#define archive_read_next_header (kd_lazy_archive ()->archive_read_next_header)
#undef archive_read_data
#define archive_read_data (kd_lazy_archive ()->archive_read_data)
#undef archive_read_data_block
#define archive_read_data_block (kd_lazy_archive ()->archive_read_data_block)
#undef archive_write_disk_new
#define archive_write_disk_new (kd_lazy_archive ()->archive_write_disk_new)
#undef archive_write_disk_set_options
#define archive_write_disk_set_options (kd_lazy_archive ()->archive_write_disk_set_options)
#undef archive_write_header
#define archive_write_header (kd_lazy_archive ()->archive_write_header)
#undef archive_write_data_block
#define archive_write_data_block (kd_lazy_archive ()->archive_write_data_block)
#undef archive_write_finish_entry
#define archive_write_finish_entry (kd_lazy_archive ()->archive_write_finish_entry)
#undef archive_write_close
#define archive_write_close (kd_lazy_archive ()->archive_write_close)
#undef archive_write_free
#define archive_write_free (kd_lazy_archive ()->archive_write_free)
#undef archive_entry_filetype
#define archive_entry_filetype (kd_lazy_archive ()->archive_entry_filetype)
#undef archive_entry_pathname
#define archive_entry_pathname (kd_lazy_archive ()->archive_entry_pathname)
#undef archive_entry_set_pathname
#define archive_entry_set_pathname (kd_lazy_archive ()->archive_entry_set_pathname)
#undef archive_entry_hardlink
#define archive_entry_hardlink (kd_lazy_archive ()->archive_entry_hardlink)
#undef archive_entry_set_hardlink
#define archive_entry_set_hardlink (kd_lazy_archive ()->archive_entry_set_hardlink)
#undef archive_entry_symlink
#define archive_entry_symlink (kd_lazy_archive ()->archive_entry_symlink)
#undef archive_entry_size
#define archive_entry_size (kd_lazy_archive ()->archive_entry_size)
#undef archive_entry_rdevmajor
#define archive_entry_rdevmajor (kd_lazy_archive ()->archive_entry_rdevmajor)
#undef archive_entry_rdevminor
#define archive_entry_rdevminor (kd_lazy_archive ()->archive_entry_rdevminor)
#undef archive_entry_xattr_clear
#define archive_entry_xattr_clear (kd_lazy_archive ()->archive_entry_xattr_clear)
#undef archive_entry_xattr_add_entry
#define archive_entry_xattr_add_entry (kd_lazy_archive ()->archive_entry_xattr_add_entry)
#undef archive_entry_xattr_count
#define archive_entry_xattr_count (kd_lazy_archive ()->archive_entry_xattr_count)
#undef archive_entry_xattr_reset
#define archive_entry_xattr_reset (kd_lazy_archive ()->archive_entry_xattr_reset)
#undef archive_entry_xattr_next
#define archive_entry_xattr_next (kd_lazy_archive ()->archive_entry_xattr_next)
#endif

#endif
