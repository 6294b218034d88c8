/**
 * The performance benchmark behind {@code jobs/bench}: the mid-size synthetic workload, the in-JVM
 * forward measurement, stage-one scaling over Spark local masters, and the report that sets the
 * figures beside the PyTorch eager peer's ({@code jobs/bench_peer.py}).
 */
package io.layerscope.bench;
