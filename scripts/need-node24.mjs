// Plain JavaScript, run before the .ts scripts: on an older Node, one line saying what to do
// instead of ERR_UNKNOWN_FILE_EXTENSION.
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(
    `npm run ${process.env.npm_lifecycle_event ?? '...'} needs Node.js 24 (this shell has ${process.version}): run \`. scripts/node24.sh\` in this shell first\n`,
  )
  process.exit(1)
}
