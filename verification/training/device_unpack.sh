#!/usr/bin/env bash
# Reassemble one model that device_job.sh returned in parts: <files folder> <name> <weights folder>.
set -eu
FROM=$1
NAME=$2
TO=$3
mkdir -p "$TO"
cat "$FROM/$NAME".safetensors.part* >"$TO/cross_encoder.safetensors"
tar -C "$TO" -xf "$FROM/$NAME.meta.tar"
echo "$TO: $(sha256sum "$TO/cross_encoder.safetensors" | cut -c1-16) $(grep -o '"version": "[^"]*"' "$TO/cross_encoder.json")"
