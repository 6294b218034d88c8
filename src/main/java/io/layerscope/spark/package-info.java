/** The Spark job: the driver plan, the calibration, per-layer, Gram and sequential stages, writing the tables (whose schemas are in {@code results}), the results directory and run.json. */
package io.layerscope.spark;
