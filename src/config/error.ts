/**
 * The one error of configuration loading. Its message is written for the operator:
 * it names the key, the file / env variable / flag that set it, and what to do.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Dotted key at fault, when one is. */
  readonly key?: string;
  /** Where the bad value came from: a file path, `env WSMESH_X`, `flag --x`. */
  readonly source?: string;

  constructor(message: string, fields: { key?: string; source?: string } = {}) {
    super(message);
    if (fields.key !== undefined) this.key = fields.key;
    if (fields.source !== undefined) this.source = fields.source;
  }
}
