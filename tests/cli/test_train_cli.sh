#!/usr/bin/env bash
# zerfoo train / eval from the command line: nonsense flags, missing and
# corrupt dataset files, wrong or damaged checkpoints must give a clear
# message and a nonzero exit (2 for usage errors, 1 for failures), never a
# crash; a quick run on a small generated dataset must print a JSON object as
# its last line, and eval/resume must work on its checkpoint.
# usage: test_train_cli.sh PATH/TO/zerfoo
set -uo pipefail
ZF=${1:?usage: test_train_cli.sh PATH/TO/zerfoo}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0

# expect CODE PATTERN CMD...: exit status CODE and PATTERN (grep -E) in stderr+stdout
expect() {
  local code=$1 pattern=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$code" ] && grep -qE -- "$pattern" <<<"$out"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $* -> exit $rc (want $code), output:"; echo "$out" | tail -5
    echo "      (wanted /$pattern/)"
  fi
  # a crash (signal) is always a failure
  if [ "$rc" -ge 128 ]; then fail=$((fail + 1)); echo "CRASH: $*"; fi
}

# A small Fashion-MNIST-shaped dataset (256 train, 64 test images, 28x28).
python3 - "$tmp/data" <<'PY'
import gzip, os, struct, sys, random
d = sys.argv[1]; os.makedirs(d)
rng = random.Random(5)
def write(name, dims, payload, gz=True):
    head = struct.pack(">BBBB", 0, 0, 8, len(dims)) + b"".join(struct.pack(">I", x) for x in dims)
    opener = gzip.open if gz else open
    with opener(os.path.join(d, name + (".gz" if gz else "")), "wb") as f:
        f.write(head + payload)
