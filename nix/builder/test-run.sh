# Run one compiled test harness in its package root; a failing test fails the build.
mkdir -p "$out"
envArgs+=("CARGO_MANIFEST_DIR=$srcRoot" "CARGO_MANIFEST_PATH=$srcRoot/Cargo.toml")
cd "$srcRoot"
env -- "${envArgs[@]}" "$testExe" 2>&1 | tee "$out/test.log"
