import { LegacyStreamNamesError } from '../errors';
import type { FileSystem } from '../fs/file-system';
import { writeFileDurably } from '../fs/write-file-durably';
import { isSystemStream } from '../lifecycle/stream-metadata';
import type { StreamIndex } from '../log/stream-index';
import { SYSTEM_STREAMS_MARKER } from '../store-layout';

/** The marker's text (only its presence is read; see src/log/FORMAT.md, *System streams*). */
const MARKER_TEXT = 'eventfold: stream names starting with "$" belong to this store (its "$lifecycle" stream holds stream metadata and deletions)\n';

/**
 * Stores written before stream lifecycle existed could hold streams named
 * "$…" — even "$lifecycle" — written by the application. The marker file
 * says a store's "$" streams are the store's own: every open of a store
 * without it checks that no "$" stream exists (else LegacyStreamNamesError,
 * nothing changed), and a writable open then writes the marker durably
 * before it accepts any append. So the engine never reads an application's
 * event as a lifecycle record. A read-only open of an unmarked store
 * without "$" streams proceeds (nothing it could misread).
 */
export async function checkSystemStreams(fs: FileSystem, directory: string, index: StreamIndex, readOnly: boolean): Promise<void> {
  const path = `${directory}/${SYSTEM_STREAMS_MARKER}`;
  if (await fs.exists(path)) return;
  const legacy: string[] = [];
  for (const [name, head] of index.streams) {
    if (head.version >= 0 && isSystemStream(name)) legacy.push(name);
  }
  if (legacy.length > 0) throw new LegacyStreamNamesError(directory, legacy.sort().slice(0, 20));
  if (readOnly) return;
  await writeFileDurably(fs, path, Buffer.from(MARKER_TEXT));
  await fs.syncDir(directory);
}
