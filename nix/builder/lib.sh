# Compile a library target (lib/rlib/dylib/cdylib/staticlib/proc-macro crate types).
# Output: $out/lib holds what rustc wrote (dependents use it for --extern and
# -L dependency=); `uplift` adds unhashed names (e.g. libfoo.so for a cdylib).
compile "$out/lib"
rm -f "$out/lib/"*.d
uplift "$out/lib"
