# Compile a library target (lib/rlib/dylib/cdylib/staticlib/proc-macro crate types).
# Output: $out/lib holds what rustc wrote (dependents use it for --extern and
# -L dependency=); `uplift` adds unhashed names (e.g. libfoo.so for a cdylib).
compile "$out/lib"
rm -f "$out/lib/"*.d
uplift "$out/lib"
# Tell dependents where this unit and its closure are (see resolve_closure) and which
# file they pass to --extern.
mkdir -p "$out/nix-support"
{
  printf '%s\t%s\n' "$unitId" "$out"
  for i in "${!closureIds[@]}"; do printf '%s\t%s\n' "${closureIds[$i]}" "${closureDirs[$i]}"; done
} > "$out/nix-support/closure"
printf '%s\n' "$externFile" > "$out/nix-support/extern"
