"""explain: why a published image is not the local build of the same package.

Resolve both images (index -> manifest -> config), stream each distinct layer once (a layer
with the same digest on both sides is the same bytes, read from the local side), build the two
final file trees, and compare level by level into one `Difference` tree. Layers are scanned in
parallel threads: decompression and hashing release the GIL.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from rebuildx.explain.compare import LayerFacts, compare_documents, compare_layers, compare_trees
from rebuildx.explain.difference import (COMPRESSION, CONFIG_ONLY, FILE_CLASSES, IDENTICAL, LAYER_SPLIT,
                                         MANIFEST_ONLY, Difference)
from rebuildx.explain.layers import LayerScan, scan_layer
from rebuildx.explain.limits import ExplainError, Limits
from rebuildx.explain.diffoscope import attach_diffoscope
from rebuildx.explain.image import DEFAULT_OPTIONS, DiffoscopeOptions, Doc, ExplainOptions, Image
from rebuildx.explain.sources import ImageSource, LayoutSource

__all__ = ["DiffoscopeOptions", "ExplainOptions", "compare_images", "explain", "resolve"]
from rebuildx.explain.tree import final_tree
from rebuildx.oci.media import INDEX_TYPES, MANIFEST_TYPES, media_type
from rebuildx.registry import platform_matches
from rebuildx.workspace import Workspace

_IMAGE_TYPES = INDEX_TYPES | MANIFEST_TYPES | {None}  # a descriptor may leave its media type out


def explain(workspace: Workspace, package_full_name: str, published: ImageSource,
            options: ExplainOptions = DEFAULT_OPTIONS) -> Difference:
    """Compare the published image of a package with its local build, `out/<package>/`."""
    local_path = workspace.out_entry(package_full_name)
    if not local_path.is_dir():
        raise ExplainError(f"{local_path}: no local build of {package_full_name} (run rebuildx build)")
    root = compare_images(published, LayoutSource(local_path), options)
    root.name = package_full_name
    return root


def compare_images(published: ImageSource, local: ImageSource,
                   options: ExplainOptions = DEFAULT_OPTIONS) -> Difference:
    """The Difference tree of two images (root kind "image", classification the verdict)."""
    loc = resolve(local, options.platform, options.limits)
    pub = resolve(published, options.platform or loc.platform, options.limits)
    root = Difference("image", "image", published.label, local.label)
    root.comments.append(f"manifest {pub.manifest.descriptor['digest']} vs {loc.manifest.descriptor['digest']}")
    if pub.manifest.descriptor["digest"] == loc.manifest.descriptor["digest"]:
        root.classification = IDENTICAL
        return root
    _scan_all(pub, loc, options)
    _fill(root, pub, loc)
    if options.diffoscope is not None:
        attach_diffoscope(root, pub, loc, options)
    return root


def _fill(root: Difference, pub: Image, loc: Image) -> None:
    index = _compare_indexes(pub, loc)
    manifest = compare_documents("manifest", _pair(pub.manifest), _pair(loc.manifest))
    config = compare_documents("config", _pair(pub.config), _pair(loc.config))
    layers = compare_layers(pub.layers, loc.layers)
    pub.tree, loc.tree = final_tree(pub.entries), final_tree(loc.entries)
    files = compare_trees(pub.tree, loc.tree)
    root.children = [n for n in (index, manifest, config, layers, files) if n is not None]
    root.counts = dict(files.counts) if files else {}
    root.classification = _verdict(files, pub, loc, config)


def _verdict(files: Difference | None, pub: Image, loc: Image, config: Difference | None) -> str:
    if files is not None:
        return next(c for c in FILE_CLASSES if files.counts.get(c))
    if [f.diff_id for f in pub.layers] != [f.diff_id for f in loc.layers]:
        return LAYER_SPLIT
    if [f.descriptor.get("digest") for f in pub.layers] != [f.descriptor.get("digest") for f in loc.layers]:
        return COMPRESSION
    return CONFIG_ONLY if config is not None else MANIFEST_ONLY


def _pair(doc: Doc) -> tuple[str, Any]:
    return doc.descriptor["digest"], doc.json


def _compare_indexes(pub: Image, loc: Image) -> Difference | None:
    if pub.indexes and loc.indexes:
        return compare_documents("index", _pair(pub.indexes[-1]), _pair(loc.indexes[-1]))
    if pub.indexes or loc.indexes:
        node = Difference("index", "index", pub.indexes[-1].descriptor["digest"] if pub.indexes else None,
                          loc.indexes[-1].descriptor["digest"] if loc.indexes else None)
        node.comments.append("only one side has an index above the manifest (a ref by manifest "
                             "digest names the manifest itself): not compared")
        return node
    return None


def resolve(source: ImageSource, platform: str | None, limits: Limits) -> Image:
    """index.json (or the ref) -> indexes -> the platform's manifest -> config."""
    desc, indexes = _pick(source, source.roots(), platform), []
    while True:
        doc = _parse(source, desc, limits)
        if (media_type(doc) or media_type(desc)) not in INDEX_TYPES and "manifests" not in doc:
            break
        indexes.append(Doc(desc, doc))
        if len(indexes) > 8:
            raise ExplainError(f"{source.label}: indexes nested more than 8 deep")
        desc = _pick(source, doc.get("manifests"), platform)
    config_desc = doc.get("config")
    if not isinstance(config_desc, dict):
        raise ExplainError(f"{source.label}: manifest {desc.get('digest')} has no config descriptor")
    return Image(source, indexes, Doc(desc, doc), Doc(config_desc, _parse(source, config_desc, limits)))


