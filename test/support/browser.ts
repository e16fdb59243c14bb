/**
 * The headless Chromium the console's browser tests drive: the Debian
 * package's binary (never a downloaded browser), without a sandbox, a GPU or
 * any of the background traffic a fresh profile starts.
 */
import { chromium, type Browser } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
