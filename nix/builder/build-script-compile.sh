# Compile a build script (for the host, with build-dependencies only).
compile "$NIX_BUILD_TOP/rustc-out"
uplift "$NIX_BUILD_TOP/rustc-out"
