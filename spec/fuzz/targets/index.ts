/** Every fuzz target, in the order `npm run fuzz` and the spec run them. */
import type { FuzzTarget } from '../support/engine.ts';
import { configFiles } from './config.ts';
import { engineIo } from './engine-io.ts';
import { http } from './http.ts';
import { mqttPayloads } from './mqtt.ts';
import { upgrade } from './upgrade.ts';
import { wsFrames } from './ws-frames.ts';

export const TARGETS: readonly FuzzTarget[] = [wsFrames, engineIo, upgrade, http, mqttPayloads, configFiles];
