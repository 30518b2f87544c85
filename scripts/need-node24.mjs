// `node scripts/need-node24.mjs && node scripts/x.ts`: the package.json scripts that run
// TypeScript run this first. Plain JavaScript, so that an older Node reads it and says in one
// line what to do, instead of failing on the .ts with ERR_UNKNOWN_FILE_EXTENSION.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(
    `npm run ${process.env.npm_lifecycle_event ?? '...'} needs Node.js 24 (this shell has ${process.version}): run \`. scripts/node24.sh\` in this shell first\n`,
  )
  process.exit(1)
}
