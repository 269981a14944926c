# Link the bin/ and lib/ files of several outputs into one $out.
mkdir -p "$out"
for p in "${parts[@]}"; do
  for sub in bin lib; do
    [[ -d $p/$sub ]] || continue
    mkdir -p "$out/$sub"
    for f in "$p/$sub"/*; do ln -sf "$f" "$out/$sub/"; done
  done
  for f in "$p"/*.log; do ln -sf "$f" "$out/${p#*-}.log"; done
done
