/** Jest global teardown: stops what global-setup.ts started. Prints nothing: the count reporter's line must stay last. */
export default async function globalTeardown(): Promise<void> {
  const stop = globalThis.__kalataStopTestServers;
  globalThis.__kalataStopTestServers = undefined;
  await stop?.();
}
