# Source me: puts Node.js >= 24 first on PATH, fetched once into a cache folder where the
# machine's is older (fetch-node.sh). That Node has no npm: the machine's npm runs under it and
# keeps reading the machine's npm configuration. Appends moto_server, aws, cfn-lint's folders.
_kms_here="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 24 ]; then
  # The npm configuration files in effect now, before the prefix changes with the Node.
  for _kms_c in globalconfig userconfig; do
    if [ -z "$(printenv "npm_config_$_kms_c")" ] && command -v npm >/dev/null 2>&1; then
      _kms_npmrc=$(npm config get "$_kms_c" 2>/dev/null) && [ -n "$_kms_npmrc" ] &&
        export "npm_config_$_kms_c=$_kms_npmrc"
    fi
  done
  . "$_kms_here/fetch-node.sh"
  _kms_node=$(_kms_fetch_node 24) || return 1 2>/dev/null || exit 1
  export PATH="$(dirname "$_kms_node"):$PATH"
fi
_kms_tools=$(node "$_kms_here/local/tools.ts" --path 2>/dev/null) && [ -n "$_kms_tools" ] &&
  export PATH="$PATH:$_kms_tools"
echo "node24.sh: using node $(node --version) at $(command -v node)" >&2
