import { SelmixError } from "@selmix/core";
import type { ModelArch } from "@selmix/models";

/** The sources whose samples are texts (hashed n-grams), not images. */
const TEXT_SOURCES: readonly string[] = ["wordnet-nouns", "wordnet-nouns-lemmas"];

/** Whether `source` is a text source: its default model is `text-bag` and its default profile `natural`. */
export function isTextSource(source: string): boolean {
  return TEXT_SOURCES.includes(source);
}

/**
 * Text sources train `text-bag` only, and `text-bag` trains on text only; image augmentations do not apply to text.
 *
 * @throws `SelmixError` `INVALID_ARGUMENT` naming the flag.
 */
export function assertModelFitsSource(source: string, model: ModelArch, augment: "none" | "weak"): void {
  const text = isTextSource(source);
  if (text && model !== "text-bag") throw new SelmixError("INVALID_ARGUMENT", `--model ${model} is for images; source ${source} is text: use --model text-bag`);
  if (!text && model === "text-bag") throw new SelmixError("INVALID_ARGUMENT", `--model text-bag is for text sources (${TEXT_SOURCES.join(", ")}); ${source} is images`);
  if (text && augment !== "none") throw new SelmixError("INVALID_ARGUMENT", `--augment ${augment} is for images; source ${source} is text: use --augment none`);
}
