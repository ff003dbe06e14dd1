#!/bin/sh
# An `after` hook of plans/wave.yaml: checks the copied data before the cutover goes on. Every
# selected mount ($FERRY_MOUNTS, a JSON list) must hold at least one file on the target
# (wave-out/$FERRY_TARGET); a real runbook would start the VM and run a smoke test here.
set -eu
target="wave-out/$FERRY_TARGET"
files=$(find "$target" -type f | wc -l)
if [ "$files" -eq 0 ]; then
  echo "no file copied to $target" >&2
  exit 1
fi
echo "$FERRY_WAVE $FERRY_MIGRATION $FERRY_PHASE: $files files in $target for $FERRY_MOUNTS" >>wave-out/hooks.log
echo "checked $files files in $target"