def _parse(source: ImageSource, desc: dict, limits: Limits) -> dict:
    data = source.document(desc, limits.max_document_bytes)
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise ExplainError(f"{source.label}: {desc.get('digest')} is not JSON: {e}") from e
    if not isinstance(doc, dict):
        raise ExplainError(f"{source.label}: {desc.get('digest')} is not a JSON object")
    return doc


def _pick(source: ImageSource, entries: Any, platform: str | None) -> dict:
    """The entry for `platform` (or the first image entry, as StageX's digests.py takes)."""
    if not isinstance(entries, list):
        raise ExplainError(f"{source.label}: an index without a list of manifests")
    images = [d for d in entries if media_type(d) in _IMAGE_TYPES]
    if platform:
        for d in images:
            if platform_matches(d.get("platform"), platform):
                return d
        unplatformed = [d for d in images if "platform" not in d]
        if len(unplatformed) == 1:
            return unplatformed[0]
        raise ExplainError(f"{source.label}: no {platform} image in the index")
    if not images:
        raise ExplainError(f"{source.label}: the index lists no image manifests")
    return images[0]


def _scan_all(pub: Image, loc: Image, options: ExplainOptions) -> None:
    """Stream every distinct layer once; fill each image's layer facts and entry lists."""
    jobs: dict[str, tuple[ImageSource, dict, int]] = {}
    for image in (loc, pub):  # local first: a shared layer is read from disk, not the network
        for i, desc in enumerate(image.layer_descriptors):
            jobs.setdefault(desc.get("digest", ""), (image.source, desc, i))
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = {d: pool.submit(_scan, src, desc, i, options.limits) for d, (src, desc, i) in jobs.items()}
        scans = {d: f.result() for d, f in futures.items()}
    for image in (pub, loc):
        diff_ids = image.config.json.get("rootfs", {}).get("diff_ids", []) if isinstance(
            image.config.json.get("rootfs"), dict) else []
        for i, desc in enumerate(image.layer_descriptors):
            scan = scans[desc.get("digest", "")]
            entries = scan.entries if not scan.entries or scan.entries[0].layer == i else [
                replace(e, layer=i) for e in scan.entries]
            image.entries.append(entries)
            image.layers.append(LayerFacts(desc, diff_ids[i] if i < len(diff_ids) else None, scan.diff_id,
                                           scan.size, scan.compression, len(scan.entries), tuple(scan.notes)))


def _scan(source: ImageSource, desc: dict, index: int, limits: Limits) -> LayerScan:
    what = f"{source.label}: layer {index + 1} ({desc.get('digest')})"
    with source.open_blob(desc) as reader:
        return reader.verified(lambda r: scan_layer(r, index, limits, what))
