export { writeFileAtomic } from "./atomic-write.ts";
export { reportError, withOneLineErrors } from "./command-errors.ts";
export { endOnBrokenPipe, runCommandLine } from "./command-line.ts";
export type { CommandLine } from "./command-line.ts";
export { isLockOwner, LOCK_FOLDER_FS, lockHolderIsDead, readLockOwner, writeLockOwner } from "./lock-owner.ts";
export type { LockOwner } from "./lock-owner.ts";
