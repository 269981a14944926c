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
if declare -p unitEnv >/dev/null 2>&1; then
  for k in "${!unitEnv[@]}"; do
    if [[ $k == CARGO_BIN_EXE_* ]]; then ln -s "${unitEnv[$k]}" "$layout/${k#CARGO_BIN_EXE_}"; fi
  done
fi
exe=$layout/deps/${testExe##*/}
cp "$testExe" "$exe"
cd "$srcRoot"
env -- "${envArgs[@]}" "$exe" 2>&1 | tee "$out/test.log"
