# Compile a test harness (`--test` is in the plan's arguments); tests.<member> runs it.
compile "$NIX_BUILD_TOP/rustc-out"
uplift "$NIX_BUILD_TOP/rustc-out"
