/** The soak's closing report: a plain-text summary for people, or one JSON object (`--json`). */
import { formatMicroseconds } from '../src/bench/results.js';
import { formatTable } from '../src/shared/text-table.js';
import type { SoakResult, Snapshot } from './soak.js';

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[(sorted.length - 1) >> 1]!;
}

function snapshotRow(label: string, s: Snapshot): string[] {
  return [
    label,
    `${s.atS.toFixed(0)} s`,
    mib(s.daemonRssKiB),
    `${mib(s.childrenRssKiB)} (${s.children})`,
    String(s.fds),
    s.sessions < 0 ? 'n/a' : String(s.sessions),
  ];
}

export function printReport(result: SoakResult, json: boolean, loadAtStart: string): void {
  const { tally, settings } = result;
  const lost = sum(tally.lost.values());
  const errors = sum([...tally.errors.values()].map((e) => e.count));
  const callsPerSecond = tally.completed / result.measuredS;
  if (json) {
    const report = {
      settings,
      machine: result.machine,
      loadAverageAtStart: loadAtStart,
      measuredS: result.measuredS,
      start: result.start,
      peak: result.peak,
      end: result.end,
      samples: result.samples,
      calls: {
        sent: tally.calls,
        completed: tally.completed,
        toolErrors: tally.toolErrors,
        errors,
        errorsByKind: Object.fromEntries(tally.errors),
        abandoned: tally.abandoned,
        lost,
        lostByReason: Object.fromEntries(tally.lost),
        lostSamples: tally.lostSamples,
        lostOther: tally.lostOther,
        callsPerSecond,
        latencyUs: {
          p50: tally.latency.getValueAtPercentile(50),
          p99: tally.latency.getValueAtPercentile(99),
          max: tally.latency.maxValue,
        },
      },
      handshakes: tally.handshakes,
      handshakeFailures: Object.fromEntries(tally.handshakeFailures),
      disconnects: Object.fromEntries(tally.disconnects),
      sessionsDropped: tally.dropped,
      deleteFailures: Object.fromEntries(tally.deleteFailures),
      backends: result.backends,
      daemonAlive: result.daemonAlive,
      shutdown: result.shutdown,
      daemonLog: { levels: Object.fromEntries(result.logLevels), lastWarnings: result.logSamples },
      failures: result.failures,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }

  const out: string[] = [
    `MCP Director soak, ${new Date().toISOString()}`,
    `machine: ${result.machine}, load average at start ${loadAtStart}`,
    `load: ${settings.sessions} session-era clients for ${settings.durationS} s (measured ` +
      `${result.measuredS.toFixed(1)} s); per turn a ${(settings.disconnectRate * 100).toFixed(1)}% ` +
      `chance of a disconnect (${settings.disconnects.join(', ')}); ` +
      (settings.killEveryS > 0
        ? `a backend SIGKILLed every ~${settings.killEveryS} s`
        : 'no backend kills') +
      `; call deadline ${settings.callTimeoutMs / 1000} s; seed ${settings.seed}`,
    '',
    formatTable(
      ['', 'at', 'daemon RSS', 'backends RSS (procs)', 'daemon fds', 'live sessions'],
      [
        snapshotRow('start', result.start),
        snapshotRow('peak RSS', result.peak),
        snapshotRow('end', result.end),
      ],
    ),
    `(end: after every client closed its session or dropped it, and the client sockets closed)`,
    `timeline (start, every 5 s, end): daemon RSS MiB ` +
      result.samples.map((s) => (s.daemonRssKiB / 1024).toFixed(0)).join(' ') +
      '; fds ' +
      result.samples.map((s) => String(s.fds)).join(' ') +
      '; sessions ' +
      result.samples.map((s) => (s.sessions < 0 ? '?' : String(s.sessions))).join(' '),
    '',
    `calls: sent ${tally.calls}, completed ${tally.completed} (tool errors ${tally.toolErrors}), ` +
      `errors ${errors}, abandoned by their client ${tally.abandoned}, LOST ${lost}`,
    `completed calls/s ${callsPerSecond.toFixed(0)}; latency p50 ` +
      `${formatMicroseconds(tally.latency.getValueAtPercentile(50))}, p99 ` +
      `${formatMicroseconds(tally.latency.getValueAtPercentile(99))}, max ${formatMicroseconds(tally.latency.maxValue)}`,
  ];
  if (tally.errors.size > 0) {
    out.push('', 'errors by kind:');
    const rows = [...tally.errors].sort((a, b) => b[1].count - a[1].count);
    out.push(
      formatTable(
        ['kind', 'count', 'example'],
        rows.map(([kind, e]) => [kind, String(e.count), e.sample.slice(0, 110)]),
      ),
    );
  }
  if (lost > 0) {
    out.push('', 'LOST calls by reason:');
    for (const [reason, count] of tally.lost) out.push(`  ${reason} ×${count}`);
    for (const sample of tally.lostSamples) out.push(`  ${sample}`);
  }
  const failures = [...tally.handshakeFailures].map(([r, n]) => `${r} ×${n}`);
  out.push(
    '',
    `sessions: ${tally.handshakes} handshakes` +
      (failures.length > 0 ? ` (failed: ${failures.join(', ')})` : '') +
      `; disconnects: ${[...tally.disconnects].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}` +
      `; dropped without DELETE ${tally.dropped}` +
      (tally.deleteFailures.size > 0
        ? `; DELETE failures: ${[...tally.deleteFailures].map(([r, n]) => `${r} ×${n}`).join(', ')}`
        : '') +
      (tally.lostOther > 0 ? `; other requests LOST ${tally.lostOther}` : ''),
    '',
    formatTable(
      [
        'backend',
        'kills',
        'restarts',
        'pids seen',
        'recovery median / max',
        'not recovered',
        'state at end',
        'kills skipped',
      ],
      Object.entries(result.backends).map(([id, b]) => [
        id,
        String(b.kills),
        String(b.restarts),
        String(b.pids),
        b.recoveryMs.length === 0
          ? '-'
          : `${median(b.recoveryMs)} / ${Math.max(...b.recoveryMs)} ms`,
        String(b.unrecovered),
        b.stateAtEnd,
        Object.entries(b.skipped)
          .map(([r, n]) => `${r} ×${n}`)
          .join('; ') || '-',
      ]),
    ),
    '',
    `SIGTERM at the end: ${result.shutdown.exit}` +
      (result.shutdown.exitMs === undefined ? '' : ` after ${result.shutdown.exitMs} ms`) +
      `; backend processes left behind ${result.shutdown.leftBehind}`,
    `daemon log: ${[...result.logLevels].map(([level, n]) => `${level} ${n}`).join(', ') || 'empty'}`,
  );
  if (result.logSamples.length > 0) {
    out.push('last warnings and errors of the daemon:');
    for (const line of result.logSamples.slice(-10)) out.push(`  ${line}`);
  }
  out.push(
    '',
    result.failures.length === 0
      ? 'PASS: every call was answered or abandoned by its own client; the daemon stayed up'
      : `FAIL: ${result.failures.join('; ')}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}
