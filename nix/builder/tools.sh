# Link the programs in bin/ of several packages into $out/bin. The first of a name wins, as
# on a PATH of the same packages in the same order.
mkdir -p "$out/bin"
for p in "${paths[@]}"; do
  for f in "$p"/bin/*; do
    dest=$out/bin/${f##*/}
    [[ -e $dest || -L $dest ]] || ln -s "$f" "$dest"
  done
done
