import { daemonEndpoints } from '@codepiper/sdk';
import { TestDaemon } from '@codepiper/tests/harness';
import { chromium } from 'playwright-core';
import { distribution, round } from './stats.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const LOADS = 5;
/** A slow phone on a slow network, as Lighthouse's mobile profile: 4x slower CPU, 1.6 Mbps down, 750 kbps up, 150 ms round trips. */
const PHONE = { cpuSlowdown: 4, downBytesPerSecond: 1_600_000 / 8, upBytesPerSecond: 750_000 / 8, latencyMs: 150 };
/** What issue 19 asks: first content within this on such a phone. */
const TARGET_FIRST_CONTENT_MS = 1500;

/**
 * The dashboard's first load on a throttled phone, cold (no cache, no
 * service worker yet): when the first content is painted, when the sign-in
 * form can be used, and how many bytes crossed the network for it.
 */
export async function phoneLoad() {
  const daemon = new TestDaemon(undefined, {}, ['--web', '--port', '0']);
  await daemon.start();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  try {
    const { web } = await daemon.client.call(daemonEndpoints.status);
    if (!web) throw new Error('the daemon reports no web listener');
    const firstContent: number[] = [];
    const signInReady: number[] = [];
    const transferred: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, serviceWorkers: 'block' });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: PHONE.latencyMs,
        downloadThroughput: PHONE.downBytesPerSecond,
        uploadThroughput: PHONE.upBytesPerSecond,
      });
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: PHONE.cpuSlowdown });
      await page.goto(web, { waitUntil: 'commit' });
      await page.getByLabel('Password', { exact: true }).waitFor({ timeout: 60_000 });
      // Strings: the benchmarks compile without the DOM's types.
      signInReady.push((await page.evaluate('performance.now()')) as number);
      await page.waitForLoadState('load');
      firstContent.push((await page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN")) as number);
      transferred.push(
        (await page.evaluate(
          "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).reduce((sum, entry) => sum + entry.transferSize, 0)",
        )) as number,
      );
      await context.close();
    }
    const firstContentMs = round(distribution(firstContent).p50, 0);
    return {
      profile: `${PHONE.cpuSlowdown}x CPU, ${PHONE.downBytesPerSecond * 8 / 1e6} Mbps, ${PHONE.latencyMs} ms RTT`,
      loads: LOADS,
      firstContentMs,
      signInUsableMs: round(distribution(signInReady).p50, 0),
      transferredKB: round(distribution(transferred).p50 / 1024, 1),
      targetFirstContentMs: TARGET_FIRST_CONTENT_MS,
      ratioToTarget: round(firstContentMs / TARGET_FIRST_CONTENT_MS),
    };
  } finally {
    await browser.close();
    await daemon.dispose();
  }
}
