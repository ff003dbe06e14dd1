#!/bin/sh
# A `before` hook of plans/wave.yaml: where a real runbook stops the application on the source
# (`ssh "$FERRY_SOURCE_IP" systemctl stop "$1"`), the demo only writes down that it would, in
# wave-out/hooks.log, so that nothing on this machine changes.
set -eu
mkdir -p wave-out
echo "$FERRY_WAVE $FERRY_MIGRATION $FERRY_PHASE: stop $1 on $FERRY_SOURCE ($FERRY_SOURCE_IP)" >>wave-out/hooks.log
