// Part of `npm run build`: tsc compiles src/ to dist/; the files the node serves
// as they are (the web pages under src/http/public) are copied next to the code
// that reads them through import.meta.url, subdirectories included (the inspector
// page's modules are in src/http/public/inspector/).
import { cpSync } from 'node:fs';

cpSync(new URL('../src/http/public/', import.meta.url), new URL('../dist/http/public/', import.meta.url), { recursive: true });
