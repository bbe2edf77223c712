"""The cache layout: where everything lives under the cache root, and what is there.

The one package that knows the layout; the downloader (``fetch``), the cache
CLI (``ckptzoo cache``) and the index readers (``sources._http`` for http(s),
``sources.object_store`` for object storage) go through it. docs/downloads.md
("The cache layout") describes it for users::

    <root>/                                  config.cache_root(): CKPTZOO_CACHE or the platform cache dir
      blobs/sha256/ab/<sha256>               downloaded files, named by their sha256 (one copy per content)
      urls/<sha256 of the URL>.json          what a URL resolved to: sha256, size, ETag, Last-Modified, time
      views/<zoo>/<model>/<ckpt>/<file>      readable links into blobs/ (symlink, hard link)
      views/by-url/<key>/<file>              the same for a URL fetched without a view
      indexes/<key>.body, <key>.json         a zoo index read over http(s) or from object storage (a JSON or
                                             Parquet body; of a Parquet index on object storage, its checked
                                             grid as an Arrow file) and its record (URL, validators, sha256)
      indexes/<key>.parts/<group>.<column>.arrow
                                             of that Parquet index, the `entry` and `description` columns of
                                             the row groups read since (a model opened once opens offline)
      hub/<key>.body, <key>.json             an answer of a live source's API (the Hugging Face Hub: a page of a
                                             search, a model's info, its branches, its README) and its record
                                             (URL without credentials, ETag, when it was fetched, the next-page
                                             link); reused within a freshness window, revalidated after it
                                             (sources/hub_client.py), served offline
      scans/sha256/<sha256>.json             the pickle-scan verdict of a file content
      weights/sha256/<sha256>.json           per-tensor statistics of a safetensors content (ckptzoo_widgets.weights)
      weights/pairs/<sha256 a>/<sha256 b>.json
                                             the change from content a to content b, per tensor
      weights/commits/<sha1>.json            the weight files (name -> sha256) of a Hub commit, which never changes
      tmp/<key>.part, <key>.part.json        a download in progress and its validators (resume)
      locks/<key>.lock                       one lock per file being downloaded (gone once cached)

Writes are atomic (``atomic_write``: a temporary name in the same folder, then ``os.replace``),
so a reader sees the old content or the new, never half.

The machine's shared answer cache (``CKPTZOO_SHARED_CACHE``, ``config.shared_cache``;
docs/classroom.md) has the same ``hub/`` layout, written by many Unix users of one group::

    <shared>/                                made by the teacher: group <class>, mode 2770 (setgid, group rwx)
      hub/<key>.body, <key>.json             public answers of the Hub's API (anonymous requests only)
      locks/<key>.lock                       one empty file per answer asked: one user asks, the others wait

Folders are made ``SHARED_DIR_MODE`` (2770) and files ``SHARED_FILE_MODE`` (0640), whatever
the user's umask, with the shared folder's group (``write_shared``); a temporary file is made
with ``O_EXCL | O_NOFOLLOW``, so a name another user planted is never followed. Reads
(``read_shared``) take regular files only, not links, one name each, within a size cap: what
is read is untrusted (any member of the group can replace it) and goes through the same
parsers and validators as a live answer.

Its modules, each imported here so ``from ckptzoo_widgets import cache`` names everything:
``layout`` (folder names, the path of each thing, views), ``files`` (``atomic_write``, the
hasher, JSON records), ``shared`` (the shared answer cache), ``contents`` (the blob that answers
a request, in the cache or a course pack; ``scan()``, removal).
"""

from __future__ import annotations

from .contents import (
    PACK_LAYER,
    BlobInfo,
    CacheContents,
    IndexInfo,
    age,
    blobs,
    cached_blob,
    pack_blob,
    remove_blob,
    remove_index,
    scan,
    views,
)
from .files import (
    CHUNK,
    SHA_RE,
    TEMPORARY_GLOB,
    atomic_write,
    hash_file,
    is_temporary,
    normalise_sha,
    read_json,
    sha256_file,
    temporary_name,
    touch,
    write_atomic,
    write_json_atomic,
)
from .layout import (
    DOWNLOAD_FOLDERS,
    RECORD_FOLDERS,
    SUBFOLDERS,
    blob_path,
    check_view,
    commit_files_path,
    default_view,
    file_name_from_url,
    hub_answer_paths,
    index_parts,
    index_paths,
    link_view,
    lock_path,
    locks_folder,
    partial_paths,
    scan_record_path,
    url_key,
    url_record_path,
    url_records,
    view_target,
    weights_record_path,
)
from .shared import (
    SHARED_DIR_MODE,
    SHARED_FILE_MODE,
    SHARED_POLL_S,
    read_shared,
    shared_lock,
    write_shared,
)

__all__ = [
    "BlobInfo",
    "CHUNK",
    "CacheContents",
    "DOWNLOAD_FOLDERS",
    "IndexInfo",
    "PACK_LAYER",
    "RECORD_FOLDERS",
    "SHARED_DIR_MODE",
    "SHARED_FILE_MODE",
    "SHARED_POLL_S",
    "SHA_RE",
    "SUBFOLDERS",
    "TEMPORARY_GLOB",
    "age",
    "atomic_write",
    "blob_path",
    "blobs",
    "cached_blob",
    "check_view",
    "commit_files_path",
    "default_view",
    "file_name_from_url",
    "hash_file",
    "hub_answer_paths",
    "index_parts",
    "index_paths",
    "is_temporary",
    "link_view",
    "lock_path",
    "locks_folder",
    "normalise_sha",
    "pack_blob",
    "partial_paths",
    "read_json",
    "read_shared",
    "remove_blob",
    "remove_index",
    "scan",
    "scan_record_path",
    "sha256_file",
    "shared_lock",
    "temporary_name",
    "touch",
    "url_key",
    "url_record_path",
    "url_records",
    "view_target",
    "views",
    "weights_record_path",
    "write_atomic",
    "write_json_atomic",
    "write_shared",
]
