/** Documented limits of what one append may contain. */
export const LIMITS = {
  /** Stream names and event types: 1 to this many UTF-8 bytes. */
  maxNameBytes: 256,
  /** Default cap on one encoded event (record body); configurable per store up to 16 MiB. */
  defaultMaxEventBytes: 1024 * 1024,
  /** Event data and metadata may nest at most this deep (also catches cycles). */
  maxDataDepth: 64,
};
