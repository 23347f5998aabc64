"""OCI image layouts: media types, reading and checking a layout, the digest of an out/ entry,
and writing an out/ entry from an image's blobs."""
