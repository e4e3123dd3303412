// The part of fs-native-extensions eventfold uses (the package ships no types).
declare module 'fs-native-extensions' {
  /**
   * Takes an advisory lock on the whole file without waiting (Linux: an
   * open-file-description lock, F_OFD_SETLK; macOS and BSD: flock). Returns
   * false when a conflicting lock is held — also through another descriptor
   * of this same process.
   */
  export function tryLock(fd: number, options?: { shared?: boolean }): boolean;
}
