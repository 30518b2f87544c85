// Module load only, in a fresh process each (a proc.ts worker): node scripts/bench/load.ts <fn.mjs>
// Wall and main-thread CPU time (process.threadCpuUsage: what background load on the machine
// does not inflate) of `await import()` of a bundled function. A prefetch dies with the process.

import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { worker } from './proc.ts'

const cpuMs = () => {
  const { user, system } = process.threadCpuUsage()
  return (user + system) / 1000
}

const file = process.argv[2] as string
worker('load.ts <function.mjs>', file !== undefined, async () => {
  const cpuStart = cpuMs()
  const start = performance.now()
  await import(pathToFileURL(file).href)
  return { wallMs: performance.now() - start, cpuMs: cpuMs() - cpuStart }
})
