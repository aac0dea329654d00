/** Helpers for forms generated from JSON Schema. */

interface ObjectSchema {
  properties?: Record<string, ObjectSchema>;
}

/**
 * A copy of `value` where every object the schema declares exists, so the
 * form can bind nested fields without creating state while it renders.
 */
export function withNestedObjects(schema: ObjectSchema, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    if (!field.properties) continue;
    const current = out[key];
    out[key] = withNestedObjects(field, current && typeof current === 'object' ? (current as Record<string, unknown>) : {});
  }
  return out;
}
