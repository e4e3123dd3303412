/**
 * What `EventStore.open` does with a `postgres:`/`postgresql:` URL: the
 * options refused or checked as for a directory, the engine's share of
 * them, and the PostgreSQL log opened with the projections to restore.
 */
import type { EngineSettings } from '../engine/engine';
import type { EventLog } from '../engine/event-log';
import { ProjectionStates } from '../engine/projections';
import { readStoreOptions } from '../validate/options';
import { readPostgresOptions } from './options';
import { openPostgresLog } from './postgres-log';

export { isPostgresUrl } from './connection';

export async function openPostgres(url: string, options: unknown): Promise<{ log: EventLog; projections: ProjectionStates; settings: EngineSettings }> {
  // The file-only options are refused by name first; then the shared ones are checked as for a directory.
  const settings = readPostgresOptions(options as object | undefined);
  const checked = readStoreOptions(url, options);
  const projections = new ProjectionStates(checked.projections);
  const log = await openPostgresLog({ target: url, settings }, projections);
  return { log, projections, settings: checked.settings };
}
