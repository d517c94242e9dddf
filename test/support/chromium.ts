import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, installed by scripts/test-prerequisites.sh. */
const chromiumPath = '/usr/bin/chromium';

/** A headless Chromium; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath });
}
