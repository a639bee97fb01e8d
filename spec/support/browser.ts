/**
 * Headless Chromium (Debian's package) driven by playwright-core. The flags keep
 * Chromium off the network (this machine has none beyond loopback).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { findBinary } from './binaries.ts';

export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath(): string | undefined {
  return findBinary('chromium');
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('chromium is not installed: apt-get install chromium');
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
}

/** A folder for screenshots, kept after the run so a person can look at them. */
export function screenshotDir(): string {
  return mkdtempSync(join(tmpdir(), 'wsmesh-screens-'));
}
