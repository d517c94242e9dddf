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
}

/**
 * The bridges previews run on, reused from one preview to the next: creating and removing a bridge
 * for each preview costs the engine more than anything else of a short-lived preview (its
 * firewall rules, under the kernel's network lock). A bridge serves one task at a time, and goes
 * back to the pool only once that task's containers are gone.
 */
export class BridgePool {
  private readonly keepFree: number;
  private readonly trimDelayMs: number;
  private readonly adopt: boolean;
  /** Free bridges, the most recently freed last. */
  private readonly free: string[] = [];
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
  }

  /** A bridge for a task being started: a free one, else a new one. */
  async claim(previewId: string, taskId: string): Promise<BridgeClaim> {
    await this.ready();
    const reused = this.free.pop();
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
    for (const claim of claims) {
      if (this.claims.get(claim.name) !== claim) continue;
      this.claims.delete(claim.name);
      if (this.closed) {
        this.engine.remove(claim.name).catch(() => undefined);
        continue;
      }
      this.free.push(claim.name);
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
    await Promise.all(this.free.splice(0).map((name) => this.engine.remove(name)));
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
      if (this.claims.has(name) || this.free.includes(name)) continue;
      const [user] = users;
      if (user) this.claims.set(name, { name, ...user, starting: false });
      else this.free.push(name);
    }
    this.scheduleTrim();
  }

  private scheduleTrim(): void {
    if (this.trimTimer !== undefined || this.closed || this.free.length <= this.keepFree) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      // The oldest first: the most recently freed are reused first.
      const surplus = this.free.splice(0, Math.max(0, this.free.length - this.keepFree));
      for (const name of surplus) this.engine.remove(name).catch(() => undefined);
    }, this.trimDelayMs);
    this.trimTimer.unref();
  }
}
