/**
 * Reliability tests across the packages: the sweep on a Spark standalone cluster of separate
 * processes ({@link io.layerscope.reliability.StandaloneCluster}: a Master and two Workers started
 * from the test classpath on 127.0.0.1, no Spark distribution needed), executor loss and task
 * retries, SIGINT, concurrent sweeps, memory over a long run, and the catalogue of bad input.
 * They are integration tests ({@code *IT}, Failsafe); run them alone with
 * {@code mvn -o -B verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test='io.layerscope.reliability.**'}.
 */
package io.layerscope.reliability;
