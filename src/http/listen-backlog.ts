/**
 * The backlog the node's port listens with (`server.backlog`), and whether the kernel
 * lowers it. Linux silently caps listen(2)'s backlog at net.core.somaxconn, so a
 * configured 4096 on a host still at 128 or 1024 would be a figure that holds only on
 * paper; the node says so at start instead.
 */
import { readFileSync } from 'node:fs';

const SOMAXCONN = '/proc/sys/net/core/somaxconn';

export interface Backlog {
  /** What the node asks listen(2) for. */
  configured: number;
  /** What the kernel grants: the configured value, or somaxconn when lower. */
  effective: number;
  /** The kernel's cap, when it could be read (Linux). */
  somaxconn?: number;
}

export function backlogOf(configured: number, somaxconn: number | undefined): Backlog {
  return { configured, effective: somaxconn === undefined ? configured : Math.min(configured, somaxconn), somaxconn };
}

/** net.core.somaxconn, or undefined off Linux (or when /proc is not readable). */
export function readSomaxconn(): number | undefined {
  try {
    const value = Number(readFileSync(SOMAXCONN, 'utf8').trim());
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
