# nocargo-py Nix library, entry point: turns a rendered build plan into derivations.
#
# The generated Cargo.nix calls this with the plan (plain data) and the other library
# files (`fetch`, `buildUnit`, `overrides`) plus the builder scripts. Nothing is decided
# here: features, cfgs, profiles and flags all come from the plan.
#
# nixpkgs attributes touched (the complete list; `nix/host-pkgs.nix` provides exactly
# these): bash, coreutils, gnutar, gzip, stdenv.cc, stdenv.buildPlatform.system
# (+ the `rustc` argument, default `pkgs.rustc`). The built-in crate overrides
# (`nix/overrides.nix`) touch more, but only for the crates they name.
{ pkgs, rustc, release, target, crateOverrides, extraRustcFlags, plan, library }:
let
  inherit (builtins) concatStringsSep elemAt filter foldl' length listToAttrs map mapAttrs;

  core = {
    inherit rustc;
    inherit (pkgs) bash coreutils gnutar gzip;
    cc = pkgs.stdenv.cc;
    system = pkgs.stdenv.buildPlatform.system;
  };

  byTriple = listToAttrs (map (t: { name = t.triple; value = t; }) plan.targets);
  targetPlan = byTriple.${target} or (throw
    "nocargo: target `${target}` is not in this Cargo.nix (generated for: ${concatStringsSep ", " (map (t: t.triple) plan.targets)})");
  graph = if release then targetPlan.release else targetPlan.dev;

  scripts = mapAttrs (name: text: builtins.toFile "nocargo-${name}.sh" (library.scripts.common + text))
    (removeAttrs library.scripts [ "common" ]);

  # The programs of every unit (the toolchain, the C compiler/linker, what the builders
  # use), linked into one store path in the order of a PATH (overrides add more to PATH),
  # and the builder scripts, copied to share/nocargo/<name>.sh: one input per unit
  # instead of seven, which evaluation pays for in every derivation.
  tools = derivation {
    name = "nocargo-tools";
    inherit (core) system;
    builder = "${core.bash}/bin/bash";
    args = [ "-e" scripts.tools ];
    __structuredAttrs = true;
    toolPath = "${core.coreutils}/bin";
    paths = [ core.coreutils core.bash core.gnutar core.gzip core.cc rustc ];
    scripts = removeAttrs scripts [ "tools" ];
  };
  toolPath = "${tools}/bin";
  builderScripts = mapAttrs (name: _: "${tools}/share/nocargo/${name}.sh") (removeAttrs scripts [ "tools" ]);

  # Extra PATH entries from a package's override (native inputs).
  inputPath = ov: if ov == null then "" else
    builtins.concatStringsSep "" (map (p: ":${p}/bin") (ov.nativeBuildInputs ++ ov.buildInputs));

  builtinOverrides = library.overrides pkgs;
  noUserOverrides = crateOverrides == { };
  # A package of the plan is `[ name version root data source ]`, a unit
  # `[ package kind deps refs data ]` (+ `false` when extraRustcFlags do not apply):
  # positional, as parsing a list element costs Nix far less than a binding.
  overrideFor = p:
    let
      name = elemAt p 0;
      version = elemAt p 1;
      fs = filter (f: f != null) [
        (builtinOverrides.${name} or null)
        (crateOverrides.${name} or null)
        (crateOverrides."${name}@${version}" or null)
      ];
      base = { pname = name; inherit version; buildInputs = [ ]; nativeBuildInputs = [ ]; env = { }; rustcFlags = [ ]; };
    in
    # (the common case, no override for this package, decided without building lists)
    if noUserOverrides && !(builtinOverrides ? ${name}) then null
    else if length fs == 0 then null else foldl' (acc: f: acc // f acc) base fs;
  overrides = mapAttrs (key: overrideFor) plan.packages;

  sources = mapAttrs (key: p: library.fetch key (elemAt p 0) (elemAt p 1) (elemAt p 2) (elemAt p 4)) plan.packages;
  # `[env]` paths (`relative = true`, `[ name source ]`), imported like path sources:
  # `NAME=<store path>`.
  envPaths = map (e: "${elemAt e 0}=${library.fetch "nocargo-env" "" "" "" (elemAt e 1)}") (plan.envPaths or [ ]);

  allUnits = mapAttrs (library.buildUnit {
    inherit core toolPath inputPath extraRustcFlags plan sources overrides envPaths;
    scripts = builderScripts;
    units = allUnits;
  }) plan.units;

  units = listToAttrs (map (id: { name = id; value = allUnits.${id}; }) graph.units);

  # One derivation that links the bin/ and lib/ files of several units together.
  collect = name: parts: derivation {
    inherit name;
    inherit (core) system;
    builder = "${toolPath}/bash";
    args = [ "-e" builderScripts.member ];
    __structuredAttrs = true;
    inherit toolPath parts;
  };

  workspaceMembers = mapAttrs (name: ids: collect name (map (id: allUnits.${id}) ids)) graph.members;

  # The test unit's own attributes (data, refs, overrides), run by another script.
  testRun = id: let u = allUnits.${id}; in derivation (u.drvAttrs // {
    name = "${id}-run";
    args = [ "-e" builderScripts.test-run ];
    testUnit = u.outPath;
  });
  tests = mapAttrs (name: ids: collect "${name}-tests" (map testRun ids)) graph.tests;

  activeOverrides = filter (o: o != null) (map (id: overrides.${elemAt plan.units.${id} 0}) graph.units);
  devInputs = builtins.concatLists (map (o: o.nativeBuildInputs ++ o.buildInputs) activeOverrides);
  devShell = derivation ({
    name = "nocargo-dev-shell";
    inherit (core) system;
    outputs = [ "out" ]; # `nix develop` reads the attribute (plain `derivation` lacks it)
    builder = "${core.bash}/bin/bash";
    args = [ "-c" "echo \"$PATH\" > \"$out\"" ];
    PATH = concatStringsSep ":" (map (p: "${p}/bin") ([ rustc core.cc core.coreutils core.bash ] ++ devInputs));
    PKG_CONFIG_PATH = concatStringsSep ":" (builtins.concatMap (p: [ "${p}/lib/pkgconfig" "${p}/share/pkgconfig" ]) devInputs);
    RUSTC = "${rustc}/bin/rustc";
  } // foldl' (acc: o: acc // o.env) { } activeOverrides);
in
{
  inherit workspaceMembers tests devShell units;
  allWorkspaceMembers = collect "all-workspace-members" (builtins.attrValues workspaceMembers);
} // (if graph.root == null then { } else { rootCrate = workspaceMembers.${graph.root}; })
