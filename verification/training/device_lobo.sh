#!/usr/bin/env bash
# Leave-one-book-out on a lent GPU in one call (docs/verifier.md, "On a GPU"): for each book with
# exam claims, a model trained from the MiniLM base on everything but that book (its claims, its
# synthetic and glossary pairs), then scored on that book's claims there. Runs side by side: each is
# launch-bound and leaves most of an H200 idle. The run without us-history is the shipping candidate
# (the book the CPU bench holds out), returned in parts (the tool brings back files of 16 MiB at most).
#   here:  .venv/bin/python -m verification.training.device pack --out var/device2 --holdout-book none \
#            --full-base --synthetic-per-module 16 --glossary-per-module 6 --book-claim-copies 3
#          the shipped weights stay behind (mv them out of the tree for the call: 22 MB of the 64 MiB)
#   run:   bash verification/training/device_lobo.sh var/device2 6   (carry ["var/device2"])
#   back:  verification/training/device_unpack.sh <files_at> lobo-us-history <folder>; lobo.json holds
#          each book's per-claim scores
set -u
PACK=${1:-var/device2}
MINUTES=${2:-6}
BOOKS=${BOOKS:-american-government-3e anatomy-physiology-2e microbiology sociology-3e us-history}
export PYTHONPATH=$PWD/$PACK/site${PYTHONPATH:+:$PYTHONPATH}
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"

train() {
  local name=$1
  shift
  PYTHONUNBUFFERED=1 python3 -m verification.training.device train --pack "$PACK" --out "/tmp/$name" \
    --from-base --max-minutes "$MINUTES" --fit-schedule --frozen-layers 0 "$@" >"/tmp/$name.log" 2>&1
  echo "$name: exit $?"
}

for book in $BOOKS; do
  train "lobo-$book" --without-book "$book" --epochs 8 --batch-size 128 --lr 6e-5 &
done
# a second schedule for the shipping candidate: half the batch at half the rate
train ship-b64 --without-book us-history --epochs 8 --batch-size 64 --lr 3e-5 &
wait

python3 - "$OUT/lobo.json" $BOOKS <<'EOF'
import json, sys
out, books = sys.argv[1], sys.argv[2:]
runs = {}
for name in [f"lobo-{b}" for b in books] + ["ship-b64"]:
    try:
        runs[name] = json.load(open(f"/tmp/{name}/weights/training_report.json"))
    except OSError as error:
        runs[name] = {"error": str(error)}
json.dump(runs, open(out, "w"))
for name, r in runs.items():
    held = r.get("held_out_book") or {}
    print(name, r.get("steps"), r.get("pairs_seen"), r.get("seconds"), held.get("auc"), held.get("balanced_accuracy_at_0"))
EOF
for name in lobo-us-history ship-b64; do
  if [ -f "/tmp/$name/weights/cross_encoder.safetensors" ]; then
    cp "/tmp/$name.log" "/tmp/$name/weights/train.log"
    split -b 15000000 -d "/tmp/$name/weights/cross_encoder.safetensors" "$OUT/$name.safetensors.part"
    tar -C "/tmp/$name/weights" -cf "$OUT/$name.meta.tar" cross_encoder.json training_report.json train.log
  fi
done
for log in /tmp/lobo-*.log /tmp/ship-b64.log; do
  echo "== $log"
  grep -E "fitted|finished|stopped|held-out|Error" "$log" | tail -4
done
ls -la "$OUT"
