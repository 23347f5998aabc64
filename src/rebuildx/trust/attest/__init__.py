"""Rebuilders' attestations: in-toto statements of verify's verdicts, DSSE-signed with Ed25519
keys (securesystemslib), published as an append-only static tree, and checked k of n.

statement (pure: verdict -> Statement v1, and claims read back), keys (Ed25519 files), gpgkeys
(OpenPGP through gpg), envelope (sign, open),
store (the tree's layout), sign (a run into a tree), publish, sources (read a tree, capped),
check (k of n). docs/attestations.md describes the formats and verdicts.
"""
