#!/usr/bin/env bash
# Accuracy on the official Fashion-MNIST test set (10,000 images): trains the
# MLP and LeNet-5 for 10 epochs, batch 64, Adam lr 1e-3 (constant) with the
# recipe of docs/TRAINING.md ("The recipe for Fashion-MNIST": label smoothing
# 0.1 and an exponential moving average of the weights with decay 0.999, no
# augmentation), 2 threads, seed 1, and checks the test accuracy of the last
# epoch's averaged weights. Prints each epoch and the final JSON, and one
# summary line per model and seed; the per-epoch logs stay in $ZF_ACCURACY_OUT
# when set (docs/BENCHMARKS.md quotes them).
#
# Issue targets: MLP >= 0.885, LeNet-5 >= 0.90, both asserted. With this
# recipe the MLP meets its target on every seed 1..5 and LeNet-5 on seed 1
# (see docs/BENCHMARKS.md for every seed, misses included).
# ZF_ACCURACY_SEEDS="1 2 3 4 5" runs those seeds instead of seed 1 (~1 min a
# run on 2 threads) and asserts the same floors for each; ZF_LENET5_FLOOR
# changes LeNet-5's floor (e.g. 0.89 as a regression guard for other seeds).
# usage: test_fashion_mnist.sh PATH/TO/zerfoo      (exit 77 = skipped: no dataset)
set -uo pipefail
ZF=${1:?usage: test_fashion_mnist.sh PATH/TO/zerfoo}
dir=${ZF_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [ ! -e "$dir/train-images-idx3-ubyte.gz" ] && [ ! -e "$dir/train-images-idx3-ubyte" ]; then
  echo "SKIP: Fashion-MNIST not found in $dir (Debian: apt-get install dataset-fashion-mnist)"
  exit 77
fi
out=${ZF_ACCURACY_OUT:-$(mktemp -d)}
mkdir -p "$out"
[ -z "${ZF_ACCURACY_OUT:-}" ] && trap 'rm -rf "$out"' EXIT
recipe=(--epochs 10 --batch-size 64 --optimizer adam --lr 1e-3 --label-smoothing 0.1 --ema 0.999)
pass=0; fail=0; summary=""
lenet_floor=${ZF_LENET5_FLOOR:-0.90}
ge() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }
for seed in ${ZF_ACCURACY_SEEDS:-1}; do
  for spec in mlp:0.885 lenet5:$lenet_floor; do
    model=${spec%%:*}; want=${spec##*:}
    name=$model; [ "$seed" != 1 ] && name=$model.seed$seed
    rm -f "$out/$name.jsonl"
    start=$(date +%s)
    res=$("$ZF" train --model "$model" --dataset fashion-mnist "${recipe[@]}" --seed "$seed" --threads 2 \
          --out "$out/$name.safetensors" --log "$out/$name.jsonl" --progress lines); rc=$?
    secs=$(( $(date +%s) - start ))
    last=$(tail -1 <<<"$res")
    echo "$model seed $seed ($secs s): $last"
    acc=$(python3 -c 'import json,sys; o = json.loads(sys.argv[1]); assert o["weights"] == "ema"; print(o["test_accuracy"])' "$last" 2>/dev/null)
    target=0.885; [ "$model" = lenet5 ] && target=0.90
    if [ -n "$acc" ] && ! ge "$acc" "$target"; then
      echo "TARGET NOT MET: $model seed $seed test_accuracy $acc < $target (the issue's target; asserted: $want)"
    fi
    if [ $rc -eq 0 ] && [ -n "$acc" ] && ge "$acc" "$want"; then
      pass=$((pass + 1)); summary+="$model seed $seed: test_accuracy $acc >= $want"$'\n'
    else
      fail=$((fail + 1)); summary+="FAIL: $model seed $seed: test_accuracy ${acc:-?} < $want (exit $rc)"$'\n'
    fi
  done
done
printf '%s' "$summary"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
