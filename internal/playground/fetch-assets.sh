#!/usr/bin/env bash
# fetch-assets.sh downloads the GraphiQL Playground's JavaScript and CSS from
# the npm registry into assets/, so the gateway serves them from its binary
# and the Playground works with no internet access. The versions are the ones
# gqlgen's playground.Handler pins; playground_test.go checks that the files
# match gqlgen's subresource-integrity hashes and SHA256SUMS.
#
# Run it from anywhere after changing a version, and commit its output:
#
#	internal/playground/fetch-assets.sh
set -euo pipefail
cd "$(dirname "$0")"

# package@version  path-in-tarball  name-in-assets
files=(
  "graphiql@4.1.2 package/graphiql.min.js graphiql.min.js"
  "graphiql@4.1.2 package/graphiql.min.css graphiql.min.css"
  "react@18.2.0 package/umd/react.production.min.js react.production.min.js"
  "react-dom@18.2.0 package/umd/react-dom.production.min.js react-dom.production.min.js"
  "@graphiql/plugin-explorer@4.0.6 package/dist/index.umd.js plugin-explorer.umd.js"
  "@graphiql/plugin-explorer@4.0.6 package/dist/style.css plugin-explorer.css"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p assets
for f in "${files[@]}"; do
  read -r pkg src dst <<<"$f"
  dir="$work/${pkg//[@\/]/_}"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    tgz=$(cd "$dir" && npm pack --silent "$pkg" | tail -n1)
    tar -xzf "$dir/$tgz" -C "$dir"
  fi
  cp "$dir/$src" "assets/$dst"
  echo "$pkg $src -> assets/$dst"
done
(cd assets && for f in "${files[@]}"; do echo "${f##* }"; done | LC_ALL=C sort -u | xargs sha256sum >SHA256SUMS)
echo "wrote assets/SHA256SUMS"
