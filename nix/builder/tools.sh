# Link the programs in bin/ of several packages into $out/bin. The first of a name wins, as
# on a PATH of the same packages in the same order.
mkdir -p "$out/bin"
for p in "${paths[@]}"; do
  for f in "$p"/bin/*; do
    dest=$out/bin/${f##*/}
    [[ -e $dest || -L $dest ]] || ln -s "$f" "$dest"
  done
done
# The builder scripts of the units (each with common.sh in front).
mkdir -p "$out/share/nocargo"
for name in "${!scripts[@]}"; do cp "${scripts[$name]}" "$out/share/nocargo/$name.sh"; done
