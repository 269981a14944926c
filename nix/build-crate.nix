# One unit of the plan -> one derivation (plain `derivation`, structured attributes).
# Everything here is a lookup or a string concatenation; the builder script of the
# unit's kind (`nix/builder/<kind>.sh`) does the work.
{ core, scripts, toolPath, inputPath, extraRustcFlags, plan, sourceRoots, overrides, units }:
id: u:
let
  ov = overrides.${u.package};
  pkg = plan.packages.${u.package};
  extra = if u.extra_rustc_flags then extraRustcFlags else [ ];
  ovFlags = if ov == null then [ ] else ov.rustcFlags;
  ovEnv = if ov == null then { } else ov.env;
  binExes = builtins.listToAttrs (map (b: {
    name = "CARGO_BIN_EXE_${b.name}";
    value = "${units.${b.unit}}/${plan.units.${b.unit}.executable}";
  }) u.bin_exes);
  isRun = u.kind == "build-script-run";
in
derivation ({
  name = id;
  inherit (core) system;
  builder = "${core.bash}/bin/bash";
  args = [ "-e" scripts.${u.kind} ];
  __structuredAttrs = true;
  toolPath = toolPath + inputPath ov;
  buildInputs = if ov == null then [ ] else map toString ov.buildInputs;
  rustcBin = "${core.rustc}/bin/rustc";
  rustdocBin = "${core.rustc}/bin/rustdoc";
  srcRoot = sourceRoots.${u.package};
  pkgDescr = "${pkg.name} v${pkg.version}";
  pkgSpec = "${pkg.name}@${pkg.version}";
  unitEnv = pkg.env // u.env // binExes // ovEnv;
  buildScriptRun = if u.build_script_run == null then "" else "${units.${u.build_script_run}}";
} // (if isRun then {
  buildScript = "${units.${u.build_script}}/${plan.units.${u.build_script}.executable}";
  rustflags = u.rustflags ++ extra;
  linksPrefixes = map (l: l.env_prefix) u.links_deps;
  linksUnits = map (l: "${units.${l.unit}}") u.links_deps;
  allowedLinkArgKinds = u.allowed_link_arg_kinds;
} else {
  srcPath = u.src_path;
  remapTo = u.remap_to;
  rustcArgs = u.args ++ extra ++ ovFlags;
  # The closure is resolved by the builder through the direct deps' outputs (each lib
  # output lists its own closure in nix-support/closure), so a unit's inputs stay O(direct
  # deps) instead of O(closure): evaluation and .drv writing stay linear in the plan size.
  unitId = id;
  closureIds = u.dependency_closure;
  depOutputs = map (d: "${units.${d.unit}}") u.deps;
  externs = map (d: "${d.extern_name}=${units.${d.unit}}/lib/${plan.units.${d.unit}.extern_file}") u.deps;
  linkSearchFrom = map (x: "${units.${x}}") u.link_search_from;
  linkLibs = if u.link_libs then "1" else "";
  linkArgKinds = u.link_arg_kinds;
  upliftFiles = map (x: x.file) u.uplift;
  upliftDests = map (x: x.dest) u.uplift;
}))
