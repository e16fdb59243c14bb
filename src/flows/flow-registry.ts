/**
 * The live flows, plus the versions that calls in progress were pinned to.
 * A call keeps the version it started on until it ends; a process that never
 * ran that version (started after a publish, or the call moved to it from
 * another process) loads it with `resolve`, from the content versions.
 */
import type { CompiledFlows } from '../engine/types.js';

export interface FlowRegistry {
  live(): CompiledFlows;
  /** the version a session is pinned to, while it is still kept */
  get(hash: string): CompiledFlows | undefined;
  /** `get`, or else the version loaded from where versions are stored (then kept) */
  resolve(hash: string): Promise<CompiledFlows | undefined>;
  /** makes `flows` live; earlier versions stay reachable for calls in progress */
  publish(flows: CompiledFlows): void;
  /** where `resolve` finds a version this process does not hold */
  setLoader(load: (hash: string) => Promise<CompiledFlows | undefined>): void;
}

/** Keeps the live version and the last `keep` ones. */
export function createFlowRegistry(initial: CompiledFlows, keep = 8): FlowRegistry {
  const versions = new Map<string, CompiledFlows>([[initial.hash, initial]]);
  let current = initial;
  let loader: ((hash: string) => Promise<CompiledFlows | undefined>) | undefined;
  const remember = (flows: CompiledFlows) => {
    versions.delete(flows.hash);
    versions.set(flows.hash, flows);
    // The live version is never the one dropped: it was just set, or is set again below.
    while (versions.size > keep) {
      const oldest = versions.keys().next().value!;
      versions.delete(oldest);
      if (oldest === current.hash) versions.set(oldest, current);
    }
  };
  return {
    live: () => current,
    get: (hash) => versions.get(hash),
    async resolve(hash) {
      const known = versions.get(hash);
      if (known || !loader) return known;
      const loaded = await loader(hash);
      if (loaded && loaded.hash === hash && !versions.has(hash)) {
        // Kept as an old version: the live one stays live.
        remember(loaded);
      }
      return loaded;
    },
    publish(flows) {
      current = flows;
      remember(flows);
    },
    setLoader(load) {
      loader = load;
    },
  };
}
