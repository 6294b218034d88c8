/** The Spark job: the driver plan, the calibration and per-layer stages, Parquet schemas, the results directory and run.json. */
package io.layerscope.spark;
