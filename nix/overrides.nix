# Built-in overrides for common `-sys` crates: native inputs and environment that their
# build scripts look for. `pkgs: { <crate name> = attrs: { ... }; }`; each function gets
# the accumulated override attrs ({ pname, version, buildInputs, nativeBuildInputs, env,
# rustcFlags }) and returns attributes to merge. User `crateOverrides` run after these.
# The nixpkgs attributes named here are only touched when the plan has that crate.
# (Written for real nixpkgs; not exercised on machines without it, except
# tikv-jemalloc-sys, whose tools `nix/host-pkgs.nix` also provides: fd's build in
# tests/test_corpus_build.py uses it.)
pkgs:
let
  pkgConfig = inputs: attrs: {
    nativeBuildInputs = attrs.nativeBuildInputs ++ [ pkgs.pkg-config ];
    buildInputs = attrs.buildInputs ++ inputs;
  };
in
{
  openssl-sys = attrs: pkgConfig [ pkgs.openssl.dev pkgs.openssl.out ] attrs // {
    env = attrs.env // {
      OPENSSL_NO_VENDOR = "1";
      OPENSSL_LIB_DIR = "${pkgs.openssl.out}/lib";
      OPENSSL_INCLUDE_DIR = "${pkgs.openssl.dev}/include";
    };
  };
  libz-sys = attrs: pkgConfig [ pkgs.zlib.dev pkgs.zlib.out ] attrs;
  libgit2-sys = attrs: pkgConfig [ pkgs.libgit2 pkgs.zlib.dev pkgs.zlib.out ] attrs // {
    env = attrs.env // { LIBGIT2_NO_VENDOR = "1"; };
  };
  libssh2-sys = attrs: pkgConfig [ pkgs.libssh2 pkgs.openssl.dev pkgs.openssl.out ] attrs;
  curl-sys = attrs: pkgConfig [ pkgs.curl.dev pkgs.curl.out ] attrs;
  libsqlite3-sys = attrs: pkgConfig [ pkgs.sqlite.dev pkgs.sqlite.out ] attrs;
  pcre2-sys = attrs: pkgConfig [ pkgs.pcre2.dev pkgs.pcre2.out ] attrs;
  onig_sys = attrs: pkgConfig [ pkgs.oniguruma ] attrs // {
    env = attrs.env // { RUSTONIG_SYSTEM_LIBONIG = "1"; };
  };
  zstd-sys = attrs: pkgConfig [ pkgs.zstd.dev pkgs.zstd.out ] attrs // {
    env = attrs.env // { ZSTD_SYS_USE_PKG_CONFIG = "1"; };
  };
  libudev-sys = attrs: pkgConfig [ pkgs.systemd.dev ] attrs;
  dbus = attrs: pkgConfig [ pkgs.dbus.dev pkgs.dbus.lib ] attrs;
  libdbus-sys = attrs: pkgConfig [ pkgs.dbus.dev pkgs.dbus.lib ] attrs;
  alsa-sys = attrs: pkgConfig [ pkgs.alsa-lib.dev ] attrs;
  bzip2-sys = attrs: pkgConfig [ pkgs.bzip2.dev pkgs.bzip2.out ] attrs;
  lzma-sys = attrs: pkgConfig [ pkgs.xz.dev pkgs.xz.out ] attrs;
  # Builds the bundled jemalloc (the build script runs `sh configure` and `make`, the
  # `make` on PATH: it reads no MAKE variable); `JEMALLOC_OVERRIDE` (a prebuilt library)
  # is not set. Tools found by building it: configure's and make's own needs.
  tikv-jemalloc-sys = attrs: {
    nativeBuildInputs = attrs.nativeBuildInputs
      ++ [ pkgs.gnumake pkgs.gnused pkgs.gawk pkgs.gnugrep pkgs.diffutils ];
  };
  prost-build = attrs: { env = attrs.env // { PROTOC = "${pkgs.protobuf}/bin/protoc"; }; };
}
