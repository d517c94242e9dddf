import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

/** The container engine's own processes. */
const engineCommands = /^(dockerd|containerd|containerd-shim.*|docker-proxy)$/;

interface Reading {
  /** CPU time of the whole machine, busy and all, in clock ticks. */
  readonly busy: number;
  readonly total: number;
  readonly service: number;
  readonly clients: number;
  readonly engine: number;
}

function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  // Busy is everything but idle (the 4th field) and waiting for I/O (the 5th).
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** utime + stime of a process (all its threads), and its command name. */
function processTicks(pid: string): { command: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return {
      command: stat.slice(stat.indexOf('(') + 1, close),
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined;
  }
}

function read(clientsPid: number | undefined): Reading {
  let service = 0;
  let clients = 0;
  let engine = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const found = processTicks(pid);
    if (!found) continue;
    if (pid === String(process.pid)) service += found.ticks;
    else if (pid === String(clientsPid)) clients += found.ticks;
    else if (engineCommands.test(found.command)) engine += found.ticks;
  }
  return { ...machineTicks(), service, clients, engine };
}

/**
 * Where the machine's CPU went between `start` and `stop`, in cores: the service (this process),
 * the bench's clients (their process), the container engine, and everything else (the apps, the
 * kernel). Linux only (read from /proc); elsewhere there is nothing to say.
 */
export class CpuUse {
  private constructor(
    private readonly clientsPid: number | undefined,
    private readonly first: Reading,
  ) {}

  static start(clientsPid: number | undefined): CpuUse | undefined {
    try {
      return new CpuUse(clientsPid, read(clientsPid));
    } catch {
      return undefined;
    }
  }

  stop(): string {
    const last = read(this.clientsPid);
    const cores = cpus().length;
    // The machine's ticks count every core: one core's worth is the time that passed.
    const elapsed = (last.total - this.first.total) / cores;
    const share = (ticks: number) => (elapsed > 0 ? ticks / elapsed : 0).toFixed(2);
    const service = last.service - this.first.service;
    const clients = last.clients - this.first.clients;
    const engine = last.engine - this.first.engine;
    // Processes are read one after the other, the machine once: a few ticks may not add up.
    const rest = Math.max(0, last.busy - this.first.busy - service - clients - engine);
    return (
      `service ${share(service)}, engine ${share(engine)}, apps and kernel ${share(rest)}, ` +
      `bench clients ${share(clients)} (cores of ${cores})`
    );
  }
}
