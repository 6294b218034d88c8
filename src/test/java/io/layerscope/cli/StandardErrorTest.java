package io.layerscope.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.Test;

class StandardErrorTest {
    @Test
    void afterASuccessSparksTeardownWarningsGoAndItsErrorsStay() {
        Logger dispatcher = LogManager.getLogger("org.apache.spark.rpc.netty.Dispatcher");
        Level before = LogManager.getLogger("org.apache.spark").getLevel();
        try {
            Configurator.setLevel("org.apache.spark", Level.WARN);   // as the job's log configuration has it
            assertTrue(dispatcher.isWarnEnabled());
            StandardError.quietSparkWarnings();
            assertFalse(dispatcher.isWarnEnabled());
            assertTrue(dispatcher.isErrorEnabled());
        } finally {
            Configurator.setLevel("org.apache.spark", before);
        }
    }
}
