/** Learning-rate schedules: each maps (step, total) to a multiplier of the base rate. */
export type ScheduleName = "cosine" | "fixmatch-cosine" | "constant";

/**
 * Multiplier of the base learning rate at `step` of `total`:
 * `cosine` = ½(1 + cos(π·t/T)) (down to 0), `fixmatch-cosine` = cos(7π·t/(16T)) (FixMatch), `constant` = 1.
 *
 * @param name - Schedule.
 * @param step - Current step.
 * @param total - Steps of the run.
 *
 * @example
 * {@includeCode ./examples.test.ts#scheduleFactor}
 */
export function scheduleFactor(name: ScheduleName, step: number, total: number): number {
  const t = Math.min(Math.max(step / Math.max(total, 1), 0), 1);
  switch (name) {
    case "cosine":
      return 0.5 * (1 + Math.cos(Math.PI * t));
    case "fixmatch-cosine":
      return Math.cos((7 * Math.PI * t) / 16);
    case "constant":
      return 1;
  }
}
