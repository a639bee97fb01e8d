/**
 * `websockets.enabled` for a user the application vouched for (pure). The user scope
 * is the application's `config` over the directory's user entry, when the directory
 * lists the user at all; context, context sets and server scopes come from the
 * directory and the config as for anyone. A context the directory does not list has
 * no context-scope values. Fails closed: only a real `true` enables.
 */
import { resolveSetting } from '../directory/cascade.ts';
import type { Directory } from '../directory/directory.ts';
import { ENABLED_KEY, SETTINGS } from '../directory/settings.ts';

export function appUserEnabled(directory: Directory, contextId: number, userId: number, appConfig: Record<string, unknown> | undefined, serverValue: boolean | undefined): boolean {
  const context = directory.context(contextId);
  const user = directory.user(contextId, userId);
  const { value } = resolveSetting(
    ENABLED_KEY,
    {
      user: { ...user?.config, ...appConfig },
      context: context?.config,
      contextSets: context ? directory.contextSetsOf(context).map((set) => set.config) : [],
      server: serverValue === undefined ? {} : { [ENABLED_KEY]: serverValue },
    },
    SETTINGS[ENABLED_KEY].default,
  );
  return value === true;
}
