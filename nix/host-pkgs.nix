# A stand-in for nixpkgs made from the host's own tools: exactly the attributes the
# nocargo library touches (see nix/lib.nix), each a derivation whose bin/ links to a
# program found on the host. Impure: build with `--option sandbox false`.
# The attributes after `gzip` (gnumake, gnused, gawk, gnugrep, diffutils) exist only for
# the built-in overrides (nix/overrides.nix: tikv-jemalloc-sys runs configure and make);
# the library itself never touches them. `gawk` is the host's `awk` (may be mawk).
#
#   nix-build Cargo.nix --arg pkgs 'import <repo>/nix/host-pkgs.nix { }' -A workspaceMembers.foo
#
# The Rust toolchain is found with `rustc --print sysroot` (resolving rustup proxies), so
# `rustc` links to the real toolchain binaries. Arguments (all optional): `path`, the
# host PATH searched for tools; `rustupHome`/`cargoHome` for rustup proxies.
{ path ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
, rustupHome ? null
, cargoHome ? null
}:
let
  env = name: default: let v = builtins.getEnv name; in if v != "" then v else default;
  home = env "HOME" "/root";
  rustup = if rustupHome != null then rustupHome else env "RUSTUP_HOME" "${home}/.rustup";
  cargo = if cargoHome != null then cargoHome else env "CARGO_HOME" "${home}/.cargo";
  system = builtins.currentSystem;

  # A derivation whose bin/ has a symlink for each of `tools` found on `path`
  # (`required` ones must exist).
  hostTools = name: required: optional: derivation {
    inherit name system;
    builder = "/bin/sh";
    PATH = path;
    inherit required optional;
    preferLocalBuild = true;
    allowSubstitutes = false;
    args = [ "-ec" ''
      # Not `command -v`: for a shell builtin (echo, test, [, printf, pwd…) it prints the
      # bare name, which made self-referencing links.
      find_tool() {
        saved=$IFS; IFS=:
        for d in $PATH; do
          if [ -f "$d/$1" ] && [ -x "$d/$1" ]; then IFS=$saved; p="$d/$1"; return 0; fi
        done
        IFS=$saved; return 1
      }
      mkdir -p "$out/bin"
      for t in $required; do
        find_tool "$t" || { echo "host-pkgs: \`$t\` not found on $PATH" >&2; exit 1; }
        ln -s "$p" "$out/bin/$t"
      done
      for t in $optional; do
        if [ ! -e "$out/bin/$t" ] && find_tool "$t"; then ln -s "$p" "$out/bin/$t"; fi
      done
    '' ];
  };

  coreutilsTools = [
    "[" "b2sum" "base32" "base64" "basename" "basenc" "cat" "chcon" "chgrp" "chmod" "chown"
    "chroot" "cksum" "comm" "cp" "csplit" "cut" "date" "dd" "df" "dir" "dircolors" "dirname"
    "du" "echo" "env" "expand" "expr" "factor" "false" "fmt" "fold" "groups" "head" "hostid"
    "id" "install" "join" "link" "ln" "logname" "ls" "md5sum" "mkdir" "mkfifo" "mknod"
    "mktemp" "mv" "nice" "nl" "nohup" "nproc" "numfmt" "od" "paste" "pathchk" "pinky" "pr"
    "printenv" "printf" "ptx" "pwd" "readlink" "realpath" "rm" "rmdir" "runcon" "seq"
    "sha1sum" "sha224sum" "sha256sum" "sha384sum" "sha512sum" "shred" "shuf" "sleep" "sort"
    "split" "stat" "stdbuf" "stty" "sum" "sync" "tac" "tail" "tee" "test" "timeout" "touch"
    "tr" "true" "truncate" "tsort" "tty" "uname" "unexpand" "uniq" "unlink" "users" "vdir"
    "wc" "who" "whoami" "yes"
  ];
in
{
  bash = hostTools "host-bash" [ "bash" "sh" ] [ ];
  coreutils = hostTools "host-coreutils" [ "cat" "cp" "env" "ln" "mkdir" "rm" "tee" "dirname" ] coreutilsTools;
  gnutar = hostTools "host-gnutar" [ "tar" ] [ ];
  gzip = hostTools "host-gzip" [ "gzip" ] [ "gunzip" "zcat" ];
  # Only for the built-in overrides (nix/overrides.nix), for the crates they name:
  gnumake = hostTools "host-gnumake" [ "make" ] [ "gmake" ];
  gnused = hostTools "host-gnused" [ "sed" ] [ ];
  gawk = hostTools "host-gawk" [ "awk" ] [ "gawk" ];
  gnugrep = hostTools "host-gnugrep" [ "grep" ] [ "egrep" "fgrep" ];
  diffutils = hostTools "host-diffutils" [ "cmp" "diff" ] [ "diff3" "sdiff" ];
  stdenv = {
    cc = hostTools "host-cc" [ "cc" "ld" "ar" ] [ "gcc" "c++" "g++" "cpp" "as" "nm" "ranlib" "strip" "objcopy" "objdump" "readelf" ];
    buildPlatform = { inherit system; };
  };
  rustc = derivation {
    name = "host-rustc";
    inherit system;
    builder = "/bin/sh";
    PATH = "${cargo}/bin:${path}";
    RUSTUP_HOME = rustup;
    CARGO_HOME = cargo;
    preferLocalBuild = true;
    allowSubstitutes = false;
    args = [ "-ec" ''
      sysroot=$(cd / && rustc --print sysroot)
      [ -x "$sysroot/bin/rustc" ] || { echo "host-pkgs: no rustc in $sysroot" >&2; exit 1; }
      mkdir -p "$out/bin"
      for f in "$sysroot"/bin/*; do ln -s "$f" "$out/bin/"; done
      ln -s "$sysroot/lib" "$out/lib"
    '' ];
  };
}
