import {
  PreviewLogStream,
  type LogLevel,
  type LogLine,
  type MetricMessage,
  type PreviewClient,
  type PreviewMetrics,
  type PreviewStatus,
} from '@preview-service/client';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Chart } from './chart.js';
import { LogBuffer, logLevels, type LogFilter } from './log-buffer.js';
import { LogView } from './log-view.js';
import { previewCharts } from './metrics.js';
import { errorText, type LiveAccess } from './session.js';

/** Lines kept in the browser; older ones are dropped (the service keeps them all). */
const logCapacity = 10_000;
/** Live metric samples kept for the charts. */
const liveSampleCapacity = 360;
const settledStatuses = new Set(['healthy', 'degraded', 'unhealthy', 'stopped', 'failed']);
const stoppedStatuses = new Set(['stopped', 'failed']);
/** The memory and CPU charts: the stored per-minute samples beside the live ones. */
const minuteAndLive = [
  { label: 'per minute', color: '#2563eb' },
  { label: 'live', color: '#16a34a' },
];

function useStatus(client: PreviewClient, generationId: string, refresh: number, onChange: () => void) {
  const [status, setStatus] = useState<PreviewStatus>();
  const [error, setError] = useState<string>();
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const lastStatus = useRef<string>();
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      let next = 5000;
      try {
        const current = await client.status(generationId);
        if (cancelled) return;
        setStatus(current);
        setError(undefined);
        if (lastStatus.current !== current.status) {
          lastStatus.current = current.status;
          onChangeRef.current();
        }
        // While it launches, every step of the timeline as it happens.
        if (!settledStatuses.has(current.status)) next = 1000;
      } catch (failure) {
        if (!cancelled) setError(errorText(failure));
      }
      if (!cancelled) timer = setTimeout(() => void poll(), next);
    };
    void poll();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [client, generationId, refresh]);
  return { status, error };
}

