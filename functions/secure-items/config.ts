// The function's configuration, read once at module init.
import { readCacheExpiry } from '../shared/cache-expiry.ts'

export interface Config {
  tableName: string
  /**
   * Table name bound into every sealed value's AAD. Default TABLE_NAME. A point-in-time
   * restore always creates a table with a new name: point TABLE_NAME at the restored
   * table and set AAD_TABLE_NAME to the original name, and its items still open.
   */
  aadTableName: string
  /** kmsSecrets' cacheExpiry (KMS_SECRETS_CACHE_EXPIRY). */
  cacheExpiry: number
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/

export const readConfig = (env: NodeJS.ProcessEnv): Config => {
  const tableName = env.TABLE_NAME ?? ''
  if (!TABLE_NAME.test(tableName)) {
    throw new ConfigError('TABLE_NAME must name the items table (3-255 of A-Z a-z 0-9 _ . -)')
  }
  const aadTableName = env.AAD_TABLE_NAME || tableName
  if (!TABLE_NAME.test(aadTableName)) {
    throw new ConfigError('AAD_TABLE_NAME, when set, must be a table name')
  }
  const cacheExpiry = readCacheExpiry(env, (problem) => {
    throw new ConfigError(problem)
  })
  return { tableName, aadTableName, cacheExpiry }
}
