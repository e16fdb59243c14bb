/**
 * The headless Chromium the console's browser tests drive: the Debian
 * package's binary (never a downloaded browser), without a sandbox, a GPU or
 * any of the background traffic a fresh profile starts.
 */
import { chromium, type Browser } from 'playwright-core';

/** `args`: more flags (a test of the microphone adds Chromium's fake audio device). */
export function launchChromium(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...args],
  });
}
