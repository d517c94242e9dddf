import { systemClock, type Clock } from '#core/clock.js';
import { newBridgeName } from '#core/ids.js';

/** What the pool asks of the engine about its bridges. */
export interface BridgeEngine {
  create(name: string): Promise<void>;
  /** Removes the bridge; one already gone is no error. */
  remove(name: string): Promise<void>;
  /** The pool's bridges the engine holds, each with the preview and task of the containers on it. */
  list(): Promise<{ name: string; users: { previewId: string; taskId: string }[] }[]>;
}

/** A bridge given to one task of one preview. */
export interface BridgeClaim {
  readonly name: string;
  readonly previewId: string;
  readonly taskId: string;
  /** True while the task is being started: a stop meanwhile does not hand the bridge back. */
  starting: boolean;
}

export interface BridgePoolOptions {
  /** Bridges kept for the next previews once theirs are gone; the surplus is removed. */
  readonly keepFree?: number;
  /** How long after a release the surplus is removed: not on a stop's way, nor in a burst of them. */
  readonly trimDelayMs?: number;
  /**
   * Whether the engine's bridges of the pool are taken over at first use (a restarted service's):
   * only for a pool whose bridges no other live pool can hold, i.e. one with an owner of its own.
   */
  readonly adopt?: boolean;
  readonly clock?: Clock;
}

/** A bridge no task is on, with the preview that was on it last (unknown for one taken over). */
interface FreeBridge {
  readonly name: string;
  readonly lastPreviewId: string | undefined;
  readonly freedAt: number;
}

/**
 * How long a freed bridge waits before another preview gets it. A request sent to the address of a
 * container just gone waits for the address to be found on the bridge (about 3 s on Linux) and is
 * delivered to whoever has it by then: on a bridge reused at once, another preview's new container.
 */
const quietMs = 10_000;

/**
 * The bridges previews run on, reused from one preview to the next: creating and removing a bridge
 * for each preview costs the engine more than anything else of a short-lived preview (its
 * firewall rules, under the kernel's network lock). A bridge serves one task at a time, goes back
 * to the pool only once that task's containers are gone, and serves another preview only after
 * `quietMs` (the same preview, a restart or a recovery, gets it back at once).
 */
export class BridgePool {
  private readonly keepFree: number;
  private readonly trimDelayMs: number;
  private readonly adopt: boolean;
  private readonly clock: Clock;
  /** Free bridges, the longest free first. */
  private readonly free: FreeBridge[] = [];
  private readonly claims = new Map<string, BridgeClaim>();
  private adopted: Promise<void> | undefined;
  private trimTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly engine: BridgeEngine,
    options: BridgePoolOptions = {},
  ) {
    this.keepFree = options.keepFree ?? 32;
    this.trimDelayMs = options.trimDelayMs ?? 30_000;
    this.adopt = options.adopt ?? false;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * A bridge for a task being started: the preview's own last one if free, else the longest free
   * that has been quiet long enough, else a new one.
   */
  async claim(previewId: string, taskId: string): Promise<BridgeClaim> {
    await this.ready();
    const now = this.clock.now().getTime();
    let index = this.free.findIndex((f) => f.lastPreviewId === previewId);
    if (index < 0) index = this.free.findIndex((f) => now - f.freedAt >= quietMs);
    const reused = index < 0 ? undefined : this.free.splice(index, 1)[0]!.name;
    const claim: BridgeClaim = { name: reused ?? newBridgeName(), previewId, taskId, starting: true };
    this.claims.set(claim.name, claim);
    if (reused === undefined) {
      try {
        await this.engine.create(claim.name);
      } catch (error) {
        this.claims.delete(claim.name);
        throw error;
      }
    }
    return claim;
  }

  /**
   * The claims of a preview's started tasks, taken before its containers are removed: a task
   * started after that keeps its bridge, whatever the stop does next.
   */
  async claimsOf(previewId: string): Promise<BridgeClaim[]> {
    await this.ready();
    return [...this.claims.values()].filter((c) => c.previewId === previewId && !c.starting);
  }

  /** Frees claimed bridges, once nothing of their tasks is on them. A claim released already is skipped. */
  release(claims: readonly BridgeClaim[]): void {
    const freedAt = this.clock.now().getTime();
    for (const claim of claims) {
      if (this.claims.get(claim.name) !== claim) continue;
      this.claims.delete(claim.name);
      if (this.closed) {
        this.engine.remove(claim.name).catch(() => undefined);
        continue;
      }
      this.free.push({ name: claim.name, lastPreviewId: claim.previewId, freedAt });
    }
    this.scheduleTrim();
  }

  /** The free bridges kept for the next previews. */
  freeCount(): number {
    return this.free.length;
  }

  /** Removes the free bridges; those still claimed stay for the next service to take over. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.trimTimer);
    await Promise.all(this.free.splice(0).map(({ name }) => this.engine.remove(name)));
  }

  private ready(): Promise<void> {
    this.adopted ??= this.takeOver().catch((error: unknown) => {
      // Asked again next time: the engine may answer then.
      this.adopted = undefined;
      throw error;
    });
    return this.adopted;
  }

  private async takeOver(): Promise<void> {
    if (!this.adopt) return;
    for (const { name, users } of await this.engine.list()) {
      const [user] = users;
      if (user) this.claims.set(name, { name, ...user, starting: false });
      // Quiet already: what the last service sent to it ended with that service.
      else this.free.push({ name, lastPreviewId: undefined, freedAt: 0 });
    }
    this.scheduleTrim();
  }

  private scheduleTrim(): void {
    if (this.trimTimer !== undefined || this.closed || this.free.length <= this.keepFree) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      // The longest free first: the pool keeps those freed last, which their previews may want back.
      const surplus = this.free.splice(0, Math.max(0, this.free.length - this.keepFree));
      for (const { name } of surplus) this.engine.remove(name).catch(() => undefined);
    }, this.trimDelayMs);
    this.trimTimer.unref();
  }
}
