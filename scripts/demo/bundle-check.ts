// The bundle, read the way a handler reads it: loadSecrets() of the BUILT library (dist/,
// imported as `middy-kms-secrets`), one field per fetchData entry (`DEMO_BUNDLE#FIELD`),
// all of them from one KMS Decrypt. Values are compared with what was sealed, never shown.

export interface BundleCheck {
  ok: boolean
  /** Field names, in the order they were sealed. */
  names: string[]
  /** KMS Decrypt requests it took (undefined when they cannot be counted). */
  decrypts: number | undefined
  summary: string
}

export async function checkBundle(
  bundle: string,
  expected: Record<string, string>,
  functionName: string,
  decryptCount: () => number | undefined,
): Promise<BundleCheck> {
  const { loadSecrets } = await import('middy-kms-secrets')
  const names = Object.keys(expected)
  const before = decryptCount()
  process.env.DEMO_BUNDLE = bundle
  try {
    const values = (await loadSecrets({
      fetchData: Object.fromEntries(names.map((name) => [name, `DEMO_BUNDLE#${name}`])),
      encryptionContext: { LambdaFunctionName: functionName },
      cacheKey: 'kms-secrets-demo-bundle',
    })) as Record<string, unknown>
    const after = decryptCount()
    const decrypts = before === undefined || after === undefined ? undefined : after - before
    const wrong = names.filter((name) => values[name] !== expected[name])
    return {
      ok: wrong.length === 0,
      names,
      decrypts,
      summary:
        wrong.length === 0
          ? `${names.length} of ${names.length} values equal to the ones sealed`
          : `${wrong.join(', ')} differ from the values sealed`,
    }
  } finally {
    delete process.env.DEMO_BUNDLE
  }
}
