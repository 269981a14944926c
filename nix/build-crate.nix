# One unit of the plan -> one derivation (`derivationStrict`, structured attributes).
# Everything here is a lookup or a string concatenation; the builder script of the
# unit's kind (`nix/builder/<kind>.sh`) does the work.
#
# Evaluation cost is per unit, so the common case takes the short path: no `//` merges
# or list concatenations unless an override, `extraRustcFlags` or `bin_exes` need them,
# strings shared by every unit built once, and `derivationStrict` called directly (the
# `derivation` wrapper copies the attribute set twice more per unit).
{ core, scripts, toolPath, inputPath, extraRustcFlags, plan, sourceRoots, overrides, units }:
let
  inherit (core) system;
  builder = "${core.bash}/bin/bash";
  rustcBin = "${core.rustc}/bin/rustc";
  rustdocBin = "${core.rustc}/bin/rustdoc";
  scriptArgs = builtins.mapAttrs (kind: script: [ "-e" script ]) scripts;
  out = id: units.${id}.outPath;
  lib = id: "${out id}/lib/";
  noExtra = extraRustcFlags == [ ];
in
id: u:
let
  ov = overrides.${u.package};
  noOv = ov == null;
  pkg = plan.packages.${u.package};
  extra = if noExtra || !u.extra_rustc_flags then [ ] else extraRustcFlags;
  env = if u.bin_exes == [ ] then u.env else u.env // builtins.listToAttrs (map (b: {
    name = "CARGO_BIN_EXE_${b.name}";
    value = "${out b.unit}/${plan.units.${b.unit}.executable}";
  }) u.bin_exes);
  name = id;
  args = scriptArgs.${u.kind};
  toolPath' = if noOv then toolPath else toolPath + inputPath ov;
  srcRoot = sourceRoots.${u.package};
  pkgDescr = "${pkg.name} v${pkg.version}";
  pkgSpec = "${pkg.name}@${pkg.version}";
  # The package's env, then the unit's (unit wins), then the override's: laid over each
  # other by the builder, in this order.
  pkgEnv = pkg.env;
  unitEnv = if noOv then env else env // ov.env;
  buildScriptRun = if u.build_script_run == null then "" else out u.build_script_run;
  # Two literal sets (no `//` per unit); `inherit` shares the values above.
  attrs0 = if u.kind == "build-script-run" then {
    inherit name system builder args rustcBin rustdocBin srcRoot pkgDescr pkgSpec pkgEnv
      unitEnv buildScriptRun;
    __structuredAttrs = true;
    toolPath = toolPath';
    buildScript = "${out u.build_script}/${plan.units.${u.build_script}.executable}";
    rustflags = if extra == [ ] then u.rustflags else u.rustflags ++ extra;
    linksPrefixes = map (l: l.env_prefix) u.links_deps;
    linksUnits = map (l: out l.unit) u.links_deps;
    allowedLinkArgKinds = u.allowed_link_arg_kinds;
  } else {
    inherit name system builder args rustcBin rustdocBin srcRoot pkgDescr pkgSpec pkgEnv
      unitEnv buildScriptRun;
    __structuredAttrs = true;
    toolPath = toolPath';
    srcPath = u.src_path;
    remapTo = u.remap_to;
    rustcArgs = if extra == [ ] && noOv then u.args
      else u.args ++ extra ++ (if noOv then [ ] else ov.rustcFlags);
    # The closure is resolved by the builder through the direct deps' outputs (each lib
    # output lists its own closure in nix-support/closure), so a unit's inputs stay O(direct
    # deps) instead of O(closure): evaluation and .drv writing stay linear in the plan size.
    unitId = id;
    closureIds = u.dependency_closure;
    depOutputs = map (d: out d.unit) u.deps;
    externs = map (d: "${d.extern_name}=${lib d.unit}${plan.units.${d.unit}.extern_file}") u.deps;
    linkSearchFrom = map out u.link_search_from;
    linkLibs = if u.link_libs then "1" else "";
    linkArgKinds = u.link_arg_kinds;
    upliftFiles = map (x: x.file) u.uplift;
    upliftDests = map (x: x.dest) u.uplift;
  };
  attrs = if noOv then attrs0 else attrs0 // { buildInputs = map toString ov.buildInputs; };
  drv = derivationStrict attrs;
in
# What `derivation` returns for a single-output derivation, built with one merge.
attrs // {
  type = "derivation";
  outPath = drv.out;
  drvPath = drv.drvPath;
  outputName = "out";
  drvAttrs = attrs;
}
