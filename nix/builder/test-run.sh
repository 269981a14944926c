# Run one compiled test harness in its package root; a failing test fails the build.
# It runs from a cargo-like target directory: a copy of the harness in `<dir>/deps/`, the
# package's binaries (`CARGO_BIN_EXE_<name>`) as `<dir>/<name>`, as cargo lays out
# `target/<profile>/`. Tests that find a binary from their own path rely on it
# (`<directory of current_exe()>/../<bin>`: ripgrep's, assert_cmd's fallback). A copy, not
# a link, because `current_exe()` resolves links.
mkdir -p "$out"
envArgs+=("CARGO_MANIFEST_DIR=$srcRoot" "CARGO_MANIFEST_PATH=$srcRoot/Cargo.toml")
layout=$NIX_BUILD_TOP/target/profile
mkdir -p "$layout/deps"
for kv in "${unitEnv[@]}"; do
  if [[ $kv == CARGO_BIN_EXE_*=* ]]; then k=${kv%%=*}; ln -s "${kv#*=}" "$layout/${k#CARGO_BIN_EXE_}"; fi
  if [[ $kv == CARGO_TARGET_TMPDIR=* ]]; then mkdir -p "${kv#*=}"; fi
done
exe=$layout/deps/${executable##*/}
cp "$testUnit/$executable" "$exe"
cd "$srcRoot"
env -- "${envArgs[@]}" "$exe" 2>&1 | tee "$out/test.log"
