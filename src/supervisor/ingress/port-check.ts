/**
 * Whether something already answers on the port the daemon is to listen on: the composition
 * root (index.ts) asks before it starts anything.
 */
import { connect } from 'node:net';

/**
 * uWS listens with SO_REUSEPORT, so a second daemon on a served port would start fine and
 * silently take half the traffic. Refuse instead when something already answers there.
 */
export function refuseIfPortServed(host: string, port: number): Promise<void> {
  const probeHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: probeHost, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      reject(
        new Error(
          `Port ${port} on ${host} is already served by another process (another MCP Director?). Stop it, or choose another port with --port or "listen.port" in the config.`,
        ),
      );
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', () => resolve());
  });
}
