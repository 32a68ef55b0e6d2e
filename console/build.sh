#!/usr/bin/env bash
# Bundle the console's third-party code (pinned in package.json / package-lock.json) into
# sprig/server/console/static/vendor. Run after changing a version; commit what it writes.
#   vendor.js  Preact, its hooks, htm (templates), marked (Markdown), DOMPurify (sanitising)
#   editor.js  CodeMirror 6 with JSON and its linter (loaded only where a JSON editor shows)
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
out=../sprig/server/console/static/vendor
esbuild=node_modules/@esbuild/linux-x64/bin/esbuild
[ -x "$esbuild" ] || esbuild=node_modules/.bin/esbuild
for name in vendor editor; do
    "$esbuild" "$name.entry.js" --bundle --format=esm --minify --legal-comments=eof \
        --target=es2020 --outfile="$out/$name.js"
done
node licenses.js > "$out/LICENSES.txt"
