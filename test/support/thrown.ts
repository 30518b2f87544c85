/** The error `act` throws; a test that expects one fails when it throws none. */
export const errorOf = (act: () => unknown): unknown => {
  try {
    act()
  } catch (error) {
    return error
  }
  throw new Error('expected an error, got none')
}
