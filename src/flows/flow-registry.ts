/**
 * The live flows, plus the versions that calls in progress were pinned to.
 * A call keeps the version it started on until it ends.
 */
import type { CompiledFlows } from '../engine/types.js';

export interface FlowRegistry {
  live(): CompiledFlows;
  /** the version a session is pinned to, while it is still kept */
  get(hash: string): CompiledFlows | undefined;
  /** makes `flows` live; earlier versions stay reachable for calls in progress */
  publish(flows: CompiledFlows): void;
}

/** Keeps the live version and the last `keep` ones. */
export function createFlowRegistry(initial: CompiledFlows, keep = 8): FlowRegistry {
  const versions = new Map<string, CompiledFlows>([[initial.hash, initial]]);
  let current = initial;
  return {
    live: () => current,
    get: (hash) => versions.get(hash),
    publish(flows) {
      versions.delete(flows.hash);
      versions.set(flows.hash, flows);
      current = flows;
      while (versions.size > keep) versions.delete(versions.keys().next().value!);
    },
  };
}
