# Run a compiled build script with cargo's environment and record its directives.
#
# $out/out is OUT_DIR; $out/nocargo/<kind> holds one directive value per line:
#   link-lib, link-search, cfg, check-cfg, env (VAR=VALUE), link-arg (<kind>\t<flag>),
#   metadata (KEY=VALUE, for direct dependents' DEP_<LINKS>_<KEY>), warning.
# Both `cargo::KEY=VALUE` and the legacy `cargo:KEY=VALUE` forms are understood.
mkdir -p "$out/out" "$out/nocargo"
res=$out/nocargo
for f in link-lib link-search cfg check-cfg env link-arg metadata warning; do : > "$res/$f"; done

envArgs+=(
  "OUT_DIR=$out/out"
  "CARGO_MANIFEST_DIR=$srcRoot"
  "CARGO_MANIFEST_PATH=$srcRoot/Cargo.toml"
  "RUSTC=$rustcBin"
  "RUSTDOC=$rustdocBin"
)
encoded="" sep=""
for flag in "${rustflags[@]}" "${extraFlags[@]}"; do
  encoded+=$sep$flag; sep=$'\x1f'
done
envArgs+=("CARGO_ENCODED_RUSTFLAGS=$encoded")

# DEP_<LINKS>_<KEY> from the metadata of direct `links` dependencies.
for i in "${!linksUnits[@]}"; do
  lines=(); read_lines "${linksUnits[$i]}/nocargo/metadata" lines
  for line in "${lines[@]}"; do
    key=${line%%=*}; key=${key^^}; key=${key//-/_}
    envArgs+=("${linksPrefixes[$i]}$key=${line#*=}")
  done
done

cd "$srcRoot"
stdout=$NIX_BUILD_TOP/build-script-output
status=0
env -- "${envArgs[@]}" "$buildScript" > "$stdout" || status=$?
if (( status != 0 )); then
  echo "--- stdout of the build script of \`$pkgDescr\`" >&2
  cat "$stdout" >&2
  die "failed to run custom build command for \`$pkgDescr\` (exit status $status)"
fi
cd "$NIX_BUILD_TOP"

whence="build script of \`$pkgDescr\`"
errors=()
allowed() {
  local k
  for k in "${allowedLinkArgKinds[@]}"; do [[ $k == "$1" ]] && return 0; done
  return 1
}
link_arg() {  # $1 kind (for the error), $2 class, $3 flag
  allowed "$2" || die "invalid instruction \`$prefix$key\` from $whence: the package has no $1 target"
  printf '%s\t%s\n' "$2" "$3" >> "$res/link-arg"
}
while IFS= read -r line || [[ -n $line ]]; do
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  if [[ $line == cargo::* ]]; then new=1; prefix="cargo::"; rest=${line#cargo::}
  elif [[ $line == cargo:* ]]; then new=""; prefix="cargo:"; rest=${line#cargo:}
  else continue
  fi
  if [[ $rest != *=* ]]; then
    msg="invalid output in $whence: \`$line\`"$'\n'"Expected a line with \`${prefix}KEY=VALUE\` with an \`=\` character, but none was found."
    if [[ -n $new ]]; then die "$msg"; fi
    printf 'warning: %s\n' "$msg" >&2
    continue
  fi
  key=${rest%%=*}; value=${rest#*=}
  case $key in
    rustc-link-lib) printf '%s\n' "$value" >> "$res/link-lib" ;;
    rustc-link-search) printf '%s\n' "$value" >> "$res/link-search" ;;
    rustc-flags)
      read -r -a words <<< "$value"
      j=0
      while (( j < ${#words[@]} )); do
        w=${words[$j]}
        case $w in
          -l|-L)
            (( j + 1 < ${#words[@]} )) || die "flag in rustc-flags has no value in $whence: $value"
            j=$((j + 1)); v=${words[$j]} ;;
          -l*|-L*) v=${w:2} ;;
          *) die "only \`-l\` and \`-L\` flags are allowed in $whence: \`$value\`" ;;
        esac
        if [[ $w == -l* ]]; then f=link-lib; else f=link-search; fi
        printf '%s\n' "$v" >> "$res/$f"
        j=$((j + 1))
      done ;;
    rustc-cfg) printf '%s\n' "$value" >> "$res/cfg" ;;
    rustc-check-cfg) printf '%s\n' "$value" >> "$res/check-cfg" ;;
    rustc-env)
      [[ $value == *=* ]] || die "Variable rustc-env has no value in $whence: $value"
      name=${value%%=*}
      [[ $name != RUSTC_BOOTSTRAP ]] || die "Cannot set \`RUSTC_BOOTSTRAP=${value#*=}\` from $whence."
      printf '%s\n' "$value" >> "$res/env" ;;
    rustc-link-arg) printf 'all\t%s\n' "$value" >> "$res/link-arg" ;;
    rustc-cdylib-link-arg|rustc-link-arg-cdylib) printf 'cdylib\t%s\n' "$value" >> "$res/link-arg" ;;
    rustc-link-arg-bins) link_arg bin bins "$value" ;;
    rustc-link-arg-tests) link_arg test tests "$value" ;;
    rustc-link-arg-benches) link_arg benchmark benches "$value" ;;
    rustc-link-arg-examples) link_arg example examples "$value" ;;
    rustc-link-arg-bin)
      [[ $value == *=* ]] || die "invalid instruction \`$prefix$key=$value\` from $whence: the instruction should have the form ${prefix}rustc-link-arg-bin=BIN=ARG"
      bin=${value%%=*}
      allowed "bin=$bin" || die "invalid instruction \`$prefix$key\` from $whence: the package does not have a bin target with the name \`$bin\`"
      printf 'bin=%s\t%s\n' "$bin" "${value#*=}" >> "$res/link-arg" ;;
    warning)
      printf '%s\n' "$value" >> "$res/warning"
      printf 'warning: %s: %s\n' "$pkgSpec" "$value" >&2 ;;
    error)
      if [[ -n $new ]]; then errors+=("$value"); else printf 'error=%s\n' "$value" >> "$res/metadata"; fi ;;
    rerun-if-changed|rerun-if-env-changed) ;;
    metadata)
      [[ $value == *=* ]] || die "invalid output in $whence: \`$line\`"$'\n'"Expected a line with \`${prefix}metadata=KEY=VALUE\` with an \`=\` character, but none was found."
      printf '%s\n' "$value" >> "$res/metadata" ;;
    *)
      if [[ -n $new ]]; then die "invalid output in $whence: \`$line\`"$'\n'"Unknown key: \`$key\`."; fi
      printf '%s=%s\n' "$key" "$value" >> "$res/metadata" ;;
  esac
done < "$stdout"

if (( ${#errors[@]} > 0 )); then
  for e in "${errors[@]}"; do printf 'error: %s: %s\n' "$pkgSpec" "$e" >&2; done
  die "build script logged errors"
fi
