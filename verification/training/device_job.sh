#!/usr/bin/env bash
# The whole device call (docs/verifier.md, "On a GPU"): two schedules side by side on the one GPU
# (MiniLM-L6 leaves most of an H200 idle, so a second run costs little time), each model returned in
# parts: the tool brings back at most 8 files of 16 MiB, and the fp16 weights are 22 MB.
#   run: bash verification/training/device_job.sh var/device 6.5   (carry ["var/device"])
#   back here: verification/training/device_unpack.sh <files_at> <name> verification/entailment/weights
set -u
PACK=${1:-var/device}
export PYTHONPATH=$PWD/$PACK/site${PYTHONPATH:+:$PYTHONPATH}
MINUTES=${2:-6.5}
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"

train() {
  local name=$1
  shift
  PYTHONUNBUFFERED=1 python3 -m verification.training.device train --pack "$PACK" --out "/tmp/$name" \
    --max-minutes "$MINUTES" --fit-schedule --frozen-layers 0 "$@" >"/tmp/$name.log" 2>&1
  echo "$name: exit $?"
  cp "/tmp/$name.log" "/tmp/$name/weights/train.log" 2>/dev/null
  if [ -f "/tmp/$name/weights/cross_encoder.safetensors" ]; then
    split -b 15000000 -d "/tmp/$name/weights/cross_encoder.safetensors" "$OUT/$name.safetensors.part"
    tar -C "/tmp/$name/weights" -cf "$OUT/$name.meta.tar" cross_encoder.json training_report.json train.log
  else
    cp "/tmp/$name.log" "$OUT/$name.log"
  fi
}

# a: the gentler schedule; b: twice the batch at a higher rate (more epochs in the same minutes)
train a --epochs 4 --batch-size 64 --lr 3e-5 &
train b --epochs 10 --batch-size 128 --lr 6e-5 &
wait
for name in a b; do
  echo "== $name"
  grep -E "fitted|finished|stopped|Error|error" "/tmp/$name.log" | tail -5
  tail -2 "/tmp/$name.log"
done
ls -la "$OUT"
