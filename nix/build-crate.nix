# One unit of the plan -> one derivation (`derivationStrict`, structured attributes).
# Everything static about the unit is one string of bash assignments printed by
# nocargo-py (the unit's `data`; the package's `data`), which the builder script of the
# unit's kind `eval`s (see nocargo_py/render/units.py). Nix adds only store paths: the
# outputs of the direct dependencies (`depOutputs`), of the other units the data points
# into (`refs`, as `${refs[i]}`) and the package's source root.
#
# Evaluation cost is per unit, per value and per byte of the `.drv` (printed as JSON, then
# hashed and printed three times over), hence one string instead of lists and sets, no
# attribute the builder can do without (rustc and PATH come from its own directory), no `//` merges
# unless an override or `extraRustcFlags` need them, strings shared by every unit built
# once, and `derivationStrict` called directly (the `derivation` wrapper copies the
# attribute set twice more per unit). The dependency closure is resolved by
# the builder through the direct dependencies' outputs (each lib output lists its own in
# nix-support/closure), so a unit's inputs stay O(direct deps), not O(closure).
{ core, scripts, toolPath, inputPath, extraRustcFlags, plan, sources, overrides, envPaths, units }:
let
  inherit (core) system;
  inherit (builtins) elemAt;
  builder = "${toolPath}/bash";
  scriptArgs = builtins.mapAttrs (kind: script: [ "-e" script ]) scripts;
  out = id: units.${id}.outPath;
  noExtra = extraRustcFlags == [ ];
in
# `u`: `[ package kind deps refs data ]`, + `false` when extraRustcFlags do not apply
# (docs/plan-format.md, "In `Cargo.nix`").
id: u:
let
  package = elemAt u 0;
  ov = overrides.${package};
  attrs0 = {
    name = id;
    inherit system builder;
    args = scriptArgs.${elemAt u 1};
    __structuredAttrs = true;
    src = sources.${package};
    pkgData = elemAt plan.packages.${package} 3;
    unitData = elemAt u 4;
    depOutputs = map out (elemAt u 2);
    refs = map out (elemAt u 3);
  };
  # `extraRustcFlags` (where the plan says they apply: a sixth element `false` where not) and the
  # package's override, appended by the builder to what the data says.
  # `[env]` paths of the configuration (rarely any), under everything else in the env.
  attrsE = if envPaths == [ ] then attrs0 else attrs0 // { configEnvPaths = envPaths; };
  attrs1 = if noExtra || builtins.length u > 5 then attrsE else attrsE // { extraFlags = extraRustcFlags; };
  # (`toolPath`, the builder's PATH, only with an override: it is the directory of the
  # `builder` otherwise, nocargo-tools' bin)
  attrs = if ov == null then attrs1 else attrs1 // {
    toolPath = toolPath + inputPath ov;
    overrideEnv = ov.env;
    overrideFlags = ov.rustcFlags;
    buildInputs = map toString ov.buildInputs;
  };
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
