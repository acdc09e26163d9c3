import { createHash } from "node:crypto";

/** Lower-case hex SHA-256 of `bytes`. @internal */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}
