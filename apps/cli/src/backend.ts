import { type BackendChoice, type BackendName, initBackend } from "@selmix/models";

/**
 * Starts the tfjs backend for one command: `--backend` when given, else `SELMIX_BACKEND`, else `auto`
 * (`initBackend` reads the environment itself). Returns the backend now running, for summaries and metrics.json.
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` for an unknown name; `BACKEND_UNAVAILABLE` if it cannot start.
 */
export async function startBackend(choice: string | undefined): Promise<BackendName> {
  const info = await initBackend(choice === undefined ? {} : { name: choice as BackendChoice });
  return info.name;
}
