/**
 * Comparing the float fields of a sent sample with what the store holds.
 * Only the contract's four fields count; a store may add others.
 */
import { FIELD_NAMES, type FieldName, type PointFields } from './payload';

export type FieldMismatch = { field: FieldName; sent: unknown; stored: unknown };

/**
 * Field-by-field differences. -0 equals 0: JSON and line protocol both write
 * -0 as 0, so the sign of zero never survives the trip.
 */
export function fieldMismatches(sent: PointFields, stored: Readonly<Record<string, unknown>>): FieldMismatch[] {
  const out: FieldMismatch[] = [];
  for (const field of FIELD_NAMES) {
    const a = sent[field];
    const b = stored[field];
    if (a === undefined && b === undefined) continue;
    if (typeof a === 'number' && typeof b === 'number' && (a === b || (Number.isNaN(a) && Number.isNaN(b)))) continue;
    out.push({ field, sent: a, stored: b });
  }
  return out;
}

export function fieldsEqual(a: PointFields, b: Readonly<Record<string, unknown>>): boolean {
  return fieldMismatches(a, b).length === 0;
}
