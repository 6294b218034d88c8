/**
 * The results a job writes, defined once: every table and column (name, type, nullability,
 * description, and how its value is taken from the computed statistics), from which the Parquet
 * schemas and rows, the report's table, the {@code layer} command's printout and the column
 * reference in docs/METRICS.md are all derived; and the Parquet writing, and reading back the schema
 * a table's footer records.
 */
package io.layerscope.results;
