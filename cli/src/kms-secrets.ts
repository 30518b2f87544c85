#!/usr/bin/env node
// The `kms-secrets` command (package bin). Everything is in main.ts, testable in process.
import { main, processIo } from './main.ts'

process.exitCode = await main(process.argv.slice(2), processIo())
