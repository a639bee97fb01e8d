/** Reads all of stdin as UTF-8 text, for input too long or too free-form for an argument. */
import type { CliInput } from './io.ts';

/** The text, or undefined when there is more than `limitBytes` of it (reading stops there). */
export async function readAll(stdin: CliInput, limitBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > limitBytes) return undefined;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}
