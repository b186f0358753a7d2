"""Artifact content: uploads, downloads, presigned URLs, dedup and garbage collection.

Content is stored once per SHA-256 in the blob store (`maestro_grpc.blobs`);
the `content_blobs` rows (`store/content_blobs.py`) say which blobs exist
and in what state, and an artifact refers to its blob by
`artifacts.content_sha256`.

How a blob's row moves, and why uploads and the GC never step on each other:
- an upload hashes every byte as it arrives (in a thread), into a writer
  that keeps them invisible until commit; a declared hash or size that
  differs drops them (INVALID_ARGUMENT), so does a stream that ends without
  its finish message (a cancelled client);
- a verified upload locks the artifact's row and the blob's row: a `present`
  blob is reused (dedup: its reference_time is renewed and our bytes are
  dropped); otherwise the row becomes `pending`, the bytes move to their
  address, and a second short transaction marks it `present` and points the
  artifact at it;
- when the client declared the hash of a blob already present, the upload
  only hashes (nothing is stored) and renews the blob's reference_time
  first, so the GC leaves it alone while the bytes stream in;
- the GC (run by the indexer) marks `unreferenced_since` on blobs no live
  artifact refers to, and clears it when one does again. It removes a blob
  once it has been unreferenced and untouched by any upload for the whole
  grace period: with the blob's row locked it re-checks all of that, marks
  the row `deleting`, removes the bytes, then deletes the row. An upload
  that meets a `deleting` row waits for it to go, then stores its own copy.
  `pending` rows older than the grace period (a crashed upload) go the same
  way.
A client that names a content_sha256 in CreateArtifact or UpdateArtifact
without uploading takes no lock; if it names a blob at the very moment the
GC removes it, after a whole grace period unreferenced, the artifact is left
without content (downloads say FAILED_PRECONDITION) until it is uploaded.

Modules: `uploads.py` (with `receive.py`, the stream's hashing), `downloads.py`
(downloads and presigned URLs), `upkeep.py` (GC and verification),
`rules.py` (what they share).
"""
