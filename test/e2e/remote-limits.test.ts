/**
 * `limits.maxBackendMessageBytes` toward remote backends: a session-era server whose SSE
 * event is over the cap loses its connection (and is reconnected, like a stdio backend
 * restarted), a stateless-era server's JSON body over the cap fails its request; either
 * way the caller learns the limit by name and the next call is served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { eventually, startDaemon, type Daemon } from '../helpers/daemon.js';
import { startHttpFixture, type HttpFixture } from '../helpers/http-fixture.js';
import { textOf } from '../helpers/mcp.js';

const CAP = 1024 * 1024;

/** The MCP error a call failed with. */
async function failureOf(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    assert.equal(typeof code, 'number', `an MCP error, not ${String(error)}`);
    return { code: code as number, message: String(message) };
  }
  assert.fail('the call succeeded');
}

describe('remote backends over the message cap', () => {
  let legacy: HttpFixture;
  let modern: HttpFixture;
  let daemon: Daemon;
  let client: Client;
  before(async () => {
    legacy = await startHttpFixture('serve-http.js', ['--server', 'echo']);
    modern = await startHttpFixture('dual-era-server.js', ['--http']);
    daemon = await startDaemon({
      limits: { maxBackendMessageBytes: CAP },
      mcpServers: {
        legacy: { type: 'http', url: legacy.url },
        modern: { type: 'http', url: modern.url },
      },
    });
    client = new Client({ name: 'remote-limits', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.stop();
    await legacy?.stop();
    await modern?.stop();
  });

  test('a session-era SSE event over the cap ends the connection; it reconnects', async () => {
    const small = 'a'.repeat(CAP / 2);
    assert.equal(
      textOf(await client.callTool({ name: 'legacy__echo', arguments: { text: small } })),
      small,
    );
    const failure = await failureOf(
      client.callTool({ name: 'legacy__echo', arguments: { text: 'b'.repeat(CAP + 1) } }),
    );
    assert.equal(failure.code, -31003);
    assert.match(
      failure.message,
      /server 'legacy' sent a message over 1048576 bytes \(limits\.maxBackendMessageBytes\) while handling tools\/call 'echo'/,
    );
    const back = await eventually(
      () =>
        client.callTool({ name: 'legacy__echo', arguments: { text: 'back' } }).then(
          (result) => textOf(result),
          () => undefined,
        ),
      10_000,
      'the legacy server reconnected',
    );
    assert.equal(back, 'back');
  });

  test('a stateless-era JSON body over the cap fails that request only', async () => {
    const tool = 'modern__json_schema_2020_12_tool';
    const failure = await failureOf(
      client.callTool({ name: tool, arguments: { name: 'c'.repeat(CAP), email: 'a@b.c' } }),
    );
    assert.match(
      failure.message,
      /server 'modern' sent a message over 1048576 bytes \(limits\.maxBackendMessageBytes\)/,
    );
    const fine = textOf(
      await client.callTool({ name: tool, arguments: { name: 'd', email: 'a@b.c' } }),
    );
    assert.deepEqual(JSON.parse(fine), { name: 'd', email: 'a@b.c' });
    assert.match(daemon.stderr(), /\[server:modern\] server 'modern' sent a message over/);
  });
});
