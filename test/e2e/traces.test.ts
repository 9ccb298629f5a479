/**
 * OpenTelemetry export, driven the way a user runs it: a daemon whose config names an OTLP
 * endpoint, an SDK client calling tools with its own trace context in `params._meta`, and a
 * collector stand-in (plain HTTP on 127.0.0.1 receiving OTLP/HTTP JSON). The spans must carry
 * the MCP semantic conventions' names, continue the client's trace, and be the parent the
 * backend sees in the forwarded request's `params._meta`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { eventually, fixture, startDaemon, type Daemon } from '../helpers/daemon.js';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number; message?: string };
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

interface MetricExport {
  resourceMetrics: {
    scopeMetrics: {
      metrics: {
        name: string;
        unit?: string;
        histogram?: {
          dataPoints: { count: string | number; attributes: { key: string; value: OtlpValue }[] }[];
        };
      }[];
    }[];
  }[];
}

const attr = (list: { key: string; value: OtlpValue }[], key: string): string | undefined => {
  const value = list.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
};

describe('OTLP traces', () => {
  let collector: Server;
  const exports: { headers: IncomingHttpHeaders; body: OtlpExport }[] = [];
  const metricExports: MetricExport[] = [];
  let daemon: Daemon;
  let client: Client;
  let sessionId: string;

  before(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/metrics') {
          metricExports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as MetricExport);
        } else if (req.method === 'POST' && req.url === '/v1/traces') {
          exports.push({
            headers: req.headers,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport,
          });
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    daemon = await startDaemon(
      {
        mcpServers: { echo: fixture('echo-server'), raw: fixture('raw-server') },
        telemetry: {
          otlp: {
            endpoint: `http://127.0.0.1:${port}/`,
            headers: { 'x-collector-key': 'k-123' },
            serviceName: 'director-under-test',
          },
        },
      },
      // The batch processor's delay, from the SDK's standard environment variable.
      { env: { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_METRIC_EXPORT_INTERVAL: '200' } },
    );
    client = new Client({ name: 'traces-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(daemon.url));
    await client.connect(transport);
    sessionId = transport.sessionId!;
  });
  after(async () => {
    await client.close();
    await daemon.stop();
    await new Promise((resolve) => collector.close(resolve));
  });

  const spans = (): { span: OtlpSpan; resource: OtlpExport['resourceSpans'][0]['resource'] }[] =>
    exports.flatMap((e) =>
      e.body.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ span, resource: rs.resource }))),
      ),
    );

  test('a span per forwarded call, named and attributed by the MCP conventions, in the client trace', async () => {
    const traceparent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
    await client.callTool({
      name: 'echo__echo',
      arguments: { text: 'hi' },
      _meta: { traceparent },
    });
    await client.callTool({ name: 'echo__fail', arguments: {} });
    const found = await eventually(() => {
      const all = spans();
      const echo = all.find((s) => s.span.name === 'tools/call echo');
      const fail = all.find((s) => s.span.name === 'tools/call fail');
      return echo !== undefined && fail !== undefined ? { echo, fail } : undefined;
    }, 10_000);
    const { span, resource } = found.echo;
    assert.equal(span.traceId, CLIENT_TRACE, 'continues the client trace');
    assert.equal(span.parentSpanId, CLIENT_SPAN, 'the child of the client span');
    assert.equal(span.kind, 3, 'SPAN_KIND_CLIENT');
    const a = span.attributes;
    assert.deepEqual(
      ['mcp.method.name', 'gen_ai.tool.name', 'gen_ai.operation.name', 'mcp.session.id'].map(
        (key) => attr(a, key),
      ),
      ['tools/call', 'echo', 'execute_tool', sessionId],
    );
    assert.equal(attr(a, 'network.transport'), 'pipe');
    assert.equal(attr(a, 'mcp_director.server'), 'echo');
    assert.match(attr(a, 'jsonrpc.request.id') ?? '', /^\d+$/);
    assert.equal(attr(a, 'error.type'), undefined);
    assert.equal(attr(resource.attributes, 'service.name'), 'director-under-test');
    // A tool's own failure: error.type tool_error and status ERROR (2).
    assert.equal(attr(found.fail.span.attributes, 'error.type'), 'tool_error');
    assert.equal(found.fail.span.status?.code, 2);
    assert.notEqual(found.fail.span.traceId, CLIENT_TRACE, 'no client context: a new trace');
    assert.equal(exports[0]?.headers['x-collector-key'], 'k-123');
  });

  test("the backend receives the director's span as its parent in params._meta", async () => {
    const traceparent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
    const tracestate = 'vendor=abc';
    const result = await client.callTool({
      name: 'echo__meta',
      arguments: {},
      _meta: { traceparent, tracestate, progressToken: 7 },
    });
    const meta = JSON.parse((result.content as { text: string }[])[0]!.text) as Record<
      string,
      unknown
    >;
    const [, traceId, spanId] = String(meta['traceparent']).split('-');
    assert.equal(traceId, CLIENT_TRACE);
    assert.notEqual(spanId, CLIENT_SPAN, "the director's own span, not the client's");
    assert.equal(meta['tracestate'], tracestate, 'the trace state carries on');
    assert.ok(meta['progressToken'] !== undefined, 'the rest of _meta is kept');
    const span = await eventually(
      () => spans().find((s) => s.span.spanId === spanId)?.span,
      10_000,
    );
    assert.equal(span.name, 'tools/call meta');
    assert.equal(span.parentSpanId, CLIENT_SPAN);
  });

  test('the mcp.client.operation.duration histogram, by tool and error type', async () => {
    await client.callTool({ name: 'echo__echo', arguments: { text: 'again' } });
    const points = await eventually(() => {
      const all = metricExports.flatMap((e) =>
        e.resourceMetrics.flatMap((rm) =>
          rm.scopeMetrics.flatMap((sm) =>
            sm.metrics.filter((m) => m.name === 'mcp.client.operation.duration'),
          ),
        ),
      );
      // Cumulative: wait for an export that counts both echo calls.
      const last = all.at(-1);
      const echoes = last?.histogram?.dataPoints.find(
        (p) => attr(p.attributes, 'gen_ai.tool.name') === 'echo',
      );
      return last?.unit === 's' && Number(echoes?.count) >= 2
        ? last.histogram?.dataPoints
        : undefined;
    }, 10_000);
    const echo = points.find((p) => attr(p.attributes, 'gen_ai.tool.name') === 'echo');
    assert.ok(echo !== undefined && Number(echo.count) >= 2, JSON.stringify(points));
    assert.equal(attr(echo.attributes, 'mcp.method.name'), 'tools/call');
    assert.equal(attr(echo.attributes, 'mcp.session.id'), undefined, 'no unbounded labels');
    const fail = points.find((p) => attr(p.attributes, 'gen_ai.tool.name') === 'fail');
    assert.equal(fail && attr(fail.attributes, 'error.type'), 'tool_error');
  });
});
