/**
 * OpenTelemetry export of forwarded calls (docs/architecture.md#traces), by the MCP semantic
 * conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/mcp/): one CLIENT span per
 * call a shard forwards to a backend, the child of the trace context the client put in
 * `params._meta` (if any) and carried on to the backend in the forwarded request's
 * `params._meta` (`traceparent`, `tracestate`); and the `mcp.client.operation.duration`
 * histogram, exported over OTLP every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60 s).
 *
 * The one module that imports the OpenTelemetry SDK (boundaries.json). The shard loads it only
 * when `telemetry.otlp` is configured, so tracing costs nothing when it is off.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Histogram,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { CallStatus } from '../../shared/analytics/types.js';
import type { OtlpConfig } from '../../shared/config/types.js';
import type { JsonObject } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import { DIRECTOR_VERSION as VERSION } from '../../shared/version.js';

/** What the span of one forwarded call is about. */
export interface TracedCall {
  server: string;
  method: string;
  /** Tool or prompt name as the backend knows it, or the resource URI. */
  target: string;
  /** The client's session with the director. */
  session: string;
  profile: string;
  client: string;
  /** The JSON-RPC id the shard gave the request to the backend. */
  requestId: number;
  /** 'pipe' for a stdio backend, 'tcp' for a remote one. */
  transport: 'pipe' | 'tcp';
}

export interface CallSpan {
  /** The forwarded params, with this span's trace context in `_meta`. */
  readonly params: JsonObject;
  end(status: CallStatus, error: WireError | null, errorText?: string): void;
}

export interface CallTracer {
  start(call: TracedCall, params: JsonObject): CallSpan;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Reads only string values: `_meta` comes from the client. */
const META_GETTER: TextMapGetter<JsonObject> = {
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
  keys: (carrier) => Object.keys(carrier),
};

const META_SETTER: TextMapSetter<Map<string, string>> = {
  set: (carrier, key, value) => {
    carrier.set(key, value);
  },
};

const TOOL_METHODS = new Set(['tools/call']);
const PROMPT_METHODS = new Set(['prompts/get']);
const RESOURCE_METHODS = new Set([
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
]);

function attributesOf(call: TracedCall): Attributes {
  const attributes: Attributes = {
    'mcp.method.name': call.method,
    'jsonrpc.request.id': String(call.requestId),
    'mcp.session.id': call.session,
    'network.transport': call.transport,
    'mcp_director.server': call.server,
    'mcp_director.profile': call.profile,
  };
  if (call.client !== '') attributes['mcp_director.client.name'] = call.client;
  if (TOOL_METHODS.has(call.method)) {
    attributes['gen_ai.tool.name'] = call.target;
    attributes['gen_ai.operation.name'] = 'execute_tool';
  } else if (PROMPT_METHODS.has(call.method)) {
    attributes['gen_ai.prompt.name'] = call.target;
  } else if (RESOURCE_METHODS.has(call.method)) {
    attributes['mcp.resource.uri'] = call.target;
  }
  return attributes;
}

/** `{method} {target}` for tools and prompts; the method alone otherwise (URIs are unbounded). */
function spanName(call: TracedCall): string {
  return TOOL_METHODS.has(call.method) || PROMPT_METHODS.has(call.method)
    ? `${call.method} ${call.target}`
    : call.method;
}

/**
 * The duration metric's attributes: the conventions' low-cardinality ones (no session id, no
 * resource URI), plus the server.
 */
function metricAttributes(call: TracedCall): Attributes {
  const attributes: Attributes = {
    'mcp.method.name': call.method,
    'network.transport': call.transport,
    'mcp_director.server': call.server,
  };
  if (TOOL_METHODS.has(call.method)) attributes['gen_ai.tool.name'] = call.target;
  else if (PROMPT_METHODS.has(call.method)) attributes['gen_ai.prompt.name'] = call.target;
  return attributes;
}

/** The conventions' advised bucket boundaries for MCP operation durations, in seconds. */
const DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

class OtlpCallSpan implements CallSpan {
  readonly #started = performance.now();

  constructor(
    private readonly span: Span,
    readonly params: JsonObject,
    private readonly call: TracedCall,
    private readonly duration: Histogram,
  ) {}

  end(status: CallStatus, error: WireError | null, errorText?: string): void {
    const attributes = metricAttributes(this.call);
    if (error !== null) {
      attributes['error.type'] = String(error.code);
    } else if (status === 'error') {
      attributes['error.type'] = 'tool_error';
    } else if (status === 'cancelled') {
      attributes['error.type'] = 'cancelled';
    }
    this.duration.record((performance.now() - this.#started) / 1000, attributes);
    if (error !== null) {
      this.span.setAttribute('error.type', String(error.code));
      this.span.setAttribute('rpc.response.status_code', String(error.code));
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    } else if (status === 'error') {
      // A tool's own failure (isError: true): the conventions' low-cardinality value.
      this.span.setAttribute('error.type', 'tool_error');
      this.span.setStatus({ code: SpanStatusCode.ERROR, ...(errorText && { message: errorText }) });
    } else if (status === 'cancelled') {
      this.span.setAttribute('error.type', 'cancelled');
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: 'cancelled by the client' });
    }
    this.span.end();
  }
}

export function createCallTracer(config: OtlpConfig, instance: string | undefined): CallTracer {
  const exporter = new OTLPTraceExporter({
    url: `${config.endpoint}/v1/traces`,
    headers: { ...config.headers },
  });
  const resource = resourceFromAttributes({
    'service.name': config.serviceName,
    'service.version': VERSION,
    ...(instance !== undefined && { 'service.instance.id': instance }),
  });
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('mcp-director', VERSION);
  const interval = Number(process.env['OTEL_METRIC_EXPORT_INTERVAL']);
  const meters = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: `${config.endpoint}/v1/metrics`,
          headers: { ...config.headers },
        }),
        exportIntervalMillis: interval > 0 ? interval : 60_000,
      }),
    ],
  });
  const duration = meters
    .getMeter('mcp-director', VERSION)
    .createHistogram('mcp.client.operation.duration', {
      description: 'Duration of MCP requests the director forwarded to its backends.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  const propagator = new W3CTraceContextPropagator();
  return {
    start(call, params) {
      const meta = params._meta;
      const clientMeta =
        meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? meta : undefined;
      const parent =
        clientMeta === undefined
          ? ROOT_CONTEXT
          : propagator.extract(ROOT_CONTEXT, clientMeta, META_GETTER);
      const span = tracer.startSpan(
        spanName(call),
        { kind: SpanKind.CLIENT, attributes: attributesOf(call) },
        parent,
      );
      const carried = new Map<string, string>();
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carried, META_SETTER);
      // The client's own trace keys are replaced by this span's: the backend's parent is us.
      const forwardedMeta: JsonObject = { ...clientMeta };
      delete forwardedMeta['tracestate'];
      for (const [key, value] of carried) forwardedMeta[key] = value;
      const forwarded: JsonObject = { ...params, _meta: forwardedMeta };
      return new OtlpCallSpan(span, forwarded, call, duration);
    },
    shutdown: async () => {
      await Promise.all([provider.shutdown(), meters.shutdown()]);
    },
  };
}
