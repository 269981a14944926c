"""nocargo-py: a cargo-free build planner for Rust that emits Nix.

Pipeline: parse (manifests, lockfile, cfg, index) → model → resolve → plan → render.
"""

__version__ = "0.1.0"