function useStoredMetrics(client: PreviewClient, generationId: string) {
  const [metrics, setMetrics] = useState<PreviewMetrics>();
  useEffect(() => {
    let cancelled = false;
    const load = () =>
      client.metrics(generationId).then(
        (m) => !cancelled && setMetrics(m),
        () => undefined,
      );
    void load();
    // The proxy writes request figures every second and samples come every few: a short refresh.
    const timer = setInterval(() => void load(), 10_000);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [client, generationId]);
  return metrics;
}

/**
 * The live stream into a bounded log buffer: lines arriving between two frames are added as one
 * batch and rendered once, so a fast app (a thousand lines a second) costs one render a frame.
 */
function useLiveStream(access: LiveAccess | undefined, filter: LogFilter, onStatus: () => void) {
  const buffer = useRef(new LogBuffer(logCapacity, filter));
  const [version, setVersion] = useState(0);
  const [streamState, setStreamState] = useState('not connected');
  const [ended, setEnded] = useState(false);
  const [samples, setSamples] = useState<readonly MetricMessage[]>([]);
  const onStatusRef = useRef(onStatus);
  onStatusRef.current = onStatus;

  useEffect(() => {
    buffer.current.setFilter(filter);
    setVersion((v) => v + 1);
  }, [filter]);

  useEffect(() => {
    if (!access) return undefined;
    buffer.current.clear();
    setSamples([]);
    setEnded(false);
    let pending: LogLine[] = [];
    let frame: number | undefined;
    const flush = () => {
      frame = undefined;
      buffer.current.append(pending);
      pending = [];
      setVersion((v) => v + 1);
    };
    const stream = new PreviewLogStream({
      url: access.wsUrl,
      previewToken: access.previewToken,
      buffer: 1000,
      heartbeatMs: 15_000,
    });
    stream.on('log', (line) => {
      pending.push(line);
      frame ??= requestAnimationFrame(flush);
    });
    stream.on('metric', (sample) => setSamples((s) => [...s.slice(1 - liveSampleCapacity), sample]));
    stream.on('status', () => onStatusRef.current());
    // A token that no longer works (a restart rotated it) ends the stream: the page may ask for a new one.
    stream.on('end', () => setEnded(true));
    stream.on('state', (state, detail) =>
      setStreamState(detail.reason ? `${state}: ${detail.reason}` : state),
    );
    return () => {
      if (frame !== undefined) cancelAnimationFrame(frame);
      stream.close();
    };
  }, [access]);

  return { buffer: buffer.current, version, streamState, ended, samples };
}

function Timeline({ status }: { status: PreviewStatus }) {
  return (
    <ol class="timeline" data-testid="timeline">
      {status.timeline.map((step) => (
        <li key={`${step.step}-${step.startedAt}`} class={step.endedAt ? 'done' : 'running'}>
          <span class="step">{step.step}</span>
          <span class="duration">
            {step.durationMs === undefined ? '…' : `${(step.durationMs / 1000).toFixed(1)} s`}
          </span>
        </li>
      ))}
      {status.failure && (
        <li class="failed">
          <span class="step">{status.failure.step}</span>
          <span>
            {status.failure.reason}: {status.failure.message}
          </span>
        </li>
      )}
    </ol>
  );
}

export function PreviewPanel({
  client,
  generationId,
  access,
  onConnect,
  onDelete,
  onStatusChange,
}: {
  client: PreviewClient;
  generationId: string;
  access: LiveAccess | undefined;
  onConnect: () => void;
  onDelete: () => void;
  /** The preview's status changed (the list shows it too). */
  onStatusChange: () => void;
}) {
  const [statusRefresh, setStatusRefresh] = useState(0);
  const { status, error } = useStatus(client, generationId, statusRefresh, onStatusChange);
  const stored = useStoredMetrics(client, generationId);
  const [level, setLevel] = useState<LogLevel>('DEBUG');
  const [search, setSearch] = useState('');
  const filter = useMemo(() => ({ level, search }), [level, search]);
  const live = useLiveStream(access, filter, () => setStatusRefresh((n) => n + 1));
  const charts = useMemo(() => previewCharts(stored, live.samples), [stored, live.samples]);
  const stopped = status !== undefined && stoppedStatuses.has(status.status);

  return (
    <section class="panel" data-testid="preview-panel">
      <header>
        <h2>{generationId}</h2>
        <span class={`badge status-${status?.status ?? 'unknown'}`} data-testid="preview-status">
          {status?.status ?? '…'}
        </span>
        {status?.statusReason && <span class="reason">{status.statusReason}</span>}
        <span class="spacer" />
        {(!access || live.ended) && !stopped && (
          <button type="button" onClick={onConnect} title="Issues a new preview token for this page">
            Connect live
          </button>
        )}
        <button type="button" class="danger" onClick={onDelete} disabled={stopped}>
          Delete
        </button>
      </header>
      {error && <p class="error">{error}</p>}
      {status && <Timeline status={status} />}
      <div class="charts">
        <Chart title="memory" unit="MB" series={minuteAndLive} data={charts.memory} />
        <Chart title="cpu" unit="cores" series={minuteAndLive} data={charts.cpu} />
        <Chart
          title="response time"
          unit="ms"
          series={[
            { label: 'p95', color: '#d97706' },
            { label: 'p99', color: '#dc2626' },
          ]}
          data={charts.responseTime}
        />
        <Chart
          title="errors"
          unit="per min"
          series={[
            { label: 'per minute', color: '#dc2626' },
            { label: 'live', color: '#9333ea' },
          ]}
          data={charts.errors}
        />
      </div>
      <div class="log-toolbar">
        <label>
          Level{' '}
          <select
            value={level}
            onChange={(e) => setLevel((e.currentTarget as HTMLSelectElement).value as LogLevel)}
            data-testid="log-level"
          >
            {logLevels.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <input
          type="search"
          placeholder="Search messages"
          value={search}
          onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
          data-testid="log-search"
        />
        <span class="log-count" data-testid="log-count">
          {live.buffer.visible.length} of {live.buffer.size} lines
          {live.buffer.dropped > 0 && ` (${live.buffer.dropped} older dropped)`}
        </span>
        <span class="stream-state">{access ? live.streamState : 'live stream not connected'}</span>
      </div>
      <LogView lines={live.buffer.visible} version={live.version} />
    </section>
  );
}
