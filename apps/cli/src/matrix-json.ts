import { SelmixError } from "@selmix/core";

/** A row-major matrix read from JSON. */
export interface JsonMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/**
 * Reads a JSON array of equal-length numeric rows, naming the field in every error.
 *
 * @throws `SelmixError` `INVALID_SHAPE` for ragged or missing rows, or a row count other than `expectRows`;
 *   `INVALID_VALUE` for an entry that is not a finite number.
 */
export function parseMatrix(value: unknown, name: string, expectRows?: number, expectCols?: number): JsonMatrix {
  if (!Array.isArray(value) || value.length === 0) throw new SelmixError("INVALID_SHAPE", `${name} must be a non-empty array of rows`);
  const rows = value.length;
  if (expectRows !== undefined && rows !== expectRows) throw new SelmixError("INVALID_SHAPE", `${name} must have ${expectRows} rows, got ${rows}`);
  const first: unknown = value[0];
  if (!Array.isArray(first) || first.length === 0) throw new SelmixError("INVALID_SHAPE", `${name}[0] must be a non-empty array`);
  const cols = first.length;
  if (expectCols !== undefined && cols !== expectCols) throw new SelmixError("INVALID_SHAPE", `${name} must have ${expectCols} columns, got ${cols}`);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row: unknown = value[i];
    if (!Array.isArray(row) || row.length !== cols) {
      throw new SelmixError("INVALID_SHAPE", `${name}[${i}] must have ${cols} entries like row 0, got ${Array.isArray(row) ? row.length : typeof row}`);
    }
    for (let j = 0; j < cols; j++) {
      const v: unknown = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) throw new SelmixError("INVALID_VALUE", `${name}[${i}][${j}] must be a finite number, got ${JSON.stringify(v)}`);
      data[i * cols + j] = v;
    }
  }
  return { rows, cols, data };
}

/** Reads a JSON array of finite numbers of a given length. */
export function parseVector(value: unknown, name: string, length: number): Float64Array {
  if (!Array.isArray(value) || value.length !== length) {
    throw new SelmixError("INVALID_SHAPE", `${name} must be an array of ${length} numbers, got ${Array.isArray(value) ? value.length : typeof value}`);
  }
  return Float64Array.from(value, (v: unknown, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new SelmixError("INVALID_VALUE", `${name}[${i}] must be a finite number, got ${JSON.stringify(v)}`);
    return v;
  });
}

/** Row-major data back to an array of rows, for JSON output. */
export function toRowArrays(data: Float64Array, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length; i += cols) out.push(Array.from(data.subarray(i, i + cols)));
  return out;
}
