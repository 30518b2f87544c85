// Whether something listens on a local port, for the tests that start and stop servers.
import { connect } from 'node:net'

/** Whether a TCP connection to 127.0.0.1:port is accepted. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
