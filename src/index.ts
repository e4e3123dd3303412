export { EventStore } from './store';
export type { StoreOptions, FollowOptions, BackupResult } from './store';
export type {
  AnyEvent,
  EventInput,
  RecordedEvent,
  EventDataOf,
  EventMetadataOf,
  EventHandler,
  Projection,
  ProjectionStates,
  ProjectionsFor,
  ProjectionState,
  AggregateStreamOptions,
  AppendOptions,
  CheckedAppendOptions,
  ProjectionsNeedTheirStates,
  NotInferredFrom,
  AppendResult,
  ReadStreamOptions,
  ReadAllOptions,
  CheckpointResult,
} from './api';
export { ANY, NO_STREAM, STREAM_EXISTS, matchesExpectedVersion, isExpectedVersion } from './expected-version';
export type { ExpectedVersion, ValidExpectedVersion } from './expected-version';
export type { RecoveryReport } from './log-reports';
export type { StreamMetadata, RetentionReport } from './lifecycle/stream-metadata';
export type { ScavengeProgress, ScavengeResult } from './log-reports';
export type { ScavengeOptions } from './lifecycle/scavenge';
export { LIMITS } from './validate/limits';
export { Subscription } from './engine/subscriptions';
export type { SubscribeOptions } from './engine/subscriptions';
export {
  UnsupportedFormatError,
  EventfoldError,
  InvalidInputError,
  ExpectedVersionConflictError,
  StoreLockedError,
  CorruptionError,
  StoreFailedError,
  StoreClosedError,
  ReadOnlyStoreError,
  StoreNotFoundError,
  ProjectionError,
  ReentrantCallError,
  UnknownProjectionError,
  StorageError,
  AggregateStreamError,
  SubscriptionCheckpointError,
  SubscriptionActiveError,
  DuplicateEventIdError,
  LegacyStreamNamesError,
  ReservedStreamNameError,
  StreamDeletedError,
  ErasureIncompleteError,
} from './errors';
export type { CorruptionDetails } from './errors';
export type { FileSystem, FileHandle } from './fs/file-system';
export { NodeFileSystem } from './fs/node-file-system';
export { SimulatedDisk } from './fs/simulated-disk';
export type { Fault, PowerLossPolicy, DiskOperation } from './fs/simulated-disk';
export { inspectStore } from './recovery/inspect';
export type { StoreInspection } from './recovery/inspect';
