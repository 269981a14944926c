# nocargo builder, common part: prepended to every per-kind script.
# Reads the derivation's structured attributes (see nix/build-crate.nix) and defines the
# helpers the per-kind scripts use. Needs only bash and coreutils.
set -eu -o pipefail
# What a unit's data may leave out (the empty value).
pkgEnv=() cargoPkgEnv=() unitEnv=() rustcArgs=() extraFlags=() overrideFlags=() depOutputs=() externNames=()
linkSearchFrom=() linkArgKinds=() upliftFiles=() upliftDests=() rustflags=()
linksPrefixes=() linksUnits=() allowedLinkArgKinds=() refs=() configEnvPaths=()
buildScriptRun="" linkLibs="" remapTo=""
# shellcheck disable=SC1091
source "${NIX_ATTRS_SH_FILE:-$NIX_BUILD_TOP/.attrs.sh}"
out="${outputs[out]}"
# The PATH: `toolPath` if the derivation has one (units with an override, nocargo-tools
# itself), else the directory of the builder (nocargo-tools' bin, see nix/lib.nix).
toolPath=${toolPath-${builder%/*}}
export PATH="$toolPath"
# The toolchain: the first entry of toolPath is nocargo-tools' bin.
rustcBin=${toolPath%%:*}/rustc rustdocBin=${toolPath%%:*}/rustdoc
shopt -s nullglob
# The unit's static part, printed by nocargo-py as bash assignments (see
# nocargo_py/render/units.py); `${refs[i]}` in it are output paths of other units.
eval "${pkgData-}"
eval "${unitData-}"
unitId=$name pkgDescr="${pkgName-} v${pkgVersion-}" pkgSpec="${pkgName-}@${pkgVersion-}"
# The package root: `src` (a path or git source), or a registry `.crate` (`src`) unpacked
# into `$out/src` by this unit (`unpackRoot`), or the `srcRoot` in the output of the unit
# of the package that did (the data says which).
if [[ -n ${unpackRoot+x} ]]; then
  mkdir -p "$out/src"
  tar -xzf "$src" -C "$out/src" --no-same-owner
  srcRoot=$out/src${unpackRoot:+/$unpackRoot}
elif [[ -z ${srcRoot+x} ]]; then
  srcRoot=${src-}
fi

die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The environment of the tool we run (rustc, a build script, a test), as NAME=VALUE words
# for `env`: `[env]` paths, the package's env, then the unit's, then the override's; `env`
# applies them in order, so the later value wins.
envArgs=("${configEnvPaths[@]}" "${pkgEnv[@]}")
for w in "${cargoPkgEnv[@]}"; do envArgs+=("CARGO_PKG_$w"); done
envArgs+=("${unitEnv[@]}")
if declare -p overrideEnv >/dev/null 2>&1; then
  for k in "${!overrideEnv[@]}"; do envArgs+=("$k=${overrideEnv[$k]}"); done
fi

# Native inputs of overrides: make headers, libraries and pkg-config files findable.
if declare -p buildInputs >/dev/null 2>&1; then
  for p in "${buildInputs[@]}"; do
    export CPATH="${CPATH:+$CPATH:}$p/include"
    export LIBRARY_PATH="${LIBRARY_PATH:+$LIBRARY_PATH:}$p/lib"
    export PKG_CONFIG_PATH="${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$p/lib/pkgconfig:$p/share/pkgconfig"
  done
fi

# Print every line of a file to the array named $2 (missing file = no lines).
read_lines() {
  local -n _into=$2
  local line
  [[ -f $1 ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do _into+=("$line"); done < "$1"
}

# The plan's dependency closure (unit ids) -> output paths, looked up in the
# nix-support/closure files ("<unit id>\t<path>" lines) of the direct dependencies. Without
# `closureIds` in the unit's data, the closure is every unit those files name (sorted).
declare -A closureKnown=()
closureDirs=()
resolve_closure() {
  local d id path
  for d in "${depOutputs[@]}"; do
    while IFS=$'\t' read -r id path; do closureKnown[$id]=$path; done < "$d/nix-support/closure"
  done
  if ! declare -p closureIds >/dev/null 2>&1; then
    closureIds=()
    if (( ${#closureKnown[@]} > 0 )); then
      mapfile -t closureIds < <(printf '%s\n' "${!closureKnown[@]}" | LC_ALL=C sort)
    fi
  fi
  for id in "${closureIds[@]}"; do
    [[ -n ${closureKnown[$id]+x} ]] || die "unit \`$unitId\`: dependency_closure names \`$id\`, which no direct dependency provides"
    closureDirs+=("${closureKnown[$id]}")
  done
}

# Compile the unit with rustc; $1 = --out-dir. Adds the store-path parts of the command
# line (crate root, -L dependency closure, --extern, build-script outputs) to the plan's
# arguments, in cargo's order.
compile() {
  local outDir=$1 line kind value i d file
  local -a args=("${rustcArgs[@]}" "${extraFlags[@]}" "${overrideFlags[@]}" "$srcRoot/$srcPath" --out-dir "$outDir")
  local -a lines
  mkdir -p "$outDir"
  resolve_closure
  for line in "${closureDirs[@]}"; do args+=(-L "dependency=$line/lib"); done
  for i in "${!externNames[@]}"; do
    d=${depOutputs[$i]}
    read -r file < "$d/nix-support/extern" || [[ -n $file ]]
    args+=(--extern "${externNames[$i]}=$d/lib/$file")
  done
  envArgs+=("CARGO_MANIFEST_DIR=$srcRoot" "CARGO_MANIFEST_PATH=$srcRoot/Cargo.toml")
  for d in "${linkSearchFrom[@]}"; do
    lines=(); read_lines "$d/nocargo/link-search" lines
    for line in "${lines[@]}"; do args+=(-L "$line"); done
  done
  if [[ -n $buildScriptRun ]]; then
    local bs=$buildScriptRun/nocargo
    envArgs+=("OUT_DIR=$buildScriptRun/out")
    if [[ -n $linkLibs ]]; then
      lines=(); read_lines "$bs/link-lib" lines
      for line in "${lines[@]}"; do args+=(-l "$line"); done
    fi
    lines=(); read_lines "$bs/link-arg" lines
    for line in "${lines[@]}"; do
      kind=${line%%$'\t'*}; value=${line#*$'\t'}
      for k in "${linkArgKinds[@]}"; do
        if [[ $k == "$kind" ]]; then args+=(-C "link-arg=$value"); break; fi
      done
    done
    lines=(); read_lines "$bs/cfg" lines
    for line in "${lines[@]}"; do args+=(--cfg "$line"); done
    lines=(); read_lines "$bs/check-cfg" lines
    for line in "${lines[@]}"; do args+=(--check-cfg "$line"); done
    lines=(); read_lines "$bs/env" lines
    envArgs+=("${lines[@]}")
  fi
  args+=("--remap-path-prefix=$srcRoot=$remapTo")
  cd "$srcRoot"
  if [[ -n ${NOCARGO_VERBOSE:-} ]]; then printf '%q ' rustc "${args[@]}" >&2; echo >&2; fi
  env -- "${envArgs[@]}" "$rustcBin" "${args[@]}"
  cd "$NIX_BUILD_TOP"
}

# Copy the files rustc wrote in $1 to their places under $out (plan `uplift`).
uplift() {
  local from=$1 i dest
  for i in "${!upliftFiles[@]}"; do
    dest=$out/${upliftDests[$i]}
    [[ $from/${upliftFiles[$i]} -ef $dest ]] && continue
    mkdir -p "$(dirname "$dest")"
    cp -f "$from/${upliftFiles[$i]}" "$dest"
  done
}
