/**
 * Where a backend's parts write: toward the supervisor (`Sink`, one thread message at a time)
 * and toward the server (`PeerWire`, the current child's stdin or remote channel).
 */
import type { WorkerMessage } from '../../shared/messages.js';

export type Sink = (message: WorkerMessage) => void;

/** Where the peer writes: the current child's stdin (one serialized message per call). */
export interface PeerWire {
  send(json: string): void;
}
