# Unpack a .crate tarball (gzip'd tar) into $out.
mkdir -p "$out"
tar -xzf "$tarball" -C "$out" --no-same-owner
