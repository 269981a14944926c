# Sources: where a package's files come from, for one `plan.packages` entry. Registry
# packages: the `.crate` tarball, a fixed-output download (`builtin:fetchurl`, no
# nixpkgs), unpacked by a unit of the package into its own output, where the package's
# other units read it (no derivation just to unpack; see nocargo_py/render/units.py and
# nix/builder/common.sh). Git and path sources: the package root, from `builtins.fetchGit`,
# or `builtins.path` under a fixed name, filtered, so the store path depends only on the
# contents (two checkouts give the same derivations).
let
  impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" ];
in
# `s`: a registry source as `[ url sha256 ]`, any other as its attribute set.
key: name: version: root: s:
let
  sub = if root == "" then "" else "/${root}";

  # Named `<name>-<version>.crate` like cargo's (and nocargo-py's) download cache, so a
  # cached file added with `nix-store --add-fixed sha256 <file>` is this very store path
  # and the build needs no network (the plan key may carry a hash suffix; the name never).
  # The derivation `import <nix/fetchurl.nix> { url; sha256; name; }` makes, so the same
  # output path (fixed-output: it depends only on name, mode and hash), without what
  # `builtin:fetchurl` never reads (`urls`, only there for nix-prefetch-url; `executable`
  # and `unpack` false, the same as absent), that function's defaults and the
  # `derivation` wrapper's copies: Nix pays per attribute and per byte of every `.drv`.
  registry = (derivationStrict {
    name = "${name}-${version}.crate";
    builder = "builtin:fetchurl";
    system = "builtin";
    url = builtins.elemAt s 0;
    outputHash = builtins.elemAt s 1;
    outputHashAlgo = "sha256";
    outputHashMode = "flat";
    preferLocalBuild = true;
    inherit impureEnvVars;
  }).out;

  git = "${builtins.fetchGit ({ url = s.url; rev = s.rev; submodules = s.submodules; allRefs = true; }
    // (if s.ref == null then { } else { ref = s.ref; }))}${sub}";

  path =
    let
      base = toString s.path;
      skip = builtins.stringLength base + 1;
      excluded = builtins.listToAttrs (map (p: { name = p; value = true; }) s.exclude);
      # Also never part of a crate: VCS directories and the `result` symlinks nix-build
      # leaves behind (so a build does not change the next build's sources).
      vcs = [ ".git" ".hg" ".svn" ".jj" ".pijul" "_darcs" ".bzr" ];
      filter = p: type:
        let
          rel = builtins.substring skip (builtins.stringLength p) p;
          base = baseNameOf p;
        in !(excluded ? ${rel}) && !(builtins.elem base vcs)
          && !(type == "symlink" && builtins.match "result(-.*)?" base != null);
    in "${builtins.path { path = s.path; name = "${key}-source"; inherit filter; }}${sub}";
in
if builtins.isList s then registry
else if s.kind == "git" then git
else if s.kind == "path" then path
else throw "nocargo: unknown source kind `${s.kind}` for `${key}`"
