#!/usr/bin/env bash
# Screenshots of the built site opened from disk (file://), in headless Chromium with the
# network switched off, to check that formulas render as maths and links resolve offline.
#   mkdocs build --strict && bash docs/screenshots.sh [OUTDIR] [PAGE.html ...]
# Needs Debian's chromium (apt-get install chromium). Writes OUTDIR/<page>.png (default:
# screenshots/ in the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-screenshots}"
shift || true
pages=("$@")
if [ ${#pages[@]} -eq 0 ]; then
    pages=(theory.html labs/lab1-elements-1d.html labs/lab4-heat-time-step.html
        guide/operators.html api/fem.html)
fi
mkdir -p "$out"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
for page in "${pages[@]}"; do
    [ -f "site/$page" ] || { echo "site/$page missing: run mkdocs build first" >&2; exit 1; }
    name="$(echo "$page" | tr / _)"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
        --proxy-server="127.0.0.1:9" --proxy-bypass-list="<-loopback>" \
        --virtual-time-budget=5000 --hide-scrollbars --window-size=1280,1600 \
        --screenshot="$out/${name%.html}.png" "file://$PWD/site/$page" 2>/dev/null
    echo "$out/${name%.html}.png"
done
