#!/usr/bin/env bash
# Regenerate the sample decision documents under docs/samples/ (for review by claims staff).
# Run from the repository root with the project installed: bash docs/samples/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/samples
common=(--decided-on 2026-12-01 --handler "見本 / sample")
for claim in scenarios/examples/nagano_seed_example.yaml scenarios/examples/fukuoka_seed_example.yaml; do
    name="$(basename "$claim" .yaml)"
    for lang in ja en; do
        adjudicator adjudicate "$claim" --format text --lang "$lang" "${common[@]}" > "$out/$name.$lang.txt"
        adjudicator adjudicate "$claim" --format md --lang "$lang" "${common[@]}" > "$out/$name.$lang.md"
        adjudicator adjudicate "$claim" --format html --lang "$lang" "${common[@]}" > "$out/$name.$lang.html"
    done
done
for claim in "$out"/claims/*.yaml; do
    name="$(basename "$claim" .yaml)"
    for lang in ja en; do
        adjudicator adjudicate "$claim" --format md --lang "$lang" "${common[@]}" > "$out/$name.$lang.md"
    done
done
adjudicator adjudicate scenarios/examples/nagano_seed_example.yaml --format md --lang ja --audit "${common[@]}" \
    > "$out/nagano_seed_example.audit.ja.md"
