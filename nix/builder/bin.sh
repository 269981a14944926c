# Compile a binary target; install it under $out/bin (plan `uplift`/`executable`).
compile "$NIX_BUILD_TOP/rustc-out"
uplift "$NIX_BUILD_TOP/rustc-out"
