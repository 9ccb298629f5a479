/**
 * The live line while a target is measured: calls per second, errors and elapsed time. On a
 * terminal it is a cli-progress bar (boundaries.json) redrawn in place; elsewhere (CI logs,
 * pipes) it degrades to a plain line every few seconds. Always on stderr, so stdout carries
 * only the results (and `--json` stays parseable).
 */
import cliProgress from 'cli-progress';

export interface ProgressState {
  /** Seconds since the load began, warm-up included. */
  elapsedS: number;
  measuring: boolean;
  /** Calls answered in the latest complete second. */
  callsPerSecond: number;
  /** Errors in the measured window so far. */
  errors: number;
}

export interface Progress {
  update(state: ProgressState): void;
  stop(): void;
}

/** Plain lines this often when stderr is not a terminal. */
const PLAIN_EVERY_S = 5;

export function startProgress(
  label: string,
  totalS: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (!stream.isTTY) {
    let lastLine = -Infinity;
    return {
      update(state) {
        if (state.elapsedS - lastLine < PLAIN_EVERY_S) return;
        lastLine = state.elapsedS;
        stream.write(
          `${label}: ${Math.round(state.elapsedS)} s${state.measuring ? '' : ' (warm-up)'}, ` +
            `${Math.round(state.callsPerSecond)} calls/s, ${state.errors} errors\n`,
        );
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {elapsed}/{total_s} s {phase} | {rate} calls/s | {errors} errors`,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(1, Math.round(totalS)), 0, {
    elapsed: 0,
    total_s: Math.round(totalS),
    phase: 'warm-up',
    rate: 0,
    errors: 0,
  });
  return {
    update(state) {
      bar.update(Math.min(Math.round(state.elapsedS), Math.round(totalS)), {
        elapsed: Math.round(state.elapsedS),
        phase: state.measuring ? 'measuring' : 'warm-up',
        rate: Math.round(state.callsPerSecond),
        errors: state.errors,
      });
    },
    stop() {
      bar.stop();
    },
  };
}
