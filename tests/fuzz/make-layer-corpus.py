#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_layer into tests/fuzz/corpus/layer/:
small layer tars (plain, gzip, zstd when the zstd tool is there) with
files, directories, links, whiteouts, an opaque marker, and hostile
entries (`../`, absolute paths, writes through symlinks).
    tests/fuzz/make-layer-corpus.py [OUT_DIR]
Deterministic: fixed mtimes and owners, gzip without a name or time."""
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "layer")
os.makedirs(out, exist_ok=True)


def entry(name, kind="file", data=b"", target="", mode=0o644, uid=0, devmajor=0, devminor=0):
    ti = tarfile.TarInfo(name)
    ti.mtime = 1000000
    ti.uid = ti.gid = uid
    ti.mode = mode
    if kind == "dir":
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
    elif kind == "sym":
        ti.type = tarfile.SYMTYPE
        ti.linkname = target
    elif kind == "hard":
        ti.type = tarfile.LNKTYPE
        ti.linkname = target
    elif kind == "chr":
        ti.type = tarfile.CHRTYPE
        ti.devmajor, ti.devminor = devmajor, devminor
    elif kind == "fifo":
        ti.type = tarfile.FIFOTYPE
    else:
        ti.size = len(data)
    return ti, (io.BytesIO(data) if kind == "file" else None)


def layer(entries, fmt=tarfile.USTAR_FORMAT, pax=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=pax or {}) as t:
        for ti, f in entries:
            t.addfile(ti, f)
    return buf.getvalue()


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


basic = layer([
    entry("./", "dir"),
    entry("bin/", "dir"),
    entry("bin/busybox", data=b"\x7fELF fake", mode=0o755),
    entry("bin/sh", "sym", target="busybox"),
    entry("bin/su", data=b"su", mode=0o4755, uid=1000),
    entry("etc/hostname", data=b"node1\n"),
    entry("etc/hostname.bak", "hard", target="etc/hostname"),
    entry("run/fifo", "fifo"),
])
whiteouts = layer([
    entry("etc/", "dir"),
    entry("etc/.wh.motd"),
    entry("var/cache/", "dir"),
    entry("var/cache/.wh..wh..opq"),
    entry("var/cache/new", data=b"x"),
    entry(".wh.toplevel"),
    entry("gone", "chr"),
])
write("basic.tar", basic)
write("whiteouts.tar", whiteouts)
write("basic.tar.gz", gzip.compress(basic, mtime=0))
write("whiteouts.tar.gz", gzip.compress(whiteouts, mtime=0))
write("pax-xattr.tar", layer([
    entry("ping", data=b"ping", mode=0o755),
], fmt=tarfile.PAX_FORMAT, pax={"SCHILY.xattr.trusted.overlay.redirect": "/etc"}))
write("dotdot.tar", layer([entry("ok", data=b"ok"), entry("../escaped", data=b"evil")]))
write("absolute.tar", layer([entry("/tmp/kd-fuzz-escaped", data=b"evil")]))
write("abs-symlink-write.tar", layer([
    entry("lnk", "sym", target="/tmp"),
    entry("lnk/kd-fuzz-escaped", data=b"evil"),
]))
write("dotdot-symlink-write.tar", layer([
    entry("up", "sym", target=".."),
    entry("up/escaped", data=b"evil"),
    entry("up/.wh.blob"),
]))
write("hardlink-out.tar", layer([entry("passwd", "hard", target="/etc/passwd")]))
write("device.tar", layer([entry("sda", "chr", devmajor=8, devminor=0)]))
if shutil.which("zstd"):
    z = subprocess.run(["zstd", "-q", "-c", "-19"], input=basic, capture_output=True, check=True)
    write("basic.tar.zst", z.stdout)
