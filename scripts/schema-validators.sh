#!/usr/bin/env bash
# Checks schema/plan.schema.json with validators other than ferry's own, as editors and CI
# pipelines outside this repository use it:
#   - ajv (strict mode, draft 2020-12, with ajv-formats for ipv4/ipv6) compiles the schema;
#   - check-jsonschema checks it against the 2020-12 metaschema, accepts every plan in plans/,
#     refuses every schema-level example in plans/invalid/, and accepts the examples whose error
#     only ferry's domain rules can see (the list below, checked both ways).
# Run by scripts/test.sh; needs python3-venv and npm (scripts/object-servers.sh installs both).
# The tools are pinned and cached beside the object servers' (FERRY_TOOLS_DIR), so a second run takes seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools=${FERRY_TOOLS_DIR:-$HOME/.cache/ferry-test-tools}
schema=schema/plan.schema.json

# Examples in plans/invalid/ that the schema accepts: their error is one of ferry's domain rules.
domain_only=(
  capacity-exceeded connection-cloud-mismatch duplicate-ip duplicate-migration duplicate-mount
  invalid-mount-name missing-system-volume
  multiple-system-volumes plaintext-password target-ip-conflict target-reused unknown-mount
  unknown-source unknown-target
  duplicate-wave unknown-wave missing-wave invalid-threshold empty-hook-command invalid-hook-timeout
  hook-plaintext-secret
)
# Examples that are not a YAML document another parser reads the way ferry does (bad bytes,
# syntax, duplicate keys, size limits, no document at all): no outside validator is asked.
not_for_outside_parsers=(invalid-encoding yaml-syntax duplicate-key yaml-limit empty-plan)

mkdir -p "$tools"
if [ ! -x "$tools/check-jsonschema/bin/check-jsonschema" ]; then
  python3 -m venv "$tools/check-jsonschema"
  "$tools/check-jsonschema/bin/pip" install -q 'check-jsonschema==0.33.3' >&2
fi
if [ ! -x "$tools/ajv/node_modules/.bin/ajv" ]; then
  mkdir -p "$tools/ajv"
  npm install --silent --prefix "$tools/ajv" ajv-cli@5.0.0 ajv-formats@3.0.1 >&2
fi
check_jsonschema=$tools/check-jsonschema/bin/check-jsonschema

echo "schema-validators: ajv compile --spec=draft2020 --strict=true $schema" >&2
# ajv runs from its own folder so that `-c ajv-formats` resolves there.
(cd "$tools/ajv" && node_modules/.bin/ajv compile --spec=draft2020 --strict=true \
  -c ajv-formats -c "$OLDPWD/scripts/ajv-editor-keywords.cjs" -s "$OLDPWD/$schema") >&2

echo "schema-validators: check-jsonschema --check-metaschema $schema" >&2
"$check_jsonschema" --check-metaschema "$schema" >&2

echo "schema-validators: check-jsonschema accepts plans/*.yaml" >&2
"$check_jsonschema" --schemafile "$schema" plans/*.yaml >&2

checked=0
for plan in plans/invalid/*.yaml; do
  code=$(basename "$plan" .yaml)
  [[ " ${not_for_outside_parsers[*]} " == *" $code "* ]] && continue
  if "$check_jsonschema" --schemafile "$schema" "$plan" >/dev/null 2>&1; then accepted=1; else accepted=0; fi
  if [[ " ${domain_only[*]} " == *" $code "* ]]; then
    [ "$accepted" = 1 ] || { echo "schema-validators: $plan is a domain-rule example, yet the schema refuses it" >&2; exit 1; }
  else
    [ "$accepted" = 0 ] || { echo "schema-validators: the schema accepts $plan; add $code to domain_only if only a rule can see it" >&2; exit 1; }
  fi
  checked=$((checked + 1))
done
echo "schema-validators: check-jsonschema judged $checked plans/invalid/ examples as expected" >&2
