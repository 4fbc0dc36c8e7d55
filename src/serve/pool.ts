/**
 * Warm engines. An engine instance reads one page at a time, so a server that runs N jobs at once
 * keeps up to N instances of an engine. The server's own engine is loaded at start; another one a
 * request names is loaded on first use and then kept too.
 */
import { getEngineFactory, resolveEngine } from "../engines/registry.js";
import type { Engine, EngineFactory, EngineOptions } from "../types.js";

interface Kind {
  factory?: EngineFactory;
  /** Most instances of this engine (1 for an engine handed in already loaded). */
  max: number;
  idle: Engine[];
  all: Engine[];
  loading: number;
  /** Leases all instances can take at once (an instance may take several: `maxConcurrency`). */
  slots: number;
  waiters: Array<(engine: Engine) => void>;
  /** The caller owns these: never closed here. */
  owned: boolean;
}

export interface Lease {
  engine: Engine;
  factory?: EngineFactory;
  release(): void;
}

export class EnginePool {
  private readonly kinds = new Map<string, Kind>();
  private readonly loadingKinds = new Map<string, Promise<Kind>>();
  /** The name requests without an engine (or with `auto`) get. */
  defaultName = "";

  constructor(
    private readonly engineOptions: EngineOptions,
    private readonly maxInstances: number,
  ) {}

  /** Resolves and loads the server's engine (`auto`, a name, or one already loaded); `count` instances are loaded now. */
  async start(engine: string | Engine, count: number, onNote?: (message: string) => void): Promise<Engine> {
    if (typeof engine === "object") {
      const name = engine.info.engine;
      const factory = await getEngineFactory(name).catch(() => undefined);
      const kind: Kind = { factory, max: 1, idle: [], all: [], loading: 0, slots: 0, waiters: [], owned: true };
      addInstance(kind, engine);
      this.kinds.set(name, kind);
      this.defaultName = name;
      return engine;
    }
    const resolved = await resolveEngine(engine, this.engineOptions);
    if (resolved.note) onNote?.(resolved.note);
    this.defaultName = resolved.factory.name;
    const kind = this.newKind(resolved.factory);
    this.kinds.set(resolved.factory.name, kind);
    const loaded = await Promise.all(Array.from({ length: Math.max(1, Math.min(count, kind.max)) }, () => resolved.factory.load(this.engineOptions)));
    for (const e of loaded) addInstance(kind, e);
    return loaded[0];
  }

  /** The name a request's engine field stands for: the server's engine for none or `auto`. */
  resolveName(name: string | undefined): string {
    return !name || name === "auto" ? this.defaultName : name;
  }

  /** The factory of an engine, checking it can run here (UsageError otherwise, exit code 3 for a missing model). */
  async factory(name: string): Promise<EngineFactory | undefined> {
    return (await this.kind(name)).factory;
  }

  /** An idle instance of the engine, loading one when all are busy and fewer than the limit exist. */
  async acquire(name: string, signal?: AbortSignal): Promise<Lease> {
    const kind = await this.kind(name);
    signal?.throwIfAborted();
    let engine = kind.idle.pop();
    if (!engine && kind.all.length + kind.loading < kind.max && kind.factory) {
      kind.loading++;
      try {
        engine = await kind.factory.load(this.engineOptions);
      } finally {
        kind.loading--;
      }
      addInstance(kind, engine);
      engine = kind.idle.pop()!;
      while (kind.waiters.length && kind.idle.length) kind.waiters.shift()!(kind.idle.pop()!);
    }
    if (!engine) {
      engine = await new Promise<Engine>((resolve, reject) => {
        const waiter = (e: Engine) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(e);
        };
        const onAbort = () => {
          const i = kind.waiters.indexOf(waiter);
          if (i >= 0) kind.waiters.splice(i, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        kind.waiters.push(waiter);
      });
    }
    const leased = engine;
    let released = false;
    return {
      engine: leased,
      factory: kind.factory,
      release: () => {
        if (released) return;
        released = true;
        const waiter = kind.waiters.shift();
        if (waiter) waiter(leased);
        else kind.idle.push(leased);
      },
    };
  }

  /** Engines loaded, by name, with how many instances. */
  loaded(): Array<{ name: string; instances: number; busy: number }> {
    return [...this.kinds.entries()].map(([name, k]) => ({ name, instances: k.all.length, busy: k.slots - k.idle.length }));
  }

  /** Closes every engine this pool loaded (not one handed in). */
  async close(): Promise<void> {
    const all = [...this.kinds.values()].filter((k) => !k.owned).flatMap((k) => k.all);
    this.kinds.clear();
    await Promise.allSettled(all.map((e) => e.close()));
  }

  private newKind(factory: EngineFactory): Kind {
    return { factory, max: this.maxInstances, idle: [], all: [], loading: 0, slots: 0, waiters: [], owned: false };
  }

  private async kind(name: string): Promise<Kind> {
    const known = this.kinds.get(name);
    if (known) return known;
    let pending = this.loadingKinds.get(name);
    if (!pending) {
      pending = (async () => {
        const { factory } = await resolveEngine(name, this.engineOptions);
        const kind = this.kinds.get(name) ?? this.newKind(factory);
        this.kinds.set(name, kind);
        return kind;
      })();
      this.loadingKinds.set(name, pending);
      pending.finally(() => this.loadingKinds.delete(name)).catch(() => {});
    }
    return pending;
  }
}

/** An engine that declares `maxConcurrency` (one that sends pages to a server) takes that many leases at once. */
function addInstance(kind: Kind, engine: Engine): void {
  const declared = (engine as { maxConcurrency?: unknown }).maxConcurrency;
  const slots = typeof declared === "number" && Number.isInteger(declared) && declared > 1 ? declared : 1;
  kind.all.push(engine);
  kind.slots += slots;
  for (let i = 0; i < slots; i++) kind.idle.push(engine);
}