for split, n in (("train", 256), ("t10k", 64)):
    labels = bytes(rng.randrange(10) for _ in range(n))
    # class c: a bright 6x6 square at a class-dependent place, plus noise
    img = bytearray(rng.randrange(60) for _ in range(n * 784))
    for i, c in enumerate(labels):
        r0, c0 = 2 + (c // 5) * 12, 1 + (c % 5) * 5
        for r in range(r0, r0 + 6):
            for q in range(c0, c0 + 5):
                img[i * 784 + r * 28 + q] = 230
    write(f"{split}-images-idx3-ubyte", (n, 28, 28), bytes(img), gz=(split == "train"))
    write(f"{split}-labels-idx1-ubyte", (n,), labels)
PY
D="$tmp/data"

# --- usage errors: exit 2 and a message
expect 0 "zerfoo train --model"      "$ZF" train --help
expect 0 "train .*eval"              bash -c "'$ZF' --help | tr '\n' ' '"
expect 2 "--model is required"       "$ZF" train
expect 2 "unknown model 'resnet'"    "$ZF" train --model resnet
expect 2 "bad value 'abc' for --epochs" "$ZF" train --model mlp --epochs abc
expect 2 "bad value '-1' for --epochs"  "$ZF" train --model mlp --epochs -1
expect 2 "bad value '0' for --batch-size" "$ZF" train --model mlp --batch-size 0
expect 2 "bad value '1e999' for --batch-size" "$ZF" train --model mlp --batch-size 1e999
expect 2 "bad value '-0.1' for --lr"  "$ZF" train --model mlp --lr -0.1
expect 2 "bad value 'nan' for --lr"   "$ZF" train --model mlp --lr nan
expect 2 "bad value 'x' for --seed"   "$ZF" train --model mlp --seed x
expect 2 "unknown optimizer 'rmsprop'" "$ZF" train --model mlp --optimizer rmsprop
expect 2 "unknown dataset 'cifar10'" "$ZF" train --model mlp --dataset cifar10
expect 2 "--threads needs an integer" "$ZF" train --model mlp --threads 0
expect 2 "bad value 'sometimes' for --progress" "$ZF" train --model mlp --progress sometimes
expect 2 "bad value 'linear' for --schedule" "$ZF" train --model mlp --schedule linear
expect 2 "bad value 'zscore' for --norm" "$ZF" train --model mlp --norm zscore
expect 2 "bad value '1' for --label-smoothing" "$ZF" train --model mlp --label-smoothing 1
expect 2 "bad value 'rotate' for --augment" "$ZF" train --model mlp --augment rotate
expect 2 "bad value 'shift:9' for --augment" "$ZF" train --model mlp --augment shift:9
expect 2 "bad value 'hflip,' for --augment" "$ZF" train --model mlp --augment hflip,
expect 2 "bad value '' for --augment" "$ZF" train --model mlp --augment ''
expect 2 "unknown option '--frobnicate'" "$ZF" train --model mlp --frobnicate 1
expect 2 "--lr needs a value"        "$ZF" train --model mlp --lr
expect 2 "unexpected argument 'mlp'" "$ZF" train mlp
expect 2 "--momentum is for sgd only" "$ZF" train --model mlp --optimizer adam --momentum 0.9
expect 2 "--ema needs a decay in \[0, 1\) \(e.g. 0.999\), not '1'" "$ZF" train --model mlp --ema 1
expect 2 "--ema needs a decay in \[0, 1\)" "$ZF" train --model mlp --ema -0.5
expect 2 "--ema needs a decay in \[0, 1\)" "$ZF" train --model mlp --ema often
expect 2 "bad value '0' for --validation" "$ZF" train --model mlp --validation 0
expect 2 "bad value 'best' for --weights" "$ZF" eval --model mlp --checkpoint x --weights best
expect 2 "--model and --checkpoint are required" "$ZF" eval --model mlp
expect 2 "bad value 'val' for --split" "$ZF" eval --model mlp --checkpoint x --split val
expect 2 "unknown option '--nope'"   "$ZF" eval --nope 1

# --- missing and corrupt dataset files: exit 1 and a message naming the file
expect 1 "Fashion-MNIST not found: .*t.*-images-idx3-ubyte" "$ZF" train --model mlp --data-dir "$tmp/none" --epochs 1
cp -r "$D" "$tmp/bad1"; printf 'garbage-not-idx' | gzip > "$tmp/bad1/train-images-idx3-ubyte.gz"
expect 1 "train-images-idx3-ubyte.gz: not an IDX file" "$ZF" train --model mlp --data-dir "$tmp/bad1" --epochs 1
cp -r "$D" "$tmp/bad2"; head -c 3000 "$D/train-images-idx3-ubyte.gz" > "$tmp/bad2/train-images-idx3-ubyte.gz"
expect 1 "truncated" "$ZF" train --model mlp --data-dir "$tmp/bad2" --epochs 1
cp -r "$D" "$tmp/bad3"; head -c 20000 "$D/t10k-images-idx3-ubyte" > "$tmp/bad3/t10k-images-idx3-ubyte"
expect 1 "t10k-images-idx3-ubyte: truncated" "$ZF" train --model mlp --data-dir "$tmp/bad3" --epochs 1
cp -r "$D" "$tmp/bad4"; cp "$D/t10k-labels-idx1-ubyte.gz" "$tmp/bad4/train-labels-idx1-ubyte.gz"
expect 1 "256 images but .* 64 labels" "$ZF" train --model mlp --data-dir "$tmp/bad4" --epochs 1

# --- a quick real run: JSON last line, log, checkpoint
run_out=$("$ZF" train --model mlp --data-dir "$D" --epochs 2 --batch-size 32 --seed 3 --threads 2 \
          --out "$tmp/mlp.st" --log "$tmp/mlp.jsonl" --progress lines 2>"$tmp/err"); rc=$?
last=$(tail -1 <<<"$run_out")
if [ $rc -eq 0 ] && python3 -c "
import json, sys
o = json.loads(sys.argv[1])
for k in ('test_accuracy', 'test_loss', 'train_samples_per_sec', 'epochs'): assert k in o, k
assert o['epochs'] == 2 and o['params'] == 101770 and o['test_accuracy'] > 0.5, o
lines = [json.loads(l) for l in open(sys.argv[2])]
assert [l['epoch'] for l in lines] == [1, 2], lines
" "$last" "$tmp/mlp.jsonl" && grep -q "101,770 parameters" <<<"$run_out" && [ "$(grep -c '^epoch ' "$tmp/err")" = 2 ]; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: quick mlp run (exit $rc):"; echo "$run_out" | tail -3; tail -3 "$tmp/err"
fi
expect 0 '"accuracy":' "$ZF" eval --model mlp --checkpoint "$tmp/mlp.st" --data-dir "$D"
expect 0 '"epochs":1' "$ZF" train --model mlp --data-dir "$D" --epochs 1 --schedule cosine --norm unit --label-smoothing 0.1 --optimizer sgd --momentum 0.9 --progress none
expect 0 '"epochs":3' "$ZF" train --model mlp --data-dir "$D" --epochs 3 --batch-size 32 --resume "$tmp/mlp.st" --progress none
expect 0 '"epochs":3,"steps":24' "$ZF" train --model mlp --data-dir "$D" --epochs 3 --batch-size 32 --resume "$tmp/mlp.st" --progress none

# --- wrong and damaged checkpoints
expect 1 "zerfoo eval: .*(lenet5|mlp)" "$ZF" eval --model lenet5 --checkpoint "$tmp/mlp.st" --data-dir "$D"
expect 1 "zerfoo train: .*(lenet5|mlp)" "$ZF" train --model lenet5 --data-dir "$D" --epochs 4 --batch-size 32 --resume "$tmp/mlp.st"
expect 1 "batch size" "$ZF" train --model mlp --data-dir "$D" --epochs 4 --batch-size 16 --resume "$tmp/mlp.st"
expect 1 "seed" "$ZF" train --model mlp --data-dir "$D" --epochs 4 --batch-size 32 --seed 4 --resume "$tmp/mlp.st"
expect 1 "augmentation hflip=0,shift=0, this run asks for hflip=1,shift=2" "$ZF" train --model mlp --data-dir "$D" --epochs 4 --batch-size 32 --augment flip,shift --resume "$tmp/mlp.st"
expect 1 "zerfoo train: .*sgd|optimizer" "$ZF" train --model mlp --data-dir "$D" --epochs 4 --batch-size 32 --optimizer sgd --resume "$tmp/mlp.st"
size=$(stat -c %s "$tmp/mlp.st")
head -c $((size / 2)) "$tmp/mlp.st" > "$tmp/half.st"
expect 1 "zerfoo eval: " "$ZF" eval --model mlp --checkpoint "$tmp/half.st" --data-dir "$D"
expect 1 "zerfoo train: " "$ZF" train --model mlp --data-dir "$D" --epochs 4 --batch-size 32 --resume "$tmp/half.st"
head -c 100 /dev/urandom > "$tmp/noise.st"
expect 1 "zerfoo eval: " "$ZF" eval --model mlp --checkpoint "$tmp/noise.st" --data-dir "$D"
: > "$tmp/empty.st"
expect 1 "zerfoo eval: " "$ZF" eval --model mlp --checkpoint "$tmp/empty.st" --data-dir "$D"
expect 1 "zerfoo eval: .*missing.st" "$ZF" eval --model mlp --checkpoint "$tmp/missing.st" --data-dir "$D"
expect 1 "zerfoo train: .*cannot" "$ZF" train --model mlp --data-dir "$D" --epochs 1 --out "$tmp/no/dir/x.st" --progress none

# --- EMA of the weights: evaluated each epoch, saved, used by eval unless --weights train, resumed exactly
expect 1 "has no EMA weights \(it was trained without --ema\); use --weights train" "$ZF" eval --model mlp --checkpoint "$tmp/mlp.st" --data-dir "$D" --weights ema
expect 0 '"weights":"train"' "$ZF" eval --model mlp --checkpoint "$tmp/mlp.st" --data-dir "$D"
expect 1 "no EMA weights, but this optimizer averages them" "$ZF" train --model mlp --data-dir "$D" --epochs 4 --batch-size 32 --ema 0.9 --resume "$tmp/mlp.st"
ema_out=$("$ZF" train --model mlp --data-dir "$D" --epochs 2 --batch-size 32 --seed 3 --ema 0.9 --out "$tmp/ema.st" \
          --log "$tmp/ema.jsonl" --progress lines 2>"$tmp/ema.err"); rc=$?
ema_eval=$("$ZF" eval --model mlp --checkpoint "$tmp/ema.st" --data-dir "$D" 2>&1)
train_eval=$("$ZF" eval --model mlp --checkpoint "$tmp/ema.st" --data-dir "$D" --weights train 2>&1)
if [ $rc -eq 0 ] && grep -q "EMA 0.9" <<<"$ema_out" && grep -q "(ema)" "$tmp/ema.err" && python3 -c "
import json, sys
o, e, t = (json.loads(x.strip().splitlines()[-1]) for x in sys.argv[1:4])
assert o['weights'] == 'ema' and o['ema_decay'] == 0.9 and o['eval_set'] == 'test', o
assert e['weights'] == 'ema' and abs(e['accuracy'] - o['test_accuracy']) < 1e-6, (e, o)
assert t['weights'] == 'train' and t['loss'] != e['loss'], (t, e)
assert [json.loads(l)['weights'] for l in open(sys.argv[4])] == ['ema', 'ema']
" "$ema_out" "$ema_eval" "$train_eval" "$tmp/ema.jsonl"; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: EMA run (exit $rc):"; echo "$ema_out" | tail -2; echo "$ema_eval"; echo "$train_eval"
fi
expect 1 "trained with EMA decay 0.9, this run asks for 0.99" "$ZF" train --model mlp --data-dir "$D" --epochs 3 --batch-size 32 --ema 0.99 --resume "$tmp/ema.st"
expect 1 "EMA weights \(decay 0.9\), but this optimizer has EMA off" "$ZF" train --model mlp --data-dir "$D" --epochs 3 --batch-size 32 --ema 0 --resume "$tmp/ema.st"
# one epoch, then a resume (the decay and seed come from the checkpoint): the same file as two epochs straight
"$ZF" train --model mlp --data-dir "$D" --epochs 1 --batch-size 32 --seed 3 --ema 0.9 --out "$tmp/ema1.st" --progress none >/dev/null 2>&1
"$ZF" train --model mlp --data-dir "$D" --epochs 2 --batch-size 32 --resume "$tmp/ema1.st" --progress none > "$tmp/ema1.out" 2>&1
if PYTHONPATH="$(dirname "$0")/../parity" python3 -c "
import sys, st_io
a, ma = st_io.load(sys.argv[1]); b, mb = st_io.load(sys.argv[2])
assert list(a) == list(b) and any(k.endswith('.ema') for k in a), list(a)
for k in a: assert a[k].tobytes() == b[k].tobytes(), k
" "$tmp/ema.st" "$tmp/ema1.st"; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: a resumed EMA run differs from an uninterrupted one"; tail -2 "$tmp/ema1.out"
fi

# --- a validation split held out of the training set
expect 0 '216 train / 40 validation samples.*EMA 0.99' "$ZF" train --model mlp --data-dir "$D" --epochs 1 --validation 40 --ema 0.99 --out "$tmp/val.st" --progress none
expect 0 '"eval_set":"validation"' "$ZF" train --model mlp --data-dir "$D" --epochs 1 --validation 40 --limit-train 100 --limit-test 10 --progress none
expect 1 "trained on 216 samples, this run has 206" "$ZF" train --model mlp --data-dir "$D" --epochs 2 --validation 50 --resume "$tmp/val.st"
expect 1 "--validation 256 leaves no training images \(the training set has 256\)" "$ZF" train --model mlp --data-dir "$D" --epochs 1 --validation 256

# --- lenet5 runs too (and prints its parameter count)
expect 0 "44,426 parameters" "$ZF" train --model lenet5 --data-dir "$D" --epochs 1 --batch-size 64 --limit-train 128 --progress none

expect 0 '"epochs":1' "$ZF" train --model lenet5 --data-dir "$D" --epochs 1 --limit-train 128 --augment hflip,shift:3 --progress none
expect 0 '"epochs":1' "$ZF" train --model lenet5 --data-dir "$D" --epochs 1 --limit-train 128 --hflip --augment none --progress none

# --- the same seed gives the same weights and optimizer state, bit for bit, with 1 or 2 threads
# (with augmentation, whose draws must not depend on the thread count either)
for t in 1 2; do
  "$ZF" train --model lenet5 --data-dir "$D" --epochs 2 --batch-size 32 --seed 9 --threads $t --augment hflip,shift \
        --out "$tmp/l$t.st" --progress none > "$tmp/l$t.out" 2>&1
done
if PYTHONPATH="$(dirname "$0")/../parity" python3 -c "
import sys, numpy as np, st_io
a, _ = st_io.load(sys.argv[1]); b, _ = st_io.load(sys.argv[2])
assert list(a) == list(b) and len(a) > 10, (list(a), list(b))
for k in a: assert a[k].tobytes() == b[k].tobytes(), k
" "$tmp/l1.st" "$tmp/l2.st"; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: lenet5 checkpoints differ between 1 and 2 threads"; tail -2 "$tmp/l1.out" "$tmp/l2.out"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
